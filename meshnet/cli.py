"""The `meshnet` command line.

Exit status: 0 success, 2 bad input (one line on stderr, never a traceback), 1 failure at run time.
Output files appear only when the run succeeded, all of them or none, written as a plain open()
would write them (see meshnet/outputs.py), so an error, Ctrl-C or a signal never leaves a
half-written result.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
from typing import Any

from .outputs import Output, OutputError, run_outputs
from .scenario import ScenarioError, load_scenario

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, as for every other bad input
        raise UsageError(f"{self.prog}: {message}")


def _clean_json(value: Any) -> Any:
    """JSON has no inf/nan: report them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_json(v) for v in value]
    return value


# --- run ---------------------------------------------------------------------------------------
def _scenario_from_args(args) -> Any:
    overrides = list(args.set or [])
    protocol = getattr(args, "protocol", None)
    if protocol is not None:
        for text in overrides:
            key, _, value = text.partition("=")
            if key.strip() == "protocol.name" and value.strip().strip("'\"") != protocol:
                raise UsageError(f"-p {protocol} and --set {text} name different protocols: "
                                 f"give one of them")
    if getattr(args, "seed", None) is not None:
        overrides.append(f"scenario.seed={args.seed}")
    if getattr(args, "duration", None) is not None:
        overrides.append(f"scenario.duration={args.duration!r}")
    return load_scenario(args.scenario, overrides, protocol=protocol)


def _inputs(sc: Any) -> list[str]:
    """Files a run reads, which no output may overwrite."""
    paths = [] if sc.source.startswith("<") else [sc.source]
    if sc.nodes.file:
        paths.append(str(sc.resolve_path(sc.nodes.file)))
    trace = sc.mobility.extra.get("trace")
    if isinstance(trace, str) and trace:
        paths.append(str(sc.resolve_path(trace)))
    paths += [str(sc.resolve_path(t.file)) for t in sc.traffic if t.file]
    return paths


