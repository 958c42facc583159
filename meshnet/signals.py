"""The termination signals a run turns into a clean stop (no output file, no namespace left).

A signal that is ignored when the run starts stays ignored: ``nohup`` ignores SIGHUP so a run
outlives the terminal, and a shell without job control starts a background command with SIGINT
and SIGQUIT ignored. Taking those over would undo what the user asked for.
"""

from __future__ import annotations

import signal
from typing import Any, Callable, Iterable


def install(signums: Iterable[int], handler: Callable[[int, Any], Any]) -> dict[int, Any]:
    """Set ``handler`` for each signal in ``signums`` that is not ignored now; return the
    handlers it replaced (to restore them). Raises ValueError outside the main thread."""
    old: dict[int, Any] = {}
    for signum in signums:
        if signal.getsignal(signum) is signal.SIG_IGN:
            continue
        old[signum] = signal.signal(signum, handler)
    return old


__all__ = ["install"]
