"""A provider from a package outside lifecyclegraph works with no change to lifecyclegraph.

The test writes a tiny distribution (a module plus its ``.dist-info`` with an
``entry_points.txt``) into a temporary site directory, puts it on ``sys.path`` the
way an installed package is, and points lifecyclegraph at its source over real HTTP.
"""

from __future__ import annotations

import asyncio
import json
import textwrap
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from outside_dist import forget, install

from lifecyclegraph import LifecycleGraph
from lifecyclegraph.core.config import Config, SourceConfig
from lifecyclegraph.core.errors import ConfigError
from lifecyclegraph.ingest import Ingestor, Journal
from lifecyclegraph.providers import Provider, available_providers
from lifecyclegraph.providers.sources import Sources
from lifecyclegraph.sandbox import run_in_thread
from lifecyclegraph.server.serving import ServerThread

PROVIDER = textwrap.dedent(
    '''
    """Notebooks from the Acme notebook server: a third-party lifecyclegraph provider."""
    from lifecyclegraph.core.config import SourceConfig
    from lifecyclegraph.core.events import EventKind
    from lifecyclegraph.providers import Provider, Hydrated
    from lifecyclegraph.providers.normalize import EntityBuilder
    from lifecyclegraph.core.uris import AipUri, path_segment

    LG = "https://w3id.org/lifecyclegraph/ontology#"

    class NotebookConfig(SourceConfig):
        """[sources.acme]: the client settings, and the workspace to read."""
        workspace: str = "main"

    class NotebookProvider(Provider):
        platform_id = "acme"
        fake = "acme_lg_provider.fake:SYSTEM"
        events = (EventKind("notebook_saved", "acme", "dataset", ("notebook_id",),
                            LG + "Dataset"),)
        component_types = {"dataset": LG + "Dataset"}
        config_model = NotebookConfig

        @classmethod
        def create(cls, config, client):
            provider = cls(client)
            provider.workspace = config.workspace
            return provider

        def __init__(self, client):
            super().__init__(client)
            self.workspace = "main"

        async def hydrate(self, uri, ctx, hint=None):
            fetched = await self.client.get(
                f"/api/v1/workspaces/{self.workspace}/notebooks/{path_segment(uri.resource_id)}"
            )
            if fetched.status == 404:
                return Hydrated(str(uri), None, {}, fetched.fetched_at)
            body = fetched.body
            b = EntityBuilder(uri, "Dataset", ctx)
            b.text("name", body["title"]).text("description", body.get("summary"))
            await b.owners(body.get("authors"))
            facts, refs = b.build()
            return Hydrated(str(uri), facts, refs, fetched.fetched_at)
    '''
)


FAKE = textwrap.dedent(
    '''
    """The Acme notebook server in lifecyclegraph's sandbox: its fake, beside its provider."""
    from lifecyclegraph.providers.fake import FakeKind, FakeSystem

    NOTEBOOK = FakeKind(
        "notebook",
        collection="notebooks",
        path="/api/v1/workspaces/research/notebooks/{notebook_id}",
        doc="A notebook of the research workspace.",
        key_fields=("id",),
        event_fields=("notebook_id",),
        required=("id", "title"),
        rank=200,
        lists=("authors",),
        defaults={"authors": []},
        created="notebook_saved",
        updated="notebook_saved",
        emails=("authors",),
    )
    SYSTEM = FakeSystem("acme", kinds=(NOTEBOOK,), world="acme_lg_provider:world.json")
    '''
)

WORLD = {
    "notebooks": [
        {"id": "churn-eda", "title": "Churn EDA", "summary": "Exploring churn.",
         "authors": ["nobody@acme.test"]},
    ]
}  # fmt: skip


@pytest.fixture
def acme_installed(tmp_path, monkeypatch):
    install(
        tmp_path / "site",
        monkeypatch,
        "acme-lg-provider",
        {"acme_lg_provider": PROVIDER, "acme_lg_provider.fake": FAKE},
        {"lifecyclegraph.providers": {"acme": "acme_lg_provider:NotebookProvider"}},
        files={"acme_lg_provider/world.json": json.dumps(WORLD)},
    )
    yield
    forget("acme_lg_provider")


@pytest.fixture
def acme_server():
    app = FastAPI()
    notebooks = {
        "churn-eda": {
            "title": "Churn EDA",
            "summary": "Exploring churn.",
            "authors": ["nobody@acme.test"],
        }
    }

    @app.get("/api/v1/workspaces/{workspace}/notebooks/{notebook_id}")
    def notebook(workspace: str, notebook_id: str):
        body = notebooks.get(notebook_id) if workspace == "research" else None
        return JSONResponse(body, 200) if body else JSONResponse({"title": "Not Found"}, 404)

    with ServerThread(app) as server:
        yield server


def test_outside_provider_is_found_through_its_entry_point(acme_installed):
    assert "acme" in available_providers()
    assert available_providers()["acme"].__module__ == "acme_lg_provider"


