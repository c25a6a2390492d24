"""Usage and Cost Analytics API (admin-api.md §5.12, beta): ``GET /v1/organizations/analytics/usage``
and ``GET /v1/organizations/analytics/cost``. Importing this module registers both routes.

Data: each organization has ``OrgSpec.analytics_facts_per_day`` message *facts* a day (one fact = some
requests by one identity, with one key, model, workspace, tier ... at one instant) plus a few
code-execution facts. A day's facts are generated on demand from (seed, organization, day) and the
organization's workspaces, API keys, users and service accounts that existed on that day, never
stored, so any 365-day range costs nothing until asked for. A query aggregates the facts of its
range by time bucket and ``group_by[]`` dimensions; ``facts()`` is public so tests can compute every
total independently of that aggregation.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import hashlib
import json
import random
import threading
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from .data import Json, OrgState, fmt_ts, hashed_id
from .server import ApiError, Request, route

BETA = "analytics-usage-cost-2026-08-24"
EARLIEST = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
MAX_LOOKBACK = dt.timedelta(days=365)
MAX_RANGE = dt.timedelta(days=31)
MAX_MINUTE_RANGE = dt.timedelta(hours=24)
MAX_GROUP_BY = 5
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
DEFAULT_LIMIT, MAX_LIMIT = 20, 1000
WIDTHS = {"1d": dt.timedelta(days=1), "1h": dt.timedelta(hours=1), "1m": dt.timedelta(minutes=1)}
#: Every dimension of a usage row's ``group`` (SDK BetaAnalyticsUsageGroup); cost adds COST_ONLY.
DIMENSIONS = (
    "actor",
    "actor_type",
    "agent_id",
    "api_key_id",
    "claude_tag_category",
    "claude_tag_user_id",
    "context_window",
    "deployment_id",
    "environment_id",
    "inference_geo",
    "model",
    "organization_id",
    "product",
    "rbac_group_id",
    "service_tier",
    "session_id",
    "slack_channel_id",
    "speed",
    "user_profile_id",
    "workspace_id",
)
COST_ONLY = ("cost_type", "token_type")  # cost only; they count neither toward the 5 nor toward `limit`
TOKEN_TYPES = (
    "uncached_input_tokens",
    "cache_read_input_tokens",
    "output_tokens",
    "cache_creation.ephemeral_5m_input_tokens",
    "cache_creation.ephemeral_1h_input_tokens",
)
ORDER_BY = {
    "usage": ("total_tokens", "output_tokens", "requests", "uncached_input_tokens", "time"),
    "cost": ("amount", "list_amount", "time"),
}
#: Filters (`<name>[]`) and the dimension each one matches; None in ALLOWED means any non-empty string.
FILTERS = {
    "actor_types": "actor_type",
    "agent_ids": "agent_id",
    "api_key_ids": "api_key_id",
    "claude_tag_categories": "claude_tag_category",
    "claude_tag_user_ids": "claude_tag_user_id",
    "context_windows": "context_window",
    "deployment_ids": "deployment_id",
    "environment_ids": "environment_id",
    "inference_geos": "inference_geo",
    "models": "model",
    "organization_ids": "organization_id",
    "products": "product",
    "rbac_group_ids": "rbac_group_id",
    "service_tiers": "service_tier",
    "session_ids": "session_id",
    "slack_channel_ids": "slack_channel_id",
    "speeds": "speed",
    "user_profile_ids": "user_profile_id",
    "workspace_ids": "workspace_id",
}
ALLOWED = {
    "actor_types": ("api_actor", "federated_actor", "service_account_actor", "user_actor"),
    "claude_tag_categories": ("dm", "engaged", "monitoring", "proactive", "scheduled"),
    "context_windows": ("0-200k", "200k-1M"),
    "inference_geos": ("global", "us", "not_available"),
    "service_tiers": ("batch", "flex", "flex_discount", "priority", "priority_on_demand", "standard"),
    "speeds": ("fast", "standard"),
}

#: Cents per token at list price: (input, output). Cache reads cost 0.1x input, 5-minute cache
#: writes 1.25x, 1-hour writes 2x; the 200k-1M window doubles input and adds half to output;
#: batch halves everything. Realistic, not authoritative: tests check sums, not prices.
RATES = {
    "claude-opus-4-6": (Decimal("0.0005"), Decimal("0.0025")),
    "claude-sonnet-4-6": (Decimal("0.0003"), Decimal("0.0015")),
    "claude-sonnet-4-5-20250929": (Decimal("0.0003"), Decimal("0.0015")),
    "claude-haiku-4-5-20251001": (Decimal("0.0001"), Decimal("0.0005")),
}
WEB_SEARCH_CENTS = Decimal(1)  # $10 per 1000 searches
CODE_EXECUTION_CENTS = Decimal("0.8333")  # per execution span
SESSION_CENTS = Decimal("1.25")  # per managed-agent session hour, billed per request here
_PRODUCTS = {"messages_api": 6, "message_batches_api": 2, "claude_code": 3, "managed_agents_api": 1}


@dataclasses.dataclass(frozen=True)
class CostLine:
    cost_type: str
    token_type: str | None
    amount: Decimal  # cents after the organization's discount
    list_amount: Decimal  # cents at list price


@dataclasses.dataclass(frozen=True)
class Fact:
    """Usage by one identity at one instant: every dimension, every counter, its cost lines.

    ``identity`` tells apart identities the API cannot render: their ``actor`` reads null, yet
    each stays its own row when grouping by actor (SDK BetaAnalyticsUsageGroup.actor).
    """

    at: dt.datetime
    dims: Json
    usage: Json  # uncached_input_tokens, cache_read_input_tokens, output_tokens, 5m, 1h, web_search_requests, requests
    costs: tuple[CostLine, ...]
    identity: str

    @property
    def total_tokens(self) -> int:
        u = self.usage
        return int(
            u["uncached_input_tokens"]
            + u["cache_read_input_tokens"]
            + u["output_tokens"]
            + u["ephemeral_5m_input_tokens"]
            + u["ephemeral_1h_input_tokens"]
        )


def discount(org: OrgState) -> Decimal:
    """Share of list price the organization pays: 100%, 95%, 90%, 85%, then again."""
    return Decimal(100 - 5 * (org.index % 4)) / 100


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)


def _former_users(seed: int, org: OrgState) -> list[Json]:
    """Two people who used the API and have since left: one removed, one whose account is deleted."""
    removed = hashed_id("user", seed, org.index, "former-1")
    deleted = hashed_id("user", seed, org.index, "former-2")
    return [
        {"type": "user_actor", "user_id": removed, "email_address": f"left.early@{org.domain}", "name": "Robin Vale"},
        {"type": "user_actor", "user_id": deleted, "email_address": None, "name": "Deleted User"},
    ]


def _federated(seed: int, org: OrgState) -> list[Json]:
    """Workload-identity callers, one per provider kind, and one the API cannot render (None)."""
    return [
        {
            "type": "federated_actor",
            "provider": {
                "type": "aws",
                "account_id": "123456789012",
                "signed_principal": "arn:aws:iam::123456789012:role/etl",
            },
            "subject": "arn:aws:iam::123456789012:role/etl",
        },
        {
            "type": "federated_actor",
            "provider": {"type": "gcp", "project_number": "801234567890"},
            "subject": f"serviceAccount:batch@{org.domain}",
        },
        {"type": "federated_actor", "provider": {"type": "azure", "subscription_id": "0f1e2d3c"}, "subject": None},
        {"type": "federated_actor", "provider": {"type": "oidc", "issuer": None}, "subject": "repo:acme/app"},
    ]


def _pick_actor(rng: random.Random, org: OrgState, seed: int, key: Json | None, users: list[Json]) -> Json | None:
    """The identity usage is attributed to: the key's principal, else a user, key or federated caller."""
    principal = (key or {}).get("principal") or {}
    if principal.get("type") == "user_actor":
        user = next((u for u in org.users if u["id"] == principal["user_id"]), None)
        return _user_actor(user) if user else None
    if principal.get("type") == "service_account_actor":
        return {"type": "service_account_actor", "service_account_id": principal["service_account_id"]}
    roll = rng.random()
    if key is not None and roll < 0.6:
        return {"type": "api_actor", "api_key_id": key["id"]}
    if roll < 0.85 and users:
        return _user_actor(rng.choice(users))
    if roll < 0.9:
        return rng.choice(_former_users(seed, org))
    return rng.choice([*_federated(seed, org), None, None])  # None: an identity the API cannot render


