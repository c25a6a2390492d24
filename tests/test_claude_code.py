"""The claude_code_usage stream against the simulator: exact rows, exact sums, exact requests and bookmarks."""

from __future__ import annotations

import datetime as dt
import typing as t
from decimal import Decimal

import pytest

from tap_claude_developer import client as client_module
from tap_claude_developer.simulator import Fault, OrgSpec, Simulator
from tap_claude_developer.simulator.claude_code import day_rows
from tap_claude_developer.streams import reports
from tap_claude_developer.streams.base import SchemaDriftError
from tap_claude_developer.streams.claude_code import usage_record
from tests.fakes import FakeClock
from tests.helpers import Run, config_for, run_tap

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 12, 3, 15, 30, tzinfo=UTC)
PATH = "/v1/organizations/usage_report/claude_code"
STREAM = "claude_code_usage"
TOOLS = ("edit_tool", "multi_edit_tool", "write_tool", "notebook_edit_tool")
SPECS = [
    OrgSpec("Acme", users=2, invites=0, workspaces=1, members_per_workspace=1, api_keys=0, claude_code_rows_per_day=7),
    # 1500 rows a day: two pages of at most 1000 each day.
    OrgSpec(
        "Globex", users=2, invites=0, workspaces=1, members_per_workspace=1, api_keys=0, claude_code_rows_per_day=1500
    ),
    OrgSpec(
        "Initech", users=2, invites=0, workspaces=1, members_per_workspace=1, api_keys=0, claude_code_rows_per_day=0
    ),
]
KEY = ("organization_id", "date", "actor_type", "actor_id", "terminal_type", "is_remote", "customer_type")


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> t.Iterator[Simulator]:
    """The three organizations at NOW, the tap's clock pinned to the same instant, retries instant."""
    monkeypatch.setattr(reports, "utc_now", lambda: NOW)
    monkeypatch.setattr(client_module, "SYSTEM_CLOCK", FakeClock())
    with Simulator(SPECS, seed=21, now=NOW) as simulator:
        yield simulator


def at(sim: Simulator, monkeypatch: pytest.MonkeyPatch, when: dt.datetime) -> None:
    """Move both clocks, the simulator's and the tap's."""
    sim.set_clock(when)
    monkeypatch.setattr(reports, "utc_now", lambda: when)


def sync(sim: Simulator, state: dict[str, t.Any] | None = None, **settings: t.Any) -> Run:
    return run_tap(config_for(sim, **settings), state=state, streams=[STREAM], parse_float=Decimal)


def days(first: str, last: str) -> list[dt.date]:
    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


def cents(amount: int | float) -> Decimal:
    """The simulator's JSON number, read exactly as it is written on the wire."""
    return Decimal(repr(amount))


def expected(org_id: str, row: dict[str, t.Any]) -> dict[str, t.Any]:
    """What the stream must emit for one API row, written out from the stream's documentation."""
    actor, metrics, tools = row["actor"], row["core_metrics"], row["tool_actions"]
    models = [
        {
            **m,
            "estimated_cost": {**m["estimated_cost"], "amount": cents(m["estimated_cost"]["amount"])},
            "estimated_cost_usd": cents(m["estimated_cost"]["amount"]) / 100,
        }
        for m in row["model_breakdown"]
    ]
    total = sum((m["estimated_cost"]["amount"] for m in models), Decimal(0))
    return {
        "organization_id": org_id,
        "date": row["date"],
        "actor_type": actor["type"],
        "actor_id": actor.get("email_address", actor.get("api_key_name")),
        "actor_email_address": actor.get("email_address"),
        "actor_api_key_name": actor.get("api_key_name"),
        "actor": actor,
        "customer_type": row["customer_type"],
        "subscription_type": row["subscription_type"],
        "terminal_type": row["terminal_type"],
        "is_remote": row["is_remote"],
        "num_sessions": metrics["num_sessions"],
        "lines_added": metrics["lines_of_code"]["added"],
        "lines_removed": metrics["lines_of_code"]["removed"],
        "commits_by_claude_code": metrics["commits_by_claude_code"],
        "pull_requests_by_claude_code": metrics["pull_requests_by_claude_code"],
        "core_metrics": metrics,
        **{f"{tool}_{outcome}": tools[tool][outcome] for tool in TOOLS for outcome in ("accepted", "rejected")},
        "tool_actions": tools,
        **{f"{kind}_tokens": sum(m["tokens"][kind] for m in models) for kind in ("input", "output", "cache_read")},
        "cache_creation_tokens": sum(m["tokens"]["cache_creation"] for m in models),
        "estimated_cost_cents": total,
        "estimated_cost_usd": total / 100,
        "estimated_cost_currency": "USD" if models else None,
        "model_breakdown": models,
    }


