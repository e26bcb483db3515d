"""The rule engine as a user of LifecycleGraph sees it: derived facts in plain SPARQL,
kept up to date as entities change, explained down to their sources.

The writes here opt out of the checks (``validate=False``): the design example's
entities are partial on purpose (types and the links the rules follow, nothing else),
since the point is the rules, not the model (checked writes: test_validated_writes.py).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from lifecyclegraph import Facts, LifecycleGraph, Observation, Ref
from lifecyclegraph.cli import main
from lifecyclegraph.core.errors import RuleLimitError
from lifecyclegraph.core.vocab import INFERRED_GRAPH, LG, RDF_TYPE, compact
from lifecyclegraph.rules import evaluate
from lifecyclegraph.rules.compiler import render
from lifecyclegraph.rules.engine import RuleEngine
from lifecyclegraph.rules.load import build_program, load_program, read_ontology
from lifecyclegraph.rules.parser import parse_rules

T0 = datetime(2026, 1, 1, tzinfo=UTC)
INSTANCE = "aip://model/registry/ranking-model-v5-20XX0101"
RUN = "aip://pipeline-run/orchestrator/train-weekly-ranking-20XX0101"
CELL = "aip://ab-test-cell/experimentation/12345:2"
TEST = "aip://ab-test/experimentation/12345"
MODEL = "aip://model/registry/ranking-model"


def write_design_example(graph: LifecycleGraph) -> None:
    graph.write(
        Facts.of(
            INSTANCE,
            {
                "rdf:type": Ref("lg:ModelInstance"),
                "lg:producedByRun": Ref(RUN),
                "lg:instanceOf": Ref(MODEL),
            },
        ),
        source="registry",
        observed_at=T0,
        event_id="evt-registry-1",
        validate=False,
    )
    graph.write(
        Facts.of(RUN, {"rdf:type": Ref("lg:PipelineRun"), "lg:ranForCell": Ref(CELL)}),
        source="orchestrator",
        observed_at=T0 + timedelta(minutes=5),
        event_id="evt-orchestrator-7",
        validate=False,
    )
    cell = Facts.of(CELL, {"rdf:type": Ref("lg:ABTestCell"), "lg:cellOf": Ref(TEST)})
    graph.write(
        Facts.of(TEST, {"rdf:type": Ref("lg:ABTest"), "lg:hasCell": Ref(CELL)}, [cell]),
        source="experimentation",
        observed_at=T0 + timedelta(minutes=9),
        event_id="evt-experimentation-3",
        validate=False,
    )


@pytest.fixture
def graph() -> LifecycleGraph:
    return LifecycleGraph.in_memory(rules=True)


def values(graph: LifecycleGraph, query: str) -> list[str]:
    return sorted(row[0].value for row in graph.sparql(query))


def test_design_example_derives_the_ab_test_of_an_instance_in_plain_sparql(graph):
    write_design_example(graph)
    assert values(graph, f"SELECT ?t WHERE {{ <{INSTANCE}> lg:associatedAbTest ?t }}") == [TEST]
    assert values(graph, f"SELECT ?i WHERE {{ <{TEST}> lg:testsInstance ?i }}") == [INSTANCE]


def test_design_example_derived_facts_live_in_the_inferred_graph(graph):
    write_design_example(graph)
    query = f"SELECT ?g WHERE {{ GRAPH ?g {{ <{INSTANCE}> lg:associatedAbTest ?t }} }}"
    rows = values(graph, query)
    assert rows == [INFERRED_GRAPH.value]
    assert not values(
        graph,
        f"SELECT ?g WHERE {{ GRAPH ?g {{ <{CELL}> lg:cellOf ?t }} "
        f"FILTER (?g = <{INFERRED_GRAPH.value}>) }}",
    )


def test_design_example_explain_walks_instance_run_cell_test_with_sources(graph, golden):
    write_design_example(graph)
    tree = graph.explain(INSTANCE, "lg:associatedAbTest", TEST)
    assert tree is not None and str(tree.rule.location) == "rules/experiments.rules:12:1"
    steps = [
        (leaf.statement, leaf.sources[0].source, leaf.sources[0].observed_at)
        for leaf in tree.leaves()
    ]
    assert steps == [
        (f"<{INSTANCE}> lg:producedByRun <{RUN}>", "registry", T0),
        (f"<{RUN}> lg:ranForCell <{CELL}>", "orchestrator", T0 + timedelta(minutes=5)),
        (f"<{CELL}> lg:cellOf <{TEST}>", "experimentation", T0 + timedelta(minutes=9)),
    ]
    golden("explain-design-example.txt", tree.render() + "\n")


def test_changed_run_retracts_the_ab_test_and_a_new_cell_brings_it_back(graph):
    write_design_example(graph)
    graph.write(
        Facts.of(RUN, {"rdf:type": Ref("lg:PipelineRun")}),
        source="orchestrator",
        observed_at=T0 + timedelta(hours=1),
        validate=False,
    )
    assert values(graph, f"SELECT ?t WHERE {{ <{INSTANCE}> lg:associatedAbTest ?t }}") == []
    assert graph.explain(INSTANCE, "lg:associatedAbTest", TEST) is None
    graph.write(
        Facts.of(RUN, {"rdf:type": Ref("lg:PipelineRun"), "lg:ranForCell": Ref(CELL)}),
        source="orchestrator",
        observed_at=T0 + timedelta(hours=2),
        validate=False,
    )
    assert values(graph, f"SELECT ?t WHERE {{ <{INSTANCE}> lg:associatedAbTest ?t }}") == [TEST]


def test_deleted_test_takes_its_derived_facts_with_it(graph):
    write_design_example(graph)
    graph.delete(TEST, source="experimentation", observed_at=T0 + timedelta(hours=1))
    assert values(graph, "SELECT ?i WHERE { ?i lg:associatedAbTest ?t }") == []
    assert values(graph, "SELECT ?t WHERE { ?t lg:testsInstance ?i }") == []


def test_lineage_is_one_step_edges_and_the_property_path_reaches_across_entity_kinds(graph):
    feature, raw, clean = (
        "aip://feature/featurestore/watch-time-7d",
        "aip://dataset/datasets/playback-events",
        "aip://dataset/datasets/viewing-history",
    )
    graph.write(
        Facts.of(INSTANCE, {"rdf:type": Ref("lg:ModelInstance"), "lg:usesFeature": Ref(feature)}),
        source="registry",
        validate=False,
    )
    graph.write(
        Facts.of(feature, {"rdf:type": Ref("lg:Feature"), "lg:sourceDataset": Ref(clean)}),
        source="featurestore",
        validate=False,
    )
    graph.write(
        Facts.of(clean, {"rdf:type": Ref("lg:Dataset"), "lg:upstreamDataset": Ref(raw)}),
        source="datasets",
        validate=False,
    )
    # the store holds one step each way (issue 17: no materialized closure)...
    assert values(graph, f"SELECT ?u WHERE {{ <{INSTANCE}> lg:upstream ?u }}") == [feature]
    assert values(graph, f"SELECT ?d WHERE {{ <{raw}> lg:downstream ?d }}") == [clean]
    # ...and the property path answers the full lineage
    assert values(graph, f"SELECT ?u WHERE {{ <{INSTANCE}> lg:upstream+ ?u }}") == sorted(
        [feature, raw, clean]
    )
    assert values(graph, f"SELECT ?d WHERE {{ <{raw}> lg:downstream+ ?d }}") == sorted(
        [INSTANCE, feature, clean]
    )
    # why raw is upstream of the instance: the chain of one-step facts, each by its rule
    tree = graph.explain(INSTANCE, "lg:upstream", raw)
    assert tree.rule.origin == "path" and str(tree.rule.location) == "lg:upstream+"
    assert [step.statement for step in tree.premises] == [
        f"<{INSTANCE}> lg:upstream <{feature}>",
        f"<{feature}> lg:upstream <{clean}>",
        f"<{clean}> lg:upstream <{raw}>",
    ]
    assert all("lineage.rules" in str(step.rule.location) for step in tree.premises)
    assert [leaf.statement for leaf in tree.leaves()] == [
        f"<{INSTANCE}> lg:usesFeature <{feature}>",
        f"<{feature}> lg:sourceDataset <{clean}>",
        f"<{clean}> lg:upstreamDataset <{raw}>",
    ]
    # downstream is explained the same way; a pair with no chain is not explained
    down = graph.explain(raw, "lg:downstream", INSTANCE)
    assert [step.statement for step in down.premises] == [
        f"<{raw}> lg:downstream <{clean}>",
        f"<{clean}> lg:downstream <{feature}>",
        f"<{feature}> lg:downstream <{INSTANCE}>",
    ]
    assert graph.explain(raw, "lg:upstream", INSTANCE) is None
    assert graph.explain(INSTANCE, "lg:usesFeature", raw) is None  # not read transitively


def test_owning_teams_follow_owners_membership_and_parent_teams(graph):
    alice, team, parent = (
        "aip://user/identity/alice",
        "aip://team/identity/ranking",
        "aip://team/identity/personalization",
    )
    graph.write(
        Facts.of(MODEL, {"rdf:type": Ref("lg:Model"), "lg:owner": Ref(alice)}),
        source="registry",
        validate=False,
    )
    graph.write(
        Facts.of(
            team,
            {"rdf:type": Ref("lg:Team"), "lg:hasMember": Ref(alice), "lg:parentTeam": Ref(parent)},
        ),
        source="identity",
        validate=False,
    )
    assert values(graph, f"SELECT ?t WHERE {{ <{MODEL}> lg:owningTeam ?t }}") == [parent, team]
    graph.write(Facts.of(team, {"rdf:type": Ref("lg:Team")}), source="identity", validate=False)
    assert values(graph, f"SELECT ?t WHERE {{ <{MODEL}> lg:owningTeam ?t }}") == []


def test_unused_assets_are_those_nothing_consumes(graph):
    dataset, orphan = "aip://dataset/datasets/used", "aip://dataset/datasets/orphan"
    feature = "aip://feature/featurestore/f"
    graph.write(
        Facts.of(dataset, {"rdf:type": Ref("lg:Dataset")}), source="datasets", validate=False
    )
    graph.write(
        Facts.of(orphan, {"rdf:type": Ref("lg:Dataset")}), source="datasets", validate=False
    )
    graph.write(
        Facts.of(feature, {"rdf:type": Ref("lg:Feature"), "lg:sourceDataset": Ref(dataset)}),
        source="featurestore",
        validate=False,
    )
    unused = values(graph, "SELECT ?x WHERE { ?x a lg:UnusedAsset }")
    assert unused == [orphan, feature]
    tree = graph.explain(orphan, "a", "lg:UnusedAsset")
    assert tree.absent == (f"consumed(<{orphan}>)",)
    graph.write(
        Facts.of(feature, {"rdf:type": Ref("lg:Feature"), "lg:sourceDataset": Ref(orphan)}),
        source="featurestore",
        validate=False,
    )
    assert values(graph, "SELECT ?x WHERE { ?x a lg:UnusedAsset }") == [dataset, feature]


def test_inferred_graph_holds_only_ontology_terms_never_helpers(graph):
    write_design_example(graph)
    predicates = values(
        graph, f"SELECT DISTINCT ?p WHERE {{ GRAPH <{INFERRED_GRAPH.value}> {{ ?s ?p ?o }} }}"
    )
    vocabulary = read_ontology().vocabulary()
    assert predicates
    assert all(p in vocabulary.properties or p.endswith("#type") for p in predicates)


def test_asserted_facts_are_not_copied_into_the_inferred_graph(graph):
    graph.write(
        Facts.of(INSTANCE, {"rdf:type": [Ref("lg:ModelInstance"), Ref("lg:Asset")]}),
        source="registry",
        validate=False,
    )
    asserted_too = values(
        graph, f"SELECT ?c WHERE {{ GRAPH <{INFERRED_GRAPH.value}> {{ <{INSTANCE}> a ?c }} }}"
    )
    assert LG.Asset.value not in asserted_too
    graph.write(
        Facts.of(INSTANCE, {"rdf:type": Ref("lg:ModelInstance")}), source="registry", validate=False
    )
    assert LG.Asset.value in values(
        graph, f"SELECT ?c WHERE {{ GRAPH <{INFERRED_GRAPH.value}> {{ <{INSTANCE}> a ?c }} }}"
    )


def test_materialize_on_a_graph_without_rules_reports_counts_per_predicate():
    graph = LifecycleGraph.in_memory()
    write_design_example(graph)
    assert values(graph, f"SELECT ?t WHERE {{ <{INSTANCE}> lg:associatedAbTest ?t }}") == []
    report = graph.materialize()
    assert report.counts["lg:associatedAbTest"] == 1
    assert report.counts["lg:testsInstance"] == 1
    assert report.added == report.derived and report.removed == 0
    assert values(graph, f"SELECT ?t WHERE {{ <{INSTANCE}> lg:associatedAbTest ?t }}") == [TEST]
    assert graph.materialize().added == 0


@pytest.mark.parametrize("bulk", [50, 10**9])
def test_a_first_materialization_in_bulk_chunks_holds_every_derived_fact(monkeypatch, bulk):
    """From BULK derived facts on, a first run writes them in chunks as it makes them;
    below, in one transaction: the inferred graph is the same either way."""
    from lifecyclegraph.bench.lifecycle import lifecycle_entities
    from lifecyclegraph.rules import engine as engine_module

    monkeypatch.setattr(engine_module, "BULK", bulk)
    monkeypatch.setattr(engine_module, "BULK_CHUNK", 97)
    graph = LifecycleGraph.in_memory()
    graph.write_many(
        ((facts, Observation("bench", T0)) for facts in lifecycle_entities(600)), validate=False
    )
    writes = []
    apply = graph.store.apply_inferred
    monkeypatch.setattr(
        graph.store,
        "apply_inferred",
        lambda added, removed, bulk=False: writes.append(bulk) or apply(added, removed, bulk=bulk),
    )
    engine = RuleEngine(graph.store)
    report = engine.materialize()
    inferred = set(graph.store.inferred())
    assert inferred == engine.derived_triples() and len(inferred) > 1000
    assert report.added == report.derived == len(inferred) and report.removed == 0
    if bulk == 50:
        assert len(writes) > len(inferred) // 97 and all(writes)
    else:
        assert writes == [False]
    assert engine.materialize().added == 0


def test_a_rule_that_explodes_stops_with_an_error_naming_it():
    program = build_program(
        parse_rules(
            "# Every pair of assets (far too many).\n"
            "pair(?x, ?y) :- lg:Asset(?x), lg:Asset(?y).\n"
            "lg:upstream(?x, ?y) :- pair(?x, ?y).",
            "explode.rules",
        ),
        read_ontology(),
    )
    graph = LifecycleGraph.in_memory()
    graph.write_many([], validate=False)
    for i in range(40):
        graph.write(
            Facts.of(f"aip://dataset/datasets/d{i}", {"rdf:type": Ref("lg:Dataset")}),
            source="datasets",
            validate=False,
        )
    engine = RuleEngine(graph.store, program, limit=1000)
    with pytest.raises(RuleLimitError) as caught:
        engine.materialize()
    assert caught.value.rule.startswith("explode.rules:2:1")
    assert "1,000" in str(caught.value)


def test_explain_of_a_fact_that_does_not_hold_is_none(graph):
    write_design_example(graph)
    assert graph.explain(TEST, "lg:associatedAbTest", INSTANCE) is None
    assert graph.explain("aip://nowhere/x/y", "lg:upstream", INSTANCE) is None


def test_explain_of_an_asserted_fact_is_a_leaf_with_its_snapshot(graph):
    write_design_example(graph)
    tree = graph.explain(RUN, "lg:ranForCell", CELL)
    assert tree.asserted and tree.sources[0].event_id == "evt-orchestrator-7"


def test_compiled_form_of_the_standard_rules_matches_golden(golden):
    golden("compiled-standard-rules.txt", render(load_program()))


def test_generated_code_of_the_rule_files_matches_golden(golden):
    compiled = load_program()
    chunks = []
    for rule in compiled.rules:
        if rule.source.origin != "rules":
            continue
        for variant in (
            ("full",),
            *(("delta", i) for i in rule.positive),
            *(("negdelta", i) for i in rule.negative),
            ("check",),
        ):
            generated = compiled.generated(rule.index, variant)
            chunks.append(
                f"# {rule.rule}\n# {' '.join(map(str, variant))}; relations "
                f"{generated.relations}\n{generated.source}\n"
            )
    golden("codegen-rule-files.py.txt", "\n".join(chunks))


# -- the command line -----------------------------------------------------------------------


def test_cli_rules_check_is_ok_on_the_standard_rules():
    result = CliRunner().invoke(main, ["rules", "check"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: ")


def test_cli_rules_check_prints_every_problem_and_exits_2(tmp_path):
    (tmp_path / "bad.rules").write_text(
        "lg:Asset(?x) :- lg:Modle(?x).\nlg:owner(?x) :- lg:Model(?x).\n"
    )
    result = CliRunner().invoke(main, ["rules", "check", "--rules", str(tmp_path)])
    assert result.exit_code == 2
    assert f"{tmp_path}/bad.rules:1:17: unknown predicate lg:Modle; did you mean lg:Model?" in (
        result.output
    )
    assert f"{tmp_path}/bad.rules:2:1: lg:owner is a property and takes 2 arguments, not 1" in (
        result.output
    )


def test_cli_rules_check_reports_a_syntax_error_with_its_position(tmp_path):
    (tmp_path / "bad.rules").write_text("lg:Asset(?x) :- lg:Model(?x)\n")
    result = CliRunner().invoke(main, ["rules", "check", "--rules", str(tmp_path)])
    assert result.exit_code == 2
    assert f"{tmp_path}/bad.rules:1:29: unexpected end of file" in result.output


def test_cli_rules_run_and_explain_on_a_store(tmp_path):
    store = str(tmp_path / "store")
    with LifecycleGraph.open(store) as graph:
        write_design_example(graph)
    runner = CliRunner()
    result = runner.invoke(main, ["--store", store, "rules", "run"])
    assert result.exit_code == 0, result.output
    assert "lg:associatedAbTest" in result.output and "total" in result.output
    result = runner.invoke(
        main, ["--store", store, "explain", f"<{INSTANCE}> lg:associatedAbTest ?test"]
    )
    assert result.exit_code == 0, result.output
    assert "registry at 2026-01-01T00:00:00Z, event evt-registry-1" in result.output
    result = runner.invoke(main, ["--store", store, "explain", f"<{TEST}> lg:upstream _"])
    assert result.exit_code == 1


def test_cli_explain_of_a_multi_step_lineage_pair_prints_the_chain(tmp_path):
    store = str(tmp_path / "store")
    feature, clean, raw = (
        "aip://feature/featurestore/f",
        "aip://dataset/datasets/clean",
        "aip://dataset/datasets/raw",
    )
    with LifecycleGraph.open(store) as graph:
        for uri, link, to in [
            (feature, "lg:sourceDataset", clean),
            (clean, "lg:upstreamDataset", raw),
        ]:
            graph.write(Facts.of(uri, {link: Ref(to)}), source="s", observed_at=T0, validate=False)
    runner = CliRunner()
    assert runner.invoke(main, ["--store", store, "rules", "run"]).exit_code == 0
    result = runner.invoke(main, ["--store", store, "explain", f"<{feature}> lg:upstream <{raw}>"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1] == "  by lg:upstream+ A chain of 2 one-step lg:upstream facts."
    assert f"├── <{feature}> lg:upstream <{clean}>" in lines[2]
    assert any(f"└── <{clean}> lg:upstream <{raw}>" in line for line in lines)
    result = runner.invoke(main, ["--store", store, "explain", f"<{raw}> lg:upstream <{feature}>"])
    assert result.exit_code == 1


def test_graph_with_rules_reopens_on_disk_after_close(tmp_path):
    with LifecycleGraph.open(tmp_path / "store", rules=True) as graph:
        write_design_example(graph)
    with LifecycleGraph.open(tmp_path / "store", rules=True) as graph:
        assert values(graph, f"SELECT ?t WHERE {{ <{INSTANCE}> lg:associatedAbTest ?t }}") == [TEST]


def test_cli_bench_rules_runs_both_benchmarks_on_small_inputs():
    result = CliRunner().invoke(
        main,
        [
            "bench",
            "rules",
            "--dag-nodes",
            "300",
            "--dag-edges",
            "600",
            "--entities",
            "600",
            "--changes",
            "5",
            "--repeat",
            "1",
            "--skip-owlrl",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "engine on the store / property-path INSERT" in result.output
    assert "incremental equals recomputation: True" in result.output


def test_docs_rules_example_queries_answer_on_the_example_graph():
    import re
    from pathlib import Path

    from lifecyclegraph.example import load_example

    text = (Path(__file__).parent.parent / "docs" / "rules.md").read_text()
    queries = re.findall(r"```sparql\n(.*?)```", text, re.S)
    assert len(queries) >= 5
    graph = LifecycleGraph.in_memory(rules=True)
    load_example(graph)
    for query in queries:
        assert list(graph.sparql(query)), query


def test_a_large_change_with_removals_leaves_the_inferred_graph_exact(graph):
    dataset = "aip://dataset/datasets/shared"
    graph.write(
        Facts.of(dataset, {"rdf:type": Ref("lg:Dataset")}), source="datasets", validate=False
    )
    assert values(graph, "SELECT ?x WHERE { ?x a lg:UnusedAsset }") == [dataset]
    seen = Observation("featurestore", T0)
    features = [
        Facts.of(
            f"aip://feature/featurestore/f{i}",
            {"rdf:type": Ref("lg:Feature"), "lg:sourceDataset": Ref(dataset)},
        )
        for i in range(100)
    ]
    graph.write_many(((facts, seen) for facts in features), validate=False)
    assert dataset not in values(graph, "SELECT ?x WHERE { ?x a lg:UnusedAsset }")
    assert set(graph.store.inferred()) == RuleEngine(graph.store).derived_triples()


EXPLODING = """
# Every pair of datasets (far too many).
pair(?x, ?y) :- lg:Dataset(?x), lg:Dataset(?y).
lg:upstream(?x, ?y) :- pair(?x, ?y).
"""


def test_an_explosion_after_a_write_stops_the_engine_not_the_write(caplog):
    program = build_program(parse_rules(EXPLODING, "explode.rules"), read_ontology())
    graph = LifecycleGraph.in_memory()
    engine = RuleEngine(graph.store, program, limit=500)
    engine.start()
    for i in range(30):
        result = graph.write(
            Facts.of(f"aip://dataset/datasets/d{i}", {"rdf:type": Ref("lg:Dataset")}),
            source="datasets",
            validate=False,
        )
        assert result.outcome.value == "created"
    assert isinstance(engine.error, RuleLimitError) and not engine.running
    assert "the rule engine stopped" in caplog.text
    assert graph.entity("aip://dataset/datasets/d29") is not None
    with pytest.raises(RuleLimitError):
        engine.match("aip://dataset/datasets/d0", "lg:upstream", None)


def _datasets(n: int) -> LifecycleGraph:
    graph = LifecycleGraph.in_memory()
    graph.write_many(
        (
            (
                Facts.of(f"aip://dataset/datasets/d{i}", {"rdf:type": Ref("lg:Dataset")}),
                Observation("datasets", T0),
            )
            for i in range(n)
        ),
        validate=False,
    )
    return graph


def test_the_default_limit_grows_with_the_asserted_facts(monkeypatch):
    """Without a configured limit a run may hold 20 facts per asserted fact (with a floor
    of 10M, lowered here to 1 so that the relative part is what decides)."""
    monkeypatch.setattr(evaluate, "DEFAULT_LIMIT", 1)
    program = build_program(parse_rules(EXPLODING, "explode.rules"), read_ontology())
    small = RuleEngine(_datasets(3).store, program)
    small.start()  # 3 datasets: 9 pairs and their edges, within 20 per asserted fact
    held, asserted = small.evaluator.size(), small.evaluator.asserted_size()
    assert 1 < held <= 20 * asserted == small.evaluator.cap()
    large = RuleEngine(_datasets(40).store, program)
    with pytest.raises(RuleLimitError) as raised:
        large.start()  # 40 datasets: 1,600 pairs, far past 20 per asserted fact
    assert raised.value.limit == 20 * large.evaluator.asserted_size() >= 20 * 40
    assert "(the default limit: 20 per asserted fact" in str(raised.value)


def test_a_graph_opened_with_rules_that_explode_still_opens(tmp_path):
    with LifecycleGraph.open(tmp_path / "store") as graph:
        write_design_example(graph)
    with LifecycleGraph.open(tmp_path / "store", rules=True, rule_limit=10) as graph:
        assert isinstance(graph.rules.error, RuleLimitError)
        assert graph.entity(INSTANCE) is not None


def test_a_stopped_engine_leaves_writes_alone_until_started_again(graph):
    graph.rules.stop()
    write_design_example(graph)
    query = f"SELECT ?t WHERE {{ <{INSTANCE}> lg:associatedAbTest ?t }}"
    assert values(graph, query) == []
    graph.rules.start()
    assert values(graph, query) == [TEST]
    graph.delete(TEST, source="experimentation", observed_at=T0 + timedelta(hours=1))
    assert values(graph, query) == []


def test_an_engine_that_owns_some_subjects_writes_and_removes_only_their_derived_facts():
    everything = LifecycleGraph.in_memory(rules=True)
    write_design_example(everything)
    derived = set(everything.store.inferred())
    owned = {INSTANCE, CELL}
    graph = LifecycleGraph.in_memory()
    engine = RuleEngine(graph.store, owns=owned.__contains__)
    # another process's part of the inferred graph, there before this engine starts
    theirs = next(t for t in derived if t.subject.value == RUN)
    graph.store.apply_inferred([theirs], [])
    engine.start()
    write_design_example(graph)
    mine = {t for t in derived if t.subject.value in owned}
    assert mine and mine != derived
    assert set(graph.store.inferred()) == mine | {theirs}
    assert engine.derived_triples() == derived  # it derives everything all the same
    report = engine.materialize()
    assert (report.added, report.removed) == (0, 0)
    kinds = Counter(
        compact((t.object if t.predicate == RDF_TYPE else t.predicate).value) for t in mine
    )
    assert report.counts == dict(sorted(kinds.items()))  # what it keeps, not all derived
    graph.delete(TEST, source="experimentation", observed_at=T0 + timedelta(hours=1))
    everything.delete(TEST, source="experimentation", observed_at=T0 + timedelta(hours=1))
    left = {t for t in everything.store.inferred() if t.subject.value in owned}
    assert left != mine  # the A/B test derived facts are gone
    assert set(graph.store.inferred()) == left | {theirs}
    assert engine.materialize().removed == 0  # never another's fact, nor a stale one
    assert set(graph.store.inferred()) == left | {theirs}


def test_a_materialization_beside_a_write_in_progress_does_not_deadlock():
    # A write holds the store's lock and calls the engine's listener (the engine's
    # lock); a materialization takes the engine's lock and writes (the store's lock).
    # Taken in opposite orders they hung each other for good (a change follower's
    # publish is such a write, always running on a cluster worker).
    import threading
    import time

    from lifecyclegraph.store import SnapshotStore

    store = SnapshotStore.in_memory()
    graph = LifecycleGraph(store, rules=True)
    write_design_example(graph)
    engine = graph.rules
    assert engine is not None
    derived = list(store.inferred())
    assert derived
    store.apply_inferred([], derived)  # so that the materialization has to write
    finished: list[str] = []

    def materialize() -> None:
        engine.materialize()
        finished.append("materialize")

    def write() -> None:
        with store.write_lock:  # a write in progress...
            other = threading.Thread(target=materialize, daemon=True)
            other.start()
            time.sleep(0.3)  # ...while the materialization starts
            engine.apply([], [])  # what the listener does under the store's lock
            finished.append("write")
        other.join(30)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    writer.join(30)
    assert sorted(finished) == ["materialize", "write"]
    assert set(store.inferred()) == set(derived)
