"""What every report stream shares: the window a run reads, per organization, and its bookmark.

A report is read in time order over ``[start, end)``: ``start`` is ``start_date`` on a first run,
later the bookmark minus the lookback (data lands late and is revised, and the target's upsert
replaces re-read rows); ``end`` is ``end_date`` or now, whichever comes first. The bookmark is
the start of the last bucket read, whether or not it held data, so quiet periods are not re-read.
"""

from __future__ import annotations

import datetime as dt
import logging
import typing as t

from tap_claude_developer.streams.base import AdminStream
from tap_claude_developer.timestamps import UTC, parse_utc, to_seconds

if t.TYPE_CHECKING:
    from tap_claude_developer.sync_run import Organization

LOGGER = logging.getLogger("tap-claude-developer")
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
    feature = True
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

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        #: The latest a bookmark may be: end_date or now, whichever is first (set by ``window``).
        self._limit: dt.datetime | None = None
        self._limit_text = ""  # _limit as to_seconds() writes it: compared with every record's key

    def bookmark(self, org: Organization) -> dt.datetime | None:
        """The bookmark from STATE; one that cannot be read, or lies in the future, is ignored (said once)."""
        value = self._partition_state(org).get("replication_key_value")
        if value is None:
            return None
        try:
            mark = parse_utc(value)
        except (TypeError, ValueError, AttributeError):
            LOGGER.warning(
                "%s: stream '%s' has an unreadable bookmark in STATE; reading from start_date.", org.label, self.name
            )
            return None
        if mark > utc_now():
            LOGGER.warning(
                "%s: stream '%s' has a bookmark in the future (%s) in STATE; reading from start_date.",
                org.label,
                self.name,
                value,
            )
            return None
        # One form for every bookmark, also when a run with nothing new carries an older one forward.
        self.get_context_state({"organization_id": org.id})["replication_key_value"] = to_seconds(mark)
        return mark

    def compare_start_date(self, value: str, start_date_value: str) -> str:
        """The SDK's comparison, without crashing on a bookmark it cannot read (``bookmark`` warns)."""
        try:
            return max(value, start_date_value, key=parse_utc)
        except (TypeError, ValueError, AttributeError):
            return start_date_value

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
        self._limit = max(self._limit or end, end)
        self._limit_text = to_seconds(self._limit)
        if start >= end:  # empty, not snapped outward: a start later today must not read today's bucket
            LOGGER.warning(
                "%s: stream '%s' has nothing to read: its window starts after end_date or now.", org.label, self.name
            )
            return floor_to(start, width), floor_to(start, width)
        start, end = floor_to(start, width), ceil_to(end, width)
        return start, max(start, end)

    def _increment_stream_state(self, latest_record: dict[str, t.Any], *, context: t.Any = None) -> None:
        """A row the API dated after end_date or now is emitted, but never moves the bookmark."""
        value = latest_record.get(self.replication_key or "")
        if self._limit is not None and isinstance(value, str) and value > self._limit_text:
            return
        super()._increment_stream_state(latest_record, context=context)

    def advance_bookmark(self, org: Organization, last_bucket_start: dt.datetime) -> None:
        """Move ``org``'s bookmark to the last bucket read, never backwards and never past end_date or now."""
        if self._limit is not None:
            last_bucket_start = min(last_bucket_start, self._limit)
        state = self.get_context_state({"organization_id": org.id})
        current = state.get("replication_key_value")
        try:
            keep = isinstance(current, str) and last_bucket_start <= parse_utc(current) <= (self._limit or utc_now())
        except ValueError:
            keep = False
        if not keep:
            state["replication_key"] = self.replication_key
            state["replication_key_value"] = to_seconds(last_bucket_start)
