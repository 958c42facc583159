"""CLI subcommands of the netns backend: emulate, nodes, exec, shell, clean.

``register_cli(subparsers)`` adds them to meshnet's argparse CLI; each sets ``func`` to a handler
that returns the exit status (0 ok, 1 failure at run time, 2 bad input: one line, no traceback).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
from typing import Any

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def _fail(message: str, status: int = EXIT_USAGE) -> int:
    print(f"meshnet: error: {message}", file=sys.stderr)
    return status


def _preflight(need_root: bool = True) -> str | None:
    from .api import REQUIRED_TOOLS, missing_tool

    if need_root and os.geteuid() != 0:
        return "the netns backend needs root: run it with sudo"
    if not os.path.exists("/dev/net/tun"):
        return "/dev/net/tun is missing (load the tun module: modprobe tun)"
    for tool, package in REQUIRED_TOOLS.items():
        if (msg := missing_tool(tool, package)):
            return msg
    return None


def _status_line(emu: Any, t: float, out: Any = None) -> None:
    c = emu.counters()
    m = emu.metrics
    print(f"t={t:6.1f}s  frames in {c.get('frames_in', 0):>8}  out {c.get('frames_out', 0):>8}"
          f"  link failures {c.get('link_failure', 0):>5}  control {c.get('control_sent', 0):>6}"
          f"  data sent {m.sent:>6}  delivered {len(m.delivered):>6}", file=out or sys.stdout,
          flush=True)


def _clean_json(value: Any) -> Any:
    """JSON has no inf/nan: report them as null (as ``meshnet run --json`` does)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean_json(v) for v in value]
    return value


def _bad_emulate_args(args: argparse.Namespace) -> str | None:
    """Checked before anything starts: a NaN duration would stop at once (every comparison with
    it is false) and report success, an infinite one is what 0 already means."""
    d = args.duration
    if d is not None and not (math.isfinite(d) and d >= 0):
        return f"--duration {d}: must be a finite number of seconds >= 0 (0 = until Ctrl-C)"
    if not (math.isfinite(args.interval) and args.interval > 0):
        return f"--interval {args.interval}: must be a finite number of seconds > 0"
    return None


def cmd_emulate(args: argparse.Namespace) -> int:
    if (msg := _bad_emulate_args(args)) or (msg := _preflight()):
        return _fail(msg)
    from meshnet.scenario import ScenarioError

    from .api import emulate
    from .registry import validate_run_name

    # with --json, stdout carries only the result object; progress goes to stderr
    out = sys.stderr if args.json else sys.stdout
    try:
        validate_run_name(args.name)
        first = {"shown": False}

        def status(emu: Any, t: float) -> None:
            if not first["shown"]:
                first["shown"] = True
                if not (args.json and args.quiet):
                    _print_table(emu.nodes(), f"run {args.name!r}: {emu.plan.n} nodes up in "
                                 f"{emu.up_seconds:.2f} s (protocol {emu.plan.protocol_name});"
                                 " Ctrl-C stops", out)
            elif not args.quiet:
                _status_line(emu, t, out)

        summary = emulate(args.scenario, duration=args.duration, name=args.name,
                          overrides=args.set, status_callback=status,
                          status_interval=args.interval)
    except (ScenarioError, ValueError, KeyError) as exc:
        return _fail(str(exc.args[0] if exc.args else exc))
    except RuntimeError as exc:
        return _fail(str(exc), EXIT_FAIL)
    if args.json:
        print(json.dumps(_clean_json(summary)))
    else:
        _print_summary(summary)
        print(f"stopped after {summary['ran_s']} s; removed everything in "
              f"{summary['down_s']:.3f} s")
    return EXIT_OK


def _print_summary(summary: dict[str, Any]) -> None:
    """The table ``meshnet run`` prints; a plain line if the report module is unavailable."""
    try:
        from meshnet.report import print_summary

        print_summary(summary)
    except Exception:
        print(f"pdr {summary.get('pdr', 0):.3f} ({summary.get('delivered')}/"
              f"{summary.get('sent')}), mean delay {summary.get('mean_delay_s', 0) * 1000:.1f}"
              f" ms, mean hops {summary.get('mean_hops', 0):.2f}")


def _print_table(rows: list[dict], title: str, out: Any = None) -> None:
    out = out or sys.stdout
    print(title, file=out)
    print(f"{'node':<8}{'address':<16}{'namespace':<24}{'state':<10}{'position':>18}", file=out)
    for r in rows:
        pos = r.get("position")
        where = f"({pos[0]:.0f}, {pos[1]:.0f})" if pos else "-"
        print(f"{r['name']:<8}{r['address']:<16}{r['namespace']:<24}{r.get('state', 'up'):<10}"
              f"{where:>18}", file=out)
    out.flush()


