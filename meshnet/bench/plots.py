"""Plots of a campaign (matplotlib, no display needed): each metric against each sweep axis, one
line per protocol with its 95 % confidence band, as PNG and SVG. With several axes, one figure
per combination of the other axes' values; with none, a bar chart per metric."""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path
from typing import Any

from .store import atomic_write

LABELS = {
    "pdr": "packet delivery ratio",
    "normalized_routing_load": "normalized routing load (control pkts / delivered)",
    "mean_delay_s": "mean end-to-end delay (s)",
    "p95_delay_s": "95th percentile delay (s)",
    "mean_hops": "mean hops",
    "energy_j": "energy, all nodes (J)",
    "wall_s": "wall time per run (s)",
    "events_per_s": "simulator events per wall second",
    "events": "events per run",
    "first_death_s": "first node death (s)",
    "half_death_s": "half the nodes dead (s)",
    "dead_nodes": "dead nodes at the end",
    "control_packets": "control packets",
}

BOUNDS = {"pdr": (0.0, 1.0)}  # every other plotted metric is >= 0
UNITS = {"mobility.pause": "s", "mobility.max_speed": "m/s", "mobility.min_speed": "m/s",
         "scenario.duration": "s", "area.width": "m", "area.height": "m", "nodes.count": "nodes",
         "nodes.battery_j": "J", "radio.tx_power": "dBm", "traffic.rate": "packets/s",
         "traffic.size": "bytes", "traffic.flows": "flows"}
UNITS.update({f"traffic.{i}.{k}": UNITS[f"traffic.{k}"] for i in range(10)
              for k in ("rate", "size", "flows")})


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=+-]+", "_", text)


def _num(v: Any) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else math.nan


def write_plots(folder: str | Path, summary: list[dict], protocols: list[str],
                axes: list[tuple[str, list[Any]]], metrics: list[str],
                title: str = "") -> list[Path]:
    """Write ``folder/<metric>-vs-<axis>[...].png`` and ``.svg``; return the paths written."""
    import matplotlib
    from matplotlib.figure import Figure

    folder = Path(folder)
    written: list[Path] = []
    have = {k for row in summary for k in row}
    metrics = [m for m in metrics if f"{m}_mean" in have]
    styles = dict(zip(protocols, itertools.cycle(["o-", "s-", "^-", "D-", "v-", "P-", "X-"])))

    def save(fig: Any, stem: str) -> None:
        for fmt in ("png", "svg"):
            path = folder / f"{_safe(stem)}.{fmt}"
            with atomic_write(path, "wb") as f:
                fig.savefig(f, format=fmt, dpi=110, bbox_inches="tight",
                            metadata={"Date": None} if fmt == "svg" else None)
            written.append(path)

    with matplotlib.rc_context({"svg.hashsalt": "meshnet", "svg.fonttype": "none"}):
        if not axes:
            for m in metrics:
                fig = Figure(figsize=(6.4, 4.0))
                ax = fig.add_subplot()
                rows = [next((r for r in summary if r["protocol"] == p), None) for p in protocols]
                means = [_num(r[f"{m}_mean"]) if r else math.nan for r in rows]
                cis = [_num(r[f"{m}_ci95"]) if r else math.nan for r in rows]
                ax.bar(range(len(protocols)), means,
                       yerr=[c if math.isfinite(c) else 0.0 for c in cis], capsize=4,
                       color="#4c72b0")
                ax.set_xticks(range(len(protocols)), protocols, rotation=20, ha="right")
                ax.set_ylabel(LABELS.get(m, m))
                ax.set_title(title, fontsize=9)
                ax.grid(axis="y", alpha=0.3)
                save(fig, m)
            return written
        for i, (key, values) in enumerate(axes):
            others = [a for j, a in enumerate(axes) if j != i]
            numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool)
                          for v in values)
            xs = [float(v) for v in values] if numeric else list(range(len(values)))
            for fixed in itertools.product(*(vals for _, vals in others)):
                pins = dict(zip((k for k, _ in others), fixed))
                suffix = "".join(f"-{k}={v}" for k, v in pins.items())
                note = ", ".join(f"{k} = {v}" for k, v in pins.items())
                for m in metrics:
                    # the band shows the interval within the values the metric can take
                    floor, ceiling = BOUNDS.get(m, (0.0, math.inf))
                    fig = Figure(figsize=(6.4, 4.0))
                    ax = fig.add_subplot()
                    for p in protocols:
                        ys, lo, hi = [], [], []
                        for v in values:
                            row = next((r for r in summary if r["protocol"] == p
                                        and r.get(key) == v
                                        and all(r.get(k) == w for k, w in pins.items())), None)
                            y = _num(row[f"{m}_mean"]) if row else math.nan
                            c = _num(row[f"{m}_ci95"]) if row else math.nan
                            ys.append(y)
                            lo.append(max(y - c, floor) if math.isfinite(c) else y)
                            hi.append(min(y + c, ceiling) if math.isfinite(c) else y)
                        if all(math.isnan(y) for y in ys):
                            continue
                        (line,) = ax.plot(xs, ys, styles[p], label=p, markersize=4)
                        ax.fill_between(xs, lo, hi, alpha=0.18, color=line.get_color(),
                                        linewidth=0)
                    if not numeric:
                        ax.set_xticks(xs, [str(v) for v in values])
                    ax.set_xlabel(f"{key} ({UNITS[key]})" if key in UNITS else key)
                    ax.set_ylabel(LABELS.get(m, m))
                    ax.set_title(" · ".join(t for t in (title, note) if t), fontsize=9)
                    ax.grid(alpha=0.3)
                    if ax.get_legend_handles_labels()[0]:
                        ax.legend(fontsize=8)
                    save(fig, f"{m}-vs-{key}{suffix}")
    return written
