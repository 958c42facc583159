"""How long the selected flow's route has been as it is.

A route followed hop by hop through the forwarding tables is only as old as its newest entry:
it took its present form when the last of the entries it follows (each hop's entry for the
destination) was added or got a new next hop or metric. Every backend reports those changes
as ``route_added`` / ``route_changed`` / ``route_removed`` events, so the live views keep an
:class:`EntryClock` and a replay asks its trace index the same question.
"""

from __future__ import annotations

from typing import Callable

# changed(node index, destination address) -> time of the entry's last change (None: unknown)
ChangedAt = Callable[[int, str], "float | None"]
ROUTE_EVENTS = ("route_added", "route_changed", "route_removed")


class EntryClock:
    """The time of the last change of every (node, destination) forwarding entry."""

    def __init__(self, index_of: dict[str, int]) -> None:
        self._index_of = index_of  # node name -> index
        self._changed: dict[tuple[int, str], float] = {}

    def record(self, t: float, fields: dict) -> None:
        """One route event (its fields carry ``node`` and ``dst``)."""
        i = self._index_of.get(fields.get("node"))
        if i is not None:
            self._changed[(i, str(fields.get("dst")))] = t

    def changed_at(self, i: int, dst: str) -> float | None:
        return self._changed.get((i, dst))


def route_since(route: tuple[int, ...], dst: str, changed_at: ChangedAt) -> float | None:
    """When ``route`` (node indices, source first, destination last) took its present form:
    the latest change of the entries its hops follow. None when a hop's change is not known
    (an entry older than what was watched)."""
    times = [changed_at(i, dst) for i in route[:-1]]
    if not times or any(t is None for t in times):
        return None
    return max(times)
