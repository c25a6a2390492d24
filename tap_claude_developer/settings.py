"""The tap's settings: their schema, their defaults and their validation.

Validation runs before any request and never echoes a value: JSON Schema's own messages quote
the offending value, which for ``admin_api_keys`` would be the secret itself, so every message
here is written from the setting's name and the rule it broke.
"""

from __future__ import annotations

import datetime as dt
import decimal
import difflib
import json
import math
import re
import typing as t
from urllib.parse import urlsplit

from singer_sdk import typing as th

from tap_claude_developer.timestamps import parse_utc

DEFAULT_API_URL = "https://api.anthropic.com"
DEFAULT_ANTHROPIC_VERSION = "2023-06-01"
ADMIN_KEY_PREFIX = "sk-ant-admin"
STANDARD_KEY_PREFIX = "sk-ant-api"
#: No report data exists before it: Anthropic's API did not exist yet (an earlier start only
#: plans empty requests, and years before 1000 break the bookmarks' date format).
EARLIEST_DATE = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
#: The words the SDK reads as true in an environment variable, and their opposites.
ENV_TRUE = ("true", "1", "yes", "on")
ENV_FALSE = ("false", "0", "no", "off")
#: Real Admin keys are about 100 characters; anything under this is a fragment (and shorter
#: text would escape the pattern that redacts keys from logs).
MIN_KEY_LENGTH = 40
#: What Anthropic keys are made of; anything else (spaces, line breaks, non-ASCII) would also
#: break the HTTP header the key is sent in.
KEY_CHARACTERS = re.compile(r"[A-Za-z0-9_\-]+")
#: admin-api.md §5.7 and §5.8. `speed` needs the fast-mode beta header, so it is not a default.
USAGE_BUCKET_WIDTHS = ("1d", "1h", "1m")
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
USAGE_DEFAULT_GROUP_BY = tuple(dimension for dimension in USAGE_DIMENSIONS if dimension != "speed")
COST_DIMENSIONS = ("workspace_id", "description")
#: admin-api.md §5.12 (Usage and Cost Analytics API): at most 5 dimensions a query; cost also
#: takes cost_type and token_type, which do not count toward the 5.
ANALYTICS_DIMENSIONS = (
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
ANALYTICS_COST_ONLY = ("cost_type", "token_type")
ANALYTICS_MAX_GROUP_BY = 5
ANALYTICS_USAGE_DEFAULT_GROUP_BY = ("model", "workspace_id", "api_key_id")
ANALYTICS_COST_DEFAULT_GROUP_BY = (*ANALYTICS_USAGE_DEFAULT_GROUP_BY, *ANALYTICS_COST_ONLY)

SETTINGS = th.PropertiesList(
    th.Property(
        "admin_api_keys",
        th.ArrayType(th.StringType),
        required=True,
        secret=True,
        title="Admin API keys",
        description=(
            "One Admin API key (sk-ant-admin...) per organization to sync. An organization "
            "admin creates them in the Claude Console under Settings > Admin Keys."
        ),
    ),
    th.Property(
        "api_url",
        th.StringType,
        default=DEFAULT_API_URL,
        title="API base URL",
        description="Base URL of the Anthropic API (the tests and the demo point it at the simulator).",
    ),
    th.Property(
        "anthropic_version",
        th.StringType,
        default=DEFAULT_ANTHROPIC_VERSION,
        title="anthropic-version header",
        description="Value of the anthropic-version header sent with every request.",
    ),
    th.Property(
        "user_agent",
        th.StringType,
        title="User-Agent",
        description="User-Agent header; defaults to tap-claude-developer/<version>.",
    ),
    th.Property(
        "page_size",
        th.IntegerType(minimum=1, maximum=1000),
        default=1000,
        title="Page size",
        description=(
            "Items per page for users, invites, workspaces, members and API keys "
            "(the API allows 1 to 1000; the largest page means the fewest requests)."
        ),
    ),
    th.Property(
        "concurrency",
        th.IntegerType(minimum=1, maximum=64),
        default=8,
        title="Concurrent requests",
        description=(
            "Most requests in flight at once, across organizations, workspaces and report "
            "windows. Output is identical at every level; only the time changes."
        ),
    ),
    th.Property(
        "max_requests_per_minute",
        th.IntegerType(minimum=1),
        default=100,
        title="Requests per minute per organization",
        description=(
            "Ceiling on requests to one organization in any rolling minute. The Admin API "
            "documents 100 requests/minute per organization."
        ),
    ),
    th.Property(
        "request_timeout",
        th.NumberType(exclusive_minimum=0, maximum=3600),
        default=60,
        title="Request timeout (seconds)",
        description="Seconds to wait for a connection or a response before retrying.",
    ),
    th.Property(
        "max_retries",
        th.IntegerType(minimum=0, maximum=20),
        default=5,
        title="Retries per request",
        description=(
            "Retries after a 429, 5xx, 529, connection reset, timeout or unreadable body "
            "(exponential backoff with jitter). 400, 401, 403 and 404 are never retried."
        ),
    ),
    th.Property(
        "max_retry_wait",
        th.NumberType(exclusive_minimum=0, maximum=3600),
        default=120,
        title="Longest wait before a retry (seconds)",
        description="Cap on any single wait, including one asked for by retry-after.",
    ),
    th.Property(
        "start_date",
        th.StringType,
        title="Start date",
        description=(
            "Earliest day (or instant) the report streams read on a first run: a date or an "
            "RFC 3339 datetime, naive values taken as UTC, on or after 2020-01-01. Default: 30 days "
            "before today (UTC)."
        ),
    ),
    th.Property(
        "end_date",
        th.StringType,
        title="End date",
        description=(
            "Exclusive end of what the report streams read (same formats and lower bound as start_date). "
            "Default: now. Report bookmarks never move past it."
        ),
    ),
    th.Property(
        "lookback_days",
        th.IntegerType(minimum=0, maximum=31),
        default=1,
        title="Lookback for usage, cost and Claude Code (days)",
        description=(
            "Each run re-reads this many days before its bookmark, because report data lands "
            "late and is revised (usage and cost within minutes to hours, Claude Code after "
            "about an hour). Re-read rows replace the old ones in the target."
        ),
    ),
    th.Property(
        "usage_bucket_width",
        th.StringType(allowed_values=list(USAGE_BUCKET_WIDTHS)),
        default="1d",
        title="Bucket width of messages_usage",
        description=(
            "Time bucket of the messages_usage stream: 1d (days), 1h (hours) or 1m (minutes), UTC. "
            "The width is part of each row's key, so rows of different widths never overwrite each other."
        ),
    ),
    th.Property(
        "usage_group_by",
        th.ArrayType(th.StringType(allowed_values=list(USAGE_DIMENSIONS))),
        default=list(USAGE_DEFAULT_GROUP_BY),
        title="Dimensions of messages_usage",
        description=(
            "What messages_usage rows are broken down by (each at most once; [] = one total a bucket). "
            "Default: every dimension that needs no beta header. 'speed' sends the fast-mode beta "
            "header. Changing this changes what a row is: rows keyed by other dimensions stay as they were."
        ),
    ),
    th.Property(
        "cost_group_by",
        th.ArrayType(th.StringType(allowed_values=list(COST_DIMENSIONS))),
        default=list(COST_DIMENSIONS),
        title="Dimensions of cost_report",
        description=(
            "What cost_report rows are broken down by: workspace_id and/or description (each at most "
            "once). The model, token type, service tier and other cost fields are parsed from the "
            "description, so they are null without it."
        ),
    ),
    th.Property(
        "analytics_lookback_days",
        th.IntegerType(minimum=0, maximum=365),
        default=30,
        title="Lookback for analytics_usage and analytics_cost (days)",
        description=(
            "Each run re-reads this many days before the bookmark of the opt-in Analytics API "
            "streams, because their values may be revised for up to 30 days. Re-read rows replace "
            "the old ones in the target."
        ),
    ),
    th.Property(
        "analytics_usage_group_by",
        th.ArrayType(th.StringType(allowed_values=list(ANALYTICS_DIMENSIONS))),
        default=list(ANALYTICS_USAGE_DEFAULT_GROUP_BY),
        title="Dimensions of analytics_usage",
        description=(
            "What analytics_usage rows are broken down by: at most 5 dimensions of the Analytics "
            "API, each once ([] = one total a day). Changing this changes what a row is: rows "
            "keyed by other dimensions stay as they were."
        ),
    ),
    th.Property(
        "analytics_cost_group_by",
        th.ArrayType(th.StringType(allowed_values=[*ANALYTICS_DIMENSIONS, *ANALYTICS_COST_ONLY])),
        default=list(ANALYTICS_COST_DEFAULT_GROUP_BY),
        title="Dimensions of analytics_cost",
        description=(
            "What analytics_cost rows are broken down by: at most 5 dimensions of the Analytics "
            "API, plus cost_type and token_type, which do not count toward the 5 (with either, "
            "the API gives no request count)."
        ),
    ),
    th.Property(
        "emit_activate_version_messages",
        th.BooleanType,
        default=True,
        title="Emit ACTIVATE_VERSION messages",
        description=(
            "After a full sync of a directory stream for every organization, send "
            "ACTIVATE_VERSION so the target marks rows that vanished from the API "
            "(removed users, members, invites, keys) as deleted."
        ),
    ),
).to_dict()


def ordinal(n: int) -> str:
    """1 -> '1st', 2 -> '2nd', 11 -> '11th'."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def key_label(index: int, key: object) -> str:
    """Name a key by position and, when it is long enough to stay secret, its last 4 characters."""
    label = f"the {ordinal(index + 1)} admin API key"
    if isinstance(key, str) and len(key.strip()) >= 20 and KEY_CHARACTERS.fullmatch(key.strip()[-4:]):
        label += f" (ending ...{key.strip()[-4:]})"
    return label


def _key_errors(keys: object) -> list[str]:
    if keys is None:
        return ["admin_api_keys is required: give one Admin API key (sk-ant-admin...) per organization."]
    if not isinstance(keys, list):
        return ["admin_api_keys must be a list of Admin API keys (a JSON array of strings)."]
    if not keys:
        return ["admin_api_keys is empty: give at least one Admin API key (sk-ant-admin...)."]
    errors: list[str] = []
    seen: dict[str, int] = {}
    for index, key in enumerate(keys):
        label = key_label(index, key)
        if not isinstance(key, str):
            errors.append(f"{label} is not a string.")
        elif not key.strip():
            errors.append(f"{label} is blank.")
        elif key != key.strip():
            errors.append(f"{label} has leading or trailing whitespace; remove it.")
        elif key.startswith(STANDARD_KEY_PREFIX):
            errors.append(
                f"{label} is a standard API key (sk-ant-api...), which cannot read the Admin "
                "API: an organization admin creates an Admin key (sk-ant-admin...) in the "
                "Claude Console under Settings > Admin Keys."
            )
        elif not key.startswith(ADMIN_KEY_PREFIX):
            errors.append(f"{label} is not an Admin API key: Admin keys start with sk-ant-admin.")
        elif not KEY_CHARACTERS.fullmatch(key):
            errors.append(
                f"{label} holds characters no API key has (only letters, digits, - and _): "
                "was something pasted with it?"
            )
        elif len(key) < MIN_KEY_LENGTH:
            errors.append(f"{label} is too short to be an Admin API key (they are about 100 characters long).")
        elif key in seen:
            errors.append(f"{label} is the same key as the {ordinal(seen[key] + 1)}; give each key once.")
        else:
            seen[key] = index
    return errors


def _url_errors(url: object) -> list[str]:
    if not isinstance(url, str):
        return ["api_url must be a string."]
    if any(char.isspace() or not char.isprintable() for char in url):
        # urlsplit drops tabs and line breaks silently, and httpx would not: fail here, not after retries.
        return ["api_url must not contain spaces, line breaks or control characters (check its ends)."]
    try:
        parts = urlsplit(url)
    except ValueError:  # "Invalid IPv6 URL"
        return ["api_url is not a valid URL: check the brackets around its IPv6 address."]
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return ["api_url must be an http(s) URL such as https://api.anthropic.com."]
    if parts.query or parts.fragment or parts.username or parts.password:
        return ["api_url must not carry credentials, a query or a fragment."]
    if "v1" in parts.path.lower().split("/"):
        # A gateway's own path prefix is fine; /v1 is the API's, and the tap adds it to every request.
        return ["api_url must be the API's base URL, without /v1 (the tap adds /v1/organizations/...)."]
    try:
        port = parts.port
    except ValueError:  # not a number, or above 65535
        port = 0
    if port is not None and not 1 <= port <= 65535:
        return ["api_url has a bad port: it must be a number from 1 to 65535."]
    return []


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float, decimal.Decimal),  # the SDK reads config files with Decimal floats
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}


def _schema_errors(name: str, value: object, schema: dict[str, t.Any]) -> list[str]:
    """Type and bound checks for a plain setting, phrased without the value."""
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    if value is None:
        # The SDK makes every optional setting nullable, but a null where there is a default
        # would reach the code as None (page_size: null sent limit=None): leave it out instead.
        nullable = ("null" in types or not types) and "default" not in schema
        return [] if nullable else [f"{name} must not be null."]
    wanted = [typ for typ in types if typ != "null"]
    if wanted and not any(
        isinstance(value, _JSON_TYPES.get(typ, (object,)))
        and not (isinstance(value, bool) and typ in {"integer", "number"})
        for typ in wanted
    ):
        return [f"{name} must be {' or '.join('an ' + w if w[0] in 'aeiou' else 'a ' + w for w in wanted)}."]
    if isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool):
        low, high = schema.get("minimum"), schema.get("maximum")
        if schema.get("exclusiveMinimum") is not None and value <= schema["exclusiveMinimum"]:
            return [f"{name} must be greater than {schema['exclusiveMinimum']}."]
        if (low is not None and value < low) or (high is not None and value > high):
            if low is not None and high is not None:
                bounds = f"from {low} to {high}"
            else:
                bounds = f"at most {high}" if high is not None else f"at least {low}"
            return [f"{name} must be {bounds}."]
    allowed = schema.get("enum")
    if allowed is not None and value not in allowed:
        return [f"{name} must be one of: {', '.join(map(str, allowed))}."]
    choices = schema.get("items", {}).get("enum")
    if isinstance(value, list) and choices is not None:
        if any(item not in choices for item in value):
            return [f"{name} may list only: {', '.join(map(str, choices))}."]
        if len(set(value)) < len(value):
            return [f"{name} lists the same value twice."]
    return []


def _date_errors(config: t.Mapping[str, t.Any]) -> list[str]:
    errors: list[str] = []
    bounds: dict[str, dt.datetime] = {}
    for name in ("start_date", "end_date"):
        value = config.get(name)
        if not isinstance(value, str):
            continue  # absent, or already reported as the wrong type
        try:
            bounds[name] = parse_utc(value)
        except (TypeError, ValueError, AttributeError, OverflowError):  # Overflow: 0001-01-01T00:00+01:00
            errors.append(f"{name} must be a date (2026-11-01) or an RFC 3339 datetime (2026-11-01T00:00:00Z).")
            continue
        if bounds[name] < EARLIEST_DATE:
            errors.append(f"{name} must be on or after 2020-01-01: Anthropic's API did not exist before then.")
            del bounds[name]
    if len(bounds) == 2 and bounds["end_date"] <= bounds["start_date"]:
        errors.append("end_date must be after start_date.")
    return errors


def _analytics_group_by_errors(config: t.Mapping[str, t.Any]) -> list[str]:
    """The Analytics API's own limits on group_by[] (admin-api.md §5.12), so no run ends in a 400."""
    errors: list[str] = []
    for name in ("analytics_usage_group_by", "analytics_cost_group_by"):
        value = config.get(name)
        if not isinstance(value, list):
            continue  # absent, or already reported as the wrong type
        counted = [item for item in value if item not in ANALYTICS_COST_ONLY]
        if len(counted) > ANALYTICS_MAX_GROUP_BY:
            extra = " (cost_type and token_type do not count)" if name == "analytics_cost_group_by" else ""
            errors.append(f"{name} may list at most {ANALYTICS_MAX_GROUP_BY} dimensions{extra}.")
        if "claude_tag_user_id" in value and "rbac_group_id" in value:
            errors.append(f"{name} cannot combine claude_tag_user_id with rbac_group_id (the API refuses it).")
    return errors


def validate(config: t.Mapping[str, t.Any], schema: dict[str, t.Any]) -> list[str]:
    """Every problem with ``config``, one line each, without echoing any value."""
    properties: dict[str, t.Any] = schema.get("properties", {})
    errors: list[str] = []
    for name in config:
        if name not in properties:
            hint = difflib.get_close_matches(name, properties, n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            errors.append(f"unknown setting '{name}'{suggestion}.")
    errors += _key_errors(config.get("admin_api_keys"))
    if "api_url" in config:
        errors += _url_errors(config["api_url"])
    for name, value in config.items():
        if name in properties and name not in {"admin_api_keys", "api_url"}:
            errors += _schema_errors(name, value, properties[name])
    errors += _date_errors(config)
    errors += _analytics_group_by_errors(config)
    for name in ("anthropic_version", "user_agent"):
        value = config.get(name)
        if isinstance(value, str) and (not value.strip() or "\n" in value or "\r" in value):
            errors.append(f"{name} must be a non-blank single line.")
        elif isinstance(value, str) and not (value.isascii() and value.isprintable()):
            # HTTP headers are latin-1: anything else crashed the sync with UnicodeEncodeError.
            errors.append(f"{name} must be printable ASCII (no control characters): it is sent as an HTTP header.")
    return errors


def from_env(text: str, schema: dict[str, t.Any]) -> object:
    """An environment variable's text as its setting's type, or ValueError saying what is wrong (never the text).

    Replaces the SDK's parsing, which crashes on int("abc"), reads any unknown word as false,
    leaves numbers as text, and splits a broken JSON array at its commas.
    """
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    if "integer" in types:
        try:
            return int(text)
        except ValueError:
            raise ValueError("must be an integer") from None
    if "number" in types:
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise ValueError("must be a number")
        return number
    if "boolean" in types:
        word = text.strip().lower()
        if word not in ENV_TRUE + ENV_FALSE:
            raise ValueError("must be true or false (or 1/0, yes/no, on/off)")
        return word in ENV_TRUE
    if "array" in types and "string" in schema.get("items", {}).get("type", []) and not text.lstrip().startswith("["):
        return text.split(",")  # the SDK's older x,y,z form
    if "array" in types or "object" in types:
        wanted = "array" if "array" in types else "object"
        try:
            value = json.loads(text, parse_float=decimal.Decimal)
        except ValueError:
            value = None
        if not isinstance(value, list if wanted == "array" else dict):
            raise ValueError(f"is not a JSON {wanted} (check its brackets, quotes and commas)")
        return value
    return text
