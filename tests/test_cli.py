"""The CLI contract: JSON keys, exit codes, one-line errors, atomic output files."""

import json
import os
import subprocess
import sys

import pytest

REQUIRED_KEYS = {"scenario", "protocol", "backend", "seed", "nodes", "duration_s", "sent",
                 "delivered", "pdr", "mean_delay_s", "mean_hops", "control_packets",
                 "control_bytes", "normalized_routing_load", "route_changes", "drops", "energy_j",
                 "first_death_s", "events", "wall_s"}


def meshnet(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "meshnet.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def test_run_json_has_the_documented_keys():
    p = meshnet("run", "line", "-p", "flooding", "--json")
    assert p.returncode == 0, p.stderr
    r = json.loads(p.stdout)
    assert REQUIRED_KEYS <= set(r)
    assert r["protocol"] == "flooding" and r["backend"] == "sim" and r["nodes"] == 10


def test_default_run_prints_a_summary():
    p = meshnet("run", "--duration", "20")
    assert p.returncode == 0, p.stderr
    assert "packet delivery ratio" in p.stdout


def test_trace_is_deterministic_per_seed(tmp_path):
    files = []
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        f = tmp_path / f"{name}.jsonl"
        p = meshnet("run", "--seed", str(seed), "--duration", "20", "--json", "--trace", str(f))
        assert p.returncode == 0, p.stderr
        files.append(f.read_bytes())
    assert files[0] == files[1]
    assert files[0] != files[2]
    kinds = {json.loads(line)["ev"] for line in files[0].splitlines()}
    assert {"data_sent", "data_tx", "data_delivered", "route_added", "node_moved",
            "link_up", "ctrl_tx"} <= kinds


def _bad(tmp_path, text):
    f = tmp_path / "s.toml"
    f.write_text(text)
    return str(f)


@pytest.mark.parametrize("make_args, expect", [
    (lambda d: ["run", _bad(d, "[nodes]\ncuont = 3\n")], "nodes.cuont"),
    (lambda d: ["run", _bad(d, "[nodes]\ncount = 'x'\n")], "nodes.count"),
    (lambda d: ["run", _bad(d, "[scenario]\nduration = -1\n")], "scenario.duration"),
    (lambda d: ["run", _bad(d, "[nodes]\ncount = 0\n")], "nodes.count"),
    (lambda d: ["run", str(d / "missing.toml")], "no such scenario file"),
    (lambda d: ["run", "-p", "nosuch"], "unknown protocol 'nosuch'"),
    (lambda d: ["run", "--set", "nodes.count"], "section.key=value"),
    (lambda d: ["run", "--seed", "abc"], "invalid int value"),
    (lambda d: ["run", "--frobnicate"], "unrecognized arguments"),
    (lambda d: ["run", _bad(d, "[mobility]\nmodel = 'ns2-trace'\ntrace = 't.ns'\n")], "t.ns"),
    (lambda d: ["run", "--trace", str(d / "nodir" / "t.jsonl")], "does not exist"),
    (lambda d: ["nosuchcommand"], "invalid choice"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, make_args, expect):
    p = meshnet(*make_args(tmp_path))
    assert p.returncode == 2, (p.stdout, p.stderr)
    err = p.stderr.strip()
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1, err
    assert expect in err


def test_malformed_ns2_trace_names_the_line(tmp_path):
    trace = tmp_path / "t.ns"
    trace.write_text('$node_(0) set X_ 1.0\n$node_(0) set Y_ 2.0\n$ns_ at oops "$node_(0) setdest 1 2 3"\n')
    sc = tmp_path / "s.toml"
    sc.write_text("[nodes]\ncount = 1\n[mobility]\nmodel = 'ns2-trace'\ntrace = 't.ns'\n")
    p = meshnet("run", str(sc))
    assert p.returncode == 2
    assert ":3" in p.stderr and "Traceback" not in p.stderr


def test_failed_run_leaves_no_partial_output(tmp_path):
    out = tmp_path / "t.jsonl"
    p = meshnet("run", "-p", "nosuch", "--trace", str(out))
    assert p.returncode == 2
    assert not out.exists()
    assert os.listdir(tmp_path) == []


def test_protocols_lists_plugins():
    p = meshnet("protocols", "--json")
    assert p.returncode == 0, p.stderr
    names = {r["name"] for r in json.loads(p.stdout)}
    assert {"flooding", "aodv", "dsdv", "none"} <= names


def test_output_to_a_device_or_fifo_writes_through(tmp_path):
    fifo = tmp_path / "trace.fifo"
    os.mkfifo(fifo)
    import threading
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo).read()))
    reader.start()
    p = meshnet("run", "line", "-p", "flooding", "--duration", "2", "--json", "--trace", str(fifo))
    reader.join(timeout=60)
    assert p.returncode == 0, p.stderr
    assert fifo.is_fifo() and '"ev":"data_sent"' in got[0]
    p = meshnet("run", "line", "--duration", "1", "--json", "--trace", os.devnull)
    assert p.returncode == 0 and os.path.exists(os.devnull)
    assert not os.path.isfile(os.devnull)


