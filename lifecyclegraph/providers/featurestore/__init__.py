"""The feature store (``featurestore``) as one unit: its provider (``provider.py``), its sandbox
fake (``fake.py``) and its demo world (``world.json``)."""

from lifecyclegraph.providers.featurestore.provider import FeatureStoreProvider

__all__ = ["FeatureStoreProvider"]
