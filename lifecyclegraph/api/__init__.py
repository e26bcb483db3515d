"""The HTTP facade: a thin FastAPI layer over :class:`lifecyclegraph.service.Service`."""

from lifecyclegraph.api.app import create_app

__all__ = ["create_app"]
