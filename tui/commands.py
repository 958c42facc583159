"""`meshnet tui`: registered by meshnet/cli.py through ``register_cli(subparsers)``."""

from __future__ import annotations

import argparse
import math
import sys

from ..scenario import BACKENDS


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("tui", help="watch routes change as nodes move (terminal UI)")
    p.add_argument("scenario", nargs="?",
                   help="a built-in name (default, broch, line, ...) or a TOML file "
                        "(default: default)")
    p.add_argument("-p", "--protocol", help="routing protocol (see `meshnet protocols`)")
    p.add_argument("--backend", choices=BACKENDS, help="sim (default) or netns (needs root)")
    p.add_argument("--set", action="append", metavar="SECTION.KEY=VALUE",
                   help="override a scenario field (repeatable)")
    p.add_argument("--seed", type=int, help="random seed")
    p.add_argument("--speed", type=float, default=1.0,
                   help="simulated seconds per real second at start (default 1)")
    p.add_argument("--paused", action="store_true", help="start paused")
    p.add_argument("--start", type=float, default=0.0, metavar="T",
                   help="open at simulated time T (a live run gets there first, quickly)")
    p.add_argument("--replay", metavar="TRACE.jsonl",
                   help="play a trace written by `meshnet run --trace` (seek, step back)")
    p.set_defaults(func=cmd_tui)


def cmd_tui(args: argparse.Namespace) -> int:
    """Validate everything before the screen opens, so bad input is one line and status 2."""
    from ..scenario import ScenarioError, load_scenario
    from .launch import netns_factory, protocol_cycle, scenario_overrides, sim_factory

    if not args.speed > 0 or not math.isfinite(args.speed):
        raise ScenarioError(f"--speed {args.speed}: expected a number > 0")
    if not 0 <= args.start < math.inf:
        raise ScenarioError(f"--start {args.start}: expected a time >= 0 in seconds")
    if args.replay is not None:
        return _replay(args)
    scenario = args.scenario or "default"
    sc = load_scenario(scenario, scenario_overrides(args.set, args.seed), protocol=args.protocol)
    backend = args.backend or sc.scenario.backend
    if args.start > sc.scenario.duration:
        raise ScenarioError(f"--start {args.start:g}: the scenario ends at "
                            f"{sc.scenario.duration:g} s")
    if args.start and backend == "netns":
        raise ScenarioError("--start: the netns backend runs in real time")
    make = netns_factory if backend == "netns" else sim_factory
    factory = make(scenario, args.set, args.protocol, args.seed)

    from .app import MeshApp
    from .app_runner import run_app

    app = MeshApp(factory, protocols=protocol_cycle(), paused=args.paused, speed=args.speed,
                  start_at=args.start)
    return run_app(app)


def _replay(args: argparse.Namespace) -> int:
    from ..scenario import ScenarioError
    from .launch import replay_factory

    given = [name for name, value in (("a scenario", args.scenario), ("--protocol", args.protocol),
                                      ("--backend", args.backend), ("--set", args.set),
                                      ("--seed", args.seed)) if value is not None]
    if given:
        raise ScenarioError(f"--replay plays a recorded run: {given[0]} does not apply")
    factory, warning = replay_factory(args.replay)
    view = factory(None)
    if args.start > view.duration:
        raise ScenarioError(f"--start {args.start:g}: the trace ends at {view.duration:g} s")
    if warning:
        print(f"meshnet: warning: {warning}", file=sys.stderr)

    from .app import MeshApp
    from .app_runner import run_app

    app = MeshApp(factory, paused=args.paused, speed=args.speed, start_at=args.start,
                  warning=warning)
    return run_app(app)
