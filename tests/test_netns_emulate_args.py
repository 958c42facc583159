"""`meshnet emulate` rejects bad numbers as input errors (one line, exit 2) before anything
starts; these tests never start an emulation."""

from __future__ import annotations

import argparse

import pytest

import meshnet.netns.api as api
import meshnet.netns.commands as commands


def _parse(argv):
    parser = argparse.ArgumentParser(prog="meshnet")
    commands.register_cli(parser.add_subparsers(dest="cmd", required=True))
    return parser.parse_args(argv)


@pytest.mark.parametrize("flag,value", [("--duration", "nan"), ("--duration", "inf"),
                                        ("--duration", "-1"), ("--interval", "nan"),
                                        ("--interval", "0")])
def test_bad_numbers_are_one_line_and_exit_2_before_anything_starts(flag, value, capsys,
                                                                    monkeypatch):
    def must_not_run(*a, **kw):
        raise AssertionError("the emulation started")

    monkeypatch.setattr(api, "emulate", must_not_run)
    monkeypatch.setattr(commands, "_preflight", must_not_run)
    args = _parse(["emulate", "line", flag, value, "--name", "x"])
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"meshnet: error: {flag} ") and err.count("\n") == 1, err


def test_duration_zero_still_means_until_ctrl_c():
    assert commands._bad_emulate_args(_parse(["emulate", "line", "--duration", "0"])) is None
    assert commands._bad_emulate_args(_parse(["emulate", "line"])) is None
