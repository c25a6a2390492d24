"""Rate limits (admin-api.md §5.10, §5.11): the organization's and each workspace's.

Both are derived on demand from (seed, organization, workspace): a fixed catalogue of groups (the
group ids are the same in every organization, the entry ids differ), per-organization values, and
a few workspace overrides. Served in the newest shape (``group`` {type, id, display_name}) or, with
``Simulator(rate_limit_shape="legacy")``, the Aug-2026 one (``group_type`` and no ``group``).
Importing this module registers the routes.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
from collections.abc import Sequence

from .data import Json, OrgState, hashed_id
from .server import ApiError, Request, route

GROUP_TYPES = ("batch", "files", "model_group", "skills", "token_count", "web_search")
_MODEL_LIMITS = (
    ("requests_per_minute", 4000),
    ("input_tokens_per_minute_cache_aware", 2_000_000),
    ("output_tokens_per_minute", 400_000),
)
#: (group type, display name, models, limits): the organization's entries, in the order served.
_CATALOGUE: tuple[tuple[str, str | None, tuple[str, ...] | None, tuple[tuple[str, int], ...]], ...] = (
    (
        "model_group",
        "Claude Opus 4.x",
        ("claude-opus-4-1", "claude-opus-4-1-20250805", "claude-opus-4-5", "claude-opus-4-6"),
        _MODEL_LIMITS,
    ),
    (
        "model_group",
        "Claude Sonnet 4.x",
        ("claude-sonnet-4-5", "claude-sonnet-4-5-20250929", "claude-sonnet-4-6"),
        _MODEL_LIMITS,
    ),
    (
        "model_group",
        "Claude Haiku 4.x",
        ("claude-haiku-4-5", "claude-haiku-4-5-20251001"),
        (("requests_per_minute", 4000), ("input_tokens_per_minute", 4_000_000), ("output_tokens_per_minute", 800_000)),
    ),
    ("batch", None, None, (("enqueued_batch_requests", 500_000),)),
    ("files", None, None, (("requests_per_minute", 1000),)),
    ("skills", None, None, (("requests_per_minute", 500),)),
    ("token_count", None, None, (("requests_per_minute", 8000),)),
    ("web_search", None, None, (("tool_uses_per_second", 30),)),
)
#: A limiter a workspace may set although the organization has none of that type (org_limit null).
_EXTRA_LIMITER = "tokens_per_day"


def org_limits(org: OrgState, seed: int) -> list[Json]:
    """The organization's entries (newest shape); its tier scales every value."""
    tier = random.Random(f"{seed}:{org.index}:rate-limit-tier").choice((1, 2, 4))
    entries = []
    for kind, display_name, models, limits in _CATALOGUE:
        name = display_name or kind
        group: Json = {"type": kind, "id": hashed_id("rlg", name)}  # the same id in every organization
        if display_name is not None:
            group["display_name"] = display_name
        entries.append(
            {
                "type": "rate_limit",
                "id": hashed_id("rl", seed, org.id, name),
                "group": group,
                "models": list(models) if models is not None else None,
                "limits": [{"type": limiter, "value": value * tier} for limiter, value in limits],
            }
        )
    return entries


