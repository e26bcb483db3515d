"""lifecyclegraph as a running service: the service, the ASGI app, its routes and the
uvicorn helpers."""
