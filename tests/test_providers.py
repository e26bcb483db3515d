"""Normalization by the six reference providers, on the contract's own examples."""

from __future__ import annotations

import asyncio

import pytest
from contract_world import ALL
from fakesource import FakeClient

from lifecyclegraph.core.config import Config
from lifecyclegraph.core.errors import ConfigError
from lifecyclegraph.core.vocab import LG
from lifecyclegraph.providers import available_providers
from lifecyclegraph.providers.sources import Sources, UnknownPlatform
from lifecyclegraph.validation import Validator

CONFIG = Config.from_dict({"sources": {p: {"url": f"http://{p}.test"} for p in ALL}})


def make_sources(world=ALL) -> Sources:
    return Sources(CONFIG, client_factory=lambda platform, _: FakeClient(world[platform]))


def nquads(facts) -> str:
    lines = sorted(f"<{e.uri}> {p} {o} ." for e in facts.flatten() for p, o in e.pairs)
    return "\n".join(lines) + "\n"


def hydrate(uri: str, hint: str | None = None):
    sources = make_sources()
    return asyncio.run(sources.hydrate(uri, hint)), sources


def test_six_reference_providers_are_registered_as_entry_points():
    # with the two integrations registered the same way (docs/mlflow.md, docs/openlineage.md)
    assert set(available_providers()) == set(ALL) | {"mlflow", "openlineage"}


@pytest.mark.parametrize(
    ("uri", "golden_name"),
    [
        ("aip://model/registry/ranking-model", "model"),
        ("aip://model/registry/ranking-model-v5-20XX0101", "model-instance"),
        ("aip://pipeline/orchestrator/weekly-ranking-trainer", "pipeline"),
        ("aip://pipeline-run/orchestrator/train-weekly-ranking-20XX0101", "pipeline-run"),
        ("aip://ab-test/experimentation/12345", "ab-test"),
        ("aip://feature/featurestore/watch-time-7d", "feature"),
        ("aip://dataset/datasets/viewing-history", "dataset"),
        ("aip://dataset-version/datasets/viewing-history:2026-01-01", "dataset-version"),
        ("aip://user/identity/alice", "user"),
        ("aip://team/identity/personalization", "team"),
    ],
)
def test_contract_example_normalizes_to_golden_facts_that_validate(uri, golden_name, golden):
    hydrated, _ = hydrate(uri)
    assert hydrated.facts is not None
    golden(f"normalize/{golden_name}.nt", nquads(hydrated.facts))
    report = Validator.load().validate(hydrated.facts, reference_types=hydrated.references)
    assert report.conforms, report.summary()


def test_unknown_owner_email_is_kept_and_reported():
    hydrated, sources = hydrate("aip://feature/featurestore/watch-time-7d")
    emails = hydrated.facts.values(LG.unresolvedOwnerEmail)
    assert [e.value for e in emails] == ["ghost@example.com"]
    assert [o.value for o in hydrated.facts.values(LG.owner)] == ["aip://user/identity/dave"]
    warning = sources.reports["featurestore"].warnings[0]
    assert warning.kind == "unresolved-owner" and "ghost@example.com" in warning.message
    assert hydrated.unresolved_owners == ("ghost@example.com",)


def test_labels_become_key_value_tags():
    hydrated, _ = hydrate("aip://model/registry/ranking-model")
    assert [t.value for t in hydrated.facts.values(LG.tag)] == ["team::personalization"]


def test_foreign_keys_become_references_with_classes():
    hydrated, _ = hydrate("aip://pipeline-run/orchestrator/train-weekly-ranking-20XX0101")
    assert hydrated.references["aip://ab-test-cell/experimentation/12345:2"] == LG.ABTestCell.value
    assert (
        hydrated.references["aip://dataset-version/datasets/viewing-history:2026-01-01"]
        == LG.DatasetVersion.value
    )
    assert (
        hydrated.references["aip://pipeline/orchestrator/weekly-ranking-trainer"]
        == LG.Pipeline.value
    )
    attempts = [p.uri for p in hydrated.facts.parts]
    assert attempts == [
        "aip://run-attempt/orchestrator/train-weekly-ranking-20XX0101:1",
        "aip://run-attempt/orchestrator/train-weekly-ranking-20XX0101:2",
    ]


