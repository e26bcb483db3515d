"""OpenLineage (``openlineage``) as one unit: producers (Airflow, Spark, dbt, the
``openlineage-python`` client) push their run events to ``POST /api/v1/lineage``;
``mapping.py`` checks them and folds them into jobs, runs and datasets
(``provider.py``)."""

from lifecyclegraph.providers.openlineage.provider import OpenLineageConfig, OpenLineageProvider

__all__ = ["OpenLineageConfig", "OpenLineageProvider"]
