"""``meshnet radios``: one row per profile with derived ranges."""

import json

from meshnet.radio import PROFILE_NAMES, radios_table, radios_text


def test_rows_and_required_keys():
    rows = radios_table()
    assert [r["name"] for r in rows] == list(PROFILE_NAMES)
    for r in rows:
        for key in ("name", "frequency_mhz", "bitrate_bps", "tx_power_dbm", "sensitivity_dbm",
                    "max_frame_bytes", "mac", "range_m"):
            assert key in r
        assert set(r["range_m"]) == {"outdoor", "indoor", "two-ray", "friis"}
        assert all(v > 0 for v in r["range_m"].values())
    json.dumps(rows)          # JSON-ready for --json


def test_derived_ranges_shown():
    rows = {r["name"]: r for r in radios_table()}
    z = rows["zigbee"]
    assert z["frequency_mhz"] == 2405 and z["bitrate_bps"] == 250_000 and z["max_frame_bytes"] == 127
    assert 10 <= z["range_m"]["indoor"] <= 30 and 100 <= z["range_m"]["outdoor"] <= 300
    assert abs(rows["wavelan"]["range_m"]["two-ray"] - 250) <= 5
    assert abs(rows["wavelan"]["cs_range_m"]["two-ray"] - 550) <= 5


def test_text_rendering():
    text = radios_text()
    assert text.splitlines()[0].startswith("profile")
    assert all(name in text for name in PROFILE_NAMES)