def _user_actor(user: Json) -> Json:
    return {"type": "user_actor", "user_id": user["id"], "email_address": user["email"], "name": user["name"]}


def _token_lines(model: str, usage: Json, tier: str | None, window: str | None, share: Decimal) -> list[CostLine]:
    into, out = RATES[model]
    if window == "200k-1M":
        into, out = into * 2, out * Decimal("1.5")
    factor = Decimal("0.5") if tier == "batch" else Decimal(1)
    rates = (into, into / 10, out, into * Decimal("1.25"), into * 2)
    counts = (
        usage["uncached_input_tokens"],
        usage["cache_read_input_tokens"],
        usage["output_tokens"],
        usage["ephemeral_5m_input_tokens"],
        usage["ephemeral_1h_input_tokens"],
    )
    lines = []
    for token_type, rate, count in zip(TOKEN_TYPES, rates, counts, strict=True):
        listed = rate * factor * count
        lines.append(CostLine("tokens", token_type, listed * share, listed))
    return lines


def facts(org: OrgState, seed: int, day: dt.date) -> list[Fact]:
    """Every fact of ``day`` (time order), whether or not the clock has reached it yet.

    Cached per day for as long as the organization's lists are the same objects (mutators replace
    them, data.py), so paging through a report does not generate its days again for every page.
    """
    basis = (org.workspaces, org.api_keys, org.users, org.spec)
    cache_key = (seed, org.id, day)
    with _FACTS_LOCK:  # simulators in one process share the cache
        cached = _FACTS.get(cache_key)
    if cached is not None and all(a is b for a, b in zip(cached[0], basis, strict=True)):
        return cached[1]
    result = _generate(org, seed, day)
    with _FACTS_LOCK:
        _FACTS[cache_key] = (basis, result)
        while len(_FACTS) > _FACTS_KEPT:
            del _FACTS[next(iter(_FACTS))]
    return result


