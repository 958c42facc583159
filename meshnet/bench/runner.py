"""Executors: run a campaign's jobs on a local process pool or on a Dask cluster.

Every job carries its resolved scenario; a worker rebuilds it, checks that it resolves to the same
run key (same scenario, seed and meshnet version as the planner), runs the simulator and returns
the flattened metrics. Runs are deterministic by seed, so the executor changes nothing but the
wall-clock figures (``wall_s``, ``events_per_s``).
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import signal
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .. import __version__
from .suite import Job

WALL_CLOCK_METRICS = ("wall_s", "events_per_s")  # the only figures that differ between runs


class ExecutorError(Exception):
    """The executor cannot be used (missing package, unreachable cluster): one line."""


def flatten(metrics: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"drops": {"no_route": 3}}`` -> ``{"drops.no_route": 3}``; lists become JSON text."""
    out: dict[str, Any] = {}
    for k, v in metrics.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, name + "."))
        elif isinstance(v, (list, tuple)):
            out[name] = json.dumps(v)
        else:
            out[name] = v
    return out


def execute(raw: dict[str, Any], source: str, key: str) -> dict[str, Any]:
    """Run one job (in a worker): the metrics of ``Simulation(scenario).run()``, flattened."""
    from ..scenario import scenario_from_dict
    from ..sim import Simulation
    from .suite import run_key

    sc = scenario_from_dict(raw, source)
    if run_key(sc) != key:
        raise RuntimeError(f"the worker resolves this run differently (meshnet {__version__} "
                           f"there): install the same meshnet version on every worker")
    result = flatten(Simulation(sc).run())
    result["meshnet_version"] = __version__
    return result


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the parent, which stops them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@dataclass
class Outcome:
    job: Job
    metrics: dict[str, Any] | None = None
    error: str | None = None


class LocalPool:
    """``workers`` processes on this machine (1: in this process, one run after another)."""

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ExecutorError(f"--workers {workers}: need at least 1")
        self.workers = workers

    def describe(self) -> str:
        return f"{self.workers} local worker{'s' if self.workers != 1 else ''}"

    def run(self, jobs: list[Job]) -> Iterator[Outcome]:
        if self.workers == 1 or len(jobs) <= 1:
            for job in jobs:
                yield _outcome(job, lambda j=job: execute(j.raw, j.source, j.key))
            return
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        pool = ProcessPoolExecutor(max_workers=min(self.workers, len(jobs)), mp_context=ctx,
                                   initializer=_ignore_sigint)
        finished = False
        try:
            pending = {pool.submit(execute, j.raw, j.source, j.key): j for j in jobs}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    job = pending.pop(fut)
                    yield _outcome(job, fut.result)
            finished = True
        finally:
            if not finished:  # interrupted: stop the runs under way, keep nothing half done
                for proc in list(getattr(pool, "_processes", {}).values()):
                    proc.terminate()
            pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """A Dask distributed cluster: ``address`` of a running scheduler (``tcp://host:8786``) or
    ``local`` for a LocalCluster of ``workers`` single-threaded processes."""

    def __init__(self, address: str, workers: int) -> None:
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise ExecutorError("--dask needs Dask distributed: pip install 'meshnet[dist]'") \
                from None
        if workers < 1:
            raise ExecutorError(f"--workers {workers}: need at least 1")
        self.address = address
        self.workers = workers

    def describe(self) -> str:
        if self.address == "local":
            return f"Dask LocalCluster with {self.workers} workers"
        return f"Dask cluster at {self.address}"

    def run(self, jobs: list[Job]) -> Iterator[Outcome]:
        from distributed import Client, LocalCluster, as_completed

        cluster = None
        try:
            if self.address == "local":
                cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                       processes=True, dashboard_address=None,
                                       silence_logs=logging.ERROR)
                client = Client(cluster)
            else:
                client = Client(self.address, timeout="10s")
        except (OSError, TimeoutError, ValueError) as e:
            if cluster is not None:
                cluster.close()
            raise ExecutorError(f"--dask {self.address}: cannot reach the scheduler ({e})") \
                from None
        tag = uuid.uuid4().hex[:8]
        try:
            futures = {}
            for job in jobs:
                fut = client.submit(execute, job.raw, job.source, job.key, pure=False,
                                    key=f"meshnet-run-{job.key}-{tag}")
                futures[fut.key] = (fut, job)
            for fut in as_completed([f for f, _ in futures.values()]):
                job = futures.pop(fut.key)[1]
                yield _outcome(job, fut.result)
        finally:
            for fut, _ in futures.values():
                fut.cancel()
            client.close()
            if cluster is not None:
                cluster.close()


def _outcome(job: Job, call: Callable[[], dict[str, Any]]) -> Outcome:
    try:
        return Outcome(job, metrics=call())
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as e:  # a failed run is reported, the others go on
        text = str(e).strip().splitlines()
        return Outcome(job, error=f"{type(e).__name__}: {text[0] if text else ''}".rstrip(": "))


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass
class Tally:
    planned: int = 0
    skipped: int = 0
    executed: int = 0
    failed: list[tuple[Job, str]] = field(default_factory=list)
    wall_s: float = 0.0


def run_campaign(jobs: list[Job], store: Any, executor: Any,
                 on_result: Callable[[Outcome], None] | None = None,
                 on_start: Callable[[int], None] | None = None) -> Tally:
    """Run the jobs the store does not have yet; store each result as soon as it arrives."""
    t0 = time.perf_counter()
    done = store.done_keys()
    todo = [j for j in jobs if j.key not in done]
    tally = Tally(planned=len(jobs), skipped=len(jobs) - len(todo))
    if on_start is not None:
        on_start(len(todo))
    if todo:
        for outcome in executor.run(todo):
            if outcome.metrics is not None:
                store.add(outcome.job, outcome.metrics)
                tally.executed += 1
            else:
                tally.failed.append((outcome.job, outcome.error or "failed"))
            if on_result is not None:
                on_result(outcome)
    tally.wall_s = time.perf_counter() - t0
    return tally
