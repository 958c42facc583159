"""`meshnet tui`: registered by meshnet/cli.py through ``register_cli(subparsers)``."""

from __future__ import annotations

import argparse

from ..scenario import BACKENDS


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("tui", help="watch routes change as nodes move (terminal UI)")
    p.add_argument("scenario", nargs="?", default="default",
                   help="a built-in name (default, broch, line, ...) or a TOML file")
    p.add_argument("-p", "--protocol", help="routing protocol (see `meshnet protocols`)")
    p.add_argument("--backend", choices=BACKENDS, help="sim (default) or netns (needs root)")
    p.add_argument("--set", action="append", metavar="SECTION.KEY=VALUE",
                   help="override a scenario field (repeatable)")
    p.add_argument("--seed", type=int, help="random seed")
    p.add_argument("--speed", type=float, default=1.0,
                   help="simulated seconds per real second at start (default 1)")
    p.add_argument("--paused", action="store_true", help="start paused")
    p.set_defaults(func=cmd_tui)


def cmd_tui(args: argparse.Namespace) -> int:
    """Validate everything before the screen opens, so bad input is one line and status 2."""
    from ..scenario import ScenarioError, load_scenario
    from .launch import netns_factory, protocol_cycle, scenario_overrides, sim_factory

    if not args.speed > 0:
        raise ScenarioError(f"--speed {args.speed}: expected a number > 0")
    backend = args.backend
    if backend is None:
        sc = load_scenario(args.scenario, scenario_overrides(args.set, args.seed),
                           protocol=args.protocol)
        backend = sc.scenario.backend
    make = netns_factory if backend == "netns" else sim_factory
    factory = make(args.scenario, args.set, args.protocol, args.seed)

    from .app import MeshApp

    MeshApp(factory, protocols=protocol_cycle(), paused=args.paused, speed=args.speed).run()
    return 0
