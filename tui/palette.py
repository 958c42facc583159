"""The colour scheme: one named colour per kind of thing on screen.

Colours are given as RGB, never as ANSI names: a terminal theme maps ANSI names as it likes
(Textual's default one gives red and magenta the same RGB), which made the route, poor links and
broken routes look alike. Each role below differs clearly from every other one
(``tests/test_tui.py`` checks the distances), and the legend on the map and in the help screen
names them.
"""

from __future__ import annotations

# --- the map
ROUTE = "#00d7ff"          # the selected flow's route, hop by hop (cyan)
ROUTE_BROKEN = "#d787ff"   # a route that stops short of its destination (violet)
PERIMETER = "#ffff5f"      # a GPSR hop the last packet made in perimeter mode (yellow)
LINK_GOOD = "#5fd75f"      # links by quality (green, amber, red)
LINK_FAIR = "#ffaf00"
LINK_POOR = "#ff5f5f"
LINK_PLAIN = "#5f87af"     # a link whose delivery is not known (replay: not in the trace)
LINK_SELECTED = "#ffffff"  # the link picked in the inspector
SELECTED = "#ffffff"       # the selected node: black on white
DEAD = "#808080"           # dead nodes (grey)
FAULT = "#ff8700"          # scenario faults in force (status bar; orange)
DATA_FRAME = "#ff87d7"     # packet animation: a data frame on its way (pink)
CTRL_FRAME = "#d7af87"     # ... a control frame (tan, as control messages in the log)

# Link quality levels by the share of frames a link delivered lately (tui/link_meter.py): good
# from GOOD_AT, fair from FAIR_AT, poor below.
GOOD_AT = 0.8
FAIR_AT = 0.5

# --- the table and the log
FLASH = f"bold #000000 on {ROUTE}"   # a table row whose route just changed
STALE = f"{DEAD} italic"             # invalid / broken table rows
LOG_TIME = "#808080"
LOG_STYLE = {
    "routes": ROUTE,
    "control": "#d7af87",  # tan
    "links": "#87d7af",    # sea green
    "nodes": "bold #ffffff",
}
LOG_FOLDED = "#a8a8a8 italic"  # a line that sums up events too many to list
LOG_BAD = {  # kinds that report something lost, in the colour of the thing lost
    "route_broken": ROUTE_BROKEN, "route_discovery_failed": ROUTE_BROKEN,
    "route_expired": ROUTE_BROKEN, "route_removed": ROUTE_BROKEN,
    "link_down": LINK_POOR, "hello_link_lost": LINK_POOR,
    "node_died": f"bold {DEAD}",
}


def link_level(quality: float) -> str:
    """``good``, ``fair`` or ``poor``; ``plain`` for NaN (delivery not known)."""
    if quality != quality:
        return "plain"
    if quality >= GOOD_AT:
        return "good"
    if quality >= FAIR_AT:
        return "fair"
    return "poor"


LINK_COLOUR = {"good": LINK_GOOD, "fair": LINK_FAIR, "poor": LINK_POOR, "plain": LINK_PLAIN}

# (symbol, style, short name, meaning): the legend, in the order the map draws it.
LEGEND: tuple[tuple[str, str, str, str], ...] = (
    ("━", f"bold {ROUTE}", "route", "route of the selected flow"),
    ("━", f"bold {ROUTE_BROKEN}", "broken", "route that stops short of its destination"),
    ("━", f"bold {PERIMETER}", "perimeter", "GPSR: a hop of the last packet in perimeter mode"),
    ("━", LINK_GOOD, "good", f"link delivering ≥ {GOOD_AT:.0%} of its frames (last seconds)"),
    ("━", LINK_FAIR, "fair", f"link delivering {FAIR_AT:.0%} … {GOOD_AT:.0%} of its frames"),
    ("━", LINK_POOR, "poor", f"link delivering < {FAIR_AT:.0%} of its frames"),
    ("━", LINK_PLAIN, "link", "link whose delivery is not known (replay: not in the trace)"),
    ("━", f"bold {LINK_SELECTED}", "picked", "the link picked in the inspector (e)"),
    ("•", f"bold {DATA_FRAME}", "data", "packet animation (a): a data frame on its way"),
    ("•", f"bold {CTRL_FRAME}", "ctrl", "packet animation (a): a control frame on its way"),
    ("◆", f"bold {ROUTE}", "member", "multicast: a member of the selected flow's group now"),
    ("◉", f"bold #000000 on {SELECTED}", "selected", "selected node (its table is shown)"),
    ("✕", f"bold {DEAD}", "dead", "dead node"),
)
