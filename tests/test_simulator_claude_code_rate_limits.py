"""Simulator behaviour of the Claude Code report and the rate-limit lists (admin-api.md §5.9 to §5.11)."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import typing as t
from pathlib import Path

import pytest
import requests

from tap_claude_developer.simulator import OrgSpec, Simulator
from tap_claude_developer.simulator.claude_code import _day, day_rows
from tap_claude_developer.simulator.rate_limits import org_limits, workspace_limits

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 12, 3, 15, 30, tzinfo=UTC)
CLAUDE_CODE = "/v1/organizations/usage_report/claude_code"
RATE_LIMITS = "/v1/organizations/rate_limits"
SPECS = [
    OrgSpec(
        "Busy", users=3, invites=0, workspaces=3, members_per_workspace=1, api_keys=0, claude_code_rows_per_day=2500
    ),
    OrgSpec(
        "Quiet", users=3, invites=0, workspaces=1, members_per_workspace=1, api_keys=0, claude_code_rows_per_day=25
    ),
]


@pytest.fixture
def sim() -> t.Iterator[Simulator]:
    with Simulator(SPECS, seed=4, now=NOW) as simulator:
        yield simulator


def get(sim: Simulator, path: str, org: int = 0, **params: t.Any) -> requests.Response:
    headers = {"x-api-key": sim.orgs[org].key, "anthropic-version": "2023-06-01"}
    return requests.get(sim.url + path, params=params, headers=headers, timeout=10)


def error(response: requests.Response) -> tuple[int, str]:
    body = response.json()
    return response.status_code, body["error"]["message"]


# --------------------------------------------------------------------------- Claude Code


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "starting_at: Field required"),
        (
            {"starting_at": "2026-11-30T00:00:00Z"},
            "starting_at: expected a UTC date (YYYY-MM-DD), got '2026-11-30T00:00:00Z'",
        ),
        ({"starting_at": "2026-13-01"}, "starting_at: expected a UTC date (YYYY-MM-DD), got '2026-13-01'"),
        ({"starting_at": "2026-11-30", "limit": "0"}, "limit: Input should be an integer from 1 to 1000, got '0'"),
        (
            {"starting_at": "2026-11-30", "limit": "1001"},
            "limit: Input should be an integer from 1 to 1000, got '1001'",
        ),
        ({"starting_at": "2026-11-30", "page": "page_bm90IGpzb24="}, "page: invalid page token"),
    ],
)
def test_claude_code_bad_requests_are_400(sim: Simulator, params: dict[str, str], message: str) -> None:
    assert error(get(sim, CLAUDE_CODE, **params)) == (400, message)


def test_claude_code_pages_a_day_in_order_with_default_and_max_limits(sim: Simulator) -> None:
    day = dt.date(2026, 11, 30)
    expected = day_rows(sim.orgs[0], sim.seed, day)
    assert len(expected) == 2500
    pages = []
    params: dict[str, str] = {"starting_at": "2026-11-30", "limit": "1000"}
    while True:
        page = get(sim, CLAUDE_CODE, **params).json()
        assert set(page) == {"data", "has_more", "next_page"}
        pages.append(page["data"])
        assert page["has_more"] == (page["next_page"] is not None)
        if not page["has_more"]:
            break
        params["page"] = page["next_page"]
    assert [len(p) for p in pages] == [1000, 1000, 500]
    assert [row for p in pages for row in p] == expected
    quiet = get(sim, CLAUDE_CODE, org=1, starting_at="2026-11-30").json()  # default limit: 20
    assert len(quiet["data"]) == 20
    assert quiet["has_more"] is True


def test_claude_code_page_tokens_are_bound_to_their_query(sim: Simulator) -> None:
    first = get(sim, CLAUDE_CODE, starting_at="2026-11-30", limit="10").json()
    token = first["next_page"]
    assert get(sim, CLAUDE_CODE, starting_at="2026-11-30", limit="10", page=token).status_code == 200
    for params in ({"starting_at": "2026-11-29", "limit": "10"}, {"starting_at": "2026-11-30", "limit": "11"}):
        status, message = error(get(sim, CLAUDE_CODE, **params, page=token))
        assert (status, message.split(";")[0]) == (400, "page: the page token belongs to a different query")
    assert get(sim, CLAUDE_CODE, org=1, starting_at="2026-11-30", limit="10", page=token).status_code == 400


def test_claude_code_rows_land_late_and_paging_reads_one_snapshot(sim: Simulator) -> None:
    org, day = sim.orgs[1], dt.date(2026, 12, 2)
    midnight = dt.datetime(2026, 12, 2, tzinfo=UTC)
    sim.set_clock(midnight + dt.timedelta(minutes=59))
    assert get(sim, CLAUDE_CODE, org=1, starting_at="2026-12-02").json()["data"] == []  # nothing younger than 1 h
    sim.set_clock(midnight + dt.timedelta(hours=12))
    first = get(sim, CLAUDE_CODE, org=1, starting_at="2026-12-02", limit="5").json()
    snapshot = day_rows(org, sim.seed, day, midnight + dt.timedelta(hours=12))
    assert 5 < len(snapshot) < 25
    sim.set_clock(midnight + dt.timedelta(hours=25))  # the day is complete
    rows, page = list(first["data"]), first
    while page["has_more"]:
        page = get(sim, CLAUDE_CODE, org=1, starting_at="2026-12-02", limit="5", page=page["next_page"]).json()
        rows += page["data"]
    assert rows == snapshot  # the paging session kept its snapshot
    fresh = get(sim, CLAUDE_CODE, org=1, starting_at="2026-12-02", limit="1000").json()["data"]
    assert fresh == day_rows(org, sim.seed, day)
    assert len(fresh) == 25


def test_claude_code_rows_are_distinct_deterministic_and_varied(sim: Simulator) -> None:
    with Simulator(SPECS, seed=4, now=NOW) as twin:
        assert day_rows(twin.orgs[1], twin.seed, dt.date(2026, 6, 1)) == day_rows(
            sim.orgs[1], sim.seed, dt.date(2026, 6, 1)
        )
    rows = [row for d in range(1, 31) for row in day_rows(sim.orgs[1], sim.seed, dt.date(2026, 11, d))]
    keys = [
        (r["date"], r["actor"].get("email_address") or r["actor"]["api_key_name"], r["terminal_type"], r["is_remote"])
        for r in rows
    ]
    assert len(set(keys)) == len(keys) == 30 * 25
    assert {r["actor"]["type"] for r in rows} == {"user_actor", "api_actor"}
    assert {(r["customer_type"], r["subscription_type"]) for r in rows} == {
        ("api", None),
        ("subscription", "enterprise"),
    }
    assert {r["is_remote"] for r in rows} == {True, False}
    amounts = [m["estimated_cost"]["amount"] for r in rows for m in r["model_breakdown"]]
    assert {type(a) for a in amounts} == {int, float}


def test_a_simulator_generates_no_report_day_until_asked() -> None:
    _day.cache_clear()
    big = [OrgSpec("Huge", users=1, invites=0, workspaces=0, api_keys=0, claude_code_rows_per_day=100_000)]
    with Simulator(big, now=NOW):
        assert _day.cache_info().currsize == 0


# --------------------------------------------------------------------------- rate limits


def test_rate_limits_filters(sim: Simulator) -> None:
    everything = org_limits(sim.orgs[0], sim.seed)
    assert get(sim, RATE_LIMITS).json() == {"data": everything, "next_page": None}
    batch = get(sim, RATE_LIMITS, group_type="batch").json()["data"]
    assert [entry["group"]["type"] for entry in batch] == ["batch"]
    sonnet = get(sim, RATE_LIMITS, model="claude-sonnet-4-5-20250929").json()["data"]
    assert [entry["group"].get("display_name") for entry in sonnet] == ["Claude Sonnet 4.x"]
    assert error(get(sim, RATE_LIMITS, model="claude-unknown")) == (
        404,
        "model: no rate limits for model 'claude-unknown'",
    )
    status, message = error(get(sim, RATE_LIMITS, group_type="models"))
    assert (status, message.split(":")[0]) == (400, "group_type")


def test_rate_limit_pages_follow_next_page_and_are_bound_to_their_query(sim: Simulator) -> None:
    first = get(sim, RATE_LIMITS, limit="5").json()
    assert len(first["data"]) == 5
    second = get(sim, RATE_LIMITS, limit="5", page=first["next_page"]).json()
    assert second["next_page"] is None
    assert first["data"] + second["data"] == org_limits(sim.orgs[0], sim.seed)
    assert get(sim, RATE_LIMITS, limit="4", page=first["next_page"]).status_code == 400
    assert get(sim, RATE_LIMITS, limit="5", group_type="batch", page=first["next_page"]).status_code == 400


def test_the_group_ids_are_shared_and_the_entry_ids_are_not(sim: Simulator) -> None:
    one, two = org_limits(sim.orgs[0], sim.seed), org_limits(sim.orgs[1], sim.seed)
    assert [e["group"]["id"] for e in one] == [e["group"]["id"] for e in two]
    assert not {e["id"] for e in one} & {e["id"] for e in two}


def test_workspace_rate_limits_with_and_without_inherited_values(sim: Simulator) -> None:
    org = sim.orgs[0]
    workspace_id = org.workspaces[1]["id"]
    path = f"/v1/organizations/workspaces/{workspace_id}/rate_limits"
    own = get(sim, path).json()["data"]
    everything = get(sim, path, include_inherited="true").json()["data"]
    assert own == workspace_limits(org, sim.seed, workspace_id, include_inherited=False)
    assert {limit["source"]["type"] for entry in own for limit in entry["limits"]} == {"workspace"}
    assert [entry["rate_limit_id"] for entry in everything] == [entry["id"] for entry in org_limits(org, sim.seed)]
    for entry in everything:
        for limit in entry["limits"]:
            if limit["source"]["type"] == "organization":
                assert limit["value"] == limit["org_limit"]
    overridden = {(e["rate_limit_id"], limit["type"]) for e in own for limit in e["limits"]}
    assert overridden == {
        (e["rate_limit_id"], limit["type"])
        for e in everything
        for limit in e["limits"]
        if limit["source"]["type"] == "workspace"
    }


def test_workspace_rate_limits_of_the_default_or_an_unknown_workspace_are_404(sim: Simulator) -> None:
    org = sim.orgs[0]
    default = f"/v1/organizations/workspaces/{org.default_workspace_id}/rate_limits"
    assert get(sim, default, include_inherited="true").status_code == 404
    assert get(sim, "/v1/organizations/workspaces/wrkspc_01nope/rate_limits").status_code == 404


def test_legacy_shape_has_group_type_and_no_group() -> None:
    with Simulator(SPECS, seed=4, now=NOW, rate_limit_shape="legacy") as sim:
        entries = get(sim, RATE_LIMITS).json()["data"]
        workspace_id = sim.orgs[0].workspaces[1]["id"]
        path = f"/v1/organizations/workspaces/{workspace_id}/rate_limits"
        workspace_entries = get(sim, path, include_inherited="true").json()["data"]
    current = org_limits(sim.orgs[0], sim.seed)
    assert [set(e) for e in entries] == [{"type", "id", "group_type", "models", "limits"}] * len(current)
    assert [e["group_type"] for e in entries] == [e["group"]["type"] for e in current]
    assert all("group" not in e and "group_type" in e for e in workspace_entries)
    with pytest.raises(ValueError, match="rate_limit_shape"):
        Simulator(SPECS, rate_limit_shape="old")  # type: ignore[arg-type]


def test_cli_sizes_the_claude_code_report_and_serves_the_older_rate_limit_shape(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    command = [
        sys.executable, "-m", "tap_claude_developer.simulator", "--port", "0", "--orgs", "1",
        "--claude-code-rows-per-day", "42", "--legacy-rate-limits", "--ready-file", str(ready),
    ]  # fmt: skip
    proc = subprocess.Popen(command, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 10
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        info = json.loads(ready.read_text())
        headers = {"x-api-key": info["admin_api_keys"][0], "anthropic-version": "2023-06-01"}
        two_days_ago = (dt.datetime.now(UTC).date() - dt.timedelta(days=2)).isoformat()
        params: dict[str, str | int] = {"starting_at": two_days_ago, "limit": 1000}
        rows = requests.get(info["url"] + CLAUDE_CODE, params=params, headers=headers, timeout=5).json()["data"]
        assert len(rows) == 42
        entries = requests.get(info["url"] + RATE_LIMITS, headers=headers, timeout=5).json()["data"]
        assert [set(e) for e in entries] == [{"type", "id", "group_type", "models", "limits"}] * 8
    finally:
        proc.terminate()
        proc.wait(timeout=10)
