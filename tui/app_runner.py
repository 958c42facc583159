"""Run the terminal UI so that it always ends, and says how.

- Without a terminal to draw on the app runs headless. Textual draws on stderr; drawing into a
  pipe nobody reads would block its writer, and with it the app and every way to stop it.
- SIGTERM, SIGHUP and SIGINT (those not ignored at start, as ``nohup`` ignores SIGHUP) ask the
  app to quit; its engine closes the view (a netns run tears
  down its namespaces). If the command has not ended :data:`GRACE_S` later (a terminal nobody
  reads can still block it), or at a second signal, the engine is stopped from here and the
  process exits at once.
- The exit status is the app's: 0 after `q`, 1 when it stopped on an error (Textual prints the
  traceback), 130 after a signal (as the rest of the CLI reports an interrupt).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
from typing import Any, Iterator

from meshnet.signals import install as install_signals

GRACE_S = 3.0
EXIT_OK, EXIT_FAIL, EXIT_INTERRUPTED = 0, 1, 130
SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


def run_app(app: Any) -> int:
    """Run ``app`` (a MeshApp) to its end and return the command's exit status."""
    headless = not _draws_on_a_terminal()
    if headless:
        print("meshnet: no terminal to draw on (stderr is not one): the TUI runs headless "
              "until SIGTERM or Ctrl-C", file=sys.stderr, flush=True)
    stopper = _Stopper(app)
    with stopper.installed():
        try:
            app.run(headless=headless)
        finally:
            _stop_engine(app)
        if stopper.signalled:
            print("meshnet: interrupted", file=sys.stderr, flush=True)
            status = EXIT_INTERRUPTED
        elif app.return_code:
            print("meshnet: error: the terminal UI stopped on an error (traceback above)",
                  file=sys.stderr, flush=True)
            status = EXIT_FAIL
        else:
            status = EXIT_OK
        stopper.done.set()  # only now: the messages above can block on a full stderr too
    return status


def _draws_on_a_terminal() -> bool:
    """Textual's Linux driver draws on stderr and reads keys from stdin."""
    stream = sys.__stderr__
    return stream is not None and stream.isatty()


def _stop_engine(app: Any) -> None:
    """The engine thread closes its view on the way out (idempotent)."""
    engine = getattr(app, "engine", None)
    if engine is not None:
        engine.stop()


class _Stopper:
    """Turns a signal into a request to quit, with a deadline."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.signalled = 0
        self.done = threading.Event()

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        old: dict[int, Any] = {}
        try:
            old = install_signals(SIGNALS, self._handle)
        except ValueError:  # not the main thread (tests): signals stay as they are
            pass
        try:
            yield
        finally:
            for sig, handler in old.items():
                signal.signal(sig, handler)

    def _handle(self, signum: int, frame: Any) -> None:
        if self.signalled:  # asked twice: do not wait any longer
            self._force()
        self.signalled = signum
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # the app's loop is not running (yet, or any more)
            raise KeyboardInterrupt from None
        loop.call_soon_threadsafe(self.app.exit, None, EXIT_INTERRUPTED)
        threading.Thread(target=self._deadline, name="meshnet-tui-deadline",
                         daemon=True).start()

    def _deadline(self) -> None:
        if not self.done.wait(GRACE_S):
            self._force()

    def _force(self) -> None:
        """The app did not end: close the engine and its view from here, then exit."""
        try:
            _stop_engine(self.app)
            view = getattr(getattr(self.app, "engine", None), "view", None)
            if view is not None:  # closed already unless the engine thread is stuck too
                view.close()
        finally:
            try:
                os.set_blocking(2, False)  # a full stderr must not hold the exit up
                os.write(2, b"\nmeshnet: interrupted\n")
            except OSError:
                pass
            finally:
                os._exit(EXIT_INTERRUPTED)
