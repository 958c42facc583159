"""The campaign folder: one SQLite database with every run, and the files made from it.

``DIR/runs.sqlite``
    table ``runs``: one row per finished run, keyed by the run key (hash of the resolved scenario,
    seed and meshnet version), with the protocol label, the seed, the sweep values, the resolved
    scenario as JSON, the meshnet version, the time it finished and every metric of the run
    (nested ones flattened: ``drops.no_route``). Columns are added as new metrics appear.
    Table ``meta``: the campaign definition and its list of runs, so the folder describes itself.
``DIR/summary.csv``, ``DIR/plots/``, ``DIR/runs.csv`` (``meshnet bench export``)
    written from the database, each to a temporary name and renamed when complete.

Every result is committed in its own transaction as it arrives, so an interrupted campaign keeps
everything that finished, and a second invocation skips it.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import json
import math
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Any, Iterator

from .suite import Job, SuiteError

DB_NAME = "runs.sqlite"
FIXED = ("key", "protocol", "seed")  # then the sweep axes, then:
TRAILER = ("meshnet_version", "finished_at", "scenario_json")


class Store:
    """The runs of a campaign folder (``folder=None``: in memory, nothing kept)."""

    def __init__(self, folder: str | os.PathLike | None, create: bool = True) -> None:
        self.folder = Path(folder) if folder is not None else None
        if self.folder is None:
            target = ":memory:"
        else:
            if self.folder.exists() and not self.folder.is_dir():
                raise SuiteError(f"{folder}: exists and is not a directory")
            db = self.folder / DB_NAME
            if not create and not db.is_file():
                raise SuiteError(f"{folder}: not a campaign folder (no {DB_NAME})")
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise SuiteError(f"{folder}: cannot create: {e.strerror}") from None
            target = str(db)
        try:
            self.db = sqlite3.connect(target, timeout=60)
            with self.db:
                self.db.execute('CREATE TABLE IF NOT EXISTS runs ("key" TEXT PRIMARY KEY, '
                                '"protocol" TEXT, "seed" INTEGER)')
                self.db.execute('CREATE TABLE IF NOT EXISTS meta ("name" TEXT PRIMARY KEY, '
                                '"value" TEXT)')
        except sqlite3.DatabaseError as e:
            raise SuiteError(f"{folder}/{DB_NAME}: not a usable campaign database ({e})") from None
        self._columns = self._read_columns()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- writing -------------------------------------------------------------------------------
    def _read_columns(self) -> list[str]:
        return [r[1] for r in self.db.execute('PRAGMA table_info("runs")')]

    def _ensure_columns(self, names: list[str]) -> None:
        for name in names:
            if name not in self._columns:
                self.db.execute(f'ALTER TABLE runs ADD COLUMN {_quote(name)}')
                self._columns.append(name)

    def set_campaign(self, description: dict[str, Any], jobs: list[Job]) -> None:
        """Record the campaign definition and its runs (label, seed and sweep values of each)."""
        listing = [{"key": j.key, "protocol": j.protocol, "seed": j.seed, "point": j.point}
                   for j in jobs]
        with self.db:
            for name, value in (("campaign", description), ("jobs", listing)):
                self.db.execute('INSERT OR REPLACE INTO meta VALUES (?, ?)',
                                (name, json.dumps(value, allow_nan=True)))

    def add(self, job: Job, metrics: dict[str, Any]) -> None:
        """Store one finished run (one transaction)."""
        row: dict[str, Any] = {"key": job.key, "protocol": job.protocol, "seed": job.seed}
        row.update(job.point)
        if "protocol" in metrics:  # the plug-in's name; "protocol" is the campaign's label
            row["plugin"] = metrics["protocol"]
        row.update({k: v for k, v in metrics.items() if k not in row})
        row["meshnet_version"] = metrics.get("meshnet_version")
        row["finished_at"] = datetime.datetime.now(datetime.timezone.utc).isoformat(
            timespec="seconds")
        row["scenario_json"] = _scenario_json(job)
        for k, v in list(row.items()):
            if isinstance(v, (dict, list, tuple)):
                row[k] = json.dumps(v)
        with self.db:
            self._ensure_columns(list(row))
            names = ", ".join(_quote(k) for k in row)
            marks = ", ".join("?" for _ in row)
            self.db.execute(f"INSERT OR REPLACE INTO runs ({names}) VALUES ({marks})",
                            list(row.values()))

    # --- reading -------------------------------------------------------------------------------
    def done_keys(self) -> set[str]:
        return {r[0] for r in self.db.execute('SELECT "key" FROM runs')}

    def meta(self, name: str) -> Any:
        row = self.db.execute('SELECT value FROM meta WHERE name = ?', (name,)).fetchone()
        return json.loads(row[0]) if row else None

    def campaign(self) -> dict[str, Any]:
        return self.meta("campaign") or {}

    def axes(self) -> list[str]:
        return [a["key"] for a in self.campaign().get("axes", [])]

    def rows(self, all_runs: bool = False) -> list[dict[str, Any]]:
        """The campaign's finished runs as dicts (label and sweep values as the latest campaign
        in this folder defines them), in campaign order; ``all_runs``: every stored run."""
        cur = self.db.execute("SELECT * FROM runs")
        names = [d[0] for d in cur.description]
        stored = {r[0]: dict(zip(names, r)) for r in cur}
        jobs = self.meta("jobs") or []
        out = []
        for j in jobs:
            row = stored.pop(j["key"], None)
            if row is not None:
                row.update({"protocol": j["protocol"], "seed": j["seed"], **j["point"]})
                out.append(row)
        if all_runs:
            out.extend(stored.values())
        return [_nan_for_null(r) for r in out]

    def columns(self, rows: list[dict[str, Any]]) -> list[str]:
        """Column order for tables: key, protocol, seed, sweep axes, metrics, trailer."""
        axes = self.axes()
        seen = [*FIXED, *axes]
        metrics: list[str] = []
        for r in rows:
            for k in r:
                if k not in seen and k not in metrics and k not in TRAILER:
                    metrics.append(k)
        flat = [m for m in metrics if "." not in m]
        nested = sorted(m for m in metrics if "." in m)  # drops.REASON, drop_events.REASON
        return [*seen, *flat, *nested, *TRAILER]


def _scenario_json(job: Job) -> str:
    from ..scenario import scenario_from_dict

    return json.dumps(scenario_from_dict(job.raw, job.source).to_dict(), sort_keys=True)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _nan_for_null(row: dict[str, Any]) -> dict[str, Any]:
    """Drop counters a run did not have are 0; other missing numbers are NaN."""
    for k, v in row.items():
        if v is None and (k.startswith("drops.") or k.startswith("drop_events.")):
            row[k] = 0
    return row


# --- files -----------------------------------------------------------------------------------
@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", **kw: Any) -> Iterator[Any]:
    """A file that appears at ``path`` only once the block completes (temporary name, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, mode, **kw) as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _cell(v: Any) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return v


