"""Where Wireshark looks for personal Lua plug-ins, and copying meshnet's there.

The folder is asked of Wireshark itself (``tshark -G folders``, line "Personal Lua Plugins"), so
it is right for the installed version and platform. Without tshark, Wireshark's documented default
is used: ``%APPDATA%\\Wireshark\\plugins`` on Windows, ``~/.local/lib/wireshark/plugins`` elsewhere.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from . import scripts

FOLDERS_LABEL = "Personal Lua Plugins:"


@dataclass(frozen=True)
class PluginFolder:
    path: Path
    source: str  # how it was found, said to the user


def parse_folders(text: str) -> Path | None:
    """The personal Lua plug-in folder in the output of ``tshark -G folders``."""
    for line in text.splitlines():
        if line.startswith(FOLDERS_LABEL):
            value = line[len(FOLDERS_LABEL):].strip()
            return Path(value) if value else None
    return None


def default_folder() -> Path:
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "Wireshark" / "plugins"
    return Path.home() / ".local" / "lib" / "wireshark" / "plugins"


def personal_folder(tshark: str = "tshark") -> PluginFolder:
    exe = shutil.which(tshark)
    if exe is not None:
        try:
            done = subprocess.run([exe, "-G", "folders"], capture_output=True, text=True,
                                  timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired):
            done = None
        path = parse_folders(done.stdout) if done is not None else None
        if path is not None:
            return PluginFolder(path, "`tshark -G folders`")
    return PluginFolder(default_folder(),
                        "Wireshark's default (tshark was not found to ask)")


def install(folder: Path) -> list[Path]:
    """Copy every plug-in file into ``folder`` (created if missing), replacing older copies of
    the same name. Returns the files written. Raises OSError."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for source in scripts():
        target = folder / source.name
        shutil.copyfile(source, target)
        written.append(target)
    return written
