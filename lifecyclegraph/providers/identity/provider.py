"""The identity platform (``identity``): users and teams; it resolves owner emails."""

from __future__ import annotations

from typing import Any, ClassVar

from lifecyclegraph.core.uris import AipUri
from lifecyclegraph.core.vocab import LG
from lifecyclegraph.providers.base import Hydrated, HydrationContext
from lifecyclegraph.providers.normalize import EntityBuilder
from lifecyclegraph.providers.reference import ReferenceProvider, kinds, segment

__all__ = ["IdentityProvider"]

P = "identity"


class IdentityProvider(ReferenceProvider):
    """Users (``/api/v1/users/{id}``, ``?email=``) and teams (``/api/v1/teams/{id}``)."""

    platform_id = P
    fake = "lifecyclegraph.providers.identity.fake:SYSTEM"
    events = (
        *kinds(P, "user", "User", ("user_id",), "user_created", "user_updated", "user_deactivated"),
        *kinds(
            P, "team", "Team", ("team_id",), "team_created", "team_updated", "membership_changed"
        ),
    )
    component_types: ClassVar[dict[str, str]] = {"user": LG.User.value, "team": LG.Team.value}
    resolves_emails = True

    async def resolve_email(self, email: str) -> str | None:
        fetched = await self.client.get("/api/v1/users", {"email": email})
        users = (fetched.body or {}).get("users") if fetched.status == 200 else None
        for user in users or []:
            if isinstance(user, dict) and user.get("id"):
                return str(AipUri("user", P, str(user["id"])))
        return None

    async def hydrate(
        self, uri: AipUri, ctx: HydrationContext, hint: str | None = None
    ) -> Hydrated:
        if uri.component_type == "user":
            body, seen = await self.fetch(f"/api/v1/users/{segment(uri.resource_id)}")
            return self.done(str(uri), None if body is None else self._user(uri, body, ctx), seen)
        body, seen = await self.fetch(f"/api/v1/teams/{segment(uri.resource_id)}")
        return self.done(str(uri), None if body is None else self._team(uri, body, ctx), seen)

    def _user(self, uri: AipUri, body: dict[str, Any], ctx: HydrationContext) -> EntityBuilder:
        b = EntityBuilder(uri, "User", ctx)
        b.text("email", body.get("email")).text("name", body.get("display_name"))
        b.boolean("active", body.get("active"))
        for team in body.get("teams") or []:
            b.ref("memberOf", AipUri("team", P, team), "Team")
        return b

    def _team(self, uri: AipUri, body: dict[str, Any], ctx: HydrationContext) -> EntityBuilder:
        b = EntityBuilder(uri, "Team", ctx)
        b.text("name", body.get("name"))
        parent = body.get("parent_team")
        b.ref("parentTeam", AipUri("team", P, parent) if parent else None, "Team")
        for member in body.get("members") or []:
            b.ref("hasMember", AipUri("user", P, member), "User")
        return b
