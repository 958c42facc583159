"""The selected flow in words, under the map: its route written out node by node (shortened in
the middle to fit: ``n32 → n23 → … → n38``), its hops and age, whether it is broken, when the
flow starts or ended, and how many of its packets arrived."""

from __future__ import annotations

from .view import FlowInfo, Picture, packet_text

ARROW = " → "
GAP = "…"


def path_text(names: list[str], width: int) -> str:
    """``names`` joined by arrows in at most ``width`` cells where possible: nodes are left out
    in the middle (``…``), the ends always stay."""
    full = ARROW.join(names)
    if len(full) <= width or len(names) <= 2:
        return full
    head, tail = [names[0]], [names[-1]]
    inner = names[1:-1]
    lo, hi = 0, len(inner)  # inner[lo:hi] is left out
    take_head = True
    while lo < hi:
        nxt = (head + [inner[lo]], tail) if take_head else (head, [inner[hi - 1]] + tail)
        if len(ARROW.join([*nxt[0], GAP, *nxt[1]])) > width:
            break
        head, tail = nxt
        if take_head:
            lo += 1
        else:
            hi -= 1
        take_head = not take_head
    if lo >= hi:
        return full
    return ARROW.join([*head, GAP, *tail])


def flow_text(flow: FlowInfo, picture: Picture, protocol: str, per_packet: bool,
              width: int) -> str:
    """One line about ``flow`` in at most ``width`` cells when it can be done by shortening the
    route (the other facts are kept whole)."""
    names = picture.nodes
    label = f"flow {flow.id}: "
    if flow.group:
        return label + multicast_text(flow, picture, width - len(label))
    ends = f"{names[flow.src].name}{ARROW}{names[flow.dst].name}"
    delivered = (f" · {picture.flow_delivered}/{picture.flow_sent} delivered"
                 if picture.flow_sent else "")
    if picture.now < flow.start:
        return f"{label}{ends} · starts at {flow.start:.1f} s"
    if per_packet:  # no table to follow: each packet finds its own way
        return f"{label}{ends} · {protocol}{packet_text(picture)}{delivered}"
    route = [names[i].name for i in picture.route]
    if picture.route_gaps:
        k = picture.route_gaps[0]
        state = f" · broken at {route[k]}→{route[k + 1]} (no link)"
    elif not names[flow.dst].alive:
        state = f" · destination {names[flow.dst].name} dead"
    elif not picture.route_complete:
        if len(route) <= 1:
            route = [names[flow.src].name, names[flow.dst].name]
            state = " · no route"
        else:
            state = f" · no route on from {route[-1]} to {names[flow.dst].name}"
    else:
        hops = len(route) - 1
        state = f" · {hops} hop{'s' if hops != 1 else ''}"
        if picture.route_since is not None:
            state += f" · age {max(picture.now - picture.route_since, 0.0):.1f} s"
    if picture.now >= flow.stop:
        state += f" · ended at {flow.stop:.1f} s"
    rest = state + delivered
    return label + path_text(route, width - len(label) - len(rest)) + rest


def multicast_text(flow: FlowInfo, picture: Picture, width: int) -> str:
    """A multicast flow: source, group, its members now (as many as fit) and the member
    deliveries made of those due."""
    names = picture.nodes
    group = (flow.group if flow.group == flow.group_address  # a trace has no group names
             else f"{flow.group} ({flow.group_address})")
    head = f"{names[flow.src].name}{ARROW}{group}"
    if picture.now < flow.start:
        return f"{head} · starts at {flow.start:.1f} s"
    count = len(picture.members)
    state = f" · {count} member{'s' if count != 1 else ''}"
    if picture.flow_sent:
        state += f" · {picture.flow_delivered}/{picture.flow_sent} member deliveries"
    if picture.now >= flow.stop:
        state += f" · ended at {flow.stop:.1f} s"
    return head + member_list([names[i].name for i in picture.members],
                              width - len(head) - len(state) - 3) + state


def member_list(listed: list[str], room: int) -> str:
    """`` · n5 n9 n12 +3``: as many names as fit in ``room`` cells and how many more; empty
    when not even one fits."""
    shown: list[str] = []
    for k, name in enumerate(listed):
        rest = len(listed) - k - 1
        more = len(f" +{rest}") if rest else 0
        if len(" ".join([*shown, name])) + more > room:
            break
        shown.append(name)
    if not shown:
        return ""
    rest = len(listed) - len(shown)
    return " · " + " ".join(shown) + (f" +{rest}" if rest else "")
