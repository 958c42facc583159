"""Shared helpers for the netns tests: skip reasons and host-state snapshots."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def netns_skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    if not os.path.exists("/dev/net/tun"):
        return "no /dev/net/tun"
    try:
        from meshnet.netns import linux  # noqa: F401
    except OSError as exc:
        return f"namespaces unavailable: {exc}"
    if shutil.which("ip") is None:
        return "iproute2 not installed (apt install iproute2)"
    return None


def require_tool(name: str, package: str) -> None:
    if shutil.which(name) is None:
        pytest.skip(f"{name} not installed (apt install {package})")


def host_state() -> tuple[str, str]:
    link = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    route = subprocess.run(["ip", "route"], capture_output=True, text=True).stdout
    # counters and timers vary; names, flags and addresses must not
    link = "\n".join(line.split(" link/")[0] for line in link.splitlines())
    return link, route


def mn_namespaces() -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith("mn-")]
