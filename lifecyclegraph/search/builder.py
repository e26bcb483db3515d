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

import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from pyoxigraph import Literal, NamedNode

from lifecyclegraph.core.facts import Pair, term_value
from lifecyclegraph.core.ontology import Ontology
from lifecyclegraph.core.vocab import LG, RDF_TYPE, compact
from lifecyclegraph.search.documents import Built, Document, TypeCatalog, resource_id
from lifecyclegraph.store.port import StorePort
from lifecyclegraph.store.values import HydrationState

if TYPE_CHECKING:
    from lifecyclegraph.search.inputs import DocumentInputs

__all__ = ["Built", "DocumentBuilder"]

#: Literal properties whose values are searchable as exact-ish keywords.
_KEYWORDS = (LG.sourceId, LG.email, LG.status, LG.version, LG.platform)
_NAME, _DESCRIPTION, _OWNER, _TAG = LG.name, LG.description, LG.owner, LG.tag


#: How many linked entities' names :meth:`DocumentBuilder.changed` keeps between batches
#: (the least recently used go first): about 250 bytes each.
NAMES_KEPT = 100_000


class DocumentBuilder:
    """Build :class:`Document` s from a store's current state and an ontology.

    Args:
        store: the store (only its current asserted facts are read).
        ontology: where type labels, domains and owner types come from
            (default: the packaged ontology).
        names_kept: how many linked entities' names :meth:`changed` keeps between
            calls.
    """

    def __init__(
        self, store: StorePort, ontology: Ontology | None = None, names_kept: int = NAMES_KEPT
    ) -> None:
        self.store = store
        self.catalog = TypeCatalog(ontology or Ontology.load())
        self._kept: OrderedDict[str, list[str]] = OrderedDict()
        self._names_kept = names_kept
        self._kept_lock = threading.Lock()

    def document(self, uri: str) -> Document | None:
        """The document of ``uri``, or ``None`` if the entity is unknown or deleted."""
        return self._built(uri, {}).document

    def _built(self, uri: str, known: _Names) -> Built:
        """:meth:`document`, reading the names of linked entities through ``known``
        (URI -> names, filled as they are read: one batch shares it).

        An entity's asserted facts are those of its current snapshot, one named graph
        whose every triple is about it (``docs/dataset-layout.md``): read from that
        graph alone, not from every quad of the subject (its derived facts and
        bookkeeping are most of them).
        """
        state = self.store.state(uri)
        if state is None or state.state is HydrationState.DELETED:
            return Built(uri, None)
        return self._from_pairs(uri, self.store.snapshot_pairs(state.current_snapshot), known)

    def _from_pairs(self, uri: str, pairs: Iterable[Pair], known: _Names) -> Built:
        """The document of ``uri`` whose asserted facts are ``pairs``."""
        types: list[str] = []
        names: list[str] = []
        descriptions: list[str] = []
        owners: list[str] = []
        tags: list[str] = []
        links: list[str] = []
        keywords: list[str] = []
        source_ids: list[str] = []
        own: list[str] = []  # every lg:name value, as the documents linking here read them
        for p, o in pairs:
            if p == _NAME:
                own.append(o.value)
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
        base = Document(
            uri=uri,
            name=min(names) if names else min(source_ids) if source_ids else resource_id(uri),
            type=type_name,
            type_label=info.label if info else type_name.rpartition(":")[2],
            domain=(info.domain or "") if info else "",
            description="\n".join(sorted(descriptions)),
            owners=tuple(sorted(set(owners))),
            owner_names=(),
            owner_keys=(),
            tags=tuple(sorted(set(tags))),
            related=(),
            keywords=tuple(sorted(set(keywords))),
            is_owner=bool(info and info.is_owner),
        )
        linked = tuple(sorted(set(links)))
        return Built(uri, self.named(base, linked, known), tuple(own), linked)

    def named(self, base: Document, links: Sequence[str], known: _Names) -> Document:
        """``base`` with the names of its owners and of ``links`` embedded, read through
        ``known`` (the fields a linked entity's rename changes)."""
        owner_names = sorted({n for o in base.owners for n in self._names(o, known)})
        owner_keys = {o.lower() for o in base.owners}
        owner_keys |= {resource_id(o).lower() for o in base.owners}
        owner_keys |= {n.lower() for n in owner_names}
        return replace(
            base,
            owner_names=tuple(owner_names),
            owner_keys=tuple(sorted(owner_keys)),
            related=tuple(sorted({n for link in links for n in self._names(link, known)})),
        )

    def documents(
        self, uris: Iterable[str], names: _Names | None = None
    ) -> Iterator[tuple[str, Document | None]]:
        """``(uri, document or None)`` for each URI, read from the store alone.

        The names of linked entities are read once per call: an owner of a thousand
        models is read once for the thousand documents, not a thousand times. (A
        rename is a change of the renamed entity; its dependents are built again in a
        later call, which reads the new name.) ``names`` (from :meth:`names_cache`)
        keeps them across calls, bounded, for a caller that reads every entity in
        chunks and must not hold every name at once.
        """
        for built in self.build(uris, names):
            yield built.uri, built.document

    def build(self, uris: Iterable[str], names: _Names | None = None) -> Iterator[Built]:
        """:meth:`documents`, as :class:`Built` (with each entity's names and links)."""
        known: _Names = {} if names is None else names
        for uri in uris:
            yield self._built(uri, known)

    def names_cache(self) -> _Names:
        """A fresh cache of linked entities' names for :meth:`documents`, holding at most
        ``names_kept`` (the least recently used go first)."""
        return _Kept(OrderedDict(), threading.Lock(), self._names_kept)

    def changed(
        self, uris: Iterable[str], given: Mapping[str, frozenset[Pair] | None] | None = None
    ) -> Iterator[tuple[str, Document | None]]:
        """:meth:`documents` for the URIs of a change, the same documents, with the
        names of linked entities kept from earlier calls (up to ``names_kept``).

        ``uris`` must hold every entity changed since the last call (as the indexer's
        batches do): their kept names are dropped before any document is built, so a
        rename or a deletion is read again, and the documents that embed the name
        (:meth:`dependents`, in the same call) get the new one. At a million entities
        the lookups this saves were 18% of the indexer's time.

        ``given`` maps a URI to its asserted pairs now (``None``: deleted), as the
        commit that changed it carried them (:attr:`lifecyclegraph.store.Delta.entities`):
        its document is built from them, without reading the store, and its name is
        kept for the documents that link to it. A URI it lacks is read from the store.
        """
        for built in self.build_changed(uris, given):
            yield built.uri, built.document

    def build_changed(
        self,
        uris: Iterable[str],
        given: Mapping[str, frozenset[Pair] | None] | None = None,
        dependents: Iterable[str] = (),
        inputs: DocumentInputs | None = None,
    ) -> Iterator[Built]:
        """:meth:`changed`, as :class:`Built`; then the documents of ``dependents``
        (entities not changed, that embed the name of one that was).

        With ``inputs`` (what the index's documents were built from,
        :class:`~lifecyclegraph.search.inputs.DocumentInputs`, in step with the index),
        a dependent is built from what its indexed document was built from, with the
        names of its links now, and a linked entity's names come from there too, unless
        it changed in this call without ``given`` facts: at a million entities each of
        those store reads missed RocksDB's caches (about 0.3 ms, against 0.05 warm).
        """
        uris = list(uris)
        given = given or {}
        with self._kept_lock:
            for uri in uris:
                self._kept.pop(uri, None)
        kept = _Kept(self._kept, self._kept_lock, self._names_kept)
        carried = {uri: _names_in(pairs) for uri, pairs in given.items()}
        for uri, names in carried.items():  # first the names, for the documents that link here
            kept[uri] = names
        known: _Names = kept if inputs is None else _Stored(kept, inputs, carried, set(uris))
        for uri in uris:
            if uri not in given:
                yield self._built(uri, known)
            else:
                pairs = given[uri]
                yield Built(uri, None) if pairs is None else self._from_pairs(uri, pairs, known)
        for uri in dependents:
            row = inputs.row(uri) if inputs is not None else None
            if row is None:
                yield self._built(uri, known)
            else:
                base, own, links = row
                yield Built(uri, self.named(base, links, known), own, links)

    def all_uris(self) -> Iterator[str]:
        """Every entity the index should hold: hydrated ones and stubs, not deleted ones."""
        yield from self.store.entities(HydrationState.HYDRATED)
        yield from self.store.entities(HydrationState.REFERENCED)

    def dependents(self, uri: str) -> set[str]:
        """URIs whose documents embed the name of ``uri`` (they link to it)."""
        node = NamedNode(uri)
        return {term_value(t.subject) for t in self.store.asserted(None, None, node)}

    def _names(self, uri: str, known: _Names) -> list[str]:
        found = known.get(uri)
        if found is None:
            found = [term_value(t.object) for t in self.store.asserted(NamedNode(uri), _NAME)]
            known[uri] = found
        return found


