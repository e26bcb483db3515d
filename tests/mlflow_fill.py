"""Fill a real MLflow server with MLflow's own client: run in the MLflow venv, not ours.

``tests/test_mlflow.py`` runs this script with the python of the MLflow venv
(``tests/mlflow_venv.py``), so that lifecyclegraph's venv never imports ``mlflow``::

    <mlflow venv>/bin/python tests/mlflow_fill.py '{"tracking_url": ..., "webhook_url": ...,
        "secret": ...}'

It makes a registry webhook to ``webhook_url``, an experiment, a run with a param,
metrics and an input dataset, a logged model, a registered model with a version, an
alias and a tag, and prints what it made as one JSON object on stdout.
"""

from __future__ import annotations

import json
import sys


def main(arguments: dict[str, str]) -> dict[str, str]:
    from mlflow import MlflowClient
    from mlflow.entities import Dataset, DatasetInput, InputTag
    from mlflow.entities.webhook import WebhookEvent

    url = arguments["tracking_url"]
    client = MlflowClient(url, url)
    client.create_webhook(
        name="lifecyclegraph",
        url=arguments["webhook_url"],
        events=[
            WebhookEvent("model_version", "created"),
            WebhookEvent("model_version_alias", "created"),
            WebhookEvent("model_version_alias", "deleted"),
            WebhookEvent("model_version_tag", "set"),
            WebhookEvent("registered_model", "created"),
        ],
        secret=arguments["secret"],
    )
    experiment = client.create_experiment("lg-exp", tags={"team": "ml-platform"})
    run = client.create_run(experiment, run_name="train-1", tags={"pipeline": "rc-train"})
    run_id = run.info.run_id
    client.log_param(run_id, "C", "1.0")
    client.log_metric(run_id, "accuracy", 0.8, step=0)
    client.log_metric(run_id, "accuracy", 0.9, step=1)
    dataset = Dataset(
        "iris-train",
        "64becf55",
        "s3",
        json.dumps({"uri": "s3://bucket/data/train.parquet"}),
        json.dumps({"mlflow_colspec": [{"type": "double", "name": "x1", "required": True}]}),
        json.dumps({"num_rows": 4}),
    )
    client.log_inputs(
        run_id, datasets=[DatasetInput(dataset, [InputTag("mlflow.data.context", "training")])]
    )
    logged = client.create_logged_model(experiment, name="model", source_run_id=run_id)
    client.set_terminated(run_id)
    client.create_registered_model("lg-model", tags={"domain": "demo"}, description="d")
    version = client.create_model_version(
        "lg-model", source=f"models:/{logged.model_id}", run_id=run_id, model_id=logged.model_id
    )
    client.set_registered_model_alias("lg-model", "champion", version.version)
    client.set_model_version_tag("lg-model", version.version, "validated", "true")
    return {
        "experiment_id": str(experiment),
        "run_id": run_id,
        "logged_model_id": logged.model_id,
        "version": str(version.version),
    }


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