def _nodes_title(rows: list[dict]) -> str:
    if not rows:
        return "no nodes yet: the emulation is starting"
    up = sum(r["state"] == "up" for r in rows)
    starting = f" (starting: {up} of {len(rows)} nodes up)" if up < len(rows) else ""
    return f"run {rows[0]['run']!r}{starting}"


def cmd_nodes(args: argparse.Namespace) -> int:
    from .api import NetnsUsageError, list_nodes

    try:
        rows = list_nodes(args.run)
    except NetnsUsageError as exc:
        return _fail(str(exc))
    if args.json:
        print(json.dumps(rows))
    else:
        _print_table(rows, _nodes_title(rows))
    return EXIT_OK


def _exec_command(args: argparse.Namespace) -> tuple[str | None, list[str]]:
    """``(run, command)``. The command takes everything after the node (argparse's REMAINDER),
    so ``--run NAME`` written after the node arrives in it: options before ``--`` (or before the
    first word that is not one) are read here."""
    from .api import NetnsUsageError

    run, argv = args.run, list(args.command)
    while argv:
        word = argv[0]
        if word == "--":
            argv = argv[1:]
            break
        if word == "--run":
            if len(argv) < 2:
                raise NetnsUsageError("--run needs a run name: meshnet exec NODE --run NAME -- "
                                      "COMMAND ...")
            run, argv = argv[1], argv[2:]
        elif word.startswith("--run="):
            run, argv = word.split("=", 1)[1], argv[1:]
        else:
            break
    return run, argv


def cmd_exec(args: argparse.Namespace) -> int:
    if (msg := _preflight()):
        return _fail(msg)
    from .api import NetnsUsageError, exec_in

    try:
        run, argv = _exec_command(args)
        return exec_in(args.node, argv, run)
    except NetnsUsageError as exc:
        return _fail(str(exc))


def cmd_shell(args: argparse.Namespace) -> int:
    if (msg := _preflight()):
        return _fail(msg)
    from .api import NetnsUsageError, exec_in

    shell = os.environ.get("SHELL") or shutil.which("bash") or "/bin/sh"
    try:
        return exec_in(args.node, [shell], args.run)
    except NetnsUsageError as exc:
        return _fail(str(exc))


def cmd_clean(args: argparse.Namespace) -> int:
    if os.geteuid() != 0:
        return _fail("meshnet clean needs root: run it with sudo")
    from .api import clean

    removed = clean()
    if args.json:
        print(json.dumps({"removed": removed}))
    elif removed:
        print("\n".join(f"removed {r}" for r in removed))
    else:
        print("nothing to clean")
    return EXIT_OK


def register_cli(subparsers: Any) -> None:
    """Add emulate, nodes, exec, shell and clean to an argparse subparsers object."""
    p = subparsers.add_parser("emulate", help="run a scenario on Linux network namespaces (root)")
    p.add_argument("scenario", nargs="?", default="default", help="built-in name or TOML file")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario field, e.g. --set nodes.count=5")
    p.add_argument("--duration", type=float, default=None,
                   help="seconds to run (default: the scenario's; 0 = until Ctrl-C)")
    p.add_argument("--name", default="mn", help="run name (namespaces are mn-NAME-NODE)")
    p.add_argument("--interval", type=float, default=1.0, help="status line interval (s)")
    p.add_argument("--quiet", action="store_true", help="no periodic status lines")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object at the end: the metrics of `meshnet run --json`")
    p.set_defaults(func=cmd_emulate)

    p = subparsers.add_parser("nodes", help="list the nodes of a running emulation")
    p.add_argument("--run", default=None, help="run name (when several are running)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_nodes)

    p = subparsers.add_parser("exec", help="run a command inside a node: exec NODE -- CMD ...")
    p.add_argument("node", help="node name (n1), address or namespace")
    p.add_argument("command", nargs=argparse.REMAINDER)
    p.add_argument("--run", default=None, help="run name (when several are running)")
    p.set_defaults(func=cmd_exec)

    p = subparsers.add_parser("shell", help="open a shell inside a node")
    p.add_argument("node")
    p.add_argument("--run", default=None)
    p.set_defaults(func=cmd_shell)

    p = subparsers.add_parser("clean", help="remove leftovers of crashed emulations")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_clean)


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m meshnet.netns.commands``) until the main CLI wires it."""
    parser = argparse.ArgumentParser(prog="meshnet")
    register_cli(parser.add_subparsers(dest="command_name", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