def _names_in(pairs: frozenset[Pair] | None) -> list[str]:
    return [o.value for p, o in pairs or () if p == _NAME]


class _Names(Protocol):
    """What :meth:`DocumentBuilder._names` reads and fills: a dict, or :class:`_Kept`."""

    def get(self, uri: str, /) -> list[str] | None: ...

    def __setitem__(self, uri: str, names: list[str], /) -> None: ...


class _Stored:
    """Names as this call's commits carried them, else kept, else as the index's
    documents were built from them (``inputs``), but never from there for a URI this
    call changes (its row is older than the change): those the caller reads from the
    store. What it finds in ``inputs`` it keeps."""

    def __init__(
        self,
        kept: _Kept,
        inputs: DocumentInputs,
        carried: dict[str, list[str]],
        changed: set[str],
    ) -> None:
        self.kept, self.inputs, self.carried, self.changed = kept, inputs, carried, changed

    def get(self, uri: str) -> list[str] | None:
        found = self.carried.get(uri)  # not evicted, however many the call carries
        if found is None:
            found = self.kept.get(uri)
        if found is None and uri not in self.changed:
            found = self.inputs.names(uri)
            if found is not None:
                self.kept[uri] = found
        return found

    def __setitem__(self, uri: str, names: list[str]) -> None:
        self.kept[uri] = names


class _Kept:
    """The builder's kept names, least recently used first, at most ``size``."""

    def __init__(self, kept: OrderedDict[str, list[str]], lock: threading.Lock, size: int):
        self.kept, self.lock, self.size = kept, lock, size

    def get(self, uri: str) -> list[str] | None:
        with self.lock:
            found = self.kept.get(uri)
            if found is not None:
                self.kept.move_to_end(uri)
            return found

    def __setitem__(self, uri: str, names: list[str]) -> None:
        with self.lock:
            self.kept[uri] = names
            while len(self.kept) > self.size:
                self.kept.popitem(last=False)
