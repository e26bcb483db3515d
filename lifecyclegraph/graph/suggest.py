"""Suggested relationships: what the graph hints at but nobody stated
(``lifecyclegraph suggest``, ``GET /api/v1/suggestions``).

Three kinds, each a :class:`Suggestion` with a score and the reason, for a person to
confirm or dismiss. They are answers, never facts: nothing is written to the graph,
neither as asserted nor as inferred.

* ``similar-models``: two models (``lg:Model``) that use some of the same features
  (the features their instances use, ``lg:usesFeature``), scored by the Jaccard
  similarity of their feature sets (shared / either), when at least
  ``min_similarity``.
* ``missing-feature``: a feature the models similar to a model use and it does not;
  scored by the similarity of the models that use it over that of every similar
  model (1 when all of them use it).
* ``unconsumed-output``: what a pipeline or a pipeline run produces (the properties
  under ``lg:dependsOn`` whose range is ``lg:Pipeline`` or ``lg:PipelineRun``, read
  from the ontology: ``lg:computedBy``, ``lg:writtenByPipeline``,
  ``lg:producedByRun``) that nothing depends on and that has no deployment and no
  A/B test: compute spent on nothing, or a relationship the sources do not report.

>>> jaccard({"a", "b"}, {"b", "c"})
0.3333
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import rdflib
from pyoxigraph import NamedNode

from lifecyclegraph.core.facts import term_value
from lifecyclegraph.core.ontology import Ontology
from lifecyclegraph.core.vocab import LG, RDF_TYPE, compact
from lifecyclegraph.graph.door import Graph

__all__ = ["KINDS", "Suggestion", "jaccard", "model_features", "render_suggestions", "suggest"]

#: The kinds of suggestion.
KINDS = ("similar-models", "missing-feature", "unconsumed-output")
#: What puts a model instance in service (as ``rules/deprecation.rules`` says).
IN_SERVICE = (LG.hasDeployment, LG.associatedAbTest)


@dataclass(frozen=True)
class Suggestion:
    """A relationship the graph suggests: not a fact (see the module).

    Attributes:
        kind: one of :data:`KINDS`.
        subject: the entity it is about.
        object: the other end (a similar model, a feature, the producing pipeline).
        score: how strong the hint is, from 0 to 1.
        reason: why, for a person.
    """

    kind: str
    subject: str
    object: str
    score: float
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "object": self.object,
            "score": self.score,
            "reason": self.reason,
            "suggested": True,  # never an asserted or inferred fact
        }


def jaccard(a: Iterable[str], b: Iterable[str]) -> float:
    """The Jaccard similarity of two sets: shared over either, 0 for two empty sets,
    rounded to four places."""
    left, right = set(a), set(b)
    either = left | right
    return round(len(left & right) / len(either), 4) if either else 0.0


def suggest(
    graph: Graph,
    *,
    min_similarity: float = 0.3,
    kinds: Iterable[str] = KINDS,
    ontology: Ontology | None = None,
) -> list[Suggestion]:
    """The suggestions of ``kinds`` on the current state of ``graph`` (read only), the
    strongest first within each kind.

    Args:
        graph: the graph.
        min_similarity: the least Jaccard similarity that makes two models similar.
        kinds: which kinds to make.
        ontology: the ontology (default: the model in use).

    Raises:
        ValueError: an unknown kind, or ``min_similarity`` outside (0, 1].
    """
    wanted = list(kinds)
    unknown = [k for k in wanted if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown kind {unknown[0]!r}: one of {', '.join(KINDS)}")
    if not 0 < min_similarity <= 1:
        raise ValueError(f"min_similarity must be in (0, 1], not {min_similarity}")
    out: list[Suggestion] = []
    if "similar-models" in wanted or "missing-feature" in wanted:
        features = model_features(graph)
        similar = _similar(features, min_similarity)
        if "similar-models" in wanted:
            out.extend(_similar_models(features, similar))
        if "missing-feature" in wanted:
            out.extend(_missing_features(features, similar))
    if "unconsumed-output" in wanted:
        out.extend(_unconsumed(graph, ontology or Ontology.load()))
    return out


def model_features(graph: Graph) -> dict[str, set[str]]:
    """Each model's features: those its instances use (and any it uses itself)."""
    model_of: dict[str, str] = {}
    for q in graph.quads(None, LG.instanceOf):
        model_of[term_value(q.subject)] = term_value(q.object)
    features: dict[str, set[str]] = {
        term_value(q.subject): set() for q in graph.quads(None, RDF_TYPE, LG.Model)
    }
    for q in graph.quads(None, LG.usesFeature):
        user = term_value(q.subject)
        model = model_of.get(user, user)
        if model in features:
            features[model].add(term_value(q.object))
    return features


