"""messages_usage and cost_report against the simulator: exact rows, exact sums, minimal requests, bookmarks.

Expected values are computed here from the simulator's own events (``usage_events``, ``cost_items``),
grouped and summed independently of both the simulator's report code and the tap.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import typing as t
from collections import defaultdict
from decimal import Decimal

import pytest

from tap_claude_developer.records import cents_to_usd
from tap_claude_developer.settings import USAGE_DEFAULT_GROUP_BY, USAGE_DIMENSIONS
from tap_claude_developer.simulator import Fault, OrgSpec, Simulator
from tap_claude_developer.simulator import usage_cost as fake
from tap_claude_developer.streams import reports
from tap_claude_developer.streams.usage_cost import group_key
from tests.helpers import Run, config_for, run_tap

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 12, 3, 15, 30, tzinfo=UTC)
SPECS = [
    OrgSpec("Acme Analytics", users=12, invites=0, workspaces=3, api_keys=8, usage_events_per_day=30),
    OrgSpec("Globex Research", users=7, invites=0, workspaces=2, api_keys=5, usage_events_per_day=12),
    # No Messages API usage at all, only code execution: every usage bucket is empty.
    OrgSpec(
        "Initech Labs", users=3, invites=0, workspaces=1, api_keys=2, usage_events_per_day=0, code_executions_per_day=1
    ),
]
USAGE, COST = "/v1/organizations/usage_report/messages", "/v1/organizations/cost_report"
WIDTHS = {"1d": dt.timedelta(days=1), "1h": dt.timedelta(hours=1), "1m": dt.timedelta(minutes=1)}
COUNTERS = {  # record column -> the event's counter
    "uncached_input_tokens": "uncached_input_tokens",
    "cache_read_input_tokens": "cache_read_input_tokens",
    "cache_creation_ephemeral_1h_input_tokens": "ephemeral_1h_input_tokens",
    "cache_creation_ephemeral_5m_input_tokens": "ephemeral_5m_input_tokens",
    "output_tokens": "output_tokens",
    "server_tool_use_web_search_requests": "web_search_requests",
}
PARSED = ("cost_type", "model", "service_tier", "token_type", "context_window", "inference_geo")

Record = dict[str, t.Any]


@pytest.fixture(scope="module")
def sim() -> t.Iterator[Simulator]:
    with Simulator(SPECS, seed=21, now=NOW) as simulator:
        yield simulator


@pytest.fixture(autouse=True)
def clock(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tap and simulator agree on the time; every test starts from a clean request log."""
    sim.set_clock(NOW)
    monkeypatch.setattr(reports, "utc_now", lambda: sim.now())
    sim.clear_requests()
    sim.clear_faults()


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def days(start: dt.datetime, end: dt.datetime) -> t.Iterator[dt.date]:
    day = start.date()
    while dt.datetime(day.year, day.month, day.day, tzinfo=UTC) < end:
        yield day
        day += dt.timedelta(days=1)


def floor(moment: dt.datetime, width: dt.timedelta) -> dt.datetime:
    epoch = dt.datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + (moment - epoch) // width * width


def expected_usage(
    sim: Simulator, start: dt.datetime, end: dt.datetime, width: str = "1d", group_by: t.Sequence[str] = ()
) -> list[Record]:
    """One record per (organization, bucket, combination of grouped values), from the raw events."""
    group_by = list(group_by or USAGE_DEFAULT_GROUP_BY)
    records = []
    for org in sim.orgs:
        groups: dict[tuple[t.Any, ...], list[fake.UsageEvent]] = defaultdict(list)
        for day in days(start, end):
            for event in fake.usage_events(org, day, sim.now()):
                if start <= event.at < end:
                    bucket = floor(event.at, WIDTHS[width])
                    groups[(bucket, *(getattr(event, name) for name in group_by))].append(event)
        for (bucket, *values), events in groups.items():
            dims = dict(zip(group_by, values, strict=True))
            records.append(
                {
                    "organization_id": org.id,
                    "bucket_width": width,
                    "starting_at": iso(bucket),
                    "ending_at": iso(bucket + WIDTHS[width]),
                    "group_key": json.dumps(dims, sort_keys=True, separators=(",", ":")),
                    **{column: sum(getattr(e, counter) for e in events) for column, counter in COUNTERS.items()},
                    **{name: dims.get(name) for name in USAGE_DIMENSIONS},
                }
            )
    return records


