"""Protocol plug-in discovery through the ``meshnet.protocols`` entry-point group.

A third-party package registers ``[project.entry-points."meshnet.protocols"] myproto = "pkg:Cls"``
and meshnet finds it without any change here.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from .protocol_api import Protocol

GROUP = "meshnet.protocols"


class UnknownProtocolError(LookupError):
    pass


def _entries() -> dict:
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def protocol_names() -> list[str]:
    return sorted(_entries())


def load_protocol(name: str) -> type[Protocol]:
    eps = _entries()
    ep = eps.get(name)
    if ep is None:
        raise UnknownProtocolError(
            f"unknown protocol {name!r}; registered: {', '.join(sorted(eps)) or '(none)'}")
    try:
        cls = ep.load()
    except Exception as e:  # a broken plug-in must not take the CLI down
        raise UnknownProtocolError(f"protocol {name!r} failed to load: {e}") from None
    if not (isinstance(cls, type) and issubclass(cls, Protocol)):
        raise UnknownProtocolError(f"protocol {name!r} ({ep.value}) is not a Protocol subclass")
    return cls


def describe_protocols() -> list[dict]:
    """One record per registered plug-in, for ``meshnet protocols``."""
    import dataclasses

    out = []
    for name in protocol_names():
        try:
            cls = load_protocol(name)
        except UnknownProtocolError as e:
            out.append({"name": name, "error": str(e)})
            continue
        params = {f.name: getattr(cls.Params(), f.name) for f in dataclasses.fields(cls.Params)}
        kind = ("multicast" if getattr(cls, "multicast", False) else "per-packet"
                if cls.per_packet else ("reactive" if cls.reactive else "proactive"))
        out.append({"name": name, "kind": kind, "port": cls.port,
                    "description": cls.description or (cls.__doc__ or "").strip().split("\n")[0],
                    "module": _entries()[name].value, "params": params})
    return out
