"""The fast engine: Tantivy (``pip install 'lifecyclegraph[tantivy]'``), on disk or in memory.

Same fields, ranking plan and results as the Whoosh backend; facets are Tantivy
term aggregations over fast fields, so their cost stays low at a million entities.
After each commit the index is reloaded and the next search takes a new searcher.

>>> backend = TantivyBackend.open(None)
>>> backend.count()
0
>>> backend.close()
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import tantivy
from tantivy import Occur, Query

from lifecyclegraph.search.backend import FACET_SIZE, FACETS, Hit, SearchQuery, SearchResults
from lifecyclegraph.search.documents import Document, tokens
from lifecyclegraph.search.ranking import FILTER_FIELDS, Plan, Step, first_marks, highlighter, plan

__all__ = ["TantivyBackend"]

_WORDS_TOKENIZER = "lg_words"
_FACET_FIELDS = {"type": "type", "domain": "domain", "tag": "tags", "owner": "owners"}
_MARKER = ".lifecyclegraph-tantivy"
_AGGREGATION = {
    facet: {"terms": {"field": field, "size": FACET_SIZE}} for facet, field in _FACET_FIELDS.items()
}
_FACETING = ThreadPoolExecutor(max_workers=2, thread_name_prefix="search-facets")


def _schema() -> Any:
    b = tantivy.SchemaBuilder()
    for name in ("uri", "version", "type"):
        b.add_text_field(name, stored=True, fast=True, tokenizer_name="raw")
    for name in ("domain", "owners", "tags", "name_sort"):
        b.add_text_field(name, fast=True, tokenizer_name="raw")
    for name in ("name_exact", "owner_keys"):
        b.add_text_field(name, tokenizer_name="raw", index_option="basic")
    for name in ("name", "description", "owner_names", "tags_text", "related"):
        b.add_text_field(name, stored=True, tokenizer_name=_WORDS_TOKENIZER, index_option="freq")
    for name in ("type_label", "keywords", "uri_text"):
        b.add_text_field(name, tokenizer_name=_WORDS_TOKENIZER, index_option="freq")
    return b.build()


def _analyzer() -> Any:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.regex(r"[^\W_]+"))
        .filter(tantivy.Filter.lowercase())
        .build()
    )


class TantivyBackend:
    """A Tantivy index of search documents (see :class:`WhooshBackend` for the contract)."""

    name = "tantivy"

    def __init__(self, ix: Any, path: Path | None, created: bool) -> None:
        ix.register_tokenizer(_WORDS_TOKENIZER, _analyzer())
        self._ix = ix
        self._schema = ix.schema
        self.path = path
        self.created = created
        self._lock = threading.Lock()
        self._writer: Any = None
        self._searcher: Any = None

    @classmethod
    def open(cls, path: Path | None) -> TantivyBackend:
        """Open the index in ``path`` (``None``: in memory), starting afresh if unreadable."""
        if path is None:
            return cls(tantivy.Index(_schema()), None, True)
        path = Path(path)
        try:
            if (path / _MARKER).exists() and tantivy.Index.exists(str(path)):
                ix = tantivy.Index(_schema(), path=str(path), reuse=True)
                backend = cls(ix, path, False)
                backend.count()
                return backend
        except Exception:  # any failure to read means: rebuild
            pass
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
        backend = cls(tantivy.Index(_schema(), path=str(path), reuse=False), path, True)
        (path / _MARKER).write_text("1\n")
        return backend

    # -- writing -------------------------------------------------------------------------

    def _get_writer(self) -> Any:
        if self._writer is None:
            self._writer = self._ix.writer(heap_size=64_000_000, num_threads=1)
        return self._writer

    def index(self, docs: Iterable[Document], delete: Iterable[str] = ()) -> None:
        with self._lock:
            writer = self._get_writer()
            fresh = self._count() == 0
            for uri in delete:
                writer.delete_documents_by_term("uri", uri)
            for doc in docs:
                if not fresh:
                    writer.delete_documents_by_term("uri", doc.uri)
                writer.add_document(_document(doc))
            writer.commit()
            self._ix.reload()
            self._searcher = None

    def delete(self, uris: Iterable[str]) -> None:
        self.index((), uris)

    def clear(self) -> None:
        with self._lock:
            writer = self._get_writer()
            writer.delete_all_documents()
            writer.commit()
            self._ix.reload()
            self._searcher = None

    # -- reading -------------------------------------------------------------------------

    def _current(self) -> Any:
        searcher = self._searcher
        if searcher is None:
            searcher = self._searcher = self._ix.searcher()
        return searcher

    def _count(self) -> int:
        return int(self._current().num_docs)

    def count(self) -> int:
        return self._count()

    def versions(self) -> dict[str, str]:
        searcher = self._current()
        total = int(searcher.num_docs)
        return _versions(searcher, Query.all_query(), total) if total else {}

    def versions_of(self, uris: Iterable[str]) -> dict[str, str]:
        wanted = list(uris)
        if not wanted:
            return {}
        searcher = self._current()
        query = Query.term_set_query(self._schema, "uri", wanted)
        total = int(searcher.search(query, 1, count=True).count)
        return _versions(searcher, query, total) if total else {}

    def search(self, query: SearchQuery) -> SearchResults:
        searcher = self._current()
        steps = plan(query)
        filt = self._filter(query)
        result = compiled = None
        step = steps.steps[0]
        for step in steps.steps:
            compiled = self._compile(step, steps)
            if filt is not None:
                compiled = Query.boolean_query([(Occur.Must, compiled), (Occur.Must, filt)])
            # Facet counts and the page of hits are two passes over the matches:
            # Tantivy lets go of the GIL, so they run side by side.
            future: Future[Any] | None = None
            if query.facets:
                future = _FACETING.submit(searcher.aggregate, compiled, _AGGREGATION)
            result = searcher.search(
                compiled,
                query.page_size,
                count=True,
                offset=(query.page - 1) * query.page_size,
                **(
                    {"order_by_field": "name_sort", "order": tantivy.Order.Asc}
                    if step.every
                    else {}
                ),
            )
            if result.count >= query.fuzzy_below or not steps.fuzzy_possible:
                break
        assert result is not None and compiled is not None
        hits = []
        highlight = highlighter(steps, step.fuzzy)
        for score, address in result.hits:
            stored = searcher.doc(address)
            marks = {} if steps.every else first_marks(highlight, stored.get_all)
            hits.append(
                Hit(
                    uri=stored.get_first("uri"),
                    name=stored.get_first("name"),
                    type=stored.get_first("type"),
                    score=0.0 if step.every else float(score),
                    highlights=marks,
                )
            )
        buckets = future.result() if future is not None else {}
        facets = {
            facet: {
                b["key"]: b["doc_count"]
                for b in sorted(
                    buckets.get(facet, {}).get("buckets", []),
                    key=lambda b: (-b["doc_count"], b["key"]),
                )
                if b["key"]
            }
            for facet in (FACETS if query.facets else ())
        }
        return SearchResults(
            hits=hits,
            total=result.count,
            page=query.page,
            page_size=query.page_size,
            facets=facets,
            fuzzy=step.fuzzy,
        )

    def _filter(self, query: SearchQuery) -> Any:
        clauses = []
        for facet, values in query.filters.items():
            if not values:
                continue
            field = FILTER_FIELDS[facet]
            norm = [v.lower() for v in values] if facet == "owner" else list(values)
            clauses.append((Occur.Must, Query.term_set_query(self._schema, field, norm)))
        if not clauses:
            return None
        return Query.const_score_query(Query.boolean_query(clauses), 0.0)

    def _compile(self, step: Step, steps: Plan) -> Any:
        if step.every:
            return Query.all_query()
        s, w = self._schema, steps.weights
        per_word = []
        for word in steps.words:
            alternatives = [
                (Occur.Should, Query.boost_query(Query.term_query(s, field, word), boost))
                for field, boost in w.term_fields.items()
            ]
            if steps.is_prefix(word):
                # A prefix is a Levenshtein automaton of distance 0 in prefix mode:
                # far cheaper to build than a regex.
                for field, boost in (("name", w.prefix_boost), ("keywords", w.prefix_boost / 3)):
                    prefix = Query.fuzzy_term_query(s, field, word, 0, True, True)
                    alternatives.append((Occur.Should, Query.boost_query(prefix, boost)))
            if step.fuzzy and len(word) >= w.fuzzy_min:
                distance = 1 if len(word) < w.fuzzy_two_edits_from else 2
                alternatives.extend(
                    (
                        Occur.Should,
                        Query.boost_query(
                            Query.fuzzy_term_query(s, field, word, distance, True, False), boost
                        ),
                    )
                    for field, boost in w.fuzzy_fields.items()
                )
            per_word.append((Occur.Must, Query.boolean_query(alternatives)))
        words = Query.boolean_query(per_word)
        exact = Query.boost_query(
            Query.term_query(s, "name_exact", " ".join(steps.words)), w.exact_boost
        )
        return Query.boolean_query([(Occur.Should, exact), (Occur.Must, words)])

    def close(self) -> None:
        with self._lock:
            if self._writer is not None:
                self._writer.wait_merging_threads()
                self._writer = None
            self._searcher = None


def _versions(searcher: Any, query: Any, limit: int) -> dict[str, str]:
    """The URI and version of the (at most ``limit``) documents ``query`` matches."""
    found = {}
    for _, address in searcher.search(query, limit, count=False).hits:
        stored = searcher.doc(address)
        found[stored.get_first("uri")] = stored.get_first("version")
    return found


def _document(doc: Document) -> Any:
    d = tantivy.Document()
    d.add_text("uri", doc.uri)
    d.add_text("version", doc.version)
    d.add_text("name", doc.name)
    d.add_text("name_exact", " ".join(tokens(doc.name)))
    d.add_text("name_sort", doc.name.lower())
    d.add_text("type", doc.type)
    d.add_text("type_label", doc.type_label)
    d.add_text("domain", doc.domain)
    d.add_text("description", doc.description)
    for owner in doc.owners:
        d.add_text("owners", owner)
    for key in doc.owner_keys:
        d.add_text("owner_keys", key)
    for name in doc.owner_names:
        d.add_text("owner_names", name)
    for tag in doc.tags:
        d.add_text("tags", tag)
        d.add_text("tags_text", tag)
    for name in doc.related:
        d.add_text("related", name)
    for keyword in doc.keywords:
        d.add_text("keywords", keyword)
    d.add_text("uri_text", doc.uri)
    return d
