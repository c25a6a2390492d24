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
from anthropic.pagination import SyncPage, SyncPageCursor, SyncReportPageCursor
from anthropic.types.beta.organization.analytics.beta_analytics_cost_item import BetaAnalyticsCostItem
from anthropic.types.beta.organization.analytics.beta_analytics_usage_item import BetaAnalyticsUsageItem
from anthropic.types.organization.api_key import APIKey
from anthropic.types.organization.organization_invite import OrganizationInvite
from anthropic.types.organization.organization_rate_limit import OrganizationRateLimit
from anthropic.types.organization.organization_user import OrganizationUser
from anthropic.types.organization.workspace import Workspace
from anthropic.types.organization.workspace_member import WorkspaceMember
from anthropic.types.organization.workspaces.workspace_rate_limit import WorkspaceRateLimit
from anthropic.types.organization_info import OrganizationInfo

from tap_claude_developer.simulator import Simulator, analytics

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


def assert_exact_keys(value: Any, annotation: Any, where: str, timestamp: re.Pattern[str] = TIMESTAMP) -> None:
    """Recursively compare served keys with the model's declared fields; check timestamps (``timestamp``)."""
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
            assert_exact_keys(value, models[0], where, timestamp)
        elif isinstance(value, list):
            (list_type,) = [v for v in variants if get_origin(v) is list]
            assert_exact_keys(value, list_type, where, timestamp)
        else:
            for variant in variants:
                assert_exact_keys(value, variant, where, timestamp)
        return
    if isclass(annotation) and issubclass(annotation, pydantic.BaseModel):
        assert isinstance(value, dict), f"{where}: expected an object"
        declared = _model_keys(annotation)
        assert set(value) == declared, (
            f"{where} ({annotation.__name__}): missing {declared - set(value)}, invented {set(value) - declared}"
        )
        for name, info in annotation.model_fields.items():
            assert_exact_keys(value[info.alias or name], info.annotation, f"{where}.{name}", timestamp)
        return
    if origin is list:
        for i, item in enumerate(value):
            assert_exact_keys(item, get_args(annotation)[0], f"{where}[{i}]", timestamp)
    elif origin is dict:
        for key, item in value.items():
            assert_exact_keys(item, get_args(annotation)[1], f"{where}.{key}", timestamp)
    elif annotation is datetime:
        assert isinstance(value, str), f"{where}: {value!r}"
        assert timestamp.fullmatch(value), f"{where}: {value!r}"


def validate(item: Any, model: type[pydantic.BaseModel], where: str, timestamp: re.Pattern[str] = TIMESTAMP) -> None:
    model.model_validate_json(json.dumps(item), strict=True)
    assert_exact_keys(item, model, where, timestamp)


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


# --------------------------------------------------------------------------- Usage and Cost Analytics API

ANALYTICS_BETA = {"anthropic-beta": "analytics-usage-cost-2026-08-24"}
#: Report buckets are whole seconds (admin-api.md §11), not the microseconds of object timestamps.
REPORT_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
ANALYTICS_QUERIES: list[dict[str, Any]] = [
    {"group_by[]": ["actor", "actor_type", "api_key_id", "model", "workspace_id"]},
    {"group_by[]": ["product", "service_tier", "context_window", "inference_geo", "speed"]},
    {"group_by[]": ["agent_id", "session_id", "environment_id", "deployment_id", "organization_id"]},
    {"group_by[]": ["model"], "time_bucket_width": None},  # one row per model for the whole range
    {"group_by[]": [], "time_bucket_width": "1h", "starting_at": "2026-12-02T00:00:00Z"},
]


def fetch_analytics(
    sim: Simulator, http: requests.Session, key: str, report: str, model: type[pydantic.BaseModel], **params: Any
) -> list[Any]:
    """Follow ``next_page`` while ``has_more``, checking the envelope and every row strictly."""
    path = f"/v1/organizations/analytics/{report}"
    headers = {"x-api-key": key, "anthropic-version": "2023-06-01", **ANALYTICS_BETA}
    query = {k: v for k, v in params.items() if v is not None}
    items: list[Any] = []
    cursor: dict[str, str] = {}
    while True:
        response = http.get(sim.url + path, params={**query, **cursor}, headers=headers, timeout=10)
        assert response.status_code == 200, response.text
        page = response.json()
        envelope = {"data", "has_more", "next_page", "data_refreshed_at"}
        assert set(page) == envelope == _model_keys(SyncReportPageCursor[model])  # type: ignore[valid-type]
        assert REPORT_TIMESTAMP.fullmatch(page["data_refreshed_at"])
        for i, item in enumerate(page["data"]):
            validate(item, model, f"{report}[{len(items) + i}]", REPORT_TIMESTAMP)
        items.extend(page["data"])
        if not page["has_more"]:
            assert page["next_page"] is None
            return items
        cursor = {"page": page["next_page"]}


