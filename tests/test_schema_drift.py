"""Whatever the API adds or changes, parsing never crashes: it keeps, nulls, ignores, or says why."""

from __future__ import annotations

import decimal
import typing as t

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tap_claude_developer.pagination import Chain
from tap_claude_developer.records import RecordShape, SchemaDriftError
from tap_claude_developer.simulator import Fault, OrgSpec, Simulator
from tap_claude_developer.sync_run import Organization
from tap_claude_developer.tap import TapClaudeDeveloper
from tests.helpers import config_for, run_tap

KEY = "sk-ant-admin01-" + "q" * 60
ORG = Organization(0, "11111111-2222-3333-4444-555555555555", "Drift Inc", {})
DATA = Simulator([OrgSpec("Drift", users=8, invites=8, workspaces=4, members_per_workspace=3, api_keys=12)], seed=4)
SAMPLES = {
    "users": DATA.orgs[0].users,
    "invites": DATA.orgs[0].invites,
    "workspaces": DATA.orgs[0].workspaces,
    "workspace_members": [m for members in DATA.orgs[0].members.values() for m in members],
    "api_keys": DATA.orgs[0].api_keys,
}
TAP = TapClaudeDeveloper(config={"admin_api_keys": [KEY]}, parse_env_config=False)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def parse(stream_name: str, items: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    stream = TAP.streams[stream_name]
    page = {"data": items, "has_more": False, "first_id": None, "last_id": None}
    chain = Chain(0, "/v1/organizations/" + stream_name)
    return [stream._shape.conform(r, chain.path) for r in stream.records(page, chain, ORG)]  # type: ignore[attr-defined]


def properties(stream_name: str) -> list[str]:
    return list(TAP.streams[stream_name].schema["properties"])


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    stream_name=st.sampled_from(sorted(SAMPLES)),
    extra=st.dictionaries(st.text(min_size=1, max_size=12), JSON, max_size=4),
    pick=st.integers(min_value=0, max_value=50),
)
def test_unknown_fields_are_ignored(stream_name: str, extra: dict[str, t.Any], pick: int) -> None:
    item = SAMPLES[stream_name][pick % len(SAMPLES[stream_name])]
    known = set(item) | set(properties(stream_name))
    drifted = {**{k: v for k, v in extra.items() if k not in known}, **item}
    (record,) = parse(stream_name, [drifted])
    assert list(record) == properties(stream_name)
    assert {k: record[k] for k in item if k in record} == {k: v for k, v in item.items() if k in record}
    msgspec.json.encode(record)


TEXT_FIELDS = {
    "users": ["role", "type", "name", "email"],
    "invites": ["role", "status", "type", "email"],
    "workspaces": ["name", "display_color", "type"],
    "workspace_members": ["workspace_role", "type"],
    "api_keys": ["status", "name", "type"],
}


@settings(max_examples=80, deadline=None)
@given(
    stream_name=st.sampled_from(sorted(TEXT_FIELDS)),
    value=st.text(),  # new enum values, unicode, empty strings
    field_pick=st.integers(min_value=0, max_value=10),
)
def test_new_enum_values_and_unicode_are_data(stream_name: str, value: str, field_pick: int) -> None:
    field = TEXT_FIELDS[stream_name][field_pick % len(TEXT_FIELDS[stream_name])]
    item = {**SAMPLES[stream_name][0], field: value}
    (record,) = parse(stream_name, [item])
    assert record[field] == value


OPTIONAL = {
    "users": ["email", "name", "role", "added_at", "type"],
    "invites": ["accepted_at", "expires_at", "rbac_group_ids", "status"],
    "workspaces": ["archived_at", "tags", "data_residency", "external_key_id"],
    "api_keys": ["created_by", "principal", "expires_at", "partial_key_hint", "scope"],
}


