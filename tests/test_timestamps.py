"""Timestamps parse the same on every Python the tap supports, and always come out in UTC."""

from __future__ import annotations

import datetime as dt

import pytest

from tap_claude_developer.timestamps import as_micros, parse_utc, to_seconds

UTC = dt.timezone.utc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-01", dt.datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-01T00:00:00Z", dt.datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-01t10:20:30z", dt.datetime(2026, 11, 1, 10, 20, 30, tzinfo=UTC)),
        ("2026-11-01T00:00:00.5Z", dt.datetime(2026, 11, 1, 0, 0, 0, 500000, tzinfo=UTC)),  # 3.10 refused it
        ("2026-11-01T00:00:00.12Z", dt.datetime(2026, 11, 1, 0, 0, 0, 120000, tzinfo=UTC)),
        ("2026-11-01T00:00:00.123456789Z", dt.datetime(2026, 11, 1, 0, 0, 0, 123456, tzinfo=UTC)),
        ("2026-11-01T05:30:00+05:30", dt.datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-10-31T19:00:00-0500", dt.datetime(2026, 11, 1, tzinfo=UTC)),
        ("2026-11-01T10:00:00", dt.datetime(2026, 11, 1, 10, tzinfo=UTC)),  # naive: UTC
        ("2026-11-01 10:00", dt.datetime(2026, 11, 1, 10, tzinfo=UTC)),
        (" 2026-11-01 ", dt.datetime(2026, 11, 1, tzinfo=UTC)),
    ],
)
def test_accepted_forms(text: str, expected: dt.datetime) -> None:
    parsed = parse_utc(text)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "20261101",  # basic ISO 8601: 3.11's fromisoformat took these
        "2026-W44-1",
        "2026-305",
        "2026-11-01T10",
        "2026-02-30",
        "2026-11-01T24:00:00Z",
        "2026-11-01T00:00:00+24:00",
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
        "\u0662\u0660\u0662\u0666-11-01",  # Arabic-Indic digits match \\d without re.ASCII
        "yesterday",
        "",
    ],
)
def test_refused_forms_raise_value_error(text: str) -> None:
    with pytest.raises(ValueError, match=r"^(not |day |month |year |hour |minute |second )"):
        parse_utc(text)


def test_the_two_output_forms() -> None:
    moment = parse_utc("2026-11-01T05:30:00.25+05:30")
    assert to_seconds(moment) == "2026-11-01T00:00:00Z"
    assert as_micros("2026-11-01T05:30:00.25+05:30") == "2026-11-01T00:00:00.250000Z"
    assert as_micros("2026-11-01T00:00:00.000000Z") == "2026-11-01T00:00:00.000000Z"
