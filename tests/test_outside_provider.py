"""A provider from a package outside lifecyclegraph works with no change to lifecyclegraph.

The test writes a tiny distribution (a module plus its ``.dist-info`` with an
``entry_points.txt``) into a temporary site directory, puts it on ``sys.path`` the
way an installed package is, and points lifecyclegraph at its source over real HTTP.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
import textwrap
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from lifecyclegraph import LifecycleGraph
from lifecyclegraph.config import Config, SourceConfig
from lifecyclegraph.errors import ConfigError
from lifecyclegraph.ingest import Ingestor, Journal
from lifecyclegraph.providers import Provider, available_providers
from lifecyclegraph.providers.sources import Sources
from lifecyclegraph.serving import ServerThread

PROVIDER = textwrap.dedent(
    '''
    """Notebooks from the Acme notebook server: a third-party lifecyclegraph provider."""
    from lifecyclegraph.config import SourceConfig
    from lifecyclegraph.events import EventKind
    from lifecyclegraph.providers import Provider, Hydrated
    from lifecyclegraph.providers.normalize import EntityBuilder
    from lifecyclegraph.uris import AipUri, path_segment

    LG = "https://w3id.org/lifecyclegraph/ontology#"

    class NotebookConfig(SourceConfig):
        """[sources.acme]: the client settings, and the workspace to read."""
        workspace: str = "main"

    class NotebookProvider(Provider):
        platform_id = "acme"
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


@pytest.fixture
def acme_installed(tmp_path, monkeypatch):
    site = tmp_path / "site"
    (site / "acme_lg_provider").mkdir(parents=True)
    (site / "acme_lg_provider" / "__init__.py").write_text(PROVIDER)
    dist = site / "acme_lg_provider-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-lg-provider\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[lifecyclegraph.providers]\nacme = acme_lg_provider:NotebookProvider\n"
    )
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    yield
    sys.modules.pop("acme_lg_provider", None)


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
