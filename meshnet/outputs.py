"""Result files of a command (``--trace``, ``--pcap``): all appear, complete, or none does.

The policy (docs/scenarios.md, "Output files"):

- Before the run, every output path is checked: no NUL, not a directory, its directory exists,
  no two outputs name the same file, and no output names one of the run's inputs.
- During the run each output is written to a temporary file: an anonymous one (``O_TMPFILE``)
  in the target's directory, so no name is left behind even by SIGKILL; where the file system
  lacks that, a hidden ``.NAME.XXXXXX`` removed on every exit Python sees (error, Ctrl-C,
  SIGTERM, SIGHUP, SIGQUIT). Temporary files are created with mode 0600: never wider.
- Only when the run succeeded are the targets written, as a plain ``open()`` would write them:
  a new file is created with mode ``0666 & ~umask``; an existing file is rewritten in place, so
  it keeps its inode, owner, mode and hard links; a symlink is followed exactly as ``open()``
  follows it (the kernel's protected-symlink rules apply), never resolved and replaced;
  devices, FIFOs and ``/dev/stdout`` receive the bytes. Targets that cannot be reserved space
  for (devices, FIFOs) are written first and the space of existing files is reserved before
  any is touched, so a failure (``/dev/full``, a full disk) leaves the other outputs unwritten;
  files this step created are removed again.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import stat
import tempfile
from dataclasses import dataclass, field
from typing import IO, Any, Iterator, Sequence

_FALLOC_FL_KEEP_SIZE = 1
_COPY_CHUNK = 1 << 20


class OutputError(Exception):
    """An output cannot be written: one line for the user (exit status 2)."""


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@dataclass
class Output:
    """One output: the option that named it, the path given, and its temporary file."""

    option: str
    path: str
    binary: bool = False
    _fd: int = -1
    _tmp_name: str | None = None  # set only for a named (not anonymous) temporary file
    _file: Any = field(default=None, repr=False)

    def describe(self) -> str:
        return f"{self.option} {self.path}"


def check_paths(outputs: Sequence[Output], inputs: Sequence[str] = ()) -> None:
    """Refuse output paths that cannot work, before any run time is spent on them."""
    seen: list[Output] = []
    for out in outputs:
        if "\x00" in out.path:
            raise OutputError(f"{out.option}: the path contains a NUL character")
        if out.path == "":
            raise OutputError(f"{out.option}: the path is empty")
        if os.path.isdir(out.path):
            raise OutputError(f"{out.describe()}: is a directory")
        parent = os.path.dirname(out.path) or "."
        if not os.path.isdir(parent):
            raise OutputError(f"{out.describe()}: directory {parent} does not exist")
        for other in seen:
            if _same_file(out.path, other.path):
                raise OutputError(f"{other.option} and {out.option} both name {out.path}: each "
                                  f"output needs its own file")
        for source in inputs:
            if source and _same_file(out.path, source):
                raise OutputError(f"{out.describe()}: that is an input of this run ({source}); "
                                  f"writing it would destroy it")
        seen.append(out)


def _same_file(a: str, b: str) -> bool:
    """Whether two paths name one file (also through hard links and symlinks)."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return os.path.realpath(a) == os.path.realpath(b)


def _is_regular_or_absent(path: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        return True
    except OSError:
        return False


def _open_temporary(out: Output) -> None:
    """The temporary file: anonymous in the target's directory when possible."""
    directory = os.path.dirname(out.path) or "."
    real = os.path.realpath(out.path)
    if not _is_regular_or_absent(out.path) or real.startswith(("/dev/", "/proc/", "/sys/")):
        directory = tempfile.gettempdir()  # a device, FIFO or /dev/stdout: keep /dev clean
    tmpfile = getattr(os, "O_TMPFILE", 0)
    if tmpfile:
        try:
            out._fd = os.open(directory, tmpfile | os.O_RDWR | os.O_CLOEXEC, 0o600)
            return
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT):
                if exc.errno != errno.EACCES or directory == tempfile.gettempdir():
                    raise OutputError(f"{out.describe()}: cannot write: {_reason(exc)}") from None
                directory = tempfile.gettempdir()  # an existing, writable file in a locked dir
    try:
        out._fd, out._tmp_name = tempfile.mkstemp(
            prefix=f".{os.path.basename(out.path) or 'output'}.", dir=directory)
    except OSError as exc:
        raise OutputError(f"{out.describe()}: cannot write: {_reason(exc)}") from None


@contextlib.contextmanager
def run_outputs(outputs: Sequence[Output], inputs: Sequence[str] = ()) -> Iterator[list[IO]]:
    """Yield one open file per output (None for an unused one); commit them all if the block
    completes, discard them all otherwise."""
    used = [o for o in outputs if o.path is not None]
    check_paths(used, inputs)
    files: list[Any] = []
    try:
        for out in used:
            _open_temporary(out)
            raw = os.fdopen(out._fd, "w+b" if out.binary else "w+", closefd=False)
            out._file = _GuardedFile(raw, out)
        for out in outputs:
            files.append(out._file if out.path is not None else None)
        yield files
        for out in used:
            out._file.flush()
        _commit(used)
    finally:
        for out in used:
            _discard(out)