def test_output_through_a_symlink_replaces_the_target_with_normal_permissions(tmp_path):
    real = tmp_path / "real.jsonl"
    real.write_text("old")
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    p = meshnet("run", "line", "--duration", "1", "--json", "--trace", str(link))
    assert p.returncode == 0, p.stderr
    assert link.is_symlink() and '"ev"' in real.read_text()
    umask = os.umask(0)
    os.umask(umask)
    assert real.stat().st_mode & 0o777 == 0o666 & ~umask


def test_unwritable_output_is_one_line_exit_2(tmp_path):
    p = meshnet("run", "line", "--duration", "1", "--trace", "/proc/meshnet-test.jsonl")
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "cannot write" in p.stderr or "does not exist" in p.stderr


def _has_open_file_in(pid: int, directory) -> bool:
    """Process ``pid`` has a file of ``directory`` open (named or anonymous)."""
    import os

    prefix = str(directory) + os.sep
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith(prefix):
                return True
        except OSError:
            continue
    return False


def test_sigterm_leaves_no_partial_output(tmp_path):
    import signal
    import time

    proc = subprocess.Popen([sys.executable, "-m", "meshnet.cli", "run", "broch", "--json",
                             "--trace", "t.jsonl", "--pcap", "p.pcap"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # the outputs are anonymous temporary files until the end: wait until the run has them
    # open (they show in /proc as files of tmp_path), so the signal comes mid-run
    deadline = time.time() + 60
    while not _has_open_file_in(proc.pid, tmp_path) and time.time() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert list(tmp_path.iterdir()) == []


# --- subcommands registered by other modules ---------------------------------------------------
def _break_import(monkeypatch, broken: str, error: Exception) -> None:
    """Make importing ``broken`` fail with ``error``; every other import works as usual."""
    import importlib

    real = importlib.import_module

    def import_module(name, *args, **kwargs):
        if name == broken:
            raise error
        return real(name, *args, **kwargs)

    monkeypatch.setattr(importlib, "import_module", import_module)
    monkeypatch.setattr("signal.signal", lambda *a: None)  # main() must not touch pytest's handlers


def test_every_listed_command_module_registers_exactly_its_listed_subcommands():
    import argparse
    import importlib

    from meshnet.cli import COMMAND_MODULES

    for module, commands in COMMAND_MODULES:
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(module).register_cli(sub)
        assert tuple(sub.choices) == commands, module


@pytest.mark.parametrize("argv", [["tui"], ["tui", "line", "--speed", "3", "--no-such-flag"],
                                  ["tui", "--help"]])
def test_a_module_that_fails_to_import_makes_its_subcommands_say_why(monkeypatch, capsys, argv):
    from meshnet.cli import main

    _break_import(monkeypatch, "meshnet.tui.commands",
                  ModuleNotFoundError("No module named 'textual'"))
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "meshnet: error: tui is unavailable: No module named 'textual'\n"


def test_a_broken_module_still_lists_its_subcommands_and_the_others_keep_working(monkeypatch,
                                                                                 capsys):
    from meshnet.cli import build_parser, main

    _break_import(monkeypatch, "meshnet.netns.commands", SyntaxError("invalid syntax"))
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    help_text = capsys.readouterr().out
    for name in ("emulate", "nodes", "exec", "shell", "clean", "tui", "run"):
        assert name in help_text
    assert "unavailable: SyntaxError: invalid syntax" in help_text

    assert main(["exec", "n1", "--", "ip", "route"]) == 1
    assert capsys.readouterr().err == ("meshnet: error: exec is unavailable: "
                                       "SyntaxError: invalid syntax\n")
    assert main(["scenarios", "--json"]) == 0
    assert "default" in json.loads(capsys.readouterr().out)
    assert build_parser().parse_args(["tui", "line"]).func.__module__ == "meshnet.tui.commands"


def test_unknown_arguments_to_a_working_subcommand_are_still_a_usage_error(capsys, monkeypatch):
    from meshnet.cli import main

    monkeypatch.setattr("signal.signal", lambda *a: None)
    assert main(["scenarios", "--bogus"]) == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err
