"""The portal over real HTTP, without a browser: pages, escaping, the security policy,
errors, the as-of control, and a type added to the ontology (browser journeys are in
``test_portal_browser.py``)."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from serve_child import start_serve, stop_serve

from lifecyclegraph import Facts, Ref, connect
from lifecyclegraph.portal.pages import PALETTE
from lifecyclegraph.portal.render import CSP, GRAPHIQL_CSP, SPARQL_CSP, marked
from lifecyclegraph.validation.model import init_model

#: Source strings that must show as text wherever they appear.
HOSTILE = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')
T0 = datetime(2026, 1, 1, tzinfo=UTC)
DATASET = "aip://dataset/datasets/clicks"
FEATURE = "aip://feature/featurestore/ctr"
MODEL = "aip://model/registry/ranker"
USER = "aip://user/identity/alice"
TEAM = "aip://team/identity/search"
EVIL = ["aip://dataset/datasets/evil-1", "aip://dataset/datasets/evil-2"]
PIPELINE = "aip://pipeline/orchestrator/etl"
SCHEDULE = "aip://schedule/orchestrator/etl"
RUNS = ["aip://pipeline-run/orchestrator/etl-1", "aip://pipeline-run/orchestrator/etl-2"]


def _write(graph, uri: str, facts: dict, source: str, at: datetime) -> None:
    # the small world leaves out what the shapes ask of real sources (source ids...)
    graph.write(Facts.of(uri, facts), source=source, observed_at=at, validate=False)


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    """A real service over HTTP (rules and search on) holding a small world: a dataset,
    a feature made from it, a model that uses the feature, its owner and her team,
    two datasets with hostile names; the model renamed an hour after its first write."""
    from lifecyclegraph.core.config import Config
    from lifecyclegraph.server.app import create_app
    from lifecyclegraph.server.service import Service
    from lifecyclegraph.server.serving import ServerThread

    path = tmp_path_factory.mktemp("portal") / "store"
    config = Config.from_dict(
        {"store": {"path": str(path)}, "server": {"query_workers": 1}, "search": {"batch_ms": 10}}
    )
    service = Service(config)
    with ServerThread(create_app(service, write_tokens=["t0ken"])) as server:
        graph = service.graph
        _write(graph, TEAM, {"rdf:type": Ref("lg:Team"), "lg:name": "Search team"}, "identity", T0)
        _write(
            graph, USER,
            {"rdf:type": Ref("lg:User"), "lg:name": "Alice", "lg:memberOf": Ref(TEAM)},
            "identity", T0,
        )  # fmt: skip
        _write(graph, DATASET, {"rdf:type": Ref("lg:Dataset"), "lg:name": "clicks"}, "datasets", T0)
        _write(
            graph, FEATURE,
            {"rdf:type": Ref("lg:Feature"), "lg:name": "ctr", "lg:sourceDataset": Ref(DATASET)},
            "featurestore", T0,
        )  # fmt: skip
        model = {
            "rdf:type": Ref("lg:Model"),
            "lg:name": "ranker",
            "lg:description": "Ranks the rows of the home page.",
            "lg:owner": Ref(USER),
            "lg:tag": "tier::gold",
        }
        _write(graph, MODEL, model, "registry", T0)
        _write(
            graph, MODEL, {**model, "lg:name": "ranker two"}, "registry", T0 + timedelta(hours=1)
        )
        for uri, name in zip(EVIL, HOSTILE, strict=True):
            _write(
                graph, uri,
                {"rdf:type": Ref("lg:Dataset"), "lg:name": name, "lg:description": name,
                 "lg:tag": name, "lg:owner": Ref(USER)},
                "datasets", T0,
            )  # fmt: skip
        # a pipeline whose sections (schedule, runs, inputs, outputs) show hostile strings
        _write(
            graph, PIPELINE,
            {"rdf:type": Ref("lg:Pipeline"), "lg:name": "etl", "lg:owner": Ref(USER),
             "lg:readsDataset": Ref(EVIL[0]), "lg:writesDataset": Ref(EVIL[1])},
            "orchestrator", T0,
        )  # fmt: skip
        _write(
            graph, SCHEDULE,
            {"rdf:type": Ref("lg:Schedule"), "lg:name": HOSTILE[1], "lg:cron": HOSTILE[0],
             "lg:scheduleOf": Ref(PIPELINE)},
            "orchestrator", T0,
        )  # fmt: skip
        for uri, name, status in zip(RUNS, HOSTILE, ("FAILED", HOSTILE[1]), strict=True):
            _write(
                graph, uri,
                {"rdf:type": Ref("lg:PipelineRun"), "lg:name": name, "lg:status": status,
                 "lg:runOf": Ref(PIPELINE)},
                "orchestrator", T0,
            )  # fmt: skip
        _write(
            graph, FEATURE,
            {"rdf:type": Ref("lg:Feature"), "lg:name": "ctr", "lg:sourceDataset": Ref(DATASET),
             "lg:description": HOSTILE[0]},
            "featurestore", T0 + timedelta(minutes=5),
        )  # fmt: skip
        with httpx.Client(base_url=server.url, timeout=30) as client:
            deadline = time.monotonic() + 30
            while client.get("/api/v1/search", params={"q": "clicks"}).json()["total"] < 1:
                assert time.monotonic() < deadline, "the search index never caught up"
                time.sleep(0.1)
            yield client


def _page(client: httpx.Client, path: str, csp: str = CSP, **params) -> str:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-security-policy"] == csp
    assert response.headers["content-type"].startswith("text/html")
    return response.text


class _Markup(HTMLParser):
    """Collects what the CSP forbids: inline scripts, ``on*`` and ``style`` attributes;
    and every element's tag and attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.inline_scripts = 0
        self.forbidden: list[tuple[str, str]] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append((tag, found))
        if tag == "script" and "src" not in found:
            self.inline_scripts += 1
        self.forbidden += [(tag, a) for a in found if a.startswith("on") or a == "style"]


