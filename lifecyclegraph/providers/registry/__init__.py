"""The model registry (``registry``) as one unit: its provider (``provider.py``), its sandbox
fake (``fake.py``) and its demo world (``world.json``)."""

from lifecyclegraph.providers.registry.provider import RegistryProvider

__all__ = ["RegistryProvider"]
