"""Behaviour of the Admin API simulator: auth, parameters, paging, faults, mutators, CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests

from tap_claude_developer.simulator import Fault, OrgSpec, Simulator

NOW = datetime(2026, 12, 3, 15, 30, tzinfo=timezone.utc)
VERSION = {"anthropic-version": "2023-06-01"}
SPECS = [
    OrgSpec("Acme Analytics", users=30, invites=12, workspaces=5, members_per_workspace=6,
            api_keys=14),
    OrgSpec("Globex Research", users=9, invites=4, workspaces=2, members_per_workspace=3,
            api_keys=6),
]  # fmt: skip


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(SPECS, seed=11, now=NOW) as simulator:
        yield simulator


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def get(
    sim: Simulator,
    http: requests.Session,
    path: str,
    params: Any = None,
    *,
    org: int = 0,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    if headers is None:
        headers = {"x-api-key": sim.admin_keys[org], **VERSION}
    return http.get(sim.url + path, params=params, headers=headers, timeout=10)


def error(response: requests.Response, status: int, error_type: str, message: str) -> None:
    """Assert the exact documented error body (admin-api.md §2.1)."""
    assert response.status_code == status
    request_id = response.headers["request-id"]
    assert request_id.startswith("req_01")
    assert response.json() == {
        "type": "error",
        "error": {"type": error_type, "message": message},
        "request_id": request_id,
    }
    assert "anthropic-organization-id" not in response.headers


def envelope(data: list[Any], has_more: bool, id_key: str = "id") -> dict[str, Any]:
    return {
        "data": data,
        "has_more": has_more,
        "first_id": data[0][id_key] if data else None,
        "last_id": data[-1][id_key] if data else None,
    }


# --------------------------------------------------------------------------- auth and headers


def test_each_admin_key_selects_its_organization(sim: Simulator, http: requests.Session) -> None:
    assert len(set(sim.admin_keys)) == 2
    for i, org in enumerate(sim.orgs):
        assert org.key == sim.admin_keys[i]
        response = get(sim, http, "/v1/organizations/me", org=i)
        assert response.status_code == 200
        assert response.json() == {"id": org.id, "name": org.name, "type": "organization"}
        assert response.headers["anthropic-organization-id"] == org.id
        assert response.headers["request-id"].startswith("req_01")
        assert response.raw.version == 11  # HTTP/1.1 keep-alive
        assert "connection" not in response.headers


def test_admin_key_format(sim: Simulator) -> None:
    for key in sim.admin_keys:
        prefix, rest = key[:15], key[15:]
        assert prefix == "sk-ant-admin01-"
        assert len(rest) == 86 + 1 + 6
        assert rest[86] == "-"
        assert rest.endswith("AA")


def test_missing_key(sim: Simulator, http: requests.Session) -> None:
    response = get(sim, http, "/v1/organizations/me", headers=VERSION)
    error(response, 401, "authentication_error", "x-api-key header is required")


def test_unknown_key(sim: Simulator, http: requests.Session) -> None:
    headers = {"x-api-key": "sk-ant-admin01-nope", **VERSION}
    response = get(sim, http, "/v1/organizations/users", headers=headers)
    error(response, 401, "authentication_error", "invalid x-api-key")


def test_standard_api_key_is_refused(sim: Simulator, http: requests.Session) -> None:
    headers = {"x-api-key": "sk-ant-api03-abcdefAA", **VERSION}
    response = get(sim, http, "/v1/organizations/users", headers=headers)
    error(
        response,
        401,
        "authentication_error",
        "Admin API endpoints require an Admin API key (sk-ant-admin01-...); standard API keys are not accepted.",
    )


def test_bearer_token_is_accepted(sim: Simulator, http: requests.Session) -> None:
    headers = {"authorization": f"Bearer {sim.admin_keys[1]}", **VERSION}
    response = get(sim, http, "/v1/organizations/me", headers=headers)
    assert response.json()["id"] == sim.orgs[1].id
    bad = get(sim, http, "/v1/organizations/me", headers={"authorization": "Basic abc", **VERSION})
    error(bad, 401, "authentication_error", "x-api-key header is required")


def test_anthropic_version_is_required(sim: Simulator, http: requests.Session) -> None:
    headers = {"x-api-key": sim.admin_keys[0]}
    response = get(sim, http, "/v1/organizations/me", headers=headers)
    error(response, 400, "invalid_request_error", "anthropic-version: header is required")
    headers["anthropic-version"] = "2026-10-21"  # what the 2.x SDK sends
    assert get(sim, http, "/v1/organizations/me", headers=headers).status_code == 200
    headers["anthropic-version"] = "2024-13-01"
    response = get(sim, http, "/v1/organizations/me", headers=headers)
    error(response, 400, "invalid_request_error", "anthropic-version: unknown version '2024-13-01'")


def test_unknown_path(sim: Simulator, http: requests.Session) -> None:
    response = get(sim, http, "/v1/organizations/nothing")
    error(response, 404, "not_found_error", "Not found: /v1/organizations/nothing")
    response = get(sim, http, "/v1/organizations/users/user_01nope")
    error(response, 404, "not_found_error", "User 'user_01nope' not found.")


def test_writes_are_refused_and_recorded(sim: Simulator, http: requests.Session) -> None:
    before = sim.orgs[0].users
    path = f"/v1/organizations/users/{before[3]['id']}"
    headers = {"x-api-key": sim.admin_keys[0], **VERSION}
    response = http.post(sim.url + path, json={"role": "admin"}, headers=headers, timeout=5)
    error(response, 405, "invalid_request_error", "Method POST not allowed: the simulator serves GET only.")
    response = http.delete(sim.url + path, headers=headers, timeout=5)
    assert response.status_code == 405
    assert [(r.method, r.path, r.status, r.org_id) for r in sim.requests] == [
        ("POST", path, 405, sim.orgs[0].id),
        ("DELETE", path, 405, sim.orgs[0].id),
    ]
    assert sim.orgs[0].users == before


def test_request_log(sim: Simulator, http: requests.Session) -> None:
    get(sim, http, "/v1/organizations/users", "roles[]=admin&limit=3&roles[]=user")
    get(sim, http, "/v1/organizations/me", headers={"x-api-key": "bad", **VERSION})
    first, second = sim.requests
    assert first.method == "GET"
    assert first.path == "/v1/organizations/users"
    assert first.query == [("roles[]", "admin"), ("limit", "3"), ("roles[]", "user")]
    assert first.headers["x-api-key"] == sim.admin_keys[0]
    assert first.headers["anthropic-version"] == "2023-06-01"
    assert (first.org_id, first.status) == (sim.orgs[0].id, 200)
    assert (second.org_id, second.status) == (None, 401)
    assert first.time <= second.time
    sim.clear_requests()
    assert sim.requests == []


# --------------------------------------------------------------------------- limit and paging


@pytest.mark.parametrize("limit", ["0", "1001", "x", "-1", "2.0", ""])
def test_limit_out_of_bounds(sim: Simulator, http: requests.Session, limit: str) -> None:
    response = get(sim, http, "/v1/organizations/users", {"limit": limit})
    error(
        response,
        400,
        "invalid_request_error",
        f"limit: Input should be an integer from 1 to 1000, got {limit!r}",
    )


def test_limit_bounds_and_default(sim: Simulator, http: requests.Session) -> None:
    users = sim.orgs[0].users
    assert len(users) == 30
    path = "/v1/organizations/users"
    assert get(sim, http, path, {"limit": "1"}).json() == envelope(users[:1], True)
    assert get(sim, http, path, {"limit": "1000"}).json() == envelope(users, False)
    assert get(sim, http, path).json() == envelope(users[:20], True)
    assert get(sim, http, path, {"limit": "30"}).json() == envelope(users, False)


def test_ids_sort_in_creation_order(sim: Simulator) -> None:
    for org in sim.orgs:
        for items, stamp in (
            (org.users, "added_at"),
            (org.invites, "invited_at"),
            (org.workspaces, "created_at"),
            (org.api_keys, "created_at"),
        ):
            assert [i["id"] for i in items] == sorted(i["id"] for i in items)
            assert [i[stamp] for i in items] == sorted(i[stamp] for i in items)
            for item in items:
                assert len(item["id"].split("_01", 1)[1]) == 22


def test_paging_forward(sim: Simulator, http: requests.Session) -> None:
    users = sim.orgs[0].users
    pages, params = [], {"limit": "7"}
    while True:
        page = get(sim, http, "/v1/organizations/users", params).json()
        pages.append(page)
        if not page["has_more"]:
            break
        params = {"limit": "7", "after_id": page["last_id"]}
    assert pages == [
        envelope(users[0:7], True),
        envelope(users[7:14], True),
        envelope(users[14:21], True),
        envelope(users[21:28], True),
        envelope(users[28:30], False),
    ]
    last = get(sim, http, "/v1/organizations/users", {"after_id": users[-1]["id"]}).json()
    assert last == {"data": [], "has_more": False, "first_id": None, "last_id": None}


def test_paging_backward(sim: Simulator, http: requests.Session) -> None:
    users = sim.orgs[0].users
    pages, params = [], {"limit": "7", "before_id": users[-1]["id"]}
    while True:
        page = get(sim, http, "/v1/organizations/users", params).json()
        pages.append(page)
        if not page["has_more"]:
            break
        params = {"limit": "7", "before_id": page["first_id"]}
    assert pages == [
        envelope(users[22:29], True),
        envelope(users[15:22], True),
        envelope(users[8:15], True),
        envelope(users[1:8], True),
        envelope(users[0:1], False),
    ]
    first = get(sim, http, "/v1/organizations/users", {"before_id": users[0]["id"]}).json()
    assert first == {"data": [], "has_more": False, "first_id": None, "last_id": None}


def test_cursor_errors(sim: Simulator, http: requests.Session) -> None:
    users = sim.orgs[0].users
    both = {"after_id": users[0]["id"], "before_id": users[5]["id"]}
    response = get(sim, http, "/v1/organizations/users", both)
    error(response, 400, "invalid_request_error",
          "Only one of after_id and before_id may be provided.")  # fmt: skip
    response = get(sim, http, "/v1/organizations/users", {"after_id": "user_01unknown"})
    error(response, 400, "invalid_request_error", "after_id: no object with id 'user_01unknown'")
    other_org_user = sim.orgs[1].users[0]["id"]
    response = get(sim, http, "/v1/organizations/users", {"before_id": other_org_user})
    error(response, 400, "invalid_request_error",
          f"before_id: no object with id {other_org_user!r}")  # fmt: skip


# --------------------------------------------------------------------------- filters


def test_user_filters(sim: Simulator, http: requests.Session) -> None:
    users = sim.orgs[0].users
    path = "/v1/organizations/users"
    params = [("roles[]", "admin"), ("roles[]", "billing"), ("limit", "1000")]
    expected = [u for u in users if u["role"] in ("admin", "billing")]
    assert 0 < len(expected) < len(users)
    assert get(sim, http, path, params).json() == envelope(expected, False)
    target = users[4]
    email = "  " + target["email"].upper() + " "
    assert get(sim, http, path, {"email": email}).json() == envelope([target], False)
    # Unbracketed arrays are not the documented form; they are ignored like unknown parameters.
    assert get(sim, http, path, {"roles": "admin"}).json() == envelope(users[:20], True)
    response = get(sim, http, path, {"roles[]": "owner"})
    error(response, 400, "invalid_request_error",
          "roles[]: invalid value 'owner'; expected one of "
          "admin, billing, claude_code_user, developer, user")  # fmt: skip


def test_invite_filters(sim: Simulator, http: requests.Session) -> None:
    invites = sim.orgs[0].invites
    path = "/v1/organizations/invites"
    assert {i["status"] for i in invites} == {"accepted", "expired", "pending"}
    all_page = get(sim, http, path, {"limit": "1000"}).json()
    assert all_page == envelope(invites, False)
    pending = get(sim, http, path, [("statuses[]", "pending"), ("limit", "100")]).json()
    assert pending == envelope([i for i in invites if i["status"] == "pending"], False)
    two = [("statuses[]", "accepted"), ("statuses[]", "expired"), ("limit", "100")]
    expected = [i for i in invites if i["status"] != "pending"]
    assert get(sim, http, path, two).json() == envelope(expected, False)
    response = get(sim, http, path, {"statuses[]": "deleted"})
    error(response, 400, "invalid_request_error",
          "statuses[]: invalid value 'deleted'; expected one of accepted, expired, pending")  # fmt: skip
    role = invites[0]["role"]
    by_role = get(sim, http, path, [("roles[]", role), ("limit", "100")]).json()
    assert by_role == envelope([i for i in invites if i["role"] == role], False)


def test_invites_are_consistent_with_time(sim: Simulator) -> None:
    users = {u["email"]: u for u in sim.orgs[0].users}
    now = NOW.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    for invite in sim.orgs[0].invites:
        invited = datetime.fromisoformat(invite["invited_at"].replace("Z", "+00:00"))
        expires = datetime.fromisoformat(invite["expires_at"].replace("Z", "+00:00"))
        assert expires - invited == timedelta(days=21)
        assert invite["rbac_group_ids"] == []
        assert (invite["accepted_at"] is not None) == (invite["status"] == "accepted")
        if invite["status"] == "pending":
            assert invite["expires_at"] > now > invite["invited_at"]
        elif invite["status"] == "expired":
            assert invite["expires_at"] < now
        else:
            assert invite["invited_at"] < invite["accepted_at"] < invite["expires_at"]
            assert users[invite["email"]]["added_at"] == invite["accepted_at"]


def test_workspace_listing_flags(sim: Simulator, http: requests.Session) -> None:
    org = sim.orgs[0]
    default_id = org.default_workspace_id
    workspaces = org.workspaces
    assert workspaces[0]["id"] == default_id
    assert workspaces[0]["name"] == "Default"
    archived = [w for w in workspaces if w["archived_at"] is not None]
    assert len(archived) == 1
    path = "/v1/organizations/workspaces"

    def listed(params: Any) -> list[str]:
        page = get(sim, http, path, params).json()
        assert page["has_more"] is False
        return [w["id"] for w in page["data"]]

    ids = [w["id"] for w in workspaces]
    active = [w["id"] for w in workspaces[1:] if w["archived_at"] is None]
    assert listed({}) == active
    assert listed({"include_default": "true"}) == [default_id, *active]
    assert listed({"include_archived": "TRUE"}) == ids[1:]
    assert listed({"include_archived": "true", "include_default": "True"}) == ids
    assert listed({"include_archived": "false", "include_default": "FALSE"}) == active
    wanted = [("ids[]", active[1]), ("ids[]", archived[0]["id"]), ("ids[]", default_id)]
    assert listed(wanted) == [active[1]]  # other filters still apply
    assert listed([*wanted, ("include_default", "true"), ("include_archived", "true")]) == sorted(
        [default_id, archived[0]["id"], active[1]]
    )
    response = get(sim, http, path, {"include_archived": "yes"})
    error(response, 400, "invalid_request_error",
          "include_archived: expected true or false, got 'yes'")  # fmt: skip
    response = get(sim, http, path, [("ids[]", f"wrkspc_{n}") for n in range(101)])
    error(response, 400, "invalid_request_error", "ids[]: at most 100 ids may be given")
    assert len(listed([("ids[]", f"wrkspc_{n}") for n in range(100)])) == 0
    default = get(sim, http, f"{path}/{default_id}").json()
    assert default == workspaces[0]


def test_workspace_members(sim: Simulator, http: requests.Session) -> None:
    org = sim.orgs[0]
    workspace_id = org.workspaces[2]["id"]
    members = org.members[workspace_id]
    assert len(members) == 6
    assert [m["user_id"] for m in members] == sorted(m["user_id"] for m in members)
    path = f"/v1/organizations/workspaces/{workspace_id}/members"
    page1 = get(sim, http, path, {"limit": "4"}).json()
    assert page1 == envelope(members[:4], True, "user_id")
    page2 = get(sim, http, path, {"limit": "4", "after_id": page1["last_id"]}).json()
    assert page2 == envelope(members[4:], False, "user_id")
    back = get(sim, http, path, {"limit": "4", "before_id": members[5]["user_id"]}).json()
    assert back == envelope(members[1:5], True, "user_id")
    member = members[1]
    assert get(sim, http, f"{path}/{member['user_id']}").json() == member
    outsider = next(u["id"] for u in org.users if u["id"] not in {m["user_id"] for m in members})
    error(get(sim, http, f"{path}/{outsider}"), 404, "not_found_error",
          f"Workspace member {outsider!r} not found.")  # fmt: skip
    default_path = f"/v1/organizations/workspaces/{org.default_workspace_id}/members"
    error(get(sim, http, default_path), 404, "not_found_error",
          "The Default Workspace has no member list.")  # fmt: skip
    archived = next(w for w in org.workspaces if w["archived_at"])
    archived_path = f"/v1/organizations/workspaces/{archived['id']}/members"
    response = get(sim, http, archived_path, {"limit": "100"})
    assert response.json() == envelope(org.members[archived["id"]], False, "user_id")


def test_api_key_filters(sim: Simulator, http: requests.Session) -> None:
    org = sim.orgs[0]
    keys = org.api_keys
    path = "/v1/organizations/api_keys"
    for status in ("active", "archived", "expired", "inactive"):
        expected = [k for k in keys if k["status"] == status]
        page = get(sim, http, path, {"status": status, "limit": "100"}).json()
        assert page == envelope(expected, False)
    default_keys = [k for k in keys if k["scope"].get("workspace_id") == org.default_workspace_id]
    assert default_keys
    page = get(sim, http, path, {"workspace_id": org.default_workspace_id, "limit": "100"}).json()
    assert page == envelope(default_keys, False)
    creator = next(k["created_by"]["id"] for k in keys if (k["created_by"] or {}).get("type") == "user")
    mine = [k for k in keys if k["created_by"] == {"id": creator, "type": "user"}]
    page = get(sim, http, path, {"created_by_user_id": creator, "limit": "100"}).json()
    assert page == envelope(mine, False)
    error(get(sim, http, path, {"status": "revoked"}), 400, "invalid_request_error",
          "status: expected one of active, archived, expired, inactive")  # fmt: skip
    for key in keys:
        hint = key["partial_key_hint"]
        assert hint.startswith("sk-ant-api03-")
        assert hint[16:19] == "..."
        assert hint.endswith("AA")
        if key["status"] == "expired":
            assert key["expires_at"] < "2026-12-03"
        if key["status"] == "active" and key["expires_at"]:
            assert key["expires_at"] > "2026-12-05"
        if key["scope"]["type"] == "organization":
            assert key["principal"] is not None


def test_legacy_api_key_shape(http: requests.Session) -> None:
    with Simulator(SPECS, seed=11, now=NOW, api_key_shape="legacy") as sim:
        org = sim.orgs[0]
        page = get(sim, http, "/v1/organizations/api_keys", {"limit": "100"}).json()
        assert [k["id"] for k in page["data"]] == [k["id"] for k in org.api_keys]
        for served, current in zip(page["data"], org.api_keys, strict=True):
            assert set(served) == {
                "id", "type", "name", "status", "created_at", "expires_at",
                "partial_key_hint", "created_by", "principal", "workspace_id",
            }  # fmt: skip
            scope, principal = current["scope"], current["principal"]
            if scope["type"] == "organization" or scope["workspace_id"] == org.default_workspace_id:
                assert served["workspace_id"] is None
            else:
                assert served["workspace_id"] == scope["workspace_id"]
            if principal is None:
                assert served["principal"] is None
            elif principal["type"] == "user_actor":
                assert served["principal"] == {"id": principal["user_id"], "type": "user"}
            else:
                assert served["principal"] == {
                    "id": principal["service_account_id"],
                    "type": "service_account",
                }
            rest = {k: v for k, v in current.items() if k not in ("scope", "principal")}
            assert {k: v for k, v in served.items() if k in rest} == rest
        one = get(sim, http, f"/v1/organizations/api_keys/{org.api_keys[0]['id']}").json()
        assert one == page["data"][0]


# --------------------------------------------------------------------------- faults


def test_status_fault_with_retry_after(sim: Simulator, http: requests.Session) -> None:
    fault = sim.add_fault(Fault(path=r"/users$", status=429, headers={"retry-after": "2"}))
    response = get(sim, http, "/v1/organizations/users")
    assert response.headers["retry-after"] == "2"
    error(response, 429, "rate_limit_error",
          "Number of requests has exceeded your rate limit. Please try again later.")  # fmt: skip
    assert get(sim, http, "/v1/organizations/users").status_code == 200  # times=1 by default
    assert (fault.seen, fault.hits) == (2, 1)
    assert [r.status for r in sim.requests] == [429, 200]


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (408, "invalid_request_error"),
        (409, "conflict_error"),
        (500, "api_error"),
        (503, "api_error"),
        (504, "timeout_error"),
        (529, "overloaded_error"),
    ],
)
def test_default_error_types(sim: Simulator, http: requests.Session, status: int, error_type: str) -> None:
    sim.add_fault(Fault(path="/me", status=status))
    response = get(sim, http, "/v1/organizations/me")
    assert response.status_code == status
    assert response.json()["type"] == "error"
    assert response.json()["error"]["type"] == error_type


def test_fault_after_times_and_org(sim: Simulator, http: requests.Session) -> None:
    sim.add_fault(Fault(path="/users", status=500, after=1, times=2, org_index=1))
    statuses = [get(sim, http, "/v1/organizations/users", org=o).status_code for o in (0, 1, 0, 1, 1, 1)]
    assert statuses == [200, 200, 200, 500, 500, 200]
    sim.clear_faults()
    forever = sim.add_fault(Fault(path="/invites", status=503, times=None, headers={"retry-after-ms": "1500"}))
    for _ in range(3):
        response = get(sim, http, "/v1/organizations/invites")
        assert response.status_code == 503
        assert response.headers["retry-after-ms"] == "1500"
    assert forever.hits == 3
    sim.clear_faults()
    assert get(sim, http, "/v1/organizations/invites").status_code == 200


def test_fault_error_code_and_custom_body(sim: Simulator, http: requests.Session) -> None:
    sim.add_fault(Fault(path="/me", status=400, error_code="organization_type_not_supported"))
    response = get(sim, http, "/v1/organizations/me")
    assert response.json() == {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": "Invalid request.",
            "details": {"error_code": "organization_type_not_supported"},
        },
        "request_id": response.headers["request-id"],
    }
    sim.add_fault(Fault(path="/me", status=418, body='{"teapot": true}'))
    response = get(sim, http, "/v1/organizations/me")
    assert (response.status_code, response.json()) == (418, {"teapot": True})


def test_reset_fault(sim: Simulator, http: requests.Session) -> None:
    sim.add_fault(Fault(path="/users", kind="reset"))
    with pytest.raises(requests.ConnectionError):
        get(sim, http, "/v1/organizations/users")
    assert get(sim, http, "/v1/organizations/users").status_code == 200
    assert [r.status for r in sim.requests] == [0, 200]


def test_truncate_fault(sim: Simulator, http: requests.Session) -> None:
    sim.add_fault(Fault(path="/users", kind="truncate", after=1))
    assert get(sim, http, "/v1/organizations/users").status_code == 200
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        get(sim, http, "/v1/organizations/users")
    with requests.get(
        sim.url + "/v1/organizations/me",
        headers={"x-api-key": sim.admin_keys[0], **VERSION},
        timeout=5,
    ) as ok:
        assert ok.status_code == 200
    assert [r.status for r in sim.requests] == [200, 200, 200]


def test_html_fault(sim: Simulator, http: requests.Session) -> None:
    sim.add_fault(Fault(path="/workspaces", kind="html"))
    response = get(sim, http, "/v1/organizations/workspaces")
    assert response.status_code == 502
    assert response.headers["content-type"] == "text/html"
    assert "<title>502 Bad Gateway</title>" in response.text
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


def test_slow_fault_and_latency(http: requests.Session) -> None:
    with Simulator(SPECS, now=NOW, latency=0.05) as sim:
        sim.add_fault(Fault(path="/me", kind="slow", delay=0.2))
        start = time.monotonic()
        assert get(sim, http, "/v1/organizations/me").status_code == 200
        slow = time.monotonic() - start
        start = time.monotonic()
        assert get(sim, http, "/v1/organizations/me").status_code == 200
        normal = time.monotonic() - start
    assert slow >= 0.25
    assert 0.05 <= normal < 0.2


# --------------------------------------------------------------------------- mutators and clock


def test_remove_user(sim: Simulator, http: requests.Session) -> None:
    org = sim.orgs[0]
    workspace_id = next(ws for ws, members in org.members.items() if members)
    victim = org.members[workspace_id][0]["user_id"]
    keys_before = [k for k in org.api_keys if (k["created_by"] or {}).get("id") == victim]
    page = get(sim, http, "/v1/organizations/users", {"limit": "1000"}).json()
    position = [u["id"] for u in page["data"]].index(victim)
    sim.remove_user(0, victim)
    assert victim not in [u["id"] for u in org.users]
    assert len(org.users) == 29
    error(get(sim, http, f"/v1/organizations/users/{victim}"), 404, "not_found_error",
          f"User {victim!r} not found.")  # fmt: skip
    members = get(sim, http, f"/v1/organizations/workspaces/{workspace_id}/members").json()
    assert victim not in [m["user_id"] for m in members["data"]]
    assert all(victim not in [m["user_id"] for m in ms] for ms in org.members.values())
    keys_after = [k for k in org.api_keys if (k["created_by"] or {}).get("id") == victim]
    assert keys_after == keys_before  # API keys survive their creator (admin-api.md §5.6)
    # A cursor naming the removed user still works: paging continues after its position.
    after = get(sim, http, "/v1/organizations/users", {"after_id": victim, "limit": "3"}).json()
    assert after == envelope(org.users[position : position + 3], True)
    with pytest.raises(KeyError):
        sim.remove_user(0, victim)


def test_other_mutators(sim: Simulator, http: requests.Session) -> None:
    org = sim.orgs[1]
    user = sim.add_user(1, name="Zoe Quinn", email="zoe@globex-research.example", role="developer")
    assert user == {
        "id": user["id"],
        "type": "user",
        "email": "zoe@globex-research.example",
        "name": "Zoe Quinn",
        "role": "developer",
        "added_at": "2026-12-03T15:30:00.000000Z",
    }
    second = sim.add_user(1, name="Yann Ode")
    assert org.users[-2:] == [user, second]  # same clock instant, still creation order
    page = get(sim, http, "/v1/organizations/users", {"limit": "2", "before_id": second["id"]}, org=1)
    assert page.json()["data"][-1] == user
    assert sim.update_user(1, user["id"], role="admin")["role"] == "admin"
    invite = sim.add_invite(1, email="new@globex-research.example", role="developer")
    assert (invite["status"], invite["invited_at"], invite["expires_at"]) == (
        "pending",
        "2026-12-03T15:30:00.000000Z",
        "2026-12-24T15:30:00.000000Z",
    )
    sim.remove_invite(1, invite["id"])
    assert invite["id"] not in [i["id"] for i in org.invites]
    workspace = sim.add_workspace(1, "Fresh")
    member = sim.add_member(1, workspace["id"], user["id"], "workspace_developer")
    assert org.members[workspace["id"]] == [member]
    sim.remove_member(1, workspace["id"], user["id"])
    assert org.members[workspace["id"]] == []
    key = sim.add_api_key(1, "fresh-key", scope={"type": "workspace", "workspace_id": workspace["id"]})
    archived = sim.archive_workspace(1, workspace["id"])
    assert archived["archived_at"] == "2026-12-03T15:30:00.000000Z"
    assert next(k for k in org.api_keys if k["id"] == key["id"])["status"] == "archived"
    assert sim.update_api_key(1, key["id"], name="renamed")["name"] == "renamed"
    sim.remove_api_key(1, key["id"])
    response = get(sim, http, f"/v1/organizations/api_keys/{key['id']}", org=1)
    assert response.status_code == 404


def test_clock_expires_invites_and_keys() -> None:
    sim = Simulator(SPECS, seed=11, now=NOW)
    org = sim.orgs[0]
    pending = [i["id"] for i in org.invites if i["status"] == "pending"]
    expiring = [k["id"] for k in org.api_keys if k["status"] == "active" and k["expires_at"]]
    assert pending
    assert expiring
    sim.set_clock(NOW + timedelta(days=400))
    assert sim.now() == NOW + timedelta(days=400)
    assert {i["status"] for i in org.invites if i["id"] in pending} == {"expired"}
    assert {k["status"] for k in org.api_keys if k["id"] in expiring} == {"expired"}


# --------------------------------------------------------------------------- determinism, load


def _snapshot(sim: Simulator) -> list[Any]:
    return [(o.id, o.name, o.key, o.users, o.invites, o.workspaces, o.members, o.api_keys) for o in sim.orgs]


def test_determinism() -> None:
    same = _snapshot(Simulator(SPECS, seed=3, now=NOW))
    assert same == _snapshot(Simulator(SPECS, seed=3, now=NOW + timedelta(hours=5)))
    other = _snapshot(Simulator(SPECS, seed=4, now=NOW))
    assert other != same
    for a, b in zip(other, same, strict=True):
        assert a[0] != b[0]  # org id
        assert a[2] != b[2]  # admin key
        assert [u["email"] for u in a[3]] != [u["email"] for u in b[3]]
    next_day = _snapshot(Simulator(SPECS, seed=3, now=NOW + timedelta(days=1)))
    assert next_day != same
    default = Simulator(now=NOW)
    assert [o.name for o in default.orgs] == ["Acme Analytics", "Globex Research", "Initech Labs"]
    assert [len(o.users) for o in default.orgs] == [64, 117, 41]
    assert default.admin_keys == Simulator(now=NOW).admin_keys


def test_concurrent_clients(sim: Simulator) -> None:
    paths = ["/v1/organizations/users", "/v1/organizations/api_keys", "/v1/organizations/me"]
    failures: list[str] = []

    def client(n: int) -> None:
        with requests.Session() as session:
            headers = {"x-api-key": sim.admin_keys[n % 2], **VERSION}
            for i in range(50):
                response = session.get(sim.url + paths[i % 3], params={"limit": "5"}, headers=headers, timeout=10)
                if response.status_code != 200 or ("data" not in response.json() and i % 3 != 2):
                    failures.append(f"{n}/{i}: {response.status_code}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(sim.requests) == 800
    assert len({r.time for r in sim.requests}) > 1


def test_stop_closes_keep_alive_connections(http: requests.Session) -> None:
    sim = Simulator(SPECS, now=NOW)
    sim.start()
    assert get(sim, http, "/v1/organizations/me").status_code == 200
    sim.stop()
    with pytest.raises(requests.ConnectionError):
        get(sim, http, "/v1/organizations/me")


# --------------------------------------------------------------------------- CLI


def test_cli_ready_file_and_sigterm(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    command = [
        sys.executable, "-m", "tap_claude_developer.simulator", "--port", "0", "--orgs", "2",
        "--users", "5", "--seed", "9", "--legacy-api-keys", "--ready-file", str(ready),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 10
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        info = json.loads(ready.read_text())
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert line == f"simulator listening on {info['url']} (2 organizations)\n"
        sim = Simulator(default_specs_with_users(5), seed=9, now=NOW)
        assert info["admin_api_keys"] == sim.admin_keys
        assert info["organizations"] == [{"id": o.id, "name": o.name} for o in sim.orgs]
        headers = {"x-api-key": info["admin_api_keys"][1], **VERSION}
        response = requests.get(info["url"] + "/v1/organizations/users", headers=headers, timeout=5)
        assert len(response.json()["data"]) == 5
        keys = requests.get(info["url"] + "/v1/organizations/api_keys", headers=headers, timeout=5)
        assert "workspace_id" in keys.json()["data"][0]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def default_specs_with_users(users: int) -> list[OrgSpec]:
    from dataclasses import replace

    from tap_claude_developer.simulator.data import default_org_specs

    return [replace(spec, users=users) for spec in default_org_specs(2)]


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--port", "-1"], "argument --port: '-1' is not a port (0 to 65535; 0 picks a free one)"),
        (["--port", "70000"], "argument --port: '70000' is not a port (0 to 65535; 0 picks a free one)"),
        (["--users", "-5"], "argument --users: '-5' is not a whole number of zero or more"),
        (["--latency", "-1"], "argument --latency: '-1' is not a number of seconds from 0 to 3600"),
        (["--latency", "nan"], "argument --latency: 'nan' is not a number of seconds from 0 to 3600"),
    ],
)
def test_cli_refuses_bad_numbers_with_a_usage_line(
    args: list[str], line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by attack: these gave OverflowError and ValueError tracebacks."""
    from tap_claude_developer.simulator.__main__ import main

    with pytest.raises(SystemExit) as stopped:
        main(args)
    assert stopped.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"tap-claude-developer-simulator: error: {line}"
