"""MLflow (``mlflow``): registered models, model versions, runs, logged models, experiments.

The provider reads a tracking server's REST API (``/api/2.0/mlflow/...``) with the
source's HTTP client, as every provider does. ``docs/mlflow.md`` gives the mapping:
a registered model is a ``Model`` (``aip://model/mlflow/{name}``), a model version a
``ModelInstance`` (``aip://model/mlflow/{name}:{version}``), a run a ``PipelineRun``
of its experiment (a ``Pipeline``), a logged model a ``LoggedModel``, and a run's
input datasets ``Dataset`` s with their digests as ``DatasetVersion`` s.

>>> model_version_uri("rc-iris-classifier", "2")
AipUri('aip://model/mlflow/rc-iris-classifier:2')
>>> split_model_uri(AipUri("model", "mlflow", "rc-iris-classifier:2"), None)
('rc-iris-classifier', '2')
>>> split_model_uri(AipUri("model", "mlflow", "rc-iris-classifier"), None)
('rc-iris-classifier', None)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import Field, SecretStr

from lifecyclegraph.core.config import SourceConfig
from lifecyclegraph.core.events import EventKind, WebhookRejected
from lifecyclegraph.core.uris import AipUri, path_segment
from lifecyclegraph.core.vocab import LG
from lifecyclegraph.providers.base import Fetcher, Hydrated, HydrationContext, Provider
from lifecyclegraph.providers.mlflow.webhooks import decode, events_of, verify
from lifecyclegraph.providers.normalize import EntityBuilder
from lifecyclegraph.providers.reference import ReferenceProvider, kinds

__all__ = ["MlflowConfig", "MlflowProvider", "model_version_uri", "split_model_uri"]

P = "mlflow"
API = "/api/2.0/mlflow"

#: MLflow run statuses -> the ontology's pipeline run statuses
RUN_STATUS = {
    "RUNNING": "RUNNING",
    "SCHEDULED": "RUNNING",
    "FINISHED": "SUCCEEDED",
    "FAILED": "FAILED",
    "KILLED": "FAILED",
}


class MlflowConfig(SourceConfig):
    """``[sources.mlflow]``: the tracking server's URL (``url``, the client settings) and
    the registry webhooks' secret."""

    webhook_secret: SecretStr | None = Field(
        default=None,
        description="the secret registry webhooks were created with; deliveries whose "
        "X-MLflow-Signature does not match are refused (never shown)",
    )
    webhook_tolerance: float = Field(
        default=300.0,
        gt=0,
        allow_inf_nan=False,
        description="seconds a delivery's X-MLflow-Timestamp may differ from now",
    )
    current_alias: str = Field(
        default="champion",
        min_length=1,
        description="the alias whose version is the model's current instance (and LAUNCHED)",
    )


def model_version_uri(name: str, version: str | int) -> AipUri:
    """The URI of version ``version`` of registered model ``name``."""
    return AipUri("model", P, f"{name}:{version}")


def split_model_uri(uri: AipUri, hint: str | None) -> tuple[str, str | None]:
    """(registered model name, version or ``None``) of a ``model`` URI.

    A version's resource id is ``{name}:{version}`` with a whole-number version; the
    class hint, when given, decides (a registered model may be called ``a:1``).
    """
    name, sep, version = uri.resource_id.rpartition(":")
    is_version = bool(sep) and version.isdigit() and bool(name)
    if hint == LG.Model.value:
        is_version = False
    elif hint == LG.ModelInstance.value and sep:
        is_version = True
    return (name, version) if is_version else (uri.resource_id, None)


def _ms(value: Any) -> str | None:
    """An MLflow timestamp (milliseconds since the epoch) as RFC 3339."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(value / 1000, UTC).isoformat()
    return None


def _pairs(items: Any) -> list[tuple[str, Any]]:
    """``[{"key": k, "value": v}]`` (or ``{k: v}``) as (key, value) pairs."""
    if isinstance(items, dict):
        return [(str(k), v) for k, v in items.items()]
    return [
        (str(item["key"]), item.get("value"))
        for item in items or []
        if isinstance(item, dict) and item.get("key")
    ]


def _user_tags(b: EntityBuilder, items: Any) -> None:
    """Tags ``key::value``, without MLflow's own (``mlflow.*``)."""
    for key, value in _pairs(items):
        if not key.startswith("mlflow."):
            b.text("tag", f"{key}::{'' if value is None else value}")