def test_a_cell_uri_alone_hydrates_its_test():
    hydrated, _ = hydrate("aip://ab-test-cell/experimentation/12345:2")
    assert hydrated.facts.uri == "aip://ab-test/experimentation/12345"
    assert "aip://ab-test-cell/experimentation/12345:2" in {p.uri for p in hydrated.facts.parts}


def test_instance_is_found_without_a_hint_and_model_with_one():
    hydrated, sources = hydrate("aip://model/registry/ranking-model-v5-20XX0101")
    assert LG.ModelInstance in {o for p, o in hydrated.facts.pairs}
    client = sources.clients["registry"]
    assert client.requests["/api/v1/models/ranking-model-v5-20XX0101"] == 1
    _, sources = hydrate("aip://model/registry/ranking-model-v5-20XX0101", LG.ModelInstance.value)
    assert sources.clients["registry"].requests["/api/v1/models/ranking-model-v5-20XX0101"] == 0


def test_missing_object_hydrates_as_gone():
    hydrated, _ = hydrate("aip://dataset/datasets/nope")
    assert hydrated.facts is None


def test_malformed_field_is_left_out_and_reported():
    world = {
        **ALL,
        "datasets": {"/api/v1/datasets/d": {"id": "d", "name": "d", "created_at": "yesterday"}},
    }
    sources = make_sources(world)
    hydrated = asyncio.run(sources.hydrate("aip://dataset/datasets/d"))
    assert hydrated.facts.values(LG.createdAt) == []
    assert sources.reports["datasets"].warnings[0].kind == "malformed-field"


def test_unconfigured_platform_cannot_be_hydrated():
    with pytest.raises(UnknownPlatform, match="no source is configured for platform 'acme'"):
        asyncio.run(make_sources().hydrate("aip://model/acme/x"))


def test_source_naming_a_missing_provider_is_a_config_error():
    config = Config.from_dict({"sources": {"kubeflow": {"url": "http://x"}}}, "lg.toml")
    with pytest.raises(ConfigError, match=r"lg\.toml: sources\.kubeflow: no provider 'kubeflow'"):
        Sources(config, client_factory=lambda p, c: FakeClient({}))


def test_dot_ids_reach_the_source_as_that_id_through_every_provider():
    """An id ``.`` or ``..`` goes on the wire percent-encoded: after dot-segment
    removal (RFC 3986, 5.2.4), as a proxy or server does it, the path is unchanged
    and still names that id, for every component type of every reference provider."""
    from urllib.parse import unquote, urljoin, urlsplit

    from lifecyclegraph.core.uris import AipUri
    from lifecyclegraph.server.serving import ServerThread

    seen: list[str] = []

    async def source(scope, receive, send):  # records each request target as sent
        if scope["type"] != "http":
            return
        seen.append(scope["raw_path"].decode("ascii"))
        headers = [(b"content-type", b"application/problem+json")]
        await send({"type": "http.response.start", "status": 404, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"status": 404}'})

    async def hydrate_every_kind(root: str) -> list[tuple[str, str, list[str]]]:
        config = Config.from_dict({"sources": {p: {"url": f"{root}/{p}"} for p in ALL}})
        sources = Sources(config)
        asked = []
        try:
            for platform, provider in sources.providers.items():
                for kind in provider.component_types:
                    for dots in (".", ".."):
                        resource = (
                            f"{dots}:{dots}"
                            if kind.endswith(("-version", "-cell", "-attempt"))
                            else dots
                        )
                        seen.clear()
                        await sources.hydrate(str(AipUri(kind, platform, resource)))
                        asked.append((f"{platform} {kind}", dots, list(seen)))
        finally:
            await sources.aclose()
        return asked

    with ServerThread(source, lifespan="off") as server:
        asked = asyncio.run(hydrate_every_kind(server.url))
    assert len(asked) >= 2 * 10
    for what, dots, paths in asked:
        assert paths, what
        for path in paths:
            assert urlsplit(urljoin(server.url, path)).path == path, (what, path)
            assert unquote(path.rsplit("/", 1)[1]) == dots, (what, path)
