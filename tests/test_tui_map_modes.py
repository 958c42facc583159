"""What the map draws at scale: `m` cycles the links drawn (all, the selected node's, the route
only) at once and without the engine; the inspector keeps its labels whole beside the map; the
log writes hop counts in words and sums up what it does not list with the total first."""

from __future__ import annotations

from collections import Counter

from meshnet.tui import palette
from meshnet.tui.app import MeshApp
from meshnet.tui.event_log import EventLog
from meshnet.tui.help_screen import HelpScreen
from meshnet.tui.launch import sim_factory
from meshnet.tui.log_format import EventFormatter
from meshnet.tui.map_panel import MapPanel

BRAILLE = "".join(chr(c) for c in range(0x2801, 0x2900))


def line_colours(panel: MapPanel) -> Counter[str]:
    """Braille cells on the map by their colour."""
    out: Counter[str] = Counter()
    text = panel.render()
    for span in text.spans:
        chars = text.plain[span.start:span.end]
        n = sum(ch in BRAILLE for ch in chars)
        if n and span.style is not None:
            colour = str(span.style).split()[-1]
            out[colour] += n
    return out


async def test_link_modes_draw_all_links_the_selected_nodes_or_only_the_route():
    app = MeshApp(sim_factory("broch"), paused=True, start_at=200.0)
    async with app.run_test(size=(160, 48)) as pilot:
        await app.settled()
        await pilot.pause()
        panel = app.query_one("#map", MapPanel)
        picture = app.last_picture
        assert picture.route_complete and len(picture.links) > 50
        everything = line_colours(panel)
        assert everything[palette.LINK_GOOD] + everything[palette.LINK_FAIR] > 0
        sent = app._last_sent
        await pilot.press("m")
        await pilot.pause()
        assert app._last_sent == sent  # the map's own state: no command to the engine
        assert panel.link_mode == "node" and "links of the selected node" in panel.border_title
        own = panel._shown_links(picture)
        assert own and all(picture.selected in link[:2] for link in own)
        assert len(own) < len(picture.links)
        assert sum(line_colours(panel).values()) < sum(everything.values())
        await pilot.press("m")
        await pilot.pause()
        assert panel.link_mode == "route" and "route only" in panel.border_title
        colours = line_colours(panel)
        assert set(colours) == {palette.ROUTE}  # nothing but the route's hops
        legend = panel.render().plain.splitlines()[-1]
        assert "━route" in legend and "good" not in legend and "poor" not in legend
        await pilot.press("m")
        await pilot.pause()
        assert panel.link_mode == "all" and "route only" not in panel.border_title
        assert line_colours(panel) == everything
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert any(key == "m" and "route only" in text for key, text in app.screen.rows)


async def test_the_inspector_keeps_its_labels_whole_beside_a_wide_map():
    app = MeshApp(sim_factory("broch"), paused=True, start_at=200.0)
    async with app.run_test(size=(160, 48)) as pilot:
        await app.settled()
        await pilot.press("i", "e")
        await app.settled()
        await pilot.pause()
        inspector = app.query_one("#inspector").region
        strips = app.screen._compositor.render_strips()
        rows = ["".join(seg.text for seg in strip) for strip in strips]
        screen = "\n".join(row[inspector.x:inspector.right]
                           for row in rows[inspector.y:inspector.bottom])
        assert inspector.width == 40
        for label in ("position", "speed", "battery", "queue", "data"):
            assert f"│ {label} " in screen, label
        assert "…" not in screen
        assert "FER" in screen and "delivered" in screen and "→ out" in screen
        detail = app.last_picture.detail
        link = detail.links[detail.link]
        assert f"{link.frames_out[1]}/{link.frames_out[0]}" in screen


def test_log_lines_say_1_hop_and_a_summary_starts_with_its_total():
    fmt = EventFormatter({"10.99.0.2": "n2", "10.99.0.9": "n9"})
    one = fmt.entry(1.0, "route_found", {"node": "n1", "dst": "10.99.0.9",
                                         "next_hop": "10.99.0.2", "hops": 1})
    assert one.text == "n1 found route to n9 via n2, 1 hop"
    three = fmt.entry(1.0, "route_found", {"node": "n1", "dst": "10.99.0.9",
                                           "next_hop": "10.99.0.2", "hops": 3})
    assert three.text.endswith(", 3 hops")
    counts = Counter({"link_up": 1500, "link_down": 129, "rreq_sent": 417, "rrep_sent": 33})
    line = "".join(seg.text for seg in EventLog._summary_line(11.406, 11.41, counts))
    assert line.startswith("   11.41 + 2,079 not listed: 1629 link changes · 417 RREQs")
    assert "–" not in line  # one instant as printed: no span of 11.41–11.41
    line = "".join(seg.text for seg in EventLog._summary_line(0.0, 11.41, counts))
    assert line.startswith("    0.00–11.41 + 2,079")
