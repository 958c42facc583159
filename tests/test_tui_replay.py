"""Replay of a saved trace (`meshnet tui --replay`): the index answers positions, links, routes
and counters at any time exactly as the simulation had them, seeks either way, and refuses a
file that is not a trace with one clear line."""

from __future__ import annotations

import io
import json

import pytest

from meshnet.cli import main
from meshnet.events import TraceWriter
from meshnet.scenario import load_scenario
from meshnet.sim import Simulation
from meshnet.tui.replay_view import ReplayView
from meshnet.tui.sim_view import SimView
from meshnet.tui.trace_index import TraceError, TraceIndex

BROCH = ["scenario.duration=60", "nodes.count=30"]
TIMES = (0.0, 3.3, 9.99, 17.25, 30.0, 30.000001, 44.4, 59.5)  # checked in this order ...
REVERSED = tuple(reversed(TIMES))  # ... and back again (seeking backwards)


def record(name: str, overrides: list[str], times, protocol: str | None = None, act=None):
    """Run a scenario with a trace and return (trace text, what the simulation had at each of
    ``times``: positions, alive, sampled links, forwarding tables, counters). ``act(sim, t)``
    may intervene at each of the times, before the state is taken."""
    sim = Simulation(load_scenario(name, overrides, protocol=protocol))
    out = io.StringIO()
    sim.bus.subscribe(TraceWriter(out))
    counts = {kind: [0] * sim.n for kind in ("data_sent", "data_delivered", "data_dropped")}
    index = {node.name: node.index for node in sim.nodes}

    def count(t, kind, f):
        counts[kind][index[f["node"]]] += 1

    sim.bus.subscribe(count, tuple(counts))
    seen = {}
    for t in sorted(times):
        sim.run_until(t)
        if act is not None:
            act(sim, t)
        seen[t] = {
            "positions": [sim.position(i, t) for i in range(sim.n)],
            "alive": [node.alive for node in sim.nodes],
            "links": set(sim.links),
            "tables": [{r.dst: (r.next_hop, r.metric) for r in node.routes}
                       for node in sim.nodes],
            "sent": sum(counts["data_sent"]),
            "delivered": len(sim.metrics.delivered),
            "per_node": {k: list(v) for k, v in counts.items()},
        }
    sim.run()
    return out.getvalue(), seen


@pytest.fixture(scope="module")
def broch_trace(tmp_path_factory):
    def manual(sim, t):
        if t == 30.0:
            sim.move("n7", 123.456789, 87.654321)  # a course change by hand is in the trace too
        if t == 44.4:
            sim.kill("n3")
    text, seen = record("broch", BROCH, TIMES, act=manual)
    path = tmp_path_factory.mktemp("replay") / "broch.jsonl"
    path.write_text(text)
    return path, seen


def test_positions_links_routes_and_counters_equal_the_simulation(broch_trace):
    path, seen = broch_trace
    index = TraceIndex(path)
    assert index.n == 30 and index.warning == ""
    for t in TIMES + REVERSED:
        want = seen[t]
        assert [index.position(i, t) for i in range(index.n)] == want["positions"], t
        assert [index.alive(i, t) for i in range(index.n)] == want["alive"], t
        assert set(index.links_at(t)) == want["links"], t
        for i in range(index.n):
            table = {dst: (hop, metric) for dst, hop, metric in index.table(i, t)}
            assert table == want["tables"][i], (t, i)
    assert not index.alive(2, 50.0) and index.alive(2, 44.0)


def test_replay_pictures_and_inspector_follow_the_trace_either_way(broch_trace):
    path, seen = broch_trace
    view = ReplayView(path)
    for t in TIMES + REVERSED:
        view.seek(t)
        picture = view.picture(0, 0)
        want = seen[t]
        assert picture.now == t
        assert [(n.x, n.y) for n in picture.nodes] == want["positions"]
        assert {(i, j) for i, j, _ in picture.links} == want["links"]
        assert (picture.stats.sent, picture.stats.delivered) == (want["sent"], want["delivered"])
        for i in (0, 6, 2):
            d = view.detail(i, None)
            assert (d.sent, d.received, d.dropped) == tuple(
                want["per_node"][k][i] for k in ("data_sent", "data_delivered", "data_dropped"))
            assert d.battery is None and d.unknown == "not in trace"
            assert {link.peer for link in d.links} == {b if a == i else a
                                                      for a, b in want["links"] if i in (a, b)}
    # a seek starts the log over with what led up to the new time
    view.seek(40.0)
    picture = view.picture(0, 0)
    assert picture.rewound and picture.events
    assert all(e.t <= 40.0 for e in picture.events)
    view.advance(41.0)
    later = view.picture(0, 0)
    assert not later.rewound and all(40.0 < e.t <= 41.0 for e in later.events)


def test_route_table_and_counters_of_a_replay_equal_the_live_view(tmp_path):
    text, _ = record("line", [], ())
    live = SimView(load_scenario("line"))
    replay = ReplayView(write(tmp_path, text))
    for t in (5.0, 12.0, 20.0):
        live.advance(t)
        replay.seek(t)
        a, b = live.picture(3, 0), replay.picture(3, 0)
        assert b.route == a.route and b.route_complete == a.route_complete, t
        assert [(r.dst, r.next_hop, r.metric) for r in b.table] == \
            [(r.dst, r.next_hop, r.metric) for r in a.table], t
        da, db = live.detail(3, None), replay.detail(3, None)
        assert (db.sent, db.received, db.forwarded, db.dropped) == \
            (da.sent, da.received, da.forwarded, da.dropped), t
        assert da.forwarded > 0  # n4 relays the n1 -> n10 flow


