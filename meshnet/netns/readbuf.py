"""One reusable receive buffer for the loop's reads; each result is copied out at its size.

``os.read(fd, 65536)`` and ``sock.recvfrom(65535)`` allocate the full size and shrink the
result in place. glibc's malloc serves such a request from its heap and leaves, after every
result that stays alive (a frame in a MAC queue, a control message a protocol keeps for a
jittered rebroadcast), a hole just too small for the next 64 KiB request. When the loop falls
behind and more results are alive at once, the heap grows hole by hole: in a 250-node
emulation half the growth of its memory was such free space. Reading into one buffer and
copying the bytes out allocates only what is kept.
"""

from __future__ import annotations

import os
import socket
from typing import Any

SIZE = 65536  # the largest frame or datagram a read returns whole


class ReadBuffer:
    """Reads for one thread (the emulation's loop): never share one across threads."""

    __slots__ = ("_buf", "_view", "_bufs")

    def __init__(self, size: int = SIZE) -> None:
        self._buf = bytearray(size)
        self._view = memoryview(self._buf)
        self._bufs = (self._buf,)

    def read(self, fd: int) -> bytes:
        """``os.read(fd, size)`` (raises as it does), allocating only the bytes read."""
        return self._view[:os.readv(fd, self._bufs)].tobytes()

    def recvfrom(self, sock: socket.socket) -> tuple[bytes, Any]:
        """``sock.recvfrom(size)`` (raises as it does), allocating only the bytes read."""
        n, address = sock.recvfrom_into(self._buf)
        return self._view[:n].tobytes(), address
