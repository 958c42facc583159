"""`meshnet bench`: campaigns on the local pool and on Dask give the same runs, the campaign
folder holds every column, resumes without rerunning anything, has a correct summary and valid
plots; bad input is one line and exit status 2."""

from __future__ import annotations

import contextlib
import io
import json
import math
import shutil
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from meshnet.bench import stats
from meshnet.bench.runner import WALL_CLOCK_METRICS, execute, flatten
from meshnet.bench.suite import load_suite, run_key, suite_from_dict, _parse_values
from meshnet.cli import main

TINY = """
[suite]
name = "tiny"
description = "two protocols, two pauses, two seeds"
scenario = "broch"
seeds = 2
set = ["scenario.duration=15", "nodes.count=12", "area.width=800", "traffic.0.flows=4",
       "traffic.0.jitter=2"]

[[protocols]]
label = "AODV-LL"
name = "aodv"
link_detection = "link-layer"

[[protocols]]
label = "DSDV"
name = "dsdv"

[sweep]
"mobility.pause" = [0, 10]
"""
PLOTTED = ("pdr", "normalized_routing_load", "mean_delay_s", "mean_hops", "energy_j")


def _bench(capsys, *argv: str) -> dict:
    assert main(["bench", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def suite_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("suite") / "tiny.toml"
    path.write_text(TINY)
    return path


@pytest.fixture(scope="module")
def campaign(suite_file, tmp_path_factory) -> tuple[Path, dict]:
    """The tiny suite on the local process pool."""
    out = tmp_path_factory.mktemp("campaign") / "tiny"
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["bench", str(suite_file), "--out", str(out), "--workers", "2",
                     "--json"]) == 0
    return out, json.loads(buf.getvalue())


def _comparable(df):
    return (df.drop(columns=[*WALL_CLOCK_METRICS, "finished_at"])
            .sort_values("key").reset_index(drop=True))


def test_local_pool_and_dask_local_give_identical_runs(campaign, suite_file, tmp_path, capsys):
    pytest.importorskip("distributed")
    from meshnet.bench import load

    folder, report = campaign
    assert report["planned"] == report["executed"] == 8 and report["failed"] == []
    assert report["executor"] == "2 local workers"
    dask = _bench(capsys, str(suite_file), "--out", str(tmp_path / "d"), "--dask", "local",
                  "--workers", "2", "--no-plots")
    assert dask["executed"] == 8 and dask["executor"].startswith("Dask LocalCluster")
    a, b = _comparable(load(folder)), _comparable(load(tmp_path / "d"))
    assert list(a.columns) == list(b.columns)
    assert a.equals(b)
    # and the same as one run in this process
    job = load_suite(str(suite_file)).plan()[0]
    here = flatten(execute(job.raw, job.source, job.key))
    row = a[a.key == job.key].iloc[0]
    for k, v in here.items():
        if k not in WALL_CLOCK_METRICS and k != "protocol":
            assert row[k] == v or (isinstance(v, float) and math.isnan(v)), k


def test_the_runs_table_has_every_column(campaign, suite_file):
    from meshnet.bench import load

    folder, _ = campaign
    df = load(folder)
    assert len(df) == 8 and df.key.is_unique
    assert set(df.protocol) == {"AODV-LL", "DSDV"} and set(df.plugin) == {"aodv", "dsdv"}
    assert set(df["mobility.pause"]) == {0, 10} and set(df.seed) == {1, 2}
    job = load_suite(str(suite_file)).plan()[0]
    metrics = execute(job.raw, job.source, job.key)
    expected = {"key", "protocol", "seed", "mobility.pause", "plugin", "meshnet_version",
                "finished_at", "scenario_json"} | (set(metrics) - {"protocol"})
    assert expected <= set(df.columns)
    for col in ("pdr", "sent", "delivered", "normalized_routing_load", "energy_j", "events",
                "wall_s", "control_packets", "mean_hops"):
        assert df[col].notna().all(), col
    for col in (c for c in df.columns if c.startswith("drops.")):
        assert (df[col] >= 0).all()
    scenario = json.loads(df.scenario_json[0])
    assert scenario["nodes"]["count"] == 12 and scenario["scenario"]["duration"] == 15
    assert (df.sent == df.delivered + df.dropped + df.queued).all()


def test_resume_runs_nothing_that_finished(campaign, suite_file, tmp_path, capsys):
    folder, _ = campaign
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    again = _bench(capsys, str(suite_file), "--out", str(copy), "--workers", "2", "--no-plots")
    assert (again["executed"], again["skipped"]) == (0, 8)
    with sqlite3.connect(copy / "runs.sqlite") as db:  # two runs lost: only they run again
        db.execute("DELETE FROM runs WHERE key IN (SELECT key FROM runs LIMIT 2)")
    again = _bench(capsys, str(suite_file), "--out", str(copy), "--workers", "1", "--no-plots")
    assert (again["executed"], again["skipped"]) == (2, 6)


def test_plots_are_written_as_valid_png_and_svg(campaign):
    folder, report = campaign
    for m in PLOTTED:
        png = folder / "plots" / f"{m}-vs-mobility.pause.png"
        svg = folder / "plots" / f"{m}-vs-mobility.pause.svg"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
        root = ET.parse(svg).getroot()
        assert root.tag.endswith("svg")
        assert "AODV-LL" in svg.read_text() and "DSDV" in svg.read_text()
    assert len(report["plots"]) == 2 * len(PLOTTED)
    assert not list(folder.rglob(".*"))  # no temporary file left behind


def test_confidence_interval_matches_a_hand_computed_example():
    # 0.90, 0.95, 1.00: mean 0.95, s = 0.05, t(0.975, 2) = 4.302652729911275
    e = stats.estimate([0.90, 0.95, 1.00])
    assert e.n == 3 and e.mean == pytest.approx(0.95) and e.std == pytest.approx(0.05)
    assert e.ci == pytest.approx(4.302652729911275 * 0.05 / math.sqrt(3), rel=1e-9)
    assert e.ci == pytest.approx(0.124207, abs=1e-6)
    for df, t in ((1, 12.706204736174707), (4, 2.7764451051977987), (9, 2.2621571627409915),
                  (29, 2.045229642132703), (1000, 1.9623390808264078)):
        assert stats.t_quantile(0.975, df) == pytest.approx(t, rel=1e-9)
    assert math.isnan(stats.estimate([1.0]).ci) and stats.estimate([]).n == 0
    assert stats.estimate([1, None, float("nan"), 3]).n == 2  # undefined values left out
    assert stats.differs(stats.estimate([1, 1.1, 0.9]), stats.estimate([2, 2.1, 1.9]))
    assert not stats.differs(stats.estimate([1, 2, 3]), stats.estimate([2, 3, 4]))


def test_summary_csv_holds_mean_and_ci_per_protocol_and_point(campaign):
    import pandas as pd

    from meshnet.bench import load

    folder, _ = campaign
    summary = pd.read_csv(folder / "summary.csv")
    assert len(summary) == 4 and (summary.runs == 2).all()
    runs = load(folder)
    for _, row in summary.iterrows():
        pdr = runs[(runs.protocol == row.protocol)
                   & (runs["mobility.pause"] == row["mobility.pause"])].pdr.tolist()
        mean = sum(pdr) / 2
        half = 12.706204736174707 * abs(pdr[0] - pdr[1]) / math.sqrt(2) / math.sqrt(2)
        assert row.pdr_mean == pytest.approx(mean)
        assert row.pdr_ci95 == pytest.approx(half, abs=1e-12)


def test_export_and_compare(campaign, tmp_path, capsys):
    import pandas as pd

    from meshnet.bench import load

    folder, _ = campaign
    assert main(["bench", "export", str(folder), "-o", str(tmp_path / "runs.csv")]) == 0
    assert capsys.readouterr().out == f"{tmp_path / 'runs.csv'}: 8 runs\n"
    exported = pd.read_csv(tmp_path / "runs.csv")
    assert list(exported.columns) == list(load(folder).columns) and len(exported) == 8

    same = _bench(capsys, "compare", str(folder), str(folder))
    assert same["differences"] == 0 and len(same["rows"]) == 4
    # AODV-LL at pause 0 delivers 0.91 and 0.92 in A, 0.11 and 0.12 in B: intervals apart
    for name, base in (("a", 0.9), ("b", 0.1)):
        shutil.copytree(folder, tmp_path / name)
        with sqlite3.connect(tmp_path / name / "runs.sqlite") as db:
            db.execute('UPDATE runs SET pdr = ? + 0.01 * seed WHERE protocol = \'AODV-LL\' '
                       'AND "mobility.pause" = 0', (base,))
    diff = _bench(capsys, "compare", str(tmp_path / "a"), str(tmp_path / "b"), "--metrics", "pdr")
    flagged = [(r["protocol"], r["mobility.pause"]) for r in diff["rows"] if r["pdr"]["differs"]]
    assert diff["metrics"] == ["pdr"] and flagged == [("AODV-LL", 0)]


def test_builtin_suites_plan_and_the_power_suite_skips_without_power_protocols(
        monkeypatch, capsys):
    from meshnet.bench import suite as suite_mod

    broch = load_suite("broch")
    jobs = broch.plan()
    labels = [v.label for v in broch.resolved]
    assert labels[:3] == ["AODV-LL", "AODV-hello", "DSDV"] and "flooding" not in labels
    assert {j.point["mobility.pause"] for j in jobs} == {0, 30, 60, 120, 300, 600, 900}
    assert len(jobs) == len(labels) * 7 * 3
    scale = load_suite("scale").plan()
    big = next(j for j in scale if j.point["nodes.count"] == 1000)
    assert big.raw["area"] == {"width": 6708, "height": 1342}
    assert [p.value for p in load_suite("zigbee").axes[0].points] == [0.5, 1, 2, 4]
    assert load_suite("perf").workers == 1 and load_suite("perf").axes == []

    monkeypatch.setattr(suite_mod, "_is_power_aware", lambda name: False)
    assert main(["bench", "power", "--json"]) == 0
    out, err = capsys.readouterr()
    assert "no power-aware protocol is installed" in err
    assert json.loads(out)["skipped_suite"]


def test_runs_are_keyed_by_the_resolved_scenario():
    base = {"suite": {"scenario": "broch", "set": {"scenario.duration": 5}},
            "protocols": ["aodv"], "sweep": {"mobility.pause": [0, 30]}}
    ints = suite_from_dict(base).plan()
    base["sweep"] = {"mobility.pause": [0.0, 30.0]}  # the same runs, written otherwise
    floats = suite_from_dict(base).plan()
    assert [j.key for j in ints] == [j.key for j in floats] and len(set(j.key for j in ints)) == 2
    from meshnet.scenario import load_scenario
    assert run_key(load_scenario("line", ["scenario.seed=2"])) != run_key(load_scenario("line"))
    assert _parse_values("0,300,900") == [0, 300, 900]
    assert _parse_values("zigbee,wavelan") == ["zigbee", "wavelan"]


@pytest.mark.parametrize("argv", [
    ["bench", "nosuch"],
    ["bench", "broch", "--sweep", "mobility.paws=0,1"],
    ["bench", "broch", "--sweep", "mobility.pause=0,abc"],
    ["bench", "broch", "--sweep", "traffic.0.flows=10,-1"],
    ["bench", "broch", "--sweep", "pause=1"],
    ["bench", "broch", "--sweep", "scenario.seed=1,2"],
    ["bench", "broch", "--protocols", "aodv,olsr"],
    ["bench", "broch", "--protocols", "aodv:hello_interval=x"],
    ["bench", "broch", "--workers", "0"],
    ["bench", "broch", "--seeds", "0"],
    ["bench", "broch", "--set", "nodes.count=x"],
    ["bench", "broch", "--workers", "two"],
    ["bench", "export", "/nonexistent/campaign"],
    ["bench", "compare", "only-one"],
])
def test_bad_input_is_one_line_and_exit_2(argv, capsys, tmp_path):
    assert main([*argv, "--out", str(tmp_path / "c")] if argv[1] == "broch" else argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("meshnet: error: ")
    assert not (tmp_path / "c").exists()  # nothing was started


def test_a_scenario_is_an_ad_hoc_suite(tmp_path):
    suite = load_suite("line")  # a built-in scenario, not a suite
    assert [(v.label, v.name) for v in suite.variants] == [("AODV", "aodv")]
    suite.select_protocols("aodv,dsdv:periodic_update_interval=5")
    suite.set_sweep(["traffic.0.rate=1,2"])
    jobs = suite.plan()
    assert len(jobs) == 4 and {j.protocol for j in jobs} == {"AODV",
                                                              "dsdv:periodic_update_interval=5"}
    dsdv = next(j for j in jobs if j.raw["protocol"]["name"] == "dsdv")
    assert dsdv.raw["protocol"]["periodic_update_interval"] == 5


def test_suites_with_others_leave_out_multicast_only_protocols():
    from meshnet.bench.suite import load_suite

    suite = load_suite("zigbee")
    names = {v.name for v in suite.resolved_variants()}
    assert {"zigbee-tree", "zigbee-mesh", "aodv"} <= names
    assert not names & {"smf", "odmrp"}
    assert any(n.startswith("smf: left out") for n in suite.notes)
