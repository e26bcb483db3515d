"""The portal in a real browser: Debian's chromium (``.ci/run`` installs it with apt),
driven by Playwright from PyPI through ``executable_path`` (never ``playwright
install``), on the demo world ingested through events by a real service.

The journey of issue 16: search "rankng", open the ranking instance, see its A/B test
marked inferred, open its "why", follow lineage to a dataset, open the owning team,
move the as-of control back and see the older state; a screenshot of each page is
saved under ``tests/artifacts/portal/`` (git-ignored). Hostile source strings render as
text (no dialog fires), the Content-Security-Policy holds (no violation is reported),
and axe-core (vendored from npm under ``tests/vendor/axe-core/``) finds no serious or
critical accessibility violation on any page.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from pyoxigraph import Literal

from lifecyclegraph import Facts
from lifecyclegraph.core.vocab import LG

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = Path(__file__).parent / "vendor/axe-core/axe.min.js"
SHOTS = Path(__file__).parent / "artifacts/portal"
INSTANCE = "aip://model/registry/ranking-model-v5-20XX0101"
HOSTILE = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')
EVIL = ["aip://dataset/datasets/evil-script", "aip://dataset/datasets/evil-img"]

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extra")
if not CHROMIUM.exists():  # pragma: no cover - .ci/run installs it
    pytest.skip(
        "/usr/bin/chromium is missing: .ci/run installs Debian's chromium with apt",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def world(demo):
    """The demo world, plus two datasets with hostile names (made at the source), and
    the owning team of the ranking instance renamed after the ingestion (so that the
    past shows another name)."""
    graph = demo.service.graph
    # The hostile datasets are objects of the dataset platform: created there, announced
    # by their events, hydrated and normalized by the service like any other.
    with httpx.Client(base_url=demo.sandbox.url, timeout=30) as sandbox:
        for uri, name in zip(EVIL, HOSTILE, strict=True):
            dataset_id = uri.rsplit("/", 1)[1]
            sandbox.post(
                "/_sandbox/world/datasets",
                json={"id": dataset_id, "name": name, "description": name,
                      "labels": [{"key": "note", "value": name}]},
            ).raise_for_status()  # fmt: skip
            demo.service.submit_events(
                [{"event_type": "dataset_created", "dataset_id": dataset_id}]
            )
    demo.events_sent += len(EVIL)
    demo.wait_until_ingested(timeout=60)
    assert [graph.entity(uri).name for uri in EVIL] == list(HOSTILE)
    team = graph.entity(INSTANCE).related("lg:owningTeam")[0]
    state = graph.state(team)
    info = graph.snapshot(state.current_snapshot)
    old_name = graph.entity(team).name
    # The as-of control has a resolution of one second: a whole second after the
    # ingestion and before the rename, so that "before", cut to its second, falls
    # between the two.
    time.sleep(1.1)
    before = datetime.now(UTC)
    time.sleep(1.1)
    pairs = {(p, o) for p, o in graph.snapshot_facts(info.iri) if p != LG.name}
    pairs.add((LG.name, Literal(f"{old_name} (renamed)")))
    graph.write(Facts(team, frozenset(pairs)), source=info.source)
    return {"demo": demo, "team": team, "old_name": old_name, "before": before}


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class Watched:
    """A page whose dialogs and console errors (CSP violations among them) are kept."""

    def __init__(self, browser, base: str, bypass_csp: bool = False) -> None:
        self.context = browser.new_context(base_url=base, bypass_csp=bypass_csp)
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.foreign: list[str] = []  # requests to any host but the app's
        self.page.on("request", self._request)
        self.base = base

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _request(self, request) -> None:
        if not request.url.startswith((self.base + "/", "data:", "blob:")):
            self.foreign.append(request.url)

    def _console(self, message) -> None:
        # an error page's status is logged too; what counts is a refusal or a failure
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 1000
        return path

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(browser, world):
    watched = Watched(browser, world["demo"].api.url)
    yield watched
    watched.close()
    assert watched.dialogs == [], "a dialog fired: some source string ran as script"
    assert watched.errors == [], "the page reported errors (CSP violations included)"
    assert watched.foreign == [], "the portal works offline: every request goes to the app"


def test_journey_search_instance_why_lineage_team_and_as_of(tab, world):
    page = tab.page
    page.goto("/")
    box = page.get_by_role("combobox", name="Search entities")
    box.press_sequentially("rankng", delay=30)
    suggestions = page.get_by_role("listbox", name="Suggestions")
    suggestions.get_by_role("option").first.wait_for()
    assert "ranking" in suggestions.inner_text().lower()
    tab.shot("01-suggestions")

    box.press("Enter")  # no suggestion chosen: the form is sent
    page.wait_for_url(lambda url: url.endswith("/?q=rankng"))
    hit = page.locator(f'a.hit-name[href="/portal/entity?uri={quote(INSTANCE, safe="")}"]')
    hit.wait_for()
    tab.shot("02-search-results")
    hit.click()

    page.wait_for_url("**/portal/entity?uri=*")
    assert page.get_by_role("heading", level=1).inner_text() != ""
    assert page.locator("#entity-uri").inner_text() == INSTANCE
    group = page.locator("section.rel-group").filter(
        has=page.get_by_role("heading", name="associated A/B test")
    )
    ab_test = group.locator("li.rel.is-inferred").first
    assert ab_test.locator(".inferred").inner_text() == "inferred"
    # the same test in the instance's "A/B tests" section, marked inferred too
    section = page.locator("section.type-section").filter(
        has=page.get_by_role("heading", name="A/B tests")
    )
    assert section.locator("li.is-inferred .inferred").first.inner_text() == "inferred"
    tab.shot("03-instance")
    ab_test.get_by_role("link", name="why?").click()

    page.wait_for_url("**/portal/why?*")
    leaves = page.locator("li.leaf")
    assert leaves.count() >= 1
    assert "from" in page.locator("ul.sources").first.inner_text()
    tab.shot("04-why")

    page.go_back()
    page.get_by_role("navigation", name="Views of this entity").get_by_role(
        "link", name="Lineage"
    ).click()
    page.wait_for_url("**/portal/lineage?*")
    page.wait_for_selector("#lineage-graph[data-ready]")
    assert int(page.locator("#lineage-graph").get_attribute("data-ready")) > 1
    tab.shot("05-lineage")
    dataset = page.locator("section:has(#h-upstream) li").filter(
        has=page.locator(".type-badge", has_text=re.compile(r"^lg:Dataset$"))
    )
    dataset.first.get_by_role("link").click()

    page.wait_for_url("**/portal/entity?uri=aip%3A%2F%2Fdataset*")
    tab.shot("06-dataset")
    assert "dataset" in page.locator(".types").inner_text()
    teams = page.locator("dt:has-text('Teams') + dd a")
    teams.first.click()  # the dataset's owning team

    page.wait_for_url("**/portal/entity?uri=aip%3A%2F%2Fteam*")
    assert "team" in page.locator(".types").inner_text()
    tab.shot("07-team")
    # the team the fixture renamed (the ranking instance's) shows its new name now
    page.goto(f"/portal/entity?uri={quote(world['team'], safe='')}")
    title = page.get_by_role("heading", level=1)
    assert title.inner_text() == f"{world['old_name']} (renamed)"
    tab.shot("08-renamed-team")

    then = world["before"].astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    page.get_by_label("Show as of (UTC)").fill(then)
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**as_of=*")
    assert page.get_by_role("heading", level=1).inner_text() == world["old_name"]
    assert "As of" in page.locator(".as-of-note").inner_text()
    tab.shot("09-team-as-of")


def test_hostile_source_strings_render_as_text_and_run_nothing(tab, world):
    page = tab.page
    page.goto("/?q=alert")
    names = page.locator("a.hit-name").all_inner_texts()
    assert set(HOSTILE) <= set(names)
    tab.shot("10-hostile-search")
    for uri, name in zip(EVIL, HOSTILE, strict=True):
        page.goto(f"/portal/entity?uri={quote(uri, safe='')}")
        assert page.get_by_role("heading", level=1).inner_text() == name
        assert page.locator(".description").inner_text() == name
        assert page.locator("img").count() == 0
        page.goto(f"/portal/lineage?uri={quote(uri, safe='')}")
    page.goto("/")
    box = page.get_by_role("combobox", name="Search entities")
    box.press_sequentially("alert", delay=30)
    page.get_by_role("listbox", name="Suggestions").get_by_role("option").first.wait_for()
    assert page.locator("#suggestions img, #suggestions script").count() == 0
    # the fixture's teardown asserts that no dialog fired and no CSP violation was reported


def test_suggestions_work_with_the_keyboard(tab):
    page = tab.page
    page.goto("/")
    box = page.get_by_role("combobox", name="Search entities")
    box.press_sequentially("viewing", delay=30)
    page.get_by_role("option").first.wait_for()
    box.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == "suggestion-0"
    box.press("Enter")
    page.wait_for_url("**/portal/entity?uri=*")


def _pages(world) -> list[str]:
    team = quote(world["team"], safe="")
    instance = quote(INSTANCE, safe="")
    return [
        "/",
        "/?q=rankng",
        f"/portal/entity?uri={instance}",
        f"/portal/entity?uri={team}",
        "/portal/entity?uri="
        + quote("aip://pipeline/orchestrator/weekly-ranking-trainer", safe=""),
        "/portal/entity?uri=" + quote("aip://dataset/datasets/impressions", safe=""),
        f"/portal/lineage?uri={instance}",
        f"/portal/why?s={instance}&p=lg%3AassociatedAbTest&o="
        + quote("aip://ab-test/experimentation/12345", safe=""),
        "/portal/quality",
        "/portal/sparql",
        "/portal/graphql",
        f"/portal/entity?uri={quote(EVIL[1], safe='')}",
    ]


def test_no_serious_accessibility_violation_on_any_page(browser, world):
    # axe is injected as a script: this context alone bypasses the CSP to load it
    watched = Watched(browser, world["demo"].api.url, bypass_csp=True)
    found = {}
    try:
        for path in _pages(world):
            response = watched.page.goto(path)
            assert response is not None and response.status == 200, path
            watched.page.add_script_tag(path=str(AXE))
            result = watched.page.evaluate("async () => await axe.run(document)")
            bad = [
                (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
                for v in result["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            if bad:
                found[path] = bad
            assert result["passes"], "axe ran its checks"
    finally:
        watched.close()
    assert found == {}


def test_yasgui_runs_an_example_on_sparql_offline(tab, world):
    page = tab.page
    page.goto("/portal/sparql")
    page.wait_for_selector("#yasgui[data-ready]")
    page.locator(".yasqe_queryButton").click()
    table = page.locator(".yasr table.dataTable")
    table.locator("tbody tr").first.wait_for()
    # the first example counts the entities of each type: the table shows lg:Dataset
    assert "lg:Dataset" in table.inner_text()
    tab.shot("11-sparql")
    page.get_by_label("Example").select_option(label="Which teams own what (derived)")
    page.locator(".yasqe_queryButton").click()
    page.wait_for_function(
        "() => document.querySelector('.yasr table.dataTable')?.innerText.includes('assets')"
    )
    # the fixture's teardown asserts that every request went to the app, no CSP refusal


def test_graphiql_runs_an_example_on_graphql_offline(tab, world):
    page = tab.page
    page.goto("/portal/graphql")
    page.wait_for_selector("#graphiql[data-ready]")
    page.get_by_role("button", name=re.compile("Execute query")).click()
    response = page.locator(".graphiql-response")
    page.wait_for_function(
        "() => document.querySelector('.graphiql-response')?.innerText.includes('models')"
    )
    assert "aip://model/registry/ranking-model" in response.inner_text()
    tab.shot("12-graphql")
    page.get_by_label("Example").select_option(label="Datasets")
    page.get_by_role("button", name=re.compile("Execute query")).click()
    page.wait_for_function(
        "() => document.querySelector('.graphiql-response')?.innerText.includes('datasets')"
    )


def test_as_of_before_the_team_existed_says_so(tab, world):
    page = tab.page
    page.goto(f"/portal/entity?uri={quote(world['team'], safe='')}")
    earlier = (world["before"] - timedelta(days=3650)).strftime("%Y-%m-%dT%H:%M:%S")
    page.get_by_label("Show as of (UTC)").fill(earlier)
    page.get_by_role("button", name="Show").click()
    assert "did not exist at" in page.locator(".error").inner_text()