def served(sim: Simulator, window: list[dt.date], as_of: dt.datetime | None = None) -> list[dict[str, t.Any]]:
    """Every organization's rows over ``window`` as the simulator holds them, in the tap's order."""
    return [expected(org.id, row) for org in sim.orgs for day in window for row in day_rows(org, sim.seed, day, as_of)]


def bookmarks(run: Run) -> dict[str, str | None]:
    partitions = run.last_state["bookmarks"][STREAM]["partitions"]
    return {p["context"]["organization_id"]: p.get("replication_key_value") for p in partitions}


def state_with(marks: dict[str, str]) -> dict[str, t.Any]:
    partitions = [
        {"context": {"organization_id": org_id}, "replication_key": "date", "replication_key_value": mark}
        for org_id, mark in marks.items()
    ]
    return {"bookmarks": {STREAM: {"partitions": partitions}}}


def requested_days(sim: Simulator, org_index: int) -> list[str]:
    """The days asked for, sorted (days download concurrently, so they arrive in any order)."""
    org_id = sim.orgs[org_index].id
    return sorted(dict(r.query)["starting_at"] for r in sim.requests if r.path == PATH and r.org_id == org_id)


# --------------------------------------------------------------------------- records and sums


def test_exact_records_and_exact_totals(sim: Simulator) -> None:
    window = days("2026-11-25", "2026-11-30")
    run = sync(sim, start_date="2026-11-25", end_date="2026-12-01")
    assert run.failures == []
    records = run.records(STREAM)
    assert records == served(sim, window)
    assert len(records) == 6 * (7 + 1500)
    assert all(record[name] is not None for record in records for name in KEY)
    assert len({tuple(record[name] for name in KEY) for record in records}) == len(records)

    # Sums straight from the simulator's rows, against the sums of what the tap emitted.
    rows = [row for org in sim.orgs for day in window for row in day_rows(org, sim.seed, day)]
    models = [m for row in rows for m in row["model_breakdown"]]
    want_cents = sum((cents(m["estimated_cost"]["amount"]) for m in models), Decimal(0))
    assert sum((r["estimated_cost_cents"] for r in records), Decimal(0)) == want_cents
    assert sum((r["estimated_cost_usd"] for r in records), Decimal(0)) * 100 == want_cents
    for m in (m for r in records for m in r["model_breakdown"]):
        assert m["estimated_cost_usd"] * 100 == m["estimated_cost"]["amount"]
    for kind in ("input", "output", "cache_read", "cache_creation"):
        assert sum(r[f"{kind}_tokens"] for r in records) == sum(m["tokens"][kind] for m in models), kind
    metrics = {
        "num_sessions": lambda row: row["core_metrics"]["num_sessions"],
        "lines_added": lambda row: row["core_metrics"]["lines_of_code"]["added"],
        "lines_removed": lambda row: row["core_metrics"]["lines_of_code"]["removed"],
        "commits_by_claude_code": lambda row: row["core_metrics"]["commits_by_claude_code"],
        "pull_requests_by_claude_code": lambda row: row["core_metrics"]["pull_requests_by_claude_code"],
        **{
            f"{tool}_{outcome}": (lambda row, tool=tool, outcome=outcome: row["tool_actions"][tool][outcome])
            for tool in TOOLS
            for outcome in ("accepted", "rejected")
        },
    }
    for column, read in metrics.items():
        assert sum(r[column] for r in records) == sum(read(row) for row in rows), column
    assert want_cents != want_cents.to_integral_value()  # the data has fractional cents to lose
    assert {type(m["estimated_cost"]["amount"]) for m in models} == {int, float}


def test_the_catalog_declares_the_key_and_money_as_numbers(sim: Simulator) -> None:
    from tap_claude_developer.tap import TapClaudeDeveloper

    stream = TapClaudeDeveloper(config=config_for(sim), parse_env_config=False).streams[STREAM]
    assert tuple(stream.primary_keys) == KEY
    assert stream.replication_key == "date"
    assert set(KEY) <= set(stream.schema["required"])
    for name in ("estimated_cost_cents", "estimated_cost_usd"):
        assert stream.schema["properties"][name]["type"] == ["number", "null"]
    assert stream.schema["properties"]["date"]["format"] == "date-time"


# --------------------------------------------------------------------------- requests


