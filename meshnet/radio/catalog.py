"""The ``meshnet radios`` catalogue: each profile with its figures and derived ranges.

Ranges are computed, never stored: the distance at which the median received power at the
profile's default transmit power falls to its sensitivity, under each propagation model.
"""

from __future__ import annotations

from typing import Any

from .profiles import PROFILES, RadioProfile
from .propagation import make_propagation

__all__ = ["RANGE_MODELS", "radio_entry", "radios_table", "radios_text"]

#: propagation models whose derived range the catalogue shows, in display order
RANGE_MODELS = ("outdoor", "indoor", "two-ray", "friis")


def radio_entry(profile: RadioProfile) -> dict[str, Any]:
    """One row of the catalogue (JSON-ready)."""
    ranges = {}
    cs_ranges = {}
    for model in RANGE_MODELS:
        prop = make_propagation(model, profile)
        ranges[model] = round(prop.range_m(profile.tx_power_dbm, profile.sensitivity_dbm), 1)
        cs_ranges[model] = round(prop.range_m(profile.tx_power_dbm, profile.cs_threshold_dbm), 1)
    return {
        "name": profile.name,
        "description": profile.description,
        "standard": profile.standard,
        "frequency_mhz": round(profile.frequency_hz / 1e6, 3),
        "bitrate_bps": int(profile.bitrate_bps),
        "tx_power_dbm": profile.tx_power_dbm,
        "power_levels_dbm": list(profile.power_levels),
        "tx_power_range_dbm": [profile.tx_power_min_dbm, profile.tx_power_max_dbm],
        "sensitivity_dbm": round(profile.sensitivity_dbm, 2),
        "cs_threshold_dbm": round(profile.cs_threshold_dbm, 2),
        "noise_floor_dbm": round(profile.noise_floor_dbm, 2),
        "max_frame_bytes": profile.max_psdu,
        "airtime_max_frame_ms": round(profile.airtime(profile.max_psdu) * 1e3, 3),
        "mac": profile.mac,
        "reception": profile.error_model.describe(),
        "voltage": profile.voltage,
        "current_ma": {s: round(profile.current_a(s) * 1e3, 4)
                       for s in ("tx", "rx", "idle", "sleep")},
        "range_m": ranges,
        "cs_range_m": cs_ranges,
        "sources": profile.sources,
    }


def radios_table() -> list[dict[str, Any]]:
    """One dict per profile: name, frequency_mhz, bitrate_bps, tx_power_dbm, sensitivity_dbm,
    max_frame_bytes, mac, range_m = {outdoor, indoor, two-ray, friis} and more."""
    return [radio_entry(p) for p in PROFILES.values()]


def radios_text(rows: list[dict[str, Any]] | None = None) -> str:
    """A plain fixed-width rendering of ``radios_table()`` for terminals without rich."""
    rows = radios_table() if rows is None else rows
    head = ("profile", "MHz", "kb/s", "dBm", "sens", "frame", "mac",
            *(f"{m} m" for m in RANGE_MODELS))
    lines = [head]
    for r in rows:
        lines.append((r["name"], f"{r['frequency_mhz']:g}", f"{r['bitrate_bps'] / 1e3:g}",
                      f"{r['tx_power_dbm']:g}", f"{r['sensitivity_dbm']:g}",
                      str(r["max_frame_bytes"]), r["mac"],
                      *(f"{r['range_m'][m]:.0f}" for m in RANGE_MODELS)))
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip()
                     for line in lines)