def _analytics_params(query: dict[str, Any], limit: int) -> dict[str, Any]:
    return {
        "starting_at": "2026-11-02T00:00:00Z",
        "ending_at": "2026-12-03T00:00:00Z",
        "time_bucket_width": "1d",
        "order_by": "time",
        "order": "asc",
        "limit": limit,
        **query,
    }


@pytest.mark.parametrize("query", ANALYTICS_QUERIES)
def test_analytics_usage(sim: Simulator, http: requests.Session, query: dict[str, Any]) -> None:
    for org in sim.orgs:
        rows = fetch_analytics(sim, http, org.key, "usage", BetaAnalyticsUsageItem, **_analytics_params(query, 1000))
        assert rows
        paged = fetch_analytics(sim, http, org.key, "usage", BetaAnalyticsUsageItem, **_analytics_params(query, 41))
        assert paged == rows


@pytest.mark.parametrize(
    "query",
    [
        *ANALYTICS_QUERIES,
        {"group_by[]": ["model", "workspace_id", "api_key_id", "cost_type", "token_type"]},
        {"group_by[]": ["workspace_id", "cost_type"]},
        {"group_by[]": ["token_type"]},
    ],
)
def test_analytics_cost(sim: Simulator, http: requests.Session, query: dict[str, Any]) -> None:
    for org in sim.orgs:
        rows = fetch_analytics(sim, http, org.key, "cost", BetaAnalyticsCostItem, **_analytics_params(query, 1000))
        assert rows
        paged = fetch_analytics(sim, http, org.key, "cost", BetaAnalyticsCostItem, **_analytics_params(query, 41))
        assert paged == rows


def test_analytics_data_exercises_every_variant(sim: Simulator, http: requests.Session) -> None:
    """Every actor kind and provider, deleted and present users, every cost and token type occur."""
    query = {"group_by[]": ["actor", "actor_type", "cost_type", "token_type", "model"]}
    rows = [
        row
        for org in sim.orgs
        for row in fetch_analytics(sim, http, org.key, "cost", BetaAnalyticsCostItem, **_analytics_params(query, 1000))
    ]
    actors = [row["group"]["actor"] for row in rows]
    assert {(actor or {}).get("type") for actor in actors} == {
        None,
        "user_actor",
        "service_account_actor",
        "api_actor",
        "federated_actor",
    }
    assert {actor["provider"]["type"] for actor in actors if actor and actor["type"] == "federated_actor"} == {
        "aws",
        "azure",
        "gcp",
        "oidc",
    }
    users = [actor for actor in actors if actor and actor["type"] == "user_actor"]
    assert {user["deleted"] for user in users} == {True, False}
    assert None in {user["email_address"] for user in users}
    assert {row["group"]["cost_type"] for row in rows} == {"tokens", "web_search", "code_execution", "session_usage"}
    assert {row["group"]["token_type"] for row in rows} == {
        None,
        "uncached_input_tokens",
        "cache_read_input_tokens",
        "output_tokens",
        "cache_creation.ephemeral_5m_input_tokens",
        "cache_creation.ephemeral_1h_input_tokens",
    }
    assert {row["group"]["model"] is None for row in rows} == {True, False}  # code execution has no model
    default_workspaces = {org.default_workspace_id for org in sim.orgs}
    workspace_rows = [
        row
        for org in sim.orgs
        for row in fetch_analytics(
            sim,
            http,
            org.key,
            "usage",
            BetaAnalyticsUsageItem,
            **_analytics_params({"group_by[]": ["workspace_id"]}, 1000),
        )
    ]
    assert default_workspaces <= {row["group"]["workspace_id"] for row in workspace_rows}  # real ids, never null


def test_official_sdk_client_reads_analytics(sim: Simulator) -> None:
    """The SDK's own beta resources page through both reports and send the beta header themselves."""
    org = sim.orgs[0]
    client = anthropic.Anthropic(api_key=org.key, base_url=sim.url, max_retries=0)
    params: dict[str, Any] = {
        "starting_at": "2026-11-20T00:00:00Z",
        "ending_at": "2026-12-03T00:00:00Z",
        "time_bucket_width": "1d",
        "group_by": ["model", "api_key_id"],
        "order_by": "time",
        "order": "asc",
    }
    try:
        usage = list(client.beta.organization.analytics.usage.list(**params, limit=9))
        cost = list(client.beta.organization.analytics.cost.list(**params, limit=9))
    finally:
        client.close()
    assert [row.starting_at for row in usage] == sorted(row.starting_at for row in usage)
    assert sum(row.usage.output_tokens for row in usage) == sum(
        fact.usage["output_tokens"]
        for fact in analytics.facts_between(
            org, sim.seed, datetime(2026, 11, 20, tzinfo=timezone.utc), datetime(2026, 12, 3, tzinfo=timezone.utc)
        )
    )
    assert len({(row.starting_at, row.group.model, row.group.api_key_id) for row in cost}) == len(cost)
    assert sim.requests[-1].headers["anthropic-beta"] == "analytics-usage-cost-2026-08-24"