def test_one_request_per_day_and_one_per_page_within_a_day(sim: Simulator) -> None:
    sync(sim, start_date="2026-11-25", end_date="2026-12-01")
    window = [day.isoformat() for day in days("2026-11-25", "2026-11-30")]
    assert requested_days(sim, 0) == window  # 7 rows: one page a day
    assert requested_days(sim, 2) == window  # no rows: still one request a day
    assert requested_days(sim, 1) == sorted(window * 2)  # 1500 rows: two pages a day
    globex = [r for r in sim.requests if r.path == PATH and r.org_id == sim.orgs[1].id]
    assert sum("page" in dict(r.query) for r in globex) == 6
    assert {dict(r.query)["limit"] for r in sim.requests if r.path == PATH} == {"1000"}
    assert len([r for r in sim.requests if r.path == PATH]) == 6 + 12 + 6


@pytest.mark.parametrize("count", [1, 31, 32, 90])
def test_n_days_take_n_requests(monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    monkeypatch.setattr(reports, "utc_now", lambda: NOW)
    spec = [OrgSpec("One", users=1, invites=0, workspaces=0, api_keys=0, claude_code_rows_per_day=3)]
    start = dt.date(2026, 12, 1) - dt.timedelta(days=count)
    with Simulator(spec, seed=2, now=NOW) as sim:
        run = sync(sim, start_date=start.isoformat(), end_date="2026-12-01")
        assert requested_days(sim, 0) == [(start + dt.timedelta(days=n)).isoformat() for n in range(count)]
        assert len(run.records(STREAM)) == 3 * count


def test_days_run_up_to_today_and_not_beyond(sim: Simulator) -> None:
    run = sync(sim, start_date="2026-12-01")
    assert requested_days(sim, 0) == ["2026-12-01", "2026-12-02", "2026-12-03"]
    assert run.records(STREAM) == served(sim, days("2026-12-01", "2026-12-03"), NOW)
    assert set(bookmarks(run).values()) == {"2026-12-03T00:00:00Z"}


# --------------------------------------------------------------------------- state


def test_bookmarks_per_organization_and_resume_from_state(sim: Simulator) -> None:
    first = sync(sim, start_date="2026-11-25", end_date="2026-12-01")
    assert bookmarks(first) == {org.id: "2026-11-30T00:00:00Z" for org in sim.orgs}
    sim.clear_requests()
    second = sync(sim, first.last_state, start_date="2026-11-25", lookback_days=1)
    window = days("2026-11-29", "2026-12-03")
    assert requested_days(sim, 0) == [day.isoformat() for day in window]
    assert second.records(STREAM) == served(sim, window, NOW)
    assert bookmarks(second) == {org.id: "2026-12-03T00:00:00Z" for org in sim.orgs}


def test_three_organizations_with_three_bookmarks(sim: Simulator) -> None:
    acme, globex, initech = (org.id for org in sim.orgs)
    state = state_with({acme: "2026-11-20T00:00:00Z", globex: "2026-11-28T00:00:00Z"})
    run = sync(sim, state, start_date="2026-11-15", end_date="2026-12-01", lookback_days=2)
    assert requested_days(sim, 0) == [day.isoformat() for day in days("2026-11-18", "2026-11-30")]
    assert requested_days(sim, 1) == sorted([day.isoformat() for day in days("2026-11-26", "2026-11-30")] * 2)
    assert requested_days(sim, 2) == [day.isoformat() for day in days("2026-11-15", "2026-11-30")]
    assert bookmarks(run) == {
        acme: "2026-11-30T00:00:00Z",
        globex: "2026-11-30T00:00:00Z",
        initech: "2026-11-30T00:00:00Z",
    }


def test_a_run_with_nothing_new_carries_every_bookmark_forward(sim: Simulator) -> None:
    marks = {org.id: "2026-12-03T00:00:00Z" for org in sim.orgs}
    run = sync(sim, state_with(marks), end_date="2026-12-02", lookback_days=0)
    assert requested_days(sim, 0) == []
    assert run.records(STREAM) == []
    assert bookmarks(run) == marks


def test_lookback_rereads_the_day_before_and_finds_rows_that_landed_late(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run just after midnight sees part of yesterday; the next run's lookback completes it."""
    at(sim, monkeypatch, dt.datetime(2026, 12, 3, 0, 30, tzinfo=UTC))
    early = sync(sim, start_date="2026-12-02")
    yesterday = [r for r in early.records(STREAM) if r["date"] == "2026-12-02T00:00:00Z"]
    complete = [expected(org.id, row) for org in sim.orgs for row in day_rows(org, sim.seed, dt.date(2026, 12, 2))]
    assert 0 < len(yesterday) < len(complete)
    assert bookmarks(early) == {org.id: "2026-12-03T00:00:00Z" for org in sim.orgs}

    at(sim, monkeypatch, NOW)
    without = sync(sim, early.last_state, start_date="2026-12-02", lookback_days=0)
    assert {r["date"] for r in without.records(STREAM)} == {"2026-12-03T00:00:00Z"}  # the late rows are missed
    with_lookback = sync(sim, early.last_state, start_date="2026-12-02", lookback_days=1)
    assert [r for r in with_lookback.records(STREAM) if r["date"] == "2026-12-02T00:00:00Z"] == complete


def test_an_organization_failing_mid_window_keeps_its_bookmark_exactly(sim: Simulator) -> None:
    acme, globex, initech = (org.id for org in sim.orgs)
    before = {acme: "2026-11-24T00:00:00Z", globex: "2026-11-24T00:00:00Z", initech: "2026-11-24T00:00:00Z"}
    sim.add_fault(Fault(path=PATH, org_index=1, after=5, status=500, times=None))
    run = sync(sim, state_with(before), end_date="2026-12-01", lookback_days=0, max_retries=0, concurrency=1)
    assert len(run.failures) == 1
    assert "organization 'Globex'" in run.failures[0]
    assert "stream 'claude_code_usage'" in run.failures[0]
    assert bookmarks(run) == {
        acme: "2026-11-30T00:00:00Z",
        globex: "2026-11-24T00:00:00Z",
        initech: "2026-11-30T00:00:00Z",
    }
    window = days("2026-11-24", "2026-11-30")
    assert [r for r in run.records(STREAM) if r["organization_id"] == acme] == [
        expected(acme, row) for day in window for row in day_rows(sim.orgs[0], sim.seed, day)
    ]
    emitted = [r for r in run.records(STREAM) if r["organization_id"] == globex]
    # Pages 1-5 arrived (two whole days and the first page of the third), the sixth failed.
    assert emitted == [expected(globex, row) for day in window[:2] for row in day_rows(sim.orgs[1], sim.seed, day)] + [
        expected(globex, row) for row in day_rows(sim.orgs[1], sim.seed, window[2])[:1000]
    ]


# --------------------------------------------------------------------------- one row, every documented variant


ROW: dict[str, t.Any] = {
    "date": "2026-11-30",  # the reference's older description: a bare date
    "actor": {"type": "user_actor", "email_address": "li.wei@acme.example"},
    "organization_id": "7c9e2a41-5b3d-4f8e-a1c6-0d2b9e4f7a13",
    "customer_type": "api",
    "subscription_type": None,
    "terminal_type": "vscode",
    # no is_remote: payloads from before 2026-08-14
    "core_metrics": {
        "num_sessions": 6,
        "lines_of_code": {"added": 812, "removed": 233},
        "commits_by_claude_code": 4,
        "pull_requests_by_claude_code": 1,
    },
    "tool_actions": {"edit_tool": {"accepted": 41, "rejected": 3}, "bash_tool": {"accepted": 9, "rejected": 2}},
    "model_breakdown": [
        {
            "model": "claude-opus-4-8",
            "tokens": {"input": 80412, "output": 21877, "cache_read": 402110, "cache_creation": 18233},
            "estimated_cost": {"amount": 233, "currency": "USD"},
        },
        {
            "model": "claude-haiku-4-5",
            "tokens": {"input": 10, "output": 20, "cache_read": 30, "cache_creation": 40},
            "estimated_cost": {"amount": Decimal("0.123456789"), "currency": "USD"},
        },
    ],
}
DAY = "2026-11-30T00:00:00Z"  # the requested day, as the stream passes it


def test_dollars_keep_every_digit_of_a_long_amount() -> None:
    """Decimal.scaleb rounded to 28 digits (1.234567890123456789012345679E+29): found by review."""
    cost = {"amount": Decimal("12345678901234567890123456789012.345678901"), "currency": "USD"}
    row = {**ROW, "model_breakdown": [{**ROW["model_breakdown"][0], "estimated_cost": cost}]}
    record = usage_record(row, "org", DAY, PATH)
    assert str(record["estimated_cost_usd"]) == "123456789012345678901234567890.12345678901"
    assert str(record["model_breakdown"][0]["estimated_cost_usd"]) == "123456789012345678901234567890.12345678901"


def test_an_older_row_a_new_tool_and_fractional_cents() -> None:
    record = usage_record(ROW, "org", DAY, PATH)
    assert record["date"] == "2026-11-30T00:00:00Z"
    assert record["is_remote"] is False
    assert record["tool_actions"]["bash_tool"] == {"accepted": 9, "rejected": 2}  # a new tool is data
    assert (record["edit_tool_accepted"], record["edit_tool_rejected"]) == (41, 3)
    assert (record["write_tool_accepted"], record["write_tool_rejected"]) == (None, None)
    assert record["estimated_cost_cents"] == Decimal("233.123456789")
    assert record["estimated_cost_usd"] == Decimal("2.33123456789")
    assert [m["estimated_cost_usd"] for m in record["model_breakdown"]] == [Decimal("2.33"), Decimal("0.00123456789")]
    assert (record["input_tokens"], record["cache_creation_tokens"]) == (80422, 18273)
    assert (record["actor_id"], record["lines_added"], record["lines_removed"]) == ("li.wei@acme.example", 812, 233)


@pytest.mark.parametrize(
    ("changes", "date", "actor_id"),
    [
        ({"date": "2026-11-30T00:00:00Z"}, "2026-11-30T00:00:00Z", "li.wei@acme.example"),
        ({"date": "2026-11-30T00:00:00.000000+00:00"}, "2026-11-30T00:00:00Z", "li.wei@acme.example"),
        ({"date": None}, "2026-11-30T00:00:00Z", "li.wei@acme.example"),
        ({"actor": {"type": "api_actor", "api_key_name": "ci-bot"}}, "2026-11-30T00:00:00Z", "ci-bot"),
        (
            {"actor": {"type": "service_account_actor", "service_account_id": "svac_1"}},
            "2026-11-30T00:00:00Z",
            "svac_1",
        ),
    ],
)
def test_dates_and_actors_in_every_shape(changes: dict[str, t.Any], date: str, actor_id: str) -> None:
    record = usage_record({**ROW, **changes}, "org", DAY, PATH)
    assert (record["date"], record["actor_id"]) == (date, actor_id)


def test_null_key_parts_never_reach_the_key() -> None:
    record = usage_record({**ROW, "customer_type": None, "terminal_type": None, "is_remote": None}, "org", DAY, PATH)
    assert (record["customer_type"], record["terminal_type"], record["is_remote"]) == ("", "", False)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"actor": None}, "stream 'claude_code_usage' field 'actor' is not an object"),
        ({"actor": {"type": "user_actor"}}, "stream 'claude_code_usage' field 'actor' names no actor"),
        ({"date": "30/11/2026"}, "stream 'claude_code_usage' field 'date' is not a date or an RFC 3339 timestamp"),
        ({"model_breakdown": {"model": "x"}}, "stream 'claude_code_usage' field 'model_breakdown' is not a list"),
        (
            {"model_breakdown": [{"estimated_cost": {"amount": "lots"}}]},
            "stream 'claude_code_usage' field 'model_breakdown.estimated_cost.amount' is not a number",
        ),
        (  # found by review: passed through as NaN
            {"model_breakdown": [{"estimated_cost": {"amount": "NaN"}}]},
            "stream 'claude_code_usage' field 'model_breakdown.estimated_cost.amount' is not a number",
        ),
        (  # found by review: passed through as Infinity
            {"model_breakdown": [{"estimated_cost": {"amount": "Infinity"}}]},
            "stream 'claude_code_usage' field 'model_breakdown.estimated_cost.amount' is not a number",
        ),
        (  # found by review: an AssertionError
            {"model_breakdown": [{"estimated_cost": {"amount": "sNaN"}}]},
            "stream 'claude_code_usage' field 'model_breakdown.estimated_cost.amount' is not a number",
        ),
        (
            {
                "model_breakdown": [
                    {"estimated_cost": {"amount": 1, "currency": "USD"}},
                    {"estimated_cost": {"amount": 1, "currency": "EUR"}},
                ]
            },
            "stream 'claude_code_usage' field 'model_breakdown' mixes currencies",
        ),
    ],
)
def test_unreadable_rows_name_the_stream_and_the_field(changes: dict[str, t.Any], message: str) -> None:
    with pytest.raises(SchemaDriftError) as caught:
        usage_record({**ROW, **changes}, "org", DAY, PATH)
    assert message in str(caught.value)


def test_a_bookmark_older_than_the_default_start_is_resumed_from_not_skipped(sim: Simulator) -> None:
    """Without start_date, the 30-day default is for a first run only: a tap paused for two months
    resumes at its bookmark (minus the lookback) instead of silently skipping the gap."""
    marks = {org.id: "2026-10-01T00:00:00Z" for org in sim.orgs}
    sync(sim, state_with(marks), end_date="2026-10-05", lookback_days=1)
    assert requested_days(sim, 0) == [day.isoformat() for day in days("2026-09-30", "2026-10-04")]
