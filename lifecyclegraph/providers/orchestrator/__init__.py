"""The pipeline orchestrator (``orchestrator``) as one unit: its provider
(``provider.py``), its sandbox fake (``fake.py``) and its demo world (``world.json``)."""

from lifecyclegraph.providers.orchestrator.provider import OrchestratorProvider

__all__ = ["OrchestratorProvider"]
