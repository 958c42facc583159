"""The scenario's ``[[faults]]`` in force, as the status bar names them: one label per fault,
from its ``fault_started`` event to its ``fault_ended``. Live views (simulator and netns) share
it; a replay keeps whole intervals instead (:mod:`meshnet.tui.trace_index`)."""

from __future__ import annotations


class FaultsInForce:
    def __init__(self) -> None:
        self._labels: dict[int, str] = {}  # [[faults]] index -> "label @start"

    def labels(self) -> tuple[str, ...]:
        return tuple(self._labels.values())

    def record(self, t: float, kind: str, fields: dict) -> None:
        """A ``fault_started`` or ``fault_ended`` event."""
        {"fault_started": self._started, "fault_ended": self._ended}[kind](t, kind, fields)

    def _started(self, t: float, kind: str, fields: dict) -> None:
        self._labels[fields["fault"]] = f"{fields['label']} @{t:g}s"

    def _ended(self, t: float, kind: str, fields: dict) -> None:
        self._labels.pop(fields["fault"], None)
