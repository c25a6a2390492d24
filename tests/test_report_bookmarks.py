"""Bookmarks never move past end_date or now, whatever the API or the STATE says (found by attack)."""

from __future__ import annotations

import datetime as dt
import json
import typing as t

import pytest

from tap_claude_developer.simulator import Fault, OrgSpec, Simulator
from tap_claude_developer.streams import reports
from tests.helpers import config_for, run_tap

NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.timezone.utc)
WINDOW = {"start_date": "2026-11-20", "end_date": "2026-11-25T00:00:00Z"}
FUTURE_BUCKET = json.dumps(
    {
        "data": [{"starting_at": "2031-01-01T00:00:00Z", "ending_at": "2031-01-02T00:00:00Z", "results": []}],
        "has_more": False,
        "next_page": None,
    }
)


@pytest.fixture(scope="module")
def sim() -> t.Iterator[Simulator]:
    specs = [OrgSpec("Acme", users=3, workspaces=1, api_keys=2), OrgSpec("Globex", users=3, workspaces=1, api_keys=2)]
    with Simulator(specs, seed=4, now=NOW) as simulator:
        yield simulator


@pytest.fixture(autouse=True)
def clock(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reports, "utc_now", lambda: NOW)
    sim.clear_faults()


def bookmarks(state: dict[str, t.Any], stream: str) -> dict[str, str]:
    partitions = state["bookmarks"][stream]["partitions"]
    return {p["context"]["organization_id"]: p.get("replication_key_value") for p in partitions}


def test_a_bucket_dated_after_the_window_does_not_move_the_bookmark(sim: Simulator) -> None:
    sim.add_fault(Fault(path="/usage_report/messages", status=200, body=FUTURE_BUCKET, org_index=0))
    first = run_tap(config_for(sim, **WINDOW), streams=["messages_usage"])
    assert first.failures == []
    marks = bookmarks(first.last_state, "messages_usage")
    assert marks[sim.orgs[0].id] == "2026-11-25T00:00:00Z"  # capped at end_date, not 2031
    assert marks[sim.orgs[1].id] == "2026-11-24T00:00:00Z"  # the last bucket it read
    # The next run reads Acme's window again (from its bookmark minus the lookback).
    second = run_tap(config_for(sim, **WINDOW), state=first.last_state, streams=["messages_usage"])
    assert {r["organization_id"] for r in second.records("messages_usage")} == {org.id for org in sim.orgs}


def test_a_future_bookmark_in_state_is_ignored_with_a_warning(sim: Simulator, caplog: pytest.LogCaptureFixture) -> None:
    clean = run_tap(config_for(sim, **WINDOW), streams=["messages_usage"])
    state = json.loads(json.dumps(clean.last_state))
    state["bookmarks"]["messages_usage"]["partitions"][0]["replication_key_value"] = "2030-01-01T00:00:00Z"
    run = run_tap(config_for(sim, **WINDOW), state=state, streams=["messages_usage"])
    acme = [r for r in run.records("messages_usage") if r["organization_id"] == sim.orgs[0].id]
    assert acme == [r for r in clean.records("messages_usage") if r["organization_id"] == sim.orgs[0].id]
    assert bookmarks(run.last_state, "messages_usage")[sim.orgs[0].id] == "2026-11-24T00:00:00Z"
    assert any("has a bookmark in the future (2030-01-01T00:00:00Z)" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("value", ["not-a-date", 12345, ["2026-11-21"]])
def test_an_unreadable_bookmark_is_ignored_with_a_warning(
    sim: Simulator, caplog: pytest.LogCaptureFixture, value: object
) -> None:
    clean = run_tap(config_for(sim, **WINDOW), streams=["messages_usage"])
    state = json.loads(json.dumps(clean.last_state))
    state["bookmarks"]["messages_usage"]["partitions"][0]["replication_key_value"] = value
    run = run_tap(config_for(sim, **WINDOW), state=state, streams=["messages_usage"])
    assert run.failures == []
    assert bookmarks(run.last_state, "messages_usage") == bookmarks(clean.last_state, "messages_usage")
    assert any("has an unreadable bookmark in STATE" in r.getMessage() for r in caplog.records)


def test_a_start_date_after_the_end_reads_nothing_and_says_so(sim: Simulator, caplog: pytest.LogCaptureFixture) -> None:
    run = run_tap(config_for(sim, start_date="9999-12-31"), streams=["messages_usage"])
    assert run.records("messages_usage") == []
    assert sum("has nothing to read" in r.getMessage() for r in caplog.records) == 2
