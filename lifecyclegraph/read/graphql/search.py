"""GraphQL's ``search`` and ``searchOwners`` root fields: ``graph.search()`` in GraphQL.

The resolvers call the door's ``search()`` and ``search_owners()``, so the hits, their
order, the totals and the facets are those of ``graph.search()`` and of
``GET /api/v1/search`` (``docs/search.md``); each hit's ``entity`` is the entity
itself, with every field of its type.

>>> from lifecyclegraph import Facts, LifecycleGraph, Ref
>>> from lifecyclegraph.read.graphql.schema import execute, load_schema
>>> graph = LifecycleGraph.in_memory()
>>> _ = graph.write(Facts.of("aip://model/registry/m", {"rdf:type": Ref("lg:Model"),
...                          "lg:name": "Ranking model", "lg:sourceId": "m"}), source="registry")
>>> graph.search_index.flush()
True
>>> answer = execute(load_schema(), graph,
...     '{ search(text: "ranking") { total hits { uri entity { ... on Model { name } } } } }')
>>> answer["data"]["search"]
{'total': 1, 'hits': [{'uri': 'aip://model/registry/m', 'entity': {'name': 'Ranking model'}}]}
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLBoolean,
    GraphQLError,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
)

from lifecyclegraph.core.errors import SearchQueryError
from lifecyclegraph.read.graphql.reads import Context

__all__ = ["search_fields"]


def _list_of(kind: Any) -> GraphQLNonNull:
    return GraphQLNonNull(GraphQLList(GraphQLNonNull(kind)))


def search_fields(entity: GraphQLInterfaceType) -> dict[str, GraphQLField]:
    """The root fields ``search`` and ``searchOwners``, whose hits link to ``entity``."""
    highlight = GraphQLObjectType(
        "SearchHighlight",
        {
            "field": GraphQLField(GraphQLNonNull(GraphQLString)),
            "text": GraphQLField(
                GraphQLNonNull(GraphQLString), description="the text with <mark> tags"
            ),
        },
    )
    hit = GraphQLObjectType(
        "SearchHit",
        {
            "uri": GraphQLField(GraphQLNonNull(GraphQLID)),
            "name": GraphQLField(GraphQLNonNull(GraphQLString)),
            "type": GraphQLField(GraphQLNonNull(GraphQLString), description="e.g. lg:Model"),
            "score": GraphQLField(GraphQLNonNull(GraphQLFloat)),
            "snippet": GraphQLField(
                GraphQLNonNull(GraphQLString), description="the best highlight, or empty"
            ),
            "highlights": GraphQLField(
                _list_of(highlight),
                resolve=lambda h, _: [{"field": k, "text": v} for k, v in h.highlights.items()],
            ),
            "entity": GraphQLField(
                entity,
                description="the entity (null if it went away since it was indexed)",
                resolve=lambda h, info: info.context.node(h.uri),
            ),
        },
        description="One search result.",
    )
    count = GraphQLObjectType(
        "FacetCount",
        {
            "value": GraphQLField(GraphQLNonNull(GraphQLString)),
            "count": GraphQLField(GraphQLNonNull(GraphQLInt)),
        },
    )
    facet = GraphQLObjectType(
        "Facet",
        {
            "name": GraphQLField(
                GraphQLNonNull(GraphQLString), description="type, owner, tag or domain"
            ),
            "values": GraphQLField(_list_of(count)),
        },
    )
    results = GraphQLObjectType(
        "SearchResults",
        {
            "total": GraphQLField(GraphQLNonNull(GraphQLInt), description="every match"),
            "page": GraphQLField(GraphQLNonNull(GraphQLInt)),
            "pageSize": GraphQLField(GraphQLNonNull(GraphQLInt), resolve=_page_size),
            "fuzzy": GraphQLField(
                GraphQLNonNull(GraphQLBoolean), description="typos were forgiven"
            ),
            "hits": GraphQLField(_list_of(hit)),
            "facets": GraphQLField(_list_of(facet), resolve=_facets),
        },
        description="A page of search results (docs/search.md).",
    )
    paging = {
        "text": GraphQLArgument(GraphQLString, default_value="", description="words to find"),
        "first": GraphQLArgument(GraphQLInt, description="hits per page (default 20)"),
        "page": GraphQLArgument(GraphQLInt, default_value=1, description="1-based page"),
    }
    values = GraphQLList(GraphQLNonNull(GraphQLString))
    filters = {
        name: GraphQLArgument(values, description=description)
        for name, description in (
            ("type", "entity types (model, lg:Model or the IRI); any of them"),
            ("owner", "owners by URI, id or name; any of them"),
            ("tag", "tags as key::value; any of them"),
            ("domain", "domains (models, lg:ModelsDomain); any of them"),
        )
    }
    return {
        "search": GraphQLField(
            GraphQLNonNull(results),
            args={
                **paging,
                **filters,
                "facets": GraphQLArgument(
                    GraphQLBoolean, default_value=True, description="count facets"
                ),
            },
            resolve=_search,
            description="Full-text search over entities of every type, ranked as "
            "graph.search() and GET /api/v1/search rank them.",
        ),
        "searchOwners": GraphQLField(
            GraphQLNonNull(results),
            args=paging,
            resolve=_search_owners,
            description="Search users and teams by name, id, email or team.",
        ),
    }


def _searchable(ctx: Context) -> None:
    config = getattr(ctx.graph, "search_config", None)
    if config is not None and not getattr(config, "enabled", True):
        raise GraphQLError("search is off on this server ([search] enabled = false)")


def _search(
    _: Any,
    info: Any,
    text: str = "",
    first: int | None = None,
    page: int = 1,
    facets: bool = True,
    **filters: list[str] | None,
) -> Any:
    ctx: Context = info.context
    _searchable(ctx)
    try:
        return ctx.graph.search(
            text,
            type=filters.get("type"),
            owner=filters.get("owner"),
            tag=filters.get("tag"),
            domain=filters.get("domain"),
            page=page,
            page_size=20 if first is None else first,
            facets=facets,
        )
    except SearchQueryError as error:
        raise GraphQLError(str(error)) from None


def _search_owners(
    _: Any, info: Any, text: str = "", first: int | None = None, page: int = 1
) -> Any:
    ctx: Context = info.context
    _searchable(ctx)
    try:
        return ctx.graph.search_owners(text, page=page, page_size=20 if first is None else first)
    except SearchQueryError as error:
        raise GraphQLError(str(error)) from None


def _page_size(results: Any, _: Any) -> int:
    size: int = results.page_size
    return size


def _facets(results: Any, _: Any) -> list[dict[str, Any]]:
    return [
        {"name": name, "values": [{"value": v, "count": n} for v, n in counts.items()]}
        for name, counts in results.facets.items()
    ]
