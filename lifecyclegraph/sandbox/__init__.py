"""The sandbox: the six reference source systems, served from a demo world.

>>> from lifecyclegraph.sandbox.world import World
>>> World.load().get("test", "12345")["title"]
'Ranking Model v5 vs v4'
"""
