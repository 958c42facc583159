"""`meshnet bench`: protocol comparison campaigns, registered by meshnet/cli.py through
``register_cli(subparsers)``.

    meshnet bench SUITE [--protocols ...] [--sweep KEY=V1,V2 ...] [--seeds N] [--out DIR] ...
    meshnet bench list
    meshnet bench export DIR [-o FILE]
    meshnet bench compare A B

Exit status: 0 success, 2 bad input (one line, checked before anything runs), 1 a run failed.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
ACTIONS = ("list", "export", "compare")


def register_cli(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "bench", help="compare protocols over sweeps and seeds (campaigns)",
        description="Run a benchmark suite: every protocol at every sweep point with every seed, "
                    "in parallel; or `bench list`, `bench export DIR`, `bench compare A B`.")
    p.add_argument("target", metavar="SUITE",
                   help="a built-in suite (see `meshnet bench list`) or a suite TOML file; "
                        "or list | export DIR | compare A B")
    p.add_argument("paths", nargs="*", metavar="DIR", help=argparse.SUPPRESS)
    p.add_argument("--protocols", metavar="P1,P2",
                   help="protocols to compare: suite labels, plug-in names, or "
                        "name:key=value:... (replaces the suite's list)")
    p.add_argument("--sweep", action="append", metavar="KEY=V1,V2,...",
                   help="a sweep axis (repeatable; replaces the suite's sweep)")
    p.add_argument("--seeds", metavar="N|S1,S2", help="N seeds (1..N) or a list of seeds")
    p.add_argument("--duration", type=float, help="simulated seconds of every run")
    p.add_argument("--set", action="append", metavar="SECTION.KEY=VALUE",
                   help="override a field of the base scenario (repeatable)")
    p.add_argument("--workers", type=int, help="parallel runs (default: one per core)")
    p.add_argument("--dask", metavar="tcp://HOST:8786|local",
                   help="run on a Dask distributed cluster (local: start a LocalCluster)")
    p.add_argument("--out", metavar="DIR",
                   help="campaign folder: runs.sqlite, summary.csv, plots/ (resumable)")
    p.add_argument("--no-plots", action="store_true", help="do not draw plots")
    p.add_argument("-o", "--output", metavar="FILE", help="export: the CSV file to write")
    p.add_argument("--all", action="store_true",
                   help="export: also runs of earlier campaigns kept in the folder")
    p.add_argument("--metrics", metavar="M1,M2", help="compare: the metrics to show")
    p.add_argument("--json", action="store_true", help="print one JSON object, no progress")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_bench)


def _fail(message: str, status: int = EXIT_USAGE) -> int:
    print(f"meshnet: error: {message}", file=sys.stderr)
    return status


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def cmd_bench(args: argparse.Namespace) -> int:
    from .suite import SuiteError

    if args.workers is not None and args.workers < 1:
        return _fail(f"bench: --workers {args.workers}: need at least 1")
    want = {"list": 0, "export": 1, "compare": 2}.get(args.target, 0)
    if len(args.paths) != want:
        usage = {"list": "bench list", "export": "bench export DIR [-o FILE]",
                 "compare": "bench compare A B"}.get(args.target, "bench SUITE [options]")
        return _fail(f"bench: usage: meshnet {usage}")
    try:
        if args.target == "list":
            return _list(args)
        if args.target == "export":
            return _export(args)
        if args.target == "compare":
            return _compare(args)
        return _run(args)
    except SuiteError as e:
        return _fail(str(e))


# --- running a suite -------------------------------------------------------------------------
def _run(args: argparse.Namespace) -> int:
    from .runner import DaskExecutor, ExecutorError, LocalPool, default_workers, run_campaign
    from .store import Store, write_summary
    from .suite import SuiteSkipped, load_suite, parse_seeds

    suite = load_suite(args.target)
    if args.protocols is not None:
        suite.select_protocols(args.protocols)
    if args.sweep:
        suite.set_sweep(args.sweep)
    if args.seeds is not None:
        suite.seeds = parse_seeds(args.seeds, "--seeds")
    suite.overrides += list(args.set or [])
    if args.duration is not None:
        suite.overrides.append(f"scenario.duration={args.duration!r}")
    try:
        jobs = suite.plan()
    except SuiteSkipped as e:
        print(f"meshnet: {e}", file=sys.stderr)
        if args.json:
            print(json.dumps({"suite": suite.name, "skipped_suite": str(e)}))
        return EXIT_OK
    for note in suite.notes:
        if not args.json:
            print(f"meshnet: bench {suite.name}: {note}", file=sys.stderr)
    workers = args.workers or suite.workers or default_workers()
    try:
        executor = DaskExecutor(args.dask, workers) if args.dask else LocalPool(workers)
    except ExecutorError as e:
        return _fail(f"bench: {e}")

    store = Store(args.out)
    store.set_campaign(suite.describe(), jobs)
    show = not args.json and not args.quiet and sys.stderr.isatty()
    progress = _Progress(suite.name, suite.metrics) if show else None
    try:
        with progress or _Null():
            tally = run_campaign(
                jobs, store, executor,
                on_start=progress.start if progress else None,
                on_result=(progress.advance if progress else _report_failure))
    except ExecutorError as e:
        store.close()
        return _fail(f"bench: {e}")
    except KeyboardInterrupt:
        kept = len(store.done_keys() & {j.key for j in jobs})
        where = (f"kept in {args.out}; run the same command again to continue"
                 if args.out else "not kept (no --out)")
        print(f"meshnet: bench {suite.name}: {kept} of {len(jobs)} runs finished, {where}",
              file=sys.stderr)
        store.close()
        raise

    summary: list[dict] = []
    plots: list[str] = []
    if args.out:
        from pathlib import Path

        summary = write_summary(store, Path(args.out) / "summary.csv")
        if not args.no_plots:
            plots = _plots(store, Path(args.out), summary, quiet=args.json)
    else:
        from .store import campaign_summary

        summary = campaign_summary(store)[2]
    if args.json:
        print(json.dumps(_clean({
            "suite": suite.name, "out": args.out, "executor": executor.describe(),
            "planned": tally.planned, "executed": tally.executed, "skipped": tally.skipped,
            "failed": [{"run": j.describe(), "key": j.key, "error": e} for j, e in tally.failed],
            "wall_s": round(tally.wall_s, 3), "plots": plots, "summary": summary})))
    else:
        _print_table(store, suite.name, suite.metrics, summary)
        print(f"{tally.planned} runs: {tally.executed} run now, {tally.skipped} already in "
              f"{args.out or 'the store'}, {len(tally.failed)} failed; {tally.wall_s:.1f} s wall "
              f"on {executor.describe()}" + (f"; results in {args.out}" if args.out else ""))
    store.close()
    return EXIT_FAIL if tally.failed else EXIT_OK


def _report_failure(outcome: Any) -> None:
    if outcome.error is not None:
        print(f"meshnet: bench: run failed: {outcome.job.describe()}: {outcome.error}",
              file=sys.stderr)


class _Null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


class _Progress:
    """A rich progress bar with ETA on stderr, and one line per finished run above it."""

    def __init__(self, name: str, metrics: list[str]) -> None:
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        self.metrics = metrics
        self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                            MofNCompleteColumn(), TextColumn("runs"), TimeElapsedColumn(),
                            TextColumn("ETA"), TimeRemainingColumn(),
                            console=Console(stderr=True), transient=True)
        self.task = self.bar.add_task(f"bench {name}", total=None)

    def __enter__(self) -> "_Progress":
        self.bar.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.bar.stop()

    def start(self, total: int) -> None:
        self.bar.update(self.task, total=total)

    def advance(self, outcome: Any) -> None:
        if outcome.error is not None:
            self.bar.console.print(f"[red]failed[/] {outcome.job.describe()}: {outcome.error}",
                                   highlight=False)
        else:
            m = outcome.metrics
            figures = "  ".join(f"{HEADERS.get(k, k)} {_fmt(m.get(k))}"
                                for k in self.metrics[:3] if k in m)
            self.bar.console.print(f"  {outcome.job.describe()}: {figures}  "
                                   f"({_fmt(m.get('wall_s'))} s)", highlight=False)
        self.bar.advance(self.task)


def _fmt(v: Any, digits: int = 4) -> str:
    """``digits`` significant digits, without exponents for everyday magnitudes."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, float):
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if v == int(v) and abs(v) < 1e15:
            return str(int(v))
        if 10 ** (digits - 1) <= abs(v) < 1e9:
            return f"{v:.0f}"
        return f"{v:.{digits}g}"
    return str(v)


