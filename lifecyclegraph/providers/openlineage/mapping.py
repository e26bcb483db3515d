"""OpenLineage run events: checked with errors that say what and where, and named.

A run event (``https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent``)
says that a run of a job started, is running, completed, failed or was aborted, with
the datasets it read and wrote. Its names become AIP URIs:

- a job: ``aip://pipeline/openlineage/{namespace}/{name}`` (a ``Pipeline``);
- a run: ``aip://pipeline-run/openlineage/{runId}`` (a ``PipelineRun``);
- a dataset: ``aip://dataset/openlineage/{namespace}/{name}``, or, when its namespace
  is mapped to a platform id (``[sources.openlineage] namespaces``),
  ``aip://dataset/{platform}/{name}``: the dataset that platform's provider reads;
- what a run read or wrote of a dataset: ``aip://dataset-version/openlineage/
  {namespace}/{name}:{version}``, the version from the ``version`` dataset facet, or
  else the run id.

>>> event = {"eventTime": "2026-01-01T00:00:00Z", "eventType": "START",
...          "run": {"runId": "r1"}, "job": {"namespace": "etl", "name": "daily"},
...          "inputs": [{"namespace": "s3://b", "name": "raw"}]}
>>> check_run_event(event)["job"]["name"]
'daily'
>>> str(job_uri(event["job"]))
'aip://pipeline/openlineage/etl%2Fdaily'
>>> str(dataset_uri(event["inputs"][0], {"s3://b": "datasets"}))
'aip://dataset/datasets/raw'
>>> check_run_event({**event, "inputs": [{"namespace": "s3://b"}]})
Traceback (most recent call last):
...
lifecyclegraph.core.events.EventRejected: inputs[0].name: missing, or not a non-empty string
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lifecyclegraph.core.events import EventRejected
from lifecyclegraph.core.uris import AipUri
from lifecyclegraph.providers.normalize import parse_time

__all__ = [
    "EVENT_TYPES",
    "P",
    "check_run_event",
    "dataset_uri",
    "job_uri",
    "run_uri",
    "version_uri",
]

P = "openlineage"

#: OpenLineage event types -> the ontology's run statuses (``OTHER`` says nothing)
EVENT_TYPES = {
    "START": "RUNNING",
    "RUNNING": "RUNNING",
    "COMPLETE": "SUCCEEDED",
    "FAIL": "FAILED",
    "ABORT": "FAILED",
    "OTHER": None,
}


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise EventRejected(f"{where}: missing, or not a non-empty string")
    return value


def _object(value: Any, where: str, required: bool = True) -> dict[str, Any]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise EventRejected(f"{where}: missing, or not an object")
    return value


def check_run_event(event: Any) -> dict[str, Any]:
    """Check that ``event`` is a run event this service can take; return it.

    Checked: ``eventTime`` (RFC 3339), ``eventType`` (absent or one of the spec's),
    ``run.runId``, ``job.namespace``, ``job.name``, each input's and output's
    ``namespace`` and ``name``, and that facets are objects. Unknown fields are kept
    and ignored, as the spec asks.

    Raises:
        EventRejected: the first problem, named by its path (``inputs[1].name: ...``).
    """
    if not isinstance(event, dict):
        raise EventRejected("a run event must be a JSON object")
    time = _text(event.get("eventTime"), "eventTime")
    if parse_time(time) is None:
        raise EventRejected(f"eventTime: not an RFC 3339 date-time: {time[:60]!r}")
    kind = event.get("eventType")
    if kind is not None and kind not in EVENT_TYPES:
        raise EventRejected(f"eventType: {str(kind)[:40]!r} is not one of {', '.join(EVENT_TYPES)}")
    if "run" not in event and "dataset" in event:
        raise EventRejected("run: missing: a DatasetEvent; only run events are taken")
    run = _object(event.get("run"), "run")
    _text(run.get("runId"), "run.runId")
    _object(run.get("facets"), "run.facets", required=False)
    job = _object(event.get("job"), "job")
    _text(job.get("namespace"), "job.namespace")
    _text(job.get("name"), "job.name")
    _object(job.get("facets"), "job.facets", required=False)
    for side in ("inputs", "outputs"):
        datasets = event.get(side)
        if datasets is None:
            continue
        if not isinstance(datasets, list):
            raise EventRejected(f"{side}: not an array")
        for n, dataset in enumerate(datasets):
            where = f"{side}[{n}]"
            _object(dataset, where)
            _text(dataset.get("namespace"), f"{where}.namespace")
            _text(dataset.get("name"), f"{where}.name")
            _object(dataset.get("facets"), f"{where}.facets", required=False)
    parent = _object(run.get("facets"), "run.facets", required=False).get("parent")
    if parent is not None:
        _text(_object(_object(parent, "run.facets.parent").get("run"), "run.facets.parent.run")
              .get("runId"), "run.facets.parent.run.runId")  # fmt: skip
    return event


def _uri(component_type: str, platform: str, resource_id: str, where: str) -> AipUri:
    try:
        return AipUri(component_type, platform, resource_id)
    except ValueError as error:
        raise EventRejected(f"{where}: makes no valid URI: {error}") from None


def job_uri(job: Mapping[str, Any]) -> AipUri:
    """The pipeline a job is."""
    return _uri("pipeline", P, f"{job['namespace']}/{job['name']}", "job")


def run_uri(run_id: str) -> AipUri:
    """The pipeline run a run is."""
    return _uri("pipeline-run", P, run_id, "run.runId")


def dataset_uri(dataset: Mapping[str, Any], namespaces: Mapping[str, str]) -> AipUri:
    """The dataset an input or output names: on the platform its namespace is mapped
    to, or on ``openlineage``."""
    platform = namespaces.get(dataset["namespace"])
    if platform is not None:
        return _uri("dataset", platform, dataset["name"], "dataset")
    return _uri("dataset", P, f"{dataset['namespace']}/{dataset['name']}", "dataset")


def version_uri(dataset: Mapping[str, Any], run_id: str) -> AipUri:
    """The version of a dataset a run read or wrote: its ``version`` facet's, or the run's."""
    facets = dataset.get("facets") or {}
    version = (
        (facets.get("version") or {}).get("datasetVersion") if isinstance(facets, dict) else None
    )
    label = version if isinstance(version, str) and version else run_id
    return _uri(
        "dataset-version", P, f"{dataset['namespace']}/{dataset['name']}:{label}", "dataset"
    )