def write_csv(path: str | os.PathLike, columns: list[str], rows: list[dict[str, Any]]) -> None:
    with atomic_write(path, newline="") as f:
        w = csv.writer(f)
        w.writerow(columns)
        for r in rows:
            w.writerow([_cell(r.get(c)) for c in columns])


def campaign_summary(store: Store, extra_metrics: list[str] | None = None,
                     all_runs: bool = False) -> tuple[list[str], list[str], list[dict]]:
    """(group columns, metrics, rows) of the campaign's summary: one row per protocol and sweep
    point with mean, standard deviation and 95 % confidence half-width of every metric."""
    from .stats import summarize, summary_metrics

    rows = store.rows(all_runs=all_runs)
    wanted = list(extra_metrics if extra_metrics is not None
                  else store.campaign().get("metrics", []))
    group_by = ["protocol", *store.axes()]
    metrics = summary_metrics(rows, wanted)
    return group_by, metrics, summarize(rows, group_by, metrics)


def write_summary(store: Store, path: str | os.PathLike) -> list[dict]:
    group_by, metrics, rows = campaign_summary(store)
    columns = [*group_by, "runs", *(f"{m}_{s}" for m in metrics for s in ("mean", "ci95", "std"))]
    write_csv(path, columns, rows)
    return rows