def _markup(html: str) -> _Markup:
    parser = _Markup()
    parser.feed(html)
    return parser


def _every_page(client: httpx.Client) -> dict[str, str]:
    pages = {
        "search": _page(client, "/", q=""),
        "search-evil": _page(client, "/", q="alert"),
        "quality": _page(client, "/portal/quality"),
        "sparql": _page(client, "/portal/sparql", csp=SPARQL_CSP),
        "graphql": _page(client, "/portal/graphql", csp=GRAPHIQL_CSP),
    }
    for uri in (*EVIL, FEATURE, DATASET, MODEL, PIPELINE, USER, TEAM):
        pages[f"entity {uri}"] = _page(client, "/portal/entity", uri=uri)
        pages[f"lineage {uri}"] = _page(client, "/portal/lineage", uri=uri)
    pages["why"] = _page(client, "/portal/why", s=FEATURE, p="lg:upstream", o=DATASET)
    return pages


def test_every_page_shows_hostile_source_strings_as_text(portal):
    pages = _every_page(portal)
    for name, html in pages.items():
        for hostile in HOSTILE:
            assert hostile not in html, f"{name} holds {hostile!r} unescaped"
        markup = _markup(html)
        assert not [t for t, a in markup.tags if t == "img"], name
        scripts = [a.get("src") for t, a in markup.tags if t == "script"]
        assert all(s and s.startswith("/portal/static/") for s in scripts), (name, scripts)
    # they are there, as text: on the pages of the entities, in search, in the feature's
    # description and on the lineage of the datasets
    for n, uri in enumerate(EVIL):
        text = pages[f"entity {uri}"]
        assert text.count(str(_escaped(HOSTILE[n]))) >= 3  # title, name, tag, description
    assert _escaped(HOSTILE[0]) in pages[f"entity {FEATURE}"]
    assert "&lt;script&gt;" in pages["search-evil"]
    # and in the type-specific sections: the pipeline's schedule, runs, inputs and
    # outputs; what the user and her team own
    pipeline = pages[f"entity {PIPELINE}"]
    schedule = _section(pipeline, "s-schedule")
    assert _escaped(HOSTILE[1]) in schedule and _escaped(HOSTILE[0]) in schedule
    runs = _section(pipeline, "s-runs")
    assert all(_escaped(h) in runs for h in HOSTILE)
    assert _escaped(HOSTILE[0]) in _section(pipeline, "s-inputs")
    assert _escaped(HOSTILE[1]) in _section(pipeline, "s-outputs")
    owned = _section(pages[f"entity {USER}"], "s-what-they-own")
    assert all(_escaped(h) in owned for h in HOSTILE)
    team = _section(pages[f"entity {TEAM}"], "s-what-the-team-owns")
    assert all(_escaped(h) in team for h in HOSTILE)


