"""The dataset platform (``datasets``) as one unit: its provider (``provider.py``), its sandbox
fake (``fake.py``) and its demo world (``world.json``)."""

from lifecyclegraph.providers.datasets.provider import DatasetsProvider

__all__ = ["DatasetsProvider"]