def print_results(text: str) -> None:
    """Print the results; a stdout that cannot take them (``> /dev/full``) is one line, exit 2,
    and a reader that left (``| head``) is no error. Stdout is then pointed at /dev/null, so the
    interpreter's last flush finds nothing to complain about."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError as exc:
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        if isinstance(exc, BrokenPipeError):  # the reader left (`| head`): not an error
            return
        raise UsageError(f"cannot write the results to stdout: {exc.strerror or exc}") from None


def _summary_text(result: dict[str, Any]) -> str:
    """The summary tables as the terminal would show them, as text (printed in one write)."""
    import io

    from rich.console import Console

    from .report import print_summary

    screen = Console()
    buffer = io.StringIO()
    print_summary(result, Console(file=buffer, force_terminal=screen.is_terminal,
                                  color_system=screen.color_system, width=screen.width))
    return buffer.getvalue()


def cmd_run(args) -> int:
    from .events import TraceWriter
    from .sim import Simulation

    sc = _scenario_from_args(args)
    if sc.scenario.backend != "sim":
        raise UsageError(f"{sc.source}: scenario.backend = {sc.scenario.backend!r}: "
                         f"`meshnet run` runs the simulator; use `meshnet emulate` for netns")
    outputs = [Output("--trace", args.trace), Output("--pcap", args.pcap, binary=True)]
    with run_outputs(outputs, _inputs(sc)) as (trace_file, pcap_file):
        sim = Simulation(sc)
        if trace_file is not None:
            sim.bus.subscribe(TraceWriter(trace_file))
        if pcap_file is not None:
            from .pcap import PcapRecorder
            recorder = PcapRecorder(sim, pcap_file)
        show_progress = not args.json and sys.stderr.isatty() and not args.quiet
        if show_progress:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
            with Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                          TextColumn("{task.completed:.0f}/{task.total:.0f} s simulated"),
                          TimeElapsedColumn(), transient=True) as bar:
                task = bar.add_task(f"{sc.name} · {sc.protocol.name}", total=sc.duration)
                result = sim.run(progress=lambda t: bar.update(task, completed=t))
        else:
            result = sim.run()
        if pcap_file is not None:
            recorder.close()
        if args.json:
            print_results(json.dumps(_clean_json(result)) + "\n")
        else:
            print_results(_summary_text(result))
    return EXIT_OK


def cmd_protocols(args) -> int:
    from .registry import describe_protocols

    records = describe_protocols()
    if args.json:
        print(json.dumps(_clean_json(records)))
        return EXIT_OK
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Routing protocols (entry-point group meshnet.protocols)")
    for col in ("name", "kind", "port", "description", "parameters"):
        table.add_column(col)
    for r in records:
        if "error" in r:
            table.add_row(r["name"], "[red]broken", "", r["error"], "")
            continue
        params = ", ".join(f"{k}={v}" for k, v in r["params"].items())
        table.add_row(r["name"], r["kind"], str(r["port"] or ""), r["description"], params)
    Console().print(table)
    return EXIT_OK


def cmd_radios(args) -> int:
    from .radio import radios_table

    records = radios_table()
    if args.json:
        print(json.dumps(_clean_json(records)))
        return EXIT_OK
    from rich.console import Console

    console = Console()
    for table in _radio_tables(records):
        console.print(table)
    return EXIT_OK


def _radio_tables(records: list[dict]) -> list[Any]:
    """Two tables that fit 80 columns: the profiles' PHY and MAC, then the derived ranges per
    propagation preset. Names and numbers never wrap or get cut; only the list of power levels
    folds onto more lines when the terminal is narrow."""
    from rich.table import Table

    def table(title: str, columns: list[str], folding: str = "") -> Table:
        t = Table(title=title, title_justify="left")
        t.add_column("name", no_wrap=True)
        for col in columns:
            t.add_column(col, justify="left" if col in ("MAC", folding) else "right",
                         no_wrap=col != folding, min_width=12 if col == folding else None)
        return t

    levels = "power levels"
    phy = table("Radio profiles (powers and sensitivity in dBm, frames in bytes)",
                ["MHz", "kb/s", "tx", levels, "sens.", "frame", "MAC"], folding=levels)
    for r in records:
        phy.add_row(r["name"], f"{r['frequency_mhz']:g}", f"{r['bitrate_bps'] / 1000:g}",
                    f"{r['tx_power_dbm']:g}", " ".join(f"{p:g}" for p in r["power_levels_dbm"]),
                    f"{r['sensitivity_dbm']:g}", str(r["max_frame_bytes"]), r.get("mac", ""))
    presets = list(records[0]["range_m"]) if records else []
    ranges = table("Derived median range (m) at the default tx power, by propagation preset",
                   presets)
    for r in records:
        ranges.add_row(r["name"], *[f"{r['range_m'][p]:.0f}" for p in presets])
    return [phy, ranges]


def cmd_scenarios(args) -> int:
    from .scenario import builtin_names

    names = builtin_names()
    if args.json:
        print(json.dumps(names))
    else:
        for name in names:
            sc = load_scenario(name)
            print(f"{name:12s} {sc.scenario.description}")
    return EXIT_OK


# Subcommands defined in other modules: each module's ``register_cli(subparsers)`` adds the
# subcommands listed with it (a test checks that the lists agree). These modules import little at
# load time and leave the rest to their handlers, so registering them keeps startup fast.
COMMAND_MODULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("meshnet.netns.commands", ("emulate", "nodes", "exec", "shell", "clean")),
    ("meshnet.tui.commands", ("tui",)),
    ("meshnet.bench.commands", ("bench",)),
    ("meshnet.wireshark.commands", ("wireshark-plugins",)),
)


def _register(sub: Any, module: str, commands: tuple[str, ...]) -> None:
    """Let ``module`` add its subcommands. If it cannot be imported, they are still listed, and
    using one says why it is unavailable (one line, exit status 1) instead of the subcommand
    vanishing or the failure breaking the rest of the CLI."""
    import importlib

    try:
        register = importlib.import_module(module).register_cli
    except Exception as exc:  # any import failure (also a bug in the module): name it
        reason = str(exc) if isinstance(exc, ImportError) else f"{type(exc).__name__}: {exc}"
        for name in commands:
            sp = sub.add_parser(name, help=f"unavailable: {reason}", add_help=False)
            sp.set_defaults(func=_unavailable(name, reason), accepts_any_arguments=True)
        return
    register(sub)


def _unavailable(name: str, reason: str) -> Any:
    def run(args: argparse.Namespace) -> int:
        print(f"meshnet: error: {name} is unavailable: {reason}", file=sys.stderr)
        return EXIT_FAIL
    return run


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    p = _Parser(prog="meshnet", description="Mobile ad-hoc mesh routing emulator.")
    p.add_argument("--version", action="version", version=f"meshnet {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    run = sub.add_parser("run", help="run one scenario on the simulator")
    run.add_argument("scenario", nargs="?", default="default",
                     help="a built-in name (default, broch, line, ...) or a TOML file")
    run.add_argument("--set", action="append", metavar="SECTION.KEY=VALUE",
                     help="override a scenario field (repeatable)")
    run.add_argument("-p", "--protocol", help="routing protocol (see `meshnet protocols`)")
    run.add_argument("--seed", type=int, help="random seed")
    run.add_argument("--duration", type=float, help="simulated seconds")
    run.add_argument("--json", action="store_true", help="print one JSON object with the results")
    run.add_argument("--trace", metavar="FILE.jsonl", help="write every event as JSON lines")
    run.add_argument("--pcap", metavar="FILE.pcap", help="write every transmission as a pcap")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=cmd_run)

    for name, func, text in (("protocols", cmd_protocols, "list routing protocol plug-ins"),
                             ("radios", cmd_radios, "list radio profiles and derived ranges"),
                             ("scenarios", cmd_scenarios, "list built-in scenarios")):
        sp = sub.add_parser(name, help=text)
        sp.add_argument("--json", action="store_true")
        sp.set_defaults(func=func)

    for module, commands in COMMAND_MODULES:
        _register(sub, module, commands)
    return p


def _terminate(signum, frame) -> None:
    """SIGTERM, SIGHUP and SIGQUIT end a run like Ctrl-C does: no output file appears and no
    temporary file stays behind. One ignored when the run starts stays ignored (``nohup``)."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    import signal

    from .scheduler import SchedulerStalled
    from .signals import install

    with contextlib.suppress(ValueError):  # not in the main thread (e.g. called from a test)
        install((signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT), _terminate)
    try:
        parser = build_parser()
        args, extra = parser.parse_known_args(argv)
        if extra and not getattr(args, "accepts_any_arguments", False):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        if not getattr(args, "func", None):
            parser.print_help()
            return EXIT_USAGE
        return args.func(args)
    except (UsageError, ScenarioError, OutputError) as e:
        print(f"meshnet: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except SchedulerStalled as e:
        print(f"meshnet: error: {e}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        print("meshnet: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