def _section(html: str, section_id: str) -> str:
    """The HTML of one type-specific section of an entity page (fails if it is absent)."""
    found = re.search(rf'<section class="type-section" id="{section_id}".*?</section>', html, re.S)
    assert found, f"no section {section_id!r}"
    return found.group(0)


def _escaped(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


def test_every_page_has_no_inline_script_no_handlers_and_landmarks(portal):
    for name, html in _every_page(portal).items():
        markup = _markup(html)
        assert markup.inline_scripts == 0, name
        assert markup.forbidden == [], name
        tags = [t for t, _ in markup.tags]
        assert {"header", "nav", "main", "footer", "h1"} <= set(tags), name
        # everything a page loads comes from the app (it works offline)
        loaded = [a.get("src") or a.get("href") or "" for t, a in markup.tags
                  if t in ("script", "link", "img", "iframe", "source")]  # fmt: skip
        assert all(u.startswith("/portal/static/") for u in loaded), (name, loaded)
        assert dict(markup.tags)["html"]["lang"] == "en"
        # every form control has a label (by for=, aria-label, or being hidden)
        labels = {a.get("for") for t, a in markup.tags if t == "label"}
        for tag, attrs in markup.tags:
            if tag in ("input", "select", "textarea") and attrs.get("type") != "hidden":
                assert attrs.get("id") in labels or attrs.get("aria-label"), (name, attrs)


def test_search_page_lists_hits_with_type_facets_and_highlights(portal):
    html = _page(portal, "/", q="home page")
    assert 'href="/portal/entity?uri=aip%3A%2F%2Fmodel%2Fregistry%2Franker"' in html
    assert "<mark>home</mark>" in html
    markup = _markup(html)
    facet_links = [a["href"] for t, a in markup.tags if t == "a" and "type=" in a.get("href", "")]
    assert facet_links, "a type facet links to the filtered search"
    filtered = _page(portal, "/", q="", type="dataset")
    assert "clicks" in filtered and "ranker" not in filtered
    tagged = _page(portal, "/", q="", tag="tier::gold")
    assert "ranker two" in tagged and "clicks" not in tagged


def test_search_page_with_an_unknown_type_says_so_with_400(portal):
    response = portal.get("/", params={"q": "x", "type": "modle"})
    assert response.status_code == 400
    assert "unknown entity type &#39;modle&#39;; did you mean model?" in response.text


def test_entity_page_shows_header_relationships_and_marks_inferred_with_why(portal):
    html = _page(portal, "/portal/entity", uri=FEATURE)
    assert '<h1 id="entity-name">ctr</h1>' in html
    assert 'data-copy="aip://feature/featurestore/ctr"' in html
    assert "domain: " in html
    # the asserted source dataset, and the derived upstream marked inferred with its why
    assert "from featurestore" in html
    s, o = quote(FEATURE, safe=""), quote(DATASET, safe="")
    why = f"/portal/why?s={s}&amp;p=lg%3Aupstream&amp;o={o}"
    assert why in html
    assert html.count('<span class="inferred">inferred</span>') >= 1
    model = _page(portal, "/portal/entity", uri=MODEL)
    assert ">Alice</a>" in model  # the owner
    assert ">Search team</a>" in model  # her team (derived)
    assert "tier::gold" in model and "Ranks the rows of the home page." in model


def test_why_page_goes_down_to_the_source_facts(portal):
    html = _page(portal, "/portal/why", s=FEATURE, p="lg:upstream", o=DATASET)
    assert "by the rule at <code>" in html and "rules/lineage.rules" in html
    assert "from <strong>featurestore</strong> at" in html
    assert '<span class="asserted">asserted</span>' in html


def test_why_page_of_a_multi_step_lineage_pair_shows_the_chain_of_one_step_facts(portal):
    """A run is two lg:upstream steps from a dataset its pipeline reads (run -> pipeline
    -> dataset): the page shows the path, then each one-step fact with its rule, down
    to the sources."""
    html = _page(portal, "/portal/why", s=RUNS[0], p="lg:upstream", o=EVIL[0])
    assert "by the property path <code>lg:upstream+</code>: A chain of 2 one-step" in html
    assert html.count("by the rule at <code>rules/lineage.rules:14:1</code>") == 2
    assert "from <strong>orchestrator</strong> at" in html


def test_why_page_of_a_fact_that_does_not_hold_is_404(portal):
    response = portal.get("/portal/why", params={"s": DATASET, "p": "lg:upstream", "o": FEATURE})
    assert response.status_code == 404
    assert "does not derive" in response.text


def test_entity_page_history_says_what_changed_and_as_of_shows_the_older_state(portal):
    now = _page(portal, "/portal/entity", uri=MODEL)
    assert '<h1 id="entity-name">ranker two</h1>' in now
    assert "+ lg:name = ranker two" in now and "- lg:name = ranker" in now
    before = _page(portal, "/portal/entity", uri=MODEL, as_of="2026-01-01T00:30:00")
    assert '<h1 id="entity-name">ranker</h1>' in before
    assert "As of <time" in before
    response = portal.get("/portal/entity", params={"uri": MODEL, "as_of": "2025-12-31T00:00:00Z"})
    assert response.status_code == 404 and "did not exist at 2025-12-31" in response.text


@pytest.mark.parametrize(
    ("params", "status", "says"),
    [
        ({"uri": "aip://model/registry"}, 400, "uri: an AIP URI has three parts"),
        ({"uri": "aip://model/registry/nobody"}, 404, "does not know aip://model/registry/nobody"),
        ({"uri": MODEL, "as_of": "yesterday"}, 400, "as_of: not a time: &#39;yesterday&#39;"),
    ],
)
def test_entity_page_with_bad_input_says_what_and_where(portal, params, status, says):
    response = portal.get("/portal/entity", params=params)
    assert response.status_code == status
    assert says in response.text
    assert response.headers["content-security-policy"] == CSP


def test_lineage_page_lists_both_directions_and_loads_cytoscape_from_the_package(portal):
    html = _page(portal, "/portal/lineage", uri=FEATURE, depth=2)
    assert 'src="/portal/static/vendor/cytoscape/cytoscape.min.js"' in html
    up = html[html.index('id="h-upstream"') : html.index('id="h-downstream"')]
    assert f'data-uri="{DATASET}"' in up
    assert f'data-from="{FEATURE}" data-to="{DATASET}"' in html
    script = portal.get("/portal/static/vendor/cytoscape/cytoscape.min.js")
    assert script.status_code == 200 and "cytoscape" in script.text[:2000]
    assert "Cytoscape Consortium" in portal.get("/portal/static/vendor/cytoscape/LICENSE").text


def test_static_files_refuse_names_outside_the_folder(portal):
    for name in ("../render.py", "..%2Frender.py", "nothing.js"):
        assert portal.get(f"/portal/static/{name}").status_code == 404


def test_every_type_colour_has_its_css_class(portal):
    css = portal.get("/portal/static/portal.css").text
    for colour in PALETTE:
        assert f".type-badge.c{colour[1:]} {{ background: {colour}; }}" in css


@given(st.text(max_size=40))
def test_marked_keeps_only_mark_tags(text):
    """Whatever a highlight holds, only <mark> and </mark> come out as tags."""
    from markupsafe import escape

    out = str(marked(f"<mark>{escape(text)}</mark>"))
    assert re.sub(r"</?mark>", "", out) == str(escape(text))


# -- a type added to the ontology gets a generic page ---------------------------------

CARD_CLASS = """
lg:ModelCard a owl:Class ;
    rdfs:subClassOf lg:Asset ;
    lg:domain lg:ModelsDomain ;
    lg:componentType "model-card" ;
    rdfs:label "model card"@en ;
    rdfs:comment "A model card: what a model is for and how it was evaluated."@en .
"""


def test_a_type_added_to_the_ontology_gets_a_generic_page(tmp_path):
    init_model(tmp_path / "model")
    with (tmp_path / "model/ontology/models.ttl").open("a") as f:
        f.write(CARD_CLASS)
    config = tmp_path / "lifecyclegraph.toml"
    config.write_text(
        f'[store]\npath = "{tmp_path / "store"}"\n'
        '[server]\nport = 0\nquery_workers = 1\nwrite_tokens = ["w-t0ken"]\n'
        f'[model]\nontology = "{tmp_path / "model/ontology"}"\n'
        f'shapes = "{tmp_path / "model/shapes"}"\nrules = "{tmp_path / "model/rules"}"\n'
    )
    child, url, _ = start_serve(config)
    try:
        card = "aip://model-card/registry/card-1"
        with connect(url, token="w-t0ken") as graph:
            graph.write(
                Facts.of(card, {"rdf:type": Ref("lg:ModelCard"), "lg:name": "Card one",
                                "lg:sourceId": "card-1", "lg:owner": Ref(USER)}),
                source="registry",
            )  # fmt: skip
        html = httpx.get(f"{url}/portal/entity", params={"uri": card}, timeout=30).text
        assert '<h1 id="entity-name">Card one</h1>' in html
        comment = "A model card: what a model is for and how it was evaluated."
        assert f'title="{comment}">model card<' in html
        assert "domain: " in html
        assert 'class="type-section"' not in html  # the generic page: no table entry
    finally:
        stop_serve(child)


def test_the_shipped_ontology_does_not_know_the_added_type():
    """The test above is not vacuous: the shipped model has no model card."""
    from lifecyclegraph.core.ontology import Ontology, shipped_dir

    assert (
        "https://w3id.org/lifecyclegraph/ontology#ModelCard"
        not in Ontology.load(shipped_dir("ontology")).classes()
    )


def test_portal_assets_are_in_the_package():
    root = Path(__file__).resolve().parents[1] / "lifecyclegraph/portal/static"
    for vendored in ("cytoscape", "graphiql", "react", "yasgui"):
        assert (root / "vendor" / vendored / "LICENSE").is_file(), vendored
        assert "from npm" in (root / "vendor" / vendored / "VERSION").read_text(), vendored
    assert (root / "portal.js").is_file()


@pytest.mark.parametrize(
    ("path", "policy", "files", "licences"),
    [
        (
            "/portal/sparql",
            SPARQL_CSP,
            ["vendor/yasgui/yasgui.min.js", "vendor/yasgui/yasgui.min.css", "sparql.js",
             "editors.css"],
            {"vendor/yasgui/LICENSE": "Triply"},
        ),
        (
            "/portal/graphql",
            GRAPHIQL_CSP,
            ["vendor/react/react.production.min.js", "vendor/react/react-dom.production.min.js",
             "vendor/graphiql/graphiql.min.js", "vendor/graphiql/graphiql.min.css",
             "graphql.js", "editors.css"],
            {"vendor/graphiql/LICENSE": "GraphQL Contributors",
             "vendor/react/LICENSE": "Facebook, Inc. and its affiliates"},
        ),
    ],
)  # fmt: skip
def test_query_pages_load_the_vendored_editors_from_the_app(portal, path, policy, files, licences):
    html = _page(portal, path, csp=policy)
    markup = _markup(html)
    loaded = [a.get("src") or a.get("href") for t, a in markup.tags if t in ("script", "link")]
    for name in files:
        assert f"/portal/static/{name}" in loaded, name
        response = portal.get(f"/portal/static/{name}")
        assert response.status_code == 200 and len(response.content) > 500, name
    for name, holder in licences.items():
        assert holder in portal.get(f"/portal/static/{name}").text


def test_editor_pages_widen_the_policy_by_one_directive_only():
    """GraphiQL needs its embedded fonts, YASR's table its <style> elements; neither
    needs inline script or eval, and nothing may load from elsewhere."""
    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))
    graphiql = dict(d.strip().split(" ", 1) for d in GRAPHIQL_CSP.split(";"))
    sparql = dict(d.strip().split(" ", 1) for d in SPARQL_CSP.split(";"))
    assert graphiql == {**directives, "font-src": "'self' data:"}
    assert sparql == {**directives, "style-src": "'self' 'unsafe-inline'"}
    for policy in (graphiql, sparql):
        assert policy["script-src"] == "'self'" and policy["connect-src"] == "'self'"
        assert "unsafe-eval" not in str(policy)