def test_outside_provider_hydrates_its_events_with_no_change_to_lifecyclegraph(
    acme_installed, acme_server, tmp_path
):
    config = Config.from_dict(
        {"sources": {"acme": {"url": acme_server.url, "workspace": "research"}}}
    )
    sources = Sources(config)
    ingestor = Ingestor(LifecycleGraph.in_memory(), sources, Journal(tmp_path / "j.db"))
    result = ingestor.submit([{"event_type": "notebook_saved", "notebook_id": "churn-eda"}])
    assert result.accepted == 1

    async def run():
        await ingestor.drain()
        await sources.aclose()

    asyncio.run(run())
    entity = ingestor.graph.entity("aip://dataset/acme/churn-eda")
    assert entity.name == "Churn EDA"
    assert entity.get("lg:unresolvedOwnerEmail") == "nobody@acme.test"
    ingestor.journal.close()


def test_outside_provider_config_model_reads_its_own_keys_through_create(acme_installed):
    config = Config.from_dict(
        {"sources": {"acme": {"url": "http://acme.test", "workspace": "research"}}}
    )
    table = config.sources["acme"]
    assert type(table).__name__ == "NotebookConfig"
    assert (table.workspace, table.rate_limit) == ("research", 20.0)  # and the client's
    assert Sources(config).providers["acme"].workspace == "research"


def test_outside_provider_config_model_refuses_unknown_keys_naming_them(acme_installed):
    with pytest.raises(ConfigError) as refused:
        Config.from_dict(
            {
                "sources": {
                    "acme": {"url": "http://acme.test", "wokspace": "research", "timeout": 0},
                    "registry": {"url": "http://registry.test", "workspace": "research"},
                }
            }
        )
    assert str(refused.value).splitlines() == [
        "<dict>: sources.acme.timeout: Input should be greater than 0",
        "<dict>: sources.acme.wokspace: unknown key",
        "<dict>: sources.registry.workspace: unknown key",
    ]


class _Config(SourceConfig):
    workspace: str


class _Handed(Provider):
    """A provider handed to Sources in code, not installed: no entry point."""

    platform_id = "handed"
    config_model = _Config

    @classmethod
    def create(cls, config: SourceConfig, client: Any) -> Provider:
        provider = cls(client)
        provider.workspace = config.workspace  # type: ignore[attr-defined]
        return provider


def test_provider_handed_to_sources_gets_its_table_read_with_its_model():
    table = {"url": "http://handed.test", "workspace": "research"}
    with pytest.raises(ConfigError, match=r"sources\.handed\.workspace: unknown key"):
        Config.from_dict({"sources": {"handed": table}})  # not installed: SourceConfig
    config = Config(sources={"handed": SourceConfig(url="http://handed.test")})
    with pytest.raises(ConfigError, match=r"sources\.handed\.workspace field required"):
        Sources(config, providers={"handed": _Handed})
    config = Config(sources={"handed": _Config.model_validate(table)})
    assert Sources(config, providers={"handed": _Handed}).providers["handed"].workspace == (
        "research"
    )


def test_outside_provider_brings_its_fake_and_the_sandbox_serves_it(acme_installed, tmp_path):
    with run_in_thread() as sandbox:
        assert "acme" in sandbox.base_urls()
        base = sandbox.base_url("acme")
        notebook = httpx.get(f"{base}/api/v1/workspaces/research/notebooks/churn-eda")
        assert notebook.json()["title"] == "Churn EDA"
        assert httpx.get(f"{base}/api/v1/workspaces/research/notebooks/nope").status_code == 404
        openapi = httpx.get(f"{sandbox.url}/openapi.json").json()
        assert "/acme/api/v1/workspaces/research/notebooks/{notebook_id}" in openapi["paths"]
        assert sandbox.world.unknown_emails() >= {"nobody@acme.test"}
        # a change in the sandbox is an event of the outside system, which ingests
        created = httpx.post(
            f"{sandbox.url}/_sandbox/world/notebooks",
            json={"id": "ltv-model", "title": "LTV model", "authors": []},
        )
        assert created.status_code == 201
        [event] = created.json()["events"]
        assert (event["event_type"], event["source"], event["notebook_id"]) == (
            "notebook_saved", "acme", "ltv-model",
        )  # fmt: skip
        config = Config.from_dict({"sources": {"acme": {"url": base, "workspace": "research"}}})
        sources = Sources(config)
        ingestor = Ingestor(LifecycleGraph.in_memory(), sources, Journal(tmp_path / "j.db"))
        seeds = [e for e in sandbox.world.seed_events() if e["source"] == "acme"]
        assert [e["notebook_id"] for e in seeds] == ["churn-eda", "ltv-model"]
        assert ingestor.submit([event, *seeds]).accepted == 3

        async def run():
            await ingestor.drain()
            await sources.aclose()

        asyncio.run(run())
        assert ingestor.graph.entity("aip://dataset/acme/ltv-model").name == "LTV model"
        assert ingestor.graph.entity("aip://dataset/acme/churn-eda").name == "Churn EDA"
        ingestor.journal.close()
