"""Output files of `meshnet run`: written as a plain open() would write them, only after the run
succeeded, all of them or none, and never over an input or over each other."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time

import pytest

RUN = ["run", "line", "--duration", "2", "--json", "-q"]


def meshnet(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "meshnet.cli", *args], capture_output=True,
                          text=True, timeout=120, **kw)


def one_line_exit_2(p: subprocess.CompletedProcess, *words: str) -> None:
    assert p.returncode == 2, (p.stdout, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("meshnet: error: "), p.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_overwriting_keeps_inode_mode_owner_and_hard_links(tmp_path):
    target = tmp_path / "t.jsonl"
    target.write_text("old\n")
    os.chmod(target, 0o640)
    os.chown(target, 12345, 23456)
    link = tmp_path / "hardlink.jsonl"
    os.link(target, link)
    before = os.stat(target)
    p = meshnet(*RUN, "--trace", str(target))
    assert p.returncode == 0, p.stderr
    after = os.stat(target)
    assert (after.st_ino, after.st_uid, after.st_gid) == (before.st_ino, 12345, 23456)
    assert stat.S_IMODE(after.st_mode) == 0o640
    assert link.read_bytes() == target.read_bytes()
    kinds = {json.loads(line)["ev"] for line in target.read_text().splitlines()}
    assert {"node_moved", "data_sent"} <= kinds


def test_a_new_file_gets_the_mode_open_gives(tmp_path):
    target = tmp_path / "new.pcap"
    p = subprocess.run(["sh", "-c", f"umask 027 && {sys.executable} -m meshnet.cli "
                        + " ".join(RUN) + f" --pcap {target}"], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert target.read_bytes()[:4] == bytes.fromhex("d4c3b2a1")


def test_a_symlink_is_followed_as_open_follows_it_not_replaced(tmp_path):
    real = tmp_path / "real.jsonl"
    real.write_text("old")
    os.chmod(real, 0o600)
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    ino = os.stat(real).st_ino
    p = meshnet(*RUN, "--trace", str(link))
    assert p.returncode == 0, p.stderr
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert os.stat(real).st_ino == ino and stat.S_IMODE(os.stat(real).st_mode) == 0o600
    assert '"ev"' in real.read_text()


def test_a_planted_symlink_in_a_sticky_directory_is_not_followed(tmp_path):
    """As root, in a world-writable sticky directory, a symlink owned by someone else is not
    followed (the kernel's protected_symlinks, which a plain open() obeys); the victim file is
    untouched."""
    if os.geteuid() != 0:
        pytest.skip("needs root to plant a symlink owned by another user")
    try:
        protected = open("/proc/sys/fs/protected_symlinks").read().strip() == "1"
    except OSError:
        protected = False
    if not protected:
        pytest.skip("fs.protected_symlinks is off on this machine")
    sticky = tmp_path / "sticky"
    sticky.mkdir()
    os.chmod(sticky, 0o1777)
    victim = tmp_path / "victim"
    victim.write_text("precious")
    planted = sticky / "x"
    planted.symlink_to(victim)
    os.lchown(planted, 12345, 12345)
    p = meshnet(*RUN, "--trace", str(planted))
    one_line_exit_2(p, "--trace", str(planted))
    assert victim.read_text() == "precious"
    assert planted.is_symlink()


def test_a_failed_output_leaves_no_other_output(tmp_path):
    pcap = tmp_path / "p.pcap"
    p = meshnet(*RUN, "--trace", "/dev/full", "--pcap", str(pcap))
    one_line_exit_2(p, "--trace /dev/full", "No space left")
    assert not pcap.exists()
    assert os.listdir(tmp_path) == []


def test_an_existing_output_is_left_alone_when_another_fails(tmp_path):
    pcap = tmp_path / "p.pcap"
    pcap.write_bytes(b"keep me")
    p = meshnet(*RUN, "--trace", "/dev/full", "--pcap", str(pcap))
    assert p.returncode == 2
    assert pcap.read_bytes() == b"keep me"


def test_results_that_cannot_reach_stdout_leave_no_output(tmp_path):
    trace = tmp_path / "t.jsonl"
    with open("/dev/full", "w") as full:
        p = subprocess.run([sys.executable, "-m", "meshnet.cli", *RUN, "--trace", str(trace)],
                           stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    one_line_exit_2(p, "stdout")
    assert not trace.exists()


TERMINATING = (signal.SIGHUP, signal.SIGQUIT, signal.SIGTERM, signal.SIGINT)


def _as_foreground_command() -> None:
    """The child starts with every terminating signal at its default, as a command typed in a
    terminal does (a shell without job control starts background commands with SIGINT and
    SIGQUIT ignored, and this test may run under one)."""
    for signum in TERMINATING:
        signal.signal(signum, signal.SIG_DFL)


def _long_run(tmp_path, preexec_fn=_as_foreground_command) -> subprocess.Popen:
    """A 900-s ``broch`` with a trace: it is still running when the test signals it."""
    return subprocess.Popen([sys.executable, "-m", "meshnet.cli", "run", "broch", "--duration",
                             "900", "--json", "-q", "--trace", str(tmp_path / "t.jsonl")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=preexec_fn)


@pytest.mark.parametrize("signum", TERMINATING)
def test_a_signal_leaves_no_file_behind(tmp_path, signum):
    proc = _long_run(tmp_path)
    time.sleep(4)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip() == "meshnet: interrupted"
    assert os.listdir(tmp_path) == []


def test_under_nohup_a_hangup_does_not_stop_the_run(tmp_path):
    """``nohup`` ignores SIGHUP so the run outlives the terminal: meshnet keeps it ignored,
    and still stops cleanly on SIGTERM."""
    def nohup() -> None:
        _as_foreground_command()
        signal.signal(signal.SIGHUP, signal.SIG_IGN)

    proc = _long_run(tmp_path, nohup)
    time.sleep(3)
    proc.send_signal(signal.SIGHUP)
    time.sleep(1)
    assert proc.poll() is None  # still running
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert os.listdir(tmp_path) == []


def test_trace_and_pcap_on_one_file_is_refused(tmp_path):
    out = tmp_path / "x"
    one_line_exit_2(meshnet(*RUN, "--trace", str(out), "--pcap", str(out)), "--trace", "--pcap")
    assert not out.exists()
    out.write_text("")
    alias = tmp_path / "alias"
    os.link(out, alias)
    one_line_exit_2(meshnet(*RUN, "--trace", str(out), "--pcap", str(alias)), "--pcap")


def test_an_output_never_overwrites_an_input(tmp_path):
    sc = tmp_path / "s.toml"
    text = "[scenario]\nduration = 2\n[[traffic]]\nflows = 1\n"
    sc.write_text(text)
    one_line_exit_2(meshnet("run", str(sc), "--trace", str(sc)), "--trace", "input")
    assert sc.read_text() == text
    trace = tmp_path / "move.tcl"
    trace.write_text("$node_(0) set X_ 1.0\n$node_(0) set Y_ 1.0\n")
    one_line_exit_2(meshnet("run", str(sc), "--set", "mobility.model=ns2-trace",
                            "--set", "mobility.trace=move.tcl", "--set", "nodes.count=2",
                            "--set", "traffic.0.pairs=[[1, 2]]",
                            "--pcap", str(trace)), "--pcap", "input")
    assert trace.read_text().startswith("$node_(0)")


def test_protocol_option_and_set_must_agree(tmp_path):
    one_line_exit_2(meshnet(*RUN, "-p", "aodv", "--set", "protocol.name=dsdv"), "-p aodv",
                    "protocol.name=dsdv")
    p = meshnet(*RUN, "-p", "dsdv", "--set", "protocol.name=dsdv")
    assert p.returncode == 0 and json.loads(p.stdout)["protocol"] == "dsdv"


def test_a_set_value_with_a_line_break_is_refused():
    one_line_exit_2(meshnet(*RUN, "--set", "scenario.name=x\nduration = 5"), "one line")


def test_an_output_path_with_a_nul_is_refused():
    from meshnet.cli import main

    assert main([*RUN, "--trace", "a\x00b"]) == 2


def test_a_run_without_frames_still_writes_a_valid_pcap(tmp_path):
    pcap = tmp_path / "empty.pcap"
    p = meshnet("run", "line", "-p", "none", "--duration", "0.5", "--json", "--set",
                "traffic.0.start=5", "--pcap", str(pcap))
    assert p.returncode == 0, p.stderr
    assert len(pcap.read_bytes()) == 24 and pcap.read_bytes()[:4] == bytes.fromhex("d4c3b2a1")


def test_outputs_appear_together_on_success(tmp_path):
    trace, pcap = tmp_path / "t.jsonl", tmp_path / "p.pcap"
    p = meshnet(*RUN, "--trace", str(trace), "--pcap", str(pcap))
    assert p.returncode == 0, p.stderr
    assert trace.stat().st_size > 0 and pcap.stat().st_size > 24
    assert sorted(os.listdir(tmp_path)) == ["p.pcap", "t.jsonl"]
