"""The run registry: every run writes down what it creates before creating it.

``/run/meshnet/<run>.json`` lists the run's namespaces and nodes, the processes it started, extra
files and its own pid. Devices need no record: they are born inside the node namespaces and die
with them. Normal exit, Ctrl-C,
SIGTERM and exceptions tear down from the live objects; after ``kill -9`` :func:`clean` reads these
files (and scans ``/run/netns`` for ``mn-`` names no live run owns) and removes the rest.

A pid alone does not name a process: after a crash the kernel may give it to an unrelated one.
The record keeps each pid's start time (``/proc/PID/stat`` field 22) from when it was saved with
it, and a process is signalled (or a run's owner counted as alive) only while that still matches.

A name alone does not name a run either: a run started again under the same name (the TUI's
restart, a second ``Emulation`` in one process) reuses the record's path and the namespaces'
paths. So every run has a random ``token``: a run rewrites or removes only a record that
carries its token, tears down only a namespace path that still holds the namespace it made
(compared by inode with the fd it keeps), and ``clean`` leaves namespaces a live run lists.

Readiness: the record lists the nodes before they exist (so a crash in the middle of a bring-up
leaves nothing unlisted); ``up`` says how many of them (in order) are up, and ``state`` is
``starting`` until the protocols run, then ``running``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import select
import signal
import time
from dataclasses import dataclass, field, fields

from . import linux

REGISTRY_DIR = "/run/meshnet"
NS_PREFIX = "mn-"
RUN_NAME = re.compile(r"[a-z0-9][a-z0-9_]{0,11}")


def validate_run_name(name: str) -> str:
    # the whole name (``$`` would also match before a trailing newline)
    if not isinstance(name, str) or not RUN_NAME.fullmatch(name):
        raise ValueError(f"run name {name!r}: use 1-12 characters a-z, 0-9, _ (starting with a "
                         "letter or digit)")
    return name


def netns_name(run: str, node: str) -> str:
    return f"{NS_PREFIX}{run}-{node}"


@dataclass
class RunRecord:
    run: str
    pid: int
    started: float = field(default_factory=time.time)
    scenario: str = ""
    namespaces: list[str] = field(default_factory=list)
    nodes: list[dict] = field(default_factory=list)  # name, namespace, address
    pids: list[int] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    # str(pid) -> start time (clock ticks after boot) of ``pid`` and of every tracked pid
    starts: dict[str, int] = field(default_factory=dict)
    token: str = ""  # this run instance (see module docstring); "" in records from before
    state: str = "running"  # "starting" until the protocols run (records from before: running)
    up: int | None = None  # nodes[:up] exist; None: all of them (records from before)

    @property
    def path(self) -> str:
        return os.path.join(REGISTRY_DIR, f"{self.run}.json")

    def process_starts(self) -> dict[int, int]:
        """pid -> recorded start time, for the pids whose start time is known."""
        return {int(pid): int(start) for pid, start in self.starts.items()}

    def alive(self) -> bool:
        """The run's own process is still running (not a later process that got its pid)."""
        start = self.starts.get(str(self.pid))
        return pid_alive(self.pid) and (start is None or process_start(self.pid) == start)

    def node_ready(self, index: int) -> bool:
        """Node ``nodes[index]`` exists (its namespace and devices are up)."""
        return self.up is None or index < self.up

    def owns_file(self) -> bool:
        """The record at :attr:`path` is this run's (or there is none)."""
        on_disk = _read_token(self.path)
        return on_disk is None or on_disk == self.token

    def save(self) -> bool:
        """Write the record; pids saved for the first time get their start time recorded.
        Returns False, writing nothing, when the path holds another run's record (a newer run
        of the same name took it over)."""
        if not self.owns_file():
            return False
        for pid in (self.pid, *self.pids):
            if str(pid) not in self.starts and (start := process_start(pid)) is not None:
                self.starts[str(pid)] = start
        os.makedirs(REGISTRY_DIR, exist_ok=True)
        tmp = f"{self.path}.{os.getpid()}.{self.token or 'x'}.tmp"
        # one C-encoded string of the fields as they are (asdict's deep copy and json.dump's
        # piecemeal writes cost ~10 ms for 250 nodes, and a bring-up saves every 0.2 s)
        text = json.dumps({f.name: getattr(self, f.name) for f in fields(self)})
        with open(tmp, "w") as fh:
            fh.write(text)
        os.replace(tmp, self.path)
        return True

    def remove(self) -> None:
        """Delete the record, if it is still this run's."""
        if self.owns_file():
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass


def _read_token(path: str) -> str | None:
    """The token of the record at ``path``; None if there is no readable record."""
    try:
        with open(path) as fh:
            return str(json.load(fh).get("token", ""))
    except (OSError, ValueError, AttributeError):
        return None


def load_records() -> list[RunRecord]:
    records = []
    try:
        names = sorted(os.listdir(REGISTRY_DIR))
    except FileNotFoundError:
        return records
    for fname in names:
        if not fname.endswith(".json"):
            continue
        try:
            with open(os.path.join(REGISTRY_DIR, fname)) as fh:
                data = json.load(fh)
            known = {f for f in RunRecord.__dataclass_fields__}
            records.append(RunRecord(**{k: v for k, v in data.items() if k in known}))
        except (OSError, ValueError, TypeError):
            records.append(RunRecord(run=fname[:-5], pid=0))
    return records


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is dead for our purposes
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def process_start(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks after boot (``/proc/PID/stat`` field 22);
    None if there is no such process."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()  # field 3 (state) onwards
        return int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def claim(run: str, live_here: set[str] = frozenset()) -> RunRecord:
    """Create the record of a new run (state ``starting``, a fresh token). A live run with the
    same name is an error: in another process, or in this one when its token is in
    ``live_here`` (the runs this process has not stopped). A dead one is cleaned first."""
    validate_run_name(run)
    for rec in load_records():
        if rec.run == run:
            if rec.alive() and rec.pid != os.getpid():
                raise RuntimeError(f"run {run!r} is already active (pid {rec.pid}); choose "
                                   "another --name")
            if rec.alive() and rec.token in live_here:
                raise RuntimeError(f"run {run!r} is already active in this process; stop it "
                                   "first or choose another name")
            clean_record(rec)
    stale = [n for n in list_netns() if n.startswith(f"{NS_PREFIX}{run}-")]
    for ns in stale:
        remove_namespaces([ns])
    for leftover in _tmp_files(run):
        try:
            os.unlink(leftover)
        except OSError:
            pass
    rec = RunRecord(run=run, pid=os.getpid(), token=secrets.token_hex(8), state="starting")
    try:
        os.unlink(rec.path)  # whatever is still there is a dead run's, cleaned above
    except FileNotFoundError:
        pass
    rec.save()
    return rec


def _tmp_files(run: str) -> list[str]:
    """Half-written records of ``run`` (a writer killed between write and rename)."""
    try:
        return [os.path.join(REGISTRY_DIR, f) for f in os.listdir(REGISTRY_DIR)
                if f.startswith(f"{run}.json.") and f.endswith(".tmp")]
    except FileNotFoundError:
        return []


def list_netns() -> list[str]:
    try:
        return sorted(os.listdir(linux.NETNS_DIR))
    except FileNotFoundError:
        return []


def processes_in(inodes: set[int]) -> list[int]:
    """Pids whose network namespace is one of ``inodes`` (daemons started inside nodes)."""
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            if os.stat(f"/proc/{entry}/ns/net").st_ino in inodes:
                found.append(int(entry))
        except OSError:
            pass
    return found


def _pidfd(pid: int) -> int | None:
    """A pidfd for ``pid`` (it keeps naming that process even if the pid is reused), or None
    if the process is gone or the kernel has no pidfds."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _signal(pid: int, fd: int | None, sig: int) -> None:
    try:
        if fd is not None:
            signal.pidfd_send_signal(fd, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _exited(pid: int, fd: int | None) -> bool:
    if fd is not None:  # a pidfd turns readable when its process exits
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))
    return not pid_alive(pid)


def kill_processes(pids: list[int], grace: float = 0.5,
                   starts: dict[int, int] | None = None) -> list[int]:
    """SIGTERM, wait up to ``grace`` seconds, then SIGKILL what is left; returns the pids
    signalled. With ``starts`` (pid -> start time, see :func:`process_start`), only a process
    that still has its recorded start time is signalled: a pid without one, or now used by a
    process that started at another time, is left alone."""
    targets: list[tuple[int, int | None]] = []
    for pid in dict.fromkeys(pids):
        if starts is not None and pid not in starts:
            continue
        fd = _pidfd(pid)  # taken before the check, so the process checked is the one signalled
        if not pid_alive(pid) or (starts is not None and process_start(pid) != starts[pid]):
            if fd is not None:
                os.close(fd)
            continue
        targets.append((pid, fd))
    try:
        for pid, fd in targets:
            _signal(pid, fd, signal.SIGTERM)
        live = list(targets)
        deadline = time.monotonic() + grace
        while live and time.monotonic() < deadline:
            time.sleep(0.02)
            live = [t for t in live if not _exited(*t)]
        for pid, fd in live:
            _signal(pid, fd, signal.SIGKILL)
    finally:
        for _pid, fd in targets:
            if fd is not None:
                os.close(fd)
    return [pid for pid, _fd in targets]


def remove_namespaces(names: list[str], kill: bool = True,
                      killed: list[int] | None = None) -> list[str]:
    """Kill processes living in the namespaces, then unmount and unlink them."""
    paths = {n: os.path.join(linux.NETNS_DIR, n) for n in names}
    inodes = {ino for ino in (linux.netns_inode(p) for p in paths.values()) if ino}
    if kill and inodes:
        pids = processes_in(inodes)
        kill_processes(pids)
        if killed is not None:
            killed.extend(pids)
    removed = []
    for name, path in paths.items():
        linux.umount(path)
        try:
            os.unlink(path)
            removed.append(name)
        except FileNotFoundError:
            pass
        except IsADirectoryError:
            pass
    return removed


def clean_record(rec: RunRecord) -> list[str]:
    """Remove what the run of ``rec`` left. Its tracked processes are signalled only while their
    recorded start times match (see :func:`kill_processes`); whatever still runs inside its
    namespaces is theirs and is killed with them. A namespace that another live run lists (a
    newer run of the same name) is not this run's."""
    mine = [p for p in rec.pids if p != os.getpid()]
    killed = kill_processes(mine, grace=0.2, starts=rec.process_starts())
    ns = set(rec.namespaces) | {n for n in list_netns() if n.startswith(f"{NS_PREFIX}{rec.run}-")}
    others = {n for r in load_records() if (r.run, r.token) != (rec.run, rec.token) and r.alive()
              for n in r.namespaces}
    gone = remove_namespaces(sorted(ns - others), killed=killed)
    removed = [f"process {p}" for p in dict.fromkeys(killed)]
    removed += [f"namespace {n}" for n in gone]
    for path in rec.files:
        try:
            os.unlink(path)
            removed.append(f"file {path}")
        except OSError:
            pass
    rec.remove()
    removed.append(f"registry {rec.path}")
    return removed


def clean(include_live: bool = False) -> list[str]:
    """Remove what dead runs left behind (all runs if ``include_live``): namespaces, devices,
    processes, files. Returns one line per removed thing."""
    removed: list[str] = []
    live_runs = set()
    for rec in load_records():
        if rec.alive() and not include_live:
            live_runs.add(rec.run)
            continue
        removed += clean_record(rec)
    orphans = [n for n in list_netns() if n.startswith(NS_PREFIX)
               and not any(n.startswith(f"{NS_PREFIX}{r}-") for r in live_runs)]
    killed: list[int] = []
    gone = remove_namespaces(orphans, killed=killed)
    removed += [f"process {p}" for p in killed] + [f"namespace {n}" for n in gone]
    return removed
