"""The model registry (``registry``): models and their instances."""

from __future__ import annotations

from typing import Any, ClassVar

from lifecyclegraph.core.uris import AipUri
from lifecyclegraph.core.vocab import LG
from lifecyclegraph.providers.base import Hydrated, HydrationContext
from lifecyclegraph.providers.normalize import EntityBuilder
from lifecyclegraph.providers.reference import ReferenceProvider, kinds, segment

__all__ = ["RegistryProvider"]

P = "registry"


class RegistryProvider(ReferenceProvider):
    """Models (``/api/v1/models/{id}``) and instances (``/api/v1/instances/{id}``).

    A model and its instances share the component type ``model``; the class hint (or,
    without one, trying models first and then instances) tells them apart.
    """

    platform_id = P
    fake = "lifecyclegraph.providers.registry.fake:SYSTEM"
    events = (
        *kinds(
            P, "model", "Model", ("model_id",), "model_created", "model_updated", "model_deleted"
        ),
        *kinds(
            P,
            "model",
            "ModelInstance",
            ("instance_id",),
            "model_instance_created",
            "model_instance_updated",
            "model_instance_deployed",
            "model_instance_deleted",
        ),
    )
    component_types: ClassVar[dict[str, str]] = {
        "model": LG.Model.value,
        "deployment": LG.ModelInstance.value,
    }

    async def hydrate(
        self, uri: AipUri, ctx: HydrationContext, hint: str | None = None
    ) -> Hydrated:
        if uri.component_type == "deployment":
            # a deployment is a part of its instance: hydrate the instance
            instance = uri.resource_id.split(":", 1)[0]
            return await self.hydrate(AipUri("model", P, instance), ctx, LG.ModelInstance.value)
        order = (
            ["instances", "models"] if hint == LG.ModelInstance.value else ["models", "instances"]
        )
        observed = None
        for collection in order:
            body, observed = await self.fetch(f"/api/v1/{collection}/{segment(uri.resource_id)}")
            if body is not None:
                build = self._model if collection == "models" else self._instance
                return self.done(str(uri), await build(uri, body, ctx), observed)
        assert observed is not None
        return self.gone(str(uri), observed)

    async def _model(
        self, uri: AipUri, body: dict[str, Any], ctx: HydrationContext
    ) -> EntityBuilder:
        b = EntityBuilder(uri, "Model", ctx)
        b.text("name", body.get("name")).text("description", body.get("description"))
        b.time("createdAt", body.get("created_at")).time("updatedAt", body.get("updated_at"))
        b.tags(body.get("labels"))
        current = body.get("current_instance_id")
        b.ref("currentInstance", AipUri("model", P, current) if current else None, "ModelInstance")
        await b.owners(body.get("owner_emails"))
        return b

    async def _instance(
        self, uri: AipUri, body: dict[str, Any], ctx: HydrationContext
    ) -> EntityBuilder:
        b = EntityBuilder(uri, "ModelInstance", ctx)
        model, run = body.get("model_id"), body.get("pipeline_run_id")
        b.ref("instanceOf", AipUri("model", P, model) if model else None, "Model")
        b.text("version", body.get("version")).text("status", body.get("state"))
        b.text("name", f"{model} v{body.get('version')}" if model else None)
        b.ref(
            "producedByRun",
            AipUri("pipeline-run", "orchestrator", run) if run else None,
            "PipelineRun",
        )
        for feature in body.get("features") or []:
            b.ref("usesFeature", AipUri("feature", "featurestore", feature), "Feature")
        b.uri_literal("artifactUri", body.get("artifact_uri"))
        b.time("createdAt", body.get("created_at")).tags(body.get("labels"))
        await b.owners(body.get("owner_emails"))
        for deployment in body.get("deployments") or []:
            if not isinstance(deployment, dict) or not deployment.get("env"):
                continue
            key = ":".join(
                str(v) for v in (uri.resource_id, deployment["env"], deployment.get("region")) if v
            )
            part = EntityBuilder(AipUri("deployment", P, key), "Deployment", ctx)
            part.ref("deploymentOf", uri, "ModelInstance")
            part.text("environment", deployment["env"]).text("region", deployment.get("region"))
            part.time("deployedAt", deployment.get("deployed_at"))
            part.text("name", f"{deployment['env']} {deployment.get('region') or ''}".strip())
            b.ref("hasDeployment", part.uri, "Deployment").part(part)
        return b
