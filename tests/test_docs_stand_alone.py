"""The project's docs stand alone: code and docs cite files inside the repository, never a
design document kept elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("meshnet", "protocols", "topologies", "tui", "tests", "docs", "benchmarks",
           "scenarios")


def test_no_file_cites_a_document_outside_the_repository():
    pattern = re.compile(r"DESIGN(\.md)?\b|\.\./shared/")
    me = Path(__file__).resolve()
    hits = [f"{p.relative_to(ROOT)}:{n}"
            for folder in FOLDERS for p in (ROOT / folder).rglob("*")
            if p.suffix in (".py", ".md", ".toml", ".tcss") and p.resolve() != me
            for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1)
            if pattern.search(line)]
    hits += [f"README.md:{n}" for n, line in
             enumerate((ROOT / "README.md").read_text().splitlines(), 1) if pattern.search(line)]
    assert hits == []