def test_sparql_page_examples_declare_the_prefixes_they_use(portal):
    html = _page(portal, "/portal/sparql", csp=SPARQL_CSP)
    editor = next(a for t, a in _markup(html).tags if a.get("id") == "yasgui")
    assert editor["data-query"].startswith(
        "PREFIX lg: <https://w3id.org/lifecyclegraph/ontology#>\nSELECT"
    )
    options = [a["value"] for t, a in _markup(html).tags if t == "option"]
    assert options and all(o.startswith("PREFIX lg: ") for o in options)


def test_entity_page_lists_links_whose_inverse_is_derived_once(portal):
    """The dataset's incoming lg:upstream links are its derived lg:downstream ones: the
    page lists them once, under the outgoing relation."""
    html = _page(portal, "/portal/entity", uri=DATASET)
    headings = re.findall(r'<h3 id="g\d+"[^>]*>([^<]*)<', html)
    assert any(h.strip().startswith("downstream") for h in headings), headings
    assert not any(h.strip().startswith("upstream") for h in headings), headings


# -- the type-specific sections ---------------------------------------------------------


def test_every_term_of_the_sections_table_is_declared_in_the_ontology():
    """The sections are driven by the ontology: a renamed property fails here, not as an
    empty section."""
    from lifecyclegraph.core.ontology import Ontology
    from lifecyclegraph.core.vocab import expand
    from lifecyclegraph.portal.sections import SECTIONS, parse_path

    ontology = Ontology.load()
    classes, properties = set(ontology.classes()), set(ontology.properties())
    missing = []
    for kind, sections in SECTIONS.items():
        missing += [kind] if expand(kind) not in classes else []
        for section in sections:
            terms = [p for sequence in parse_path(section.path) for p, _ in sequence]
            terms += [expand(p) for p in (*section.show, section.order, section.split) if p]
            missing += [t for t in terms if t not in properties]
            missing += [t for t in section.skip if expand(t) not in classes]
    assert missing == []