def _pm(row: dict, m: str) -> str:
    mean, ci = row.get(f"{m}_mean"), row.get(f"{m}_ci95")
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "-"
    if ci is None or (isinstance(ci, float) and math.isnan(ci)):
        return _fmt(mean)
    return f"{_fmt(mean)} ± {_fmt(ci, 2)}"


def _print_table(store: Any, name: str, metrics: list[str], summary: list[dict]) -> None:
    from rich.table import Table

    axes = store.axes()
    shown = [m for m in metrics if any(f"{m}_mean" in r for r in summary)]
    table = Table(title=f"bench {name}: mean ± 95 % confidence interval (Student t)")
    for col in ("protocol", *axes, "runs", *(HEADERS.get(m, m) for m in shown)):
        table.add_column(col, justify="left" if col == "protocol" else "right")
    for r in summary:
        table.add_row(str(r["protocol"]), *(_fmt(r.get(a)) for a in axes), str(r["runs"]),
                      *(_pm(r, m) for m in shown))
    _console().print(table)


HEADERS = {"pdr": "PDR", "normalized_routing_load": "norm. routing load",
           "mean_delay_s": "mean delay s", "p95_delay_s": "p95 delay s", "mean_hops": "hops",
           "energy_j": "energy J", "wall_s": "wall s", "events_per_s": "events/s",
           "first_death_s": "first death s", "half_death_s": "half dead s",
           "dead_nodes": "dead nodes"}


