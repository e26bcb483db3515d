"""A synthetic lifecycle graph: teams, users, datasets and versions, pipelines and runs,
features, models and instances, A/B tests and cells, deployments.

The lineage is a DAG organised in *domains* (clusters): a domain's datasets are in
layers, a dataset's upstream datasets and its pipelines' inputs come from earlier
layers of the same domain, features are computed from one domain's datasets, and a
model instance uses features of one domain, so that the transitive lineage of an
entity has tens of members, as in a real catalogue, not the whole graph.

>>> entities = lifecycle_entities(2000, seed=1)
>>> 1900 < sum(1 + len(f.parts) for f in entities) <= 2100
True
>>> sorted({str(o) for f in entities[:1] for p, o in f.pairs if p.value.endswith("type")})
['<https://w3id.org/lifecyclegraph/ontology#Team>']
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from lifecyclegraph.core.facts import Facts, Ref

__all__ = ["Change", "lifecycle_changes", "lifecycle_entities"]

# Entities per 100 of the graph, by kind (parts: cells and deployments are counted).
_SHARE = {
    "team": 0.2,
    "user": 2.0,
    "dataset": 14.0,
    "version": 18.0,
    "pipeline": 3.0,
    "run": 24.0,
    "feature": 10.0,
    "model": 2.0,
    "instance": 15.0,
    "test": 1.2,
    "cell": 2.4,
    "deployment": 7.2,
}
_DOMAIN_DATASETS = 24  # datasets per domain, in 4 layers of 6


@dataclass(frozen=True)
class _Plan:
    counts: dict[str, int]
    domains: int


def _plan(total: int) -> _Plan:
    counts = {kind: max(1, int(total * share / 100)) for kind, share in _SHARE.items()}
    domains = max(1, counts["dataset"] // _DOMAIN_DATASETS)
    return _Plan(counts, domains)


def _uri(kind: str, i: int) -> str:
    path = {
        "team": "team/identity",
        "user": "user/identity",
        "dataset": "dataset/datasets",
        "version": "dataset-version/datasets",
        "pipeline": "pipeline/orchestrator",
        "run": "pipeline-run/orchestrator",
        "feature": "feature/featurestore",
        "model": "model/registry",
        "instance": "model/registry",
        "test": "ab-test/experimentation",
        "deployment": "deployment/registry",
    }[kind]
    names = {"version": f"ds-{i // 2}:v{i % 2}", "instance": f"instance-{i}"}
    name = names.get(kind, f"{kind}-{i}")
    return f"aip://{path}/{name}"


class _Graph:
    """Decides every link once, so that the entities and later changes agree."""

    def __init__(self, total: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.plan = _plan(total)
        self.n = self.plan.counts
        rng, n = self.rng, self.n
        self.dataset_domain = [i % self.plan.domains for i in range(n["dataset"])]
        self.by_domain: dict[int, list[int]] = {}
        for i, d in enumerate(self.dataset_domain):
            self.by_domain.setdefault(d, []).append(i)
        self.layer = {}
        for members in self.by_domain.values():
            for position, i in enumerate(members):
                self.layer[i] = position * 4 // max(len(members), 1)
        self.pipeline_domain = [rng.randrange(self.plan.domains) for _ in range(n["pipeline"])]
        self.feature_domain = [rng.randrange(self.plan.domains) for _ in range(n["feature"])]
        self.first_pipeline: dict[int, int] = {}
        for i, d in enumerate(self.pipeline_domain):
            self.first_pipeline.setdefault(d, i)
        self.features_by_domain: dict[int, list[int]] = {}
        for i, d in enumerate(self.feature_domain):
            self.features_by_domain.setdefault(d, []).append(i)

    def owner(self) -> Ref:
        return Ref(_uri("user", self.rng.randrange(self.n["user"])))

    def earlier(self, domain: int, layer: int, k: int) -> list[int]:
        pool = [i for i in self.by_domain.get(domain, []) if self.layer[i] < layer]
        return self.rng.sample(pool, min(k, len(pool)))

    def at_layer(self, domain: int, layer: int) -> list[int]:
        return [i for i in self.by_domain.get(domain, []) if self.layer[i] == layer]

    def dataset(self, i: int, upstream: list[int] | None = None) -> Facts:
        domain, layer = self.dataset_domain[i], self.layer[i]
        if upstream is None:
            upstream = self.earlier(domain, layer, self.rng.randint(1, 2)) if layer else []
        return Facts.of(
            _uri("dataset", i),
            {
                "rdf:type": Ref("lg:Dataset"),
                "lg:name": f"dataset_{i}",
                "lg:owner": self.owner(),
                "lg:upstreamDataset": [Ref(_uri("dataset", u)) for u in upstream],
                "lg:latestVersion": Ref(_uri("version", 2 * i + 1))
                if 2 * i + 1 < self.n["version"]
                else None,
            },
        )

    def version(self, i: int) -> Facts:
        dataset = (i // 2) % self.n["dataset"]
        return Facts.of(
            _uri("version", i),
            {
                "rdf:type": Ref("lg:DatasetVersion"),
                "lg:versionOf": Ref(_uri("dataset", dataset)),
                "lg:producedByRun": Ref(_uri("run", self.rng.randrange(self.n["run"])))
                if self.layer[dataset] and self.rng.random() < 0.5
                else None,
            },
        )

    def pipeline(self, i: int, reads: list[int] | None = None) -> Facts:
        domain = self.pipeline_domain[i]
        layer = self.rng.randint(1, 3)
        if reads is None:
            reads = self.earlier(domain, layer, 2)
        writes = self.at_layer(domain, layer)[:1]
        return Facts.of(
            _uri("pipeline", i),
            {
                "rdf:type": Ref("lg:Pipeline"),
                "lg:name": f"pipeline_{i}",
                "lg:owner": self.owner(),
                "lg:readsDataset": [Ref(_uri("dataset", d)) for d in reads],
                "lg:writesDataset": [Ref(_uri("dataset", d)) for d in writes],
            },
        )

    def run(self, i: int, cell: int | None = None) -> Facts:
        pipeline = i % self.n["pipeline"]
        domain = self.pipeline_domain[pipeline]
        reads = self.earlier(domain, 1, 1)
        if cell is None and self.rng.random() < 0.1:
            cell = self.rng.randrange(self.n["cell"])
        return Facts.of(
            _uri("run", i),
            {
                "rdf:type": Ref("lg:PipelineRun"),
                "lg:runOf": Ref(_uri("pipeline", pipeline)),
                "lg:status": "SUCCEEDED",
                "lg:readVersion": [
                    Ref(_uri("version", 2 * d)) for d in reads if 2 * d < self.n["version"]
                ],
                "lg:ranForCell": Ref(self.cell_uri(cell)) if cell is not None else None,
            },
        )

    def cell_uri(self, cell: int) -> str:
        return f"aip://ab-test-cell/experimentation/test-{cell // 2}:{cell % 2 + 1}"

    def feature(self, i: int) -> Facts:
        domain = self.feature_domain[i]
        sources = self.rng.sample(
            self.by_domain.get(domain, [0]), min(2, len(self.by_domain.get(domain, [0])))
        )
        pipelines = [self.first_pipeline[domain]] if domain in self.first_pipeline else []
        return Facts.of(
            _uri("feature", i),
            {
                "rdf:type": Ref("lg:Feature"),
                "lg:name": f"feature_{i}",
                "lg:owner": self.owner(),
                "lg:sourceDataset": [Ref(_uri("dataset", d)) for d in sources],
                "lg:computedBy": [Ref(_uri("pipeline", p)) for p in pipelines],
            },
        )

    def instance(self, i: int, features: list[int] | None = None) -> Facts:
        if features is None:
            domain = self.rng.randrange(self.plan.domains)
            pool = self.features_by_domain.get(domain) or [0]
            features = self.rng.sample(pool, min(len(pool), self.rng.randint(2, 4)))
        deployments = []
        if i < self.n["deployment"]:
            deployments.append(
                Facts.of(
                    _uri("deployment", i),
                    {
                        "rdf:type": Ref("lg:Deployment"),
                        "lg:environment": "production",
                        "lg:deploymentOf": Ref(_uri("instance", i)),
                    },
                )
            )
        return Facts.of(
            _uri("instance", i),
            {
                "rdf:type": Ref("lg:ModelInstance"),
                "lg:owner": self.owner(),
                "lg:instanceOf": Ref(_uri("model", i % self.n["model"])),
                "lg:producedByRun": Ref(_uri("run", self.rng.randrange(self.n["run"]))),
                "lg:usesFeature": [Ref(_uri("feature", f)) for f in features],
                "lg:hasDeployment": [Ref(d.uri) for d in deployments],
            },
            deployments,
        )

    def model(self, i: int) -> Facts:
        return Facts.of(
            _uri("model", i),
            {
                "rdf:type": Ref("lg:Model"),
                "lg:name": f"model_{i}",
                "lg:owner": self.owner(),
                "lg:currentInstance": Ref(_uri("instance", i)) if i < self.n["instance"] else None,
            },
        )

    def test(self, i: int) -> Facts:
        cells = [
            Facts.of(
                self.cell_uri(2 * i + k),
                {
                    "rdf:type": Ref("lg:ABTestCell"),
                    "lg:cellOf": Ref(_uri("test", i)),
                    "lg:cellNumber": k + 1,
                },
            )
            for k in range(2)
        ]
        return Facts.of(
            _uri("test", i),
            {
                "rdf:type": Ref("lg:ABTest"),
                "lg:owner": self.owner(),
                "lg:hasCell": [Ref(c.uri) for c in cells],
            },
            cells,
        )

    def user(self, i: int, teams: list[int] | None = None) -> Facts:
        if teams is None:
            teams = self.rng.sample(range(self.n["team"]), min(self.n["team"], 1 + i % 2))
        return Facts.of(
            _uri("user", i),
            {
                "rdf:type": Ref("lg:User"),
                "lg:email": f"user{i}@example.com",
                "lg:memberOf": [Ref(_uri("team", t)) for t in teams],
            },
        )

    def team(self, i: int) -> Facts:
        parent = (i - 1) // 5 if i else None
        return Facts.of(
            _uri("team", i),
            {
                "rdf:type": Ref("lg:Team"),
                "lg:name": f"team_{i}",
                "lg:parentTeam": Ref(_uri("team", parent)) if parent is not None else None,
            },
        )


def lifecycle_entities(total: int = 100_000, seed: int = 7) -> list[Facts]:
    """About ``total`` entities (with their parts) of a plausible ML lifecycle."""
    graph = _Graph(total, seed)
    n = graph.n
    out: list[Facts] = []
    out += [graph.team(i) for i in range(n["team"])]
    out += [graph.user(i) for i in range(n["user"])]
    out += [graph.dataset(i) for i in range(n["dataset"])]
    out += [graph.version(i) for i in range(n["version"])]
    out += [graph.pipeline(i) for i in range(n["pipeline"])]
    out += [graph.run(i) for i in range(n["run"])]
    out += [graph.feature(i) for i in range(n["feature"])]
    out += [graph.model(i) for i in range(n["model"])]
    out += [graph.instance(i) for i in range(n["instance"])]
    out += [graph.test(i) for i in range(n["test"])]
    return out


@dataclass(frozen=True)
class Change:
    """A new description of one entity (what a source says after an update event)."""

    kind: str
    facts: Facts


def lifecycle_changes(total: int = 100_000, count: int = 50, seed: int = 7) -> list[Change]:
    """``count`` single-entity changes to the graph of :func:`lifecycle_entities`: model
    instances given other features, runs moved to another A/B test cell, datasets with a
    new upstream, pipelines reading other datasets, users changing team (in turn)."""
    graph = _Graph(total, seed)
    lifecycle_entities(total, seed)  # consume the same random choices first
    rng = random.Random(seed + 1)
    graph.rng = rng
    n = graph.n
    kinds = ["instance", "run", "dataset", "pipeline", "user"]
    changes = []
    for number in range(count):
        kind = kinds[number % len(kinds)]
        if kind == "instance":
            facts = graph.instance(rng.randrange(n["instance"]))
        elif kind == "run":
            facts = graph.run(rng.randrange(n["run"]), cell=rng.randrange(n["cell"]))
        elif kind == "dataset":
            facts = graph.dataset(rng.randrange(n["dataset"]))
        elif kind == "pipeline":
            facts = graph.pipeline(rng.randrange(n["pipeline"]))
        else:
            facts = graph.user(rng.randrange(n["user"]))
        changes.append(Change(kind, facts))
    return changes
