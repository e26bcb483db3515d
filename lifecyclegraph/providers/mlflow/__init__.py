"""MLflow (``mlflow``) as one unit: its provider (``provider.py``), which reads a tracking
server's REST API, and its registry webhooks (``webhooks.py``)."""

from lifecyclegraph.providers.mlflow.provider import MlflowConfig, MlflowProvider

__all__ = ["MlflowConfig", "MlflowProvider"]