def test_parse_path_rejects_a_term_that_is_not_a_compact_iri():
    from lifecyclegraph.portal.sections import parse_path

    with pytest.raises(ValueError, match="'hasRun' is not a compact IRI"):
        parse_path("lg:hasSchedule/hasRun")


@pytest.fixture(scope="module")
def world(demo):
    """The demo world's portal over HTTP."""
    with httpx.Client(base_url=demo.api.url, timeout=30) as client:
        yield client


def _select(client: httpx.Client, query: str) -> list[str]:
    """The first variable's values of a SPARQL query on the served graph."""
    response = client.post(
        "/sparql",
        content=query,
        headers={
            "Content-Type": "application/sparql-query",
            "Accept": "application/sparql-results+json",
        },
    )
    assert response.status_code == 200, response.text
    data = response.json()
    first = data["head"]["vars"][0]
    return [row[first]["value"] for row in data["results"]["bindings"]]


def _listed(section: str) -> list[tuple[str, bool]]:
    """The entities a section (or a part of one) lists, in order, each with whether it
    is marked inferred."""
    from urllib.parse import parse_qs, urlsplit

    items = re.findall(r'<li class="rel( is-inferred)?">\s*<a href="([^"]+)"', section)
    return [
        (parse_qs(urlsplit(href.replace("&amp;", "&")).query)["uri"][0], bool(inferred))
        for inferred, href in items
    ]


