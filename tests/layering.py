"""A scanner of lifecyclegraph's imports and of raw store access, for the layering test.

It parses every file of a package with :mod:`ast`, so function-level ("lazy") imports
and ``TYPE_CHECKING`` imports are seen as well as top-level ones, and reports:

* the file-level import graph (:func:`imports`): ``from pkg import submodule`` is an
  edge to the submodule's file; importing a module is also an edge to the
  ``__init__`` of every package above it that the importer is not itself inside of
  (Python runs that ``__init__`` first: a circle through it is a real one);
* its circles (:func:`cycles`, Tarjan's strongly connected components);
* every place outside the store layer that imports or makes a pyoxigraph ``Store``,
  calls a ``Store`` method on something that looks like a store, reaches into a
  snapshot store's ``current``/``archive`` datasets, or goes through another
  object's ``.store`` (``graph.store.state(...)``; an object's own ``self.store`` is
  its business, which the import rules judge) (:func:`raw_store_uses`).

Run it from the project root to print what it finds::

    python tests/layering.py lifecyclegraph
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

#: Methods of pyoxigraph's Store that read or write quads or run SPARQL.
STORE_METHODS = frozenset(
    {
        "quads_for_pattern", "query", "update", "load", "bulk_load", "extend",
        "bulk_extend", "add", "remove", "dump", "backup", "flush", "optimize",
        "named_graphs", "contains_named_graph", "add_graph", "clear_graph",
        "remove_graph", "clear", "read_only",
    }
)  # fmt: skip
#: Method names common on lists, dicts and sets too: reported only when the receiver
#: looks like a store (see :func:`_storeish`).
AMBIGUOUS = frozenset(
    {"update", "extend", "add", "remove", "clear", "load", "dump", "flush", "query"}
)
#: The snapshot store's private parts: its two pyoxigraph datasets.
RAW_ATTRIBUTES = frozenset({"current", "archive"})
#: Methods of the store port (lifecyclegraph.store.port) named like a Store's: called
#: on an object's own ``self.store``, they are the port's.
PORT_METHODS = frozenset({"query"})


@dataclass(frozen=True)
class Finding:
    """One place that touches the store's insides."""

    path: str  #: from the project root, ``lifecyclegraph/x/y.py``
    line: int
    kind: str
    text: str

    @property
    def key(self) -> str:
        """The finding without its line number (which every edit above it shifts)."""
        return f"{self.path}: {self.kind}: {self.text}"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.kind}: {self.text}"


@dataclass(frozen=True)
class Import:
    """One import of a module of the package by another."""

    source: str  #: the importing module (dotted)
    target: str  #: the imported module (dotted), a file of the package
    path: str
    line: int
    text: str
    lazy: bool  #: inside a function or method
    type_only: bool  #: under ``if TYPE_CHECKING``
    implicit: bool = False  #: a package ``__init__`` run because a module below it is

    def __str__(self) -> str:
        how = " (lazy)" if self.lazy else " (type only)" if self.type_only else ""
        via = " (its package __init__)" if self.implicit else ""
        return f"{self.path}:{self.line}{how} -> {self.target}{via}: {self.text}"


def _shown(root: Path, path: Path) -> str:
    return path.relative_to(root.parent).as_posix()


def modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file under the package ``root``."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The longest prefix of ``name`` that is a module of the package."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in known:
            return candidate
        parts.pop()
    return None


