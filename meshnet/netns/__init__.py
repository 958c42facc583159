"""netns backend: one Linux network namespace per node, a user-space radio channel between
their TAPs, and the protocol agents of every node in one asyncio runtime. See docs/netns.md."""

from __future__ import annotations

from typing import Any

__all__ = ["Emulation", "Plan", "emulate", "list_nodes", "exec_in", "clean", "register_cli"]


def __getattr__(name: str) -> Any:  # imported lazily: the CLI loads this package for --help
    if name in ("Emulation",):
        from .emulation import Emulation
        return Emulation
    if name == "Plan":
        from .plan import Plan
        return Plan
    if name in ("emulate", "list_nodes", "exec_in", "clean"):
        from . import api
        return getattr(api, name)
    if name == "register_cli":
        from .commands import register_cli
        return register_cli
    raise AttributeError(name)
