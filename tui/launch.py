"""Builds engine views from command-line style inputs; used by the CLI, tests and benchmarks."""

from __future__ import annotations

from typing import Callable

from ..registry import protocol_names
from ..scenario import ScenarioError, load_scenario
from .view import EngineView

ViewFactory = Callable[[str | None], EngineView]

# Protocols that do nothing on their own on the simulator are left out of the `p` cycle.
NOT_CYCLED = ("none",)


def scenario_overrides(overrides: list[str] | None, seed: int | None) -> list[str]:
    out = list(overrides or [])
    if seed is not None:
        out.append(f"scenario.seed={seed}")
    return out


def sim_factory(spec: str | None, overrides: list[str] | None = None,
                protocol: str | None = None, seed: int | None = None) -> ViewFactory:
    """A factory that (re)builds a simulator view; validates the scenario once up front so bad
    input fails before the screen opens."""
    from .sim_view import SimView

    overrides = scenario_overrides(overrides, seed)
    load_scenario(spec, overrides, protocol=protocol)  # raises ScenarioError early

    def build(switch_to: str | None = None) -> EngineView:
        return SimView(load_scenario(spec, overrides, protocol=switch_to or protocol))

    return build


def netns_factory(spec: str | None, overrides: list[str] | None = None,
                  protocol: str | None = None, seed: int | None = None,
                  run_name: str | None = None) -> ViewFactory:
    """A factory for the namespace emulation (needs root); its runs are named ``run_name``
    (default "tui", namespaces mn-tui-NODE), each new one replacing the previous."""
    try:
        from .netns_view import RUN_NAME, NetnsView
    except ImportError as e:
        raise ScenarioError(f"netns backend not available: {e}") from None
    overrides = scenario_overrides(overrides, seed)
    load_scenario(spec, overrides, protocol=protocol)
    NetnsView.check_available()

    def build(switch_to: str | None = None) -> EngineView:
        return NetnsView(load_scenario(spec, overrides, protocol=switch_to or protocol),
                         run_name or RUN_NAME)

    return build


def replay_factory(path: str) -> tuple[ViewFactory, str]:
    """A factory of replay views over one trace, read and indexed once here (so a bad trace
    fails before the screen opens); also returns the index's warning ("" when none)."""
    from .replay_view import ReplayView
    from .trace_index import TraceIndex

    index = TraceIndex(path)

    def build(switch_to: str | None = None) -> EngineView:
        return ReplayView(path, index)

    return build, index.warning


def protocol_cycle() -> list[str]:
    return [p for p in protocol_names() if p not in NOT_CYCLED]
