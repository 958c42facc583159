"""The netns CLI commands: registration, one-line errors with exit status 2, a short run."""

from __future__ import annotations

import argparse
import json
import os

import pytest

from meshnet.netns.commands import register_cli
from meshnet.netns.registry import validate_run_name
from tests.netns_support import mn_namespaces, netns_skip_reason


def _parse(argv):
    parser = argparse.ArgumentParser(prog="meshnet")
    register_cli(parser.add_subparsers(dest="cmd", required=True))
    return parser.parse_args(argv)


def test_subcommands_are_registered():
    assert _parse(["exec", "n1", "--", "ping", "-c", "1"]).command[-3:] == ["ping", "-c", "1"]
    assert _parse(["emulate", "line", "--set", "nodes.count=3", "--name", "x"]).set == [
        "nodes.count=3"]
    assert _parse(["clean"]).func.__name__ == "cmd_clean"


@pytest.mark.parametrize("name", ["mn\n", "abc\n\n", "\nabc", "ab c", "Abc", "_abc", "",
                                  "abcdefghijklm", "abc\r"])
def test_bad_run_names_are_rejected(name):
    with pytest.raises(ValueError, match="run name"):
        validate_run_name(name)


@pytest.mark.parametrize("name", ["mn", "a", "run_2", "0abc", "abcdefghijkl"])
def test_good_run_names_are_accepted(name):
    assert validate_run_name(name) == name


def test_not_root_is_one_line_and_exit_2(capsys, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)  # the same check, whoever runs the tests
    for argv in (["emulate", "line"], ["clean"]):
        args = _parse(argv)
        assert args.func(args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "root" in err[0] and "sudo" in err[0]


@pytest.mark.netns
@pytest.mark.skipif(netns_skip_reason() is not None, reason=str(netns_skip_reason()))
class TestAsRoot:
    def test_bad_scenario_and_bad_name_exit_2(self, capsys):
        args = _parse(["emulate", "no-such-scenario", "--duration", "1"])
        assert args.func(args) == 2
        args = _parse(["emulate", "line", "--name", "Bad Name!"])
        assert args.func(args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 2 and all(line.startswith("meshnet: ") for line in err)

    def test_short_emulation_then_nothing_to_clean(self, capsys):
        args = _parse(["emulate", "line", "--set", "nodes.count=3", "--set",
                       "traffic.0.pairs=[[1,3]]", "--duration", "1", "--name", "tcli",
                       "--quiet", "--json"])
        assert args.func(args) == 0
        summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert summary["nodes"] == 3 and summary["down_s"] >= 0
        assert not any(n.startswith("mn-tcli-") for n in mn_namespaces())
        args = _parse(["nodes", "--run", "tcli"])
        assert args.func(args) == 2
