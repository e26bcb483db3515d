"""The small interface every search engine implements, and the values it speaks in.

A backend stores :class:`~lifecyclegraph.search.documents.Document` s and answers a
:class:`SearchQuery` with :class:`SearchResults`. Ranking follows the same rules in
every backend (see ``docs/search.md``): an exact name match first, then prefix and
multi-field matches; fuzzy matching only when exact terms find fewer than
``fuzzy_below`` hits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from lifecyclegraph.core.errors import SearchError, SearchQueryError
from lifecyclegraph.search.documents import Document

__all__ = [
    "FACETS",
    "FACET_SIZE",
    "Hit",
    "SearchBackend",
    "SearchError",
    "SearchQuery",
    "SearchQueryError",
    "SearchResults",
]

#: The fields results are faceted (and filtered) by.
FACETS = ("type", "owner", "tag", "domain")
#: Facet counts give this many values per facet, the most frequent first.
FACET_SIZE = 20


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """One search request, already normalized (filter values as the index stores them).

    Args:
        text: the words to look for (empty: every document, filtered).
        filters: per facet, the accepted values (any of them; facets combine with AND).
            ``owner`` values are matched lower-case against owner URIs, ids and names.
        page: 1-based page number.
        page_size: hits per page.
        fuzzy_below: try fuzzy matching when exact terms find fewer hits than this.
        facets: count facets over every match (the costly part of a broad query);
            without them ``SearchResults.facets`` is empty (search as you type).
    """

    text: str = ""
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    page: int = 1
    page_size: int = 20
    fuzzy_below: int = 1
    facets: bool = True

    def __post_init__(self) -> None:
        if self.page < 1:
            raise SearchQueryError(f"page must be 1 or more, not {self.page}")
        if not 1 <= self.page_size <= 1000:
            raise SearchQueryError(f"page_size must be between 1 and 1000, not {self.page_size}")
        unknown = set(self.filters) - set(FACETS)
        if unknown:
            raise SearchQueryError(f"unknown filter {sorted(unknown)[0]!r}; use {FACETS}")


@dataclass(frozen=True, slots=True)
class Hit:
    """One result: the entity, its score and highlighted snippets (``<mark>`` tags)."""

    uri: str
    name: str
    type: str
    score: float
    highlights: dict[str, str] = field(default_factory=dict)

    @property
    def snippet(self) -> str:
        """The best highlighted snippet: the description's, else the name's, else ``""``."""
        for key in ("description", "name", "related", "owners", "tags"):
            if key in self.highlights:
                return self.highlights[key]
        return ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "uri": self.uri,
            "name": self.name,
            "type": self.type,
            "score": round(self.score, 4),
            "highlights": self.highlights,
        }


@dataclass(frozen=True, slots=True)
class SearchResults:
    """A page of hits, the total number of matches and the facet counts over all of them."""

    hits: list[Hit]
    total: int
    page: int
    page_size: int
    facets: dict[str, dict[str, int]]
    fuzzy: bool = False  #: fuzzy matching was used

    def __iter__(self) -> Any:
        return iter(self.hits)

    def __len__(self) -> int:
        return len(self.hits)

    @property
    def uris(self) -> list[str]:
        return [h.uri for h in self.hits]

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "page": self.page,
            "page_size": self.page_size,
            "fuzzy": self.fuzzy,
            "hits": [h.as_dict() for h in self.hits],
            "facets": self.facets,
        }


@runtime_checkable
class SearchBackend(Protocol):
    """A search engine holding documents; one instance per index (entities, owners)."""

    name: str

    def index(self, docs: Iterable[Document], delete: Iterable[str] = ()) -> None:
        """Add or replace ``docs`` (by URI) and remove ``delete``, in one commit.

        Once it returns, searches see the change.
        """

    def delete(self, uris: Iterable[str]) -> None:
        """Remove documents by URI (unknown URIs are ignored)."""

    def search(self, query: SearchQuery) -> SearchResults:
        """Answer a query: ranked, filtered, faceted, paginated and highlighted."""

    def versions(self) -> dict[str, str]:
        """Every URI in the index with the version of its document."""

    def versions_of(self, uris: Iterable[str]) -> dict[str, str]:
        """The version of each of ``uris`` the index holds (the others are left out).

        A few thousand at a time cost the memory of those alone, where
        :meth:`versions` holds every document's (about 400 MB at a million).
        """

    def count(self) -> int:
        """The number of documents."""

    def clear(self) -> None:
        """Remove every document."""

    def close(self) -> None:
        """Release files and searchers."""
