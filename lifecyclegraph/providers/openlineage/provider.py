"""OpenLineage (``openlineage``): jobs, runs and datasets, from the run events producers push.

OpenLineage has no API to read a job or a run from: producers push whole run events
(``POST /api/v1/lineage``). Each accepted event is recorded in the journal under every
object it concerns (its run, its job, each dataset on this platform), and hydrating
one of them *folds* every event recorded for it, oldest first, into its current state
(:meth:`OpenLineageProvider.fold`): late, repeated and out-of-order events give the
same graph. ``docs/openlineage.md`` gives the mapping.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import Field, field_validator

from lifecyclegraph.core.config import SourceConfig
from lifecyclegraph.core.errors import JsonTextError
from lifecyclegraph.core.events import EventRejected
from lifecyclegraph.core.jsontext import loads
from lifecyclegraph.core.uris import AipUri
from lifecyclegraph.core.vocab import LG
from lifecyclegraph.providers.base import (
    Fetcher,
    Hydrated,
    HydrationContext,
    Provider,
)
from lifecyclegraph.providers.normalize import EntityBuilder, parse_time
from lifecyclegraph.providers.openlineage.mapping import (
    EVENT_TYPES,
    P,
    check_run_event,
    dataset_uri,
    job_uri,
    run_uri,
    version_uri,
)

__all__ = ["OpenLineageConfig", "OpenLineageProvider"]

_PLATFORM = r"[a-z0-9][a-z0-9._-]*"
_FINAL = ("COMPLETE", "FAIL", "ABORT")


class OpenLineageConfig(SourceConfig):
    """``[sources.openlineage]``: turns on ``POST /api/v1/lineage``; maps dataset
    namespaces to the platforms that own those datasets."""

    url: str = Field(
        default="http://127.0.0.1",
        description="unused: OpenLineage producers push their events; nothing is read",
    )
    namespaces: dict[str, str] = Field(
        default_factory=dict,
        description="OpenLineage dataset namespace -> platform id whose provider owns the "
        "dataset ({'s3://warehouse' = 'datasets'}: the dataset named "
        "'viewing-history' there is aip://dataset/datasets/viewing-history)",
    )

    @field_validator("namespaces")
    @classmethod
    def _platform_ids(cls, namespaces: dict[str, str]) -> dict[str, str]:
        for namespace, platform in namespaces.items():
            if not re.fullmatch(_PLATFORM, platform):
                raise ValueError(
                    f"{namespace!r} maps to {platform!r}, which is not a platform id "
                    "(lower-case letters, digits, '.', '_' and '-')"
                )
        return namespaces


def _time(event: dict[str, Any]) -> datetime:
    parsed = parse_time(event.get("eventTime"))
    return parsed if parsed is not None else datetime.min.replace(tzinfo=UTC)


def _order(event: dict[str, Any]) -> tuple[datetime, int]:
    """Events by time; at the same time, a final one (complete, fail, abort) last."""
    return _time(event), int(event.get("eventType") in _FINAL)


def _facets(b: EntityBuilder, facets: dict[str, Any]) -> None:
    """Each facet kept whole: ``lg:facet`` ``{"<name>": {...}}`` (the last one seen)."""
    for name, facet in sorted(facets.items()):
        b.text("facet", json.dumps({name: facet}, sort_keys=True, ensure_ascii=False))


class OpenLineageProvider(Provider):
    """Jobs (``Pipeline``), runs (``PipelineRun``) and datasets from OpenLineage events."""

    platform_id = P
    pushed = True
    config_model = OpenLineageConfig
    component_types: ClassVar[dict[str, str]] = {
        "pipeline": LG.Pipeline.value,
        "pipeline-run": LG.PipelineRun.value,
        "dataset": LG.Dataset.value,
    }

    def __init__(self, client: Fetcher, namespaces: dict[str, str] | None = None) -> None:
        super().__init__(client)
        self.namespaces = dict(namespaces or {})

    @classmethod
    def create(cls, config: SourceConfig, client: Fetcher) -> Provider:
        namespaces = config.namespaces if isinstance(config, OpenLineageConfig) else {}
        return cls(client, namespaces)

    # -- intake ------------------------------------------------------------------------

    def records(self, event: Any) -> list[tuple[str, str, str]]:
        """Check a run event; return what to record it under: ``(uri, event type,
        class)`` for its run, its job, and each of its datasets on this platform.

        Raises:
            EventRejected: the event is not a run event this service takes (the reason
                names the field).
        """
        check_run_event(event)
        kind = f"openlineage_{str(event.get('eventType') or 'other').lower()}"
        found = {
            str(run_uri(event["run"]["runId"])): LG.PipelineRun.value,
            str(job_uri(event["job"])): LG.Pipeline.value,
        }
        for dataset in [*(event.get("inputs") or []), *(event.get("outputs") or [])]:
            uri = dataset_uri(dataset, self.namespaces)
            version_uri(dataset, event["run"]["runId"])  # a valid URI too
            if uri.platform_id == P:
                found[str(uri)] = LG.Dataset.value
        return [(uri, kind, cls) for uri, cls in found.items()]

    async def hydrate(
        self, uri: AipUri, ctx: HydrationContext, hint: str | None = None
    ) -> Hydrated:
        """Never asked: a pushed source's objects are folded from the journal."""
        raise NotImplementedError("OpenLineage objects are folded from their events")

    # -- folding -----------------------------------------------------------------------

    async def fold(self, uri: AipUri, payloads: list[str], ctx: HydrationContext) -> Hydrated:
        """The current state of ``uri`` from the events recorded for it (as JSON text).

        No event (a parent run, say, known only from its children): the object is not
        at its source, as a ``404`` would say.
        """
        events = []
        for text in payloads:
            try:
                events.append(check_run_event(loads(text)))
            except (JsonTextError, EventRejected) as error:  # recorded by an older check
                ctx.report.warn("malformed-event", str(uri), f"event left out: {error}")
        events.sort(key=_order)
        now = datetime.now(UTC)
        if not events:
            return Hydrated(str(uri), None, {}, now)
        build = {"pipeline-run": self._run, "pipeline": self._job, "dataset": self._dataset}
        builder = await build[uri.component_type](uri, events, ctx)
        facts, refs = builder.build()
        return Hydrated(str(uri), facts, refs, now, tuple(builder.unresolved))

    async def _run(
        self, uri: AipUri, events: list[dict[str, Any]], ctx: HydrationContext
    ) -> EntityBuilder:
        last = events[-1]
        run_id = uri.resource_id
        b = EntityBuilder(uri, "PipelineRun", ctx)
        b.text("name", f"{last['job']['name']} {run_id}")
        b.ref("runOf", job_uri(last["job"]), "Pipeline")
        statuses = [EVENT_TYPES.get(e.get("eventType") or "OTHER") for e in events]
        b.text("status", next((s for s in reversed(statuses) if s), "RUNNING"))
        facets: dict[str, Any] = {}
        for event in events:
            facets.update((event["run"].get("facets") or {}).items())
        started = next((e["eventTime"] for e in events if e.get("eventType") == "START"), None)
        nominal = (facets.get("nominalTime") or {}).get("nominalStartTime")
        b.time("startedAt", started or nominal or events[0]["eventTime"])
        ended = [e["eventTime"] for e in events if e.get("eventType") in _FINAL]
        b.time("endedAt", ended[-1] if ended else None)
        parent = (facets.get("parent") or {}).get("run") or {}
        if parent.get("runId"):
            b.ref("parentRun", run_uri(parent["runId"]), "PipelineRun")
        _facets(b, facets)
        for side, predicate in (("inputs", "readVersion"), ("outputs", "wroteVersion")):
            seen: dict[str, dict[str, Any]] = {}
            for event in events:
                for dataset in event.get(side) or []:
                    seen[f"{dataset['namespace']}/{dataset['name']}"] = dataset
            for dataset in seen.values():
                version = self._version(dataset, run_id, uri if side == "outputs" else None)
                b.ref(predicate, version.uri, "DatasetVersion").part(version)
        return b

    def _version(
        self, dataset: dict[str, Any], run_id: str, produced_by: AipUri | None
    ) -> EntityBuilder:
        """What a run read or wrote of a dataset: a version, written with the run."""
        v = EntityBuilder(version_uri(dataset, run_id), "DatasetVersion")
        label = v.uri.resource_id.rsplit(":", 1)[1]
        v.ref("versionOf", dataset_uri(dataset, self.namespaces), "Dataset")
        v.text("version", label).text("name", f"{dataset['name']}@{label}")
        v.ref("producedByRun", produced_by, "PipelineRun")
        facets = dataset.get("facets") or {}
        for field in (facets.get("schema") or {}).get("fields") or []:
            if isinstance(field, dict) and field.get("name"):
                v.text("schemaColumn", f"{field['name']}: {field.get('type') or ''}".rstrip(": "))
        stats = facets.get("outputStatistics") or (dataset.get("outputFacets") or {}).get(
            "outputStatistics"
        )
        if isinstance(stats, dict):
            v.integer("rowCount", stats.get("rowCount"))
        return v

    async def _job(
        self, uri: AipUri, events: list[dict[str, Any]], ctx: HydrationContext
    ) -> EntityBuilder:
        job = events[-1]["job"]
        b = EntityBuilder(uri, "Pipeline", ctx)
        b.text("name", job["name"]).text("namespace", job["namespace"])
        facets: dict[str, Any] = {}
        for event in events:
            facets.update((event["job"].get("facets") or {}).items())
        b.text("description", (facets.get("documentation") or {}).get("description"))
        owners = (facets.get("ownership") or {}).get("owners") or []
        emails = []
        for owner in owners:
            name = owner.get("name") if isinstance(owner, dict) else None
            if isinstance(name, str) and name:
                name = name.removeprefix("user:")
                if "@" in name:
                    emails.append(name)
                else:
                    b.text("tag", f"owner::{name}")
        await b.owners(emails)
        _facets(b, facets)
        # what it reads and writes: the datasets of its latest run
        latest = events[-1]["run"]["runId"]
        for event in events:
            if event["run"]["runId"] != latest:
                continue
            for dataset in event.get("inputs") or []:
                b.ref("readsDataset", dataset_uri(dataset, self.namespaces), "Dataset")
            for dataset in event.get("outputs") or []:
                b.ref("writesDataset", dataset_uri(dataset, self.namespaces), "Dataset")
        return b

    async def _dataset(
        self, uri: AipUri, events: list[dict[str, Any]], ctx: HydrationContext
    ) -> EntityBuilder:
        b = EntityBuilder(uri, "Dataset", ctx)
        facets: dict[str, Any] = {}
        named: dict[str, Any] | None = None
        for event in events:
            for dataset in [*(event.get("inputs") or []), *(event.get("outputs") or [])]:
                if dataset_uri(dataset, self.namespaces) == uri:
                    named = dataset
                    facets.update((dataset.get("facets") or {}).items())
        if named is None:  # recorded under this URI, but no longer naming it
            return b.text("name", uri.resource_id)
        b.text("name", named["name"]).text("namespace", named["namespace"])
        b.text("description", (facets.get("documentation") or {}).get("description"))
        source = (facets.get("dataSource") or {}).get("uri")
        if isinstance(source, str) and source:
            b.uri_literal("location", f"{source.rstrip('/')}/{named['name'].lstrip('/')}")
        _facets(b, facets)
        return b
