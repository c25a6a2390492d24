"""The rate_limits and workspace_rate_limits streams against the simulator: exact records, requests, both shapes."""

from __future__ import annotations

import typing as t

import pytest

from tap_claude_developer import client as client_module
from tap_claude_developer.simulator import Fault, OrgSpec, Simulator
from tap_claude_developer.simulator.rate_limits import org_limits, workspace_limits
from tap_claude_developer.streams.rate_limits import RateLimitsStream, WorkspaceRateLimitsStream
from tests.fakes import FakeClock
from tests.helpers import Run, config_for, run_tap

SPECS = [
    OrgSpec("Acme", users=3, invites=0, workspaces=3, members_per_workspace=1, api_keys=0),
    OrgSpec("Globex", users=3, invites=0, workspaces=5, members_per_workspace=1, api_keys=0),
    OrgSpec("Initech", users=3, invites=0, workspaces=0, members_per_workspace=0, api_keys=0),
]
STREAMS = ("rate_limits", "workspace_rate_limits")
ORG_PATH = "/v1/organizations/rate_limits"


@pytest.fixture(scope="module")
def sim() -> t.Iterator[Simulator]:
    with Simulator(SPECS, seed=9) as simulator:
        yield simulator


@pytest.fixture(autouse=True)
def fresh(monkeypatch: pytest.MonkeyPatch, sim: Simulator) -> None:
    monkeypatch.setattr(client_module, "SYSTEM_CLOCK", FakeClock())
    sim.clear_requests()
    sim.clear_faults()


def columns(entry: dict[str, t.Any]) -> dict[str, t.Any]:
    group = entry["group"]
    return {"group_type": group["type"], "group_id": group["id"], "group_display_name": group.get("display_name")}


def expected(sim: Simulator) -> dict[str, list[dict[str, t.Any]]]:
    """The API's entries in API order (workspaces in listing order), each with its normalised columns."""
    out: dict[str, list[dict[str, t.Any]]] = {name: [] for name in STREAMS}
    for org in sim.orgs:
        out["rate_limits"] += [
            {**entry, "organization_id": org.id, **columns(entry)} for entry in org_limits(org, sim.seed)
        ]
        for workspace in org.workspaces[1:]:  # the Default Workspace has no entries
            out["workspace_rate_limits"] += [
                {
                    **entry,
                    "organization_id": org.id,
                    **columns(entry),
                    "has_workspace_override": any(limit["source"]["type"] == "workspace" for limit in entry["limits"]),
                }
                for entry in workspace_limits(org, sim.seed, workspace["id"], include_inherited=True)
            ]
    return out


def test_exact_records(sim: Simulator) -> None:
    run = run_tap(config_for(sim), streams=STREAMS)
    assert run.failures == []
    want = expected(sim)
    assert run.records("rate_limits") == want["rate_limits"]
    assert run.records("workspace_rate_limits") == want["workspace_rate_limits"]
    assert (len(want["rate_limits"]), len(want["workspace_rate_limits"])) == (3 * 8, (3 + 5) * 8)
    overrides = [r["has_workspace_override"] for r in run.records("workspace_rate_limits")]
    assert overrides.count(True) >= 8  # at least one override per workspace
    assert False in overrides


def test_keys_are_never_null(sim: Simulator) -> None:
    run = run_tap(config_for(sim), streams=STREAMS)
    for stream_class in (RateLimitsStream, WorkspaceRateLimitsStream):
        records = run.records(stream_class.name)
        keys = [tuple(record[name] for name in stream_class.primary_keys) for record in records]
        assert all(None not in key for key in keys)
        assert len(set(keys)) == len(keys)


def test_one_request_per_organization_and_per_workspace(sim: Simulator) -> None:
    run_tap(config_for(sim), streams=STREAMS)
    org_requests = [r for r in sim.requests if r.path == ORG_PATH]
    assert sorted(r.org_id for r in org_requests) == sorted(org.id for org in sim.orgs)
    assert all(r.query == [] for r in org_requests)  # no limit: every entry in one page
    workspace_requests = [r for r in sim.requests if r.path.endswith("/rate_limits") and r.path != ORG_PATH]
    wanted = sorted(f"/v1/organizations/workspaces/{w['id']}/rate_limits" for org in sim.orgs for w in org.workspaces)
    assert sorted(r.path for r in workspace_requests) == wanted  # the Default Workspace's too: it answers 404
    assert {tuple(r.query) for r in workspace_requests} == {(("include_inherited", "true"),)}
    assert sorted(r.status for r in workspace_requests) == [200] * 8 + [404] * 3


def test_next_page_is_followed_until_null(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rate-limit lists do not page today but may (admin-api.md §12.11): ask for pages of 3 to see the walk."""
    monkeypatch.setattr(RateLimitsStream, "query", (("limit", "3"),))
    run = run_tap(config_for(sim), streams=["rate_limits"])
    assert run.records("rate_limits") == expected(sim)["rate_limits"]
    pages = [dict(r.query) for r in sim.requests if r.path == ORG_PATH and r.org_id == sim.orgs[0].id]
    assert len(pages) == 3  # 8 entries
    assert ["page" in page for page in pages].count(True) == 2


def test_both_entry_shapes_normalise_to_the_same_columns() -> None:
    with Simulator(SPECS, seed=9) as current, Simulator(SPECS, seed=9, rate_limit_shape="legacy") as legacy:
        new = run_tap(config_for(current), streams=STREAMS)
        old = run_tap(config_for(legacy), streams=STREAMS)
    for stream in STREAMS:
        assert len(new.records(stream)) == len(old.records(stream)) > 0
        for n, o in zip(new.records(stream), old.records(stream), strict=True):
            assert list(n) == list(o)  # the same columns, in the same order
            assert o["group"] is None
            assert (o["group_id"], o["group_display_name"]) == (None, None)  # the older shape does not have them
            assert o["group_type"] == n["group_type"] == n["group"]["type"]
            unchanged = set(n) - {"group", "group_id", "group_display_name"}
            assert {k: o[k] for k in unchanged} == {k: n[k] for k in unchanged}


def test_a_complete_sync_activates_the_new_version(sim: Simulator) -> None:
    run = run_tap(config_for(sim), streams=STREAMS)
    assert [m["stream"] for m in run.of_type("ACTIVATE_VERSION")] == list(STREAMS)
    versions = {m["version"] for m in run.of_type("ACTIVATE_VERSION")}
    assert {m["version"] for m in run.of_type("RECORD")} == versions


def test_a_failed_organization_holds_back_deletions(sim: Simulator) -> None:
    """A permanent error (a 400; a 403 would mean "no such feature" and skip the stream) fails only Globex."""
    sim.add_fault(Fault(path="/v1/organizations/workspaces/[^/]+/rate_limits$", org_index=1, status=400, times=None))
    run: Run = run_tap(config_for(sim), streams=STREAMS)
    assert len(run.failures) == 1
    assert "organization 'Globex'" in run.failures[0]
    assert "stream 'workspace_rate_limits'" in run.failures[0]
    assert [m["stream"] for m in run.of_type("ACTIVATE_VERSION")] == ["rate_limits"]
    assert run.records("rate_limits") == expected(sim)["rate_limits"]
    globex = sim.orgs[1].id
    want = [r for r in expected(sim)["workspace_rate_limits"] if r["organization_id"] != globex]
    assert run.records("workspace_rate_limits") == want