def expected_cost(
    sim: Simulator, start: dt.datetime, end: dt.datetime, group_by: t.Sequence[str] = ("workspace_id", "description")
) -> list[Record]:
    records = []
    for org in sim.orgs:
        for day in days(start, end):
            groups: dict[tuple[t.Any, ...], list[fake.CostItem]] = defaultdict(list)
            for item in fake.cost_items(org, day, sim.now()):
                groups[tuple(getattr(item, name) for name in group_by)].append(item)
            for values, items in groups.items():
                dims = dict(zip(group_by, values, strict=True))
                cents = sum((item.amount for item in items), Decimal(0))
                bucket = dt.datetime(day.year, day.month, day.day, tzinfo=UTC)
                records.append(
                    {
                        "organization_id": org.id,
                        "bucket_width": "1d",
                        "starting_at": iso(bucket),
                        "ending_at": iso(bucket + dt.timedelta(days=1)),
                        "group_key": json.dumps(dims, sort_keys=True, separators=(",", ":")),
                        "amount_cents": cents,
                        "amount_usd": cents / 100,
                        "currency": "USD",
                        "workspace_id": dims.get("workspace_id"),
                        "description": dims.get("description"),
                        **{name: getattr(items[0], name) if "description" in dims else None for name in PARSED},
                    }
                )
    return records


def by_key(records: t.Iterable[Record]) -> dict[tuple[str, ...], Record]:
    return {(r["organization_id"], r["bucket_width"], r["starting_at"], r["group_key"]): r for r in records}


def assert_same_rows(got: list[Record], want: list[Record]) -> None:
    assert len(by_key(got)) == len(got), "primary keys must be unique"
    assert by_key(got) == by_key(want)


def oldest_first_per_org(records: list[Record]) -> bool:
    for _, rows in itertools.groupby(records, key=lambda r: r["organization_id"]):
        starts = [r["starting_at"] for r in rows]
        if starts != sorted(starts):
            return False
    return True


def report_requests(sim: Simulator, path: str, org_index: int) -> list[dict[str, list[str]]]:
    found = []
    for request in sim.requests:
        if request.path == path and request.org_id == sim.orgs[org_index].id:
            params: dict[str, list[str]] = defaultdict(list)
            for name, value in request.query:
                params[name].append(value)
            found.append(dict(params))
    return sorted(found, key=lambda p: p["starting_at"])


def bookmarks(run: Run, stream: str) -> dict[str, str | None]:
    return {
        p["context"]["organization_id"]: p.get("replication_key_value")
        for p in run.last_state["bookmarks"][stream]["partitions"]
    }


def run_reports(sim: Simulator, state: dict[str, t.Any] | None = None, **settings: t.Any) -> Run:
    return run_tap(
        config_for(sim, **settings), state=state, streams=["messages_usage", "cost_report"], parse_float=Decimal
    )


# --------------------------------------------------------------------------- exact rows and sums


def test_messages_usage_rows_are_the_events_grouped_by_every_default_dimension(sim: Simulator) -> None:
    run = run_reports(sim, start_date="2026-11-26", lookback_days=1)
    assert run.failures == []
    got = run.records("messages_usage")
    want = expected_usage(sim, at("2026-11-26"), NOW)
    assert_same_rows(got, want)
    assert len(got) == 317
    assert oldest_first_per_org(got)
    assert [r["organization_id"] for r in got] == sorted((r["organization_id"] for r in got), key=org_order(sim))
    # Every counter, nested ones included, is there and adds up to the events' totals.
    for org in sim.orgs:
        events = [e for day in days(at("2026-11-26"), NOW) for e in fake.usage_events(org, day, NOW)]
        rows = [r for r in got if r["organization_id"] == org.id]
        for column, counter in COUNTERS.items():
            assert sum(r[column] for r in rows) == sum(getattr(e, counter) for e in events), (org.name, column)
    totals = {column: sum(r[column] for r in got) for column in COUNTERS}
    assert totals == {
        "uncached_input_tokens": 14_265_478,
        "cache_read_input_tokens": 11_916_171,
        "cache_creation_ephemeral_1h_input_tokens": 769_731,
        "cache_creation_ephemeral_5m_input_tokens": 1_655_163,
        "output_tokens": 1_349_660,
        "server_tool_use_web_search_requests": 256,
    }
    assert all(value > 0 for value in totals.values())