@settings(max_examples=60, deadline=None)
@given(stream_name=st.sampled_from(sorted(OPTIONAL)), drop=st.data())
def test_missing_or_null_optional_fields_become_null(stream_name: str, drop: st.DataObject) -> None:
    gone = drop.draw(st.sets(st.sampled_from(OPTIONAL[stream_name]), min_size=1))
    nulled = drop.draw(st.booleans())
    item = dict(SAMPLES[stream_name][1])
    for name in gone:
        if nulled:
            item[name] = None
        else:
            item.pop(name, None)
    (record,) = parse(stream_name, [item])
    assert all(record[name] is None for name in gone if name in record)


@given(st.sampled_from(sorted(SAMPLES)))
def test_an_empty_page_is_no_records(stream_name: str) -> None:
    assert parse(stream_name, []) == []


WRONG = st.one_of(
    st.integers(), st.lists(st.integers(), max_size=2), st.dictionaries(st.text(), st.integers(), max_size=2)
)


@settings(max_examples=80, deadline=None)
@given(stream_name=st.sampled_from(sorted(SAMPLES)), field_pick=st.integers(0, 50), wrong=WRONG)
def test_a_wrong_type_fails_naming_stream_and_field(stream_name: str, field_pick: int, wrong: object) -> None:
    item = dict(SAMPLES[stream_name][0])
    strings = [k for k, v in item.items() if isinstance(v, str) and k in properties(stream_name)]
    field = strings[field_pick % len(strings)]
    item[field] = wrong
    with pytest.raises(SchemaDriftError) as error:
        parse(stream_name, [item])
    assert f"stream '{stream_name}' field '{field}'" in str(error.value)


def test_a_page_without_data_is_a_clear_error() -> None:
    with pytest.raises(SchemaDriftError, match="the response has no 'data' list of objects"):
        list(TAP.streams["users"].records({"items": []}, Chain(0, "/v1/organizations/users"), ORG))  # type: ignore[attr-defined]


def test_record_shape_rules() -> None:
    shape = RecordShape(
        "demo",
        {
            "properties": {
                "id": {"type": ["string"]},
                "count": {"type": ["integer", "null"]},
                "amount": {"type": ["number", "null"]},
                "flag": {"type": ["boolean", "null"]},
                "geos": {"anyOf": [{"type": "array"}, {"type": "string"}, {"type": "null"}]},
            }
        },
    )
    assert shape.conform({"id": "a", "count": 3, "extra": 1}, "/p") == {
        "id": "a",
        "count": 3,
        "amount": None,
        "flag": None,
        "geos": None,
    }
    assert (
        shape.conform({"id": "a", "amount": decimal.Decimal("1.5"), "geos": "unrestricted"}, "/p")["geos"]
        == "unrestricted"
    )
    with pytest.raises(SchemaDriftError, match="field 'id' is missing or null"):
        shape.conform({"count": 1}, "/p")
    with pytest.raises(SchemaDriftError, match="field 'count' should be integer or null, got boolean"):
        shape.conform({"id": "a", "count": True}, "/p")
    with pytest.raises(SchemaDriftError, match="field 'flag' should be boolean or null, got integer"):
        shape.conform({"id": "a", "flag": 1}, "/p")


def test_an_organization_of_the_wrong_shape_fails_that_organization_with_a_clear_line() -> None:
    """Found by attack: /me's record skipped the type checks, and target-postgres failed the whole run."""
    specs = [OrgSpec("Acme", users=1, invites=0, workspaces=0, api_keys=0)] * 2
    with Simulator(specs, seed=3) as sim:
        me = '{"id": "org-odd", "type": "organization", "name": 42}'
        sim.add_fault(Fault(path="/v1/organizations/me$", status=200, body=me, org_index=1, times=None))
        run = run_tap(config_for(sim), streams=["organizations"])
    assert run.failures == [
        "organization '' (org-odd), stream 'organizations': GET /v1/organizations/me failed: HTTP 200: "
        "stream 'organizations' field 'name' should be string or null, got integer"
    ]
    assert [r["organization_id"] for r in run.records("organizations")] == [sim.orgs[0].id]
    assert run.of_type("ACTIVATE_VERSION") == []