def _part(section: str, title: str) -> str:
    """One part (say ``failed``) of a split section."""
    found = re.search(rf'<h3 class="part" id="[^"]*-{title}">(.*?)(?=<h3 class="part"|</section>)',
                      section, re.S)  # fmt: skip
    assert found, f"no part {title!r}"
    return found.group(1)


RANKING = "aip://model/registry/ranking-model"
INSTANCE = "aip://model/registry/ranking-model-v5-20XX0101"


def test_model_instance_page_lists_its_ab_tests_inferred_with_why(world):
    html = _page(world, "/portal/entity", uri=INSTANCE)
    expected = _select(world, f"SELECT ?t WHERE {{ <{INSTANCE}> lg:associatedAbTest ?t }}")
    assert expected, "the demo world tests the ranking instance"
    section = _section(html, "s-a-b-tests")
    assert sorted(_listed(section)) == sorted((t, True) for t in expected)
    s, o = quote(INSTANCE, safe=""), quote(expected[0], safe="")
    assert f"/portal/why?s={s}&amp;p=lg%3AassociatedAbTest&amp;o={o}" in section
    deployments = _select(world, f"SELECT ?d WHERE {{ <{INSTANCE}> lg:hasDeployment ?d }}")
    assert {u for u, _ in _listed(_section(html, "s-deployments"))} == set(deployments)
    assert "environment:</span> production" in _section(html, "s-deployments")