class _GuardedFile:
    """A temporary output file whose write errors name the output (one line, exit 2)."""

    __slots__ = ("_f", "_out", "write")

    def __init__(self, f: Any, out: Output) -> None:
        self._f = f
        self._out = out
        self.write = self._write

    def _write(self, data: Any) -> int:
        try:
            return self._f.write(data)
        except OSError as exc:
            raise OutputError(f"{self._out.describe()}: cannot write: {_reason(exc)}") from None

    def flush(self) -> None:
        try:
            self._f.flush()
        except OSError as exc:
            raise OutputError(f"{self._out.describe()}: cannot write: {_reason(exc)}") from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._f, name)


def _discard(out: Output) -> None:
    if out._file is not None:
        with contextlib.suppress(OSError):
            out._file._f.close()
        out._file = None
    if out._fd >= 0:
        with contextlib.suppress(OSError):
            os.close(out._fd)
        out._fd = -1
    if out._tmp_name is not None:
        with contextlib.suppress(OSError):
            os.unlink(out._tmp_name)
        out._tmp_name = None


def _size(out: Output) -> int:
    return os.fstat(out._fd).st_size


def _reserve(fd: int, size: int) -> None:
    """Reserve ``size`` bytes for ``fd`` without changing it (Linux ``fallocate`` with
    KEEP_SIZE); a file system or device that cannot is simply written."""
    if size == 0:
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fallocate = libc.fallocate
    except (OSError, AttributeError):
        return
    fallocate.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong)
    if fallocate(fd, _FALLOC_FL_KEEP_SIZE, 0, size) != 0:
        err = ctypes.get_errno()
        if err in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            raise OSError(err, os.strerror(err))


def _copy(src_fd: int, dst_fd: int, size: int) -> None:
    os.lseek(src_fd, 0, os.SEEK_SET)
    done = 0
    while done < size:
        chunk = os.read(src_fd, min(_COPY_CHUNK, size - done))
        if not chunk:
            break
        view = memoryview(chunk)
        while view:
            written = os.write(dst_fd, view)
            view = view[written:]
        done += len(chunk)


def _link_new(out: Output) -> bool:
    """Put the temporary file in place as a new file; False if something exists there."""
    os.fchmod(out._fd, 0o666 & ~_umask())
    try:
        if out._tmp_name is None:
            os.link(f"/proc/self/fd/{out._fd}", out.path, follow_symlinks=True)
        else:
            os.link(out._tmp_name, out.path, follow_symlinks=False)
    except OSError as exc:  # taken meanwhile, or another file system: copy as open() would
        if exc.errno not in (errno.EEXIST, errno.EXDEV, errno.EPERM, errno.ENOENT):
            raise
        os.fchmod(out._fd, 0o600)
        return False
    return True


def _commit(outputs: Sequence[Output]) -> None:
    """Write every target from its temporary file (see the module docstring for the order)."""
    opened: list[tuple[Output, int, bool]] = []  # (output, fd, regular)
    new: list[Output] = []
    created: list[str] = []
    written: list[str] = []
    try:
        for out in outputs:
            if not os.path.lexists(out.path):
                new.append(out)
                continue
            try:
                fd = os.open(out.path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o666)
            except OSError as exc:
                raise OutputError(f"{out.describe()}: cannot write: {_reason(exc)}") from None
            regular = stat.S_ISREG(os.fstat(fd).st_mode)
            opened.append((out, fd, regular))
            if regular:
                try:
                    _reserve(fd, _size(out))
                except OSError as exc:
                    raise OutputError(f"{out.describe()}: cannot write: {_reason(exc)}") from None
        opened.sort(key=lambda item: item[2])  # devices and FIFOs first: they may refuse
        for out, fd, regular in opened:
            size = _size(out)
            try:
                _copy(out._fd, fd, size)
                if regular:
                    os.ftruncate(fd, size)
            except OSError as exc:
                raise OutputError(_partial(out, exc, written)) from None
            written.append(out.path)
        for out in new:
            try:
                if _link_new(out):
                    created.append(out.path)
                    written.append(out.path)
                    continue
                fd = os.open(out.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC,
                             0o666)
                opened.append((out, fd, True))
                _copy(out._fd, fd, _size(out))
            except OSError as exc:
                raise OutputError(_partial(out, exc, written)) from None
            written.append(out.path)
    except OutputError:
        for path in created:  # files this step made are taken back: none or all appear
            with contextlib.suppress(OSError):
                os.unlink(path)
        raise
    finally:
        for _, fd, _ in opened:
            with contextlib.suppress(OSError):
                os.close(fd)


def _partial(out: Output, exc: OSError, written: list[str]) -> str:
    done = f" ({', '.join(written)} already written)" if written else ""
    return f"{out.describe()}: cannot write: {_reason(exc)}{done}"
