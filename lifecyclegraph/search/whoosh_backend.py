"""The embedded default engine: Whoosh (``whoosh-reloaded``), on disk or in memory.

One Whoosh index per :class:`WhooshBackend`. A new searcher is made after each
commit: ``Searcher.refresh()`` in whoosh-reloaded 2.7.5 can return documents as they
were before an update, so it is never used (see :meth:`WhooshBackend._current`).

>>> from lifecyclegraph.search.backend import SearchQuery
>>> backend = WhooshBackend.open(None)
>>> backend.count()
0
>>> backend.close()
"""

from __future__ import annotations

import gc
import shutil
import tempfile
import threading
import warnings
import weakref
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any

from whoosh import fields, index, sorting
from whoosh import query as wq
from whoosh.analysis import LowercaseFilter, RegexTokenizer
from whoosh.filedb.filestore import FileStorage, RamStorage
from whoosh.reading import EmptyReader, MultiReader, SegmentReader
from whoosh.searching import Searcher

from lifecyclegraph.search.backend import FACET_SIZE, Hit, SearchQuery, SearchResults
from lifecyclegraph.search.documents import Document, tokens
from lifecyclegraph.search.ranking import (
    FILTER_FIELDS,
    Plan,
    Weights,
    first_marks,
    highlighter,
    plan,
)

__all__ = ["WhooshBackend"]

_SEP = "\x1f"  # separates the values of a multi-valued keyword field
_NONE = "\x00"  # stands for "no value": Whoosh facets need a vector in every document
_WORDS = RegexTokenizer(r"[^\W_]+") | LowercaseFilter()
_VALUES = RegexTokenizer(r"[^\x1f]+")
_INDEX_NAME = "lifecyclegraph"


def _schema() -> fields.Schema:
    text = {"analyzer": _WORDS, "phrase": False}
    return fields.Schema(
        uri=fields.ID(stored=True, unique=True, sortable=True),
        version=fields.STORED(),
        name=fields.TEXT(stored=True, **text),
        name_exact=fields.ID(),
        name_sort=fields.ID(sortable=True),
        type=fields.ID(stored=True, sortable=True),
        type_label=fields.TEXT(**text),
        domain=fields.ID(sortable=True),
        description=fields.TEXT(stored=True, **text),
        owners=fields.TEXT(analyzer=_VALUES, phrase=False, vector=True),
        owner_keys=fields.TEXT(analyzer=_VALUES, phrase=False),
        owner_names=fields.TEXT(stored=True, **text),
        tags=fields.TEXT(analyzer=_VALUES, phrase=False, vector=True),
        tags_text=fields.TEXT(stored=True, **text),
        related=fields.TEXT(stored=True, **text),
        keywords=fields.TEXT(**text),
        uri_text=fields.TEXT(**text),
    )


#: facet name -> (field, multi-valued)
_FACET_FIELDS = {
    "type": ("type", False),
    "domain": ("domain", False),
    "tag": ("tags", True),
    "owner": ("owners", True),
}


class _RamStorage(RamStorage):
    """Whoosh's in-memory storage, with scratch files of its own.

    Whoosh names an in-memory index's scratch directory after the index
    (``<tmp>/lifecyclegraph.tmp``): one directory for every in-memory index of every
    process, and one index's commit deleted the files another was writing
    (``FileNotFoundError``, ``Directory not empty``). Each storage now has a scratch
    directory of its own, removed when the storage goes.
    """

    def __init__(self) -> None:
        super().__init__()
        self._scratch = tempfile.mkdtemp(prefix="lifecyclegraph-whoosh-")
        weakref.finalize(self, shutil.rmtree, self._scratch, True)

    def temp_storage(self, name: str | None = None) -> Any:
        return FileStorage(self._scratch).create()