class _Visitor(ast.NodeVisitor):
    def __init__(self, root: Path, module: str, path: Path, source: str, known: dict[str, Path]):
        self.root, self.module, self.path, self.known = root, module, path, known
        self.lines = source.splitlines()
        self.depth = 0
        self.type_only = 0
        self.imports: list[Import] = []
        self.package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        self.top = module.split(".")[0]

    def _text(self, node: ast.stmt) -> str:
        return " ".join(line.strip() for line in self.lines[node.lineno - 1 : node.end_lineno])

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_If(self, node: ast.If) -> None:
        if ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            self.type_only += 1
            for child in node.body:
                self.visit(child)
            self.type_only -= 1
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def _add(self, target: str | None, node: ast.stmt) -> None:
        if target is None or target == self.module:
            return
        text, lazy, type_only = self._text(node), self.depth > 0, self.type_only > 0
        shown = _shown(self.root, self.path)
        self.imports.append(Import(self.module, target, shown, node.lineno, text, lazy, type_only))
        # Importing a.b.c runs a/b/__init__ first, unless the importer is inside a.b
        # already (then that __init__ is running or ran). The top package is left out:
        # it is always the first to run.
        parts = target.split(".")
        for end in range(2, len(parts)):
            package = ".".join(parts[:end])
            if package != self.module and not self.module.startswith(package + "."):
                self.imports.append(
                    Import(self.module, package, shown, node.lineno, text, lazy, type_only, True)
                )

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.split(".")[0] == self.top:
                self._add(_resolve(alias.name, self.known), node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = self.package.split(".")
            base = base[: len(base) - node.level + 1]
            name = ".".join(base + ([node.module] if node.module else []))
        else:
            name = node.module or ""
        if name.split(".")[0] != self.top:
            return
        for alias in node.names:  # ``from pkg import submodule`` imports the submodule
            full = f"{name}.{alias.name}"
            self._add(full if full in self.known else _resolve(name, self.known), node)


def imports(root: Path) -> list[Import]:
    """Every import between modules of the package ``root``, one per (line, target)."""
    known = modules(root)
    unique: dict[tuple[str, int, str], Import] = {}
    for module, path in known.items():
        source = path.read_text()
        visitor = _Visitor(root, module, path, source, known)
        visitor.visit(ast.parse(source, str(path)))
        for imp in visitor.imports:
            unique.setdefault((imp.path, imp.line, imp.target), imp)
    return list(unique.values())


def cycles(found: Iterable[Import], *, type_only: bool = True) -> list[list[str]]:
    """The import circles: strongly connected components of more than one module,
    each sorted, in order. ``type_only=False`` leaves ``TYPE_CHECKING`` imports out."""
    graph: dict[str, set[str]] = defaultdict(set)
    for imp in found:
        if type_only or not imp.type_only:
            graph[imp.source].add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def circle_edges(found: Iterable[Import], circle: list[str]) -> list[Import]:
    """The imports that make one circle, in file order."""
    members = set(circle)
    return sorted(
        (i for i in found if i.source in members and i.target in members),
        key=lambda i: (i.path, i.line, i.target),
    )


def _storeish(receiver: str) -> bool:
    tail = receiver.rsplit(".", 1)[-1]
    return tail in RAW_ATTRIBUTES or tail in ("store", "_store", "dataset", "_dataset", "copy")


_STRENGTH = (
    "imports pyoxigraph.Store",
    "makes a pyoxigraph Store",
    "calls",
    "reaches into",
    "goes through <x>.store",
    "takes <x>.store",
)


def _rank(finding: Finding) -> int:
    return next(i for i, k in enumerate(_STRENGTH) if finding.kind.startswith(k))


def _findings(tree: ast.AST, shown: str) -> Iterator[Finding]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "pyoxigraph":
            if any(a.name == "Store" for a in node.names):
                yield Finding(shown, node.lineno, "imports pyoxigraph.Store", ast.unparse(node))
        elif isinstance(node, ast.Call):
            func = node.func
            text = ast.unparse(node)
            if isinstance(func, ast.Name) and func.id == "Store":
                yield Finding(shown, node.lineno, "makes a pyoxigraph Store", text)
            elif isinstance(func, ast.Attribute) and func.attr in STORE_METHODS:
                receiver = ast.unparse(func.value)
                if receiver == "Store":
                    yield Finding(shown, node.lineno, "makes a pyoxigraph Store", text)
                elif receiver == "self.store" and func.attr in PORT_METHODS:
                    pass
                elif func.attr not in AMBIGUOUS or _storeish(receiver):
                    yield Finding(shown, node.lineno, f"calls .{func.attr} on a raw store", text)
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            receiver = ast.unparse(node.value)
            if "config" in receiver:  # Config.store is the [store] table, not the store
                continue
            if node.attr in RAW_ATTRIBUTES and receiver.endswith("store"):
                yield Finding(shown, node.lineno, f"reaches into .{node.attr}", ast.unparse(node))
            elif (
                isinstance(node.value, ast.Attribute)
                and node.value.attr == "store"
                and ast.unparse(node.value.value) != "self"  # an object's own store port
                and node.attr not in RAW_ATTRIBUTES
            ):
                yield Finding(shown, node.lineno, "goes through <x>.store", ast.unparse(node))
            elif node.attr == "store" and receiver != "self":
                yield Finding(shown, node.lineno, "takes <x>.store", receiver + ".store")
    # A local alias (``store = graph.store``): its method calls go through the store too.
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        aliases = {
            target.id
            for node in ast.walk(function)
            if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "store"
            and ast.unparse(node.value) != "self.store"
            and "config" not in ast.unparse(node.value)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for node in ast.walk(function):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in aliases
            ):
                yield Finding(shown, node.lineno, "goes through <x>.store", ast.unparse(node))


def raw_store_uses(root: Path, store_layer: Iterable[str] = ()) -> list[Finding]:
    """Places outside the store layer that hold or use a pyoxigraph ``Store``, reach
    into a snapshot store's datasets, or go through ``<x>.store``: one finding per line
    (the strongest kind), in file order.

    ``store_layer`` lists files, or folders ending in ``/``, relative to ``root``.
    """
    layer = tuple(store_layer)
    out: list[Finding] = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel in layer or any(rel.startswith(p) for p in layer if p.endswith("/")):
            continue
        best: dict[int, Finding] = {}
        for finding in _findings(ast.parse(path.read_text(), str(path)), _shown(root, path)):
            kept = best.get(finding.line)
            if kept is None or _rank(finding) < _rank(kept):
                best[finding.line] = finding
        out.extend(best[line] for line in sorted(best))
    return out


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else "lifecyclegraph").resolve()
    found = imports(root)
    print("# Raw store access")
    for finding in raw_store_uses(root, ("store.py", "store/")):
        print(finding)
    print("\n# Import circles (lazy and TYPE_CHECKING imports included)")
    for circle in cycles(found):
        print(" <-> ".join(circle))
        for imp in circle_edges(found, circle):
            print(f"    {imp}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
