"""The integrity of a world: every reference between objects that does not resolve.

The references are the kinds' own (:class:`~lifecyclegraph.providers.fake.Reference`);
a reference to a kind no installed system serves is not checked. What is not a plain
reference (a model's current instance is one of its own, membership is symmetric...)
is each system's ``checks``. Owner and trigger emails are not references: an email
that identity does not know is a legitimate unresolved owner (see
:meth:`World.unknown_emails`).

>>> from lifecyclegraph.sandbox.world import World
>>> World.load().problems()
[]
"""

from __future__ import annotations

from lifecyclegraph.providers.fake import Objects
from lifecyclegraph.sandbox.systems import SystemTable

__all__ = ["problems"]


def problems(table: SystemTable, objects: Objects) -> list[str]:
    """Every dangling reference in ``objects`` (kind name -> key -> object), one line each."""
    out: list[str] = []
    for kind in table.kinds.values():
        for key, obj in objects[kind.name].items():
            where = f"{kind.name.replace('_', ' ')} {'/'.join(key)}"
            for ref in kind.references:
                if ref.kind not in objects:
                    continue
                for target in ref.keys(obj):
                    if target not in objects[ref.kind]:
                        shown = "/".join(map(str, target))
                        out.append(f"{where}: no {ref.kind.replace('_', ' ')} {shown!r}")
    for fake in table.systems.values():
        if fake.checks is not None:
            out += fake.checks(objects)
    return out
