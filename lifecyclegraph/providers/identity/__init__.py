"""The identity platform (``identity``) as one unit: its provider (``provider.py``), its sandbox
fake (``fake.py``) and its demo world (``world.json``)."""

from lifecyclegraph.providers.identity.provider import IdentityProvider

__all__ = ["IdentityProvider"]