def test_model_page_gathers_its_instances_deployments_and_ab_tests(world):
    html = _page(world, "/portal/entity", uri=RANKING)
    for section, path in (
        ("s-instances", "lg:hasInstance"),
        ("s-deployments", "lg:hasInstance/lg:hasDeployment"),
        ("s-a-b-tests", "lg:hasInstance/lg:associatedAbTest"),
    ):
        expected = _select(world, f"SELECT DISTINCT ?x WHERE {{ <{RANKING}> {path} ?x }}")
        assert expected, path
        assert {u for u, _ in _listed(_section(html, section))} == set(expected), section


def test_pipeline_page_splits_runs_by_outcome_with_schedule_inputs_and_outputs(world):
    pipelines = _select(
        world,
        "SELECT DISTINCT ?p WHERE { ?r lg:runOf ?p ; lg:status 'FAILED' } ORDER BY ?p",
    )
    assert pipelines, "the demo world has a failed run"
    for pipeline in pipelines:
        html = _page(world, "/portal/entity", uri=pipeline)
        runs = _section(html, "s-runs")
        for part, status in (("failed", "FAILED"), ("succeeded", "SUCCEEDED")):
            expected = _select(
                world,
                f"SELECT ?r ?t WHERE {{ ?r lg:runOf <{pipeline}> ; lg:status '{status}' ;"
                " lg:startedAt ?t } ORDER BY DESC(?t)",
            )
            listed = [u for u, _ in _listed(_part(runs, part))] if expected else []
            assert listed == expected, (pipeline, part)  # newest first
        crons = _select(world, f"SELECT ?c WHERE {{ <{pipeline}> lg:hasSchedule/lg:cron ?c }}")
        schedule = _section(html, "s-schedule")
        assert all(f"cron:</span> {_escaped(c)}" in schedule for c in crons)
        inputs = _select(world, f"SELECT ?d WHERE {{ <{pipeline}> lg:readsDataset ?d }}")
        assert {u for u, _ in _listed(_section(html, "s-inputs"))} == set(inputs)
        outputs = _select(
            world,
            f"SELECT DISTINCT ?d WHERE {{ {{ <{pipeline}> lg:writesDataset ?d }} UNION"
            f" {{ ?d lg:writtenByPipeline|lg:trainedByPipeline <{pipeline}> }} }}",
        )
        assert {u for u, _ in _listed(_section(html, "s-outputs"))} == set(outputs)


def test_dataset_page_lists_versions_newest_first_and_downstream_consumers(world):
    dataset = "aip://dataset/datasets/impressions"
    html = _page(world, "/portal/entity", uri=dataset)
    versions = _select(
        world,
        f"SELECT ?v ?t WHERE {{ <{dataset}> lg:hasVersion ?v . ?v lg:createdAt ?t }}"
        " ORDER BY DESC(?t)",
    )
    assert len(versions) > 1
    assert [u for u, _ in _listed(_section(html, "s-versions"))] == versions
    consumers = _select(
        world,
        f"SELECT DISTINCT ?c WHERE {{ ?c lg:dependsOn <{dataset}> "
        "FILTER NOT EXISTS { ?c a lg:DatasetVersion } }",
    )
    assert consumers
    assert {u for u, _ in _listed(_section(html, "s-downstream-consumers"))} == set(consumers)


def test_feature_page_lists_source_datasets_and_consuming_models(world):
    feature = "aip://feature/featurestore/search-ctr-7d"
    html = _page(world, "/portal/entity", uri=feature)
    sources = _select(world, f"SELECT ?d WHERE {{ <{feature}> lg:sourceDataset ?d }}")
    models = _select(world, f"SELECT ?m WHERE {{ ?m lg:usesFeature <{feature}> }}")
    assert sources and models
    assert {u for u, _ in _listed(_section(html, "s-source-datasets"))} == set(sources)
    assert {u for u, _ in _listed(_section(html, "s-consuming-models"))} == set(models)


def test_team_and_user_pages_list_what_they_own(world):
    team = "aip://team/identity/search-discovery"
    owned = _select(world, f"SELECT DISTINCT ?a WHERE {{ ?a lg:owningTeam <{team}> }}")
    html = _page(world, "/portal/entity", uri=team)
    listed = _listed(_section(html, "s-what-the-team-owns"))
    assert owned and {u for u, _ in listed} == set(owned)
    assert all(inferred for _, inferred in listed)  # lg:owningTeam is derived
    members = _select(world, f"SELECT ?u WHERE {{ ?u lg:memberOf <{team}> }}")
    assert {u for u, _ in _listed(_section(html, "s-members"))} == set(members)
    user = members[0]
    mine = _select(world, f"SELECT DISTINCT ?a WHERE {{ ?a lg:owner <{user}> }}")
    html = _page(world, "/portal/entity", uri=user)
    assert {u for u, _ in _listed(_section(html, "s-what-they-own"))} == set(mine)


