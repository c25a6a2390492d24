"""Claude Code usage: one record per row of the daily report, per organization, bookmarked by day.

``GET /v1/organizations/usage_report/claude_code`` answers one UTC day per request
(admin-api.md §5.9), so every day of the window is its own chain (days download concurrently)
and a day's pages follow ``next_page`` while ``has_more``. Rows have no id: the key is built from
what identifies one (day, actor, terminal, remote flag, customer type), and never holds a null.
"""

from __future__ import annotations

import datetime as dt
import decimal
import typing as t

from singer_sdk import typing as th

from tap_claude_developer.pagination import Chain
from tap_claude_developer.records import EXACT, cents_to_usd
from tap_claude_developer.streams.base import JSON_OBJECT, ORG_ID, SchemaDriftError, page_items
from tap_claude_developer.streams.reports import BUCKETS, ReportStream, floor_to
from tap_claude_developer.timestamps import parse_utc, to_seconds

if t.TYPE_CHECKING:
    from tap_claude_developer.sync_run import Organization

PATH = "/v1/organizations/usage_report/claude_code"
PAGE_LIMIT = 1000  # the most records a page may hold (§5.9): the fewest requests
DAY = BUCKETS["1d"]
#: Tools the reference documents; each gets accepted/rejected columns. Others stay in ``tool_actions``.
KNOWN_TOOLS = ("edit_tool", "multi_edit_tool", "write_tool", "notebook_edit_tool")
TOKEN_KINDS = ("input", "output", "cache_read", "cache_creation")

_INT = th.IntegerType
_MONEY = th.NumberType


def _int(name: str, description: str) -> th.Property[t.Any]:
    return th.Property(name, _INT, description=description)


SCHEMA = th.PropertiesList(
    ORG_ID,
    th.Property("date", th.DateTimeType, required=True, description="The UTC day, as midnight UTC (RFC 3339)."),
    th.Property("actor_type", th.StringType, required=True, description="user_actor or api_actor (open enum)."),
    th.Property(
        "actor_id",
        th.StringType,
        required=True,
        description="Who the row is about: the user's email address, else the API key's name.",
    ),
    th.Property("actor_email_address", th.StringType, description="For user_actor rows."),
    th.Property("actor_api_key_name", th.StringType, description="For api_actor rows."),
    th.Property("actor", JSON_OBJECT, description="The API's actor object, as served."),
    th.Property(
        "customer_type",
        th.StringType,
        required=True,
        description="api or subscription (open enum); empty string when the API gives none (part of the key).",
    ),
    th.Property("subscription_type", th.StringType, description="enterprise, team or null (API customers)."),
    th.Property(
        "terminal_type",
        th.StringType,
        required=True,
        description="e.g. vscode, iTerm.app, tmux; empty string when the API gives none (part of the key).",
    ),
    th.Property(
        "is_remote",
        th.BooleanType,
        required=True,
        description="Remote sessions (e.g. Claude Code on the web) are separate rows. False when absent (older rows).",
    ),
    _int("num_sessions", "Sessions that day."),
    _int("lines_added", "Lines of code added (core_metrics.lines_of_code.added)."),
    _int("lines_removed", "Lines of code removed (core_metrics.lines_of_code.removed)."),
    _int("commits_by_claude_code", "Commits created by Claude Code."),
    _int("pull_requests_by_claude_code", "Pull requests created by Claude Code."),
    th.Property("core_metrics", JSON_OBJECT, description="The API's core_metrics object, as served."),
    *(
        _int(f"{tool}_{outcome}", f"tool_actions.{tool}.{outcome}")
        for tool in KNOWN_TOOLS
        for outcome in ("accepted", "rejected")
    ),
    th.Property(
        "tool_actions",
        JSON_OBJECT,
        description="Every tool's {accepted, rejected} counts, as served: an open map (new tools appear here).",
    ),
    _int("input_tokens", "Input tokens, all models."),
    _int("output_tokens", "Output tokens, all models."),
    _int("cache_read_tokens", "Cache-read tokens, all models."),
    _int("cache_creation_tokens", "Cache-creation tokens, all models."),
    th.Property("estimated_cost_cents", _MONEY, description="Estimated cost, all models, in cents (exact)."),
    th.Property("estimated_cost_usd", _MONEY, description="estimated_cost_cents / 100, in US dollars (exact)."),
    th.Property("estimated_cost_currency", th.StringType, description="Currency of the estimated cost (USD)."),
    th.Property(
        "model_breakdown",
        th.ArrayType(
            th.ObjectType(
                th.Property("model", th.StringType),
                th.Property("tokens", th.ObjectType(*(th.Property(kind, _INT) for kind in TOKEN_KINDS))),
                th.Property(
                    "estimated_cost",
                    th.ObjectType(
                        th.Property("amount", _MONEY, description="Cents."),
                        th.Property("currency", th.StringType),
                    ),
                ),
                th.Property("estimated_cost_usd", _MONEY, description="amount / 100, in US dollars."),
                additional_properties=True,
            )
        ),
        description="Per model: tokens and estimated cost (amount in cents), plus the cost in dollars.",
    ),
).to_dict()


