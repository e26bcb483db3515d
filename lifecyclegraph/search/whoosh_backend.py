"""The embedded default engine: Whoosh (``whoosh-reloaded``), on disk or in memory.

One Whoosh index per :class:`WhooshBackend`. Searchers are opened anew after each
commit: ``Searcher.refresh()`` in whoosh-reloaded 2.7.5 can return documents as they
were before an update, so it is never used.

>>> from lifecyclegraph.search.backend import SearchQuery
>>> backend = WhooshBackend.open(None)
>>> backend.count()
0
>>> backend.close()
"""

from __future__ import annotations

import gc
import shutil
import threading
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from whoosh import fields, index, sorting
from whoosh import query as wq
from whoosh.analysis import LowercaseFilter, RegexTokenizer
from whoosh.filedb.filestore import FileStorage, RamStorage

from lifecyclegraph.search.backend import FACET_SIZE, Hit, SearchQuery, SearchResults
from lifecyclegraph.search.documents import Document, tokens
from lifecyclegraph.search.ranking import Plan, Weights, highlighter, plan

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
_FILTER_FIELDS = {"type": "type", "domain": "domain", "tag": "tags", "owner": "owner_keys"}
_HIGHLIGHTED = {
    "name": "name",
    "description": "description",
    "related": "related",
    "owners": "owner_names",
    "tags": "tags_text",
}


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
        self._searcher_lock = threading.Lock()
        self._searcher: Any = None
        self._users: dict[int, int] = {}  # id(searcher) -> searches in flight
        self._retired: list[Any] = []

    @classmethod
    def open(cls, path: Path | None) -> WhooshBackend:
        """Open the index in ``path`` (``None``: in memory), starting afresh if unreadable."""
        if path is None:
            return cls(RamStorage().create_index(_schema(), indexname=_INDEX_NAME), None, True)
        path = Path(path)
        opened = _open_existing(path)
        if opened is not None:
            return cls(opened, path, False)
        return cls(_create(path), path, True)

    # -- writing -------------------------------------------------------------------------

    def index(self, docs: Iterable[Document], delete: Iterable[str] = ()) -> None:
        with self._write_lock:
            fresh = self._ix.doc_count_all() == 0
            writer = self._ix.writer(limitmb=128)
            try:
                for uri in delete:
                    writer.delete_by_term("uri", uri)
                for doc in docs:
                    values = _fields(doc)
                    if fresh:
                        writer.add_document(**values)
                    else:
                        writer.update_document(**values)
                writer.commit()
            except BaseException:
                writer.cancel()
                raise
            self._retire_searcher()

    def delete(self, uris: Iterable[str]) -> None:
        self.index((), uris)

    def clear(self) -> None:
        with self._write_lock:
            self._ix.writer().commit(mergetype=_clear_segments)
            self._retire_searcher()

    # -- reading -------------------------------------------------------------------------

    def count(self) -> int:
        searcher = self._acquire()
        try:
            return int(searcher.doc_count())
        finally:
            self._release(searcher)

    def versions(self) -> dict[str, str]:
        searcher = self._acquire()
        try:
            return {
                stored["uri"]: stored["version"]
                for _, stored in searcher.reader().iter_docs()
                if "uri" in stored
            }
        finally:
            self._release(searcher)

    def search(self, query: SearchQuery) -> SearchResults:
        searcher = self._acquire()
        try:
            return self._search(searcher, query)
        finally:
            self._release(searcher)

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
            if results.total >= query.fuzzy_below or not steps.fuzzy_possible:
                break
        assert results is not None
        hits = []
        highlight = highlighter(steps, used_fuzzy)
        for hit in results:
            marks = {}
            if not steps.every:
                stored = hit.fields()
                for key, fieldname in _HIGHLIGHTED.items():
                    for value in stored.get(fieldname, "").split("\n"):
                        text = highlight(value)
                        if text:
                            marks[key] = text
                            break
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
            total=results.total,
            page=query.page,
            page_size=query.page_size,
            facets={k: _facet_counts(v) for k, v in groups.items()},
            fuzzy=used_fuzzy,
        )

    # -- searchers -----------------------------------------------------------------------

    def _acquire(self) -> Any:
        with self._searcher_lock:
            if self._searcher is None:
                self._searcher = self._ix.searcher()
            searcher = self._searcher
            self._users[id(searcher)] = self._users.get(id(searcher), 0) + 1
            return searcher

    def _release(self, searcher: Any) -> None:
        with self._searcher_lock:
            self._users[id(searcher)] -= 1
            self._close_idle()

    def _retire_searcher(self) -> None:
        """After a commit, the next search opens a new searcher (never ``refresh()``)."""
        with self._searcher_lock:
            if self._searcher is not None:
                self._retired.append(self._searcher)
                self._searcher = None
            self._close_idle()

    def _close_idle(self) -> None:
        for old in list(self._retired):
            if self._users.get(id(old), 0) == 0:
                self._retired.remove(old)
                self._users.pop(id(old), None)
                old.close()

    def close(self) -> None:
        with self._searcher_lock:
            if self._searcher is not None:
                self._retired.append(self._searcher)
                self._searcher = None
            for old in self._retired:
                old.close()
            self._retired.clear()
            self._users.clear()
        self._ix.close()


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
        field = _FILTER_FIELDS[facet]
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
