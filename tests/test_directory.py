"""The directory streams against the simulator: exact records, exact requests, both key shapes."""

from __future__ import annotations

import math
import typing as t

import pytest

from tap_claude_developer.simulator import OrgSpec, Simulator
from tests.helpers import DIRECTORY, config_for, run_tap

SPECS = [
    OrgSpec("Acme Analytics", users=12, invites=5, workspaces=3, members_per_workspace=4, api_keys=9),
    OrgSpec("Globex Research", users=7, invites=3, workspaces=2, members_per_workspace=3, api_keys=5),
    OrgSpec("Initech Labs", users=0, invites=0, workspaces=0, members_per_workspace=0, api_keys=0),
]


@pytest.fixture(scope="module")
def sim() -> t.Iterator[Simulator]:
    with Simulator(SPECS, seed=11) as simulator:
        yield simulator


def expected(sim: Simulator) -> dict[str, list[dict[str, t.Any]]]:
    """What each stream must emit: the API's objects, in API order, with the organization id."""
    out: dict[str, list[dict[str, t.Any]]] = {name: [] for name in DIRECTORY}
    for org in sim.orgs:
        tag = {"organization_id": org.id}
        out["organizations"].append({"id": org.id, "name": org.name, "type": "organization", **tag})
        out["users"] += [{**user, **tag} for user in org.users]
        out["invites"] += [{**invite, **tag} for invite in org.invites]
        out["workspaces"] += [{**ws, **tag} for ws in org.workspaces]
        out["workspace_members"] += [
            {**member, **tag} for ws in org.workspaces for member in org.members.get(ws["id"], [])
        ]
        out["api_keys"] += [
            {
                **key,
                **tag,
                "workspace_id": key["scope"].get("workspace_id"),
                "scope_type": key["scope"]["type"],
                "principal_type": {"user_actor": "user", "service_account_actor": "service_account"}.get(
                    (key["principal"] or {}).get("type")
                ),
                "principal_id": (key["principal"] or {}).get("user_id")
                or (key["principal"] or {}).get("service_account_id"),
            }
            for key in org.api_keys
        ]
    return out


def test_every_directory_stream_emits_exactly_the_api_objects(sim: Simulator) -> None:
    run = run_tap(config_for(sim), streams=DIRECTORY)
    assert run.failures == []
    want = expected(sim)
    for stream in DIRECTORY:
        assert run.records(stream) == want[stream], stream
    assert [len(want[s]) for s in DIRECTORY] == [3, 19, 8, 8, 18, 14]
    assert len({r["organization_id"] for r in run.records("organizations")}) == 3


def test_requests_are_the_minimum_and_get_only(sim: Simulator) -> None:
    sim.clear_requests()
    run_tap(config_for(sim), streams=DIRECTORY)
    paths = [r.path for r in sim.requests]
    assert {r.method for r in sim.requests} == {"GET"}
    workspaces = sum(len(org.workspaces) for org in sim.orgs)
    # /me, users, invites, workspaces, api keys once per org; members once per workspace
    # (the Default Workspace's list is asked for too: it answers 404, which the tap cannot know ahead).
    assert len(paths) == 3 * 5 + workspaces
    assert paths.count("/v1/organizations/me") == 3
    assert all(dict(r.query).get("limit") in (None, "1000") for r in sim.requests)


def test_stream_order_and_messages(sim: Simulator) -> None:
    run = run_tap(config_for(sim), streams=DIRECTORY)
    schema_order = [m["stream"] for m in run.of_type("SCHEMA")]
    assert schema_order == sorted(DIRECTORY)  # the SDK syncs streams in name order
    activated = [m["stream"] for m in run.of_type("ACTIVATE_VERSION")]
    assert activated == sorted(DIRECTORY)
    versions = {m["version"] for m in run.of_type("ACTIVATE_VERSION")}
    assert len(versions) == 1
    assert {m["version"] for m in run.of_type("RECORD")} == versions
    assert run.last_state == {
        "bookmarks": {
            stream: {"partitions": [{"context": {"organization_id": org.id}} for org in sim.orgs]}
            for stream in DIRECTORY
        }
    }


@pytest.mark.parametrize("users", [0, 1, 1000, 1001, 2500])
def test_user_pagination_makes_the_minimum_requests(users: int) -> None:
    with Simulator([OrgSpec("Big", users=users, invites=0, workspaces=0, api_keys=0)], seed=3) as sim:
        run = run_tap(config_for(sim), streams=["users"])
        user_requests = [r for r in sim.requests if r.path == "/v1/organizations/users"]
        assert len(user_requests) == max(1, math.ceil(users / 1000))
        assert [dict(r.query).get("after_id") for r in user_requests] == [None] + [
            sim.orgs[0].users[1000 * page - 1]["id"] for page in range(1, len(user_requests))
        ]
        assert [r["id"] for r in run.records("users")] == [u["id"] for u in sim.orgs[0].users]


def test_page_size_setting_is_honoured() -> None:
    with Simulator([OrgSpec("Small pages", users=45, invites=0, workspaces=0, api_keys=0)], seed=3) as sim:
        run = run_tap(config_for(sim, page_size=20), streams=["users"])
        assert [dict(r.query)["limit"] for r in sim.requests if r.path.endswith("/users")] == ["20", "20", "20"]
        assert len(run.records("users")) == 45


def test_both_api_key_shapes_normalise_to_the_same_columns() -> None:
    spec = [OrgSpec("Keys", users=6, invites=0, workspaces=3, members_per_workspace=2, api_keys=40)]
    with Simulator(spec, seed=5) as current, Simulator(spec, seed=5, api_key_shape="legacy") as legacy:
        new = run_tap(config_for(current), streams=["api_keys"]).records("api_keys")
        old = run_tap(config_for(legacy), streams=["api_keys"]).records("api_keys")
        default_workspace = current.orgs[0].default_workspace_id
    assert len(new) == len(old) == 40
    assert {k["scope_type"] for k in new} == {"workspace", "organization"}
    assert {k["principal_type"] for k in new} == {None, "user", "service_account"}
    for n, o in zip(new, old, strict=True):
        assert n["id"] == o["id"]
        assert o["scope"] is None  # the older shape has no scope: a missing field becomes null
        assert "workspace_id" in o
        assert n["principal_type"] == o["principal_type"]
        assert n["principal_id"] == o["principal_id"]
        # The older shape says null for the Default Workspace and for organization-scoped keys.
        if n["scope_type"] == "organization" or n["workspace_id"] == default_workspace:
            assert o["workspace_id"] is None
        else:
            assert o["workspace_id"] == n["workspace_id"]
