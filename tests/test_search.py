"""Search: relevance, filters and facets, near real time, rebuilds, derived-data checks.

Every test runs against each backend shipped (Tantivy, the default, and Whoosh).
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import json
import shutil
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifecyclegraph import Facts, LifecycleGraph, Ref
from lifecyclegraph.core.config import Config, SearchConfig
from lifecyclegraph.core.errors import ConfigError
from lifecyclegraph.core.ontology import data_dir
from lifecyclegraph.core.vocab import PREFIXES
from lifecyclegraph.example import ALICE, BOB, MODEL, TEAM, load_example
from lifecyclegraph.search import (
    DocumentBuilder,
    SearchBackend,
    SearchIndex,
    SearchQuery,
    SearchQueryError,
    open_backend,
)
from lifecyclegraph.search import index as index_module
from lifecyclegraph.search.documents import Document

BACKENDS = ["whoosh", "tantivy"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "tantivy":
        pytest.importorskip("tantivy")
    return request.param


@pytest.fixture
def graph(backend: str):
    g = LifecycleGraph.in_memory(search=SearchConfig(backend=backend, batch_ms=20))
    load_example(g)
    yield g
    g.close()


def write(graph: LifecycleGraph, uri: str, **props: object) -> None:
    values = {("rdf:type" if k == "type" else f"lg:{k}"): v for k, v in props.items()}
    # partial entities (no source id, any tag): the index's point, unchecked
    graph.write(Facts.of(uri, values), source="test", validate=False)


def wait_until(condition, timeout: float = 1.0) -> float:
    """Poll ``condition`` until it holds; return the seconds it took (fail after timeout)."""
    began = time.monotonic()
    while not condition():
        if time.monotonic() - began > timeout:
            pytest.fail(f"not true within {timeout} s")
        time.sleep(0.01)
    return time.monotonic() - began


# -- relevance ------------------------------------------------------------------------------


def test_typo_finds_ranking_model_when_exact_words_find_nothing(graph):
    results = graph.search("rankng")
    assert results.fuzzy
    assert results.hits[0].uri == MODEL
    assert results.hits[0].highlights["name"] == "<mark>Ranking</mark> model"


def test_exact_words_do_not_go_fuzzy_when_they_find_enough(graph):
    results = graph.search("ranking")
    assert not results.fuzzy
    assert results.hits[0].name == "Ranking model"


def test_exact_name_ranks_above_mentions_in_descriptions(graph):
    for n in range(3):
        write(
            graph,
            f"aip://model/registry/other-{n}",
            type=Ref("lg:Model"),
            name=f"Other {n}",
            description="Replaces the churn predictor; churn predictor v2 is a churn predictor.",
        )
    write(graph, "aip://model/registry/churn", type=Ref("lg:Model"), name="Churn predictor")
    graph.search_index.flush()
    results = graph.search("churn predictor")
    assert results.total == 4
    assert results.hits[0].uri == "aip://model/registry/churn"
    assert "<mark>churn</mark>" in results.hits[1].highlights["description"]


def test_prefix_of_a_name_word_finds_it(graph):
    assert MODEL in graph.search("rank").uris
    assert graph.search("weekly-rank").hits[0].name == "weekly-ranking-trainer"


def test_match_in_more_fields_ranks_higher(graph):
    # Both name "watch"; only one also has it in its description and tags.
    write(graph, "aip://feature/fs/a", type=Ref("lg:Feature"), name="watch count")
    write(
        graph,
        "aip://feature/fs/b",
        type=Ref("lg:Feature"),
        name="watch seconds",
        description="How long they watch.",
        tag="kind::watch",
    )
    graph.search_index.flush()
    uris = graph.search("watch").uris
    assert uris.index("aip://feature/fs/b") < uris.index("aip://feature/fs/a")


def test_owner_name_and_related_names_find_an_entity(graph):
    assert MODEL in graph.search("liddell").uris  # its owner's name
    instance = "aip://model/registry/ranking-model-v5-20XX0101"
    assert instance in graph.search("watch_time_7d").uris  # a feature it uses


def test_empty_query_lists_everything_by_name(graph):
    results = graph.search("", page_size=100)
    names = [h.name for h in results]
    assert results.total == 13 == len(names)
    assert names == sorted(names, key=str.lower)


# -- filters, facets, pages -----------------------------------------------------------------


def test_filters_narrow_results_and_facets_count_every_match(graph):
    results = graph.search("ranking")
    assert results.facets["type"] == {
        "lg:ABTestCell": 2,
        "lg:ABTest": 1,
        "lg:Model": 1,
        "lg:ModelInstance": 1,
        "lg:Pipeline": 1,
        "lg:PipelineRun": 1,
    }
    assert results.facets["domain"] == {"experiments": 3, "models": 2, "pipelines": 2}
    assert results.facets["owner"] == {ALICE: 2, BOB: 1}
    assert results.facets["tag"] == {"team::personalization": 1}
    assert sum(results.facets["type"].values()) == results.total == 7

    assert graph.search("ranking", type="model").uris == [MODEL]
    assert graph.search("ranking", type=["lg:Model", "Pipeline"]).total == 2
    assert graph.search("ranking", domain="experiments").total == 3
    assert set(graph.search("", owner="alice").uris) == {
        MODEL,
        "aip://model/registry/ranking-model-v5-20XX0101",
    }
    assert graph.search("", owner=BOB).total == 2
    assert graph.search("", owner="Bob Builder").total == 2
    assert graph.search("", tag="team::personalization").uris == [MODEL]
    assert graph.search("ranking", type="model", domain="pipelines").total == 0
    filtered = graph.search("", domain="identity")
    assert filtered.facets["type"] == {"lg:Team": 2, "lg:User": 2}


def test_unknown_type_or_domain_names_the_near_miss(graph):
    with pytest.raises(SearchQueryError, match="did you mean model"):
        graph.search("x", type="modle")
    with pytest.raises(SearchQueryError, match="did you mean datasets"):
        graph.search("x", domain="dataset")
    with pytest.raises(SearchQueryError, match="page"):
        graph.search("x", page=0)


def test_pages_cover_every_hit_once(graph):
    everything = graph.search("", page_size=100).uris
    paged = []
    for page in range(1, 6):
        results = graph.search("", page=page, page_size=3)
        assert results.total == 13
        paged.extend(results.uris)
    assert paged == everything


def test_highlights_mark_matched_words_and_escape_html(graph):
    write(
        graph,
        "aip://model/registry/html",
        type=Ref("lg:Model"),
        name="Scorer <b>",
        description="Scores ads & <i>videos</i> for the home page.",
    )
    graph.search_index.flush()
    hit = graph.search("videos scorer").hits[0]
    assert hit.highlights["name"] == "<mark>Scorer</mark> &lt;b&gt;"
    assert "<mark>videos</mark>" in hit.highlights["description"]
    assert "&amp;" in hit.highlights["description"]
    assert hit.snippet == hit.highlights["description"]


def test_owner_search_finds_users_and_teams(graph):
    assert [h.uri for h in graph.search_owners("alice")] == [ALICE]
    teams = graph.search_owners("personalization")
    assert teams.hits[0].uri == TEAM
    assert {h.type for h in teams} == {"lg:Team", "lg:User"}  # members of the team too
    assert graph.search_owners("alice@example.com").hits[0].uri == ALICE
    assert graph.search_owners("", page_size=50).total == 4
    assert MODEL not in graph.search_owners("ranking").uris


# -- entity types come from the ontology ----------------------------------------------------


NOTEBOOK_TTL = """
@prefix lg:   <https://w3id.org/lifecyclegraph/ontology#> .
@prefix owl:  <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

