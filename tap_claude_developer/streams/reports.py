"""What every report stream shares: the window a run reads, per organization, and its bookmark.

A report is read in time order over ``[start, end)``: ``start`` is ``start_date`` on a first run,
later the bookmark minus the lookback (data lands late and is revised, and the target's upsert
replaces re-read rows); ``end`` is ``end_date`` or now, whichever comes first. The bookmark is
the start of the last bucket read, whether or not it held data, so quiet periods are not re-read.
"""

from __future__ import annotations

import datetime as dt
import typing as t

from tap_claude_developer.streams.base import AdminStream
from tap_claude_developer.timestamps import UTC, parse_utc, to_seconds

if t.TYPE_CHECKING:
    from tap_claude_developer.sync_run import Organization

DEFAULT_START_DAYS = 30
BUCKETS: dict[str, dt.timedelta] = {
    "1d": dt.timedelta(days=1),
    "1h": dt.timedelta(hours=1),
    "1m": dt.timedelta(minutes=1),
}


def floor_to(moment: dt.datetime, width: dt.timedelta) -> dt.datetime:
    """The start of the UTC bucket of ``width`` that holds ``moment`` (buckets snap to UTC)."""
    epoch = dt.datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((moment - epoch) // width) * width


def ceil_to(moment: dt.datetime, width: dt.timedelta) -> dt.datetime:
    floor = floor_to(moment, width)
    return floor if floor == moment else floor + width


def utc_now() -> dt.datetime:
    """The tap's clock (a function so tests can pin it)."""
    return dt.datetime.now(UTC)


class ReportStream(AdminStream):
    """An incremental report, bookmarked per organization on its bucket start (``replication_key``)."""

    replication_key = "starting_at"
    #: Which setting holds this stream's lookback, in days.
    lookback_setting: t.ClassVar[str] = "lookback_days"

    @property
    def is_sorted(self) -> bool:
        """Records come oldest first per organization, so a STATE mid-stream is resumable."""
        return True

    @property
    def check_sorted(self) -> bool:
        """The lookback re-reads buckets before the bookmark on purpose."""
        return False

    def bookmark(self, org: Organization) -> dt.datetime | None:
        value = self._partition_state(org).get("replication_key_value")
        return parse_utc(value) if isinstance(value, str) else None

    def window(self, org: Organization, width: dt.timedelta) -> tuple[dt.datetime, dt.datetime]:
        """``[start, end)`` for ``org``, snapped outward to whole buckets of ``width``; may be empty."""
        now = utc_now()
        configured_start = self.config.get("start_date")
        mark = self.bookmark(org)
        resume = None if mark is None else mark - dt.timedelta(days=int(self.config[self.lookback_setting]))
        if configured_start:
            start = parse_utc(configured_start) if resume is None else max(parse_utc(configured_start), resume)
        elif resume is not None:  # the 30-day default is for a first run: a pause must not leave a gap
            start = resume
        else:
            start = floor_to(now, BUCKETS["1d"]) - dt.timedelta(days=DEFAULT_START_DAYS)
        configured_end = self.config.get("end_date")
        end = min(parse_utc(configured_end), now) if configured_end else now
        start, end = floor_to(start, width), ceil_to(end, width)
        return start, max(start, end)

    def advance_bookmark(self, org: Organization, last_bucket_start: dt.datetime) -> None:
        """Move ``org``'s bookmark to the last bucket read, never backwards."""
        state = self.get_context_state({"organization_id": org.id})
        current = state.get("replication_key_value")
        value = to_seconds(last_bucket_start)
        if not isinstance(current, str) or parse_utc(current) < last_bucket_start:
            state["replication_key"] = self.replication_key
            state["replication_key_value"] = value
