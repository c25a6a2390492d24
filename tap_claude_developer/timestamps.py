"""One UTC format per kind of timestamp, so bookmarks and warehouse columns compare correctly."""

from __future__ import annotations

import datetime as dt
import re

UTC = dt.timezone.utc
_MICROS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)"  # a date, then optionally a time of day and an offset
    r"(?:[Tt ](\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?(Z|z|[+-]\d\d:?\d\d)?)?",
    re.ASCII,
)


def parse_utc(value: str) -> dt.datetime:
    """Parse an RFC 3339 timestamp or a bare date; naive values are taken as UTC.

    A pattern of its own, not ``fromisoformat``: that one differs by Python version (3.10 refuses
    ``.5Z``, 3.11 accepts ``20261101`` and ``2026-W44-1``). Fractions keep their first 6 digits.
    """
    found = _TIMESTAMP.fullmatch(value.strip())
    if found is None:
        raise ValueError(f"not an RFC 3339 timestamp or a date: {value!r}")
    year, month, day, hour, minute, second, fraction, zone = found.groups()
    parsed = dt.datetime(
        int(year),
        int(month),
        int(day),
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
        int((fraction or "0")[:6].ljust(6, "0")),
    )
    if zone is None or zone in ("Z", "z"):
        return parsed.replace(tzinfo=UTC)
    sign = 1 if zone[0] == "+" else -1
    offset = dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[-2:]))
    if offset >= dt.timedelta(hours=24):
        raise ValueError(f"not an RFC 3339 time offset: {value!r}")
    try:
        return parsed.replace(tzinfo=dt.timezone(sign * offset)).astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00
        raise ValueError(f"not a time after year 1 in UTC: {value!r}") from None


def to_micros(value: dt.datetime) -> str:
    """``2026-11-20T10:00:00.000000Z``: the API's own precision for object timestamps."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def to_seconds(value: dt.datetime) -> str:
    """``2026-11-20T10:00:00Z``: report buckets and bookmarks (buckets snap to whole minutes)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def as_micros(text: str) -> str:
    """``text`` in the ``to_micros`` form; the API's usual form is kept as is (no parse per record)."""
    return text if _MICROS.fullmatch(text) else to_micros(parse_utc(text))
