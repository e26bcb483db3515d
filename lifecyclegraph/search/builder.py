"""Build search documents from the store: a pure function from the graph to what the
index holds for one URI (:class:`~lifecyclegraph.search.documents.Document`).

>>> from lifecyclegraph import LifecycleGraph
>>> from lifecyclegraph.example import MODEL, load_example
>>> graph = LifecycleGraph.in_memory()
>>> _ = load_example(graph)
>>> doc = DocumentBuilder(graph.store).document(MODEL)
>>> doc.name, doc.type, doc.type_label, doc.domain
('Ranking model', 'lg:Model', 'model', 'models')
>>> doc.owner_names, doc.tags
(('Alice Liddell',), ('team::personalization',))
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pyoxigraph import Literal, NamedNode

from lifecyclegraph.core.facts import term_value
from lifecyclegraph.core.ontology import Ontology
from lifecyclegraph.core.vocab import LG, RDF_TYPE, compact
from lifecyclegraph.search.documents import Document, TypeCatalog, resource_id
from lifecyclegraph.store.port import StorePort
from lifecyclegraph.store.values import HydrationState

__all__ = ["DocumentBuilder"]

#: Literal properties whose values are searchable as exact-ish keywords.
_KEYWORDS = (LG.sourceId, LG.email, LG.status, LG.version, LG.platform)
_NAME, _DESCRIPTION, _OWNER, _TAG = LG.name, LG.description, LG.owner, LG.tag


class DocumentBuilder:
    """Build :class:`Document` s from a store's current state and an ontology.

    Args:
        store: the store (only its current asserted facts are read).
        ontology: where type labels, domains and owner types come from
            (default: the packaged ontology).
    """

    def __init__(self, store: StorePort, ontology: Ontology | None = None) -> None:
        self.store = store
        self.catalog = TypeCatalog(ontology or Ontology.load())

    def document(self, uri: str) -> Document | None:
        """The document of ``uri``, or ``None`` if the entity is unknown or deleted."""
        return self._document(uri, {})

    def _document(self, uri: str, known: dict[str, list[str]]) -> Document | None:
        """:meth:`document`, reading the names of linked entities through ``known``
        (URI -> names, filled as they are read: one batch shares it)."""
        state = self.store.state(uri)
        if state is None or state.state is HydrationState.DELETED:
            return None
        types: list[str] = []
        names: list[str] = []
        descriptions: list[str] = []
        owners: list[str] = []
        tags: list[str] = []
        links: list[str] = []
        keywords: list[str] = []
        source_ids: list[str] = []
        for triple in self.store.asserted(NamedNode(uri)):
            p, o = triple.predicate, triple.object
            if p == RDF_TYPE and isinstance(o, NamedNode):
                types.append(o.value)
            elif isinstance(o, NamedNode):
                (owners if p == _OWNER else links).append(o.value)
            elif isinstance(o, Literal):
                if p == _NAME:
                    names.append(o.value)
                elif p == _DESCRIPTION:
                    descriptions.append(o.value)
                elif p == _TAG:
                    tags.append(o.value)
                elif p in _KEYWORDS:
                    keywords.append(o.value)
                    if p == LG.sourceId:
                        source_ids.append(o.value)
        info = self.catalog.info(types)
        type_name = info.name if info else (compact(min(types)) if types else "")
        owner_names = sorted({n for o in set(owners) for n in self._names(o, known)})
        owner_keys = {o.lower() for o in owners} | {resource_id(o).lower() for o in owners}
        owner_keys |= {n.lower() for n in owner_names}
        return Document(
            uri=uri,
            name=min(names) if names else min(source_ids) if source_ids else resource_id(uri),
            type=type_name,
            type_label=info.label if info else type_name.rpartition(":")[2],
            domain=(info.domain or "") if info else "",
            description="\n".join(sorted(descriptions)),
            owners=tuple(sorted(set(owners))),
            owner_names=tuple(owner_names),
            owner_keys=tuple(sorted(owner_keys)),
            tags=tuple(sorted(set(tags))),
            related=tuple(sorted({n for link in set(links) for n in self._names(link, known)})),
            keywords=tuple(sorted(set(keywords))),
            is_owner=bool(info and info.is_owner),
        )

    def documents(self, uris: Iterable[str]) -> Iterator[tuple[str, Document | None]]:
        """``(uri, document or None)`` for each URI.

        The names of linked entities are read once per call: an owner of a thousand
        models is read once for the thousand documents, not a thousand times. (A
        rename is a change of the renamed entity; its dependents are built again in a
        later call, which reads the new name.)
        """
        known: dict[str, list[str]] = {}
        for uri in uris:
            yield uri, self._document(uri, known)

    def all_uris(self) -> Iterator[str]:
        """Every entity the index should hold: hydrated ones and stubs, not deleted ones."""
        yield from self.store.entities(HydrationState.HYDRATED)
        yield from self.store.entities(HydrationState.REFERENCED)

    def dependents(self, uri: str) -> set[str]:
        """URIs whose documents embed the name of ``uri`` (they link to it)."""
        node = NamedNode(uri)
        return {term_value(t.subject) for t in self.store.asserted(None, None, node)}

    def _names(self, uri: str, known: dict[str, list[str]]) -> list[str]:
        found = known.get(uri)
        if found is None:
            found = known[uri] = [
                term_value(t.object) for t in self.store.asserted(NamedNode(uri), _NAME)
            ]
        return found