class WhooshBackend:
    """A Whoosh index of search documents.

    Use :meth:`open` with a directory (created if missing; rebuilt empty if it does not
    hold a readable index) or ``None`` for an in-memory index. ``created`` tells whether
    the index was started empty, so that the caller refills it from the graph.
    """

    name = "whoosh"

    def __init__(self, ix: index.Index, path: Path | None, created: bool) -> None:
        self._ix = ix
        self.path = path
        self.created = created
        self._write_lock = threading.Lock()
        # Whoosh searchers are not thread safe: reads take turns (Whoosh holds the GIL
        # through a search anyway).
        self._read_lock = threading.RLock()
        self._searcher: Any = None
        self._leaves: dict[Any, Any] = {}  # segment id -> its open reader, reused
        self._empty = created

    @classmethod
    def open(cls, path: Path | None) -> WhooshBackend:
        """Open the index in ``path`` (``None``: in memory), starting afresh if unreadable."""
        if path is None:
            return cls(_RamStorage().create_index(_schema(), indexname=_INDEX_NAME), None, True)
        path = Path(path)
        opened = _open_existing(path)
        if opened is not None:
            return cls(opened, path, False)
        return cls(_create(path), path, True)

    # -- writing -------------------------------------------------------------------------

    def index(self, docs: Iterable[Document], delete: Iterable[str] = ()) -> None:
        docs = list(docs)
        with self._write_lock, self._read_lock:
            # Deletions are found with the current searcher: the writer's own
            # ``update_document`` would open (and read) every segment again.
            searcher = self._current()
            gone = [*delete, *(d.uri for d in docs)] if not self._empty else []
            numbers = [n for uri in gone if (n := searcher.document_number(uri=uri)) is not None]
            writer = self._ix.writer(limitmb=128)
            try:
                for number in numbers:
                    writer.delete_document(number)
                for doc in docs:
                    writer.add_document(**_fields(doc))
                writer.commit()
            except BaseException:
                writer.cancel()
                raise
            self._empty = self._empty and not docs
            self._searcher = None  # the next read opens a new one

    def delete(self, uris: Iterable[str]) -> None:
        self.index((), uris)

    def clear(self) -> None:
        with self._write_lock, self._read_lock:
            self._ix.writer().commit(mergetype=_clear_segments)
            self._empty = True
            self._searcher = None

    # -- reading -------------------------------------------------------------------------

    def count(self) -> int:
        with self._read_lock:
            return int(self._current().doc_count())

    def versions(self) -> dict[str, str]:
        with self._read_lock:
            return {
                stored["uri"]: stored["version"]
                for _, stored in self._current().reader().iter_docs()
                if "uri" in stored
            }

    def versions_of(self, uris: Iterable[str]) -> dict[str, str]:
        with self._read_lock:
            searcher = self._current()
            found = {}
            for uri in uris:
                stored = searcher.document(uri=uri)
                if stored is not None:
                    found[uri] = stored["version"]
            return found

    def search(self, query: SearchQuery) -> SearchResults:
        with self._read_lock:
            return self._search(self._current(), query)

    def _search(self, searcher: Any, query: SearchQuery) -> SearchResults:
        steps = plan(query)
        filt = _filter(query)
        facets = sorting.Facets()
        for facet, (fieldname, multi) in _FACET_FIELDS.items():
            facets.add_facet(facet, sorting.FieldFacet(fieldname, allow_overlap=multi))
        used_fuzzy = False
        results = None
        for step in steps.steps:
            q = _compile(step, steps)
            results = searcher.search_page(
                q,
                query.page,
                pagelen=query.page_size,
                filter=filt,
                groupedby=facets if query.facets else None,
                maptype=sorting.Count,
                sortedby="name_sort" if step.every else None,
                terms=True,
            )
            used_fuzzy = step.fuzzy
            total = results.total
            if filt is not None and not query.facets:
                # Whoosh counts a filtered query's matches without its filter unless a
                # collector counted them all (the facets' does): count them here.
                total = len(searcher.search(q, filter=filt, limit=None, scored=False))
            if total >= query.fuzzy_below or not steps.fuzzy_possible:
                break
        assert results is not None
        hits = []
        highlight = highlighter(steps, used_fuzzy)
        # Whoosh answers a page past the last with the last page: past the end, no hits.
        past_end = (query.page - 1) * query.page_size >= total
        for hit in [] if past_end else results:
            marks = (
                {} if steps.every else first_marks(highlight, partial(_stored_lines, hit.fields()))
            )
            hits.append(
                Hit(
                    uri=hit["uri"],
                    name=hit["name"],
                    type=hit["type"],
                    score=0.0 if steps.every else float(hit.score or 0.0),
                    highlights=marks,
                )
            )
        groups = {facet: results.results.groups(facet) for facet in _FACET_FIELDS if query.facets}
        return SearchResults(
            hits=hits,
            total=total,
            page=query.page,
            page_size=query.page_size,
            facets={k: _facet_counts(v) for k, v in groups.items()},
            fuzzy=used_fuzzy,
        )

    # -- searchers -----------------------------------------------------------------------

    def _current(self) -> Any:
        """The searcher of the latest commit (call with the read lock held).

        After a commit a new searcher is made (``Searcher.refresh()`` is never used:
        it can return documents as they were before an update, because Whoosh reuses
        a segment's reader by segment id and keeps the deletions that reader cached). This
        one reuses the open reader of every segment still in the index, since its
        files never change, and hands it the segment's current deletions. That is
        safe because reads take turns and only the newest searcher is ever used.
        """
        if self._searcher is not None:
            return self._searcher
        toc = self._ix._read_toc()
        used: dict[Any, Any] = {}
        for segment in toc.segments:
            reader = self._leaves.pop(segment.segment_id(), None)
            if reader is not None and hasattr(reader._perdoc, "_segment"):
                reader._segment = reader._perdoc._segment = segment  # current deletions
                reader.__dict__.pop("deleted_docs_set", None)  # a cached_property of the old
            else:
                if reader is not None:
                    reader.close()
                reader = SegmentReader(
                    self._ix.storage, toc.schema, segment, generation=toc.generation
                )
            used[segment.segment_id()] = reader
        for stale in self._leaves.values():
            stale.close()
        self._leaves = used
        readers = list(used.values())
        reader = _SharedReaders(readers, toc.generation) if readers else EmptyReader(toc.schema)
        self._searcher = Searcher(reader, fromindex=self._ix, closereader=False)
        return self._searcher

    def close(self) -> None:
        with self._write_lock, self._read_lock:
            for reader in self._leaves.values():
                reader.close()
            self._leaves.clear()
            self._searcher = None
        self._ix.close()


