"""Protocol comparison campaigns: ``meshnet bench`` (see docs/benchmarks.md).

A suite (:mod:`.suite`) names a base scenario, protocol variants, sweep axes and seeds; the runner
(:mod:`.runner`) runs every combination on a local process pool or a Dask cluster; the store
(:mod:`.store`) keeps each run in the campaign folder's SQLite database as it finishes, so a
campaign resumes where it stopped; :mod:`.stats` and :mod:`.plots` summarize it.

From Python::

    import meshnet.bench
    df = meshnet.bench.load("benchmarks/results/broch")   # one row per run (pandas)
    df.groupby(["protocol", "mobility.pause"])["pdr"].mean()
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["Suite", "SuiteError", "builtin_suites", "load", "load_suite"]


def __getattr__(name: str) -> Any:  # the CLI imports this package at start-up: stay light
    if name in ("Suite", "SuiteError", "builtin_suites", "load_suite"):
        from . import suite

        return getattr(suite, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load(folder: str | os.PathLike, all_runs: bool = False) -> Any:
    """The runs of a campaign folder as a pandas DataFrame: one row per finished run with its
    key, protocol label, seed, sweep values, every metric (``drops.*`` flattened), the meshnet
    version, the time it finished and the resolved scenario (JSON). ``all_runs``: include runs
    of earlier campaigns kept in the same folder."""
    import pandas as pd

    from .store import Store

    with Store(folder, create=False) as store:
        rows = store.rows(all_runs=all_runs)
        columns = store.columns(rows)
    return pd.DataFrame(rows, columns=columns)
