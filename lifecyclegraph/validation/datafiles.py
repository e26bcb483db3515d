"""Data files to validate before ingestion: Turtle, N-Triples and JSON-LD.

:func:`data_files` expands the paths given (a folder: every data file under it);
:func:`read_data_file` parses one, the syntax told by its extension, with positions
(Turtle and N-Triples: each triple's place; JSON-LD: the line where a subject's IRI is
first written as a JSON string); :func:`collect` turns the triples of all files into
entities as the store holds them: one per subject IRI, with its classes, and where it
is first described. Blank nodes and RDF-star triple terms cannot be stored (entities
are named): each is a finding.

>>> doc = read_data_file_text('''@prefix lg: <https://w3id.org/lifecyclegraph/ontology#> .
... <aip://model/registry/m> a lg:Model ; lg:name "M" .
... ''', "data/m.ttl")
>>> data = collect([doc])
>>> [(f.uri, str(data.where[f.uri])) for f in data.entities]
[('aip://model/registry/m', 'data/m.ttl:2:1')]
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Triple

from lifecyclegraph.core.errors import ConfigError
from lifecyclegraph.core.facts import Facts
from lifecyclegraph.core.vocab import RDF_TYPE
from lifecyclegraph.validation.findings import Finding
from lifecyclegraph.validation.sources import display_path
from lifecyclegraph.validation.turtle import Position, RdfDocument, read_rdf

__all__ = [
    "DATA_FORMATS",
    "DataSet",
    "collect",
    "data_files",
    "read_data_file",
    "read_data_file_text",
]

#: The data file extensions ``validate`` reads, and their syntax.
DATA_FORMATS = {
    ".ttl": RdfFormat.TURTLE,
    ".turtle": RdfFormat.TURTLE,
    ".nt": RdfFormat.N_TRIPLES,
    ".jsonld": RdfFormat.JSON_LD,
    ".json": RdfFormat.JSON_LD,
}


def data_files(paths: Iterable[Path]) -> list[Path]:
    """The files to read: each file given, and each data file under each folder given.

    Raises:
        ConfigError: a path does not exist, or a file given has an unknown extension.
    """
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in DATA_FORMATS)
            )
        elif not path.exists():
            raise ConfigError(f"{path}: no such file or folder")
        elif path.suffix.lower() not in DATA_FORMATS:
            known = ", ".join(DATA_FORMATS)
            raise ConfigError(f"{path}: cannot tell the syntax of the file from its name ({known})")
        else:
            found.append(path)
    return found


def read_data_file(path: Path) -> RdfDocument:
    """Parse one data file, the syntax told by its extension.

    Raises:
        ConfigError: the file cannot be read.
        TurtleSyntaxError: it does not parse (with the line and column).
    """
    name = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{name}: cannot read: {error}") from error
    return read_data_file_text(text, name, DATA_FORMATS[path.suffix.lower()])


def read_data_file_text(text: str, name: str, format: RdfFormat = RdfFormat.TURTLE) -> RdfDocument:
    """Parse a data file's text (see :func:`read_data_file`)."""
    doc = read_rdf(text, name, format)
    if format == RdfFormat.JSON_LD:
        doc.subject_positions = _json_positions(text, name, doc)
    return doc


def _json_positions(text: str, name: str, doc: RdfDocument) -> dict[object, Position]:
    """Where each subject IRI is first written as a JSON string (the JSON-LD parser
    keeps no positions; a compacted IRI is not found, and its entity has no line)."""
    starts = [0, *(m.end() for m in re.finditer(r"\n", text))]
    found: dict[object, Position] = {}
    for subject in {t.subject for t in doc.triples if isinstance(t.subject, NamedNode)}:
        offset = text.find(json.dumps(subject.value)[1:-1].join('""'))
        if offset < 0:
            continue
        line = max(i for i, start in enumerate(starts) if start <= offset) + 1
        found[subject] = Position(name, line, offset - starts[line - 1] + 1)
    return found


@dataclass
class DataSet:
    """The entities of a set of data files.

    Attributes:
        entities: one per subject IRI, with every pair of every file, by IRI.
        types: each IRI's classes (as the data states them).
        where: where each entity is first described, when known.
        problems: what cannot be stored at all (blank nodes, triple terms).
    """

    entities: list[Facts] = field(default_factory=list)
    types: dict[str, set[str]] = field(default_factory=dict)
    where: dict[str, Position | None] = field(default_factory=dict)
    problems: list[Finding] = field(default_factory=list)

    def types_of(self, iri: str) -> set[str]:
        return self.types.get(iri, set())


def collect(documents: Iterable[RdfDocument]) -> DataSet:
    """Group the triples of ``documents`` by subject into entities."""
    data = DataSet()
    pairs: dict[str, set[tuple[NamedNode, NamedNode | Literal]]] = {}
    for doc in documents:
        for t in doc.triples:
            subject, obj = t.subject, t.object
            if not isinstance(subject, NamedNode) or not isinstance(obj, NamedNode | Literal):
                data.problems.append(_unstorable(doc, t))
                continue
            pairs.setdefault(subject.value, set()).add((t.predicate, obj))
            if subject.value not in data.where or data.where[subject.value] is None:
                data.where[subject.value] = doc.first_as_subject(subject)
            if t.predicate == RDF_TYPE and isinstance(obj, NamedNode):
                data.types.setdefault(subject.value, set()).add(obj.value)
    for uri in sorted(pairs):
        data.entities.append(Facts(uri, frozenset(pairs[uri])))
    return data


def _unstorable(doc: RdfDocument, t: Triple) -> Finding:
    located = doc.where(t)
    blank = isinstance(t.subject, BlankNode) or isinstance(t.object, BlankNode)
    what = (
        "a blank node: the store keeps named entities only (give it an IRI)"
        if blank
        else "an RDF-star triple term, which the store does not keep"
    )
    where = None
    if located is not None:
        where = located.subject if isinstance(t.subject, BlankNode) else located.object
    # blank node labels differ from run to run in JSON-LD: the key leaves them out
    named = [str(x) for x in (t.subject, t.object) if not isinstance(x, BlankNode)]
    return Finding(
        "unstorable",
        "error",
        f"{what}: {t}",
        key=(doc.name, t.predicate.value, *named),
        where=where,
        file=doc.name,
    )
