"""The ontology's axioms as the rule engine reads them: its vocabulary, and where each
axiom is written.

The engine needs two things from ``ontology/*.ttl``: which IRIs are classes (used as
one-argument atoms) and which are properties (two arguments), and the axioms that
:mod:`lifecyclegraph.rules.owl` turns into rules, each with the file and line that
states it (so that ``explain`` can point a steward at it).

>>> onto = Axioms.from_turtle('''
... @prefix ex: <http://example.com/> .
... @prefix owl: <http://www.w3.org/2002/07/owl#> .
... @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
... ex:Dog a owl:Class ;
...     rdfs:subClassOf ex:Animal .
... ex:hasPet a owl:ObjectProperty .
... ''', "pets.ttl")
>>> vocabulary = onto.vocabulary()
>>> vocabulary.arity("http://example.com/Animal"), vocabulary.arity("http://example.com/hasPet")
(1, 2)
>>> str(onto.locate("http://example.com/Dog", "rdfs:subClassOf"))
'pets.ttl:6:5'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pyoxigraph import BlankNode, NamedNode, RdfFormat, Triple, parse

from lifecyclegraph.core.errors import LifecycleGraphError
from lifecyclegraph.core.ontology import data_dir, shipped_dir
from lifecyclegraph.core.vocab import PREFIXES, RDF_TYPE, compact
from lifecyclegraph.rules.program import Location

__all__ = ["OWL", "RDF", "RDFS", "Axioms", "Vocabulary"]

OWL = PREFIXES["owl"]
RDFS = PREFIXES["rdfs"]
RDF = PREFIXES["rdf"]

_CLASS_TYPES = {OWL + "Class", RDFS + "Class"}
_PROPERTY_TYPES = {
    RDF + "Property",
    *(
        OWL + name
        for name in (
            "ObjectProperty",
            "DatatypeProperty",
            "AnnotationProperty",
            "TransitiveProperty",
            "SymmetricProperty",
            "AsymmetricProperty",
            "FunctionalProperty",
            "InverseFunctionalProperty",
            "ReflexiveProperty",
            "IrreflexiveProperty",
        )
    ),
}
_CLASS_AXIOMS = {RDFS + "subClassOf", OWL + "equivalentClass"}
_PROPERTY_AXIOMS = {RDFS + "subPropertyOf", OWL + "equivalentProperty", OWL + "inverseOf"}
_PREFIX_LINE = re.compile(r"@prefix\s+([A-Za-z][\w-]*)?:\s*<([^>]*)>", re.IGNORECASE)


@dataclass(frozen=True)
class Vocabulary:
    """The classes and properties a rule may name.

    >>> Vocabulary(frozenset({"http://e/C"}), frozenset()).arity("http://e/p") is None
    True
    """

    classes: frozenset[str]
    properties: frozenset[str]

    def arity(self, iri: str) -> int | None:
        """1 for a class, 2 for a property, ``None`` for an IRI the ontology does not know."""
        if iri in self.classes:
            return 1
        if iri in self.properties:
            return 2
        return None

    def __contains__(self, iri: object) -> bool:
        return iri in self.classes or iri in self.properties

    def union(self, other: Vocabulary) -> Vocabulary:
        """Both vocabularies together."""
        return Vocabulary(self.classes | other.classes, self.properties | other.properties)


@dataclass
class _File:
    name: str
    lines: list[str]
    prefixes: dict[str, str]
    blocks: dict[str, list[int]] = field(default_factory=dict)  # subject IRI -> block starts


@dataclass
class Axioms:
    """The triples of the ontology files, each remembered with the file it came from."""

    triples: list[tuple[Triple, str]]
    files: dict[str, _File]

    @classmethod
    def load(cls, directory: str | Path | None = None, root: str | Path | None = None) -> Axioms:
        """Read every ``*.ttl`` file of ``directory`` (default: the project's ``ontology/``).

        Args:
            directory: the folder of Turtle files.
            root: if given, files are named relative to it in locations.

        Raises:
            LifecycleGraphError: if a file is not valid Turtle (with its name and line).
        """
        onto = cls([], {})
        for path in sorted(Path(directory or data_dir("ontology")).glob("*.ttl")):
            name = str(path.relative_to(root)) if root is not None else _short(path, directory)
            onto._add(path.read_text(encoding="utf-8"), name)
        return onto

    @classmethod
    def from_turtle(cls, text: str, filename: str = "<ontology>") -> Axioms:
        """An ontology from Turtle text (for tests and small programs)."""
        onto = cls([], {})
        onto._add(text, filename)
        return onto

    @classmethod
    def from_triples(cls, triples: Iterable[Triple], filename: str = "<ontology>") -> Axioms:
        """An ontology from triples already parsed (no line numbers)."""
        return cls([(t, filename) for t in triples], {})

    def _add(self, text: str, filename: str) -> None:
        try:
            triples = list(parse(text, format=RdfFormat.TURTLE, base_iri=None))
        except SyntaxError as error:
            raise LifecycleGraphError(
                f"{filename}: the ontology is not valid Turtle: {error}"
            ) from error
        self.triples.extend((t, filename) for t in triples)
        lines = text.splitlines()
        prefixes = {m.group(1) or "": m.group(2) for m in _PREFIX_LINE.finditer(text)}
        info = _File(filename, lines, prefixes)
        for number, line in enumerate(lines):
            if line and not line[0].isspace() and line[0] not in "#@":
                token = line.split()[0].rstrip(";.")
                iri = token[1:-1] if token.startswith("<") else _expand(token, prefixes)
                if iri:
                    info.blocks.setdefault(iri, []).append(number)
        self.files[filename] = info

    # -- reading --------------------------------------------------------------------

    def objects(
        self, subject: NamedNode | BlankNode, predicate: str
    ) -> list[NamedNode | BlankNode]:
        """The objects of ``subject predicate ?o`` (IRIs and blank nodes)."""
        node = NamedNode(predicate)
        found: list[NamedNode | BlankNode] = []
        for t, _ in self.triples:
            obj = t.object
            if (
                t.subject == subject
                and t.predicate == node
                and isinstance(obj, NamedNode | BlankNode)
            ):
                found.append(obj)
        return found

    def axioms(self, predicate: str) -> Iterator[tuple[Triple, str]]:
        """The triples whose predicate is ``predicate``, with their file."""
        node = NamedNode(predicate)
        return ((t, f) for t, f in self.triples if t.predicate == node)

    def typed(self, cls: str) -> Iterator[tuple[NamedNode, str]]:
        """The IRIs declared ``a cls``, with their file."""
        node = NamedNode(cls)
        for t, f in self.triples:
            if t.predicate == RDF_TYPE and t.object == node and isinstance(t.subject, NamedNode):
                yield t.subject, f

    def rdf_list(self, head: NamedNode | BlankNode) -> list[NamedNode | BlankNode]:
        """The members of the RDF list starting at ``head``."""
        items = []
        seen = set()
        node = head
        while node != NamedNode(RDF + "nil") and node not in seen:
            seen.add(node)
            first = self.objects(node, RDF + "first")
            rest = self.objects(node, RDF + "rest")
            if not first or not rest:
                break
            items.append(first[0])
            node = rest[0]
        return items

    def vocabulary(self) -> Vocabulary:
        """The IRIs this ontology declares or uses as classes and as properties."""
        classes: set[str] = set()
        properties: set[str] = set()
        for t, _ in self.triples:
            s, p, o = t.subject, t.predicate.value, t.object
            if p == RDF_TYPE.value and isinstance(s, NamedNode) and isinstance(o, NamedNode):
                if o.value in _CLASS_TYPES:
                    classes.add(s.value)
                elif o.value in _PROPERTY_TYPES:
                    properties.add(s.value)
            elif p in _CLASS_AXIOMS:
                classes.update(x.value for x in (s, o) if isinstance(x, NamedNode))
            elif p in _PROPERTY_AXIOMS:
                properties.update(x.value for x in (s, o) if isinstance(x, NamedNode))
            elif p in (RDFS + "domain", RDFS + "range") and isinstance(s, NamedNode):
                properties.add(s.value)
            elif (
                p == OWL + "propertyChainAxiom"
                and isinstance(s, NamedNode)
                and isinstance(o, NamedNode | BlankNode)
            ):
                properties.add(s.value)
                properties.update(x.value for x in self.rdf_list(o) if isinstance(x, NamedNode))
        classes.discard(OWL + "Thing")
        return Vocabulary(frozenset(classes), frozenset(properties))

    def locate(self, subject: str, *keywords: str, filename: str | None = None) -> Location:
        """Where the ontology states something about ``subject``: the first line of its
        description that mentions every keyword (``prefix:local`` names), else the
        first that mentions the first keyword, else the line that starts the description.
        """
        candidates = [self.files[filename]] if filename in self.files else []
        candidates += [f for f in self.files.values() if f.name != filename]
        for info in candidates:
            starts = info.blocks.get(subject)
            if not starts:
                continue
            wanted = [_shorten(k, info.prefixes) for k in keywords]
            for need in (wanted, wanted[:1]):
                for start in starts:
                    for number in range(start, _block_end(info.lines, start)):
                        line = info.lines[number]
                        if need and all(_mentions(line, w) for w in need):
                            column = min(line.find(f) for f in need[0] if f in line) + 1
                            return Location(info.name, number + 1, column)
            return Location(info.name, starts[0] + 1, 1)
        return Location(filename or "<ontology>", 1, 1)


def _block_end(lines: list[str], start: int) -> int:
    end = start + 1
    while end < len(lines) and (not lines[end] or lines[end][0].isspace() or lines[end][0] == "#"):
        end += 1
    return end


def _mentions(line: str, words: tuple[str, ...]) -> bool:
    return any(w in line for w in words)


def _shorten(name: str, prefixes: dict[str, str]) -> tuple[str, ...]:
    """The ways a name may be written in a file: ``prefix:local`` (with the file's own
    prefixes), ``<iri>``, and ``a`` for ``rdf:type``."""
    iri = _expand(name, PREFIXES) or name
    forms = [f"<{iri}>"]
    for prefix, base in prefixes.items():
        if iri.startswith(base) and len(iri) > len(base):
            forms.insert(0, f"{prefix}:{iri[len(base) :]}")
    if not forms[:-1]:
        forms.insert(0, compact(iri))
    return tuple(forms)


def _expand(token: str, prefixes: dict[str, str]) -> str | None:
    prefix, sep, local = token.partition(":")
    if sep and prefix in prefixes:
        return prefixes[prefix] + local
    return None


def _short(path: Path, directory: str | Path | None) -> str:
    """``ontology/models.ttl`` for a file of the shipped folder, else the path."""
    folder = Path(directory) if directory is not None else data_dir("ontology")
    if folder.resolve() == shipped_dir("ontology").resolve():
        return f"ontology/{path.name}"
    return str(path)
