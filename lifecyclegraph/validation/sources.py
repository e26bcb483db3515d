"""The model's files as read by ``lint`` and ``validate``: every triple with its place.

:meth:`ModelSources.load` reads the ontology's and the shapes' Turtle files of a
:class:`~lifecyclegraph.validation.model.ModelDirs` with positions
(:mod:`lifecyclegraph.validation.turtle`), collecting every syntax error instead of
stopping at the first. From them it builds what the project's validator runs on (the
same compiled checks as the ingestion gate, pySHACL for what the compiler does not
support), with blank nodes labelled the same on every run, and the
:class:`~lifecyclegraph.validation.shape_index.ShapeIndex` that names each shape.

>>> sources = ModelSources.load(ModelDirs.current())
>>> sources.errors
[]
>>> sorted(Path(d.name).name for d in sources.documents["shapes"])[:2]
['core.ttl', 'datasets.ttl']
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import rdflib

from lifecyclegraph.core.errors import ConfigError, TurtleSyntaxError
from lifecyclegraph.validation.model import ModelDirs
from lifecyclegraph.validation.turtle import RdfDocument, read_rdf, to_rdflib_term

if TYPE_CHECKING:
    from lifecyclegraph.validation.shape_index import ShapeIndex
    from lifecyclegraph.validation.validator import Validator

__all__ = ["ModelSources", "display_path"]


def display_path(path: str | Path) -> str:
    """A file as reports name it: relative to the working directory when it is inside
    it (what CI annotations and SARIF need), else absolute.

    >>> display_path(Path.cwd() / "shapes" / "models.ttl")
    'shapes/models.ttl'
    >>> display_path("/elsewhere/x.ttl")
    '/elsewhere/x.ttl'
    """
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return absolute.as_posix()


@dataclass
class ModelSources:
    """The Turtle files of a model's ontology and shapes, parsed with positions.

    Attributes:
        dirs: the folders read.
        documents: ``ontology`` and ``shapes``: each file that parsed.
        errors: each file that did not, with its line and column.
    """

    dirs: ModelDirs
    documents: dict[str, list[RdfDocument]] = field(default_factory=dict)
    errors: list[TurtleSyntaxError] = field(default_factory=list)
    broken: set[str] = field(default_factory=set)  #: the kinds with a file that did not parse

    @classmethod
    def load(cls, dirs: ModelDirs) -> ModelSources:
        """Read every ``*.ttl`` file of ``dirs.ontology`` and ``dirs.shapes``.

        Raises:
            ConfigError: a file cannot be read (not a syntax error: those are kept in
                :attr:`errors`).
        """
        sources = cls(dirs)
        for kind in ("ontology", "shapes"):
            sources.documents[kind] = []
            for path in dirs.files(kind):
                name = display_path(path)
                try:
                    text = path.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as error:
                    raise ConfigError(f"{name}: cannot read: {error}") from error
                try:
                    sources.documents[kind].append(read_rdf(text, name))
                except TurtleSyntaxError as error:
                    sources.errors.append(error)
                    sources.broken.add(kind)
        return sources

    def failed(self, kind: str) -> bool:
        """Whether a file of ``kind`` (``ontology`` or ``shapes``) did not parse."""
        return kind in self.broken

    def graph(self, kind: str) -> rdflib.Graph:
        """The triples of every file of ``kind`` as one rdflib graph."""
        graph = rdflib.Graph()
        for doc in self.documents.get(kind, []):
            for t in doc.triples:
                graph.add(
                    (
                        to_rdflib_term(t.subject),
                        to_rdflib_term(t.predicate),
                        to_rdflib_term(t.object),
                    )
                )
        return graph

    def check_parsed(self) -> None:
        """Raise the first syntax error, if a file did not parse (for ``validate``, to
        which a model that does not parse is bad input)."""
        if self.errors:
            raise self.errors[0]

    @cached_property
    def validator(self) -> Validator:
        """The project's validator on these shapes and this ontology.

        Raises:
            TurtleSyntaxError: a file of the ontology or the shapes does not parse.
        """
        from lifecyclegraph.core.ontology import Ontology
        from lifecyclegraph.validation.compiler import compile_shapes
        from lifecyclegraph.validation.validator import Validator

        self.check_parsed()
        return Validator(compile_shapes(self.graph("shapes")), Ontology(self.graph("ontology")))

    @cached_property
    def shape_index(self) -> ShapeIndex:
        """The stable name and place of every shape."""
        from lifecyclegraph.validation.shape_index import ShapeIndex

        return ShapeIndex.build(self.documents.get("shapes", []))
