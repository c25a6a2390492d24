"""Messages usage report and cost report (admin-api.md §5.7, §5.8). Importing this module registers them.

Both reports are aggregations of one deterministic stream of events per organization and UTC day,
generated lazily from (organization, day) when a page needs that day: Messages API requests
(`UsageEvent`) and the cost line items they and code execution sessions incur (`CostItem`).
Tests sum these events themselves and compare with what the endpoints (and the tap) report, so
1m, 1h and 1d buckets always add up to the same totals, and cost agrees with usage by construction.
Nothing after the simulated clock's `now` is visible.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import TypeVar
from urllib.parse import urlencode

from .data import Json, OrgState, parse_ts
from .server import ApiError, Request, route

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
WIDTHS = {"1d": DAY, "1h": timedelta(hours=1), "1m": timedelta(minutes=1)}
#: bucket_width -> (default limit, maximum limit), in buckets per page (admin-api.md §5.7, §5.8).
USAGE_LIMITS = {"1d": (7, 31), "1h": (24, 168), "1m": (60, 1440)}
COST_LIMITS = (7, 31)
#: Pages never hold more buckets than this, whatever `limit` says ("at most `limit` buckets", §5.7).
#: None = exactly `limit`; tests lower it to get chains of several pages.
BUCKET_PAGE_CAP: int | None = None

USAGE_DIMENSIONS = (
    "account_id",
    "api_key_id",
    "context_window",
    "inference_geo",
    "model",
    "service_account_id",
    "service_tier",
    "speed",
    "workspace_id",
)
COST_DIMENSIONS = ("description", "workspace_id")
FAST_MODE_BETA = "fast-mode-2026-02-01"
SERVICE_TIERS = ("batch", "flex", "flex_discount", "priority", "priority_on_demand", "standard")
CONTEXT_WINDOWS = ("0-200k", "200k-1M")
INFERENCE_GEOS = ("global", "us", "not_available")
SPEEDS = ("fast", "standard")
TOKEN_COUNTERS = (
    "uncached_input_tokens",
    "cache_read_input_tokens",
    "output_tokens",
    "ephemeral_1h_input_tokens",
    "ephemeral_5m_input_tokens",
    "web_search_requests",
)
#: Cost tiers the cost report shows. Priority Tier is documented as absent (admin-api.md §5.8);
#: UNCERTAIN: flex and flex_discount are not in the cost report's service_tier enum either, so the
#: simulator leaves their costs out too.
BILLED_TIERS = ("batch", "standard")


@dataclass(frozen=True)
class Model:
    id: str
    display: str
    input_usd: Decimal  # list price per million input tokens
    output_usd: Decimal
    sets_inference_geo: bool  # models from Feb 2026 on; older ones report `not_available`
    long_context: bool = False  # offers the 200k-1M context window
    fast_mode: bool = False


MODELS = (
    Model("claude-opus-4-6", "Claude Opus 4.6", Decimal(5), Decimal(25), True, fast_mode=True),
    Model("claude-sonnet-4-6", "Claude Sonnet 4.6", Decimal(3), Decimal(15), True, long_context=True),
    Model("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", Decimal(3), Decimal(15), False, long_context=True),
    Model("claude-haiku-4-5-20251001", "Claude Haiku 4.5", Decimal(1), Decimal(5), False),
)
_MODEL_WEIGHTS = (0.2, 0.3, 0.3, 0.2)

# Prices: per-token cents = USD per million tokens / 10_000. Multipliers follow the public price
# list (cache read 0.1x, 5-minute cache write 1.25x, 1-hour 2x input; batch half price; long
# context 2x input and 1.5x output; US-only inference 1.1x). Exact decimals, so sums are exact.
CENTS_PER_TOKEN_PER_USD_PER_MTOK = Decimal("0.0001")
TOKEN_TYPES = {  # token_type -> (UsageEvent counter, label in the description, multiplier of the input price)
    "uncached_input_tokens": ("uncached_input_tokens", "Input Tokens", Decimal(1)),
    "output_tokens": ("output_tokens", "Output Tokens", None),
    "cache_read_input_tokens": ("cache_read_input_tokens", "Cache Read Input Tokens", Decimal("0.1")),
    "cache_creation.ephemeral_5m_input_tokens": (
        "ephemeral_5m_input_tokens",
        "5m Cache Write Input Tokens",
        Decimal("1.25"),
    ),
    "cache_creation.ephemeral_1h_input_tokens": (
        "ephemeral_1h_input_tokens",
        "1h Cache Write Input Tokens",
        Decimal(2),
    ),
}
WEB_SEARCH_CENTS = Decimal(1)  # $10 per 1,000 searches
#: $0.05 per container hour, to 18 places: amounts get more significant digits than a float holds,
#: so a float anywhere between the API and the warehouse shows up as a changed digit.
CODE_EXECUTION_CENTS_PER_SECOND = Decimal("0.001388888888888889")


@dataclass(frozen=True)
class UsageEvent:
    """One Messages API request: when, every dimension the usage report groups by, its counters.

    `workspace_id` is None for the Default Workspace, as the report shows it (admin-api.md §12.2).
    """

    at: datetime
    account_id: str | None
    api_key_id: str | None
    context_window: str
    inference_geo: str
    model: str
    service_account_id: str | None
    service_tier: str
    speed: str
    workspace_id: str | None
    uncached_input_tokens: int
    cache_read_input_tokens: int
    output_tokens: int
    ephemeral_1h_input_tokens: int
    ephemeral_5m_input_tokens: int
    web_search_requests: int


@dataclass(frozen=True)
class CostItem:
    """One line of cost, in cents, with the fields the cost report parses from its description."""

    at: datetime
    workspace_id: str | None
    description: str
    cost_type: str
    model: str | None
    service_tier: str | None
    token_type: str | None
    context_window: str | None
    inference_geo: str | None
    amount: Decimal


# --------------------------------------------------------------------------- generation


def _day_rng(org: OrgState, day: date, purpose: str) -> random.Random:
    # org.id is itself derived from (seed, org index), so this is (seed, org, day, purpose).
    return random.Random(f"{org.id}:{day.isoformat()}:{purpose}")


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _workspaces_on(org: OrgState, start: datetime) -> list[str | None]:
    """Workspaces that existed and were not archived at `start` (None = Default Workspace)."""
    found: list[str | None] = []
    for ws in org.workspaces:
        archived = ws["archived_at"]
        if parse_ts(ws["created_at"]) <= start and (archived is None or parse_ts(archived) > start):
            found.append(None if ws["id"] == org.default_workspace_id else ws["id"])
    return found or [None]


def _event_times(rng: random.Random, start: datetime, count: int) -> list[datetime]:
    return sorted(start + timedelta(seconds=rng.randrange(86_400)) for _ in range(count))


def _counts(rng: random.Random, long_context: bool) -> dict[str, int]:
    def sometimes(chance: float, low: int, high: int) -> int:
        return rng.randint(low, high) if rng.random() < chance else 0

    return {
        "uncached_input_tokens": rng.randint(200_001, 600_000) if long_context else rng.randint(200, 40_000),
        "cache_read_input_tokens": sometimes(0.5, 1_000, 150_000),
        "output_tokens": rng.randint(50, 8_000),
        "ephemeral_1h_input_tokens": sometimes(0.15, 500, 30_000),
        "ephemeral_5m_input_tokens": sometimes(0.3, 500, 30_000),
        "web_search_requests": sometimes(0.2, 1, 8),
    }


def _all_usage_events(org: OrgState, day: date) -> list[UsageEvent]:
    start = _day_start(day)
    if start + DAY <= org.created_at or org.spec.usage_events_per_day == 0:
        return []
    rng = _day_rng(org, day, "usage")
    per_day = org.spec.usage_events_per_day
    workspaces = _workspaces_on(org, start)
    keys = [k for k in org.api_keys if parse_ts(k["created_at"]) <= start]
    users = [u["id"] for u in org.users if parse_ts(u["added_at"]) <= start]
    events = []
    for at in _event_times(rng, start, rng.randint(per_day - per_day // 2, per_day + per_day // 2)):
        if at < org.created_at:
            continue
        # Who sent it: an API key (its workspace), Console/Playground (no key, no account), a user
        # through OAuth (account_id), or a service account through workload identity federation.
        kind = rng.choices(("api_key", "console", "oauth", "wif"), weights=(0.7, 0.1, 0.12, 0.08))[0]
        api_key_id = account_id = service_account_id = None
        workspace = rng.choice(workspaces)
        if kind == "api_key" and keys:
            key = rng.choice(keys)
            api_key_id = key["id"]
            scoped = key["scope"].get("workspace_id") if key["scope"]["type"] == "workspace" else None
            if scoped is not None:
                workspace = None if scoped == org.default_workspace_id else scoped
        elif kind == "oauth" and users:
            account_id = rng.choice(users)
        elif kind == "wif" and org.service_account_ids:
            service_account_id = rng.choice(org.service_account_ids)
        model = rng.choices(MODELS, weights=_MODEL_WEIGHTS)[0]
        long_context = model.long_context and rng.random() < 0.1
        tier = rng.choices(SERVICE_TIERS, weights=(0.15, 0.05, 0.05, 0.1, 0.05, 0.6))[0]
        events.append(
            UsageEvent(
                at=at,
                account_id=account_id,
                api_key_id=api_key_id,
                context_window="200k-1M" if long_context else "0-200k",
                inference_geo=rng.choices(("global", "us"), weights=(0.7, 0.3))[0]
                if model.sets_inference_geo
                else "not_available",
                model=model.id,
                service_account_id=service_account_id,
                service_tier=tier,
                speed="fast" if model.fast_mode and rng.random() < 0.25 else "standard",
                workspace_id=workspace,
                **_counts(rng, long_context),
            )
        )
    return events


def usage_events(org: OrgState, day: date, now: datetime) -> list[UsageEvent]:
    """The Messages API requests of `org` on UTC `day` that happened before `now`, oldest first."""
    return [event for event in _all_usage_events(org, day) if event.at < now]


def _price(model: Model, token_type: str, event: UsageEvent) -> Decimal:
    """Cents per token of `token_type` for `event`."""
    input_multiplier = TOKEN_TYPES[token_type][2]
    long_context = event.context_window == "200k-1M"
    if input_multiplier is None:  # output tokens
        usd = model.output_usd * (Decimal("1.5") if long_context else 1)
    else:
        usd = model.input_usd * input_multiplier * (2 if long_context else 1)
    if event.service_tier == "batch":
        usd *= Decimal("0.5")
    if event.inference_geo == "us":
        usd *= Decimal("1.1")
    return usd * CENTS_PER_TOKEN_PER_USD_PER_MTOK


def _description(model: Model, token_type: str, event: UsageEvent) -> str:
    """E.g. "Claude Sonnet 4.5 Usage - Input Tokens" (admin-api.md §5.8; the variants are invented)."""
    text = f"{model.display}{' Batch' if event.service_tier == 'batch' else ''} Usage - {TOKEN_TYPES[token_type][1]}"
    if event.context_window == "200k-1M":
        text += " (Long Context)"
    if event.inference_geo == "us":
        text += " (US Only)"
    return text


def _event_costs(event: UsageEvent) -> Iterable[CostItem]:
    if event.service_tier not in BILLED_TIERS:
        return
    model = next(m for m in MODELS if m.id == event.model)
    for token_type, (counter, _, _) in TOKEN_TYPES.items():
        tokens = getattr(event, counter)
        if tokens:
            yield CostItem(
                at=event.at,
                workspace_id=event.workspace_id,
                description=_description(model, token_type, event),
                cost_type="tokens",
                model=model.id,
                service_tier=event.service_tier,
                token_type=token_type,
                context_window=event.context_window,
                inference_geo=event.inference_geo,
                amount=tokens * _price(model, token_type, event),
            )
    if event.web_search_requests:
        yield _untokened(event.at, event.workspace_id, "web_search", event.web_search_requests * WEB_SEARCH_CENTS)


def _untokened(at: datetime, workspace_id: str | None, cost_type: str, amount: Decimal) -> CostItem:
    """A cost that is not per token: no model, tier, token type, context window or region."""
    description = {"web_search": "Web Search Usage", "code_execution": "Code Execution Usage"}[cost_type]
    return CostItem(at, workspace_id, description, cost_type, None, None, None, None, None, amount)


def _code_executions(org: OrgState, day: date) -> list[CostItem]:
    start = _day_start(day)
    if start + DAY <= org.created_at:
        return []
    rng = _day_rng(org, day, "code-execution")
    workspaces = _workspaces_on(org, start)
    items = []
    for at in _event_times(rng, start, org.spec.code_executions_per_day):
        seconds = rng.randint(20, 3_600)
        workspace = rng.choice(workspaces)
        if at >= org.created_at:
            items.append(_untokened(at, workspace, "code_execution", seconds * CODE_EXECUTION_CENTS_PER_SECOND))
    return items


def cost_items(org: OrgState, day: date, now: datetime) -> list[CostItem]:
    """Every cost line of `org` on UTC `day` incurred before `now`, oldest first."""
    items = [item for event in _all_usage_events(org, day) for item in _event_costs(event)]
    items += _code_executions(org, day)
    return sorted((item for item in items if item.at < now), key=lambda item: item.at)


# --------------------------------------------------------------------------- request handling


def _fmt(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _floor(moment: datetime, width: timedelta) -> datetime:
    return EPOCH + ((moment - EPOCH) // width) * width


def _timestamp(request: Request, name: str) -> datetime | None:
    value = request.param(name)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ApiError(400, f"{name}: expected an RFC 3339 datetime with a time zone, got {value!r}")
    return parsed.astimezone(UTC)


def _betas(request: Request) -> set[str]:
    """`anthropic-beta` is a comma-separated list (admin-api.md §2)."""
    return {beta.strip() for beta in request.headers.get("anthropic-beta", "").split(",") if beta.strip()}


def _query_digest(request: Request) -> str:
    """What a page token is bound to: the path and every parameter but `page`, in any order."""
    params = sorted((key, value) for key, value in request.query if key != "page")
    return hashlib.blake2b(f"{request.path}?{urlencode(params)}".encode(), digest_size=6).hexdigest()


def _page_token(at: datetime, digest: str) -> str:
    """`page_` + base64, like the documented `page_MjAyNS0wNS0xNFQwMDowMDowMFo=` (admin-api.md §3.2)."""
    return "page_" + base64.b64encode(f"{_fmt(at)}|{digest}".encode()).decode()


def _bucket_starts(request: Request, width: timedelta, limits: tuple[int, int]) -> tuple[list[datetime], str | None]:
    """This page's bucket starts (oldest first, empty ones included) and the next page's token.

    `starting_at` snaps down to its UTC bucket. UNCERTAIN (§5.7 "buckets that end before it"):
    only whole buckets ending at or before `ending_at` are served; without `ending_at` the
    buckets run to the one holding `now` (the default is undocumented).
    """
    starting_at = _timestamp(request, "starting_at")
    if starting_at is None:
        raise ApiError(400, "starting_at: Field required")
    ending_at = _timestamp(request, "ending_at")
    if ending_at is not None and ending_at <= starting_at:
        raise ApiError(400, "ending_at: must be after starting_at")
    limit = request.limit(*limits)
    start = _floor(starting_at, width)
    end = start + ((ending_at - start) // width) * width if ending_at else _floor(request.now(), width) + width
    position = start
    token = request.param("page")
    if token is not None:
        position = _decode_token(token, _query_digest(request))
        if not (start < position < end) or (position - start) % width:
            raise ApiError(400, "page: the page token is outside this query's range")
    size = min(limit, BUCKET_PAGE_CAP or limit)
    page_end = min(end, position + size * width)
    starts = []
    while position < page_end:
        starts.append(position)
        position += width
    return starts, (_page_token(page_end, _query_digest(request)) if page_end < end else None)


def _decode_token(token: str, digest: str) -> datetime:
    try:
        if not token.startswith("page_"):
            raise ValueError(token)
        moment, _, bound_to = base64.b64decode(token[5:], validate=True).decode().partition("|")
        position = datetime.strptime(moment, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiError(400, "page: invalid page token") from None
    if bound_to != digest:
        # Cursors are bound to their query (admin-api.md §3.2, documented for the analytics
        # endpoints; the simulator does the same for the classic reports).
        raise ApiError(400, "page: this page token belongs to a different query; keep every other parameter as it was")
    return position


def _unique(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))


E = TypeVar("E", UsageEvent, CostItem)


def _in_buckets(starts: list[datetime], width: timedelta, events: Callable[[date], Iterable[E]]) -> list[list[E]]:
    """The events of each bucket, generating each UTC day the buckets touch once."""
    buckets: list[list[E]] = [[] for _ in starts]
    if not starts:
        return buckets
    first, end = starts[0], starts[-1] + width
    day = first.date()
    while _day_start(day) < end:
        for event in events(day):
            if first <= event.at < end:
                buckets[(event.at - first) // width].append(event)
        day += timedelta(days=1)
    return buckets


def _grouped(items: Iterable[E], dims: Sequence[str]) -> list[tuple[tuple[str | None, ...], list[E]]]:
    groups: dict[tuple[str | None, ...], list[E]] = {}
    for item in items:
        groups.setdefault(tuple(getattr(item, dim) for dim in dims), []).append(item)
    # Nulls first, then by value: a stable order (the API's own order is undocumented).
    return sorted(groups.items(), key=lambda group: [(value is not None, value or "") for value in group[0]])


def _envelope(starts: list[datetime], width: timedelta, results: list[list[Json]], next_page: str | None) -> Json:
    return {
        "data": [
            {"starting_at": _fmt(start), "ending_at": _fmt(start + width), "results": rows}
            for start, rows in zip(starts, results, strict=True)
        ],
        "has_more": next_page is not None,
        "next_page": next_page,
    }


# (query parameter, event field, allowed values); workspace_ids[] is handled on its own.
_USAGE_FILTERS: tuple[tuple[str, str, Sequence[str] | None], ...] = (
    ("api_key_ids", "api_key_id", None),
    ("account_ids", "account_id", None),
    ("service_account_ids", "service_account_id", None),
    ("models", "model", None),
    ("service_tiers", "service_tier", SERVICE_TIERS),
    ("context_window", "context_window", CONTEXT_WINDOWS),  # singular on this endpoint (§12.9)
    ("inference_geos", "inference_geo", INFERENCE_GEOS),
    ("speeds", "speed", SPEEDS),
)


@route(r"/v1/organizations/usage_report/messages")
def messages_usage_report(request: Request) -> Json:
    org = request.org
    width_name = request.param("bucket_width") or "1d"
    if width_name not in WIDTHS:
        raise ApiError(400, f"bucket_width: expected one of 1d, 1h, 1m, got {width_name!r}")
    width = WIDTHS[width_name]
    group_by = _unique(request.array("group_by", USAGE_DIMENSIONS))
    wanted = {field: set(request.array(param, allowed)) for param, field, allowed in _USAGE_FILTERS}
    workspaces = set(request.array("workspace_ids"))
    fast_mode = FAST_MODE_BETA in _betas(request)
    if ("speed" in group_by or wanted["speed"]) and not fast_mode:
        raise ApiError(400, f"group_by[]=speed and speeds[] need the anthropic-beta header {FAST_MODE_BETA}")
    starts, next_page = _bucket_starts(request, width, USAGE_LIMITS[width_name])

    def matches(event: UsageEvent) -> bool:
        # UNCERTAIN: how workspace_ids[] names the Default Workspace is undocumented; its real id here.
        if workspaces and (event.workspace_id or org.default_workspace_id) not in workspaces:
            return False
        return all(not values or getattr(event, field) in values for field, values in wanted.items())

    def day_events(day: date) -> list[UsageEvent]:
        return [event for event in usage_events(org, day, request.now()) if matches(event)]

    results = []
    for bucket in _in_buckets(starts, width, day_events):
        rows = []
        for key, events in _grouped(bucket, group_by):
            dims: dict[str, str | None] = dict.fromkeys(USAGE_DIMENSIONS) | dict(zip(group_by, key, strict=True))
            if not fast_mode:
                # `speed` was documented as "only returned with the fast-mode beta header" (§5.7).
                del dims["speed"]
            total = {counter: sum(getattr(event, counter) for event in events) for counter in TOKEN_COUNTERS}
            rows.append(
                {
                    "uncached_input_tokens": total["uncached_input_tokens"],
                    "cache_read_input_tokens": total["cache_read_input_tokens"],
                    "output_tokens": total["output_tokens"],
                    "cache_creation": {
                        "ephemeral_1h_input_tokens": total["ephemeral_1h_input_tokens"],
                        "ephemeral_5m_input_tokens": total["ephemeral_5m_input_tokens"],
                    },
                    "server_tool_use": {"web_search_requests": total["web_search_requests"]},
                    **dims,
                }
            )
        results.append(rows)
    return _envelope(starts, width, results, next_page)


def format_cents(amount: Decimal) -> str:
    """A decimal string without exponent or trailing zeros, as the API writes amounts ("5470.2")."""
    text = format(amount, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


_PARSED = tuple(f.name for f in fields(CostItem) if f.name not in ("at", "workspace_id", "description", "amount"))


@route(r"/v1/organizations/cost_report")
def cost_report(request: Request) -> Json:
    org = request.org
    width_name = request.param("bucket_width") or "1d"
    if width_name != "1d":
        raise ApiError(400, f"bucket_width: the cost report supports only 1d, got {width_name!r}")
    group_by = _unique(request.array("group_by", COST_DIMENSIONS))
    starts, next_page = _bucket_starts(request, DAY, COST_LIMITS)
    results = []
    for bucket in _in_buckets(starts, DAY, lambda day: cost_items(org, day, request.now())):
        rows = []
        for key, items in _grouped(bucket, group_by):
            grouped = dict(zip(group_by, key, strict=True))
            first = items[0]
            # Parsed fields come with the description. CONFLICT (admin-api.md §5.8): the reference
            # says inference_geo is null unless grouped by inference geo, which this endpoint does
            # not accept; like the guide, the simulator fills it whenever description is grouped.
            parsed = {name: getattr(first, name) if "description" in grouped else None for name in _PARSED}
            rows.append(
                {
                    "amount": format_cents(sum((item.amount for item in items), Decimal(0))),
                    "currency": "USD",
                    "workspace_id": grouped.get("workspace_id"),
                    "description": grouped.get("description"),
                    **parsed,
                }
            )
        results.append(rows)
    return _envelope(starts, DAY, results, next_page)