def test_per_node_counters_of_the_live_inspector_match_the_metrics():
    view = SimView(load_scenario("line"))
    view.advance(15.0)
    details = [view.detail(i, None) for i in range(view.node_count)]
    m = view.sim.metrics
    assert sum(d.sent for d in details) == m.sent
    assert sum(d.received for d in details) == len(m.delivered)
    assert sum(d.dropped for d in details) == sum(m.drop_events.values())
    d = details[4]
    assert d.queue is not None and d.held is not None and d.unknown == "n/a"
    assert [link.name for link in d.links] == ["n4", "n6"]


def write(tmp_path, text: str, name: str = "t.jsonl") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


GOOD = ('{"t":0.0,"ev":"node_moved","node":"n1","x":1.0,"y":2.0,"vx":0.0,"vy":0.0}\n'
        '{"t":0.0,"ev":"node_moved","node":"n2","x":5.0,"y":2.0,"vx":1.0,"vy":0.0}\n'
        '{"t":1.0,"ev":"link_up","a":"n1","b":"n2"}\n'
        '{"t":2.5,"ev":"link_down","a":"n1","b":"n2"}\n')


@pytest.mark.parametrize("text, message", [
    ("", "no node positions"),
    ('{"t":0.0,"ev":"link_up","a":"n1","b":"n2"}\n', "unknown node 'n1'"),
    (GOOD + "this is not json\n" + GOOD, ":5: not a JSON event"),
    (GOOD + '[1, 2]\n', ":5: expected a JSON object"),
    (GOOD + '{"t":1.0,"ev":"link_up","a":"n1","b":"n2"}\n', ":5: time 1.0 goes back from 2.5"),
    (GOOD + '{"ev":"link_up","a":"n1","b":"n2"}\n', ":5: an event needs a finite time"),
    (GOOD + '{"t":3,"ev":"node_moved","node":"n1","x":"far"}\n', ":5: bad node_moved event"),
    (GOOD + '{"t":3,"ev":"node_moved","node":"n9","x":1,"y":1,"vx":0,"vy":0}\n',
     "first appears at t = 3"),
])
def test_a_malformed_trace_is_one_clear_error(tmp_path, text, message):
    with pytest.raises(TraceError, match=message.replace("(", r"\(")):
        TraceIndex(write(tmp_path, text))


def test_a_truncated_last_line_is_a_warning_and_replays_up_to_there(tmp_path, capsys):
    path = write(tmp_path, GOOD + '{"t":3.0,"ev":"link_up","a":"n1","b"')
    index = TraceIndex(path)
    assert "line 5 is cut short" in index.warning
    assert index.end == 2.5 and index.links_at(2.0) == [(0, 1)] and index.links_at(2.6) == []
    assert index.position(1, 2.0) == (7.0, 2.0)


@pytest.mark.parametrize("argv, message", [
    (["tui", "--replay", "{missing}"], "cannot read the trace"),
    (["tui", "--replay", "{bad}"], ":5: not a JSON event"),
    (["tui", "--replay", "{good}", "--protocol", "aodv"], "--protocol does not apply"),
    (["tui", "line", "--replay", "{good}"], "a scenario does not apply"),
    (["tui", "--replay", "{good}", "--start", "9"], "--start 9: the trace ends at 2.5 s"),
    (["tui", "line", "--start", "31"], "--start 31: the scenario ends at 30 s"),
    (["tui", "line", "--start", "-1"], "--start -1"),
])
def test_bad_replay_input_is_one_line_and_status_2(tmp_path, capsys, argv, message):
    files = {"missing": str(tmp_path / "nope.jsonl"),
             "bad": write(tmp_path, GOOD + "{oops\n" + GOOD, "bad.jsonl"),
             "good": write(tmp_path, GOOD, "good.jsonl")}
    argv = [a.format(**files) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_seeking_does_not_reread_the_file(tmp_path):
    path = write(tmp_path, GOOD)
    view = ReplayView(path)
    (tmp_path / "t.jsonl").unlink()  # gone: every query is answered from the index
    for t in (2.0, 0.5, 2.4, 0.0):
        view.seek(t)
        assert view.picture(0, 0).now == t
    assert json.dumps(view.index.links_at(1.5)) == "[[0, 1]]"


def test_the_replay_takes_area_duration_and_names_from_the_run_header(tmp_path):
    from meshnet.cli import main as cli

    trace = tmp_path / "run.jsonl"
    assert cli(["run", "line", "--duration", "12", "--trace", str(trace)]) == 0
    view = ReplayView(trace)
    assert view.area == (2000.0, 100.0)      # the scenario's area, not the nodes' bounding box
    assert view.duration == 12.0
    assert view.protocol == "aodv" and view.scenario_name.startswith("line")


def test_faults_in_force_show_live_and_in_replay(tmp_path):
    # scenarios/faults.toml: n3 and n4 crash 60-90 s, a partition at x=750 120-160 s
    live = SimView(load_scenario("faults"))
    seen = {}
    for t in (50.0, 70.0, 100.0, 130.0, 165.0):
        live.advance(t)
        seen[t] = live.picture(0, 0).stats.faults
    trace = tmp_path / "faults.jsonl"
    assert main(["run", "faults", "--trace", str(trace)]) == 0
    assert seen[50.0] == seen[100.0] == seen[165.0] == ()
    assert len(seen[70.0]) == 1 and "@60s" in seen[70.0][0]
    assert len(seen[130.0]) == 1 and "750" in seen[130.0][0] and "@120s" in seen[130.0][0]
    replay = ReplayView(trace)
    for t, want in seen.items():
        replay.seek(t)
        assert replay.picture(0, 0).stats.faults == want
