"""`meshnet radios` as a table a user reads in an 80-column terminal: every profile's name and
figures appear whole (only the list of power levels folds), and nothing is wider than the
terminal."""

from __future__ import annotations

import pytest

from meshnet.cli import main
from meshnet.radio import radios_table


@pytest.mark.parametrize("columns", [80, 100, 160])
def test_radios_fit_the_terminal_and_cut_nothing(monkeypatch, capsys, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    assert main(["radios"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= columns
    assert "…" not in out
    for r in radios_table():
        rows = [line for line in lines if line.startswith(f"│ {r['name']} ")]
        assert len(rows) == 2, (r["name"], out)  # one row in each table
        phy, ranges = (line.split("│")[1:-1] for line in rows)
        assert [c.strip() for c in phy][1:4] == [f"{r['frequency_mhz']:g}",
                                                 f"{r['bitrate_bps'] / 1000:g}",
                                                 f"{r['tx_power_dbm']:g}"]
        assert [c.strip() for c in phy][5:] == [f"{r['sensitivity_dbm']:g}",
                                                str(r["max_frame_bytes"]), r["mac"]]
        assert [c.strip() for c in ranges][1:] == [f"{m:.0f}" for m in r["range_m"].values()]


def test_power_levels_fold_but_all_are_listed(monkeypatch, capsys):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["radios"]) == 0
    out = capsys.readouterr().out
    zigbee = next(r for r in radios_table() if r["name"] == "zigbee")
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("│ zigbee "))
    cells = []
    for line in lines[start:]:
        if cells and not line.startswith("│            │"):
            break  # the next profile (or the end of the table)
        cells += line.split("│")[5].split()
    assert cells == [f"{p:g}" for p in zigbee["power_levels_dbm"]]
