"""The base of every stream: one partition per organization, pages fetched ahead, failures contained.

A stream declares what to fetch (``chains``) and how a page becomes records (``records``);
this class runs the chains of every organization through the shared prefetcher, in a fixed
order, and turns an organization's failure into a reported failure instead of a crash, with
that organization's bookmarks put back as they were.
"""

from __future__ import annotations

import copy
import typing as t
from dataclasses import dataclass

from singer_sdk import Stream
from singer_sdk import singerlib as singer
from singer_sdk import typing as th
from singer_sdk.exceptions import MapExpressionError
from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.helpers._util import utc_now
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform

from tap_claude_developer.client import ApiError, Body
from tap_claude_developer.output import BufferedMsgSpecWriter
from tap_claude_developer.pagination import Chain, Cursor
from tap_claude_developer.prefetch import Pages
from tap_claude_developer.records import RecordShape
from tap_claude_developer.records import SchemaDriftError as SchemaDriftError  # re-exported for streams

if t.TYPE_CHECKING:
    from singer_sdk.helpers import types

    from tap_claude_developer.sync_run import Organization, SyncRun
    from tap_claude_developer.tap import TapClaudeDeveloper


#: How to declare a nested object that can be null or has free-form keys: kept whole (JSONB in
#: PostgreSQL, JSON text in target-csv with flattening). With declared properties, the SDK's
#: flattening keeps a null object as an unknown column, or makes columns of free-form keys, and
#: target-csv then fails ("dict contains fields not in fieldnames"). An object that is always
#: present with fixed keys may declare them (it flattens into parent__child columns).
JSON_OBJECT = th.CustomType({"type": ["object", "null"]})
#: First column of every stream and of every primary key.
ORG_ID = th.Property(
    "organization_id", th.StringType, required=True, description="UUID of the organization (from /v1/organizations/me)."
)


#: Error codes that say a stream does not exist for this organization (admin-api.md §2.1):
#: the stream is skipped for it, with one warning, and the run does not fail.
NOT_FOR_THIS_ORGANIZATION = frozenset({"organization_type_not_supported", "parent_organization_required"})


@dataclass(frozen=True)
class PlannedChain:
    """One chain of the run's plan, tagged with its stream; ``error`` when planning it failed."""

    stream: str
    org_index: int
    chain: Chain | None
    error: ApiError | None = None


class RunFeed:
    """The chains of every selected stream, in the order the SDK syncs streams and partitions.

    One ordered sequence for the whole run means the first chains of the next stream download
    while the last ones of the current stream are being emitted: no pause between streams.
    """

    def __init__(self, run: SyncRun, planned: t.Iterator[PlannedChain], streams: t.Sequence[str]) -> None:
        self._chains = run.prefetcher.ordered(planned, lambda item: _pages(run, item))
        self._next: tuple[PlannedChain, Pages[Body]] | None = None
        #: Where each stream comes in the plan: chains of a stream or organization the SDK has
        #: left behind (a dry run stops each stream at its first record) are dropped, not served.
        self._rank = {name: position for position, name in enumerate(streams)}

    def take(self, stream: str, org_index: int) -> t.Iterator[tuple[PlannedChain, Pages[Body]]]:
        """The chains of ``stream`` for one organization, as they come."""
        wanted = (self._rank[stream], org_index)
        while True:
            if self._next is None:
                self._next = next(self._chains, None)
                if self._next is None:
                    return
            planned, pages = self._next
            found = (self._rank[planned.stream], planned.org_index)
            if found < wanted:  # left behind: never read
                pages.close()
                self._next = None
                continue
            if found != wanted:
                return
            item, self._next = self._next, None
            yield item


def _pages(run: SyncRun, planned: PlannedChain) -> t.Iterator[Body]:
    if planned.error is not None:
        raise planned.error
    assert planned.chain is not None
    yield from run.fetch(planned.chain)


