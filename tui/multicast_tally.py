"""Per-flow multicast delivery, counted the way `meshnet run` counts the run's
(``meshnet/metrics.py``, ``MulticastMetrics``): each packet should reach the members of its group
when it was sent (the ``receivers`` of ``mcast_sent``), and a delivery counts once per
(packet, member). The TUI needs it per flow, for the selected flow's line under the map."""

from __future__ import annotations

from collections import Counter

KINDS = ("mcast_sent", "mcast_delivered")


class MulticastTally:
    def __init__(self) -> None:
        self.expected: Counter[int] = Counter()   # flow -> member deliveries due
        self.delivered: Counter[int] = Counter()  # flow -> member deliveries made
        self._waiting: dict[int, tuple[int, set[str]]] = {}  # uid -> (flow, members not reached)

    def record(self, t: float, kind: str, fields: dict) -> None:
        """A bus event of one of :data:`KINDS`."""
        {"mcast_sent": self._sent, "mcast_delivered": self._delivered}[kind](t, kind, fields)

    def _sent(self, t: float, kind: str, fields: dict) -> None:
        receivers = set(fields["receivers"])
        self.expected[fields["flow"]] += len(receivers)
        if receivers:
            self._waiting[fields["uid"]] = (fields["flow"], receivers)

    def _delivered(self, t: float, kind: str, fields: dict) -> None:
        waiting = self._waiting.get(fields["uid"])
        if waiting is None or fields["node"] not in waiting[1]:
            return  # a duplicate, or a node that joined after the packet was sent
        flow, members = waiting
        members.discard(fields["node"])
        self.delivered[flow] += 1
        if not members:
            del self._waiting[fields["uid"]]
