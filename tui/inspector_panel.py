"""The inspector: the selected node's figures (position, motion, battery, queue, packet
counters) and its links with their radio figures, the picked link in full.

It takes the routing table's place while open (``i``); ``e`` picks the next link. What the
source does not know is written out ("not in trace" in a replay) rather than left blank.
"""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from . import palette
from .view import LinkDetail, NodeDetail

LABEL = "bold"
DIM = palette.LOG_TIME


def _num(value: float | int | None, fmt: str, unknown: str) -> Text:
    return Text(unknown, style=DIM) if value is None else Text(format(value, fmt))


def _ratio(value: float | None, unknown: str) -> Text:
    if value is None:
        return Text(unknown, style=DIM)
    return Text(f"{100 * value:.0f}%", style=palette.LINK_COLOUR[palette.link_level(value)])


def node_table(d: NodeDetail) -> Table:
    """Fits the 36 cells the inspector has beside a wide map: labels never shrink, long
    figures wrap."""
    u = d.unknown
    t = Table.grid(padding=(0, 1))
    t.add_column(style=LABEL, no_wrap=True, min_width=8)
    t.add_column(overflow="fold")
    state = Text("alive") if d.alive else Text("dead", style=palette.DEAD)
    t.add_row("node", Text.assemble((d.name, "bold"), f" {d.address} · ", state))
    t.add_row("position", f"{d.x:.1f}, {d.y:.1f} m")
    motion = _num(d.speed, ".1f", u)
    if d.speed is not None:
        motion.append(" m/s")
        if d.heading_deg is not None:
            motion.append(f" heading {d.heading_deg:.0f}°")
    t.add_row("speed", motion)
    battery = _num(None if d.battery is None else 100 * d.battery, ".1f", u)
    if d.battery is not None:
        battery.append(" %")
    if d.energy_j is not None:
        battery.append(f" · {d.energy_j:.3g} J used")
    t.add_row("battery", battery)
    queue = _num(d.queue, "d", u)
    if d.queue is not None:
        queue.append(" in MAC")
    held = _num(d.held, "d", u)
    held.append(" held for a route" if d.held is not None else " (held for a route)")
    t.add_row("queue", Text.assemble(queue, " · ", held))
    for label, pairs in (("data", (("sent", d.sent), ("recv", d.received))),
                         ("", (("fwd", d.forwarded), ("drop", d.dropped)))):
        counters = Text()
        for k, (name, value) in enumerate(pairs):
            if k:
                counters.append(" · ")
            counters.append(f"{name} ")
            counters.append_text(_num(value, "d", u))
        t.add_row(label, counters)
    return t


def links_table(d: NodeDetail) -> Table:
    """One row per link: peer, distance, RSSI, SNR, delivery out / in."""
    u = "–"
    t = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
    for name, justify in (("peer", "left"), ("m", "right"), ("dBm", "right"), ("SNR", "right"),
                          ("out", "right"), ("in", "right")):
        t.add_column(name, justify=justify, no_wrap=True)
    for k, link in enumerate(d.links):
        style = f"bold #000000 on {palette.LINK_SELECTED}" if k == d.link else ""
        t.add_row(Text(link.name, style=style), f"{link.distance_m:.0f}",
                  _num(link.rssi_dbm, ".1f", u), _num(link.snr_db, ".1f", u),
                  _ratio(link.delivery_out, u), _ratio(link.delivery_in, u))
    return t


def link_text(d: NodeDetail, link: LinkDetail) -> Group:
    """The picked link in full, in the inspector's 36 cells: where it goes, its radio figures,
    then the frame error rate and delivery each way."""
    u = d.unknown
    head = Text()
    head.append(f"link {d.name} – {link.name}", style="bold")
    head.append(f"\n{link.distance_m:.1f} m")
    if link.up_since is not None:
        head.append(f" · up since {link.up_since:.1f} s")
    head.append("\n")
    for label, value, unit in (("RSSI", link.rssi_dbm, " dBm"), ("SNR", link.snr_db, " dB")):
        head.append(f"{label} ")
        head.append_text(_num(value, ".1f", u))
        head.append((unit if value is not None else "") + "  ")
    ways = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
    for name, justify in (("", "left"), ("FER", "right"), ("delivered", "right"),
                          ("frames", "right")):
        ways.add_column(name, justify=justify, no_wrap=True)
    for arrow, fer, ratio, frames in (("→ out", link.fer_out, link.delivery_out, link.frames_out),
                                      ("← in", link.fer_in, link.delivery_in, link.frames_in)):
        fer_text = _num(None if fer is None else 100 * fer, ".1f", u)
        if fer is not None:
            fer_text.append("%")
        ways.add_row(arrow, fer_text, _ratio(ratio, u),
                     Text(u, style=DIM) if frames is None else f"{frames[1]}/{frames[0]}")
    return Group(head, ways)


class InspectorPanel(VerticalScroll):
    """Shows a :class:`NodeDetail`; the app hands it each new one."""

    can_focus = False

    def compose(self):
        yield Static(id="inspector-node")
        yield Static(id="inspector-link")
        yield Static(id="inspector-links")
        yield Static(id="inspector-notes")

    def show(self, d: NodeDetail | None) -> None:
        if not self.is_mounted or not self.children:
            return
        self.detail = d
        node, link, links, notes = (self.query_one(f"#inspector-{k}", Static)
                                    for k in ("node", "link", "links", "notes"))
        if d is None:
            node.update(Text("waiting for the engine …", style=DIM))
            for w in (link, links, notes):
                w.update("")
            return
        node.update(node_table(d))
        link.update(link_text(d, d.links[d.link]) if d.link is not None else
                    Text(f"{len(d.links)} links · e: pick one", style=DIM))
        links.update(links_table(d) if d.links else Text("no links now", style=DIM))
        notes.update(Text("\n".join(d.notes), style=DIM))