class AdminStream(Stream):
    """A stream of Admin API objects, partitioned by organization."""

    path: t.ClassVar[str]
    cursor: t.ClassVar[Cursor] = "id"
    #: Query parameters of the first request (the page size is added for id-cursor lists).
    query: t.ClassVar[tuple[tuple[str, str], ...]] = ()
    #: Full-table streams whose rows vanish when the object is gone: send ACTIVATE_VERSION.
    shows_deletions: t.ClassVar[bool] = False
    #: A feature an organization may not have (reports, rate limits): a 403 skips the stream for
    #: that organization. Admin keys have no scopes, so a 403 there means "not for you"; on the
    #: directory it is unexpected, and fails.
    feature: t.ClassVar[bool] = False
    #: Records are conformed by ``RecordShape`` (cheaper, and strict about types) instead.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, tap: TapClaudeDeveloper, **kwargs: t.Any) -> None:
        super().__init__(tap, **kwargs)
        self._admin_tap = tap
        self._saved_state: dict[str, t.Any] = {}
        self._shape = RecordShape(self.name, self.schema)
        self._deselects: bool | None = None
        #: The writer, when records can skip the SDK's message objects; False when they cannot.
        self._plain_writer: BufferedMsgSpecWriter | t.Literal[False] | None = None
        self._extracted_at = utc_now()
        self._last_increment: tuple[int, t.Any] | None = None
        if self.shows_deletions and self.config.get("emit_activate_version_messages"):
            self._stream_version = tap.initialized_at // 1000  # records carry the table version

    @property
    def run(self) -> SyncRun:
        return self._admin_tap.run

    @property
    def emit_activate_version_messages(self) -> bool:
        """Never at the start of a sync, as the SDK would: see ``finalize_state_progress_markers``."""
        return False

    def finalize_state_progress_markers(self, state: dict[str, t.Any] | None = None) -> None:
        """After the stream's final STATE: ACTIVATE_VERSION, if every organization synced it.

        The target marks rows of older versions deleted, so an organization that failed, or a key
        that reached no organization, must hold it back: their rows were not sent again.
        """
        super().finalize_state_progress_markers(state)
        if state is None and self._stream_version is not None and self.complete:
            self._write_activate_version_message(self._stream_version)

    def _write_record_message(self, record: types.Record) -> None:
        """Straight to the writer when the stream maps leave records as they are (no maps, no flattening).

        Building a RecordMessage and a generator per record cost more than encoding the record.
        """
        if self._plain_writer is None:
            only = self.stream_maps[0] if len(self.stream_maps) == 1 else None
            writer = self._admin_tap.message_writer
            self._plain_writer = False
            if (
                isinstance(writer, BufferedMsgSpecWriter)
                and type(only) is SameRecordTransform
                and only.stream_alias == self.name
                and not only.flattening_enabled
            ):
                self._plain_writer = writer
        if not self._plain_writer:
            super()._write_record_message(record)
            return
        if self._deselects is None:
            self._deselects = not all(self.mask.values())
        if self._deselects:
            pop_deselected_record_properties(record, self.schema, self.mask)
        self._plain_writer.write_record(self.name, record, self._stream_version, self._extracted_at)
        self.state_manager.is_flushed = False

    def _generate_record_messages(self, record: dict[str, t.Any]) -> t.Generator[singer.RecordMessage, None, None]:
        """The SDK's, minus two per-record walks that cost as much as the rest of the record path.

        Types were already checked by ``RecordShape``, and the selection mask is only walked when
        the catalog deselected something. ``time_extracted`` is when the record's page was read.
        """
        if self._deselects is None:
            self._deselects = not all(self.mask.values())
        if self._deselects:
            pop_deselected_record_properties(record, self.schema, self.mask)
        for stream_map in self.stream_maps:
            try:
                mapped = stream_map.transform(record)
            except MapExpressionError:
                raise
            except Exception as error:  # 1/0, a missing name: the user's expression, said in one line
                raise MapExpressionError(
                    f"stream '{self.name}': an expression failed on a record ({type(error).__name__}: {error})"
                ) from None
            if mapped is not None:
                yield singer.RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self._stream_version,
                    time_extracted=self._extracted_at,
                )

    def _increment_stream_state(self, latest_record: types.Record, *, context: types.Context | None = None) -> None:
        """As the SDK's, but only when the bookmark value changes (report rows share a bucket's)."""
        key = (id(context), latest_record.get(self.replication_key) if self.replication_key else None)
        if key != self._last_increment:
            self._last_increment = key
            super()._increment_stream_state(latest_record, context=context)

    def generate_child_contexts(self, record: types.Record, context: types.Context | None) -> t.Iterable[None]:
        """No stream has children here: skip the SDK's copy of the context for every record."""
        return ()

    def get_replication_key_signpost(self, context: types.Context | None = None) -> None:
        """No signpost: windows end where the API's data ends, and STATE must not carry the clock."""
        return

    @property
    def organizations(self) -> list[Organization]:
        """Every organization the run reached (one whose key dies mid-run fails, quickly, here too)."""
        return self.run.organizations

    @property
    def partitions(self) -> list[dict[str, t.Any]]:
        """One context per organization, holding its id and nothing else."""
        return [{"organization_id": org.id} for org in self.organizations]

    # What to fetch, and how a page becomes records: streams override these.

    def chains(self, org: Organization) -> t.Iterable[Chain]:
        """The independent request chains that fetch this stream for ``org``."""
        params = self.query
        if self.cursor == "id":
            params = (*params, ("limit", str(self.config["page_size"])))
        yield Chain(org.index, self.path, params, self.cursor)

    def records(self, page: t.Any, chain: Chain, org: Organization) -> t.Iterable[dict[str, t.Any]]:
        """Records of one page: by default every item of ``data``, with its organization id."""
        for item in page_items(page, chain.path):
            yield {**item, "organization_id": org.id}

    # The machinery.

    def plan(self) -> t.Iterator[PlannedChain]:
        """This stream's chains for every organization, its bookmarks saved first."""
        for org in self.organizations:
            self._saved_state[org.id] = copy.deepcopy(self._partition_state(org))
        for org in self.organizations:
            try:
                for chain in self.chains(org):
                    yield PlannedChain(self.name, org.index, chain)
            except ApiError as error:  # planning needed a request, and it failed: say so in order
                yield PlannedChain(self.name, org.index, None, error)

    def _partition_state(self, org: Organization) -> dict[str, t.Any]:
        for partition in self.tap_state.get("bookmarks", {}).get(self.name, {}).get("partitions", []):
            if partition.get("context") == {"organization_id": org.id}:
                return dict(partition)
        return {}

    def get_records(self, context: types.Context | None) -> t.Iterable[dict[str, t.Any]]:
        if not context:
            return
        if self.run.feed is None:
            selected = [stream.name for stream in _selected(self._admin_tap)]
            self.run.feed = RunFeed(self.run, _plan_run(self._admin_tap), selected)
        org = self.run.organization(context["organization_id"])
        conform = self._shape.conform
        for planned, pages in self.run.feed.take(self.name, org.index):
            try:
                for body in pages:
                    self._extracted_at = utc_now()
                    chain = t.cast(Chain, planned.chain)
                    for record in self.records(body.json(), chain, org):
                        yield conform(record, chain.path)
            except ApiError as error:
                pages.close()
                self._give_up(org, error)
                for _, rest in self.run.feed.take(self.name, org.index):
                    rest.close()
                return
        self.finished(org)

    def finished(self, org: Organization) -> None:
        """Called once every chain of ``org`` has been read without error."""

    def _give_up(self, org: Organization, error: ApiError) -> None:
        """Report ``org``'s failure (or skip), and put its bookmarks back as they were."""
        if error.error_code in NOT_FOR_THIS_ORGANIZATION or (self.feature and error.status == 403):
            self.run.skip(org, self.name, str(error))
        else:
            self.run.fail(org, self.name, error)
        state = self.get_context_state({"organization_id": org.id})
        state.clear()
        state.update(copy.deepcopy(self._saved_state.get(org.id)) or {"context": {"organization_id": org.id}})

    @property
    def complete(self) -> bool:
        """Whether every configured organization synced this stream.

        A skip is not a failure, but it holds deletions back too: an organization whose rows
        were loaded before must not see them marked deleted because the API now answers "no".
        """
        return (
            self.run.every_organization_reached and not self.run.failed(self.name) and not self.run.skipped(self.name)
        )


def _selected(tap: TapClaudeDeveloper) -> list[AdminStream]:
    """The selected streams, in the order the SDK syncs them (by name)."""
    return [stream for stream in tap.streams.values() if isinstance(stream, AdminStream) and stream.selected]


def _plan_run(tap: TapClaudeDeveloper) -> t.Iterator[PlannedChain]:
    """Every selected stream's plan, in sync order."""
    for stream in _selected(tap):
        yield from stream.plan()


def page_items(page: t.Any, path: str) -> list[dict[str, t.Any]]:
    """The ``data`` list of a page, or a clear error when the page has none."""
    data = page.get("data") if isinstance(page, dict) else None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise SchemaDriftError(path, 200, message="the response has no 'data' list of objects")
    return data
