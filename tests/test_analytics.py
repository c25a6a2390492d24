"""The opt-in Analytics streams against the simulator: exact records, exact totals, exact requests.

Expected values are computed here from the simulator's facts (``analytics.facts_between``), not
from its query code, so the tap, the simulator's aggregation and these sums must all agree.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import logging
import math
import typing as t
from decimal import Decimal

import pytest

from tap_claude_developer.simulator import Fault, OrgSpec, Simulator, analytics
from tap_claude_developer.streams import reports
from tap_claude_developer.tap import TapClaudeDeveloper
from tests.helpers import config_for, run_tap

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 12, 3, 15, 30, tzinfo=UTC)
SPECS = [
    OrgSpec("Acme Analytics", users=12, invites=0, workspaces=3, api_keys=9, analytics_facts_per_day=10),
    OrgSpec("Globex Research", users=8, invites=0, workspaces=2, api_keys=5, analytics_facts_per_day=7),
    OrgSpec("Initech Labs", users=5, invites=0, workspaces=1, api_keys=3, analytics_facts_per_day=4),
]
STREAMS = ["analytics_usage", "analytics_cost"]
WINDOW = {"start_date": "2026-11-02", "end_date": "2026-12-03"}  # 31 days
USAGE_COUNTERS = {
    "uncached_input_tokens": "uncached_input_tokens",
    "cache_read_input_tokens": "cache_read_input_tokens",
    "output_tokens": "output_tokens",
    "cache_creation_ephemeral_5m_input_tokens": "ephemeral_5m_input_tokens",
    "cache_creation_ephemeral_1h_input_tokens": "ephemeral_1h_input_tokens",
    "server_tool_use_web_search_requests": "web_search_requests",
    "requests": "requests",
}


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reports, "utc_now", lambda: NOW)


@pytest.fixture(scope="module")
def sim() -> t.Iterator[Simulator]:
    with Simulator(SPECS, seed=11, now=NOW) as simulator:
        yield simulator


def day(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


def requests_to(sim: Simulator, stream: str) -> list[t.Any]:
    return [r for r in sim.requests if r.path == f"/v1/organizations/analytics/{stream.removeprefix('analytics_')}"]


def key_of(values: dict[str, t.Any]) -> str:
    return json.dumps(values, sort_keys=True, separators=(",", ":"))


def expected_usage(
    sim: Simulator, start: dt.datetime, end: dt.datetime, group_by: list[str]
) -> dict[tuple[str, str, str], dict[str, int]]:
    """(organization, day, group_key) -> every counter, summed from the facts."""
    out: dict[tuple[str, str, str], dict[str, int]] = collections.defaultdict(collections.Counter)
    for org in sim.orgs:
        for fact in analytics.facts_between(org, sim.seed, start, end):
            bucket = fact.at.strftime("%Y-%m-%dT00:00:00Z")
            counters = out[(org.id, bucket, key_of({d: fact.dims[d] for d in group_by}))]
            for column, name in USAGE_COUNTERS.items():
                counters[column] += fact.usage[name]
            counters["total_tokens"] += fact.total_tokens
    return {key: dict(value) for key, value in out.items()}


def expected_cost(
    sim: Simulator, start: dt.datetime, end: dt.datetime, group_by: list[str]
) -> dict[tuple[str, str, str], tuple[Decimal, Decimal]]:
    """(organization, day, group_key) -> (amount, list amount) in cents, with cost_type and token_type grouped."""
    out: dict[tuple[str, str, str], list[Decimal]] = collections.defaultdict(lambda: [Decimal(0), Decimal(0)])
    dims = [d for d in group_by if d not in ("cost_type", "token_type")]
    for org in sim.orgs:
        for fact in analytics.facts_between(org, sim.seed, start, end):
            bucket = fact.at.strftime("%Y-%m-%dT00:00:00Z")
            for line in fact.costs:
                values = {d: fact.dims[d] for d in dims} | {"cost_type": line.cost_type, "token_type": line.token_type}
                pair = out[(org.id, bucket, key_of(values))]
                pair[0] += line.amount
                pair[1] += line.list_amount
    return {key: (amount, listed) for key, (amount, listed) in out.items()}


# --------------------------------------------------------------------------- opt-in


def test_a_plain_run_makes_no_analytics_request(sim: Simulator) -> None:
    sim.clear_requests()
    run = run_tap(config_for(sim, **WINDOW))
    assert run.failures == []
    assert [r.path for r in sim.requests if "/analytics/" in r.path] == []
    assert not {m.get("stream") for m in run.messages} & set(STREAMS)
    catalog = TapClaudeDeveloper(config=config_for(sim), parse_env_config=False).catalog_dict
    defaults = {
        entry["tap_stream_id"]: next(m for m in entry["metadata"] if m["breadcrumb"] == [])["metadata"]
        for entry in catalog["streams"]
    }
    assert {name for name, meta in defaults.items() if meta["selected-by-default"] is False} == set(STREAMS)
    assert {name for name, meta in defaults.items() if not meta.get("selected")} == set(STREAMS)


# --------------------------------------------------------------------------- exact records and totals


@pytest.fixture(scope="module")
def synced(sim: Simulator) -> tuple[t.Any, list[t.Any]]:
    sim.clear_requests()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reports, "utc_now", lambda: NOW)
        run = run_tap(config_for(sim, **WINDOW), streams=STREAMS, parse_float=Decimal)
    return run, sim.requests


def test_usage_records_are_exactly_the_facts(sim: Simulator, synced: tuple[t.Any, list[t.Any]]) -> None:
    run, _ = synced
    assert run.failures == []
    group_by = ["model", "workspace_id", "api_key_id"]
    want = expected_usage(sim, day("2026-11-02"), day("2026-12-03"), group_by)
    records = run.records("analytics_usage")
    got = {
        (r["organization_id"], r["starting_at"], r["group_key"]): {c: r[c] for c in [*USAGE_COUNTERS, "total_tokens"]}
        for r in records
    }
    assert len(got) == len(records)  # no key twice
    assert got == want
    for org in sim.orgs:  # every token and request of every organization, summed independently
        facts = list(analytics.facts_between(org, sim.seed, day("2026-11-02"), day("2026-12-03")))
        mine = [r for r in records if r["organization_id"] == org.id]
        for column, name in USAGE_COUNTERS.items():
            assert sum(r[column] for r in mine) == sum(f.usage[name] for f in facts), (org.name, column)
    sample = records[0]
    assert sample["ending_at"] == (day(sample["starting_at"][:10]) + dt.timedelta(days=1)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    assert sample["data_refreshed_at"] == "2026-12-03T15:30:00.000000Z"
    assert json.loads(sample["group_key"]) == {d: sample[d] for d in group_by}
    defaults = {org.default_workspace_id for org in sim.orgs}
    assert defaults <= {r["workspace_id"] for r in records}  # the Default Workspace by its real id
    assert {r["actor_type"] for r in records} == {None}  # not grouped by actor


def test_cost_records_are_exact_in_cents_and_usd(sim: Simulator, synced: tuple[t.Any, list[t.Any]]) -> None:
    run, _ = synced
    group_by = ["model", "workspace_id", "api_key_id", "cost_type", "token_type"]
    want = expected_cost(sim, day("2026-11-02"), day("2026-12-03"), group_by)
    records = run.records("analytics_cost")
    got = {
        (r["organization_id"], r["starting_at"], r["group_key"]): (r["amount_cents"], r["list_amount_cents"])
        for r in records
    }
    assert len(got) == len(records)
    assert got == want
    for record in records:
        assert record["amount_usd"] * 100 == record["amount_cents"]
        assert record["list_amount_usd"] * 100 == record["list_amount_cents"]
        assert record["currency"] == "USD"
        assert record["requests"] is None  # grouped by cost_type and token_type: the API has no split
    for org in sim.orgs:
        lines = [
            line
            for fact in analytics.facts_between(org, sim.seed, day("2026-11-02"), day("2026-12-03"))
            for line in fact.costs
        ]
        mine = [r for r in records if r["organization_id"] == org.id]
        assert sum(r["amount_cents"] for r in mine) == sum(line.amount for line in lines)
        assert sum(r["list_amount_cents"] for r in mine) == sum(line.list_amount for line in lines)
        assert sum(r["amount_usd"] for r in mine) * 100 == sum(line.amount for line in lines)
    # Globex pays 95% of list price, Acme 100%.
    acme, globex = sim.orgs[0].id, sim.orgs[1].id
    assert all(r["amount_cents"] == r["list_amount_cents"] for r in records if r["organization_id"] == acme)
    assert all(
        r["amount_cents"] == r["list_amount_cents"] * Decimal("0.95") for r in records if r["organization_id"] == globex
    )
    assert {r["cost_type"] for r in records} == {"tokens", "web_search", "code_execution", "session_usage"}


def test_requests_are_minimal_and_carry_the_beta_header(synced: tuple[t.Any, list[t.Any]]) -> None:
    run, sent = synced
    analytics_requests = [r for r in sent if "/analytics/" in r.path]
    assert len(analytics_requests) == 6  # 31 days fit one query and one page: 1 per organization and stream
    assert {r.headers["anthropic-beta"] for r in analytics_requests} == {"analytics-usage-cost-2026-08-24"}
    usage = [r for r in analytics_requests if r.path.endswith("/usage")]
    assert usage[0].query == [
        ("starting_at", "2026-11-02T00:00:00Z"),
        ("ending_at", "2026-12-03T00:00:00Z"),
        ("time_bucket_width", "1d"),
        ("group_by[]", "model"),
        ("group_by[]", "workspace_id"),
        ("group_by[]", "api_key_id"),
        ("order_by", "time"),
        ("order", "asc"),
        ("limit", "1000"),
    ]
    cost = [r for r in analytics_requests if r.path.endswith("/cost")]
    assert [v for k, v in cost[0].query if k == "group_by[]"] == [
        "model",
        "workspace_id",
        "api_key_id",
        "cost_type",
        "token_type",
    ]
    # Bookmarks per organization: the last day read.
    for stream in STREAMS:
        partitions = run.last_state["bookmarks"][stream]["partitions"]
        assert [p["replication_key_value"] for p in partitions] == ["2026-12-02T00:00:00Z"] * 3
    # Oldest day first within each organization.
    for stream in STREAMS:
        for org_id in {r["organization_id"] for r in run.records(stream)}:
            starts = [r["starting_at"] for r in run.records(stream) if r["organization_id"] == org_id]
            assert starts == sorted(starts)


# --------------------------------------------------------------------------- windows and pages


@pytest.mark.parametrize(
    ("days", "chunks"),
    [
        (1, [("2026-11-20", "2026-11-21")]),
        (31, [("2026-11-20", "2026-12-21")]),
        (32, [("2026-11-20", "2026-12-21"), ("2026-12-21", "2026-12-22")]),
        (90, [("2026-09-04", "2026-10-05"), ("2026-10-05", "2026-11-05"), ("2026-11-05", "2026-12-03")]),
    ],
)
def test_windows_split_into_31_day_queries(days: int, chunks: list[tuple[str, str]]) -> None:
    end = dt.datetime.fromisoformat(chunks[-1][1]).replace(tzinfo=UTC)
    start = end - dt.timedelta(days=days)
    later = max(NOW, end)
    spec = [OrgSpec("Solo", users=4, invites=0, workspaces=1, api_keys=2, analytics_facts_per_day=3)]
    with pytest.MonkeyPatch.context() as patch, Simulator(spec, seed=5, now=later) as sim:
        patch.setattr(reports, "utc_now", lambda: later)
        config = config_for(sim, start_date=start.isoformat(), end_date=end.isoformat())
        run = run_tap(config, streams=["analytics_usage"])
        sent = requests_to(sim, "analytics_usage")
        facts = list(analytics.facts_between(sim.orgs[0], sim.seed, start, end))
    assert run.failures == []
    assert len(sent) == len(chunks)
    # Independent chains run concurrently: they may arrive in any order.
    assert sorted((dict(r.query)["starting_at"][:10], dict(r.query)["ending_at"][:10]) for r in sent) == chunks
    assert sum(r["output_tokens"] for r in run.records("analytics_usage")) == sum(
        f.usage["output_tokens"] for f in facts
    )


def test_more_than_1000_rows_take_pages_with_the_same_query() -> None:
    spec = [OrgSpec("Busy", users=40, invites=0, workspaces=4, api_keys=20, analytics_facts_per_day=60)]
    group_by = ["actor", "model", "api_key_id", "workspace_id", "product"]
    with Simulator(spec, seed=3, now=NOW) as sim:
        config = config_for(sim, **WINDOW, analytics_usage_group_by=group_by)
        run = run_tap(config, streams=["analytics_usage"])
        sent = requests_to(sim, "analytics_usage")
        facts = list(analytics.facts_between(sim.orgs[0], sim.seed, day("2026-11-02"), day("2026-12-03")))
        query = analytics.Query(
            "usage", day("2026-11-02"), day("2026-12-03"), dt.timedelta(days=1), tuple(group_by), "time", False,
            1000, {}, False,
        )  # fmt: skip
        served = len(analytics.rows(sim.orgs[0], sim.seed, query, NOW))
    assert run.failures == []
    assert served > 2000
    assert len(sent) == math.ceil(served / 1000)
    first = sent[0].query
    assert all(r.status == 200 for r in sent)
    # The tap never changes a parameter mid-chain: every later page is the first query plus its cursor.
    for page in sent[1:]:
        assert [p for p in page.query if p[0] != "page"] == first
        assert [k for k, _ in page.query].count("page") == 1
    records = run.records("analytics_usage")
    assert sum(r["total_tokens"] for r in records) == sum(f.total_tokens for f in facts)
    assert sum(r["requests"] for r in records) == sum(f.usage["requests"] for f in facts)
    assert len(records) == served
    assert {r["actor_type"] for r in records} == {
        None,  # an identity the API cannot render
        "user_actor",
        "service_account_actor",
        "api_actor",
        "federated_actor",
    }


def test_rows_the_api_cannot_tell_apart_are_summed_into_one_record() -> None:
    """Identities the API cannot render read null, each as its own row: one key, so one record."""
    spec = [OrgSpec("Busy", users=10, invites=0, workspaces=2, api_keys=6, analytics_facts_per_day=80)]
    with Simulator(spec, seed=3, now=NOW) as sim:
        run = run_tap(config_for(sim, **WINDOW, analytics_usage_group_by=["actor"]), streams=["analytics_usage"])
        facts = list(analytics.facts_between(sim.orgs[0], sim.seed, day("2026-11-02"), day("2026-12-03")))
        query = analytics.Query(
            "usage", day("2026-11-02"), day("2026-12-03"), dt.timedelta(days=1), ("actor",), "time", False, 1000,
            {}, False,
        )  # fmt: skip
        served = analytics.rows(sim.orgs[0], sim.seed, query, NOW)
    nameless = collections.Counter(row.start for row in served if row.group["actor"] is None)
    assert max(nameless.values()) == 2  # two unrenderable identities on some days
    records = run.records("analytics_usage")
    assert len(records) == len(served) - sum(count - 1 for count in nameless.values())
    keys = [(r["starting_at"], r["group_key"]) for r in records]
    assert len(keys) == len(set(keys))
    for column, name in USAGE_COUNTERS.items():
        assert sum(r[column] for r in records) == sum(f.usage[name] for f in facts), column
    nulls = [r for r in records if r["group_key"] == '{"actor":null}']
    assert {r["actor_type"] for r in nulls} == {None}  # actor_type was not grouped, and no actor to read it from


def test_a_cursor_reused_with_another_query_is_refused(sim: Simulator) -> None:
    """The simulator enforces what the tap relies on: a page token belongs to its query."""
    import requests

    org = sim.orgs[0]
    headers = {"x-api-key": org.key, "anthropic-version": "2023-06-01", "anthropic-beta": analytics.BETA}
    params = {
        "starting_at": "2026-11-02T00:00:00Z",
        "ending_at": "2026-12-03T00:00:00Z",
        "group_by[]": "model",
        "limit": "3",
    }
    url = sim.url + "/v1/organizations/analytics/usage"
    first = requests.get(url, params=params, headers=headers, timeout=10).json()
    assert first["has_more"] is True
    again = requests.get(url, params={**params, "page": first["next_page"]}, headers=headers, timeout=10)
    assert again.status_code == 200
    changed = requests.get(
        url, params={**params, "limit": "4", "page": first["next_page"]}, headers=headers, timeout=10
    )
    assert changed.status_code == 400
    assert changed.json()["error"]["type"] == "invalid_request_error"


# --------------------------------------------------------------------------- the API's limits on time


@pytest.mark.parametrize(
    ("now", "start_date", "first_start"),
    [
        # Nothing before 2026-01-01.
        (dt.datetime(2026, 3, 15, 9, 0, tzinfo=UTC), "2025-10-01", "2026-01-01T00:00:00Z"),
        # Nothing more than 365 days back: the first whole day an hour inside the limit.
        (dt.datetime(2027, 6, 15, 10, 0, tzinfo=UTC), "2026-01-01", "2026-06-16T00:00:00Z"),
        (dt.datetime(2027, 6, 15, 23, 30, tzinfo=UTC), "2026-01-01", "2026-06-17T00:00:00Z"),
    ],
)
def test_windows_are_clamped_to_what_the_api_serves(
    now: dt.datetime, start_date: str, first_start: str, caplog: pytest.LogCaptureFixture
) -> None:
    spec = [OrgSpec(name, users=3, invites=0, workspaces=1, api_keys=2, analytics_facts_per_day=2) for name in "AB"]
    with pytest.MonkeyPatch.context() as patch, Simulator(spec, seed=9, now=now) as sim:
        patch.setattr(reports, "utc_now", lambda: now)
        with caplog.at_level(logging.INFO, logger="tap-claude-developer"):
            run = run_tap(config_for(sim, start_date=start_date), streams=["analytics_cost"])
        sent = requests_to(sim, "analytics_cost")
    assert run.failures == []
    assert all(r.status == 200 for r in sent)
    starts = sorted(dict(r.query)["starting_at"] for r in sent)  # chains run concurrently: any order
    assert starts[0] == first_start
    assert starts.count(first_start) == 2  # each organization's first query
    said = [r.getMessage() for r in caplog.records if "Analytics API serves nothing" in r.getMessage()]
    assert len(said) == 1  # once a run, not once per organization
    assert f"starts at {first_start}" in said[0]


def test_a_window_wholly_before_2026_makes_no_request(sim: Simulator) -> None:
    sim.clear_requests()
    run = run_tap(config_for(sim, start_date="2025-10-01", end_date="2025-12-31"), streams=STREAMS)
    assert run.failures == []
    assert [r for r in sim.requests if "/analytics/" in r.path] == []
    assert run.records("analytics_usage") == run.records("analytics_cost") == []
    partitions = run.last_state["bookmarks"]["analytics_usage"]["partitions"]
    assert partitions == [{"context": {"organization_id": org.id}} for org in sim.orgs]  # no bookmark invented


# --------------------------------------------------------------------------- incremental runs


def test_resume_from_state_with_lookback_and_a_bookmark_per_organization(sim: Simulator) -> None:
    marks = ["2026-11-25T00:00:00Z", "2026-11-28T00:00:00Z", "2026-12-01T00:00:00Z"]
    state = {
        "bookmarks": {
            "analytics_usage": {
                "partitions": [
                    {
                        "context": {"organization_id": org.id},
                        "replication_key": "starting_at",
                        "replication_key_value": m,
                    }
                    for org, m in zip(sim.orgs, marks, strict=True)
                ]
            }
        }
    }
    sim.clear_requests()
    config = config_for(sim, start_date="2026-11-01", analytics_lookback_days=3)
    run = run_tap(config, state=state, streams=["analytics_usage"])
    assert run.failures == []
    sent = requests_to(sim, "analytics_usage")
    by_org = {r.org_id: dict(r.query) for r in sent}
    assert len(sent) == 3
    assert [by_org[org.id]["starting_at"] for org in sim.orgs] == [
        "2026-11-22T00:00:00Z",
        "2026-11-25T00:00:00Z",
        "2026-11-28T00:00:00Z",
    ]
    assert {q["ending_at"] for q in by_org.values()} == {"2026-12-04T00:00:00Z"}  # today's bucket, partial
    partitions = run.last_state["bookmarks"]["analytics_usage"]["partitions"]
    assert [p["replication_key_value"] for p in partitions] == ["2026-12-03T00:00:00Z"] * 3
    # Today's facts only up to now; the re-read days are exact too.
    for org in sim.orgs:
        start = day(by_org[org.id]["starting_at"][:10])
        facts = list(analytics.facts_between(org, sim.seed, start, NOW))
        mine = [r for r in run.records("analytics_usage") if r["organization_id"] == org.id]
        assert sum(r["uncached_input_tokens"] for r in mine) == sum(f.usage["uncached_input_tokens"] for f in facts)
        assert min(r["starting_at"] for r in mine) == by_org[org.id]["starting_at"]


def test_default_lookback_is_30_days(sim: Simulator) -> None:
    state = {
        "bookmarks": {
            "analytics_cost": {
                "partitions": [
                    {
                        "context": {"organization_id": sim.orgs[0].id},
                        "replication_key": "starting_at",
                        "replication_key_value": "2026-12-01T00:00:00Z",
                    }
                ]
            }
        }
    }
    sim.clear_requests()
    run_tap(config_for(sim, start_date="2026-09-01"), state=state, streams=["analytics_cost"])
    starts: dict[str, str] = {}
    for request in requests_to(sim, "analytics_cost"):
        start = dict(request.query)["starting_at"]
        starts[request.org_id] = min(start, starts.get(request.org_id, start))
    assert starts[sim.orgs[0].id] == "2026-11-01T00:00:00Z"  # bookmark minus 30 days
    assert starts[sim.orgs[1].id] == "2026-09-01T00:00:00Z"  # no bookmark: start_date


def test_ungrouped_rows_still_have_a_key(sim: Simulator) -> None:
    run = run_tap(config_for(sim, **WINDOW, analytics_usage_group_by=[], analytics_cost_group_by=[]), streams=STREAMS)
    assert run.failures == []
    for stream in STREAMS:
        records = run.records(stream)
        assert {r["group_key"] for r in records} == {"{}"}
        assert len(records) == len({(r["organization_id"], r["starting_at"]) for r in records}) == 3 * 31
    cost = run.records("analytics_cost")
    facts = [
        f for org in sim.orgs for f in analytics.facts_between(org, sim.seed, day("2026-11-02"), day("2026-12-03"))
    ]
    assert sum(r["requests"] for r in cost) == sum(f.usage["requests"] for f in facts)  # not split: counted


def test_an_unreadable_row_names_stream_and_field(sim: Simulator) -> None:
    body = json.dumps(
        {
            "data": [
                {"starting_at": "2026-11-02T00:00:00Z", "ending_at": "2026-11-03T00:00:00Z", "group": {}, "cost": 5}
            ],
            "has_more": False,
            "next_page": None,
            "data_refreshed_at": "2026-12-03T15:00:00Z",
        }
    )
    fault = sim.add_fault(Fault(path=r"/analytics/cost$", status=200, body=body, org_index=1))
    try:
        run = run_tap(config_for(sim, **WINDOW), streams=["analytics_cost"])
    finally:
        sim.clear_faults()
    assert fault.hits == 1
    assert len(run.failures) == 1
    assert "Globex Research" in run.failures[0]
    assert "stream 'analytics_cost' field 'cost' is not an object" in run.failures[0]
    assert {r["organization_id"] for r in run.records("analytics_cost")} == {sim.orgs[0].id, sim.orgs[2].id}


def test_five_dimensions_plus_cost_type_and_token_type_are_accepted_end_to_end(sim: Simulator) -> None:
    five = ["actor", "actor_type", "model", "workspace_id", "product"]
    config = config_for(
        sim, **WINDOW, analytics_usage_group_by=five, analytics_cost_group_by=[*five, "cost_type", "token_type"]
    )
    run = run_tap(config, streams=STREAMS)
    assert run.failures == []
    for stream in STREAMS:
        records = run.records(stream)
        assert len({(r["organization_id"], r["starting_at"], r["group_key"]) for r in records}) == len(records)
        assert set(json.loads(records[0]["group_key"])) >= set(five)


# --------------------------------------------------------------------------- the simulator's refusals (§5.12)

GOOD = {
    "starting_at": "2026-11-02T00:00:00Z",
    "ending_at": "2026-12-03T00:00:00Z",
    "time_bucket_width": "1d",
}


@pytest.mark.parametrize(
    ("change", "headers", "message"),
    [
        ({}, {"anthropic-beta": "fast-mode-2026-02-01"}, "This endpoint is in beta"),
        ({"starting_at": "2025-12-31T23:59:59Z"}, {}, "starting_at: must be no earlier than 2026-01-01T00:00:00Z"),
        ({"starting_at": "2026-11-02T00:00:00"}, {}, "starting_at: must carry a time zone"),
        ({"ending_at": None}, {}, "ending_at: required when time_bucket_width is set"),
        ({"ending_at": "2026-12-03T00:00:01Z"}, {}, "ending_at: the range may span at most 31 days"),
        ({"ending_at": "2026-11-01T00:00:00Z"}, {}, "ending_at: must be after starting_at"),
        ({"time_bucket_width": "1m", "ending_at": "2026-11-03T00:01:00Z"}, {}, "at most 24 hours"),
        ({"time_bucket_width": "1w"}, {}, "time_bucket_width: expected one of 1d, 1h, 1m"),
        ({"group_by[]": ["model", "actor", "product", "speed", "workspace_id", "api_key_id"]}, {}, "at most 5"),
        ({"group_by[]": ["cost_type"]}, {}, "group_by[]: invalid value"),
        ({"group_by[]": ["rbac_group_id", "claude_tag_user_id"]}, {}, "cannot be combined"),
        ({"limit": "0"}, {}, "limit: Input should be an integer from 1 to 1000"),
        ({"limit": "1001"}, {}, "limit: Input should be an integer from 1 to 1000"),
        ({"order_by": "amount"}, {}, "order_by: expected one of total_tokens"),
        ({"order": "up"}, {}, "order: expected asc or desc"),
        ({"exclude_deleted_users": "true"}, {}, "exclude_deleted_users: requires group_by[]=actor"),
        ({"page": "page_bm90LWEtdG9rZW4="}, {}, "page: invalid page token"),
    ],
)
def test_the_simulator_refuses_what_the_api_refuses(
    sim: Simulator, change: dict[str, t.Any], headers: dict[str, str], message: str
) -> None:
    import requests

    org = sim.orgs[0]
    sent = {"x-api-key": org.key, "anthropic-version": "2023-06-01", "anthropic-beta": analytics.BETA, **headers}
    params = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    answer = requests.get(sim.url + "/v1/organizations/analytics/usage", params=params, headers=sent, timeout=10)
    assert answer.status_code == 400
    assert answer.json()["error"]["type"] == "invalid_request_error"
    assert message in answer.json()["error"]["message"]


def test_the_simulator_refuses_a_start_more_than_365_days_back() -> None:
    import requests

    later = dt.datetime(2027, 6, 15, 10, 0, tzinfo=UTC)
    with Simulator([OrgSpec("Solo", users=2, invites=0, workspaces=1, api_keys=1)], seed=1, now=later) as sim:
        sent = {"x-api-key": sim.orgs[0].key, "anthropic-version": "2023-06-01", "anthropic-beta": analytics.BETA}
        url = sim.url + "/v1/organizations/analytics/cost"
        for start, status in (("2026-06-15T09:59:59Z", 400), ("2026-06-15T10:00:00Z", 200)):
            answer = requests.get(url, params={"starting_at": start}, headers=sent, timeout=10)
            assert answer.status_code == status, start


def test_summing_rows_keeps_every_digit_and_counts_stay_integers() -> None:
    """Decimal + Decimal rounds to 28 digits in the default context: found by review."""
    tap = TapClaudeDeveloper(config={"admin_api_keys": ["sk-ant-admin01-" + "z" * 40]}, parse_env_config=False)
    stream = tap.streams["analytics_cost"]
    long = Decimal("12345678901234567890123456789012.345678901")
    total = {
        "amount_cents": long,
        "amount_usd": None,
        "list_amount_cents": Decimal(1),
        "list_amount_usd": None,
        "requests": 2,
    }
    more = {
        "amount_cents": long,
        "amount_usd": None,
        "list_amount_cents": Decimal(2),
        "list_amount_usd": None,
        "requests": 3,
    }
    stream._add(total, more)  # type: ignore[attr-defined]
    assert str(total["amount_cents"]) == "24691357802469135780246913578024.691357802"
    assert total["requests"] == 5
    assert type(total["requests"]) is int