class ClaudeCodeUsageStream(ReportStream):
    """``GET /v1/organizations/usage_report/claude_code``: one chain per UTC day of the window."""

    name = "claude_code_usage"
    path = PATH
    cursor = "report"
    replication_key = "date"
    primary_keys = (
        "organization_id",
        "date",
        "actor_type",
        "actor_id",
        "terminal_type",
        "is_remote",
        "customer_type",
    )
    schema = SCHEMA

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._last_day: dict[str, dt.datetime] = {}

    def chains(self, org: Organization) -> t.Iterable[Chain]:
        """Every day from the window's start to today (the report holds days up to today)."""
        start, end = self.window(org, DAY)
        if end > start:
            self._last_day[org.id] = end - DAY
        day = start
        while day < end:
            params = (("starting_at", day.date().isoformat()), ("limit", str(PAGE_LIMIT)))
            yield Chain(org.index, self.path, params, self.cursor, label=day.date().isoformat())
            day += DAY

    def records(self, page: t.Any, chain: Chain, org: Organization) -> t.Iterable[dict[str, t.Any]]:
        day = to_seconds(parse_utc(dict(chain.params)["starting_at"]))
        for item in page_items(page, chain.path):
            yield usage_record(item, org.id, day, chain.path)

    def finished(self, org: Organization) -> None:
        """Bookmark the window's last day, rows or not: the next run starts there minus the lookback."""
        if org.id in self._last_day:
            self.advance_bookmark(org, self._last_day[org.id])


def usage_record(item: dict[str, t.Any], org_id: str, day: str, path: str) -> dict[str, t.Any]:
    """One report row as a flat record; the API's nested objects are kept beside the columns.

    Runs once per row, and report rows come by the hundred thousand: one pass over the model
    breakdown collects every total.
    """
    actor = item.get("actor")
    if actor.__class__ is not dict:
        raise _drift(path, "actor", "is not an object")
    # Users are named by email, API keys by name; an actor type of the future by its first text field.
    actor_id = actor.get("email_address") or actor.get("api_key_name")
    actor_id = actor_id or next((v for k, v in actor.items() if k != "type" and isinstance(v, str) and v), None)
    if not isinstance(actor_id, str) or not isinstance(actor.get("type"), str):
        raise _drift(path, "actor", "names no actor (no type, email_address or api_key_name)")
    metrics = _object(item, "core_metrics", path)
    lines = _object(metrics, "lines_of_code", path)
    tools = _object(item, "tool_actions", path)
    breakdown = []
    cents = _ZERO
    currencies = set()
    tokens_in = tokens_out = tokens_read = tokens_written = 0
    for raw in _list(item, "model_breakdown", path):
        entry = _model(raw, path)
        cost, tokens = entry["estimated_cost"], entry["tokens"]
        if cost["amount"] is not None:
            cents = EXACT.add(cents, cost["amount"])
        if cost.get("currency") is not None:
            currencies.add(cost["currency"])
        try:
            tokens_in += tokens.get("input") or 0
            tokens_out += tokens.get("output") or 0
            tokens_read += tokens.get("cache_read") or 0
            tokens_written += tokens.get("cache_creation") or 0
        except TypeError:
            raise _drift(path, "model_breakdown.tokens", "holds a count that is not a number") from None
        breakdown.append(entry)
    if len(currencies) > 1:
        raise _drift(path, "model_breakdown", "mixes currencies, so its costs cannot be added up")
    record: dict[str, t.Any] = {
        "organization_id": org_id,
        "date": _day(item.get("date"), day, path),
        "actor_type": actor["type"],
        "actor_id": actor_id,
        "actor_email_address": actor.get("email_address"),
        "actor_api_key_name": actor.get("api_key_name"),
        "actor": actor,
        "customer_type": item.get("customer_type") or "",
        "subscription_type": item.get("subscription_type"),
        "terminal_type": item.get("terminal_type") or "",
        # UNCERTAIN (admin-api.md §5.9): is_remote was added to the reference on 2026-08-14 and
        # older payloads lack it. Before it, remote sessions had no rows of their own, so a
        # missing flag is read as False (a local session); this keeps the key free of nulls.
        "is_remote": bool(item.get("is_remote", False)),
        "num_sessions": metrics.get("num_sessions"),
        "lines_added": lines.get("added"),
        "lines_removed": lines.get("removed"),
        "commits_by_claude_code": metrics.get("commits_by_claude_code"),
        "pull_requests_by_claude_code": metrics.get("pull_requests_by_claude_code"),
        "core_metrics": metrics,
    }
    for tool, accepted, rejected in _TOOL_COLUMNS:
        counts = tools.get(tool)
        if counts.__class__ is not dict:
            counts = _NO_COUNTS
        record[accepted] = counts.get("accepted")
        record[rejected] = counts.get("rejected")
    # The rest in schema order too: RecordShape then checks the record instead of rebuilding it.
    record["tool_actions"] = tools
    record["input_tokens"] = tokens_in
    record["output_tokens"] = tokens_out
    record["cache_read_tokens"] = tokens_read
    record["cache_creation_tokens"] = tokens_written
    record["estimated_cost_cents"] = cents
    record["estimated_cost_usd"] = cents_to_usd(cents)
    record["estimated_cost_currency"] = next(iter(currencies), None)
    record["model_breakdown"] = breakdown
    return record