def _overrides(org: OrgState, seed: int, workspace_id: str, entries: Sequence[Json]) -> dict[str, dict[str, int]]:
    """rate_limit_id -> {limiter type: workspace value}: at least one override per workspace."""
    rng = random.Random(f"{seed}:{org.index}:{workspace_id}:rate-limits")
    models = [e for e in entries if e["group"]["type"] == "model_group"]
    result: dict[str, dict[str, int]] = {}
    for n, entry in enumerate(models):
        if n > 0 and rng.random() < 0.6:
            continue
        chosen = rng.sample(entry["limits"], rng.randint(1, 2))
        values = {limit["type"]: limit["value"] // rng.choice((2, 4, 10)) for limit in chosen}
        if rng.random() < 0.3:
            values[_EXTRA_LIMITER] = rng.choice((10_000_000, 50_000_000))
        result[entry["id"]] = values
    return result


def workspace_limits(org: OrgState, seed: int, workspace_id: str, *, include_inherited: bool) -> list[Json]:
    """A workspace's entries (newest shape): overrides only, or every limiter with its source."""
    entries = org_limits(org, seed)
    overrides = _overrides(org, seed, workspace_id, entries)
    result = []
    for entry in entries:
        own = overrides.get(entry["id"], {})
        if not own and not include_inherited:
            continue
        org_values = {limit["type"]: limit["value"] for limit in entry["limits"]}
        limits = []
        for limiter in [*org_values, *(name for name in own if name not in org_values)]:
            if limiter in own:
                value, source = own[limiter], "workspace"
            elif include_inherited:
                value, source = org_values[limiter], "organization"
            else:
                continue
            limits.append(
                {"type": limiter, "value": value, "org_limit": org_values.get(limiter), "source": {"type": source}}
            )
        result.append(
            {
                "type": "workspace_rate_limit",
                "workspace_id": workspace_id,
                "rate_limit_id": entry["id"],
                "group": entry["group"],
                "models": entry["models"],
                "limits": limits,
            }
        )
    return result


def legacy_rate_limit(entry: Json) -> Json:
    """The Aug-2026 documented shape (admin-api.md §5.10, CONFLICT §10.2): ``group_type``, no ``group``."""
    result = {key: value for key, value in entry.items() if key != "group"}
    result["group_type"] = entry["group"]["type"]
    return result


# --------------------------------------------------------------------------- paging


def _token(query: Json, offset: int) -> str:
    return "page_" + base64.urlsafe_b64encode(json.dumps({"query": query, "offset": offset}).encode()).decode()


def _page(request: Request, items: list[Json], query: Json) -> Json:
    """Everything in one page without ``limit``; else ``limit`` items and a token bound to the query."""
    token = request.param("page")
    limit = request.limit() if request.param("limit") is not None or token is not None else len(items)
    query = {**query, "limit": limit}
    offset = 0
    if token is not None:
        try:
            state = json.loads(base64.urlsafe_b64decode(token.removeprefix("page_").encode()))
            bound, offset = state["query"], int(state["offset"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise ApiError(400, "page: invalid page token") from None
        if bound != query:
            raise ApiError(400, "page: the page token belongs to a different query")
    page = items[offset : offset + limit]
    if request.backend.rate_limit_shape == "legacy":
        page = [legacy_rate_limit(item) for item in page]
    more = offset + limit < len(items)
    return {"data": page, "next_page": _token(query, offset + limit) if more else None}


def _group_type(request: Request) -> str | None:
    kind = request.param("group_type")
    if kind is not None and kind not in GROUP_TYPES:
        raise ApiError(400, f"group_type: expected one of {', '.join(GROUP_TYPES)}")
    return kind


# --------------------------------------------------------------------------- routes


@route(r"/v1/organizations/rate_limits")
def list_rate_limits(request: Request) -> Json:
    org = request.org
    kind, model = _group_type(request), request.param("model")
    items = [e for e in org_limits(org, request.backend.seed) if kind is None or e["group"]["type"] == kind]
    if model is not None:
        items = [e for e in items if model in (e["models"] or [])]
        if not items:  # §5.10: an unknown model (or one without limits) is a 404
            raise ApiError(404, f"model: no rate limits for model {model!r}")
    return _page(request, items, {"org": org.id, "group_type": kind, "model": model})


@route(r"/v1/organizations/workspaces/(?P<ws>[^/]+)/rate_limits")
def list_workspace_rate_limits(request: Request) -> Json:
    org = request.org
    workspace_id = request.match["ws"]
    if workspace_id not in {w["id"] for w in org.workspaces}:
        raise ApiError(404, f"Workspace {workspace_id!r} not found.")
    if workspace_id == org.default_workspace_id:
        # UNCERTAIN (admin-api.md §5.11): the Default Workspace "has no entry" and cannot have
        # overrides; what the endpoint answers is undocumented. We answer 404 not_found_error.
        raise ApiError(404, "The Default Workspace has no rate-limit entries.")
    kind, inherited = _group_type(request), request.boolean("include_inherited")
    items = [
        e
        for e in workspace_limits(org, request.backend.seed, workspace_id, include_inherited=inherited)
        if kind is None or e["group"]["type"] == kind
    ]
    query = {"org": org.id, "workspace": workspace_id, "group_type": kind, "include_inherited": inherited}
    return _page(request, items, query)
