"""Per-flow multicast delivery, counted the way `meshnet run` counts the run's
(``meshnet/metrics.py``, ``MulticastMetrics``): each packet should reach the members of its group
when it was sent (the ``receivers`` of ``mcast_sent``), and a delivery counts once per
(packet, member). The TUI needs it per flow, for the selected flow's line under the map."""

from __future__ import annotations

from collections import Counter

KINDS = ("mcast_sent", "mcast_delivered")


class MemberDeliveries:
    """Which members each multicast packet has still to reach: a delivery counts once per
    (packet, member that was one when it was sent). The live tally and the replay index
    both count through it."""

    def __init__(self) -> None:
        self._waiting: dict[int, tuple[object, set[str]]] = {}  # uid -> (flow, members left)

    def sent(self, uid: int, flow: object, receivers: set[str]) -> None:
        if receivers:
            self._waiting[uid] = (flow, receivers)

    def delivered(self, uid: int, node: str) -> object | None:
        """The packet's flow when this delivery counts; None for a duplicate or a node that
        joined after the packet was sent."""
        waiting = self._waiting.get(uid)
        if waiting is None or node not in waiting[1]:
            return None
        flow, members = waiting
        members.discard(node)
        if not members:
            del self._waiting[uid]
        return flow

    def clear(self) -> None:
        self._waiting.clear()


class MulticastTally:
    def __init__(self) -> None:
        self.expected: Counter[int] = Counter()   # flow -> member deliveries due
        self.delivered: Counter[int] = Counter()  # flow -> member deliveries made
        self._members = MemberDeliveries()

    def record(self, t: float, kind: str, fields: dict) -> None:
        """A bus event of one of :data:`KINDS`."""
        {"mcast_sent": self._sent, "mcast_delivered": self._delivered}[kind](t, kind, fields)

    def _sent(self, t: float, kind: str, fields: dict) -> None:
        receivers = set(fields["receivers"])
        self.expected[fields["flow"]] += len(receivers)
        self._members.sent(fields["uid"], fields["flow"], receivers)

    def _delivered(self, t: float, kind: str, fields: dict) -> None:
        flow = self._members.delivered(fields["uid"], fields["node"])
        if flow is not None:
            self.delivered[flow] += 1
