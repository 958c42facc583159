"""Protocols are sans-I/O (DESIGN §3): they never import sockets, clocks, threads, event loops,
kernel bindings or a backend, so the same code runs in the simulator and on netns."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from meshnet.protocol_api import DecodeError
from protocols.aodv import wire as aodv_wire
from protocols.dsdv import wire as dsdv_wire

PROTOCOLS = Path(__file__).resolve().parent.parent / "protocols"
FORBIDDEN = ("socket", "asyncio", "time", "threading", "pyroute2", "meshnet.sim", "meshnet.netns",
             "meshnet.tui", "selectors", "subprocess")


def imported_modules(path: Path) -> set[str]:
    """Every absolute module an ``import`` or ``from ... import`` names, including
    ``from meshnet import sim`` (as ``meshnet.sim``)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


def forbidden(module: str) -> bool:
    return any(module == f or module.startswith(f + ".") for f in FORBIDDEN)


def test_the_scan_sees_every_import_form(tmp_path):
    src = tmp_path / "m.py"
    src.write_text("import os, socket as s\nfrom time import monotonic\nfrom meshnet import sim\n"
                   "def f():\n    import asyncio\n")
    assert {m for m in imported_modules(src) if forbidden(m)} == {
        "socket", "time", "time.monotonic", "meshnet.sim", "asyncio"}


def test_no_protocol_module_imports_io_clocks_or_backends():
    files = sorted(PROTOCOLS.rglob("*.py"))
    assert len(files) > 10
    bad = {str(f.relative_to(PROTOCOLS)): sorted(m for m in imported_modules(f) if forbidden(m))
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
