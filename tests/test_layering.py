"""The layering of lifecyclegraph, checked on every run (``tests/layering.py`` scans).

Ratchet form while issue 12's refactor is under way: ``tests/layering_allow.txt`` lists
the raw store uses and import circles that are still there. A new one fails the test,
and so does a listed one that is gone (delete its line: the list only shrinks).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import layering

import lifecyclegraph

ROOT = Path(lifecyclegraph.__file__).resolve().parent
ALLOW = Path(__file__).with_name("layering_allow.txt")
#: The store layer: the only files that may hold a pyoxigraph Store.
STORE_LAYER = ("store.py", "store/")


def _allowed(prefix: str) -> Counter[str]:
    lines = (line.strip() for line in ALLOW.read_text().splitlines())
    return Counter(
        line[len(prefix) :] for line in lines if line.startswith(prefix) and line[len(prefix) :]
    )


def _ratchet(found: Counter[str], allowed: Counter[str], what: str) -> None:
    new, gone = found - allowed, allowed - found
    message = []
    if new:
        message.append(f"new {what} (not in {ALLOW.name}):\n  " + "\n  ".join(sorted(new)))
    if gone:
        message.append(
            f"fixed {what}: delete these lines of {ALLOW.name}:\n  " + "\n  ".join(sorted(gone))
        )
    assert not message, "\n".join(message)


def test_no_new_raw_store_use_outside_the_store_layer():
    found = Counter(f.key for f in layering.raw_store_uses(ROOT, STORE_LAYER))
    _ratchet(found, _allowed("store: "), "raw store uses")


def test_no_new_import_circle():
    found = Counter(" <-> ".join(c) for c in layering.cycles(layering.imports(ROOT)))
    _ratchet(found, _allowed("circle: "), "import circles")


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "lifecyclegraph"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_scanner_finds_a_lazy_circle_and_a_raw_store_call(tmp_path):
    root = _package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from lifecyclegraph.b import B\n",
            "b.py": "B = 1\n\ndef later():\n    from lifecyclegraph import a\n",
            "c.py": "def f(graph):\n    return graph.store.current.quads_for_pattern(None)\n",
            "d.py": "from pyoxigraph import Store\n",
            "store/__init__.py": "from pyoxigraph import Store\n",
        },
    )
    found = layering.imports(root)
    assert layering.cycles(found) == [["lifecyclegraph.a", "lifecyclegraph.b"]]
    lazy = [i for i in found if i.source == "lifecyclegraph.b"]
    assert [(i.target, i.lazy) for i in lazy] == [("lifecyclegraph.a", True)]
    uses = layering.raw_store_uses(root, ("store/",))
    assert [(f.path, f.kind) for f in uses] == [
        ("lifecyclegraph/c.py", "calls .quads_for_pattern on a raw store"),
        ("lifecyclegraph/d.py", "imports pyoxigraph.Store"),
    ]


def test_the_scanner_sees_a_circle_through_a_package_init(tmp_path):
    # pkg/__init__ imports pkg.m, which imports q; q imports pkg.n: importing pkg.n runs
    # pkg/__init__ first, so q -> pkg -> pkg.m -> q is a circle Python would trip on.
    root = _package(
        tmp_path,
        {
            "__init__.py": "",
            "pkg/__init__.py": "from lifecyclegraph.pkg.m import M\n",
            "pkg/m.py": "from lifecyclegraph.q import Q\nM = Q\n",
            "pkg/n.py": "N = 1\n",
            "q.py": "from lifecyclegraph.pkg.n import N\nQ = N\n",
        },
    )
    circles = layering.cycles(layering.imports(root))
    assert circles == [["lifecyclegraph.pkg", "lifecyclegraph.pkg.m", "lifecyclegraph.q"]]


def test_the_scanner_counts_type_checking_imports_unless_told(tmp_path):
    root = _package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
            "    from lifecyclegraph.b import B\n",
            "b.py": "from lifecyclegraph.a import TYPE_CHECKING\n",
        },
    )
    found = layering.imports(root)
    assert layering.cycles(found) == [["lifecyclegraph.a", "lifecyclegraph.b"]]
    assert layering.cycles(found, type_only=False) == []


def test_allow_list_lines_are_well_formed():
    lines = ALLOW.read_text().splitlines()
    bad = [x for x in lines if x.strip() and not x.startswith(("#", "store: ", "circle: "))]
    assert not bad
