"""The example queries the portal's SPARQL and GraphQL pages offer.

>>> [title for title, _ in SPARQL_EXAMPLES][:1]
['What the graph holds, by type']
"""

from __future__ import annotations

import re

from lifecyclegraph.core.vocab import PREFIXES

__all__ = ["GRAPHQL_EXAMPLES", "SPARQL_EXAMPLES", "with_prefixes"]

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
        "Every dataset upstream of each model instance (derived, any number of steps)",
        """SELECT DISTINCT ?instance ?dataset WHERE {
  ?instance a lg:ModelInstance ; lg:upstream+ ?d .
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


def with_prefixes(query: str) -> str:
    """``query`` with a ``PREFIX`` line for each of the project's prefixes it uses.

    ``/sparql`` declares them already; the editor's syntax check (YASGUI) does not
    know that, and the result table shortens IRIs with the query's prefixes.

    >>> print(with_prefixes("SELECT * WHERE { ?s a lg:Model ; prov:x ?o }"))
    PREFIX lg: <https://w3id.org/lifecyclegraph/ontology#>
    PREFIX prov: <http://www.w3.org/ns/prov#>
    SELECT * WHERE { ?s a lg:Model ; prov:x ?o }
    """
    used = set(re.findall(r"(?<![\w<])([a-z][\w-]*):(?!//)", query))
    lines = [f"PREFIX {name}: <{base}>" for name, base in PREFIXES.items() if name in used]
    return "\n".join([*lines, query])
