"""Full-text search over the graph: derived indexes, kept current from the store.

See ``docs/search.md``. The entry points are :meth:`LifecycleGraph.search` and
:meth:`LifecycleGraph.search_owners`; :class:`SearchIndex` is the index itself.
"""

from lifecyclegraph.search.backend import (
    Hit,
    SearchBackend,
    SearchError,
    SearchQuery,
    SearchQueryError,
    SearchResults,
)
from lifecyclegraph.search.builder import DocumentBuilder
from lifecyclegraph.search.documents import Document, TypeCatalog
from lifecyclegraph.search.index import CheckReport, Discrepancy, SearchIndex, open_backend

__all__ = [
    "CheckReport",
    "Discrepancy",
    "Document",
    "DocumentBuilder",
    "Hit",
    "SearchBackend",
    "SearchError",
    "SearchIndex",
    "SearchQuery",
    "SearchQueryError",
    "SearchResults",
    "TypeCatalog",
    "open_backend",
]
