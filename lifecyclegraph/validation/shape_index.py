"""Stable names for shapes, with the file and line that define each.

A named shape is called by its IRI (``lgsh:ModelShape``). An inline property shape
(``sh:property [ sh:path lg:version ; ... ]``) is a blank node, whose label pySHACL
and rdflib make anew on every run; here it is called by the shape that holds it and
its path: ``lgsh:ModelInstanceShape/lg:version``. Two inline shapes of one shape on
the same path are told apart by their order in the file (``.../lg:status#2`` for the
second). Other blank nodes are named by what holds them (``.../sh:or[1]`` for the
second member of an ``sh:or`` list). A name changes only when the shape's holder,
path or order changes, never with a new run or an edit elsewhere, so results can be
compared from one run to the next.

>>> from lifecyclegraph.validation.turtle import read_rdf
>>> doc = read_rdf('''@prefix sh: <http://www.w3.org/ns/shacl#> .
... @prefix lg: <https://w3id.org/lifecyclegraph/ontology#> .
... @prefix lgsh: <https://w3id.org/lifecyclegraph/shapes#> .
... lgsh:ModelShape a sh:NodeShape ;
...     sh:property [ sh:path lg:name ; sh:minCount 1 ] ,
...                 [ sh:path lg:name ; sh:maxCount 1 ] .
... ''', "shapes/models.ttl")
>>> index = ShapeIndex.build([doc])
>>> for shape in index.shapes():
...     print(shape.id, shape.where)
lgsh:ModelShape shapes/models.ttl:4:1
lgsh:ModelShape/lg:name shapes/models.ttl:5:17
lgsh:ModelShape/lg:name#2 shapes/models.ttl:6:17
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from lifecyclegraph.core.vocab import PREFIXES
from lifecyclegraph.validation.findings import Check
from lifecyclegraph.validation.turtle import Position, RdfDocument

__all__ = ["ShapeIndex", "ShapeInfo"]

SH = "http://www.w3.org/ns/shacl#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
_SHAPE_TYPES = {SH + "NodeShape", SH + "PropertyShape"}
_SHAPE_LINKS = {SH + "property", SH + "node", SH + "qualifiedValueShape", SH + "not"}


@dataclass(frozen=True)
class ShapeInfo:
    """A shape's stable id, where it is defined, and what it says about itself."""

    id: str
    raw: str  #: the IRI, or the blank node label of this run
    where: Position | None
    title: str  #: ``sh:name``, else ``rdfs:label``, else the id
    description: str  #: ``sh:message``, else ``sh:description`` or ``rdfs:comment``
    path: str | None  #: the property path, as text, for a property shape

    def check(self) -> Check:
        """The shape as a check of a report (SARIF rule, JUnit suite)."""
        return Check(self.id, self.title, self.description, self.where)


@dataclass
class ShapeIndex:
    """Every shape of a set of shapes files, by its raw term (IRI or blank node label)."""

    by_raw: dict[str, ShapeInfo] = field(default_factory=dict)

    @classmethod
    def build(cls, documents: Iterable[RdfDocument]) -> ShapeIndex:
        """Name every node that is described in the shapes files."""
        return _Builder(list(documents)).run()

    def name(self, raw: str) -> str:
        """The stable id of the shape whose IRI or blank node label is ``raw`` (``raw``
        itself if it is not a shape of these files)."""
        info = self.by_raw.get(raw)
        return info.id if info is not None else raw

    def get(self, raw: str) -> ShapeInfo | None:
        """The shape whose IRI or blank node label is ``raw``."""
        return self.by_raw.get(raw)

    def by_id(self) -> dict[str, ShapeInfo]:
        """The shapes by stable id."""
        return {info.id: info for info in self.by_raw.values()}

    def shapes(self) -> list[ShapeInfo]:
        """The shapes (nodes typed as shapes or held by a shape link), by place."""
        return sorted(
            (s for s in self.by_raw.values() if s.title is not None),
            key=lambda s: (s.where or Position("", 0, 0), s.id),
        )


