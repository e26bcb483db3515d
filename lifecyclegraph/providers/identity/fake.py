"""The identity platform in the sandbox: users and teams, found by email; a team's
members and its users' teams are kept symmetric.

>>> SYSTEM.kinds[1].event_types({"active": True}, {"active": False})
['user_deactivated']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lifecyclegraph.providers.fake import (
    Action,
    Aspect,
    FakeKind,
    FakeSystem,
    Lookup,
    Objects,
    Reference,
    WorldOps,
)

__all__ = ["SYSTEM"]

TEAM = FakeKind(
    "team",
    collection="teams",
    path="/api/v1/teams/{team_id}",
    doc="A team, its parent team and members.",
    key_fields=("id",),
    event_fields=("team_id",),
    required=("id", "name", "members"),
    rank=10,
    lists=("members",),
    defaults={"members": []},
    created="team_created",
    updated="team_updated",
    aspects=(Aspect("membership_changed", ("members",)),),
    references=(Reference("parent_team", "team"), Reference("members", "user", many=True)),
)

USER = FakeKind(
    "user",
    collection="users",
    path="/api/v1/users/{user_id}",
    doc="A user and the teams they belong to.",
    key_fields=("id",),
    event_fields=("user_id",),
    required=("id", "email", "display_name", "active", "teams"),
    rank=20,
    lists=("teams",),
    defaults={"active": True, "teams": []},
    created="user_created",
    updated="user_updated",
    aspects=(
        Aspect(
            "user_deactivated",
            ("active",),
            changed=lambda old, new: bool(old.get("active") and not new.get("active")),
        ),
    ),
    references=(Reference("teams", "team", many=True),),
)


def _put(world: WorldOps, kind: FakeKind, old: dict[str, Any] | None, new: dict[str, Any]) -> None:
    if kind.name == USER.name:
        teams = world.objects("team")
        for team_id in new["teams"]:
            if (team_id,) not in teams:
                world.unknown(f"user {new['id']}: no team {team_id!r}")
        for (team_id,), team in teams.items():
            inside = new["id"] in team["members"]
            if team_id in new["teams"] and not inside:
                team["members"] = [*team["members"], new["id"]]
            elif team_id not in new["teams"] and inside:
                team["members"] = [m for m in team["members"] if m != new["id"]]
    elif kind.name == TEAM.name:
        users = world.objects("user")
        for user_id in new["members"]:
            if (user_id,) not in users:
                world.unknown(f"team {new['id']}: no user {user_id!r}")
        for (user_id,), user in users.items():
            inside = new["id"] in user["teams"]
            if user_id in new["members"] and not inside:
                user["teams"] = [*user["teams"], new["id"]]
            elif user_id not in new["members"] and inside:
                user["teams"] = [t for t in user["teams"] if t != new["id"]]


def _remove(world: WorldOps, kind: FakeKind, key: tuple[str, ...], obj: dict[str, Any]) -> None:
    if kind.name == USER.name:  # they leave their teams
        for team in world.objects("team").values():
            team["members"] = [m for m in team["members"] if m != key[0]]
    elif kind.name == TEAM.name:  # its members leave it; its child teams lose their parent
        for user in world.objects("user").values():
            user["teams"] = [t for t in user["teams"] if t != key[0]]
        for team in world.objects("team").values():
            if team.get("parent_team") == key[0]:
                del team["parent_team"]


def _checks(objects: Objects) -> list[str]:
    """Membership is symmetric: a user's teams list them, a team's members list it."""
    out = []
    for (user_id,), user in objects["user"].items():
        for team_id in user["teams"]:
            joined = objects["team"].get((team_id,))
            if joined is not None and user_id not in joined["members"]:
                out.append(f"user {user_id}: team {team_id} does not list them as a member")
    for (team_id,), team in objects["team"].items():
        for user_id in team["members"]:
            member = objects["user"].get((user_id,))
            if member is not None and team_id not in member["teams"]:
                out.append(f"team {team_id}: member {user_id} does not list the team")
    return out


def _set_members(world: WorldOps, team_id: str, members: Sequence[str]) -> None:
    """Make ``members`` (user ids) the team's members; users' ``teams`` follow."""
    team = world.require("team", team_id)
    world.put("team", {**team, "members": list(members)}, create=False)


def _deactivate(world: WorldOps, user_id: str) -> None:
    """Mark a user inactive (``user_deactivated``); they stay in the identity API."""
    user = world.require("user", user_id)
    world.put("user", {**user, "active": False}, create=False)


SYSTEM = FakeSystem(
    "identity",
    kinds=(TEAM, USER),
    world="lifecyclegraph.providers.identity:world.json",
    lookups=(
        Lookup(
            "find_users",
            "/api/v1/users",
            'The users with an email: ``{"users": [...]}``, empty when nobody has it.',
            kind="user",
            param="email",
            field="email",
            wrap="users",
        ),
    ),
    actions=(
        Action(
            "members",
            '``{"team_id", "members": [user ids]}``: set a team\'s members '
            "(``membership_changed``).",
            ("team_id", "members"),
            _set_members,
        ),
        Action(
            "deactivate",
            '``{"user_id"}``: deactivate a user (``user_deactivated``).',
            ("user_id",),
            _deactivate,
        ),
    ),
    on_put=_put,
    on_remove=_remove,
    checks=_checks,
)