def org_order(sim: Simulator) -> t.Callable[[str], int]:
    order = [org.id for org in sim.orgs]
    return order.index


@pytest.mark.parametrize("width", ["1d", "1h", "1m"])
def test_every_bucket_width_adds_up_to_the_same_totals(sim: Simulator, width: str) -> None:
    start, end = at("2026-12-02"), at("2026-12-03")
    run = run_reports(sim, start_date=iso(start), end_date=iso(end), usage_bucket_width=width, usage_group_by=["model"])
    got = run.records("messages_usage")
    assert_same_rows(got, expected_usage(sim, start, end, width, ["model"]))
    assert {r["bucket_width"] for r in got} == {width}
    totals = {column: sum(r[column] for r in got) for column in COUNTERS}
    assert totals == {
        "uncached_input_tokens": 620_214,
        "cache_read_input_tokens": 1_353_348,
        "cache_creation_ephemeral_1h_input_tokens": 95_466,
        "cache_creation_ephemeral_5m_input_tokens": 107_237,
        "output_tokens": 130_673,
        "server_tool_use_web_search_requests": 38,
    }


def test_cost_rows_are_exact_cents_and_exact_dollars(sim: Simulator) -> None:
    run = run_reports(sim, start_date="2026-11-26")
    assert run.failures == []
    got = run.records("cost_report")
    assert_same_rows(got, expected_cost(sim, at("2026-11-26"), NOW))
    assert oldest_first_per_org(got)
    for record in got:
        # JSON numbers, read back exactly (whole cents, such as web searches, come back as int).
        assert isinstance(record["amount_cents"], (int, Decimal))
        # The dollars are the cents with the point moved two places: every digit, no rounding.
        assert str(record["amount_usd"]) == str(Decimal(record["amount_cents"]).scaleb(-2))
    total = sum((r["amount_cents"] for r in got), Decimal(0))
    events_total = sum(
        (
            item.amount
            for org in sim.orgs
            for day in days(at("2026-11-26"), NOW)
            for item in fake.cost_items(org, day, NOW)
        ),
        Decimal(0),
    )
    assert total == events_total == Decimal("7297.184721888888895301")
    assert sum((r["amount_usd"] for r in got), Decimal(0)) == Decimal("72.97184721888888895301")
    assert {r["cost_type"] for r in got} == {"tokens", "web_search", "code_execution"}
    # Priority Tier (and flex) usage exists, but the cost report has no such tier (admin-api.md §5.8).
    assert {r["service_tier"] for r in got} == {"standard", "batch", None}
    assert any(
        e.service_tier == "priority"
        for d in days(at("2026-11-26"), NOW)
        for e in fake.usage_events(sim.orgs[0], d, NOW)
    )
    # The third organization has no token usage: only code execution.
    initech = [r for r in got if r["organization_id"] == sim.orgs[2].id]
    assert {r["description"] for r in initech} == {"Code Execution Usage"}


@pytest.mark.parametrize(
    ("group_by", "rows"),
    [([], 24), (["workspace_id"], 63), (["description"], 441), (["workspace_id", "description"], 650)],
)
def test_cost_grouping(sim: Simulator, group_by: list[str], rows: int) -> None:
    start, end = at("2026-11-26"), at("2026-12-04")
    run = run_reports(sim, start_date=iso(start), end_date=iso(end), cost_group_by=group_by)
    got = run.records("cost_report")
    assert_same_rows(got, expected_cost(sim, start, end, group_by))
    assert len(got) == rows
    assert sum((r["amount_cents"] for r in got), Decimal(0)) == Decimal("7297.184721888888895301")
    if "description" not in group_by:
        assert {r[name] for r in got for name in PARSED} == {None}
    if not group_by:
        assert {r["group_key"] for r in got} == {"{}"}


def test_cents_become_dollars_exactly() -> None:
    assert str(cents_to_usd(Decimal("123.78912"))) == "1.2378912"
    assert str(cents_to_usd(Decimal("5470.2"))) == "54.702"
    assert str(cents_to_usd(Decimal("120"))) == "1.20"
    assert str(cents_to_usd(Decimal("-0.5"))) == "-0.005"
    long = Decimal("1234567890123456789012345678901234.5678901")  # more digits than the default context
    assert str(cents_to_usd(long)) == "12345678901234567890123456789012.345678901"


