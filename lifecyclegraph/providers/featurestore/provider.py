"""The feature store (``featurestore``): features."""

from __future__ import annotations

from typing import Any, ClassVar

from lifecyclegraph.core.uris import AipUri
from lifecyclegraph.core.vocab import LG
from lifecyclegraph.providers.base import Hydrated, HydrationContext
from lifecyclegraph.providers.normalize import EntityBuilder
from lifecyclegraph.providers.reference import ReferenceProvider, kinds, segment

__all__ = ["FeatureStoreProvider"]

P = "featurestore"


class FeatureStoreProvider(ReferenceProvider):
    """Features (``/api/v1/features/{feature_id}``)."""

    platform_id = P
    fake = "lifecyclegraph.providers.featurestore.fake:SYSTEM"
    events = kinds(
        P,
        "feature",
        "Feature",
        ("feature_id",),
        "feature_created",
        "feature_updated",
        "feature_deleted",
    )
    component_types: ClassVar[dict[str, str]] = {"feature": LG.Feature.value}

    async def hydrate(
        self, uri: AipUri, ctx: HydrationContext, hint: str | None = None
    ) -> Hydrated:
        body, seen = await self.fetch(f"/api/v1/features/{segment(uri.resource_id)}")
        return self.done(
            str(uri), None if body is None else await self._feature(uri, body, ctx), seen
        )

    async def _feature(
        self, uri: AipUri, body: dict[str, Any], ctx: HydrationContext
    ) -> EntityBuilder:
        b = EntityBuilder(uri, "Feature", ctx)
        b.text("name", body.get("name")).text("description", body.get("description"))
        b.text("valueType", body.get("value_type")).text("version", body.get("version"))
        b.time("createdAt", body.get("created_at")).tags(body.get("labels"))
        for dataset in body.get("source_datasets") or []:
            b.ref("sourceDataset", AipUri("dataset", "datasets", dataset), "Dataset")
        pipeline = body.get("pipeline")
        b.ref(
            "computedBy",
            AipUri("pipeline", "orchestrator", pipeline) if pipeline else None,
            "Pipeline",
        )
        await b.owners(body.get("owner_emails"))
        return b