class MlflowProvider(ReferenceProvider):
    """An MLflow tracking server and model registry, through its REST API.

    Registered models and their versions share the component type ``model`` (a
    version's resource id is ``{name}:{version}``); runs are pipeline runs of their
    experiment; a run's input datasets are written with the run, as its parts.
    """

    platform_id = P
    config_model = MlflowConfig
    events: ClassVar[tuple[EventKind, ...]] = (
        *kinds(
            P,
            "model",
            "Model",
            ("name",),
            "mlflow_registered_model_created",
            "mlflow_registered_model_updated",
            "mlflow_registered_model_deleted",
        ),
        *kinds(
            P,
            "model",
            "ModelInstance",
            ("name", "version"),
            "mlflow_model_version_created",
            "mlflow_model_version_updated",
            "mlflow_model_version_deleted",
        ),
        *kinds(P, "pipeline-run", "PipelineRun", ("run_id",), "mlflow_run_updated"),
        *kinds(P, "logged-model", "LoggedModel", ("model_id",), "mlflow_logged_model_updated"),
        *kinds(P, "pipeline", "Pipeline", ("experiment_id",), "mlflow_experiment_updated"),
    )
    component_types: ClassVar[dict[str, str]] = {
        "model": LG.Model.value,
        "pipeline-run": LG.PipelineRun.value,
        "pipeline": LG.Pipeline.value,
        "logged-model": LG.LoggedModel.value,
    }

    def __init__(self, client: Fetcher, config: MlflowConfig | None = None) -> None:
        super().__init__(client)
        self.config = config

    @classmethod
    def create(cls, config: SourceConfig, client: Fetcher) -> Provider:
        return cls(client, config if isinstance(config, MlflowConfig) else None)

    @property
    def current_alias(self) -> str:
        return self.config.current_alias if self.config else "champion"

    def webhook_events(self, headers: Mapping[str, str], body: bytes) -> list[dict[str, Any]]:
        """The events of a registry webhook delivery, once its signature is checked
        against ``webhook_secret`` (see :mod:`lifecyclegraph.providers.mlflow.webhooks`).

        Raises:
            WebhookRejected: ``404`` without a ``webhook_secret``; ``403`` for a bad or
                stale signature; ``400`` for a body that is no MLflow delivery.
        """
        secret = self.config.webhook_secret if self.config else None
        if self.config is None or secret is None:
            raise WebhookRejected(
                "webhooks of source 'mlflow' are off: set webhook_secret in [sources.mlflow]",
                404,
            )
        verify(headers, body, secret.get_secret_value(), self.config.webhook_tolerance)
        return events_of(decode(body))

    async def get(self, path: str, **params: str) -> tuple[dict[str, Any] | None, datetime]:
        """GET ``/api/2.0/mlflow/{path}``: the JSON object, or ``None`` on ``404``."""
        fetched = await self.client.get(f"{API}/{path}", params)
        return (fetched.body if fetched.status == 200 else None), fetched.fetched_at

    async def hydrate(
        self, uri: AipUri, ctx: HydrationContext, hint: str | None = None
    ) -> Hydrated:
        kind = uri.component_type
        if kind == "model":
            name, version = split_model_uri(uri, hint)
            if version is None:
                body, seen = await self.get("registered-models/get", name=name)
                model = body and body.get("registered_model")
                return self.done(str(uri), self._model(uri, model, ctx) if model else None, seen)
            body, seen = await self.get("model-versions/get", name=name, version=version)
            mv = body and body.get("model_version")
            return self.done(str(uri), self._version(uri, mv, ctx) if mv else None, seen)
        if kind == "pipeline-run":
            body, seen = await self.get("runs/get", run_id=uri.resource_id)
            run = body and body.get("run")
            return self.done(str(uri), await self._run(uri, run, ctx) if run else None, seen)
        if kind == "pipeline":
            body, seen = await self.get("experiments/get", experiment_id=uri.resource_id)
            exp = body and body.get("experiment")
            return self.done(str(uri), self._experiment(uri, exp, ctx) if exp else None, seen)
        else:  # logged-model
            body, seen = await self.get(f"logged-models/{path_segment(uri.resource_id)}")
            logged = body and body.get("model")
        return self.done(str(uri), self._logged(uri, logged, ctx) if logged else None, seen)

    # -- registry ----------------------------------------------------------------------

    def _model(self, uri: AipUri, body: dict[str, Any], ctx: HydrationContext) -> EntityBuilder:
        name = body.get("name") or uri.resource_id
        b = EntityBuilder(uri, "Model", ctx)
        b.text("name", name).text("description", body.get("description"))
        b.time("createdAt", _ms(body.get("creation_timestamp")))
        b.time("updatedAt", _ms(body.get("last_updated_timestamp")))
        _user_tags(b, body.get("tags"))
        for alias in body.get("aliases") or []:
            if isinstance(alias, dict) and alias.get("alias") and alias.get("version"):
                b.text("alias", f"{alias['alias']}={alias['version']}")
                if alias["alias"] == self.current_alias:
                    b.ref(
                        "currentInstance",
                        model_version_uri(name, alias["version"]),
                        "ModelInstance",
                    )
        return b

    def _version(self, uri: AipUri, body: dict[str, Any], ctx: HydrationContext) -> EntityBuilder:
        name, version = str(body.get("name")), str(body.get("version"))
        aliases = [a for a in body.get("aliases") or [] if isinstance(a, str) and a]
        stage = body.get("current_stage")
        b = EntityBuilder(uri, "ModelInstance", ctx)
        b.ref("instanceOf", AipUri("model", P, name), "Model")
        b.text("name", f"{name} v{version}").text("version", version)
        b.text("description", body.get("description"))
        b.text("status", _instance_state(stage, aliases, self.current_alias))
        if isinstance(stage, str) and stage not in ("", "None"):
            b.text("stage", stage)
        for alias in aliases:
            b.text("alias", alias)
        b.time("createdAt", _ms(body.get("creation_timestamp")))
        b.time("updatedAt", _ms(body.get("last_updated_timestamp")))
        _user_tags(b, body.get("tags"))
        run = body.get("run_id")
        b.ref("producedByRun", AipUri("pipeline-run", P, run) if run else None, "PipelineRun")
        source = body.get("source")
        if isinstance(source, str) and source.startswith("models:/m-"):
            logged = source.removeprefix("models:/")
            b.ref("loggedModel", AipUri("logged-model", P, logged), "LoggedModel")
        elif isinstance(source, str) and "://" in source:
            b.uri_literal("artifactUri", source)
        return b

    # -- tracking ----------------------------------------------------------------------

    def _experiment(
        self, uri: AipUri, body: dict[str, Any], ctx: HydrationContext
    ) -> EntityBuilder:
        b = EntityBuilder(uri, "Pipeline", ctx)
        b.text("name", body.get("name") or uri.resource_id)
        tags = dict(_pairs(body.get("tags")))
        b.text("description", tags.get("mlflow.note.content"))
        b.time("createdAt", _ms(body.get("creation_time")))
        b.time("updatedAt", _ms(body.get("last_update_time")))
        _user_tags(b, body.get("tags"))
        return b

    async def _run(self, uri: AipUri, body: dict[str, Any], ctx: HydrationContext) -> EntityBuilder:
        info, data = body.get("info") or {}, body.get("data") or {}
        b = EntityBuilder(uri, "PipelineRun", ctx)
        b.text("name", info.get("run_name") or uri.resource_id)
        b.text("status", RUN_STATUS.get(str(info.get("status"))))
        experiment = info.get("experiment_id")
        b.ref("runOf", AipUri("pipeline", P, str(experiment)) if experiment else None, "Pipeline")
        b.time("startedAt", _ms(info.get("start_time"))).time("endedAt", _ms(info.get("end_time")))
        b.uri_literal("location", info.get("artifact_uri"))
        user = info.get("user_id")
        if isinstance(user, str) and "@" in user:
            await b.owners([user], "triggeredBy", "triggeredByEmail")
        else:
            b.text("triggeredByName", user)
        for key, value in _pairs(data.get("params")):
            b.text("param", f"{key}={value}")
        for metric in data.get("metrics") or []:  # the latest value of each
            if isinstance(metric, dict) and metric.get("key"):
                b.text("metric", f"{metric['key']}={metric.get('value')}")
        _user_tags(b, data.get("tags"))
        inputs = (body.get("inputs") or {}).get("dataset_inputs") or []
        for item in inputs:
            dataset = item.get("dataset") if isinstance(item, dict) else None
            if isinstance(dataset, dict) and dataset.get("name") and dataset.get("digest"):
                b.part(self._dataset(dataset, item.get("tags"))).ref(
                    "readVersion", _dataset_version_uri(dataset), "DatasetVersion"
                )
        outputs = (body.get("outputs") or {}).get("model_outputs") or []
        for output in outputs:
            if isinstance(output, dict) and output.get("model_id"):
                target = AipUri("logged-model", P, str(output["model_id"]))
                b.ref("produced", target, "LoggedModel")
        return b

    @staticmethod
    def _dataset(dataset: dict[str, Any], tags: Any) -> EntityBuilder:
        """A run's input dataset and its digest (a version, with the input's tags, such
        as ``mlflow.data.context::training``): written with the run, as its parts (MLflow
        serves no dataset by name)."""
        name = str(dataset["name"])
        d = EntityBuilder(AipUri("dataset", P, name), "Dataset")
        d.text("name", name)
        v = EntityBuilder(_dataset_version_uri(dataset), "DatasetVersion")
        v.ref("versionOf", d.uri, "Dataset").text("version", dataset["digest"])
        v.text("name", f"{name}@{dataset['digest']}")
        source = _json_object(dataset.get("source"))
        v.uri_literal("location", source.get("uri") or source.get("url"))
        schema = _json_object(dataset.get("schema")).get("mlflow_colspec")
        for column in schema if isinstance(schema, list) else []:
            if isinstance(column, dict) and column.get("name"):
                v.text("schemaColumn", f"{column['name']}: {column.get('type', '')}".rstrip(": "))
        for key, value in _pairs(tags):
            v.text("tag", f"{key}::{value}")
        rows = _json_object(dataset.get("profile")).get("num_rows")
        v.integer("rowCount", rows if isinstance(rows, int) else None)
        d.ref("hasVersion", v.uri, "DatasetVersion")
        return d.part(v)

    def _logged(self, uri: AipUri, body: dict[str, Any], ctx: HydrationContext) -> EntityBuilder:
        info, data = body.get("info") or {}, body.get("data") or {}
        b = EntityBuilder(uri, "LoggedModel", ctx)
        b.text("name", info.get("name") or uri.resource_id)
        b.text("status", info.get("status"))
        b.time("createdAt", _ms(info.get("creation_timestamp_ms")))
        b.time("updatedAt", _ms(info.get("last_updated_timestamp_ms")))
        run = info.get("source_run_id")
        b.ref("producedByRun", AipUri("pipeline-run", P, run) if run else None, "PipelineRun")
        b.uri_literal("location", info.get("artifact_uri"))
        for key, value in _pairs(data.get("params")):
            b.text("param", f"{key}={value}")
        for metric in data.get("metrics") or []:
            if isinstance(metric, dict) and metric.get("key"):
                b.text("metric", f"{metric['key']}={metric.get('value')}")
        _user_tags(b, info.get("tags"))
        return b


def _instance_state(stage: Any, aliases: list[str], current_alias: str) -> str:
    """The ontology's state of a model version: ``LAUNCHED`` in ``Production`` or under
    the current alias, ``RETIRED`` when ``Archived``, ``STAGED`` otherwise."""
    if stage == "Production" or current_alias in aliases:
        return "LAUNCHED"
    if stage == "Archived":
        return "RETIRED"
    return "STAGED"


def _dataset_version_uri(dataset: dict[str, Any]) -> AipUri:
    return AipUri("dataset-version", P, f"{dataset['name']}:{dataset['digest']}")


def _json_object(text: Any) -> dict[str, Any]:
    """A JSON object MLflow keeps as text (a dataset's source, schema, profile), or ``{}``."""
    if not isinstance(text, str):
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
