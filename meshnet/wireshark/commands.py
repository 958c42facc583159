"""`meshnet wireshark-plugins`: where meshnet's Wireshark dissectors go, and installing them.
Registered by meshnet/cli.py through ``register_cli(subparsers)``.

    meshnet wireshark-plugins             list them and say where Wireshark looks for them
    meshnet wireshark-plugins --install   copy them into the personal Lua plug-in folder
    meshnet wireshark-plugins --path      print the folder they are shipped in

Exit status: 0 success, 2 bad input (one line), 1 the copy failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "wireshark-plugins", help="Wireshark/tshark dissectors for meshnet's wire formats",
        description="List meshnet's Lua dissectors and the folder Wireshark loads personal Lua "
                    "plug-ins from (asked of `tshark -G folders`); --install copies them there.")
    action = p.add_mutually_exclusive_group()
    action.add_argument("--install", action="store_true",
                        help="copy the plug-ins into the personal Lua plug-in folder")
    action.add_argument("--path", action="store_true",
                        help="print only the folder the plug-ins are shipped in "
                             "(for tshark -X lua_script:FOLDER/meshnet_dsdv.lua)")
    p.add_argument("--dir", metavar="FOLDER", type=Path,
                   help="use this plug-in folder instead of Wireshark's personal one")
    p.set_defaults(func=cmd_wireshark_plugins)


def _fail(message: str, status: int) -> int:
    print(f"meshnet: error: {message}", file=sys.stderr)
    return status


def _without_dissector() -> list[str]:
    """Registered protocols that send control messages on a port of their own but have no
    dissector, as "name (UDP port)"."""
    from ..registry import describe_protocols
    from . import dissector_for

    return [f"{r['name']} (UDP {r['port']})" for r in describe_protocols()
            if r.get("port") and dissector_for(r["name"]) is None]


def cmd_wireshark_plugins(args: argparse.Namespace) -> int:
    from . import DISSECTORS, FOLDER, tshark_args
    from .install import PluginFolder, install, personal_folder

    if args.path:
        print(FOLDER)
        return EXIT_OK
    if args.dir is not None:
        if args.dir.exists() and not args.dir.is_dir():
            return _fail(f"--dir {args.dir}: not a directory", EXIT_USAGE)
        target = PluginFolder(args.dir, "--dir")
    else:
        target = personal_folder()
    if args.install:
        try:
            written = install(target.path)
        except OSError as e:
            return _fail(f"cannot install into {target.path}: {e.strerror or e}", EXIT_FAIL)
        for path in written:
            print(f"installed {path}")
        print("Restart Wireshark (or reload Lua plug-ins: Analyze > Reload Lua Plugins) to use "
              "them.")
        return EXIT_OK
    print(f"meshnet's Wireshark dissectors (Lua), shipped in {FOLDER}:")
    width = max(len(d.script) for d in DISSECTORS)
    for d in DISSECTORS:
        print(f"  {d.script:<{width}}  {d.filter:<14} {', '.join(d.protocols)}: {d.carries}")
    missing = _without_dissector()
    if missing:
        print("No dissector yet for: " + ", ".join(missing) + " (docs/wireshark.md says how to "
              "add one)")
    print(f"Personal Lua plug-in folder, from {target.source}:")
    print(f"  {target.path}")
    installed = all((target.path / d.script).is_file() for d in DISSECTORS)
    if installed:
        print("They are installed there; `meshnet wireshark-plugins --install` updates them.")
    else:
        print("Install them there with:  meshnet wireshark-plugins --install")
    print("Or load them into one tshark run without installing:")
    print("  tshark " + " ".join(tshark_args()) + " -r run.pcap")
    return EXIT_OK
