"""Means and Student-t confidence intervals, in pure Python (no SciPy needed).

The 95 % interval of a mean over ``n`` independent runs is ``mean ± t(0.975, n - 1) · s / √n``
with ``s`` the sample standard deviation (``n - 1`` in the denominator). One run has no interval
(reported as NaN), and missing values (a metric that is undefined for a run, such as the delay
when nothing was delivered) are left out of that metric's mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 400):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    ln = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
          + a * math.log(x) + b * math.log1p(-x))
    front = math.exp(ln)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom."""
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t (``t_quantile(0.975, 4)`` = 2.776...)."""
    if not 0.0 < p < 1.0 or df <= 0:
        raise ValueError(f"t_quantile({p}, {df}): need 0 < p < 1 and df > 0")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        hi *= 2.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-13 * max(1.0, hi):
            break
    return (lo + hi) / 2.0


@dataclass(frozen=True)
class Estimate:
    """Mean of ``n`` values with the sample standard deviation and the half-width of the
    two-sided confidence interval (``level`` 0.95: mean ± ci)."""

    n: int
    mean: float
    std: float
    ci: float

    @property
    def low(self) -> float:
        return self.mean - self.ci

    @property
    def high(self) -> float:
        return self.mean + self.ci


def _finite(values: Iterable[object]) -> list[float]:
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        if math.isfinite(v):
            out.append(float(v))
    return out


def estimate(values: Iterable[object], level: float = 0.95) -> Estimate:
    """Mean and Student-t confidence interval of the finite numbers among ``values``."""
    xs = _finite(values)
    n = len(xs)
    if n == 0:
        return Estimate(0, math.nan, math.nan, math.nan)
    mean = math.fsum(xs) / n
    if n == 1:
        return Estimate(1, mean, math.nan, math.nan)
    std = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (n - 1))
    ci = t_quantile(0.5 + level / 2.0, n - 1) * std / math.sqrt(n)
    return Estimate(n, mean, std, ci)


def differs(a: Estimate, b: Estimate) -> bool | None:
    """True when the two confidence intervals do not overlap, False when they do, None when
    either has no interval (fewer than two runs)."""
    if not all(math.isfinite(v) for v in (a.mean, b.mean, a.ci, b.ci)):
        return None
    return a.high < b.low or b.high < a.low


# the columns of summary.csv, in this order, when the runs have them
SUMMARY_METRICS = ("pdr", "normalized_routing_load", "mean_delay_s", "p95_delay_s", "mean_hops",
                   "energy_j", "sent", "delivered", "control_packets", "control_bytes",
                   "route_changes", "dead_nodes", "first_death_s", "half_death_s", "events",
                   "wall_s", "events_per_s")


def summarize(rows: list[dict], group_by: list[str], metrics: list[str],
              level: float = 0.95) -> list[dict]:
    """One row per group (e.g. protocol and sweep point, in order of first appearance): the
    number of runs, and per metric its mean, sample standard deviation and the half-width of the
    Student-t confidence interval (``{m}_mean``, ``{m}_std``, ``{m}_ci95``)."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault(tuple(_hashable(r.get(k)) for k in group_by), []).append(r)
    out = []
    suffix = f"ci{round(level * 100)}"
    for members in groups.values():
        row = {k: members[0].get(k) for k in group_by}
        row["runs"] = len(members)
        for m in metrics:
            e = estimate(r.get(m) for r in members)
            row[f"{m}_mean"], row[f"{m}_std"], row[f"{m}_{suffix}"] = e.mean, e.std, e.ci
        out.append(row)
    return out


def summary_metrics(rows: list[dict], wanted: Iterable[str] = ()) -> list[str]:
    """The summary's metrics: the standard ones and ``wanted``, those the runs have."""
    present = {k for r in rows for k, v in r.items() if isinstance(v, (int, float))
               and not isinstance(v, bool)}
    names = list(dict.fromkeys([*SUMMARY_METRICS, *wanted]))
    return [m for m in names if m in present]


def _hashable(v: object) -> object:
    return v if not isinstance(v, (list, dict)) else repr(v)
