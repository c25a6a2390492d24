"""Contract: every simulator response (newest shape) matches the official anthropic SDK 2.16 types.

Each item must pass pydantic *strict* validation, and the keys served must equal the fields the
SDK model declares (by alias), recursively, so the simulator can neither miss nor invent a field.
"""

from __future__ import annotations

import json
import re
import types
from collections.abc import Iterator
from datetime import datetime, timezone
from inspect import isclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import anthropic
import pydantic
import pytest
import requests
from anthropic.pagination import SyncPage, SyncPageCursor
from anthropic.types.organization.api_key import APIKey
from anthropic.types.organization.organization_invite import OrganizationInvite
from anthropic.types.organization.organization_rate_limit import OrganizationRateLimit
from anthropic.types.organization.organization_user import OrganizationUser
from anthropic.types.organization.workspace import Workspace
from anthropic.types.organization.workspace_member import WorkspaceMember
from anthropic.types.organization.workspaces.workspace_rate_limit import WorkspaceRateLimit
from anthropic.types.organization_info import OrganizationInfo

from tap_claude_developer.simulator import Simulator

NOW = datetime(2026, 12, 3, 15, 30, tzinfo=timezone.utc)
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
ENVELOPE_KEYS = {"data", "has_more", "first_id", "last_id"}


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(now=NOW) as simulator:
        yield simulator


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def _get(sim: Simulator, http: requests.Session, key: str, path: str, **params: Any) -> Any:
    headers = {"x-api-key": key, "anthropic-version": "2023-06-01"}
    response = http.get(sim.url + path, params=params, headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


# --------------------------------------------------------------------------- key-set checking


def _model_keys(model: type[pydantic.BaseModel]) -> set[str]:
    return {info.alias or name for name, info in model.model_fields.items()}


def _literal_values(annotation: Any) -> set[Any]:
    if get_origin(annotation) is Annotated:
        return _literal_values(get_args(annotation)[0])
    if get_origin(annotation) is Literal:
        return set(get_args(annotation))
    return set()


def _strip(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _variants(annotation: Any) -> list[Any]:
    """Members of a union, flattening nested (e.g. `Optional[Annotated[Union[...]]]`) unions."""
    result = []
    for arg in get_args(annotation):
        arg = _strip(arg)
        if get_origin(arg) in (Union, types.UnionType):
            result.extend(_variants(arg))
        else:
            result.append(arg)
    return result


def assert_exact_keys(value: Any, annotation: Any, where: str) -> None:
    """Recursively compare served keys with the model's declared fields; check timestamps."""
    annotation = _strip(annotation)
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        variants = _variants(annotation)
        if value is None:
            assert type(None) in variants, f"{where}: null not allowed"
            return
        variants = [a for a in variants if a is not type(None)]
        if isinstance(value, dict):
            models = [m for m in variants if isclass(m) and issubclass(m, pydantic.BaseModel)]
            if len(models) > 1:  # discriminated by `type`
                models = [m for m in models if value.get("type") in _literal_values(m.model_fields["type"].annotation)]
            assert len(models) == 1, f"{where}: no single variant for {value!r}"
            assert_exact_keys(value, models[0], where)
        elif isinstance(value, list):
            (list_type,) = [v for v in variants if get_origin(v) is list]
            assert_exact_keys(value, list_type, where)
        else:
            for variant in variants:
                assert_exact_keys(value, variant, where)
        return
    if isclass(annotation) and issubclass(annotation, pydantic.BaseModel):
        assert isinstance(value, dict), f"{where}: expected an object"
        declared = _model_keys(annotation)
        assert set(value) == declared, (
            f"{where} ({annotation.__name__}): missing {declared - set(value)}, invented {set(value) - declared}"
        )
        for name, info in annotation.model_fields.items():
            assert_exact_keys(value[info.alias or name], info.annotation, f"{where}.{name}")
        return
    if origin is list:
        for i, item in enumerate(value):
            assert_exact_keys(item, get_args(annotation)[0], f"{where}[{i}]")
    elif origin is dict:
        for key, item in value.items():
            assert_exact_keys(item, get_args(annotation)[1], f"{where}.{key}")
    elif annotation is datetime:
        assert isinstance(value, str), f"{where}: {value!r}"
        assert TIMESTAMP.fullmatch(value), f"{where}: {value!r}"


def validate(item: Any, model: type[pydantic.BaseModel], where: str) -> None:
    model.model_validate_json(json.dumps(item), strict=True)
    assert_exact_keys(item, model, where)


def validate_page(page: Any, model: type[pydantic.BaseModel], id_key: str, where: str) -> None:
    assert set(page) == ENVELOPE_KEYS == _model_keys(SyncPage[model])  # type: ignore[valid-type]
    assert isinstance(page["has_more"], bool)
    assert isinstance(page["data"], list)
    ids = [item[id_key] for item in page["data"]]
    assert page["first_id"] == (ids[0] if ids else None)
    assert page["last_id"] == (ids[-1] if ids else None)
    for i, item in enumerate(page["data"]):
        validate(item, model, f"{where}[{i}]")


def fetch_all(
    sim: Simulator,
    http: requests.Session,
    key: str,
    path: str,
    model: type[pydantic.BaseModel],
    id_key: str = "id",
    **params: Any,
) -> list[Any]:
    """Page through a list with a small limit, validating every envelope and item."""
    items: list[Any] = []
    cursor: dict[str, str] = {}
    while True:
        page = _get(sim, http, key, path, limit=7, **params, **cursor)
        validate_page(page, model, id_key, path)
        items.extend(page["data"])
        if not page["has_more"]:
            return items
        cursor = {"after_id": page["last_id"]}


# --------------------------------------------------------------------------- the contract


def test_organization_info(sim: Simulator, http: requests.Session) -> None:
    for org in sim.orgs:
        info = _get(sim, http, org.key, "/v1/organizations/me")
        validate(info, OrganizationInfo, "me")
        assert info == {"id": org.id, "name": org.name, "type": "organization"}


def test_users(sim: Simulator, http: requests.Session) -> None:
    for org in sim.orgs:
        users = fetch_all(sim, http, org.key, "/v1/organizations/users", OrganizationUser)
        assert users == org.users
        for user in users[:3]:
            one = _get(sim, http, org.key, f"/v1/organizations/users/{user['id']}")
            validate(one, OrganizationUser, "user")
            assert one == user


def test_invites(sim: Simulator, http: requests.Session) -> None:
    for org in sim.orgs:
        invites = fetch_all(sim, http, org.key, "/v1/organizations/invites", OrganizationInvite)
        assert invites == org.invites
        for invite in invites[:3]:
            one = _get(sim, http, org.key, f"/v1/organizations/invites/{invite['id']}")
            validate(one, OrganizationInvite, "invite")


def test_workspaces(sim: Simulator, http: requests.Session) -> None:
    for org in sim.orgs:
        workspaces = fetch_all(
            sim,
            http,
            org.key,
            "/v1/organizations/workspaces",
            Workspace,
            include_archived="true",
            include_default="true",
        )
        assert workspaces == org.workspaces
        for workspace in workspaces:
            one = _get(sim, http, org.key, f"/v1/organizations/workspaces/{workspace['id']}")
            validate(one, Workspace, "workspace")


def test_workspace_members(sim: Simulator, http: requests.Session) -> None:
    for org in sim.orgs:
        for workspace_id, expected in org.members.items():
            path = f"/v1/organizations/workspaces/{workspace_id}/members"
            members = fetch_all(sim, http, org.key, path, WorkspaceMember, id_key="user_id")
            assert members == expected
            for member in members[:2]:
                one = _get(sim, http, org.key, f"{path}/{member['user_id']}")
                validate(one, WorkspaceMember, "member")


def test_api_keys(sim: Simulator, http: requests.Session) -> None:
    for org in sim.orgs:
        keys = fetch_all(sim, http, org.key, "/v1/organizations/api_keys", APIKey)
        assert keys == org.api_keys
        for key in keys[:3]:
            one = _get(sim, http, org.key, f"/v1/organizations/api_keys/{key['id']}")
            validate(one, APIKey, "api_key")


def fetch_cursor_pages(
    sim: Simulator, http: requests.Session, key: str, path: str, model: type[pydantic.BaseModel], **params: Any
) -> list[Any]:
    """Follow ``next_page`` until null (the rate-limit lists' scheme), validating every envelope and item."""
    items: list[Any] = []
    cursor: dict[str, str] = {}
    while True:
        page = _get(sim, http, key, path, **params, **cursor)
        assert set(page) == {"data", "next_page"} == _model_keys(SyncPageCursor[model])  # type: ignore[valid-type]
        for i, item in enumerate(page["data"]):
            validate(item, model, f"{path}[{len(items) + i}]")
        items.extend(page["data"])
        if page["next_page"] is None:
            return items
        cursor = {"page": page["next_page"]}


def test_rate_limits(sim: Simulator, http: requests.Session) -> None:
    for org in sim.orgs:
        everything = fetch_cursor_pages(sim, http, org.key, "/v1/organizations/rate_limits", OrganizationRateLimit)
        assert (
            fetch_cursor_pages(sim, http, org.key, "/v1/organizations/rate_limits", OrganizationRateLimit, limit=3)
            == everything
        )
        assert {entry["group"]["type"] for entry in everything} == {
            "batch",
            "files",
            "model_group",
            "skills",
            "token_count",
            "web_search",
        }


def test_workspace_rate_limits(sim: Simulator, http: requests.Session) -> None:
    sources: set[str] = set()
    org_limits: set[int | None] = set()
    for org in sim.orgs:
        for workspace in org.workspaces[1:]:  # the Default Workspace has no entries (404)
            path = f"/v1/organizations/workspaces/{workspace['id']}/rate_limits"
            for inherited in ("false", "true"):
                entries = fetch_cursor_pages(sim, http, org.key, path, WorkspaceRateLimit, include_inherited=inherited)
                paged = fetch_cursor_pages(
                    sim, http, org.key, path, WorkspaceRateLimit, include_inherited=inherited, limit=2
                )
                assert paged == entries
                assert entries
                sources |= {limit["source"]["type"] for entry in entries for limit in entry["limits"]}
                org_limits |= {limit["org_limit"] for entry in entries for limit in entry["limits"]}
    assert sources == {"workspace", "organization"}
    assert None in org_limits


def test_default_data_exercises_every_variant(sim: Simulator) -> None:
    """The contract is only as strong as the data: every enum value and null form must occur."""
    orgs = sim.orgs
    users = [u for o in orgs for u in o.users]
    invites = [i for o in orgs for i in o.invites]
    workspaces = [w for o in orgs for w in o.workspaces]
    members = [m for o in orgs for ms in o.members.values() for m in ms]
    keys = [k for o in orgs for k in o.api_keys]
    assert {u["role"] for u in users} == {"admin", "billing", "claude_code_user", "developer", "user"}
    assert {i["status"] for i in invites} == {"accepted", "expired", "pending"}
    assert {i["accepted_at"] is None for i in invites} == {True, False}
    assert {w["archived_at"] is None for w in workspaces} == {True, False}
    geos = {json.dumps(w["data_residency"]["allowed_inference_geos"]) for w in workspaces}
    assert geos == {'"unrestricted"', '["us"]', '["global", "us"]'}
    assert {m["workspace_role"] for m in members} == {
        "workspace_admin",
        "workspace_billing",
        "workspace_developer",
        "workspace_restricted_developer",
        "workspace_user",
    }
    assert {k["status"] for k in keys} == {"active", "archived", "expired", "inactive"}
    assert {(k["principal"] or {}).get("type") for k in keys} == {
        None,
        "user_actor",
        "service_account_actor",
    }
    assert {k["scope"]["type"] for k in keys} == {"organization", "workspace"}
    assert {(k["created_by"] or {}).get("type") for k in keys} == {None, "user", "service_account"}
    assert {k["expires_at"] is None for k in keys} == {True, False}
    default_ids = {o.default_workspace_id for o in orgs}
    assert any(k["scope"].get("workspace_id") in default_ids for k in keys)


def test_official_sdk_client_reads_the_simulator(sim: Simulator) -> None:
    """The 2.x SDK (Bearer auth, anthropic-version 2026-10-21) pages through the simulator."""
    org = sim.orgs[1]
    client = anthropic.Anthropic(api_key=org.key, base_url=sim.url, max_retries=0)
    try:
        users = list(client.organization.users.list(limit=13))
        assert [u.id for u in users] == [u["id"] for u in org.users]
        keys = list(client.organization.api_keys.list(limit=5, status="active"))
        assert [k.id for k in keys] == [k["id"] for k in org.api_keys if k["status"] == "active"]
    finally:
        client.close()
    last = sim.requests[-1]
    assert last.headers["authorization"] == f"Bearer {org.key}"
    assert last.headers["anthropic-version"] == "2026-10-21"


def test_official_sdk_client_reads_rate_limits(sim: Simulator) -> None:
    """The SDK's own models parse both rate-limit lists, paging on ``next_page``."""
    org = sim.orgs[2]
    workspace_id = org.workspaces[1]["id"]
    client = anthropic.Anthropic(api_key=org.key, base_url=sim.url, max_retries=0)
    try:
        groups = [entry.group.type for entry in client.organization.rate_limits.list(limit=3)]
        assert groups == ["model_group"] * 3 + ["batch", "files", "skills", "token_count", "web_search"]
        inherited = list(client.organization.workspaces.rate_limits.list(workspace_id, include_inherited=True, limit=2))
        assert len(inherited) == 8
        assert {entry.workspace_id for entry in inherited} == {workspace_id}
    finally:
        client.close()
