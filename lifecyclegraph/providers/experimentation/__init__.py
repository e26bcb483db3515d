"""The experimentation platform (``experimentation``) as one unit: its provider
(``provider.py``), its sandbox fake (``fake.py``) and its demo world (``world.json``)."""

from lifecyclegraph.providers.experimentation.provider import ExperimentationProvider

__all__ = ["ExperimentationProvider"]