# --------------------------------------------------------------------------- messages usage and cost reports
# The SDK has no model of these classic reports (admin-api.md §0); it does model their nested
# counter objects (the Analytics API's usage has the same ones) and every enum they use.

REPORT_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def report_results(page: Any, where: str) -> list[Any]:
    assert set(page) == {"data", "has_more", "next_page"}
    assert page["has_more"] is False
    assert page["next_page"] is None
    results = []
    for bucket in page["data"]:
        assert set(bucket) == {"starting_at", "ending_at", "results"}, where
        assert REPORT_TIMESTAMP.fullmatch(bucket["starting_at"])
        assert REPORT_TIMESTAMP.fullmatch(bucket["ending_at"])
        results += bucket["results"]
    return results


def test_messages_usage_report(sim: Simulator, http: requests.Session) -> None:
    from anthropic.types.beta.beta_cache_creation import BetaCacheCreation
    from anthropic.types.beta.organization.beta_analytics_context_window import BetaAnalyticsContextWindow
    from anthropic.types.beta.organization.beta_analytics_inference_geo_filter import BetaAnalyticsInferenceGeoFilter
    from anthropic.types.beta.organization.beta_analytics_server_tool_use import BetaAnalyticsServerToolUse
    from anthropic.types.beta.organization.beta_analytics_service_tier import BetaAnalyticsServiceTier

    dimensions = ["account_id", "api_key_id", "context_window", "inference_geo", "model"]
    dimensions += ["service_account_id", "service_tier", "workspace_id"]
    page = _get(
        sim,
        http,
        sim.admin_keys[0],
        "/v1/organizations/usage_report/messages",
        starting_at="2026-11-03T00:00:00Z",
        ending_at="2026-12-03T00:00:00Z",
        limit=31,
        **{"group_by[]": dimensions},
    )
    results = report_results(page, "usage_report/messages")
    for i, row in enumerate(results):
        validate(row["cache_creation"], BetaCacheCreation, f"results[{i}].cache_creation")
        validate(row["server_tool_use"], BetaAnalyticsServerToolUse, f"results[{i}].server_tool_use")
        assert all(
            type(row[name]) is int for name in ("uncached_input_tokens", "cache_read_input_tokens", "output_tokens")
        )
    enums = {
        "service_tier": _literal_values(BetaAnalyticsServiceTier),
        "context_window": _literal_values(BetaAnalyticsContextWindow),
        "inference_geo": _literal_values(BetaAnalyticsInferenceGeoFilter),
    }
    for name, allowed in enums.items():
        assert {row[name] for row in results} == allowed, name  # every value, and nothing else


def test_cost_report(sim: Simulator, http: requests.Session) -> None:
    from anthropic.types.beta.organization.beta_analytics_context_window import BetaAnalyticsContextWindow
    from anthropic.types.beta.organization.beta_analytics_grouped_cost_type import BetaAnalyticsGroupedCostType
    from anthropic.types.beta.organization.beta_analytics_inference_geo_filter import BetaAnalyticsInferenceGeoFilter
    from anthropic.types.beta.organization.beta_analytics_service_tier import BetaAnalyticsServiceTier
    from anthropic.types.beta.organization.beta_analytics_token_type import BetaAnalyticsTokenType

    page = _get(
        sim,
        http,
        sim.admin_keys[0],
        "/v1/organizations/cost_report",
        starting_at="2026-11-03T00:00:00Z",
        ending_at="2026-12-03T00:00:00Z",
        limit=31,
        **{"group_by[]": ["workspace_id", "description"]},
    )
    results = report_results(page, "cost_report")
    assert {row["currency"] for row in results} == {"USD"}
    assert all(re.fullmatch(r"[0-9]+(\.[0-9]+)?", row["amount"]) for row in results)
    allowed = {
        "cost_type": _literal_values(BetaAnalyticsGroupedCostType) - {"session_usage"},  # not simulated
        "token_type": _literal_values(BetaAnalyticsTokenType) | {None},
        "service_tier": {"batch", "standard", None},  # a subset of the SDK's tiers; Priority is not billed here
        "context_window": _literal_values(BetaAnalyticsContextWindow) | {None},
        "inference_geo": _literal_values(BetaAnalyticsInferenceGeoFilter) | {None},
    }
    assert allowed["service_tier"] - {None} <= _literal_values(BetaAnalyticsServiceTier)
    for name, values in allowed.items():
        assert {row[name] for row in results} == values, name