_FACTS: dict[tuple[int, str, dt.date], tuple[tuple[Any, ...], list[Fact]]] = {}
_FACTS_LOCK = threading.Lock()
_FACTS_KEPT = 400  # days (a 365-day backfill plus a month), oldest dropped first


def _generate(org: OrgState, seed: int, day: dt.date) -> list[Fact]:
    rng = random.Random(f"{seed}:{org.index}:analytics:{day.isoformat()}")
    start = _midnight(day)
    # Timestamps in data.py have one fixed width: comparing strings compares instants.
    begin, end = fmt_ts(start), fmt_ts(start + dt.timedelta(days=1))
    workspaces = [
        w for w in org.workspaces if w["created_at"] < end and (w["archived_at"] is None or w["archived_at"] > begin)
    ]
    live = {w["id"] for w in workspaces}
    keys = [
        k
        for k in org.api_keys
        if k["created_at"] < end and k["scope"].get("workspace_id", org.default_workspace_id) in live
    ]
    users = [u for u in org.users if u["added_at"] < end]
    share = discount(org)
    count = org.spec.analytics_facts_per_day
    result = []
    for n in range(count + count // 6):
        at = start + dt.timedelta(seconds=rng.randrange(86_400))
        key = rng.choice(keys) if keys and rng.random() < 0.85 else None
        workspace = (key or {}).get("scope", {}).get("workspace_id")
        if workspace is None:
            workspace = rng.choice(workspaces)["id"] if key is not None and workspaces else org.default_workspace_id
        actor = _pick_actor(rng, org, seed, key, users)
        dims: Json = dict.fromkeys(DIMENSIONS)
        dims.update(
            actor=actor,
            actor_type=actor["type"] if actor else "federated_actor",
            api_key_id=key["id"] if key else None,
            organization_id=org.id,
            workspace_id=workspace,
        )
        identity = json.dumps(actor, sort_keys=True) if actor else f"hidden-{n % 2}"
        if n >= count:  # a code-execution fact: no model, tier, window, region or product (SDK docs)
            spans = rng.randint(1, 40)
            usage = _usage(rng, zero=True) | {"requests": spans}
            costs = [
                CostLine("code_execution", None, CODE_EXECUTION_CENTS * spans * share, CODE_EXECUTION_CENTS * spans)
            ]
            result.append(Fact(at, dims, usage, tuple(costs), identity))
            continue
        product = rng.choices(list(_PRODUCTS), weights=list(_PRODUCTS.values()))[0] if key else "claude_console"
        model = rng.choice(sorted(RATES))
        tier = "batch" if product == "message_batches_api" else rng.choice(("standard", "standard", "priority", "flex"))
        window = "200k-1M" if "sonnet" in model and rng.random() < 0.2 else "0-200k"
        dims.update(
            model=model,
            product=product,
            service_tier=tier,
            context_window=window,
            # Models before the 4.6 generation cannot set a region: null (admin-api.md §5.7).
            inference_geo=rng.choice(("global", "us")) if "4-6" in model else None,
            speed="fast" if model == "claude-opus-4-6" and rng.random() < 0.3 else "standard",
        )
        if product == "managed_agents_api":
            dims.update(
                agent_id=hashed_id("agent", seed, org.index, rng.randrange(3)),
                environment_id=hashed_id("env", seed, org.index, rng.randrange(2)),
                session_id=hashed_id("sesn", seed, org.index, day.isoformat(), n),
                deployment_id=rng.choice((None, hashed_id("depl", seed, org.index, 0))),
            )
        usage = _usage(rng)
        costs = _token_lines(model, usage, tier, window, share)
        if usage["web_search_requests"]:
            listed = WEB_SEARCH_CENTS * usage["web_search_requests"]
            costs.append(CostLine("web_search", None, listed * share, listed))
        if product == "managed_agents_api":
            listed = SESSION_CENTS * usage["requests"]
            costs.append(CostLine("session_usage", None, listed * share, listed))
        result.append(Fact(at, dims, usage, tuple(costs), identity))
    result.sort(key=lambda fact: fact.at)
    return result


def _usage(rng: random.Random, *, zero: bool = False) -> Json:
    if zero:
        return dict.fromkeys(
            (
                "uncached_input_tokens",
                "cache_read_input_tokens",
                "output_tokens",
                "ephemeral_5m_input_tokens",
                "ephemeral_1h_input_tokens",
                "web_search_requests",
            ),
            0,
        )
    return {
        "uncached_input_tokens": rng.randint(1_000, 250_000),
        "cache_read_input_tokens": rng.choice((0, rng.randint(1, 900_000))),
        "output_tokens": rng.randint(100, 80_000),
        "ephemeral_5m_input_tokens": rng.choice((0, rng.randint(1, 60_000))),
        "ephemeral_1h_input_tokens": rng.choice((0, 0, rng.randint(1, 20_000))),
        "web_search_requests": rng.choice((0, 0, 0, rng.randint(1, 30))),
        "requests": rng.randint(1, 400),
    }


def facts_between(org: OrgState, seed: int, start: dt.datetime, end: dt.datetime) -> Iterable[Fact]:
    """Facts with ``start <= at < end``, one day at a time."""
    day = start.date()
    while _midnight(day) < end:
        for fact in facts(org, seed, day):
            if start <= fact.at < end:
                yield fact
        day += dt.timedelta(days=1)


# --------------------------------------------------------------------------- the query


@dataclasses.dataclass(frozen=True)
class Query:
    report: str  # "usage" or "cost"
    start: dt.datetime
    end: dt.datetime
    width: dt.timedelta | None
    group_by: tuple[str, ...]
    order_by: str
    descending: bool
    limit: int
    filters: dict[str, frozenset[str | None]]
    exclude_deleted: bool


def _timestamp(request: Request, name: str) -> dt.datetime | None:
    value = request.param(name)
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"{name}: must be an RFC 3339 timestamp, got {value!r}") from None
    if parsed.tzinfo is None:
        raise ApiError(400, f"{name}: must carry a time zone (RFC 3339), got {value!r}")
    return parsed.astimezone(dt.timezone.utc)


