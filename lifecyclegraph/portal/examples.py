"""The example queries the portal's SPARQL and GraphQL pages offer.

>>> [title for title, _ in SPARQL_EXAMPLES][:1]
['What the graph holds, by type']
"""

from __future__ import annotations

__all__ = ["GRAPHQL_EXAMPLES", "SPARQL_EXAMPLES"]

#: (title, query) pairs for ``/sparql``; the first is the page's starting query.
SPARQL_EXAMPLES: tuple[tuple[str, str], ...] = (
    (
        "What the graph holds, by type",
        """SELECT ?type (COUNT(?e) AS ?entities) WHERE {
  ?e lg:hydrationState lg:Hydrated ; a ?type .
  FILTER(STRSTARTS(STR(?type), STR(lg:)) && ?type NOT IN (lg:Asset, lg:UnusedAsset))
} GROUP BY ?type ORDER BY DESC(?entities) ?type""",
    ),
    (
        "Every dataset upstream of each model instance (derived)",
        """SELECT ?instance ?dataset WHERE {
  ?instance a lg:ModelInstance ; lg:upstream ?d .
  ?d a lg:Dataset ; lg:name ?dataset .
} ORDER BY ?instance ?dataset LIMIT 100""",
    ),
    (
        "Which teams own what (derived)",
        """SELECT ?team (COUNT(?asset) AS ?assets) WHERE {
  ?asset lg:owningTeam ?t . ?t lg:name ?team .
} GROUP BY ?team ORDER BY DESC(?assets)""",
    ),
    (
        "Owners the identity platform does not know",
        "SELECT ?asset ?email WHERE { ?asset lg:unresolvedOwnerEmail ?email }",
    ),
)

#: (title, query) pairs for ``/graphql``; the first is the page's starting query.
GRAPHQL_EXAMPLES: tuple[tuple[str, str], ...] = (
    ("Models and their names", "{\n  models {\n    id\n    name\n  }\n}"),
    ("Datasets", "{\n  datasets {\n    id\n    name\n  }\n}"),
)