# --------------------------------------------------------------------------- request counts

WINDOWS = [
    ("1 day at 1d", "1d", "2026-11-29", "2026-11-30", 1),
    ("31 days at 1d", "1d", "2026-10-30", "2026-11-30", 1),
    ("32 days at 1d", "1d", "2026-10-29", "2026-11-30", 2),
    ("90 days at 1d", "1d", "2026-09-01", "2026-11-30", 3),
    ("1 week at 1h", "1h", "2026-11-23", "2026-11-30", 1),
    ("1 day at 1m", "1m", "2026-11-29", "2026-11-30", 1),
]


@pytest.mark.parametrize(("width", "start", "end", "requests"), [w[1:] for w in WINDOWS], ids=[w[0] for w in WINDOWS])
def test_a_window_costs_the_fewest_requests(sim: Simulator, width: str, start: str, end: str, requests: int) -> None:
    run = run_reports(sim, start_date=start, end_date=end, usage_bucket_width=width)
    assert run.failures == []
    size = {"1d": 31, "1h": 168, "1m": 1440}[width]
    for index in range(len(sim.orgs)):
        usage = report_requests(sim, USAGE, index)
        assert len(usage) == requests
        # Consecutive chunks of the largest page, each with an explicit end; nothing follows a page.
        bounds = [at(start) + i * size * WIDTHS[width] for i in range(requests)] + [at(end)]
        assert [(p["starting_at"], p["ending_at"]) for p in usage] == [
            ([iso(a)], [iso(b)]) for a, b in itertools.pairwise(bounds)
        ]
        assert all(p["limit"] == [str(size)] and p["bucket_width"] == [width] and "page" not in p for p in usage)
        assert usage[0]["group_by[]"] == list(USAGE_DEFAULT_GROUP_BY)
        cost_days = (at(end) - at(start)).days
        assert len(report_requests(sim, COST, index)) == -(-cost_days // 31)
    assert_same_rows(run.records("messages_usage"), expected_usage(sim, at(start), at(end), width))
    assert set(bookmarks(run, "messages_usage").values()) == {iso(at(end) - WIDTHS[width])}


def test_paging_goes_on_across_a_page_of_empty_buckets(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    # The API may hold fewer buckets a page than asked ("at most limit"): here 2 hours a page, over
    # 6 hours whose middle page (hours 2 and 3) has no usage at all, while the pages around it do.
    monkeypatch.setattr(fake, "BUCKET_PAGE_CAP", 2)
    org, hour = sim.orgs[0], WIDTHS["1h"]
    busy = {
        floor(e.at, hour) for day in days(at("2026-11-20"), at("2026-12-03")) for e in fake.usage_events(org, day, NOW)
    }
    start = next(
        h for h in sorted(busy) if not (busy & {h + 2 * hour, h + 3 * hour}) and busy & {h + 4 * hour, h + 5 * hour}
    )
    end = start + 6 * hour
    run = run_reports(sim, start_date=iso(start), end_date=iso(end), usage_bucket_width="1h")
    assert run.failures == []
    pages = report_requests(sim, USAGE, 0)
    assert len(pages) == 3
    assert [p.get("page") is None for p in pages] == [True, False, False]
    got = [r for r in run.records("messages_usage") if r["organization_id"] == org.id]
    assert_same_rows(got, [r for r in expected_usage(sim, start, end, "1h") if r["organization_id"] == org.id])
    assert {(at(r["starting_at"][:-1]) - start) // (2 * hour) for r in got} == {0, 2}
    assert bookmarks(run, "messages_usage")[org.id] == iso(end - hour)


# --------------------------------------------------------------------------- keys


def test_rows_that_differ_in_one_dimension_never_share_a_key(sim: Simulator) -> None:
    run = run_reports(sim, start_date="2026-11-26")
    rows = run.records("messages_usage")
    assert all(r["group_key"] for r in rows)
    pairs = 0
    for _, bucket in itertools.groupby(rows, key=lambda r: (r["organization_id"], r["starting_at"])):
        for a, b in itertools.combinations(list(bucket), 2):
            if sum(a[d] != b[d] for d in USAGE_DIMENSIONS) == 1:
                pairs += 1
                assert a["group_key"] != b["group_key"]
    assert pairs == 85
    # A null dimension (the Default Workspace) still makes a key, and a different one from any workspace.
    assert any(r["workspace_id"] is None for r in rows)


def test_group_key_names_exactly_the_grouped_dimensions() -> None:
    row = {"model": "claude-opus-4-6", "workspace_id": None, "api_key_id": None}
    assert group_key(row, ["model", "workspace_id"]) == '{"model":"claude-opus-4-6","workspace_id":null}'
    # Grouped by model only, the same values are a different row (a total over every workspace).
    assert group_key(row, ["model"]) == '{"model":"claude-opus-4-6"}'
    assert group_key({**row, "workspace_id": "wrkspc_01"}, ["workspace_id", "model"]) == (
        '{"model":"claude-opus-4-6","workspace_id":"wrkspc_01"}'
    )
    assert group_key(row, []) == "{}"


def test_grouping_by_speed_sends_the_fast_mode_beta(sim: Simulator) -> None:
    start, end = at("2026-11-20"), at("2026-11-30")
    run = run_reports(sim, start_date=iso(start), end_date=iso(end), usage_group_by=["model", "speed"])
    assert run.failures == []
    got = run.records("messages_usage")
    assert_same_rows(got, expected_usage(sim, start, end, "1d", ["model", "speed"]))
    assert {r["speed"] for r in got} == {"fast", "standard"}
    usage = [r for r in sim.requests if r.path == USAGE]
    assert {r.headers.get("anthropic-beta") for r in usage} == {"fast-mode-2026-02-01"}
    assert {r.headers.get("anthropic-beta") for r in sim.requests if r.path == COST} == {None}


# --------------------------------------------------------------------------- bookmarks


def test_a_second_run_resumes_from_the_bookmark_minus_the_lookback(sim: Simulator) -> None:
    first = run_reports(sim, start_date="2026-11-01", end_date="2026-11-20", lookback_days=2)
    assert set(bookmarks(first, "messages_usage").values()) == {"2026-11-19T00:00:00Z"}
    second = run_reports(sim, first.last_state, start_date="2026-11-01", end_date="2026-11-25", lookback_days=2)
    for index in range(3):
        assert [(p["starting_at"], p["ending_at"]) for p in report_requests(sim, USAGE, index)] == [
            (["2026-11-01T00:00:00Z"], ["2026-11-20T00:00:00Z"]),  # the first run
            (["2026-11-17T00:00:00Z"], ["2026-11-25T00:00:00Z"]),  # 11-19 minus 2 days
        ]
    assert_same_rows(second.records("messages_usage"), expected_usage(sim, at("2026-11-17"), at("2026-11-25")))
    assert_same_rows(second.records("cost_report"), expected_cost(sim, at("2026-11-17"), at("2026-11-25")))
    # What a target holds after upserting both runs is what one run over the whole window gives.
    merged = {**by_key(first.records("messages_usage")), **by_key(second.records("messages_usage"))}
    assert merged == by_key(expected_usage(sim, at("2026-11-01"), at("2026-11-25")))
    assert bookmarks(second, "messages_usage") == dict.fromkeys((o.id for o in sim.orgs), "2026-11-24T00:00:00Z")
    assert bookmarks(second, "cost_report") == dict.fromkeys((o.id for o in sim.orgs), "2026-11-24T00:00:00Z")


def test_the_lookback_reads_late_data_again_and_new_data_after(sim: Simulator) -> None:
    sim.set_clock(at("2026-12-03T10:00:00"))
    first = run_reports(sim, start_date="2026-11-30", lookback_days=1)
    assert set(bookmarks(first, "messages_usage").values()) == {"2026-12-03T00:00:00Z"}
    today_then = [r for r in first.records("messages_usage") if r["starting_at"] == "2026-12-03T00:00:00Z"]

    later = at("2026-12-04T06:00:00")
    sim.set_clock(later)
    second = run_reports(sim, first.last_state, start_date="2026-11-30", lookback_days=1)
    got = second.records("messages_usage")
    assert_same_rows(got, expected_usage(sim, at("2026-12-02"), later))
    # 12-02 again, unchanged; 12-03 again, now complete (every earlier row is still there, with more
    # rows beside it); 12-04, new.
    assert by_key(r for r in got if r["starting_at"] == "2026-12-02T00:00:00Z") == by_key(
        r for r in first.records("messages_usage") if r["starting_at"] == "2026-12-02T00:00:00Z"
    )
    today_now = [r for r in got if r["starting_at"] == "2026-12-03T00:00:00Z"]
    assert set(by_key(today_then)) < set(by_key(today_now))
    assert sum(r["output_tokens"] for r in today_now) > sum(r["output_tokens"] for r in today_then)
    assert {r["starting_at"] for r in got} == {"2026-12-02T00:00:00Z", "2026-12-03T00:00:00Z", "2026-12-04T00:00:00Z"}
    assert set(bookmarks(second, "messages_usage").values()) == {"2026-12-04T00:00:00Z"}
    assert set(bookmarks(second, "cost_report").values()) == {"2026-12-04T00:00:00Z"}


def partition(org_id: str, value: str) -> dict[str, t.Any]:
    return {"context": {"organization_id": org_id}, "replication_key": "starting_at", "replication_key_value": value}


def test_each_organization_resumes_from_its_own_bookmark(sim: Simulator) -> None:
    acme, globex, initech = (org.id for org in sim.orgs)
    state = {
        "bookmarks": {
            "messages_usage": {
                "partitions": [partition(acme, "2026-11-10T00:00:00Z"), partition(globex, "2026-11-20T00:00:00Z")]
            }
        }
    }
    run = run_reports(sim, state, start_date="2026-11-01", end_date="2026-11-25", lookback_days=1)
    starts = [report_requests(sim, USAGE, index)[0]["starting_at"] for index in range(3)]
    assert starts == [["2026-11-09T00:00:00Z"], ["2026-11-19T00:00:00Z"], ["2026-11-01T00:00:00Z"]]
    want = expected_usage(sim, at("2026-11-01"), at("2026-11-25"))
    skip = {acme: "2026-11-09", globex: "2026-11-19", initech: "2026-11-01"}
    assert_same_rows(run.records("messages_usage"), [r for r in want if r["starting_at"] >= skip[r["organization_id"]]])
    # The organization without usage read only empty buckets, and its bookmark moved all the same.
    assert not [r for r in run.records("messages_usage") if r["organization_id"] == initech]
    assert bookmarks(run, "messages_usage") == dict.fromkeys((acme, globex, initech), "2026-11-24T00:00:00Z")


def test_an_organization_that_fails_mid_window_keeps_its_bookmark(sim: Simulator) -> None:
    globex = sim.orgs[1].id
    state = {
        "bookmarks": {
            "messages_usage": {"partitions": [partition(globex, "2026-08-31T00:00:00Z")]},
        }
    }
    # Globex's window takes three chunks; every request after its first fails for good.
    sim.add_fault(Fault(path=USAGE, org_index=1, after=1, status=500, times=None))
    run = run_reports(sim, state, start_date="2026-09-01", end_date="2026-11-30", lookback_days=0, max_retries=0)
    assert len(run.failures) == 1
    assert run.failures[0].startswith("organization 'Globex Research' (" + globex + "), stream 'messages_usage': ")
    assert "HTTP 500" in run.failures[0]
    partitions = run.last_state["bookmarks"]["messages_usage"]["partitions"]
    assert {p["context"]["organization_id"]: p for p in partitions} == {
        sim.orgs[0].id: partition(sim.orgs[0].id, "2026-11-29T00:00:00Z"),
        globex: partition(globex, "2026-08-31T00:00:00Z"),  # exactly as it was
        sim.orgs[2].id: partition(sim.orgs[2].id, "2026-11-29T00:00:00Z"),
    }
    # The other organizations and the other stream are complete.
    want = expected_usage(sim, at("2026-09-01"), at("2026-11-30"))
    got = run.records("messages_usage")
    assert_same_rows(
        [r for r in got if r["organization_id"] != globex], [r for r in want if r["organization_id"] != globex]
    )
    assert set(by_key(r for r in got if r["organization_id"] == globex)) <= set(by_key(want))
    assert_same_rows(run.records("cost_report"), expected_cost(sim, at("2026-09-01"), at("2026-11-30")))


def test_a_run_with_nothing_new_still_carries_every_bookmark(sim: Simulator) -> None:
    state = {
        "bookmarks": {
            stream: {"partitions": [partition(org.id, "2026-11-29T00:00:00Z") for org in sim.orgs]}
            for stream in ("cost_report", "messages_usage")
        }
    }
    run = run_reports(sim, state, start_date="2026-11-01", end_date="2026-11-29", lookback_days=0)
    assert run.failures == []
    assert [r for r in sim.requests if r.path in (USAGE, COST)] == []
    assert run.records("messages_usage") == run.records("cost_report") == []
    assert run.last_state == state


def test_a_carried_bookmark_is_written_in_the_one_utc_form(sim: Simulator) -> None:
    """STATE from an older run (or edited by hand) in another form comes back as ``…Z``."""
    older = {
        stream: {"partitions": [partition(org.id, "2026-11-29T00:00:00+00:00") for org in sim.orgs]}
        for stream in ("cost_report", "messages_usage")
    }
    run = run_reports(sim, {"bookmarks": older}, start_date="2026-11-01", end_date="2026-11-29", lookback_days=0)
    assert run.failures == []
    assert [r for r in sim.requests if r.path in (USAGE, COST)] == []
    assert run.last_state == {
        "bookmarks": {
            stream: {"partitions": [partition(org.id, "2026-11-29T00:00:00Z") for org in sim.orgs]}
            for stream in ("cost_report", "messages_usage")
        }
    }


def test_a_start_later_today_reads_nothing(sim: Simulator) -> None:
    """The window is empty, not snapped outward to today's whole bucket."""
    later = (NOW + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert later[:10] == NOW.strftime("%Y-%m-%d")  # still today
    run = run_reports(sim, None, start_date=later)
    assert run.failures == []
    assert [r for r in sim.requests if r.path in (USAGE, COST)] == []
    assert run.records("messages_usage") == run.records("cost_report") == []


# --------------------------------------------------------------------------- unreadable pages


def page(results: list[dict[str, t.Any]]) -> str:
    bucket = {"starting_at": "2026-11-29T00:00:00Z", "ending_at": "2026-11-30T00:00:00Z", "results": results}
    return json.dumps({"data": [bucket], "has_more": False, "next_page": None})


COST_ROW = {"currency": "USD", "workspace_id": None, "description": "Web Search Usage"}


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        (COST, page([{**COST_ROW, "amount": "12,5"}]), "stream 'cost_report' field 'amount' is not a decimal"),
        (COST, page([{**COST_ROW, "amount": None}]), "stream 'cost_report' field 'amount' is not a decimal"),
        (COST, page([{**COST_ROW, "amount": "NaN"}]), "stream 'cost_report' field 'amount' is not a decimal"),
        (USAGE, page([{"output_tokens": 5, "cache_creation": 7}]), "stream 'messages_usage' field 'cache_creation'"),
        (USAGE, page([{"output_tokens": "5"}]), "stream 'messages_usage' field 'output_tokens' should be integer"),
        (
            USAGE,
            json.dumps({"data": [{"starting_at": "yesterday", "results": []}], "has_more": False}),
            "'starting_at'",
        ),
    ],
)
def test_an_unreadable_page_fails_its_organization_with_a_clear_message(
    sim: Simulator, path: str, body: str, message: str
) -> None:
    sim.add_fault(Fault(path=path, org_index=0, status=200, body=body))
    run = run_reports(sim, start_date="2026-11-29", end_date="2026-11-30")
    assert len(run.failures) == 1
    assert message in run.failures[0]


def test_a_cost_amount_sent_as_a_json_number_stays_exact(sim: Simulator) -> None:
    body = page([{**COST_ROW, "amount": 0.1}])
    assert '"amount": 0.1}' in body
    sim.add_fault(Fault(path=COST, org_index=0, status=200, body=body))
    run = run_reports(sim, start_date="2026-11-29", end_date="2026-11-30")
    assert run.failures == []
    first = run.records("cost_report")[0]
    assert (first["amount_cents"], first["amount_usd"]) == (Decimal("0.1"), Decimal("0.001"))


def test_missing_nested_counters_are_null_not_zero(sim: Simulator) -> None:
    sim.add_fault(Fault(path=USAGE, org_index=0, status=200, body=page([{"output_tokens": 5, "model": "m"}])))
    run = run_reports(sim, start_date="2026-11-29", end_date="2026-11-30", usage_group_by=["model"])
    first = run.records("messages_usage")[0]
    assert first["output_tokens"] == 5
    assert first["cache_creation_ephemeral_5m_input_tokens"] is None
    assert first["server_tool_use_web_search_requests"] is None