class _Builder:
    def __init__(self, documents: list[RdfDocument]) -> None:
        self.documents = documents
        self.triples: list[tuple[Triple, RdfDocument]] = [
            (t, doc) for doc in documents for t in doc.triples
        ]
        self.values: dict[tuple[object, str], list[object]] = {}
        self.parents: dict[object, list[tuple[object, str]]] = {}
        self.prefixes: dict[str, str] = {}
        for doc in documents:
            for prefix, base in doc.prefixes.items():
                self.prefixes.setdefault(prefix, base)
        for t, _ in self.triples:
            self.values.setdefault((t.subject, t.predicate.value), []).append(t.object)
            if isinstance(t.object, BlankNode):
                self.parents.setdefault(t.object, []).append((t.subject, t.predicate.value))
        self.names: dict[object, str] = {}

    def run(self) -> ShapeIndex:
        subjects: list[object] = []
        seen: set[object] = set()
        for t, _ in self.triples:
            if t.subject not in seen:
                seen.add(t.subject)
                subjects.append(t.subject)
        named = {node: self.name(node) for node in subjects}
        where = {node: self.where(node) for node in subjects}
        # one shape, one name: the second of a name (in file order) is #2, and so on
        taken: dict[str, int] = {}
        index = ShapeIndex()
        for node in sorted(
            subjects, key=lambda n: (named[n], where[n] or Position("~", 0, 0), str(n))
        ):
            count = taken[named[node]] = taken.get(named[node], 0) + 1
            stable = named[node] if count == 1 else f"{named[node]}#{count}"
            raw = node.value if isinstance(node, NamedNode | BlankNode) else str(node)
            if not self.is_shape(node):
                continue
            path = self.first(node, SH + "path")
            index.by_raw[raw] = ShapeInfo(
                id=stable,
                raw=raw,
                where=where[node],
                title=self.text(node, SH + "name", RDFS + "label") or stable,
                description=self.text(node, SH + "message", SH + "description", RDFS + "comment")
                or "",
                path=self.path_text(path) if path is not None else None,
            )
        return index

    # -- naming -----------------------------------------------------------------------

    def name(self, node: object, depth: int = 0) -> str:
        cached = self.names.get(node)
        if cached is not None:
            return cached
        if isinstance(node, NamedNode):
            found = self.compact(node.value)
        elif depth > 20 or not self.parents.get(node):
            where = self.where(node)
            found = f"_:{where}" if where is not None else f"_:{node}"
        else:
            found = self.held_name(node, depth)
        self.names[node] = found
        return found

    def held_name(self, node: object, depth: int) -> str:
        holder, link = self.parents[node][0]
        if link in (RDF + "first", RDF + "rest"):
            head, position = self.list_head(node)
            holder, link = self.parents[head][0] if self.parents.get(head) else (head, "list")
            base = f"{self.name(holder, depth + 1)}/{self.compact(link)}[{position}]"
        else:
            base = self.name(holder, depth + 1)
            if link != SH + "property" or self.first(node, SH + "path") is None:
                base += "/" + self.compact(link)
        path = self.first(node, SH + "path")
        return f"{base}/{self.path_text(path)}" if path is not None else base

    def list_head(self, node: object) -> tuple[object, int]:
        """The first cell of the RDF list that holds ``node`` (a member or a cell), and
        the member's index."""
        cell = node
        for holder, link in self.parents.get(node, []):
            if link == RDF + "first":
                cell = holder
                break
        position = 0
        while True:
            previous = [h for h, link in self.parents.get(cell, []) if link == RDF + "rest"]
            if not previous:
                return cell, position
            cell, position = previous[0], position + 1

    def path_text(self, path: object) -> str:
        """A SHACL property path as SPARQL-like text (``lg:a/lg:b``, ``^lg:a``, ``lg:a*``)."""
        if isinstance(path, NamedNode):
            return self.compact(path.value)
        if not isinstance(path, BlankNode):
            return str(path)
        for predicate, form in (
            (SH + "inversePath", "^{}"),
            (SH + "zeroOrMorePath", "{}*"),
            (SH + "oneOrMorePath", "{}+"),
            (SH + "zeroOrOnePath", "{}?"),
        ):
            inner = self.first(path, predicate)
            if inner is not None:
                return form.format(self.path_text(inner))
        alternatives = self.first(path, SH + "alternativePath")
        if alternatives is not None:
            return "(" + "|".join(self.path_text(p) for p in self.members(alternatives)) + ")"
        members = self.members(path)
        return "/".join(self.path_text(p) for p in members) if members else "_:path"

    def members(self, head: object) -> list[object]:
        items: list[object] = []
        cell, seen = head, set()
        while isinstance(cell, BlankNode) and cell not in seen:
            seen.add(cell)
            first = self.first(cell, RDF + "first")
            if first is None:
                break
            items.append(first)
            cell = self.first(cell, RDF + "rest")
        return items

    def compact(self, iri: str) -> str:
        for prefix, base in (*PREFIXES.items(), *self.prefixes.items()):
            if iri.startswith(base) and len(iri) > len(base):
                return f"{prefix}:{iri[len(base) :]}"
        return f"<{iri}>"

    # -- facts about a node ----------------------------------------------------------

    def first(self, node: object, predicate: str) -> object | None:
        found = self.values.get((node, predicate))
        return found[0] if found else None

    def text(self, node: object, *predicates: str) -> str | None:
        for predicate in predicates:
            literals = [v for v in self.values.get((node, predicate), []) if isinstance(v, Literal)]
            english = [v for v in literals if v.language in (None, "en")]
            if english or literals:
                return (english or literals)[0].value
        return None

    def is_shape(self, node: object) -> bool:
        types = {
            v.value for v in self.values.get((node, RDF + "type"), []) if isinstance(v, NamedNode)
        }
        if types & _SHAPE_TYPES:
            return True
        if self.first(node, SH + "path") is not None or self.first(node, SH + "targetClass"):
            return True
        return any(link in _SHAPE_LINKS for _, link in self.parents.get(node, []))

    def where(self, node: object) -> Position | None:
        if not isinstance(node, NamedNode | BlankNode):
            return None
        for doc in self.documents:
            found = doc.first_as_subject(node)
            if found is not None:
                return found
        return None