def _floor(moment: dt.datetime, width: dt.timedelta) -> dt.datetime:
    return EPOCH + (moment - EPOCH) // width * width


def _query(request: Request, report: str, default_end: dt.datetime | None) -> Query:
    """The validated query (admin-api.md §5.12); ``default_end`` is the end a page token fixed."""
    # UNCERTAIN: the docs say the beta header is required but not what a request without it gets;
    # we answer 400 invalid_request_error with this message.
    betas = {value.strip() for value in request.headers.get("anthropic-beta", "").split(",")}
    if BETA not in betas:
        raise ApiError(400, f"This endpoint is in beta: send the header 'anthropic-beta: {BETA}'.")
    now = request.now()
    start = _timestamp(request, "starting_at")
    if start is None:
        raise ApiError(400, "starting_at: Field required")
    if start < EARLIEST:
        raise ApiError(400, "starting_at: must be no earlier than 2026-01-01T00:00:00Z")
    # UNCERTAIN: "within the last 365 days" is taken as 365 x 24 hours before now, to the second.
    if start < now - MAX_LOOKBACK:
        raise ApiError(400, "starting_at: must be within the last 365 days")
    width_name = request.param("time_bucket_width")
    if width_name is not None and width_name not in WIDTHS:
        raise ApiError(400, f"time_bucket_width: expected one of 1d, 1h, 1m, got {width_name!r}")
    width = WIDTHS[width_name] if width_name else None
    end = _timestamp(request, "ending_at")
    if end is None:
        if width is not None:
            raise ApiError(400, "ending_at: required when time_bucket_width is set")
        end = default_end or min(now, start + MAX_RANGE)
    # UNCERTAIN: an ending_at in the future is accepted (buckets after now are simply empty).
    if end <= start:
        raise ApiError(400, "ending_at: must be after starting_at")
    if end - start > MAX_RANGE:
        raise ApiError(400, "ending_at: the range may span at most 31 days")
    if width_name == "1m" and end - start > MAX_MINUTE_RANGE:
        raise ApiError(400, "ending_at: with time_bucket_width=1m the range may span at most 24 hours")
    allowed = DIMENSIONS + (COST_ONLY if report == "cost" else ())
    group_by = tuple(request.array("group_by", allowed))
    if len(set(group_by)) != len(group_by):
        raise ApiError(400, "group_by[]: a dimension is given twice")
    if len([g for g in group_by if g not in COST_ONLY]) > MAX_GROUP_BY:
        raise ApiError(400, f"group_by[]: at most {MAX_GROUP_BY} dimensions")
    if {"claude_tag_user_id", "rbac_group_id"} <= set(group_by):
        raise ApiError(400, "group_by[]: claude_tag_user_id cannot be combined with rbac_group_id")
    order_by = request.param("order_by") or ORDER_BY[report][0]
    if order_by not in ORDER_BY[report]:
        raise ApiError(400, f"order_by: expected one of {', '.join(ORDER_BY[report])}, got {order_by!r}")
    order = request.param("order") or "desc"
    if order not in ("asc", "desc"):
        raise ApiError(400, f"order: expected asc or desc, got {order!r}")
    filters: dict[str, frozenset[str | None]] = {}
    for name, dimension in FILTERS.items():
        values = [v for k, v in request.query if k == f"{name}[]"]
        if not values:
            continue
        if ("" in values and name != "api_key_ids") or any(v not in ALLOWED.get(name, (v,)) for v in values):
            raise ApiError(400, f"{name}[]: invalid value")
        # An empty api_key_ids[] entry matches key-less usage; not_available matches an unset region.
        filters[dimension] = frozenset(None if v in ("", "not_available") else v for v in values)
    exclude_deleted = request.boolean("exclude_deleted_users")
    if exclude_deleted and "actor" not in group_by:
        raise ApiError(400, "exclude_deleted_users: requires group_by[]=actor")
    limit = request.limit(DEFAULT_LIMIT, MAX_LIMIT)
    return Query(report, start, end, width, group_by, order_by, order == "desc", limit, filters, exclude_deleted)


