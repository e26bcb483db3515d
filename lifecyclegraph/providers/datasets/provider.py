"""The dataset platform (``datasets``): datasets and their versions."""

from __future__ import annotations

from typing import Any, ClassVar

from lifecyclegraph.core.uris import AipUri
from lifecyclegraph.core.vocab import LG
from lifecyclegraph.providers.base import Hydrated, HydrationContext
from lifecyclegraph.providers.normalize import EntityBuilder
from lifecyclegraph.providers.reference import ReferenceProvider, kinds, segment

__all__ = ["DatasetsProvider"]

P = "datasets"


class DatasetsProvider(ReferenceProvider):
    """Datasets (``/api/v1/datasets/{id}``) and versions (``.../versions/{version}``).

    A version's resource id is ``{dataset_id}:{version}``; it is split at the first
    ``:`` (a version, often a timestamp, may hold more).
    """

    platform_id = P
    fake = "lifecyclegraph.providers.datasets.fake:SYSTEM"
    events = (
        *kinds(
            P,
            "dataset",
            "Dataset",
            ("dataset_id",),
            "dataset_created",
            "dataset_updated",
            "dataset_deleted",
        ),
        *kinds(
            P,
            "dataset-version",
            "DatasetVersion",
            ("dataset_id", "version"),
            "dataset_version_created",
        ),
    )
    component_types: ClassVar[dict[str, str]] = {
        "dataset": LG.Dataset.value,
        "dataset-version": LG.DatasetVersion.value,
    }

    async def hydrate(
        self, uri: AipUri, ctx: HydrationContext, hint: str | None = None
    ) -> Hydrated:
        if uri.component_type == "dataset-version":
            dataset, _, version = uri.resource_id.partition(":")
            body, seen = await self.fetch(
                f"/api/v1/datasets/{segment(dataset)}/versions/{segment(version)}"
            )
            return self.done(
                str(uri),
                None if body is None else self._version(uri, dataset, version, body, ctx),
                seen,
            )
        body, seen = await self.fetch(f"/api/v1/datasets/{segment(uri.resource_id)}")
        return self.done(
            str(uri), None if body is None else await self._dataset(uri, body, ctx), seen
        )

    async def _dataset(
        self, uri: AipUri, body: dict[str, Any], ctx: HydrationContext
    ) -> EntityBuilder:
        b = EntityBuilder(uri, "Dataset", ctx)
        b.text("name", body.get("name")).text("description", body.get("description"))
        b.time("createdAt", body.get("created_at")).tags(body.get("labels"))
        for upstream in body.get("upstream") or []:
            b.ref("upstreamDataset", AipUri("dataset", P, upstream), "Dataset")
        latest = body.get("latest_version")
        b.ref(
            "latestVersion",
            AipUri("dataset-version", P, f"{uri.resource_id}:{latest}") if latest else None,
            "DatasetVersion",
        )
        await b.owners(body.get("owner_emails"))
        return b

    def _version(
        self, uri: AipUri, dataset: str, version: str, body: dict[str, Any], ctx: HydrationContext
    ) -> EntityBuilder:
        b = EntityBuilder(uri, "DatasetVersion", ctx)
        b.ref("versionOf", AipUri("dataset", P, dataset), "Dataset")
        b.text("version", body.get("version") or version).text("name", f"{dataset}@{version}")
        b.time("createdAt", body.get("created_at")).integer("rowCount", body.get("row_count"))
        run = body.get("produced_by_run")
        b.ref(
            "producedByRun",
            AipUri("pipeline-run", "orchestrator", run) if run else None,
            "PipelineRun",
        )
        for column in body.get("schema") or []:
            if isinstance(column, dict) and column.get("name"):
                b.text("schemaColumn", f"{column['name']}: {column.get('type', '')}".rstrip(": "))
        return b
