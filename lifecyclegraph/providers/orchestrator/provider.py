"""The pipeline orchestrator (``orchestrator``): pipelines and their runs."""

from __future__ import annotations

from typing import Any, ClassVar

from lifecyclegraph.core.uris import AipUri
from lifecyclegraph.core.vocab import LG
from lifecyclegraph.providers.base import Hydrated, HydrationContext
from lifecyclegraph.providers.normalize import EntityBuilder
from lifecyclegraph.providers.reference import ReferenceProvider, kinds, segment

__all__ = ["OrchestratorProvider"]

P = "orchestrator"


class OrchestratorProvider(ReferenceProvider):
    """Pipelines (``/api/v1/pipelines/{name}``) and runs (``/api/v1/pipeline-runs/{id}``)."""

    platform_id = P
    fake = "lifecyclegraph.providers.orchestrator.fake:SYSTEM"
    events = (
        *kinds(
            P,
            "pipeline",
            "Pipeline",
            ("pipeline",),
            "pipeline_created",
            "pipeline_updated",
            "pipeline_deleted",
        ),
        *kinds(
            P,
            "pipeline-run",
            "PipelineRun",
            ("run_id",),
            "pipeline_run_started",
            "pipeline_run_completed",
            "pipeline_run_failed",
        ),
    )
    component_types: ClassVar[dict[str, str]] = {
        "pipeline": LG.Pipeline.value,
        "pipeline-run": LG.PipelineRun.value,
        "schedule": LG.Pipeline.value,
        "run-attempt": LG.PipelineRun.value,
    }

    async def hydrate(
        self, uri: AipUri, ctx: HydrationContext, hint: str | None = None
    ) -> Hydrated:
        if uri.component_type == "schedule":
            return await self.hydrate(AipUri("pipeline", P, uri.resource_id), ctx)
        if uri.component_type == "run-attempt":
            run = uri.resource_id.rsplit(":", 1)[0]
            return await self.hydrate(AipUri("pipeline-run", P, run), ctx)
        if uri.component_type == "pipeline":
            body, seen = await self.fetch(f"/api/v1/pipelines/{segment(uri.resource_id)}")
            return self.done(
                str(uri), None if body is None else await self._pipeline(uri, body, ctx), seen
            )
        body, seen = await self.fetch(f"/api/v1/pipeline-runs/{segment(uri.resource_id)}")
        return self.done(str(uri), None if body is None else await self._run(uri, body, ctx), seen)

    async def _pipeline(
        self, uri: AipUri, body: dict[str, Any], ctx: HydrationContext
    ) -> EntityBuilder:
        b = EntityBuilder(uri, "Pipeline", ctx)
        b.text("name", body.get("name") or uri.resource_id).text(
            "description", body.get("description")
        )
        b.time("createdAt", body.get("created_at")).tags(body.get("labels"))
        for node in body.get("nodes") or []:
            if not isinstance(node, dict):
                continue
            for dataset in node.get("inputs") or []:
                b.ref("readsDataset", AipUri("dataset", "datasets", dataset), "Dataset")
            for dataset in node.get("outputs") or []:
                b.ref("writesDataset", AipUri("dataset", "datasets", dataset), "Dataset")
        schedule = body.get("schedule")
        if isinstance(schedule, dict) and schedule.get("cron"):
            part = EntityBuilder(AipUri("schedule", P, uri.resource_id), "Schedule", ctx)
            part.text("cron", schedule["cron"]).text("timezone", schedule.get("timezone"))
            part.text("name", schedule["cron"]).ref("scheduleOf", uri, "Pipeline")
            b.ref("hasSchedule", part.uri, "Schedule").part(part)
        await b.owners(body.get("owner_emails"))
        return b

    async def _run(self, uri: AipUri, body: dict[str, Any], ctx: HydrationContext) -> EntityBuilder:
        b = EntityBuilder(uri, "PipelineRun", ctx)
        pipeline = body.get("pipeline")
        b.text("name", uri.resource_id).text("status", body.get("status"))
        b.ref("runOf", AipUri("pipeline", P, pipeline) if pipeline else None, "Pipeline")
        b.time("startedAt", body.get("started_at")).time("endedAt", body.get("ended_at"))
        for cell in body.get("ab_test_cells") or []:
            if (
                isinstance(cell, dict)
                and cell.get("test_id")
                and cell.get("cell_number") is not None
            ):
                target = AipUri(
                    "ab-test-cell", "experimentation", f"{cell['test_id']}:{cell['cell_number']}"
                )
                b.ref("ranForCell", target, "ABTestCell")
        for field, predicate in (("inputs", "readVersion"), ("outputs", "wroteVersion")):
            for item in body.get(field) or []:
                if isinstance(item, dict) and item.get("dataset_id") and item.get("version"):
                    target = AipUri(
                        "dataset-version", "datasets", f"{item['dataset_id']}:{item['version']}"
                    )
                    b.ref(predicate, target, "DatasetVersion")
        trigger = body.get("triggered_by")
        if trigger:
            await b.owners([trigger], "triggeredBy", "triggeredByEmail")
        for attempt in body.get("attempts") or []:
            if not isinstance(attempt, dict) or attempt.get("attempt") is None:
                continue
            part = EntityBuilder(
                AipUri("run-attempt", P, f"{uri.resource_id}:{attempt['attempt']}"),
                "RunAttempt",
                ctx,
            )
            part.integer("attemptNumber", attempt["attempt"]).text("status", attempt.get("status"))
            part.time("startedAt", attempt.get("started_at")).time(
                "endedAt", attempt.get("ended_at")
            )
            part.text("name", f"{uri.resource_id} attempt {attempt['attempt']}")
            part.ref("attemptOf", uri, "PipelineRun")
            b.ref("hasAttempt", part.uri, "RunAttempt").part(part)
        return b