def _actor_json(members: set[str], actor: Json | None) -> Json | None:
    """The actor as served: a user who is no longer in the organization reads ``deleted: true``."""
    if actor is None or actor["type"] != "user_actor":
        return actor
    return {**actor, "deleted": actor["user_id"] not in members}


def _matches(fact: Fact, query: Query, served_actor: Json | None) -> bool:
    for dimension, wanted in query.filters.items():
        if fact.dims[dimension] not in wanted:
            return False
    return not (query.exclude_deleted and served_actor is not None and served_actor.get("deleted") is True)


@dataclasses.dataclass
class _Row:
    start: dt.datetime
    end: dt.datetime
    group: Json
    usage: Json
    lines: dict[tuple[str | None, str | None], list[Decimal]]  # (cost_type, token_type) -> [amount, list]

    def metric(self, name: str) -> Any:
        if name in ("amount", "list_amount"):
            index = 0 if name == "amount" else 1
            return sum((pair[index] for pair in self.lines.values()), Decimal(0))
        return self.usage[name]


def rows(org: OrgState, seed: int, query: Query, now: dt.datetime) -> list[_Row]:
    """Every row of the query's answer in the order the API serves them (one per base row)."""
    grouped = [d for d in query.group_by if d not in COST_ONLY]
    by_cost_type, by_token_type = "cost_type" in query.group_by, "token_type" in query.group_by
    found: dict[tuple[Any, ...], _Row] = {}
    members = {user["id"] for user in org.users}
    for fact in facts_between(org, seed, query.start, min(query.end, now)):
        actor = _actor_json(members, fact.dims["actor"])
        if not _matches(fact, query, actor):
            continue
        if query.width is None:  # one row for the whole range, bounds rounded down to the hour
            start, end = _floor(query.start, WIDTHS["1h"]), _floor(query.end, WIDTHS["1h"])
        else:
            start = _floor(fact.at, query.width)
            end = start + query.width
        values = {d: (actor if d == "actor" else fact.dims[d]) for d in grouped}
        identity = (fact.identity,) if "actor" in grouped else ()
        key = (start, json.dumps(values, sort_keys=True), *identity)
        row = found.get(key)
        if row is None:
            group = dict.fromkeys(DIMENSIONS + (COST_ONLY if query.report == "cost" else ())) | values
            row = found[key] = _Row(start, end, group, dict.fromkeys((*fact.usage, "total_tokens"), 0), {})
        for name, value in fact.usage.items():
            row.usage[name] += value
        row.usage["total_tokens"] += fact.total_tokens
        for line in fact.costs:
            cost_type = line.cost_type if by_cost_type or (by_token_type and line.token_type) else None
            token_type = line.token_type if by_token_type else None
            if by_token_type and not by_cost_type and line.token_type is None:
                # UNCERTAIN: the SDK says token_type alone gives "one row per token type, each with
                # cost_type tokens"; where non-token costs go then is undocumented. We keep them in
                # one row with both null, so totals still add up.
                cost_type = None
            pair = row.lines.setdefault((cost_type, token_type), [Decimal(0), Decimal(0)])
            pair[0] += line.amount
            pair[1] += line.list_amount
    ordered = [row for _, row in sorted(found.items(), key=lambda item: item[0][1:])]  # ties: by group
    default = ORDER_BY[query.report][0]
    if query.order_by == "time" and query.width is not None:
        # Buckets in `order` direction; within a bucket, highest default metric first (SDK docs).
        within = sorted(ordered, key=lambda row: row.metric(default), reverse=True)
        return sorted(within, key=lambda row: row.start, reverse=query.descending)
    # Without a time bucket, order_by=time is the same as the default metric.
    metric = default if query.order_by == "time" else query.order_by
    return sorted(ordered, key=lambda row: row.metric(metric), reverse=query.descending)


