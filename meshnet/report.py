"""Human-readable run summary (rich tables) for `meshnet run`."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def _fmt_time(v: Any) -> str:
    return "—" if v is None else f"{v:.1f} s"


def _fmt_s(v: Any) -> str:
    return "—" if v is None else f"{v:.2f} s"


def _fmt_ratio(v: Any) -> str:
    return "—" if v is None else f"{v:.3f}"


def faults_table(faults: list[dict[str, Any]]) -> Table:
    """One column per fault: its window, PDR of packets sent inside it and outside every
    fault, packets lost and flows hit, and when those flows delivered again (seconds from the
    fault's start, mean / max over them, and from its end)."""
    t = Table(title="faults", title_justify="left")
    t.add_column("", style="bold")
    for f in faults:
        t.add_column(f["label"], justify="right")
    rows = {
        "window": lambda f: (f"{f['start_s']:g} s–end" if f["end_s"] is None
                             else f"{f['start_s']:g}–{f['end_s']:g} s"),
        "PDR during / outside faults":
            lambda f: f"{_fmt_ratio(f['pdr_during'])} / {_fmt_ratio(f['pdr_outside'])}",
        "packets lost / flows hit": lambda f: f"{f['lost']} / {f['affected_flows']}",
        "first loss after start": lambda f: _fmt_s(f["first_loss_s"]),
        "recovery after start (mean / max)":
            lambda f: f"{_fmt_s(f['mean_recovery_s'])} / {_fmt_s(f['max_recovery_s'])}",
        "recovery after end (mean)": lambda f: _fmt_s(f["mean_after_end_s"]),
        "flows not recovered": lambda f: str(f["unrecovered_flows"]),
    }
    for name, cell in rows.items():
        t.add_row(name, *[cell(f) for f in faults])
    return t


def print_summary(r: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    title = (f"{r['scenario']} · {r['protocol']} · {r['nodes']} nodes · {r['radio']}/"
             f"{r['propagation']} · seed {r['seed']} · {r['duration_s']:g} s simulated")
    t = Table(title=title, show_header=False, title_justify="left")
    t.add_column("metric", style="bold")
    t.add_column("value", justify="right")
    mc = r.get("multicast") or {}
    if r["sent"] or not mc.get("sent"):  # a multicast-only run has no unicast figures to show
        t.add_row("packet delivery ratio", f"{r['pdr']:.3f}  ({r['delivered']}/{r['sent']})")
        t.add_row("mean / p95 end-to-end delay",
                  f"{r['mean_delay_s'] * 1000:.1f} / {r['p95_delay_s'] * 1000:.1f} ms")
        t.add_row("mean hops", f"{r['mean_hops']:.2f}")
    t.add_row("control packets (bytes)", f"{r['control_packets']} ({r['control_bytes']} B)")
    nrl = r["normalized_routing_load"]
    t.add_row("normalized routing load", "—" if nrl is None or nrl == float("inf") else f"{nrl:.2f}")
    t.add_row("route changes", str(r["route_changes"]))
    t.add_row("still queued at end", str(r["queued"]))
    if r.get("energy_j"):
        t.add_row("energy used", f"{r['energy_j']:.3f} J")
    if r.get("dead_nodes"):
        t.add_row("first / 50 % node death", f"{_fmt_time(r['first_death_s'])} / "
                                              f"{_fmt_time(r['half_death_s'])}")
    if mc.get("sent"):
        t.add_row("multicast delivery ratio",
                  f"{mc['pdr']:.3f}  ({mc['delivered']}/{mc['expected']} member deliveries, "
                  f"{mc['sent']} packets)")
        t.add_row("multicast mean delay / hops",
                  f"{mc['mean_delay_s'] * 1000:.1f} ms / {mc['mean_hops']:.2f}")
        fo, co = mc["forwarding_overhead"], mc["control_overhead"]
        t.add_row("multicast transmissions per delivery",
                  "—" if fo is None or fo == float("inf") else f"{fo:.2f}  ({mc['data_tx']} frames)")
        t.add_row("control packets per multicast delivery",
                  "—" if co is None or co == float("inf") else f"{co:.2f}")
        t.add_row("duplicates suppressed / delivered twice",
                  f"{mc['duplicates_suppressed']} / {mc['duplicate_deliveries']}")
    t.add_row("events / wall time", f"{r['events']:,} / {r['wall_s']:.2f} s "
                                    f"({r['events_per_s']:,} events/s)")
    console.print(t)
    if r["drops"]:
        d = Table(title="drops by reason", title_justify="left", min_width=30)
        d.add_column("reason")
        d.add_column("packets", justify="right")
        for reason, count in sorted(r["drops"].items(), key=lambda kv: -kv[1]):
            d.add_row(reason, str(count))
        console.print(d)
    if r.get("faults"):
        console.print(faults_table(r["faults"]))
