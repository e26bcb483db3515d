"""Source systems as units: each provider's sandbox fake agrees with the provider, and the
table the sandbox is made from gives exactly the sandbox it served before (kinds, event
types, routes: tests/golden/sandbox-systems.json, taken from the hand-written sandbox
before it was made from the table)."""

from __future__ import annotations

import json

import pytest

from lifecyclegraph.providers import available_providers
from lifecyclegraph.sandbox import World, create_app
from lifecyclegraph.sandbox.systems import SystemTable, load_fake


def _with_fakes() -> list[str]:
    return sorted(name for name, cls in available_providers().items() if cls.fake is not None)


def characterization() -> str:
    """The sandbox's systems, kinds, event types and OpenAPI paths, as JSON text."""
    table = SystemTable.installed()
    doc = create_app(World.load()).openapi()
    found = {
        "kinds": [
            {
                "name": k.name, "system": k.system, "collection": k.collection,
                "key_fields": list(k.key_fields), "event_fields": list(k.event_fields),
                "required": list(k.required), "lists": list(k.lists),
                "enums": {name: list(values) for name, values in k.enums.items()},
                "defaults": dict(k.defaults), "now_defaults": list(k.now_defaults),
            }
            for k in table.kinds.values()
        ],
        "systems": sorted(table.systems),
        "event_types": {t: [s, list(f)] for t, (s, f) in table.event_types.items()},
        "openapi_paths": doc["paths"],
        "openapi_schemas": sorted(doc.get("components", {}).get("schemas", {})),
    }  # fmt: skip
    return json.dumps(found, indent=1, sort_keys=True) + "\n"


def test_table_gives_the_kinds_event_types_and_routes_of_the_hand_written_sandbox(golden):
    golden("sandbox-systems.json", characterization())


@pytest.mark.parametrize("name", _with_fakes())
def test_every_event_a_fake_can_emit_is_one_of_its_providers_event_kinds(name):
    provider = available_providers()[name]
    fake = load_fake(provider)
    assert fake is not None
    declared = {k.event_type: k.id_fields for k in provider.events}
    for kind in fake.kinds:
        for event_type in kind.event_type_names():
            assert event_type in declared, f"{name}: {kind.name} emits {event_type}"
            assert declared[event_type] == kind.event_fields, (name, kind.name, event_type)


@pytest.mark.parametrize("name", _with_fakes())
def test_a_fakes_world_file_holds_only_its_own_kinds(name):
    fake = load_fake(available_providers()[name])
    assert fake is not None
    assert set(fake.demo_world()) <= {kind.collection for kind in fake.kinds}


@pytest.mark.parametrize("name", _with_fakes())
def test_every_reference_of_a_fake_names_a_served_kind(name):
    table = SystemTable.installed()
    fake = table.systems[available_providers()[name].platform_id]
    for kind in fake.kinds:
        for ref in kind.references:
            assert ref.kind in table.kinds, f"{name}: {kind.name}.{ref.field} -> {ref.kind}"


def test_every_kind_route_has_one_path_parameter_per_key_field():
    for kind in SystemTable.installed().kinds.values():
        assert kind.path.count("{") == len(kind.key_fields), kind.name
