"""One UTC format per kind of timestamp, so bookmarks and warehouse columns compare correctly."""

from __future__ import annotations

import datetime as dt
import re

UTC = dt.timezone.utc
_MICROS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def parse_utc(value: str) -> dt.datetime:
    """Parse an RFC 3339 / ISO 8601 string or a bare date; naive values are taken as UTC."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = dt.datetime.fromisoformat(text)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def to_micros(value: dt.datetime) -> str:
    """``2026-11-20T10:00:00.000000Z``: the API's own precision for object timestamps."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def to_seconds(value: dt.datetime) -> str:
    """``2026-11-20T10:00:00Z``: report buckets and bookmarks (buckets snap to whole minutes)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def as_micros(text: str) -> str:
    """``text`` in the ``to_micros`` form; the API's usual form is kept as is (no parse per record)."""
    return text if _MICROS.fullmatch(text) else to_micros(parse_utc(text))
