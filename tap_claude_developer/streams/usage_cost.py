"""Token usage and cost (admin-api.md §5.7, §5.8): incremental, per organization, exact.

Both reports answer with time buckets, each holding result rows; a record is one (bucket, row).
A run reads ``[start, end)`` (see ``ReportStream.window``) in chunks of the largest page the
bucket width allows, one request chain per chunk, so chunks download concurrently and a window
costs the fewest requests: 31 days at 1d, 90 days in 3. Each chain follows ``next_page`` while
``has_more``, across pages whose buckets are all empty too.

A row's identity is its bucket plus the values of the dimensions it was grouped by: every
dimension is null unless grouped (and a grouped one may be null too: a null workspace is the
Default Workspace), so the key is ``group_key``, a JSON object of exactly the grouped dimensions.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import json
import typing as t

from singer_sdk import typing as th

from tap_claude_developer.pagination import Chain
from tap_claude_developer.records import cents_to_usd
from tap_claude_developer.settings import COST_DIMENSIONS, USAGE_DIMENSIONS
from tap_claude_developer.streams.base import ORG_ID, SchemaDriftError, page_items
from tap_claude_developer.streams.reports import BUCKETS, ReportStream
from tap_claude_developer.timestamps import parse_utc, to_seconds

if t.TYPE_CHECKING:
    from tap_claude_developer.sync_run import Organization

#: The most buckets one page may hold, per bucket width (admin-api.md §5.7; the cost report: 31 days).
PAGE_BUCKETS = {"1d": 31, "1h": 168, "1m": 1440}
#: Grouping by speed needs this beta header (admin-api.md §5.7, §12.12).
FAST_MODE_BETA = ("anthropic-beta", "fast-mode-2026-02-01")

KEY_PROPERTIES = (
    ORG_ID,
    th.Property("bucket_width", th.StringType, required=True, description="1d, 1h or 1m (cost_report: always 1d)."),
    th.Property("starting_at", th.DateTimeType, required=True, description="Start of the UTC bucket (inclusive)."),
    th.Property("ending_at", th.DateTimeType, description="End of the UTC bucket (exclusive)."),
    th.Property(
        "group_key",
        th.StringType,
        required=True,
        description=(
            'The grouped dimensions and their values as a JSON object, e.g. {"model":"claude-opus-4-6",'
            '"workspace_id":null}; {} when nothing is grouped. Never null, and unique within a bucket.'
        ),
    ),
)


def group_key(result: dict[str, t.Any], group_by: t.Sequence[str]) -> str:
    """The grouped dimensions of ``result`` as canonical JSON: null values kept, so never null itself."""
    return json.dumps({name: result.get(name) for name in group_by}, sort_keys=True, separators=(",", ":"))


class BucketReport(ReportStream):
    """A report of UTC buckets with result rows, read in chunks of one page each."""

    cursor = "report"
    primary_keys = ("organization_id", "bucket_width", "starting_at", "group_key")

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._last_bucket: dict[str, dt.datetime] = {}

    @property
    def bucket_width(self) -> str:
        return "1d"

    @property
    def group_by(self) -> list[str]:
        raise NotImplementedError

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        return ()

    def chains(self, org: Organization) -> t.Iterable[Chain]:
        width, size = BUCKETS[self.bucket_width], PAGE_BUCKETS[self.bucket_width]
        start, end = self.window(org, width)  # once, before any chain: the bookmark moves while reading
        grouping = tuple(("group_by[]", name) for name in self.group_by)
        while start < end:
            stop = min(end, start + size * width)
            params = (
                ("starting_at", to_seconds(start)),
                ("ending_at", to_seconds(stop)),
                ("bucket_width", self.bucket_width),
                ("limit", str(size)),
                *grouping,
            )
            yield Chain(org.index, self.path, params, "report", headers=self.headers, label=to_seconds(start))
            start = stop

    def records(self, page: t.Any, chain: Chain, org: Organization) -> t.Iterable[dict[str, t.Any]]:
        for bucket in page_items(page, chain.path):
            start, end = self._moment(bucket, "starting_at", chain), self._moment(bucket, "ending_at", chain)
            starting_at, ending_at = to_seconds(start), to_seconds(end)
            results = bucket.get("results")
            if not isinstance(results, list) or not all(isinstance(row, dict) for row in results):
                raise SchemaDriftError(chain.path, 200, message=f"stream '{self.name}' field 'results' is not a list")
            for result in results:
                yield {
                    **self.row(result, chain),
                    "organization_id": org.id,
                    "bucket_width": self.bucket_width,
                    "starting_at": starting_at,
                    "ending_at": ending_at,
                    "group_key": group_key(result, self.group_by),
                }
            # An empty bucket moves the bookmark too: quiet periods are not read again.
            self._last_bucket[org.id] = max(start, self._last_bucket.get(org.id, start))

    def row(self, result: dict[str, t.Any], chain: Chain) -> dict[str, t.Any]:
        """The record fields of one result row."""
        raise NotImplementedError

    def finished(self, org: Organization) -> None:
        last = self._last_bucket.pop(org.id, None)
        if last is not None:
            self.advance_bookmark(org, last)

    def _moment(self, bucket: dict[str, t.Any], name: str, chain: Chain) -> dt.datetime:
        try:
            return parse_utc(bucket[name])
        except (KeyError, TypeError, ValueError, AttributeError):
            raise SchemaDriftError(
                chain.path, 200, message=f"stream '{self.name}' field '{name}' is not an RFC 3339 timestamp"
            ) from None


def _dimension(name: str, description: str) -> th.Property[t.Any]:
    return th.Property(name, th.StringType, description=description)


class MessagesUsageStream(BucketReport):
    """``GET /v1/organizations/usage_report/messages``: tokens by bucket and the chosen dimensions."""

    name = "messages_usage"
    path = "/v1/organizations/usage_report/messages"
    schema = th.PropertiesList(
        *KEY_PROPERTIES,
        th.Property("uncached_input_tokens", th.IntegerType, description="Input tokens not read from the cache."),
        th.Property("cache_read_input_tokens", th.IntegerType, description="Input tokens read from the cache."),
        th.Property(
            "cache_creation_ephemeral_1h_input_tokens",
            th.IntegerType,
            description="Input tokens written to the 1-hour cache (API: cache_creation.ephemeral_1h_input_tokens).",
        ),
        th.Property(
            "cache_creation_ephemeral_5m_input_tokens",
            th.IntegerType,
            description="Input tokens written to the 5-minute cache (API: cache_creation.ephemeral_5m_input_tokens).",
        ),
        th.Property("output_tokens", th.IntegerType),
        th.Property(
            "server_tool_use_web_search_requests",
            th.IntegerType,
            description="Web searches (API: server_tool_use.web_search_requests).",
        ),
        _dimension("account_id", "User account (OAuth requests); null unless grouped, or not OAuth."),
        _dimension("api_key_id", "API key; null unless grouped, or Console/Playground usage."),
        _dimension("context_window", "0-200k or 200k-1M; null unless grouped."),
        _dimension("inference_geo", "global, us or not_available; null unless grouped."),
        _dimension("model", "Model id; null unless grouped."),
        _dimension("service_account_id", "Service account (workload identity federation); null unless grouped."),
        _dimension("service_tier", "standard, batch, priority, priority_on_demand, flex, flex_discount (open)."),
        _dimension("speed", "fast or standard; null unless grouped (needs the fast-mode beta, sent when grouped)."),
        _dimension("workspace_id", "Workspace; null unless grouped, and null for the Default Workspace."),
    ).to_dict()

    @property
    def bucket_width(self) -> str:
        return str(self.config["usage_bucket_width"])

    @property
    def group_by(self) -> list[str]:
        return list(self.config["usage_group_by"])

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        return (FAST_MODE_BETA,) if "speed" in self.group_by else ()

    def row(self, result: dict[str, t.Any], chain: Chain) -> dict[str, t.Any]:
        cache = _nested(self, result, "cache_creation", chain)
        tools = _nested(self, result, "server_tool_use", chain)
        return {
            "uncached_input_tokens": result.get("uncached_input_tokens"),
            "cache_read_input_tokens": result.get("cache_read_input_tokens"),
            "cache_creation_ephemeral_1h_input_tokens": cache.get("ephemeral_1h_input_tokens"),
            "cache_creation_ephemeral_5m_input_tokens": cache.get("ephemeral_5m_input_tokens"),
            "output_tokens": result.get("output_tokens"),
            "server_tool_use_web_search_requests": tools.get("web_search_requests"),
            **{name: result.get(name) for name in USAGE_DIMENSIONS},
        }


def _nested(stream: BucketReport, result: dict[str, t.Any], name: str, chain: Chain) -> dict[str, t.Any]:
    """A nested object of counters; absent means its counters are unknown (null), never zero."""
    value = result.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise SchemaDriftError(chain.path, 200, message=f"stream '{stream.name}' field '{name}' is not an object")
    return value


class CostReportStream(BucketReport):
    """``GET /v1/organizations/cost_report``: daily cost in cents (exact) and in USD (exact)."""

    name = "cost_report"
    path = "/v1/organizations/cost_report"
    schema = th.PropertiesList(
        *KEY_PROPERTIES,
        th.Property(
            "amount_cents",
            th.DecimalType,
            description="The API's amount: cents (lowest currency unit), exact, e.g. 123.78912 = $1.2378912.",
        ),
        th.Property(
            "amount_usd", th.DecimalType, description="amount_cents / 100, exact; null unless currency is USD."
        ),
        th.Property("currency", th.StringType, description="Currently always USD."),
        _dimension("workspace_id", "Workspace; null unless grouped, and null for the Default Workspace."),
        _dimension("description", "E.g. 'Claude Sonnet 4.5 Usage - Input Tokens'; null unless grouped."),
        _dimension("cost_type", "tokens, web_search, code_execution, session_usage (open); null without description."),
        _dimension("model", "Model id, for token costs; null without description."),
        _dimension("service_tier", "standard or batch, for token costs; null without description."),
        _dimension("token_type", "E.g. uncached_input_tokens, cache_creation.ephemeral_5m_input_tokens."),
        _dimension("context_window", "0-200k or 200k-1M, for token costs; null without description."),
        _dimension("inference_geo", "global, us or not_available, for token costs; null without description."),
    ).to_dict()

    @property
    def group_by(self) -> list[str]:
        return list(self.config["cost_group_by"])

    def row(self, result: dict[str, t.Any], chain: Chain) -> dict[str, t.Any]:
        cents = self._cents(result.get("amount"), chain)
        currency = result.get("currency")
        return {
            "amount_cents": cents,
            "amount_usd": cents_to_usd(cents) if currency == "USD" else None,
            "currency": currency,
            **{name: result.get(name) for name in COST_DIMENSIONS},
            # CONFLICT (admin-api.md §5.8): the reference says inference_geo is null unless grouped
            # by inference geo, which this endpoint does not accept; the guide says it is parsed from
            # the description like the others. Taken as the API sends it, whichever is true.
            **{name: result.get(name) for name in PARSED_FIELDS},
        }

    def _cents(self, amount: object, chain: Chain) -> decimal.Decimal:
        """``amount`` is a decimal string in cents (a JSON number is read as Decimal too, never float)."""
        cents = None
        if isinstance(amount, (str, int, decimal.Decimal)) and not isinstance(amount, bool):
            with contextlib.suppress(decimal.InvalidOperation):
                cents = decimal.Decimal(amount)
        if cents is None or not cents.is_finite():
            raise SchemaDriftError(chain.path, 200, message=f"stream '{self.name}' field 'amount' is not a decimal")
        return cents


PARSED_FIELDS = ("cost_type", "model", "service_tier", "token_type", "context_window", "inference_geo")

USAGE_COST_STREAMS = (CostReportStream, MessagesUsageStream)
