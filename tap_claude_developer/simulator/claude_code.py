"""Claude Code usage report (admin-api.md §5.9): ``GET /v1/organizations/usage_report/claude_code``.

One UTC day per request. A day's rows are generated on demand from (seed, organization, day) and
never stored, so a 365-day window costs nothing until it is asked for. Each row *lands* between 1
and 25 hours after its day began (the report only holds data older than an hour, §4.4), so a day
is complete an hour after it ends and a re-read of a recent day finds rows the first read missed.
A page token carries the instant of its first page: paging a day reads one stable snapshot (§5.9)
even while rows land. Importing this module registers the route.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import json
import math
import random
from decimal import Decimal

from .data import _FIRST, _LAST, Json, OrgState
from .server import ApiError, Request, route

PATH = "/v1/organizations/usage_report/claude_code"
DEFAULT_LIMIT, MAX_LIMIT = 20, 1000  # records per page (§5.9)
TERMINALS = ("vscode", "iTerm.app", "tmux", "cursor", "Apple_Terminal")
TOOLS = ("edit_tool", "multi_edit_tool", "write_tool", "notebook_edit_tool")  # the documented keys
#: Cents per million tokens: input, output, cache read, cache creation (list prices, for realism only).
PRICES: dict[str, tuple[int, int, int, int]] = {
    "claude-opus-4-6": (500, 2500, 50, 625),
    "claude-sonnet-4-6": (300, 1500, 30, 375),
    "claude-sonnet-4-5-20250929": (300, 1500, 30, 375),
    "claude-haiku-4-5-20251001": (100, 500, 10, 125),
}
_CI_NAMES = ("ci", "review-bot", "nightly", "release", "docs")


def _actor_pool(seed: int, org_index: int, domain: str, rows_per_day: int) -> list[tuple[Json, str, str | None]]:
    """(actor, customer_type, subscription_type) for the organization's Claude Code users.

    Every fourth actor is an API key, every other user has a subscription: each variant occurs
    as soon as there are four actors. A day's rows are distinct (actor, terminal, remote) picks, so
    the pool holds at least rows_per_day / 4 actors (10 picks each, never more than 40% used).
    """
    rng = random.Random(f"{seed}:{org_index}:claude-code-actors")
    plan = rng.choice(("team", "enterprise"))
    pool: list[tuple[Json, str, str | None]] = []
    used: set[str] = set()
    for i in range(max(4, math.ceil(rows_per_day / 4))):
        if i % 4 == 1:
            name = f"claude-code-{rng.choice(_CI_NAMES)}-{i}"
            pool.append(({"type": "api_actor", "api_key_name": name}, "api", None))
            continue
        local = f"{rng.choice(_FIRST)}.{rng.choice(_LAST)}".lower()
        local = f"{local}{i}" if local in used else local
        used.add(local)
        actor = {"type": "user_actor", "email_address": f"{local}@{domain}"}
        pool.append((actor, "api", None) if i % 4 == 3 else (actor, "subscription", plan))
    return pool


def _cost_cents(model: str, tokens: Json) -> int | float:
    """Estimated cost in cents, a JSON number (§5.9): whole cents as an int, else two decimals."""
    prices = PRICES[model]
    counts = (tokens["input"], tokens["output"], tokens["cache_read"], tokens["cache_creation"])
    cents = (Decimal(sum(n * p for n, p in zip(counts, prices, strict=True))) / 1_000_000).quantize(Decimal("0.01"))
    return int(cents) if cents == cents.to_integral_value() else float(cents)


@functools.lru_cache(maxsize=64)
def _day(
    seed: int, org_index: int, org_id: str, domain: str, rows: int, day: dt.date
) -> list[tuple[dt.datetime, Json]]:
    """Every row of one day, with the instant it lands, in the order the API serves them."""
    rng = random.Random(f"{seed}:{org_index}:claude-code:{day.isoformat()}")
    pool = _actor_pool(seed, org_index, domain, rows)
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
    result = []
    for pick in sorted(rng.sample(range(len(pool) * len(TERMINALS) * 2), rows)):
        actor, customer_type, subscription_type = pool[pick // (len(TERMINALS) * 2)]
        added = rng.randint(0, 4000)
        breakdown = []
        for model in sorted(rng.sample(sorted(PRICES), rng.randint(1, 3))):
            tokens = {
                "input": rng.randint(1_000, 200_000),
                "output": rng.randint(500, 60_000),
                "cache_read": rng.randint(0, 800_000),
                "cache_creation": rng.randint(0, 50_000),
            }
            cost = {"amount": _cost_cents(model, tokens), "currency": "USD"}
            breakdown.append({"model": model, "tokens": tokens, "estimated_cost": cost})
        row = {
            "date": midnight.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "actor": dict(actor),
            "organization_id": org_id,
            "customer_type": customer_type,
            "subscription_type": subscription_type,
            "terminal_type": TERMINALS[(pick // 2) % len(TERMINALS)],
            "is_remote": pick % 2 == 1,
            "core_metrics": {
                "num_sessions": rng.randint(1, 12),
                "lines_of_code": {"added": added, "removed": rng.randint(0, added)},
                "commits_by_claude_code": rng.randint(0, 9),
                "pull_requests_by_claude_code": rng.randint(0, 3),
            },
            "tool_actions": {tool: {"accepted": rng.randint(0, 60), "rejected": rng.randint(0, 8)} for tool in TOOLS},
            "model_breakdown": breakdown,
        }
        landed = midnight + dt.timedelta(seconds=rng.randint(3600, 25 * 3600))
        result.append((landed, row))
    return result


def day_rows(org: OrgState, seed: int, day: dt.date, as_of: dt.datetime | None = None) -> list[Json]:
    """The rows of ``day`` the report holds at ``as_of`` (None: every row, as once the day is complete)."""
    rows = _day(seed, org.index, org.id, org.domain, org.spec.claude_code_rows_per_day, day)
    return [row for landed, row in rows if as_of is None or landed <= as_of]


def _starting_day(value: str | None) -> dt.date:
    if value is None:
        raise ApiError(400, "starting_at: Field required")
    try:
        # UNCERTAIN: the reference asks for a UTC date (YYYY-MM-DD); whether a full RFC 3339
        # timestamp is also accepted is undocumented. The simulator takes dates only.
        if len(value) != 10:
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ApiError(400, f"starting_at: expected a UTC date (YYYY-MM-DD), got {value!r}") from None


def _token(org: OrgState, day: dt.date, limit: int, offset: int, as_of: dt.datetime) -> str:
    state = {"org": org.id, "day": day.isoformat(), "limit": limit, "offset": offset, "as_of": as_of.isoformat()}
    return "page_" + base64.urlsafe_b64encode(json.dumps(state).encode()).decode()


def _read_token(token: str, org: OrgState, day: dt.date, limit: int) -> tuple[int, dt.datetime]:
    """(offset, snapshot instant) of a page token, which is only valid for the query that made it."""
    try:
        state = json.loads(base64.urlsafe_b64decode(token.removeprefix("page_").encode()))
        query, offset, as_of = (state["org"], state["day"], state["limit"]), state["offset"], state["as_of"]
        snapshot = dt.datetime.fromisoformat(as_of)
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise ApiError(400, "page: invalid page token") from None
    if query != (org.id, day.isoformat(), limit):
        raise ApiError(400, "page: the page token belongs to a different query; keep every other parameter the same")
    return int(offset), snapshot


@route(PATH)
def claude_code_usage(request: Request) -> Json:
    org = request.org
    day = _starting_day(request.param("starting_at"))
    limit = request.limit(DEFAULT_LIMIT, MAX_LIMIT)
    token = request.param("page")
    offset, as_of = (0, request.now()) if token is None else _read_token(token, org, day, limit)
    # A day after today simply has no data yet (UNCERTAIN: the API may answer 400 instead).
    rows = day_rows(org, request.backend.seed, day, as_of)
    page = rows[offset : offset + limit]
    more = offset + limit < len(rows)
    return {
        "data": page,
        "has_more": more,
        "next_page": _token(org, day, limit, offset + limit, as_of) if more else None,
    }
