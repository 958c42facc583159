"""Protocols are sans-I/O (docs/protocols.md): the same code runs in the simulator, on netns and in unit
tests, and a run is deterministic per seed. So a protocol module may import only the protocol
contract, its own package's modules (relative imports) and an allowlist of pure standard-library
modules: no sockets, clocks, threads, event loops, files, kernel bindings or backends, and no
``random`` (protocols draw from ``ctx.random``, seeded per node)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from meshnet.protocol_api import DecodeError
from protocols.aodv import wire as aodv_wire
from protocols.dsdv import wire as dsdv_wire

PROTOCOLS = Path(__file__).resolve().parent.parent / "protocols"

# Pure computation only: nothing here reads a clock, the environment, a file or the network, or
# draws unseeded random numbers.
ALLOWED = frozenset({
    "__future__", "abc", "bisect", "collections", "collections.abc", "dataclasses", "enum",
    "functools", "heapq", "ipaddress", "itertools", "math", "operator", "struct", "typing",
    "meshnet.protocol_api",
    # authenticated control messages (protocols/auth.py): keyed digests are pure functions of
    # their input, with no clock, randomness or I/O
    "hashlib", "hmac",
})


def imports(path: Path, depth: int | None = None) -> set[str]:
    """Every module an ``import`` or ``from ... import`` names, at any depth (also inside
    functions and ``if TYPE_CHECKING``). ``from a import b`` counts as ``a``, or as ``a.b`` when
    ``a`` itself is not allowed (so ``from meshnet import protocol_api`` passes and ``from meshnet
    import sim`` does not). Relative imports within protocols/ (``from . import wire``,
    ``from ..aodv import x``) are left out; one that climbs out of it (protocols/ is installed
    as ``meshnet.protocols``, so ``from .. import sim`` in protocols/flooding.py is
    ``meshnet.sim``) is kept as written, dots and all. ``depth``: how many package levels the
    file sits below protocols/ and including it (1 for protocols/flooding.py)."""
    if depth is None:
        depth = len(path.relative_to(PROTOCOLS).parts)
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level > depth:
            out.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            module = node.module or ""
            if module in ALLOWED:
                out.add(module)
            else:
                out.update(f"{module}.{alias.name}" for alias in node.names)
    return out


def not_allowed(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m not in ALLOWED)


def dynamic_imports(path: Path) -> list[str]:
    """Calls that import by name at run time (``__import__``, ``importlib.import_module``)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call):
            f = node.func
            name = getattr(f, "id", None) or getattr(f, "attr", "")
            if name in ("__import__", "import_module"):
                out.append(f"{path.name}:{node.lineno}")
    return out


def test_the_scan_flags_everything_outside_the_allowlist(tmp_path):
    src = tmp_path / "m.py"
    src.write_text("import random\nimport os, socket as s\nfrom time import monotonic\n"
                   "from meshnet import sim\nfrom meshnet.protocol_api import Packet\n"
                   "import collections.abc\nfrom . import wire\nfrom .params import P\n"
                   "def f():\n    import asyncio\n    return __import__('os')\n"
                   "from .. import sim\nfrom ...netns import agents\n")
    assert not_allowed(imports(src, depth=2)) == [
        "...netns", "asyncio", "meshnet.sim", "os", "random", "socket", "time.monotonic"]
    assert not_allowed(imports(src, depth=1)) == [
        "..", "...netns", "asyncio", "meshnet.sim", "os", "random", "socket", "time.monotonic"]
    assert dynamic_imports(src) == ["m.py:11"]


def test_the_scan_accepts_the_allowlist_and_relative_imports(tmp_path):
    src = tmp_path / "m.py"
    src.write_text("".join(f"import {m}\n" for m in sorted(ALLOWED - {"__future__"}))
                   + "from __future__ import annotations\nfrom typing import Any\n"
                   "from meshnet.protocol_api import BROADCAST, Protocol\n"
                   "from meshnet import protocol_api\nfrom collections import abc\n"
                   "from . import wire\nfrom .table import Table\nfrom ..dsdv import wire\n")
    assert not_allowed(imports(src, depth=2)) == []
    assert dynamic_imports(src) == []


def test_protocol_modules_import_only_the_allowlist():
    files = sorted(PROTOCOLS.rglob("*.py"))
    assert len(files) > 10
    bad = {str(f.relative_to(PROTOCOLS)): not_allowed(imports(f)) + dynamic_imports(f)
           for f in files}
    assert {f: m for f, m in bad.items() if m} == {}


@pytest.mark.parametrize("raw,text", [(b"\x00\x00\x00\x00", "0.0.0.0"),
                                      (b"\x0a\x63\x00\x11", "10.99.0.17"),
                                      (b"\xff\xff\xff\xff", "255.255.255.255")])
def test_addresses_round_trip_through_both_wire_formats(raw, text):
    rreq = aodv_wire.RREQ(7, text, 1, "10.0.0.1", 2, hop_count=0)
    assert aodv_wire.decode(aodv_wire.encode(rreq)).dst == text
    assert raw in aodv_wire.encode(rreq)
    update = dsdv_wire.Update(True, (dsdv_wire.Entry(text, 2, 1),))
    data = dsdv_wire.encode(update)
    assert raw in data and dsdv_wire.decode(data) == update


@pytest.mark.parametrize("bad", ["10.1", "10.0.0.256", "10.0.0", "a.b.c.d", "", 5, b"\n\0\0\1"])
def test_dsdv_rejects_a_bad_destination_with_value_error(bad):
    with pytest.raises(ValueError):
        dsdv_wire.encode(dsdv_wire.Update(False, (dsdv_wire.Entry(bad, 2, 1),)))


def test_decoders_still_raise_decode_error_only():
    with pytest.raises(DecodeError):
        dsdv_wire.decode(b"\x01\x00\x00\x01" + b"\x0a\x00\x00")
    with pytest.raises(DecodeError):
        aodv_wire.decode(b"\x01" + b"\x00" * 10)