def _similar(features: dict[str, set[str]], least: float) -> dict[str, dict[str, float]]:
    similar: dict[str, dict[str, float]] = {m: {} for m in features}
    for a, b in combinations(sorted(features), 2):
        score = jaccard(features[a], features[b])
        if score >= least and score > 0:
            similar[a][b] = similar[b][a] = score
    return similar


def _similar_models(
    features: dict[str, set[str]], similar: dict[str, dict[str, float]]
) -> list[Suggestion]:
    out = []
    for a in sorted(similar):
        for b, score in sorted(similar[a].items()):
            if a < b:
                shared = sorted(features[a] & features[b])
                out.append(
                    Suggestion(
                        "similar-models",
                        a,
                        b,
                        score,
                        f"share {len(shared)} of {len(features[a] | features[b])} features: "
                        + ", ".join(shared),
                    )
                )
    return sorted(out, key=lambda s: (-s.score, s.subject, s.object))


def _missing_features(
    features: dict[str, set[str]], similar: dict[str, dict[str, float]]
) -> list[Suggestion]:
    out = []
    for model in sorted(similar):
        peers = similar[model]
        total = sum(peers.values())
        candidates = (
            set().union(*(features[p] for p in peers)) - features[model] if peers else set()
        )
        for feature in sorted(candidates):
            users = sorted(p for p in peers if feature in features[p])
            score = round(sum(peers[p] for p in users) / total, 4)
            out.append(
                Suggestion(
                    "missing-feature",
                    model,
                    feature,
                    score,
                    "used by similar models "
                    + ", ".join(f"{p} ({peers[p]:.2f})" for p in users)
                    + "; not by this one",
                )
            )
    return sorted(out, key=lambda s: (-s.score, s.subject, s.object))


def _unconsumed(graph: Graph, ontology: Ontology) -> list[Suggestion]:
    depends = _depends_properties(ontology)
    producers = {LG.Pipeline.value, LG.PipelineRun.value}
    producing = [
        p
        for p in depends
        if _value(ontology, p, rdflib.RDFS.range) in producers
        and _value(ontology, p, rdflib.RDFS.domain) not in producers
    ]
    consumed: set[str] = set()
    for p in [*depends, LG.dependsOn.value]:
        consumed |= {term_value(q.object) for q in graph.quads(None, NamedNode(p))}
    for service in IN_SERVICE:
        consumed |= {term_value(q.subject) for q in graph.quads(None, service)}
    out: dict[str, Suggestion] = {}
    for p in sorted(producing):
        for q in graph.quads(None, NamedNode(p)):
            output, producer = term_value(q.subject), term_value(q.object)
            if output in consumed or output in out:
                continue
            out[output] = Suggestion(
                "unconsumed-output",
                output,
                producer,
                1.0,
                f"{compact(p)} {producer}; nothing depends on it, no deployment or A/B test",
            )
    return [out[k] for k in sorted(out)]


def _depends_properties(ontology: Ontology) -> list[str]:
    """The properties under ``lg:dependsOn`` (itself excluded)."""
    top = rdflib.URIRef(LG.dependsOn.value)
    found = ontology.graph.transitive_subjects(rdflib.RDFS.subPropertyOf, top)
    return sorted(str(p) for p in found if p != top)


def _value(ontology: Ontology, term: str, predicate: rdflib.URIRef) -> str | None:
    value = ontology.graph.value(rdflib.URIRef(term), predicate)
    return str(value) if value is not None else None


def render_suggestions(suggestions: list[Suggestion], fmt: str = "text") -> str:
    """The suggestions as ``text`` (one line each, by kind) or ``json``.

    Raises:
        ValueError: an unknown format.
    """
    if fmt == "json":
        import json

        data = {"suggestions": [s.as_dict() for s in suggestions]}
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt != "text":
        raise ValueError(f"unknown format {fmt!r}: text or json")
    lines = []
    for kind in KINDS:
        found = [s for s in suggestions if s.kind == kind]
        if not found:
            continue
        lines.append(f"{kind} ({len(found)}), suggested, not facts:")
        lines.extend(f"  {s.score:.2f} {s.subject} -> {s.object}: {s.reason}" for s in found)
    lines.append(f"{len(suggestions)} suggestion{'' if len(suggestions) == 1 else 's'}")
    return "\n".join(lines) + "\n"
