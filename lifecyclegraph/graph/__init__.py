"""The graph: the one door every caller above the store uses, and its implementation.

* ``door.py``: :class:`Graph`, the door (reads, queries, search, explanations, writes),
  and :class:`PastGraph`, the graph at a past time;
* ``embedded.py``: :class:`LifecycleGraph`, the graph on a store in this process;
* ``past.py``: :class:`GraphAsOf`, its view of a past time;
* ``remote.py``: :class:`RemoteGraph`, the graph of a running service over HTTP, and
  :func:`connect` (a URL or a store directory); ``wire.py``: the values on the wire;
* ``lineage.py``: lineage and impact, walked over any :class:`Graph`.
"""

from lifecyclegraph.graph.door import Graph, PastGraph
from lifecyclegraph.graph.embedded import LifecycleGraph
from lifecyclegraph.graph.past import GraphAsOf
from lifecyclegraph.graph.remote import RemoteGraph, connect

__all__ = ["Graph", "GraphAsOf", "LifecycleGraph", "PastGraph", "RemoteGraph", "connect"]
