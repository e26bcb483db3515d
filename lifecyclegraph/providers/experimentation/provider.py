"""The experimentation platform (``experimentation``): A/B tests and their cells."""

from __future__ import annotations

from typing import Any, ClassVar

from lifecyclegraph.core.uris import AipUri
from lifecyclegraph.core.vocab import LG
from lifecyclegraph.providers.base import Hydrated, HydrationContext
from lifecyclegraph.providers.normalize import EntityBuilder
from lifecyclegraph.providers.reference import ReferenceProvider, kinds, segment

__all__ = ["ExperimentationProvider"]

P = "experimentation"


class ExperimentationProvider(ReferenceProvider):
    """A/B tests (``/api/v1/tests/{test_id}``); a cell is hydrated through its test."""

    platform_id = P
    fake = "lifecyclegraph.providers.experimentation.fake:SYSTEM"
    events = kinds(
        P,
        "ab-test",
        "ABTest",
        ("test_id",),
        "ab_test_created",
        "ab_test_updated",
        "ab_test_allocation_changed",
        "ab_test_deleted",
    )
    component_types: ClassVar[dict[str, str]] = {
        "ab-test": LG.ABTest.value,
        "ab-test-cell": LG.ABTestCell.value,
    }

    async def hydrate(
        self, uri: AipUri, ctx: HydrationContext, hint: str | None = None
    ) -> Hydrated:
        if uri.component_type == "ab-test-cell":
            test = uri.resource_id.rsplit(":", 1)[0]
            return await self.hydrate(AipUri("ab-test", P, test), ctx)
        body, seen = await self.fetch(f"/api/v1/tests/{segment(uri.resource_id)}")
        return self.done(str(uri), None if body is None else await self._test(uri, body, ctx), seen)

    async def _test(
        self, uri: AipUri, body: dict[str, Any], ctx: HydrationContext
    ) -> EntityBuilder:
        b = EntityBuilder(uri, "ABTest", ctx)
        b.text("name", body.get("title")).text("status", body.get("status"))
        b.text("description", body.get("description")).tags(body.get("labels"))
        b.time("startDate", body.get("start_date")).time("endDate", body.get("end_date"))
        for cell in body.get("cells") or []:
            if not isinstance(cell, dict) or cell.get("cell_number") is None:
                continue
            part = EntityBuilder(
                AipUri("ab-test-cell", P, f"{uri.resource_id}:{cell['cell_number']}"),
                "ABTestCell",
                ctx,
            )
            part.integer("cellNumber", cell["cell_number"]).text("name", cell.get("name"))
            part.decimal("allocationPct", cell.get("allocation_pct")).ref("cellOf", uri, "ABTest")
            b.ref("hasCell", part.uri, "ABTestCell").part(part)
        await b.owners(body.get("owner_emails"))
        return b