def _console() -> Any:
    """A console on stdout; tables piped to a file are not squeezed into 80 columns."""
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console = Console(width=200)
    return console


def _plots(store: Any, folder: Any, summary: list[dict], quiet: bool) -> list[str]:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        if not quiet:
            print("meshnet: bench: no plots (matplotlib is not installed: "
                  "pip install 'meshnet[bench]')", file=sys.stderr)
        return []
    from .plots import write_plots

    c = store.campaign()
    axes = [(a["key"], a["values"]) for a in c.get("axes", [])]
    seeds = c.get("seeds", [])
    title = (f"bench {c.get('suite', '')}: scenario {c.get('scenario', '')}, {len(seeds)} "
             f"seed{'s' if len(seeds) != 1 else ''}, mean and 95 % CI")
    paths = write_plots(folder / "plots", summary, c.get("protocols", []), axes,
                        c.get("metrics", []), title=title)
    return [str(p) for p in paths]


# --- list, export, compare ---------------------------------------------------------------------
def _list(args: argparse.Namespace) -> int:
    from .suite import builtin_suites, load_suite

    records = []
    for name in builtin_suites():
        s = load_suite(name)
        records.append({"name": name, "description": s.description, "scenario": s.scenario,
                        "protocols": [v.label for v in s.variants]
                        + (["+ other installed"] if s.others else [])
                        + (["+ installed power-aware"] if s.power_aware else []),
                        "sweep": {a.key: [p.value for p in a.points] for a in s.axes},
                        "seeds": s.seeds})
    if args.json:
        print(json.dumps(records))
        return EXIT_OK
    from rich.table import Table

    table = Table(title="Built-in benchmark suites (meshnet bench NAME)")
    for col in ("name", "description", "protocols", "sweep", "seeds"):
        table.add_column(col)
    for r in records:
        sweep = "; ".join(f"{k} = {', '.join(map(str, v))}" for k, v in r["sweep"].items())
        table.add_row(r["name"], r["description"], ", ".join(r["protocols"]), sweep or "-",
                      str(len(r["seeds"])))
    _console().print(table)
    return EXIT_OK


def _export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .store import Store, write_csv

    folder = args.paths[0]
    with Store(folder, create=False) as store:
        rows = store.rows(all_runs=args.all)
        target = Path(args.output) if args.output else Path(folder) / "runs.csv"
        if target.is_dir():
            return _fail(f"bench export: {target}: is a directory")
        write_csv(target, store.columns(rows), rows)
    if args.json:
        print(json.dumps({"file": str(target), "runs": len(rows)}))
    else:
        print(f"{target}: {len(rows)} runs")
    return EXIT_OK