def test_a_type_the_table_does_not_name_has_the_generic_groups_only(world):
    attempt = _select(world, "SELECT ?a WHERE { ?a a lg:RunAttempt } LIMIT 1")[0]
    html = _page(world, "/portal/entity", uri=attempt)
    assert 'class="type-section"' not in html
    assert 'class="rel-group"' in html


@pytest.fixture(scope="module")
def starts(world):
    """Entities of the demo world to walk relation paths from."""
    found = _select(world, "SELECT ?e WHERE { ?e lg:hydrationState lg:Hydrated } ORDER BY ?e")
    return found[::7]


def _section_properties() -> list[str]:
    from lifecyclegraph.core.vocab import compact
    from lifecyclegraph.portal.sections import SECTIONS, parse_path

    return sorted(
        {
            compact(p)
            for sections in SECTIONS.values()
            for section in sections
            for sequence in parse_path(section.path)
            for p, _ in sequence
        }
    )


_SEQUENCE = st.lists(
    st.tuples(st.sampled_from(_section_properties()), st.booleans()), min_size=1, max_size=3
)


@settings(max_examples=40, deadline=None)
@given(alternatives=st.lists(_SEQUENCE, min_size=1, max_size=2), pick=st.integers(min_value=0))
def test_reach_finds_what_the_sparql_property_path_finds(demo, world, starts, alternatives, pick):
    """Walking a relation path on the door's quads reaches the same entities as SPARQL's
    property path over the same graph, inferred hops and paths through the start
    entity included."""
    from lifecyclegraph.portal.sections import reach

    path = "|".join(
        "/".join(("^" if inverse else "") + p for p, inverse in sequence)
        for sequence in alternatives
    )
    uri = starts[pick % len(starts)]
    expected = _select(
        world,
        f"SELECT DISTINCT ?x WHERE {{ <{uri}> {path} ?x FILTER(isIRI(?x) && ?x != <{uri}>) }}",
    )
    assert set(reach(demo.service.graph, uri, path)) == set(expected), path


def test_reach_finds_what_sparql_finds_for_every_section_of_the_table(demo, world):
    """Each section's own path, from every entity of its type, reaches what SPARQL finds;
    and the demo world gives every section something to list somewhere."""
    from lifecyclegraph.core.vocab import expand
    from lifecyclegraph.portal.sections import SECTIONS, reach

    empty = []
    for kind, sections in SECTIONS.items():
        entities = _select(world, f"SELECT ?e WHERE {{ ?e a <{expand(kind)}> }} ORDER BY ?e")
        for section in sections:
            found_any = False
            for uri in entities:
                expected = _select(
                    world,
                    f"SELECT DISTINCT ?x WHERE {{ <{uri}> {section.path} ?x "
                    f"FILTER(isIRI(?x) && ?x != <{uri}>) }}",
                )
                assert set(reach(demo.service.graph, uri, section.path)) == set(expected)
                found_any = found_any or bool(expected)
            if not found_any:
                empty.append((kind, section.title))
    assert empty == []


def test_sections_as_of_a_past_time_show_the_asserted_facts_of_then(portal):
    """As of a past time the sections walk the past graph: what Alice owned then, by
    lg:owner (asserted), and nothing her team owned by the derived lg:owningTeam."""
    user = _page(portal, "/portal/entity", uri=USER, as_of="2026-01-01T00:30:00")
    owned = _listed(_section(user, "s-what-they-own"))
    assert {MODEL, PIPELINE, *EVIL} <= {u for u, _ in owned}
    assert not any(inferred for _, inferred in owned)
    team = _page(portal, "/portal/entity", uri=TEAM, as_of="2026-01-01T00:30:00")
    assert "None known." in _section(team, "s-what-the-team-owns")
    assert _listed(_section(_page(portal, "/portal/entity", uri=TEAM), "s-what-the-team-owns"))
