"""The experimentation platform in the sandbox: A/B tests; their traffic split changes.

>>> old = {"cells": [{"cell_number": 1, "allocation_pct": 50}]}
>>> SYSTEM.kinds[0].event_types(old, {"cells": [{"cell_number": 1, "allocation_pct": 60}]})
['ab_test_allocation_changed']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lifecyclegraph.providers.fake import Action, Aspect, FakeKind, FakeSystem, WorldOps

__all__ = ["SYSTEM"]


def _shares(obj: Mapping[str, Any]) -> list[Any]:
    return [(c.get("cell_number"), c.get("allocation_pct")) for c in obj["cells"]]


def _without_shares(obj: Mapping[str, Any]) -> dict[str, Any]:
    cells = [{k: v for k, v in c.items() if k != "allocation_pct"} for c in obj["cells"]]
    return {**obj, "cells": cells}


TEST = FakeKind(
    "test",
    collection="tests",
    path="/api/v1/tests/{test_id}",
    doc="An A/B test and its cells.",
    key_fields=("test_id",),
    event_fields=("test_id",),
    required=(
        "test_id", "title", "status", "description", "owner_emails", "start_date",
        "end_date", "cells",
    ),
    rank=80,
    enums={"status": ("DRAFT", "ACTIVE", "CONCLUDED")},
    lists=("owner_emails", "cells"),
    defaults={
        "status": "DRAFT", "description": "", "owner_emails": [], "end_date": None, "cells": [],
    },
    now_defaults=("start_date",),
    created="ab_test_created",
    updated="ab_test_updated",
    deleted="ab_test_deleted",
    aspects=(
        Aspect(
            "ab_test_allocation_changed",
            ("cells",),
            changed=lambda old, new: _shares(old) != _shares(new),
            strip=_without_shares,
        ),
    ),
    emails=("owner_emails",),
)  # fmt: skip


def _set_allocation(world: WorldOps, test_id: str, allocations: Mapping[int | str, float]) -> None:
    """Change the traffic share of an A/B test's cells (cell number -> percent); the
    shares of all cells must add up to 100."""
    test = world.require("test", test_id)
    wanted = {int(number): pct for number, pct in allocations.items()}
    cells = {cell["cell_number"]: cell for cell in test["cells"]}
    unknown = sorted(set(wanted) - set(cells))
    if unknown:
        world.unknown(f"test {test_id} has no cell {unknown[0]}")
    for number, pct in wanted.items():
        cells[number]["allocation_pct"] = pct
    total = sum(cell["allocation_pct"] for cell in test["cells"])
    if abs(total - 100) > 1e-9:
        world.refuse(f"the cells of test {test_id} would add up to {total}%, not 100%")


SYSTEM = FakeSystem(
    "experimentation",
    kinds=(TEST,),
    world="lifecyclegraph.providers.experimentation:world.json",
    actions=(
        Action(
            "allocation",
            '``{"test_id", "allocations": {"1": 30, "2": 70}}``: change an A/B test\'s '
            "traffic split.",
            ("test_id", "allocations"),
            _set_allocation,
        ),
    ),
)