_ZERO = decimal.Decimal(0)
_TOOL_COLUMNS = tuple((tool, f"{tool}_accepted", f"{tool}_rejected") for tool in KNOWN_TOOLS)
_NO_COUNTS: dict[str, t.Any] = {}


def _drift(path: str, field: str, problem: str) -> SchemaDriftError:
    return SchemaDriftError(path, 200, message=f"stream 'claude_code_usage' field '{field}' {problem}")


def _object(parent: dict[str, t.Any], name: str, path: str) -> dict[str, t.Any]:
    value = parent.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _drift(path, name, "is not an object")
    return value


def _list(parent: dict[str, t.Any], name: str, path: str) -> list[t.Any]:
    value = parent.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _drift(path, name, "is not a list")
    return value


def _model(entry: t.Any, path: str) -> dict[str, t.Any]:
    """A model_breakdown entry with its amount as an exact Decimal (cents) and the same in dollars."""
    if not isinstance(entry, dict):
        raise _drift(path, "model_breakdown", "holds something other than objects")
    cost = _object(entry, "estimated_cost", path)
    amount = cost.get("amount")
    # A JSON number in cents (§5.9): the client decodes fractions as Decimal, whole numbers as int.
    if amount.__class__ is decimal.Decimal:
        pass  # the usual case: a JSON number with a fraction, decoded as Decimal
    elif amount.__class__ is int or isinstance(amount, (str, decimal.Decimal)):
        try:
            amount = decimal.Decimal(amount)
        except decimal.InvalidOperation:
            raise _drift(path, "model_breakdown.estimated_cost.amount", "is not a number") from None
        if not amount.is_finite():  # "NaN" or "Infinity" as a string: no amount of money
            raise _drift(path, "model_breakdown.estimated_cost.amount", "is not a number")
    elif amount is not None:
        raise _drift(path, "model_breakdown.estimated_cost.amount", "is not a number")
    return {
        **entry,
        "tokens": _object(entry, "tokens", path),
        "estimated_cost": {**cost, "amount": amount},
        "estimated_cost_usd": None if amount is None else cents_to_usd(amount),
    }


def _day(value: object, requested: str, path: str) -> str:
    """The row's day as midnight UTC; the API has served both ``2026-11-30`` and RFC 3339 (§5.9)."""
    if value is None or value == requested or value == requested[:10]:
        return requested
    try:
        return to_seconds(floor_to(parse_utc(t.cast(str, value)), DAY))
    except (TypeError, ValueError, AttributeError):
        raise _drift(path, "date", "is not a date or an RFC 3339 timestamp") from None
