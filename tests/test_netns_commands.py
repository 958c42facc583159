"""The netns CLI commands: registration, one-line errors with exit status 2, a short run."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time

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


class TestPidReuse:
    """``meshnet clean`` after a crash signals a recorded pid only while it still names the
    process the run started (same start time): a pid since given to another process is left."""

    @pytest.fixture
    def registry_dir(self, tmp_path, monkeypatch):
        from meshnet.netns import registry

        monkeypatch.setattr(registry, "REGISTRY_DIR", str(tmp_path / "registry"))
        return registry

    @pytest.fixture
    def sleeper(self):
        procs = []

        def start():
            procs.append(subprocess.Popen(["sleep", "60"]))
            return procs[-1]

        yield start
        for proc in procs:
            proc.kill()
            proc.wait()

    def test_clean_leaves_a_process_whose_start_time_differs(self, registry_dir, sleeper):
        unrelated = sleeper()
        with open(f"/proc/{unrelated.pid}/stat") as fh:  # field 22: start time after boot
            start = int(fh.read().rsplit(")", 1)[1].split()[19])
        # a crashed run's record naming the pid, written when another process had it
        os.makedirs(registry_dir.REGISTRY_DIR)
        with open(os.path.join(registry_dir.REGISTRY_DIR, "treuse.json"), "w") as fh:
            json.dump({"run": "treuse", "pid": 2**22 + 1, "pids": [unrelated.pid],
                       "starts": {str(unrelated.pid): start - 1}}, fh)
        (rec,) = registry_dir.load_records()
        removed = registry_dir.clean_record(rec)
        time.sleep(0.3)
        assert unrelated.poll() is None, "an unrelated process was killed"
        assert registry_dir.load_records() == []  # the record itself is gone
        assert registry_dir.process_start(unrelated.pid) == start
        assert f"process {unrelated.pid}" not in removed
        # a record from before start times were kept cannot tell: the pid is left alone too
        removed = registry_dir.clean_record(
            registry_dir.RunRecord(run="treuse", pid=2**22 + 1, pids=[unrelated.pid]))
        time.sleep(0.3)
        assert unrelated.poll() is None and f"process {unrelated.pid}" not in removed

    def test_clean_still_kills_the_run_s_own_process(self, registry_dir, sleeper):
        own = sleeper()
        rec = registry_dir.RunRecord(run="treuse", pid=os.getpid(), pids=[own.pid])
        rec.save()  # records the start times, as a run does when it tracks a process
        (loaded,) = registry_dir.load_records()
        assert loaded.starts == {str(os.getpid()): registry_dir.process_start(os.getpid()),
                                 str(own.pid): registry_dir.process_start(own.pid)}
        removed = registry_dir.clean_record(loaded)
        assert own.wait(timeout=5) is not None
        assert f"process {own.pid}" in removed
        assert registry_dir.load_records() == []

    def test_a_run_whose_pid_was_reused_is_not_alive(self, registry_dir, sleeper):
        other = sleeper()
        start = registry_dir.process_start(other.pid)
        assert registry_dir.RunRecord(run="treuse", pid=other.pid,
                                      starts={str(other.pid): start}).alive()
        assert not registry_dir.RunRecord(run="treuse", pid=other.pid,
                                          starts={str(other.pid): start + 1}).alive()


class TestExecArguments:
    """``meshnet exec NODE [--run NAME] -- COMMAND``: --run may follow the node."""

    @pytest.fixture
    def calls(self, monkeypatch):
        from meshnet.netns import api, commands

        seen = []
        monkeypatch.setattr(commands, "_preflight", lambda need_root=True: None)
        monkeypatch.setattr(api, "exec_in", lambda node, argv, run=None: seen.append(
            (node, list(argv), run)) or 0)
        return seen

    @pytest.mark.parametrize("argv, expected", [
        (["exec", "n1", "--run", "x", "--", "ping", "-c", "1"], ("n1", ["ping", "-c", "1"], "x")),
        (["exec", "n1", "--run=x", "--", "ping"], ("n1", ["ping"], "x")),
        (["exec", "n1", "--run", "x", "ping", "-c", "1"], ("n1", ["ping", "-c", "1"], "x")),
        (["exec", "--run", "x", "n1", "--", "ping"], ("n1", ["ping"], "x")),
        (["exec", "n1", "--", "ping", "-c", "1"], ("n1", ["ping", "-c", "1"], None)),
        (["exec", "n1", "--", "echo", "--run", "y"], ("n1", ["echo", "--run", "y"], None)),
    ])
    def test_run_after_the_node_is_an_option_not_the_command(self, calls, argv, expected):
        args = _parse(argv)
        assert args.func(args) == 0
        assert calls == [expected]

    def test_run_without_a_name_is_one_line_and_exit_2(self, calls, capsys):
        args = _parse(["exec", "n1", "--run"])
        assert args.func(args) == 2 and calls == []
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "--run needs a run name" in err[0]


class TestNoEmulationHint:
    """After a kill -9, `nodes` and `exec` say that leftovers remain and how to remove them."""

    @pytest.fixture
    def registry_dir(self, tmp_path, monkeypatch):
        from meshnet.netns import registry

        monkeypatch.setattr(registry, "REGISTRY_DIR", str(tmp_path / "registry"))
        monkeypatch.setattr(registry, "list_netns", lambda: [])
        return registry

    def _dead_run(self, registry_dir, run="tcrash"):
        os.makedirs(registry_dir.REGISTRY_DIR, exist_ok=True)
        with open(os.path.join(registry_dir.REGISTRY_DIR, f"{run}.json"), "w") as fh:
            json.dump({"run": run, "pid": 2**22 + 1, "namespaces": [f"mn-{run}-n1"]}, fh)

    def test_nothing_left_no_hint(self, registry_dir, capsys):
        args = _parse(["nodes"])
        assert args.func(args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err == ["meshnet: error: no emulation is running (start one with: meshnet "
                       "emulate)"]

    def test_a_crashed_run_points_to_clean(self, registry_dir, capsys):
        self._dead_run(registry_dir)
        for argv in (["nodes"], ["nodes", "--run", "tcrash"]):
            args = _parse(argv)
            assert args.func(args) == 2
            err = capsys.readouterr().err.strip().splitlines()
            assert len(err) == 1 and err[0].startswith("meshnet: error: no ")
            assert "run 'tcrash'" in err[0] and "sudo meshnet clean" in err[0]

    def test_orphan_namespaces_point_to_clean(self, registry_dir, monkeypatch):
        from meshnet.netns.api import NetnsUsageError, list_nodes

        monkeypatch.setattr(registry_dir, "list_netns", lambda: ["mn-old-n1", "mn-old-n2", "x"])
        with pytest.raises(NetnsUsageError, match=r"\(2 namespaces\): remove them with: sudo "
                                                  "meshnet clean"):
            list_nodes()

    def test_exec_says_it_too(self, registry_dir, capsys, monkeypatch):
        from meshnet.netns import commands

        monkeypatch.setattr(commands, "_preflight", lambda need_root=True: None)
        monkeypatch.setattr(os, "geteuid", lambda: 0)
        self._dead_run(registry_dir)
        args = _parse(["exec", "n1", "--", "true"])
        assert args.func(args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "sudo meshnet clean" in err[0]
