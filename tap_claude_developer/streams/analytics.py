"""The Usage and Cost Analytics API (admin-api.md §5.12, beta since 2026-10-29): opt-in streams.

``analytics_usage`` and ``analytics_cost`` read ``GET /v1/organizations/analytics/usage|cost`` with
the ``anthropic-beta`` header, in daily buckets. They are not selected by default (a catalog or
Meltano ``select`` turns them on): the API is in beta, and the classic reports already cover usage
and cost. What the API allows shapes every request:

* at most 31 days a query: a window is read in chains of at most 31 days, which run concurrently;
* nothing before 2026-01-01T00:00:00Z and nothing more than 365 days back: the window is clamped
  (said once in the log), the oldest day starting an hour inside the limit for clock skew;
* rows are ranked by a metric unless ``order_by=time``: we ask ``order_by=time&order=asc``, so
  rows come oldest bucket first and a bucket's rows arrive together;
* ``limit`` is rows per page (1000 at most); ``next_page`` is followed while ``has_more``, with
  every other parameter unchanged (cursors are bound to their query).

A row is identified by its bucket and the grouped dimensions' values (``group_key``). The API may
return several rows with the same values ("distinct identities the server cannot render also read
null, each as its own row"): they are indistinguishable, so they are summed into one record rather
than overwrite each other in the target.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import json
import logging
import typing as t

from singer_sdk import typing as th

from tap_claude_developer.pagination import Chain
from tap_claude_developer.records import EXACT, cents_to_usd
from tap_claude_developer.settings import ANALYTICS_DIMENSIONS
from tap_claude_developer.streams import reports
from tap_claude_developer.streams.base import JSON_OBJECT, ORG_ID, SchemaDriftError, page_items
from tap_claude_developer.streams.reports import BUCKETS, ReportStream, ceil_to
from tap_claude_developer.timestamps import UTC, parse_utc, to_micros, to_seconds

if t.TYPE_CHECKING:
    from tap_claude_developer.sync_run import Organization

LOGGER = logging.getLogger("tap-claude-developer")

BETA = ("anthropic-beta", "analytics-usage-cost-2026-08-24")
EARLIEST = dt.datetime(2026, 1, 1, tzinfo=UTC)
MAX_BACK = dt.timedelta(days=365)
CLOCK_MARGIN = dt.timedelta(hours=1)
QUERY_SPAN = dt.timedelta(days=31)
PAGE_ROWS = 1000
DAY = BUCKETS["1d"]
#: Identifying fields of each kind of actor; name, email and deleted are attributes that change.
ACTOR_IDENTITY = {
    "user_actor": ("type", "user_id"),
    "service_account_actor": ("type", "service_account_id"),
    "api_actor": ("type", "api_key_id"),
    "federated_actor": ("type", "provider", "subject"),
}


def _text(name: str, description: str) -> th.Property[t.Any]:
    return th.Property(name, th.StringType, description=description)


def _count(name: str, description: str) -> th.Property[t.Any]:
    return th.Property(name, th.IntegerType, description=description)


COMMON = (
    ORG_ID,
    th.Property("starting_at", th.DateTimeType, required=True, description="Start of the UTC day (inclusive)."),
    th.Property("ending_at", th.DateTimeType, description="End of the UTC day (exclusive)."),
    th.Property(
        "group_key",
        th.StringType,
        required=True,
        description=(
            "The grouped dimensions and their values as a JSON object (an actor by its id), e.g. "
            '{"api_key_id":null,"model":"claude-opus-4-6","workspace_id":"wrkspc_..."}; {} when '
            "nothing is grouped. Never null; rows that differ in any dimension have different keys."
        ),
    ),
    th.Property(
        "data_refreshed_at",
        th.DateTimeType,
        description="The API's data_refreshed_at for the page: data before it is complete.",
    ),
    _text("actor_type", "user_actor, service_account_actor, api_actor or federated_actor (open enum)."),
    _text("actor_user_id", "user_actor: the user (also for users no longer in the organization)."),
    _text("actor_email_address", "user_actor: email; null for a deleted account or a system service account."),
    _text("actor_name", "user_actor: full name, or 'Deleted User'."),
    th.Property("actor_deleted", th.BooleanType, description="user_actor: deleted, or no longer a member."),
    _text("actor_service_account_id", "service_account_actor: the service account."),
    _text("actor_api_key_id", "api_actor: the API key the usage is attributed to."),
    th.Property(
        "actor_provider",
        JSON_OBJECT,
        description="federated_actor: the provider that asserted the identity: {type: aws|azure|gcp|oidc, ...}.",
    ),
    _text("actor_subject", "federated_actor: the provider's identifier for the caller."),
    _text("agent_id", "Claude Managed Agents agent."),
    _text("api_key_id", "API key that authenticated the requests, whoever the actor is."),
    _text("claude_tag_category", "Claude Tag (Claude in Slack) category: engaged, proactive, ... (open)."),
    _text("claude_tag_user_id", "Slack user id of Claude Tag usage."),
    _text("context_window", "0-200k or 200k-1M."),
    _text("deployment_id", "Deployment that started the managed agent session."),
    _text("environment_id", "Managed agent environment."),
    _text("inference_geo", "global or us; null where the model cannot set a region."),
    _text("model", "Model; null for costs with no model (code execution)."),
    _text("child_organization_id", "The API's group.organization_id: a child organization on a parent's report."),
    _text("product", "messages_api, claude_code, claude_console, ... (open)."),
    _text("rbac_group_id", "RBAC group (team); groups overlap."),
    _text("service_tier", "standard, batch, priority, priority_on_demand, flex, flex_discount (open)."),
    _text("session_id", "Managed agent session."),
    _text("slack_channel_id", "Slack channel."),
    _text("speed", "fast or standard."),
    _text("user_profile_id", "User profile."),
    _text("workspace_id", "Workspace, the Default Workspace by its real id (unlike the classic reports)."),
)


class AnalyticsStream(ReportStream):
    """Daily rows of one Analytics report, per organization, oldest first."""

    cursor = "report"
    selected_by_default = False
    lookback_setting = "analytics_lookback_days"
    primary_keys = ("organization_id", "starting_at", "group_key")
    group_by_setting: t.ClassVar[str]
    #: Fields summed when the API sends two rows with the same key (see the module docstring).
    summed: t.ClassVar[tuple[str, ...]]

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._windows: dict[str, tuple[dt.datetime, dt.datetime]] = {}
        self._bucket: dict[Chain, dict[str, dict[str, t.Any]]] = {}
        self._clamp_said = False

    @property
    def group_by(self) -> list[str]:
        return list(self.config[self.group_by_setting])

    def chains(self, org: Organization) -> t.Iterable[Chain]:
        start, end = self.window(org, DAY)
        start = max(start, self._oldest(start))
        if start >= end:
            return
        self._windows[org.id] = (start, end)
        grouping = tuple(("group_by[]", name) for name in self.group_by)
        while start < end:
            stop = min(end, start + QUERY_SPAN)
            params = (
                ("starting_at", to_seconds(start)),
                ("ending_at", to_seconds(stop)),  # required with time_bucket_width
                ("time_bucket_width", "1d"),
                *grouping,
                ("order_by", "time"),  # else rows are ranked by a metric, not by time
                ("order", "asc"),
                ("limit", str(PAGE_ROWS)),
            )
            yield Chain(org.index, self.path, params, "report", headers=(BETA,), label=to_seconds(start))
            start = stop

    def _oldest(self, start: dt.datetime) -> dt.datetime:
        """The oldest day the API serves; said once a run when it cuts a window short."""
        oldest = max(EARLIEST, ceil_to(reports.utc_now() - MAX_BACK + CLOCK_MARGIN, DAY))
        if start < oldest and not self._clamp_said:
            self._clamp_said = True
            LOGGER.info(
                "Stream '%s' starts at %s instead of %s: the Analytics API serves nothing before "
                "2026-01-01 or more than 365 days back.",
                self.name,
                to_seconds(oldest),
                to_seconds(start),
            )
        return oldest

    def records(self, page: t.Any, chain: Chain, org: Organization) -> t.Iterable[dict[str, t.Any]]:
        refreshed = page.get("data_refreshed_at") if isinstance(page, dict) else None
        refreshed = self._moment(refreshed, "data_refreshed_at", chain, to_micros) if refreshed else None
        bucket = self._bucket.setdefault(chain, {})
        for item in page_items(page, chain.path):
            record = self.record(item, chain, org)
            record["data_refreshed_at"] = refreshed
            if bucket and next(iter(bucket.values()))["starting_at"] != record["starting_at"]:
                yield from bucket.values()  # rows come a bucket at a time (order_by=time)
                bucket.clear()
            same = bucket.get(record["group_key"])
            if same is None:
                bucket[record["group_key"]] = record
            else:
                self._add(same, record)
        if not page.get("has_more"):
            yield from self._bucket.pop(chain).values()

    def record(self, item: dict[str, t.Any], chain: Chain, org: Organization) -> dict[str, t.Any]:
        """Bounds, dimensions and key of one row; streams add their metrics."""
        group = self._object(item.get("group"), "group", chain) or {}
        actor = self._object(group.get("actor"), "group.actor", chain)
        values = {name: group.get(name) for name in ANALYTICS_DIMENSIONS if name not in ("actor", "organization_id")}
        key = {name: (_identity(actor) if name == "actor" else group.get(name)) for name in self.group_by}
        return {
            "organization_id": org.id,
            "starting_at": self._moment(item.get("starting_at"), "starting_at", chain),
            "ending_at": self._moment(item.get("ending_at"), "ending_at", chain),
            "group_key": json.dumps(key, sort_keys=True, separators=(",", ":")),
            **values,
            "child_organization_id": group.get("organization_id"),
            "actor_type": group.get("actor_type") or (actor or {}).get("type"),
            **{f"actor_{name}": (actor or {}).get(name) for name in _ACTOR_FIELDS},
        }

    def _add(self, total: dict[str, t.Any], more: dict[str, t.Any]) -> None:
        for name in self.summed:
            first, second = total.get(name), more.get(name)
            if first is None or second is None:
                total[name] = None
            elif isinstance(first, decimal.Decimal) or isinstance(second, decimal.Decimal):
                total[name] = EXACT.add(first, second)  # money: every digit kept
            else:
                total[name] = first + second

    def finished(self, org: Organization) -> None:
        window = self._windows.pop(org.id, None)
        if window is not None:  # the last day read, whether or not it had rows
            self.advance_bookmark(org, window[1] - DAY)

    def _object(self, value: object, name: str, chain: Chain) -> dict[str, t.Any] | None:
        if value is None or isinstance(value, dict):
            return value
        raise SchemaDriftError(chain.path, 200, message=f"stream '{self.name}' field '{name}' is not an object")

    def _moment(self, value: object, name: str, chain: Chain, form: t.Callable[[dt.datetime], str] = to_seconds) -> str:
        try:
            return form(parse_utc(t.cast(str, value)))
        except (TypeError, ValueError, AttributeError):
            raise SchemaDriftError(
                chain.path, 200, message=f"stream '{self.name}' field '{name}' is not an RFC 3339 timestamp"
            ) from None


_ACTOR_FIELDS = (
    "user_id",
    "email_address",
    "name",
    "deleted",
    "service_account_id",
    "api_key_id",
    "provider",
    "subject",
)


def _identity(actor: dict[str, t.Any] | None) -> dict[str, t.Any] | None:
    """What identifies an actor (its kind and id); an unknown kind is kept whole."""
    if actor is None:
        return None
    fields = ACTOR_IDENTITY.get(str(actor.get("type")))
    return {name: actor.get(name) for name in fields} if fields else actor


class AnalyticsUsageStream(AnalyticsStream):
    """``GET /v1/organizations/analytics/usage``: tokens and requests a day by the chosen dimensions."""

    name = "analytics_usage"
    path = "/v1/organizations/analytics/usage"
    group_by_setting = "analytics_usage_group_by"
    summed = (
        "uncached_input_tokens",
        "cache_read_input_tokens",
        "cache_creation_ephemeral_1h_input_tokens",
        "cache_creation_ephemeral_5m_input_tokens",
        "output_tokens",
        "total_tokens",
        "server_tool_use_web_search_requests",
        "requests",
    )
    schema = th.PropertiesList(
        *COMMON,
        _count("uncached_input_tokens", "Input tokens not read from or written to the cache."),
        _count("cache_read_input_tokens", "Input tokens read from the cache."),
        _count(
            "cache_creation_ephemeral_1h_input_tokens",
            "Input tokens written to the 1-hour cache (API: usage.cache_creation.ephemeral_1h_input_tokens).",
        ),
        _count(
            "cache_creation_ephemeral_5m_input_tokens",
            "Input tokens written to the 5-minute cache (API: usage.cache_creation.ephemeral_5m_input_tokens).",
        ),
        _count("output_tokens", "Output tokens."),
        _count("total_tokens", "Every token type together (the API's own total)."),
        _count("server_tool_use_web_search_requests", "Web searches (API: usage.server_tool_use.web_search_requests)."),
        _count("requests", "API requests (code execution: execution spans); may be null."),
    ).to_dict()

    def record(self, item: dict[str, t.Any], chain: Chain, org: Organization) -> dict[str, t.Any]:
        usage = self._object(item.get("usage"), "usage", chain) or {}
        cache = self._object(usage.get("cache_creation"), "usage.cache_creation", chain) or {}
        tools = self._object(usage.get("server_tool_use"), "usage.server_tool_use", chain) or {}
        return {
            **super().record(item, chain, org),
            "uncached_input_tokens": usage.get("uncached_input_tokens"),
            "cache_read_input_tokens": usage.get("cache_read_input_tokens"),
            "cache_creation_ephemeral_1h_input_tokens": cache.get("ephemeral_1h_input_tokens"),
            "cache_creation_ephemeral_5m_input_tokens": cache.get("ephemeral_5m_input_tokens"),
            "output_tokens": usage.get("output_tokens"),
            "total_tokens": usage.get("total_tokens"),
            "server_tool_use_web_search_requests": tools.get("web_search_requests"),
            "requests": usage.get("requests"),
        }


class AnalyticsCostStream(AnalyticsStream):
    """``GET /v1/organizations/analytics/cost``: cost a day in cents and USD, both exact."""

    name = "analytics_cost"
    path = "/v1/organizations/analytics/cost"
    group_by_setting = "analytics_cost_group_by"
    summed = ("amount_cents", "amount_usd", "list_amount_cents", "list_amount_usd", "requests")
    schema = th.PropertiesList(
        *COMMON,
        _text("cost_type", "tokens, web_search, code_execution, session_usage (open); null unless grouped."),
        _text("token_type", "uncached_input_tokens, output_tokens, ... when cost_type is tokens; null unless grouped."),
        th.Property(
            "amount_cents",
            th.DecimalType,
            description="The API's amount: cents after discounts, before credits, exact (5470.204113 = $54.70204113).",
        ),
        th.Property("amount_usd", th.DecimalType, description="amount_cents / 100, exact; null unless USD."),
        th.Property("list_amount_cents", th.DecimalType, description="The API's list_amount: list price in cents."),
        th.Property("list_amount_usd", th.DecimalType, description="list_amount_cents / 100, exact; null unless USD."),
        _text("currency", "Currently always USD."),
        _count("requests", "API requests; null when grouped by cost_type or token_type (the API has no split)."),
    ).to_dict()

    def record(self, item: dict[str, t.Any], chain: Chain, org: Organization) -> dict[str, t.Any]:
        cost = self._object(item.get("cost"), "cost", chain) or {}
        group = self._object(item.get("group"), "group", chain) or {}
        amount = self._cents(cost.get("amount"), "cost.amount", chain)
        listed = self._cents(cost.get("list_amount"), "cost.list_amount", chain)
        usd = cost.get("currency") == "USD"
        return {
            **super().record(item, chain, org),
            "cost_type": group.get("cost_type"),
            "token_type": group.get("token_type"),
            "amount_cents": amount,
            "amount_usd": cents_to_usd(amount) if usd else None,
            "list_amount_cents": listed,
            "list_amount_usd": cents_to_usd(listed) if usd else None,
            "currency": cost.get("currency"),
            "requests": cost.get("requests"),
        }

    def _cents(self, amount: object, name: str, chain: Chain) -> decimal.Decimal:
        """A decimal string in cents (a JSON number is read as Decimal too, never float)."""
        cents = None
        if isinstance(amount, (str, int, decimal.Decimal)) and not isinstance(amount, bool):
            with contextlib.suppress(decimal.InvalidOperation):
                cents = decimal.Decimal(amount)
        if cents is None or not cents.is_finite():
            raise SchemaDriftError(chain.path, 200, message=f"stream '{self.name}' field '{name}' is not a decimal")
        return cents


ANALYTICS_STREAMS: tuple[type[AnalyticsStream], ...] = (AnalyticsCostStream, AnalyticsUsageStream)