def _compare(args: argparse.Namespace) -> int:
    from .stats import Estimate, differs
    from .store import Store, campaign_summary

    a_dir, b_dir = args.paths
    with Store(a_dir, create=False) as a, Store(b_dir, create=False) as b:
        wanted = ([m.strip() for m in args.metrics.split(",") if m.strip()] if args.metrics
                  else None)
        ga, ma, ra = campaign_summary(a, wanted)
        gb, mb, rb = campaign_summary(b, wanted)
        default = list(dict.fromkeys([*a.campaign().get("metrics", []),
                                      *b.campaign().get("metrics", [])]))
    group = list(dict.fromkeys([*ga, *gb]))
    metrics = [m for m in (wanted or default) if m in ma and m in mb]
    if not metrics:
        from .suite import SuiteError
        raise SuiteError(f"bench compare: no metric in common to compare "
                         f"(A has {', '.join(ma) or 'none'}; B has {', '.join(mb) or 'none'})")

    def ident(r: dict) -> tuple:
        return tuple(repr(r.get(k)) for k in group)

    index_b = {ident(r): r for r in rb}
    keys = [ident(r) for r in ra] + [ident(r) for r in rb if ident(r) not in
                                     {ident(x) for x in ra}]
    index_a = {ident(r): r for r in ra}

    def est(r: dict | None, m: str) -> Estimate | None:
        if r is None:
            return None
        return Estimate(r["runs"], r[f"{m}_mean"], r[f"{m}_std"], r[f"{m}_ci95"])

    out = []
    for k in keys:
        ra_, rb_ = index_a.get(k), index_b.get(k)
        base = ra_ or rb_
        row: dict[str, Any] = {g: base.get(g) for g in group}
        row["runs_a"] = ra_["runs"] if ra_ else 0
        row["runs_b"] = rb_["runs"] if rb_ else 0
        for m in metrics:
            ea, eb = est(ra_, m), est(rb_, m)
            row[m] = {"a": ea.mean if ea else None, "a_ci95": ea.ci if ea else None,
                      "b": eb.mean if eb else None, "b_ci95": eb.ci if eb else None,
                      "diff": (eb.mean - ea.mean) if ea and eb else None,
                      "differs": differs(ea, eb) if ea and eb else None}
        out.append(row)
    flagged = sum(1 for r in out for m in metrics if r[m]["differs"])
    if args.json:
        print(json.dumps(_clean({"a": a_dir, "b": b_dir, "group_by": group,
                                 "metrics": metrics, "differences": flagged, "rows": out})))
        return EXIT_OK
    from rich.table import Table

    console = _console()
    for m in metrics:
        table = Table(title=f"{m}: A = {a_dir}, B = {b_dir} (mean ± 95 % CI; "
                            f"[bold red]*[/] intervals do not overlap)")
        for col in (*group, "A", "B", "B − A", ""):
            table.add_column(col, justify="left" if col == "protocol" else "right")
        for r in out:
            c = r[m]
            pa = _pm({f"{m}_mean": c["a"], f"{m}_ci95": c["a_ci95"]}, m) if r["runs_a"] else "-"
            pb = _pm({f"{m}_mean": c["b"], f"{m}_ci95": c["b_ci95"]}, m) if r["runs_b"] else "-"
            flag = {True: "[bold red]*[/]", False: "", None: "?" if r["runs_a"] and r["runs_b"]
                    else ""}[c["differs"]]
            diff = c["diff"]
            table.add_row(*(_fmt(r.get(g)) for g in group), pa, pb,
                          ("+" if diff and diff > 0 else "") + _fmt(diff), flag)
        console.print(table)
    console.print(f"{flagged} difference(s) beyond the confidence intervals"
                  + ("; ? = fewer than 2 runs, no interval" if any(
                      r[m]["differs"] is None and r["runs_a"] and r["runs_b"]
                      for r in out for m in metrics) else ""), highlight=False)
    return EXIT_OK