def _fmt(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _cents(value: Decimal) -> str:
    """A decimal string without exponent or trailing zeros, as the API writes fractional cents."""
    return format(value.normalize(), "f")


def _items(row: _Row, query: Query) -> list[Json]:
    bounds = {"starting_at": _fmt(row.start), "ending_at": _fmt(row.end)}
    if query.report == "usage":
        u = row.usage
        usage = {
            "uncached_input_tokens": u["uncached_input_tokens"],
            "cache_read_input_tokens": u["cache_read_input_tokens"],
            "output_tokens": u["output_tokens"],
            "total_tokens": u["total_tokens"],
            "requests": u["requests"],
            "cache_creation": {
                "ephemeral_1h_input_tokens": u["ephemeral_1h_input_tokens"],
                "ephemeral_5m_input_tokens": u["ephemeral_5m_input_tokens"],
            },
            "server_tool_use": {"web_search_requests": u["web_search_requests"]},
        }
        return [{**bounds, "group": row.group, "usage": usage}]
    fanned = any(name in query.group_by for name in COST_ONLY)
    result = []
    for (cost_type, token_type), (amount, listed) in sorted(row.lines.items(), key=_line_order):
        cost = {
            "amount": _cents(amount),
            "list_amount": _cents(listed),
            "currency": "USD",
            # Null when grouping by cost_type or token_type: requests have no per-component count.
            "requests": None if fanned else row.usage["requests"],
        }
        result.append(
            {**bounds, "group": {**row.group, "cost_type": cost_type, "token_type": token_type}, "cost": cost}
        )
    return result


def _line_order(item: tuple[tuple[str | None, str | None], list[Decimal]]) -> tuple[int, int]:
    cost_type, token_type = item[0]
    kinds = (None, "tokens", "web_search", "code_execution", "session_usage")
    kind = kinds.index(cost_type) if cost_type in kinds else len(kinds)
    return kind, TOKEN_TYPES.index(token_type) + 1 if token_type in TOKEN_TYPES else 0


def _digest(query: Sequence[tuple[str, str]]) -> str:
    """The query a page token belongs to: every parameter but ``page``, in order."""
    return hashlib.sha256(json.dumps([list(p) for p in query if p[0] != "page"]).encode()).hexdigest()[:24]


def _token(request: Request, offset: int, end: dt.datetime) -> str:
    state = {"q": _digest(request.query), "o": offset, "e": _fmt(end)}
    return "page_" + base64.urlsafe_b64encode(json.dumps(state).encode()).decode()


def _read_token(request: Request) -> tuple[int, dt.datetime | None]:
    token = request.param("page")
    if token is None:
        return 0, None
    try:
        state = json.loads(base64.urlsafe_b64decode(token.removeprefix("page_").encode()))
        digest, offset, end = (
            str(state["q"]),
            int(state["o"]),
            dt.datetime.fromisoformat(state["e"].replace("Z", "+00:00")),
        )
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        raise ApiError(400, "page: invalid page token") from None
    if digest != _digest(request.query):
        # Cursors are bound to the query that produced them (admin-api.md §3.2).
        raise ApiError(400, "page: the page token belongs to a different query; keep every other parameter the same")
    return offset, end


def data_refreshed_at(now: dt.datetime) -> str:
    """Everything before this instant is complete: here, the start of the current quarter hour."""
    return _fmt(_floor(now, dt.timedelta(minutes=15)))


def _report(request: Request, report: str) -> Json:
    offset, fixed_end = _read_token(request)
    query = _query(request, report, fixed_end)
    now = request.now()
    found = rows(request.org, request.backend.seed, query, now)
    page = found[offset : offset + query.limit]
    more = offset + query.limit < len(found)
    return {
        "data": [item for row in page for item in _items(row, query)],
        "has_more": more,
        "next_page": _token(request, offset + query.limit, query.end) if more else None,
        "data_refreshed_at": data_refreshed_at(now),
    }


@route(r"/v1/organizations/analytics/usage")
def analytics_usage(request: Request) -> Json:
    return _report(request, "usage")


@route(r"/v1/organizations/analytics/cost")
def analytics_cost(request: Request) -> Json:
    return _report(request, "cost")