class _SharedReaders(MultiReader):
    """A multi-segment reader over segment readers that it does not own."""

    def close(self) -> None:
        self.is_closed = True


def _open_existing(path: Path) -> index.Index | None:
    """The readable index of this schema in ``path``, or ``None``."""
    # Whoosh leaves the file it failed to read open: drop it quietly, here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            if not index.exists_in(str(path), indexname=_INDEX_NAME):
                return None
            ix = index.open_dir(str(path), indexname=_INDEX_NAME)
            if _schema_names(ix.schema) != _schema_names(_schema()):
                return None
            with ix.searcher() as searcher:  # reads every segment's header
                searcher.doc_count()
            return ix
        except Exception:  # any failure to read means: rebuild
            return None
        finally:
            gc.collect()


def _create(path: Path) -> index.Index:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return FileStorage(str(path)).create_index(_schema(), indexname=_INDEX_NAME)


def _schema_names(schema: fields.Schema) -> list[tuple[str, str]]:
    return sorted((name, type(field).__name__) for name, field in schema.items())


def _clear_segments(writer: Any, segments: list[Any]) -> list[Any]:
    return []


def _fields(doc: Document) -> dict[str, Any]:
    return {
        "uri": doc.uri,
        "version": doc.version,
        "name": doc.name,
        "name_exact": " ".join(tokens(doc.name)),
        "name_sort": doc.name.lower(),
        "type": doc.type,
        "type_label": doc.type_label,
        "domain": doc.domain,
        "description": doc.description,
        "owners": _SEP.join(doc.owners) or _NONE,
        "owner_keys": _SEP.join(doc.owner_keys),
        "owner_names": "\n".join(doc.owner_names),
        "tags": _SEP.join(doc.tags) or _NONE,
        "tags_text": "\n".join(doc.tags),
        "related": "\n".join(doc.related),
        "keywords": "\n".join(doc.keywords),
        "uri_text": doc.uri,
    }


def _filter(query: SearchQuery) -> Any:
    clauses = []
    for facet, values in query.filters.items():
        if not values:
            continue
        field = FILTER_FIELDS[facet]
        norm = [v.lower() for v in values] if facet == "owner" else list(values)
        clauses.append(wq.Or([wq.Term(field, v) for v in norm]))
    return wq.And(clauses) if clauses else None


def _facet_counts(groups: dict[Any, int]) -> dict[str, int]:
    counts = {str(k): v for k, v in groups.items() if k not in (None, "", b"", _NONE)}
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:FACET_SIZE])


def _compile(step: Any, steps: Plan) -> Any:
    if step.every:
        return wq.Every()
    w: Weights = steps.weights
    clauses = []
    for word in steps.words:
        alternatives: list[Any] = [
            wq.Term(field, word, boost=boost) for field, boost in w.term_fields.items()
        ]
        if steps.is_prefix(word):
            alternatives.append(wq.Prefix("name", word, boost=w.prefix_boost))
            alternatives.append(wq.Prefix("keywords", word, boost=w.prefix_boost / 3))
        if step.fuzzy and len(word) >= w.fuzzy_min:
            distance = 1 if len(word) < w.fuzzy_two_edits_from else 2
            alternatives.extend(
                wq.FuzzyTerm(field, word, boost=boost, maxdist=distance, prefixlength=1)
                for field, boost in w.fuzzy_fields.items()
            )
        clauses.append(wq.Or(alternatives))
    words = wq.And(clauses) if len(clauses) > 1 else clauses[0]
    exact = wq.Term("name_exact", " ".join(steps.words), boost=w.exact_boost)
    return wq.Or([exact, words])


def _stored_lines(stored: dict[str, Any], name: str) -> list[str]:
    """The values of a stored field (several values are kept one per line)."""
    return stored.get(name, "").split("\n")
