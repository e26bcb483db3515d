"""The layering of lifecyclegraph (issue 12), checked on every run; ``tests/layering.py``
scans the package's source: imports (lazy, ``TYPE_CHECKING`` and package ``__init__``
edges included) and raw uses of a pyoxigraph ``Store``.

The layers, bottom to top, are drawn in ``docs/architecture.md``; :data:`MAY_IMPORT` is
the same table. A new import that climbs a layer, a new import circle, or a raw store
outside ``store/`` fails here with the file and the line of source text.
"""

from __future__ import annotations

import re
from pathlib import Path

import layering

import lifecyclegraph

ROOT = Path(lifecyclegraph.__file__).resolve().parent
#: The store layer: the only files that may hold a pyoxigraph Store.
STORE_LAYER = ("store/",)

#: Package -> the packages (and single modules) it may import, its own included.
MAY_IMPORT: dict[str, set[str]] = {
    "core": {"core"},
    "store": {"core", "store"},
    "rules": {"core", "store", "rules"},
    "validation": {"core", "rules", "validation"},  # lint reads the rule language
    "providers": {"core", "providers"},
    "search": {"core", "store", "search"},
    "graph": {"core", "store", "validation", "rules", "search", "graph"},
    "ingest": {"core", "store", "validation", "providers", "graph", "ingest"},
    "read": {"core", "store", "rules", "search", "graph", "read"},
    # the portal: pages over the door and the read views (no HTTP: the routes are server's)
    "portal": {"core", "store", "rules", "search", "graph", "read", "portal"},
    "server": {
        *("core", "store", "validation", "providers", "rules", "search"),
        *("graph", "ingest", "read", "portal", "server"),
    },
    # the query builder: the door's SPARQL, named as the ontology and GraphQL name things
    "builder": {"core", "store", "rules", "validation", "graph", "read", "builder"},
    # the sandbox is a set of source systems: it shares only the uvicorn helpers
    "sandbox": {"core", "providers", "sandbox", "server", "server.serving"},
}
#: The top: may import anything (and nothing below may import them).
TOP = {"cli", "bench", "demo", "example", "__main__", "_compat"}

#: Raw store uses outside ``store/`` and why they are there.
RAW_STORE_ALLOWED = {
    "lifecyclegraph/bench/store.py": "the baseline: plain Oxigraph bulk loads and reads",
    "lifecyclegraph/bench/floor.py": "the floor: plain Oxigraph writing a backfill's quads",
    "lifecyclegraph/bench/rules.py": "the baseline: a property-path INSERT on plain Oxigraph",
    "lifecyclegraph/bench/sparql.py": "counts the store's quads for the report",
    "lifecyclegraph/bench/scale.py": "dumps the stopped service's current dataset for "
    "oxigraph serve, the comparison",
    "lifecyclegraph/server/service.py": "hands the store port to the SPARQL pool and the "
    "rule engine it runs",
}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_no_raw_store_outside_the_store_layer():
    found = [
        str(f)
        for f in layering.raw_store_uses(ROOT, STORE_LAYER)
        if f.path not in RAW_STORE_ALLOWED
    ]
    assert found == []


def test_no_import_circle_between_files():
    assert layering.cycles(layering.imports(ROOT)) == []


def test_each_layer_imports_only_the_layers_below():
    climbing = sorted(
        {
            f"{i.source} -> {i.target}" + (" (lazy)" if i.lazy else "")
            for i in layering.imports(ROOT)
            if _layer(i.source) in MAY_IMPORT
            and i.target != "lifecyclegraph"
            and _layer(i.target) not in MAY_IMPORT[_layer(i.source)]
            and ".".join(i.target.split(".")[1:3]) not in MAY_IMPORT[_layer(i.source)]
        }
    )
    assert climbing == []


def test_the_core_never_imports_the_command_line_benchmarks_or_sandbox():
    core = [i for i in layering.imports(ROOT) if _layer(i.source) == "core"]
    assert core, "the scanner found no import in core/"
    assert [i.target for i in core if _layer(i.target) in {"cli", "bench", "sandbox"}] == []


def test_every_package_has_a_place_in_the_layers():
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    assert packages - set(MAY_IMPORT) - TOP == set()


def test_at_most_eight_loose_modules_at_the_top():
    loose = sorted(p.name for p in ROOT.glob("*.py") if p.name != "__init__.py")
    assert len(loose) <= 8, loose


def test_the_raw_store_allowances_are_all_still_needed():
    used = {f.path for f in layering.raw_store_uses(ROOT, STORE_LAYER)}
    assert set(RAW_STORE_ALLOWED) <= used


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


def test_the_architecture_doc_draws_every_layer_and_names_real_paths():
    doc = (ROOT.parent / "docs" / "architecture.md").read_text()
    for package in MAY_IMPORT:
        assert f"| `{package}/` |" in doc, f"docs/architecture.md has no row for {package}/"
    named = set(re.findall(r"lifecyclegraph/[\w/]+\.py|lifecyclegraph/[\w/]+/", doc))
    missing = sorted(p for p in named if "<" not in p and not (ROOT.parent / p).exists())
    assert missing == []