lg:Notebook a owl:Class ;
    rdfs:subClassOf lg:Asset ;
    lg:domain lg:ModelsDomain ;
    lg:componentType "notebook" ;
    rdfs:label "notebook"@en ;
    rdfs:comment "An exploration notebook."@en .
"""

NOTEBOOK_SHAPE = """
@prefix lg:   <https://w3id.org/lifecyclegraph/ontology#> .
@prefix lgsh: <https://w3id.org/lifecyclegraph/shapes#> .
@prefix sh:   <http://www.w3.org/ns/shacl#> .
@prefix xsd:  <http://www.w3.org/2001/XMLSchema#> .

lgsh:NotebookShape a sh:NodeShape ;
    sh:targetClass lg:Notebook ;
    sh:property [ sh:path lg:name ; sh:datatype xsd:string ; sh:minCount 1 ] .
"""


def test_type_added_to_the_ontology_is_searchable(tmp_path: Path, backend: str):
    ontology = tmp_path / "ontology"
    shapes = tmp_path / "shapes"
    shutil.copytree(data_dir("ontology"), ontology)
    shutil.copytree(data_dir("shapes"), shapes)
    (ontology / "notebooks.ttl").write_text(NOTEBOOK_TTL)
    (shapes / "notebooks.ttl").write_text(NOTEBOOK_SHAPE)
    config = Config.from_text(
        f'[search]\nbackend = "{backend}"\nbatch_ms = 20\nontology = "{ontology}"\n'
    )
    with LifecycleGraph.open(tmp_path / "store", search=config.search) as graph:
        load_example(graph)
        write(
            graph,
            "aip://notebook/jupyter/churn-eda",
            type=Ref("lg:Notebook"),
            name="Churn exploration",
            owner=Ref(ALICE),
        )
        results = graph.search("notebook")
        assert results.uris == ["aip://notebook/jupyter/churn-eda"]
        assert results.hits[0].type == "lg:Notebook"
        assert results.facets["domain"] == {"models": 1}
        assert graph.search("", type="notebook").total == 1
        assert graph.search("", type="lg:Notebook", owner="alice").total == 1
        assert graph.search("churn", domain="models").total == 1


# -- near real time ---------------------------------------------------------------------------


def test_written_entity_is_found_within_a_second(graph):
    write(graph, "aip://dataset/datasets/fresh", type=Ref("lg:Dataset"), name="Fresh clicks")
    took = wait_until(lambda: graph.search("fresh clicks").total == 1)
    assert took < 1.0


def test_renamed_entity_never_returns_its_old_name(graph):
    uri = "aip://dataset/datasets/moving"
    names = [f"generation{n} table" for n in range(5)]
    for n, name in enumerate(names):
        write(graph, uri, type=Ref("lg:Dataset"), name=name)
        wait_until(lambda name=name: [h.name for h in graph.search(name)] == [name])
        for _ in range(5):
            assert [h.name for h in graph.search("table", type="dataset")] == [name]
            for old in names[:n]:
                assert old not in [h.name for h in graph.search(old)]


def test_renamed_owner_is_found_through_the_entities_it_owns(graph):
    write(
        graph,
        ALICE,
        type=Ref("lg:User"),
        name="Alice Pleasance",
        email="alice@example.com",
        memberOf=Ref(TEAM),
    )
    wait_until(lambda: MODEL in graph.search("pleasance").uris)
    assert MODEL not in graph.search("liddell").uris
    assert graph.search_owners("pleasance").uris == [ALICE]


def test_deleted_entity_leaves_both_indexes(graph):
    graph.delete(ALICE, source="identity")
    wait_until(lambda: graph.search_owners("alice").total == 0)
    assert ALICE not in graph.search("alice").uris
    assert graph.search_index.check().ok


# -- derived data: rebuild, check, repair -----------------------------------------------------


@pytest.fixture
def on_disk(tmp_path: Path, backend: str):
    config = SearchConfig(backend=backend, batch_ms=20)
    with LifecycleGraph.open(tmp_path / "store", search=config) as graph:
        load_example(graph)
        assert graph.search("ranking").total == 7
    # Oxigraph lets go of the directory's lock when its store is collected: a reference
    # left in a cycle (a thread's frame, the index) would make the test's open fail
    del graph
    gc.collect()
    return tmp_path / "store", config


def test_deleted_index_directory_is_rebuilt_on_open(on_disk):
    store, config = on_disk
    shutil.rmtree(store / "search")
    with LifecycleGraph.open(store, search=config) as graph:
        assert graph.search("rankng").hits[0].uri == MODEL
        assert graph.search_index.check().ok


def test_deleted_index_directory_is_rebuilt_while_open(on_disk):
    store, config = on_disk
    with LifecycleGraph.open(store, search=config) as graph:
        graph.search_index  # noqa: B018 - attach
        shutil.rmtree(store / "search")
        write(graph, "aip://model/registry/late", type=Ref("lg:Model"), name="Late model")
        wait_until(lambda: graph.search("late model").total == 1, timeout=5)
        assert graph.search("rankng").hits[0].uri == MODEL
        assert graph.search_index.check().ok


def test_corrupted_index_is_rebuilt(on_disk):
    store, config = on_disk
    for file in (store / "search").rglob("*"):
        if file.is_file():
            # A new file in its place, not the old one truncated: a memory map of the old
            # file that the closed index has not released yet (an object not collected,
            # a merge thread ending) would get SIGBUS on a truncated file and kill the run.
            garbage = file.with_name(file.name + ".garbage")
            garbage.write_bytes(b"\x00garbage\xff" * 7)
            garbage.replace(file)
    with LifecycleGraph.open(store, search=config) as graph:
        assert graph.search("ranking").total == 7
        assert graph.search_index.check().ok


def test_an_index_not_closed_in_step_keeps_what_its_documents_were_built_from_again(on_disk):
    # A process killed between the index's commit and the commit of what its documents
    # were built from (``inputs``) leaves them apart. The next opener repairs the index,
    # and fills ``inputs`` again from the store: a rename then rebuilds every document
    # that embeds the name, from what ``inputs`` says.
    store, config = on_disk
    with LifecycleGraph.open(store, search=config) as graph:
        index = graph.search_index
        assert index.flush() and index.inputs.dependents(ALICE)
        index.inputs.reset()  # as if its commits were lost
        index._current = False  # and the process killed: not closed in step
    with LifecycleGraph.open(store, search=config) as graph:
        index = graph.search_index
        dependents = index.builder.dependents(ALICE)
        assert index.inputs.dependents(ALICE) == dependents
        write(graph, ALICE, type=Ref("lg:User"), name="Alice Hargreaves")
        assert index.flush()
        assert set(graph.search("hargreaves").uris) == dependents | {ALICE}
        assert index.check().ok


def test_what_documents_are_built_from_in_another_format_means_a_rebuild(on_disk):
    import sqlite3

    from lifecyclegraph.search import inputs as inputs_module

    store, config = on_disk
    with sqlite3.connect(store / "search" / inputs_module.FILE) as db:
        db.execute("UPDATE meta SET value = '0' WHERE key = 'format'")
        db.execute("DELETE FROM doc")
    db.close()
    with LifecycleGraph.open(store, search=config) as graph:
        index = graph.search_index
        assert index.inputs.created
        assert index.inputs.count() == graph.search("", page_size=100).total
        assert index.check().ok


def test_writes_made_without_the_index_are_picked_up_on_open(on_disk):
    store, config = on_disk
    with LifecycleGraph.open(store, search=config) as graph:  # search never attached
        write(graph, "aip://model/registry/quiet", type=Ref("lg:Model"), name="Quiet model")
    with LifecycleGraph.open(store, search=config) as graph:
        assert graph.search("quiet").uris == ["aip://model/registry/quiet"]


def test_check_reports_missing_stale_and_extra_and_repair_fixes_them(graph):
    index = graph.search_index
    index.flush()
    builder = DocumentBuilder(graph.store)
    old = builder.document(MODEL)
    write(graph, BOB, type=Ref("lg:User"), name="Robert Builder", email="bob@example.com")
    index.flush()
    index.entities.delete([ALICE])
    index.entities.index([old])  # an outdated document, as if a write had been lost
    index.owners.index([builder.document(MODEL)])  # not an owner
    report = index.check()
    kinds = {(d.index, d.kind, d.uri) for d in report.discrepancies}
    assert ("entities", "missing", ALICE) in kinds
    assert ("owners", "extra", MODEL) in kinds
    assert not any(d.uri == BOB for d in report.discrepancies)
    # The old model document differs only if the model changed: rename it to be sure.
    write(graph, MODEL, type=Ref("lg:Model"), name="Ranking model 2", owner=Ref(ALICE))
    index.flush()
    index.entities.index([old])
    assert ("entities", "stale", MODEL) in {
        (d.index, d.kind, d.uri) for d in index.check().discrepancies
    }
    index.repair()
    assert index.check().ok


def test_check_reads_the_store_in_chunks_with_a_bounded_names_cache(graph, monkeypatch):
    # At a million entities a check that held every linked name and every document
    # left the service 700 MB larger: the check keeps at most ``names_kept`` names.
    index = graph.search_index
    index.flush()
    index.entities.delete([ALICE])
    expected = index.check().discrepancies
    assert [(d.index, d.kind, d.uri) for d in expected] == [("entities", "missing", ALICE)]
    sizes: list[int] = []
    made = index.builder.names_cache

    def small_cache():
        cache = made()
        cache.size = 1
        original = cache.__setitem__

        class Watched:
            def get(self, uri):
                return cache.get(uri)

            def __setitem__(self, uri, names):
                original(uri, names)
                sizes.append(len(cache.kept))

        return Watched()

    monkeypatch.setattr(index.builder, "names_cache", small_cache)
    assert index.check().discrepancies == expected
    assert sizes and max(sizes) == 1  # owners and linked entities were read, one kept


def test_check_looks_up_each_chunk_and_reads_every_version_only_to_name_extras(graph, monkeypatch):
    # At a million entities every document's URI and version took 400 MB: a check of a
    # current index reads none of them, and one extra document is still named.
    index = graph.search_index
    index.flush()
    read_all: list[str] = []
    for which in ("entities", "owners"):
        backend = getattr(index, which)
        every = backend.versions

        def watched(which=which, every=every):
            read_all.append(which)
            return every()

        monkeypatch.setattr(backend, "versions", watched)
    assert index.check().ok
    assert read_all == []
    ghost = "aip://model/registry/not-in-the-store"
    builder = DocumentBuilder(graph.store)
    index.entities.index([dataclasses.replace(builder.document(MODEL), uri=ghost)])
    report = index.check()
    assert [(d.index, d.kind, d.uri) for d in report.discrepancies] == [
        ("entities", "extra", ghost)
    ]
    assert read_all == ["entities"]
    index.repair()
    assert index.check().ok and ghost not in index.entities.versions()


_SOME_URIS = st.sampled_from([f"aip://model/registry/m{i}" for i in range(8)])


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    batches=st.lists(
        st.lists(st.tuples(_SOME_URIS, st.text(max_size=3)), max_size=6), min_size=1, max_size=3
    ),
    deleted=st.lists(_SOME_URIS, max_size=3),
    asked=st.lists(st.one_of(_SOME_URIS, st.just("aip://model/registry/never")), max_size=10),
)
def test_versions_of_some_uris_are_those_of_every_version(backend, batches, deleted, asked):
    opened = open_backend(backend, None)
    try:
        for batch in batches:
            docs = {uri: _doc(uri, name) for uri, name in batch}  # one per URI a commit
            opened.index(docs.values())
        opened.delete(deleted)
        every = opened.versions()
        assert opened.versions_of(asked) == {u: every[u] for u in asked if u in every}
    finally:
        opened.close()


def _doc(uri: str, name: str) -> Document:
    return Document(uri, name, "lg:Model", "Model", "", "", (), (), (), (), (), (), False)


def test_reindex_rebuilds_the_same_index(graph):
    index = graph.search_index
    before = index.entities.versions()
    assert index.rebuild() == 13
    assert index.entities.versions() == before
    assert index.entities.count() == 13 and index.owners.count() == 4


# -- the invariant: the index says what the store says ------------------------------------------

_MODELS = [f"aip://model/registry/m{i}" for i in range(4)]
_USERS = [f"aip://user/identity/u{i}" for i in range(2)]
_NAMES = st.sampled_from(["alpha", "beta", "gamma model", "delta-set", "alpha beta"])
#: a URI never written: documents that link to it embed no name for it
_NOWHERE = "aip://dataset/datasets/nowhere"
_OPS = st.one_of(
    st.tuples(st.just("model"), st.sampled_from(_MODELS), _NAMES, st.sampled_from(_USERS)),
    st.tuples(st.just("user"), st.sampled_from(_USERS), _NAMES),
    st.tuples(st.just("delete"), st.sampled_from(_MODELS + _USERS)),
    # a model that links to another entity (not as its owner): its name is embedded
    st.tuples(
        st.just("link"),
        st.sampled_from(_MODELS),
        _NAMES,
        st.sampled_from([*_MODELS, *_USERS, _NOWHERE]),
    ),
)


@settings(
    max_examples=25,
    deadline=None,
    # ``backend`` is only the engine's name: sharing it between examples is right.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(ops=st.lists(_OPS, min_size=1, max_size=12))
def test_index_matches_store_after_any_writes_and_deletes(backend, ops):
    graph = LifecycleGraph.in_memory(search=SearchConfig(backend=backend, batch_ms=0))
    try:
        index = graph.search_index
        for op in ops:
            if op[0] == "model":
                write(graph, op[1], type=Ref("lg:Model"), name=op[2], owner=Ref(op[3]))
            elif op[0] == "user":
                write(graph, op[1], type=Ref("lg:User"), name=op[2])
            elif op[0] == "link":
                write(graph, op[1], type=Ref("lg:Model"), name=op[2], dependsOn=Ref(op[3]))
            else:
                graph.delete(op[1], source="test")
        assert index.flush()
        assert index.check().discrepancies == []
        builder = DocumentBuilder(graph.store)
        live = {uri: builder.document(uri) for uri in builder.all_uris()}
        hits = graph.search("", page_size=100)
        assert {h.uri: h.name for h in hits} == {u: d.name for u, d in live.items()}
        # what the index keeps of each document is what the store says now
        for built in builder.build(live):
            base, names, links = index.inputs.row(built.uri)
            assert (sorted(names), links) == (sorted(built.names), built.links)
            assert builder.named(base, links, {}) == built.document
        for uri in [*_MODELS, *_USERS, _NOWHERE]:
            assert index.inputs.dependents(uri) == builder.dependents(uri), uri
        assert index.inputs.count() == len(live)
    finally:
        graph.close()


# -- the pieces -------------------------------------------------------------------------------


def test_backends_implement_the_interface(backend: str):
    opened = open_backend(backend, None)
    try:
        assert isinstance(opened, SearchBackend)
        assert opened.count() == 0 and opened.versions() == {}
    finally:
        opened.close()


def test_documents_are_a_pure_function_of_the_graph(backend: str):
    first, second = LifecycleGraph.in_memory(), LifecycleGraph.in_memory()
    load_example(first)
    load_example(second)
    a, b = DocumentBuilder(first.store), DocumentBuilder(second.store)
    for uri in a.all_uris():
        assert a.document(uri) == b.document(uri)
        assert a.document(uri).version == b.document(uri).version


def test_search_config_rejects_unknown_keys_and_backends():
    with pytest.raises(ConfigError, match=r"search\.engine: unknown key"):
        Config.from_text('[search]\nengine = "x"\n')
    with pytest.raises(ConfigError, match=r"search\.backend"):
        Config.from_text('[search]\nbackend = "lucene"\n')


def test_default_backend_is_tantivy_and_rebuilds_an_index_made_by_whoosh(tmp_path: Path):
    store = tmp_path / "store"
    with LifecycleGraph.open(store, search=SearchConfig(backend="whoosh")) as graph:
        load_example(graph)
    assert not (store / "search" / "entities" / ".lifecyclegraph-tantivy").exists()
    with LifecycleGraph.open(store, search=SearchConfig()) as graph:
        assert graph.search("rankng").hits[0].uri == MODEL
    assert (store / "search" / "entities" / ".lifecyclegraph-tantivy").exists()
    meta = json.loads((store / "search" / "lifecyclegraph-search.json").read_text())
    assert SearchConfig().backend == meta["backend"] == "tantivy"


def test_big_whoosh_index_logs_a_warning_naming_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    monkeypatch.setattr(index_module, "WHOOSH_COMFORT", 5)
    graph = LifecycleGraph.in_memory()
    load_example(graph)
    for backend in ("tantivy", "whoosh"):
        caplog.clear()
        index = SearchIndex.attach(graph.store, SearchConfig(backend=backend))
        index.close()
        warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
        if backend == "tantivy":
            assert warned == []
        else:
            assert "Whoosh queries slow down past about 5" in warned[0]
            assert "the default, Tantivy" in warned[0]


def test_index_lives_beside_the_store(on_disk):
    store, _ = on_disk
    assert (store / "search" / "entities").is_dir()
    assert (store / "search" / "lifecyclegraph-search.json").is_file()


def test_attach_with_an_explicit_path(tmp_path: Path, backend: str):
    graph = LifecycleGraph.in_memory()
    load_example(graph)
    config = SearchConfig(backend=backend, path=tmp_path / "idx")
    index = SearchIndex.attach(graph.store, config)
    try:
        assert index.search("rankng").hits[0].uri == MODEL
    finally:
        index.close()
    assert (tmp_path / "idx" / "owners").is_dir()


def test_documented_search_configuration_is_valid():
    text = (Path(__file__).parent.parent / "docs" / "search.md").read_text()
    blocks = [b.split("```", 1)[0] for b in text.split("```toml\n")[1:]]
    (block,) = [b for b in blocks if "[search]" in b]
    config = Config.from_text(block, "docs/search.md")
    assert config.search.backend == "tantivy" and config.search.batch_ms == 100


def test_page_past_the_last_is_empty_and_totals_count_filters_with_or_without_facets(graph):
    for facets in (True, False):
        first = graph.search("model", owner="alice", page_size=2, facets=facets)
        past = graph.search("model", owner="alice", page_size=2, page=2, facets=facets)
        assert first.total == past.total == len(first.hits) == 2
        assert past.hits == []


def test_facets_can_be_skipped(graph):
    results = graph.search("ranking", facets=False)
    assert results.total == 7 and len(results.hits) == 7
    assert results.facets == {}


def test_updates_are_never_read_stale_across_many_commits(tmp_path: Path, backend: str):
    # Whoosh's own Searcher.refresh() returns documents as they were before an update;
    # every backend must show each commit's documents, and only those.
    opened = open_backend(backend, tmp_path / "index")
    base = LifecycleGraph.in_memory()
    load_example(base)
    docs = [d for _, d in DocumentBuilder(base.store).documents(base.entities()) if d]
    try:
        opened.index(docs)
        for n in range(12):
            doc = docs[n % len(docs)]
            renamed = dataclasses.replace(doc, name=f"turn{n}zz")
            opened.index([renamed])
            hits = opened.search(SearchQuery(f"turn{n}zz", fuzzy_below=0)).hits
            assert [(h.uri, h.name) for h in hits] == [(doc.uri, f"turn{n}zz")]
            if n:
                assert opened.search(SearchQuery(f"turn{n - 1}zz", fuzzy_below=0)).total == (
                    1 if docs[(n - 1) % len(docs)].uri != doc.uri else 0
                )
            assert opened.count() == len(docs)
        opened.delete([docs[0].uri])
        assert opened.count() == len(docs) - 1
        assert docs[0].uri not in opened.versions()
    finally:
        opened.close()


def test_in_memory_whoosh_indexes_do_not_share_scratch_files():
    # Whoosh named every in-memory index's scratch directory <tmp>/lifecyclegraph.tmp;
    # two indexes committing at once deleted each other's files (a flaky CI failure).
    import threading

    from lifecyclegraph.search.whoosh_backend import WhooshBackend

    errors: list[BaseException] = []

    def churn() -> None:
        backend = WhooshBackend.open(None)
        try:
            for _ in range(15):
                backend.clear()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=churn) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


class _CountingReadsOf:
    """A store that notes each ``asserted`` read of one subject in ``reads``."""

    def __init__(self, uri: str, store, reads: list[str]) -> None:
        self.uri, self.store, self.reads = uri, store, reads

    def __getattr__(self, name):
        return getattr(self.store, name)

    def asserted(self, subject=None, predicate=None, obj=None):
        if subject is not None and subject.value == self.uri:
            self.reads.append(subject.value)
        return self.store.asserted(subject, predicate, obj)


def test_a_batch_reads_a_shared_owners_name_once_and_embeds_it_in_every_document(graph):
    for n in range(5):
        write(
            graph,
            f"aip://model/registry/m{n}",
            type=Ref("lg:Model"),
            name=f"Model {n}",
            owner=Ref(ALICE),
        )
    reads: list[str] = []
    builder = DocumentBuilder(_CountingReadsOf(ALICE, graph.store, reads))
    docs = dict(builder.documents([f"aip://model/registry/m{n}" for n in range(5)]))
    assert all(doc.owner_names == ("Alice Liddell",) for doc in docs.values())
    assert reads == [ALICE]  # one read for five documents
    assert builder.document("aip://model/registry/m0") == docs["aip://model/registry/m0"]


def test_names_kept_between_batches_are_read_again_once_their_entity_changes(graph):
    models = [f"aip://model/registry/m{n}" for n in range(4)]
    for n, uri in enumerate(models):
        write(graph, uri, type=Ref("lg:Model"), name=f"Model {n}", owner=Ref(ALICE))
    reads: list[str] = []
    builder = DocumentBuilder(_CountingReadsOf(ALICE, graph.store, reads), names_kept=10)
    first = dict(builder.changed(models[:2]))
    second = dict(builder.changed(models[2:]))  # another batch: Alice's name is kept
    assert reads == [ALICE]
    assert {d.owner_names for d in [*first.values(), *second.values()]} == {("Alice Liddell",)}
    write(graph, ALICE, type=Ref("lg:User"), name="Alice Hargreaves")
    # the indexer's next batch holds the renamed entity and the documents that embed it
    again = dict(builder.changed([ALICE, *builder.dependents(ALICE)]))
    assert reads == [ALICE, ALICE]
    assert {again[uri].owner_names for uri in models} == {("Alice Hargreaves",)}
    assert all(again[uri] == builder.document(uri) for uri in again)


def test_the_indexer_builds_documents_from_what_the_commit_wrote(graph):
    # At a million entities, reading back what the writer had just written (the state,
    # the snapshot, the names of linked entities written with it) was a quarter of the
    # indexer's time: the commit hands the indexer its facts instead.
    index = graph.search_index
    assert index.flush()
    reads: list[tuple[str, str]] = []

    class Counting:  # notes every read of one entity's facts or state
        def __init__(self, store):
            self.store = store

        def __getattr__(self, name):
            return getattr(self.store, name)

        def state(self, uri):
            reads.append(("state", uri))
            return self.store.state(uri)

        def snapshot_pairs(self, iri):
            reads.append(("snapshot", iri))
            return self.store.snapshot_pairs(iri)

        def asserted(self, subject=None, predicate=None, obj=None):
            if subject is not None:
                reads.append(("asserted", subject.value))
            return self.store.asserted(subject, predicate, obj)

    index.builder.store = Counting(index.builder.store)
    carol = "aip://user/identity/carol"
    model = "aip://model/registry/carols"
    # two commits: whether one batch takes both or each its own, the owner's name comes
    # from her commit, kept for the model's document
    write(graph, carol, type=Ref("lg:User"), name="Carol Danvers")
    write(graph, model, type=Ref("lg:Model"), name="Carol's model", owner=Ref(carol))
    assert index.flush()
    assert reads == []
    assert set(graph.search("danvers").uris) == {model, carol}  # the owner's name embedded
    # a deletion: neither the deleted entity nor the documents that embed its name (not
    # in the commit) are read back: those are built again from what the index kept
    dependents = index.builder.dependents(ALICE)
    assert dependents and index.inputs.dependents(ALICE) == dependents
    graph.delete(ALICE, source="test")
    assert index.flush()
    assert reads == []
    assert ALICE not in graph.search("", page_size=100).uris
    assert not graph.search("liddell").uris  # her name left the documents that embedded it
    index.builder.store = index.builder.store.store
    assert index.check().ok  # the same documents as read from the store


def test_a_dependent_gets_the_new_name_however_many_names_its_batch_carries(graph):
    # A batch that carries more entities than the names kept (a backfill after a long
    # pause) must not build a dependent with the old name of one of them from what
    # the index kept: the batch's own names come first.
    from pyoxigraph import Literal, NamedNode

    from lifecyclegraph.core.vocab import LG, RDF_TYPE

    index = graph.search_index
    assert index.flush()
    user = NamedNode(PREFIXES["lg"] + "User")
    others = [f"aip://user/identity/other{n}" for n in range(3)]
    given = {
        uri: frozenset({(RDF_TYPE, user), (LG.name, Literal(name))})
        for uri, name in [(ALICE, "Alice Hargreaves"), *((o, o[-6:]) for o in others)]
    }
    dependents = sorted(index.inputs.dependents(ALICE))
    assert dependents
    builder = DocumentBuilder(graph.store, names_kept=1)  # Alice's name is evicted at once
    built = {
        b.uri: b.document
        for b in builder.build_changed([ALICE, *others], given, dependents, index.inputs)
    }
    for uri in dependents:
        embedded = {*built[uri].owner_names, *built[uri].related}
        assert "Alice Hargreaves" in embedded and "Alice Liddell" not in embedded, uri


def test_the_names_kept_are_bounded_least_recently_used_first(graph):
    owners = [f"aip://user/identity/o{n}" for n in range(3)]
    for n, owner in enumerate(owners):
        write(graph, owner, type=Ref("lg:User"), name=f"Owner {n}")
        write(graph, f"aip://model/registry/x{n}", type=Ref("lg:Model"), name="x", owner=Ref(owner))
    builder = DocumentBuilder(graph.store, names_kept=2)
    for n in (0, 1, 0, 2):  # o1 is the least recently used when o2 comes in
        list(builder.changed([f"aip://model/registry/x{n}"]))
    assert list(builder._kept) == [owners[0], owners[2]]


_TEXT = st.text(max_size=12)
_WORDS = st.lists(_TEXT, max_size=3).map(tuple)


@given(
    st.builds(
        Document,
        uri=_TEXT,
        name=_TEXT,
        type=_TEXT,
        type_label=_TEXT,
        domain=_TEXT,
        description=_TEXT,
        owners=_WORDS,
        owner_names=_WORDS,
        owner_keys=_WORDS,
        tags=_WORDS,
        related=_WORDS,
        keywords=_WORDS,
        is_owner=st.booleans(),
    )
)
def test_a_documents_version_is_the_hash_the_indexes_already_hold(doc):
    """Versions written by earlier releases (the JSON of dataclasses.asdict) stay equal,
    so an index made by them is not found stale on upgrade."""
    text = json.dumps(dataclasses.asdict(doc), sort_keys=True, separators=(",", ":"))
    assert doc.version == hashlib.sha256(text.encode()).hexdigest()[:16]
