"""The search index of a graph: two backend indexes kept up to date from the store.

* **entities** holds every entity the store knows (hydrated or stub), of every type;
* **owners** holds the entities of the identity domain (users, teams).

Both are derived data: :meth:`SearchIndex.attach` subscribes to the store, then
rebuilds what is missing or unreadable and repairs what changed while the index was
not attached; a background :class:`~lifecyclegraph.search.indexer.Indexer` keeps it
current. On disk the index lives beside the store (``<store>/search/``), with a
small ``lifecyclegraph-search.json`` that says whether it was closed in step with
the store, and whether a rebuild was cut short. It says "clean" only when the index
was closed holding every change of the store: from attach to close it says not, and
a rebuild marks itself before its first change, so a process killed at any point
(``reindex`` included) leaves an index that the next attach repairs or rebuilds.

>>> from lifecyclegraph import LifecycleGraph
>>> from lifecyclegraph.example import load_example
>>> graph = LifecycleGraph.in_memory()
>>> _ = load_example(graph)
>>> results = graph.search("rankng")
>>> results.hits[0].name, results.fuzzy
('Ranking model', True)
>>> [h.name for h in graph.search_owners("alice")]
['Alice Liddell']
>>> graph.search_index.check().ok
True
>>> graph.close()
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifecyclegraph.core.config import SearchConfig
from lifecyclegraph.core.ontology import Ontology
from lifecyclegraph.search.backend import (
    SearchBackend,
    SearchQuery,
    SearchQueryError,
    SearchResults,
)
from lifecyclegraph.search.builder import DocumentBuilder
from lifecyclegraph.search.documents import Built, Document
from lifecyclegraph.search.indexer import READ, Changes, Indexer
from lifecyclegraph.search.inputs import DocumentInputs
from lifecyclegraph.search.registry import open_backend
from lifecyclegraph.store.port import StorePort

__all__ = ["CheckReport", "Discrepancy", "SearchIndex", "open_backend"]

log = logging.getLogger(__name__)

#: Bumped when documents or the index layout change: an older index is rebuilt.
#: 2: what each document was built from is kept beside it (``inputs.sqlite``).
FORMAT = 2
META = "lifecyclegraph-search.json"
_BATCH = 2000
_INDEXES = ("entities", "owners")
#: Past this many entities, Whoosh queries take more than about a tenth of a second (a broad
#: one about a second at 100k, docs/benchmarks.md); Tantivy, the default, carries a million.
WHOOSH_COMFORT = 50_000


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """One way an index differs from what the store says."""

    index: str  #: ``entities`` or ``owners``
    kind: str  #: ``missing`` (not indexed), ``stale`` (old version), ``extra`` (gone from store)
    uri: str


@dataclass
class CheckReport:
    """What a consistency check found (nothing, when the index is current)."""

    checked: int
    discrepancies: list[Discrepancy] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.discrepancies

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for d in self.discrepancies:
            key = f"{d.index} {d.kind}"
            counts[key] = counts.get(key, 0) + 1
        return counts

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "counts": self.counts(),
            "discrepancies": [
                {"index": d.index, "kind": d.kind, "uri": d.uri} for d in self.discrepancies
            ],
        }


class SearchIndex:
    """Full-text search over a store, kept current by a background indexer.

    Use :meth:`attach`; :meth:`close` writes what is pending and releases the files.
    """

    def __init__(
        self,
        store: StorePort,
        config: SearchConfig,
        path: Path | None,
        ontology: Ontology,
    ) -> None:
        self.store = store
        self.config = config
        self.path = path
        self.builder = DocumentBuilder(store, ontology)
        self.catalog = self.builder.catalog
        self._lock = threading.RLock()  # one writer of the indexes at a time
        self._owner_uris: set[str] = set()
        meta = self._read_meta() or {}
        #: A rebuild began and has not committed yet (here or in a killed process).
        self._rebuilding = bool(meta.get("rebuilding"))
        #: The index holds every change of the store (so close may mark it clean).
        self._current = False
        self.entities, self.owners = self._open_backends()
        #: What each indexed document was built from (:mod:`lifecyclegraph.search.inputs`).
        self.inputs = DocumentInputs.open(path)
        #: ``inputs`` is in step with the indexes (after a rebuild, a repair, or a clean
        #: close): only then are documents built again from it.
        self._inputs_current = False
        self.indexer = Indexer(self._apply, config.batch_ms, on_error=self._recover)

    # -- opening and closing --------------------------------------------------------------

    @classmethod
    def attach(
        cls,
        store: StorePort,
        config: SearchConfig | None = None,
        *,
        rebuild: bool = False,
        update: bool = True,
    ) -> SearchIndex:
        """Open the index of ``store``, bring it up to date and keep it so.

        Args:
            store: the snapshot store to index.
            config: the ``[search]`` configuration (default: its defaults).
            rebuild: rebuild from scratch even if the index looks current.
            update: rebuild an index made differently (another format, backend or
                ontology) or whose rebuild was cut short, and repair one not closed
                in step with the store. Without it, only a missing or unreadable
                index is rebuilt (for a check), and the index is left as it is:
                not clean, if it was not.

        Raises:
            SearchError: if the backend cannot be used.
            ConfigError: if the configured ontology cannot be read.
        """
        config = config or SearchConfig()
        path = config.path
        if path is None and store.path is not None:
            path = Path(store.path) / "search"
        ontology = Ontology.load(config.ontology) if config.ontology else Ontology.load()
        index = cls(store, config, path, ontology)
        store.subscribe(index.indexer.on_delta)  # before reading: no change is missed
        redo = update and (index._rebuilding or index._made_differently())
        if rebuild or index._created() or redo:
            index.rebuild()
        elif update and not index._in_step():
            index.repair()
        else:
            index._current = index._inputs_current = index._in_step()
        index._write_meta(clean=False)
        index.indexer.start()
        if config.backend == "whoosh" and index.entities.count() > WHOOSH_COMFORT:
            log.warning(
                "the search index holds %d entities: Whoosh queries slow down past about "
                "%d (a broad query takes about a second at 100,000); remove [search] "
                'backend = "whoosh" to use the default, Tantivy (see docs/search.md)',
                index.entities.count(),
                WHOOSH_COMFORT,
            )
        return index

    def close(self) -> None:
        """Write pending changes, record whether the index is in step, release the files."""
        flushed = self.indexer.stop()
        self.store.unsubscribe(self.indexer.on_delta)
        with self._lock:
            # what each document was built from is on disk before the index says clean
            self.entities.close()
            self.owners.close()
            self.inputs.close()
            self._write_meta(clean=self._current and flushed)
        # Let the store go now (an on-disk store holds a lock until it is freed).
        self.indexer.detach()
        del self.store, self.builder

    def _open_backends(self) -> tuple[SearchBackend, SearchBackend]:
        name = self.config.backend
        opened = [open_backend(name, self.path / ix if self.path else None) for ix in _INDEXES]
        self._owner_uris = set(opened[1].versions())
        return opened[0], opened[1]

    # -- searching ------------------------------------------------------------------------

    def search(
        self,
        text: str = "",
        *,
        type: str | Sequence[str] | None = None,
        owner: str | Sequence[str] | None = None,
        tag: str | Sequence[str] | None = None,
        domain: str | Sequence[str] | None = None,
        page: int = 1,
        page_size: int = 20,
        facets: bool = True,
    ) -> SearchResults:
        """Search entities of every type.

        Args:
            text: words to find (typos are forgiven when exact words find little);
                empty lists every entity that passes the filters, by name.
            type: entity types (``model``, ``lg:Model``, or the class IRI); any of them.
            owner: owners by URI, id (``alice``) or name; any of them.
            tag: tags as ``key::value``; any of them.
            domain: domains (``models``, ``lg:ModelsDomain``); any of them.
            page: 1-based page number.
            page_size: hits per page (at most 1000).
            facets: count facets over every match; ``False`` is faster on broad
                queries (search as you type).

        Returns:
            A page of hits with the total and facet counts (type, owner, tag, domain).

        Raises:
            SearchQueryError: for an unknown type or domain (with the near miss) or a bad page.
        """
        filters = {
            "type": tuple(self.catalog.type_name(t) for t in _values(type)),
            "owner": tuple(_values(owner)),
            "tag": tuple(_values(tag)),
            "domain": tuple(self.catalog.domain_name(d) for d in _values(domain)),
        }
        query = SearchQuery(
            text,
            {k: v for k, v in filters.items() if v},
            page,
            page_size,
            self.config.fuzzy_below,
            facets,
        )
        return self._search("entities", query)

    def search_owners(self, text: str = "", *, page: int = 1, page_size: int = 20) -> SearchResults:
        """Search users and teams (the identity domain) by name, id, email or team."""
        return self._search(
            "owners", SearchQuery(text, {}, page, page_size, self.config.fuzzy_below)
        )

    def _search(self, which: str, query: SearchQuery) -> SearchResults:
        try:
            return self._backend(which).search(query)
        except SearchQueryError:
            raise
        except Exception as error:  # an unreadable index is rebuilt
            log.warning("search index unreadable (%s); rebuilding it from the store", error)
            self._recover(error)
            return self._backend(which).search(query)

    def _backend(self, which: str) -> SearchBackend:
        return self.entities if which == "entities" else self.owners

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every change stored so far is searchable (``False`` on time-out)."""
        return self.indexer.flush(timeout)

    # -- keeping it derived ---------------------------------------------------------------

    def _apply(self, uris: Changes, renamed: set[str]) -> None:
        """Index a batch of changes: the changed URIs' documents, from the facts their
        commits carried (else from the store), and those of the entities that link to
        a renamed one, from what their documents were built from (``inputs``)."""
        carried = {uri: facts for uri, facts in uris.items() if facts is not READ}
        with self._lock:
            inputs = self.inputs if self._inputs_current else None
            dependents: set[str] = set()
            for uri in renamed:
                found = inputs.dependents(uri) if inputs else self.builder.dependents(uri)
                dependents |= found
            dependents.difference_update(uris)
            self._write(
                self.builder.build_changed(sorted(uris), carried, sorted(dependents), inputs)
            )

    def _write(self, built: Iterable[Built]) -> int:
        """Index these documents (delete those that are ``None``), then record what each
        was built from."""
        docs: list[Built] = []
        gone: list[str] = []
        for b in built:
            if b.document is None:
                gone.append(b.uri)
            else:
                docs.append(b)
        self._index([b.document for b in docs if b.document is not None], gone)
        self.inputs.write(docs, gone)
        return len(docs) + len(gone)

    def _index(self, docs: list[Document], gone: list[str]) -> None:
        self.entities.index(docs, delete=gone)
        owners = [d for d in docs if d.is_owner]
        not_owners = [u for u in gone if u in self._owner_uris]
        not_owners += [d.uri for d in docs if not d.is_owner and d.uri in self._owner_uris]
        if owners or not_owners:
            self.owners.index(owners, delete=not_owners)
            self._owner_uris.difference_update(not_owners)
            self._owner_uris.update(d.uri for d in owners)

    def rebuild(self) -> int:
        """Empty both indexes and index every entity of the store again.

        Returns the number of entities indexed. Changes stored meanwhile are indexed
        right after. The index is marked as being rebuilt before its first change
        and until the last one is committed, so an interrupted rebuild is done again
        on the next attach.
        """
        self.indexer.pause()
        try:
            with self._lock:
                self._rebuilding, self._current = True, False
                self._inputs_current = False
                self._write_meta(clean=False)
                self.inputs.reset()
                self.entities.clear()
                self.owners.clear()
                self._owner_uris.clear()
                total = 0
                for chunk in _chunks(self.builder.all_uris(), _BATCH):
                    total += self._write(self.builder.build(chunk))
                self._rebuilding, self._current = False, True
                self._inputs_current = True
                self._write_meta(clean=False)
                return total
        finally:
            self.indexer.resume()

    def check(self, *, flush: bool = True) -> CheckReport:
        """Compare both indexes with the store: entities missing, stale or extra.

        The store's entities are read in chunks of 2,000 and compared as they come,
        with the names of linked entities kept up to ``NAMES_KEPT``
        (:mod:`lifecyclegraph.search.builder`), and each chunk's URIs are looked up in
        the indexes (``versions_of``): the memory a check takes is one chunk's, not
        every document's (at a million entities, holding every document left the
        service 700 MB larger after each check, and every document's URI and version
        took 400 MB). Only when an index holds more documents than the store's
        entities matched are its URIs all read, to name the extra ones.

        Args:
            flush: first wait until pending changes are indexed.
        """
        if flush:
            self.flush()
        return self._check(refill=False)

    def _check(self, refill: bool) -> CheckReport:
        """:meth:`check`; with ``refill``, also fill what each document is built from
        (``inputs``) again, from the documents the check builds (a repair's first
        step: the caller trusts ``inputs`` again only once the repair is done)."""
        with self._lock:
            backends = {which: self._backend(which) for which in _INDEXES}
            matched = dict.fromkeys(_INDEXES, 0)
            found: list[Discrepancy] = []
            checked = 0
            names = self.builder.names_cache()
            if refill:
                self._inputs_current = False
                self.inputs.reset()
            for chunk in _chunks(self.builder.all_uris(), _BATCH):
                indexed = {which: backends[which].versions_of(chunk) for which in _INDEXES}
                for which in _INDEXES:
                    matched[which] += len(indexed[which])
                built = list(self.builder.build(chunk, names))
                if refill:
                    self.inputs.write([b for b in built if b.document is not None], [])
                for b in built:
                    checked += b.document is not None
                    for which in _INDEXES:
                        kind = _wrong(which, b.document, indexed[which].get(b.uri))
                        if kind is not None:
                            found.append(Discrepancy(which, kind, b.uri))
            for which in _INDEXES:
                found.extend(self._extra(backends[which], which, matched[which]))
            order = {"missing": 0, "stale": 1, "extra": 2}
            found.sort(key=lambda d: (_INDEXES.index(d.index), order[d.kind], d.uri))
            return CheckReport(checked=checked, discrepancies=found)

    def _extra(self, backend: SearchBackend, which: str, matched: int) -> list[Discrepancy]:
        """Documents of ``backend`` for entities the store does not hold (or no longer
        should index), given that ``matched`` of its documents were found by URI.

        Only when the count says there are any are the index's URIs all read (the memory
        of :meth:`SearchBackend.versions`), and the store's URIs taken away from them.
        """
        if backend.count() == matched:
            return []
        left = backend.versions()
        for uri in self.builder.all_uris():
            left.pop(uri, None)
        return [Discrepancy(which, "extra", uri) for uri in left]

    def repair(self) -> CheckReport:
        """Check, then re-index exactly the URIs the check found wrong; returns the check."""
        self.indexer.pause()
        try:
            with self._lock:
                self._current = self._inputs_current = False
                self._write_meta(clean=False)
                report = self._check(refill=True)
                uris = sorted({d.uri for d in report.discrepancies})
                for chunk in _chunks(iter(uris), _BATCH):
                    self._write(self.builder.build(chunk))
                extra = [d.uri for d in report.discrepancies if d.index == "owners"]
                extra = [u for u in extra if u not in self._owner_uris]
                if extra:
                    self.owners.delete(extra)
                self._current = self._inputs_current = True
                return report
        finally:
            self.indexer.resume()

    def _recover(self, error: BaseException) -> None:
        """Reopen the backends (an unreadable directory starts empty) and rebuild."""
        with self._lock:
            for backend in (self.entities, self.owners, self.inputs):
                with contextlib.suppress(Exception):
                    backend.close()
            self.entities, self.owners = self._open_backends()
            self.inputs = DocumentInputs.open(self.path)
            self.rebuild()

    # -- in step with the store? ----------------------------------------------------------

    def _meta(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "backend": self.config.backend,
            "ontology": self._ontology_hash(),
        }

    def _ontology_hash(self) -> str:
        types = sorted(
            (t.name, t.label, t.domain or "", t.is_owner) for t in self.catalog.types.values()
        )
        return hashlib.sha256(json.dumps(types).encode()).hexdigest()[:16]

    def _read_meta(self) -> dict[str, Any] | None:
        if self.path is None:
            return None
        try:
            data = json.loads((self.path / META).read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _write_meta(self, clean: bool) -> None:
        if self.path is None:
            return
        data = {**self._meta(), "clean": clean}
        if self._rebuilding:
            data["rebuilding"] = True
        if clean:
            data["snapshots"] = self.store.snapshot_count()
        tmp = self.path / (META + ".tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n")
        tmp.replace(self.path / META)

    def _created(self) -> bool:
        """Whether an index started empty (it was missing or unreadable)."""
        opened = (self.entities, self.owners, self.inputs)
        return any(getattr(b, "created", False) for b in opened)

    def _made_differently(self) -> bool:
        """Another format, backend or ontology made this index (or it has no record)."""
        meta = self._read_meta()
        if meta is None:
            return True
        return any(meta.get(k) != v for k, v in self._meta().items())

    def _in_step(self) -> bool:
        """Closed cleanly, and the store has not been written since (no new snapshot)."""
        meta = self._read_meta()
        return bool(
            meta and meta.get("clean") and meta.get("snapshots") == self.store.snapshot_count()
        )


def _wrong(which: str, doc: Document | None, version: str | None) -> str | None:
    """What is wrong with index ``which``'s document (of ``version``, ``None`` if it has
    none) of an entity whose document is ``doc`` (``None``: it should have none)."""
    if doc is None or (which == "owners" and not doc.is_owner):
        return None if version is None else "extra"
    if version is None:
        return "missing"
    return None if version == doc.version else "stale"


def _values(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def _chunks(items: Iterator[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
