"""The graph: the one door every caller above the store uses, and its implementations.

:class:`LifecycleGraph` (``embedded.py``) is the graph on a store in this process.
"""

from lifecyclegraph.graph.embedded import GraphAsOf, LifecycleGraph

__all__ = ["GraphAsOf", "LifecycleGraph"]
