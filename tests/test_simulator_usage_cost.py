"""The simulator's messages usage and cost reports (admin-api.md §5.7, §5.8): bounds, buckets, paging, errors, sums."""

from __future__ import annotations

import base64
import re
import typing as t
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import requests

from tap_claude_developer.simulator import OrgSpec, Simulator
from tap_claude_developer.simulator import usage_cost as fake

UTC = timezone.utc
NOW = datetime(2026, 12, 3, 15, 30, tzinfo=UTC)
USAGE, COST = "/v1/organizations/usage_report/messages", "/v1/organizations/cost_report"
SPECS = [
    OrgSpec("Acme Analytics", users=10, invites=0, workspaces=3, api_keys=6, usage_events_per_day=40),
    OrgSpec(
        "Quiet Co", users=2, invites=0, workspaces=1, api_keys=1, usage_events_per_day=0, code_executions_per_day=0
    ),
]
RESULT_KEYS = {
    "uncached_input_tokens",
    "cache_read_input_tokens",
    "output_tokens",
    "cache_creation",
    "server_tool_use",
    "account_id",
    "api_key_id",
    "context_window",
    "inference_geo",
    "model",
    "service_account_id",
    "service_tier",
    "workspace_id",
}
COST_KEYS = {
    "amount",
    "currency",
    "workspace_id",
    "description",
    "cost_type",
    "model",
    "service_tier",
    "token_type",
    "context_window",
    "inference_geo",
}
Params = list[tuple[str, str]]


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(SPECS, seed=5, now=NOW) as simulator:
        yield simulator


@pytest.fixture(autouse=True)
def clock(sim: Simulator) -> None:
    sim.set_clock(NOW)


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def get(
    sim: Simulator, http: requests.Session, path: str, params: Params, *, org: int = 0, beta: str | None = None
) -> requests.Response:
    headers = {"x-api-key": sim.admin_keys[org], "anthropic-version": "2023-06-01"}
    if beta is not None:
        headers["anthropic-beta"] = beta
    return http.get(sim.url + path, params=params, headers=headers, timeout=10)


def ok(response: requests.Response) -> dict[str, t.Any]:
    assert response.status_code == 200, response.text
    return t.cast("dict[str, t.Any]", response.json())


def refused(response: requests.Response, message: str) -> None:
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == {"type": "invalid_request_error", "message": message}


def window(start: str, end: str, width: str = "1d", *rest: tuple[str, str]) -> Params:
    return [("starting_at", start), ("ending_at", end), ("bucket_width", width), *rest]


def every_page(
    sim: Simulator, http: requests.Session, path: str, params: Params, **kw: t.Any
) -> list[dict[str, t.Any]]:
    """The buckets of every page, following next_page while has_more."""
    buckets, token = [], None
    while True:
        page = ok(get(sim, http, path, params + ([("page", token)] if token else []), **kw))
        buckets += page["data"]
        if not page["has_more"]:
            assert page["next_page"] is None
            return buckets
        token = page["next_page"]


def events(sim: Simulator, org: int, start: datetime, end: datetime) -> list[fake.UsageEvent]:
    found, day = [], start.date()
    while datetime(day.year, day.month, day.day, tzinfo=UTC) < end:
        found += [e for e in fake.usage_events(sim.orgs[org], day, sim.now()) if start <= e.at < end]
        day += timedelta(days=1)
    return found


def total(buckets: list[dict[str, t.Any]], counter: str = "output_tokens") -> int:
    return sum(row[counter] for bucket in buckets for row in bucket["results"])


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --------------------------------------------------------------------------- parameters


@pytest.mark.parametrize("path", [USAGE, COST])
def test_starting_at_is_required_and_must_be_rfc3339(sim: Simulator, http: requests.Session, path: str) -> None:
    refused(get(sim, http, path, []), "starting_at: Field required")
    refused(
        get(sim, http, path, [("starting_at", "yesterday")]),
        "starting_at: expected an RFC 3339 datetime with a time zone, got 'yesterday'",
    )
    refused(
        get(sim, http, path, [("starting_at", "2026-11-30T00:00:00")]),
        "starting_at: expected an RFC 3339 datetime with a time zone, got '2026-11-30T00:00:00'",
    )
    refused(
        get(sim, http, path, window("2026-11-30T00:00:00Z", "2026-11-30T00:00:00Z")),
        "ending_at: must be after starting_at",
    )


@pytest.mark.parametrize(
    ("width", "start", "end", "starts"),
    [
        (
            "1d",
            "2026-11-28T17:45:00Z",
            "2026-12-01T00:00:00Z",
            ["2026-11-28T00:00", "2026-11-29T00:00", "2026-11-30T00:00"],
        ),
        (
            "1h",
            "2026-12-02T10:17:45Z",
            "2026-12-02T13:00:00Z",
            ["2026-12-02T10:00", "2026-12-02T11:00", "2026-12-02T12:00"],
        ),
        (
            "1m",
            "2026-12-02T10:17:45+01:00",
            "2026-12-02T09:20:00Z",
            ["2026-12-02T09:17", "2026-12-02T09:18", "2026-12-02T09:19"],
        ),
        # ending_at is exclusive, and a bucket that would end after it is not served (§5.7).
        ("1h", "2026-12-02T10:00:00Z", "2026-12-02T11:59:00Z", ["2026-12-02T10:00"]),
    ],
)
def test_buckets_snap_to_utc_and_end_before_ending_at(
    sim: Simulator, http: requests.Session, width: str, start: str, end: str, starts: list[str]
) -> None:
    size = {"1d": timedelta(days=1), "1h": timedelta(hours=1), "1m": timedelta(minutes=1)}[width]
    page = ok(get(sim, http, USAGE, window(start, end, width, ("limit", "10"))))
    want = [at(start) for start in starts]
    assert [b["starting_at"] for b in page["data"]] == [w.strftime("%Y-%m-%dT%H:%M:%SZ") for w in want]
    assert [b["ending_at"] for b in page["data"]] == [(w + size).strftime("%Y-%m-%dT%H:%M:%SZ") for w in want]
    assert page["has_more"] is False


def test_empty_buckets_are_served(sim: Simulator, http: requests.Session) -> None:
    for path in (USAGE, COST):
        page = ok(
            get(sim, http, path, window("2026-11-01T00:00:00Z", "2026-11-11T00:00:00Z", "1d", ("limit", "31")), org=1)
        )
        assert len(page["data"]) == 10
        assert all(bucket["results"] == [] for bucket in page["data"])


@pytest.mark.parametrize(("width", "default", "maximum"), [("1d", 7, 31), ("1h", 24, 168), ("1m", 60, 1440)])
def test_limits_per_bucket_width(
    sim: Simulator, http: requests.Session, width: str, default: int, maximum: int
) -> None:
    params = window("2026-09-01T00:00:00Z", "2026-12-01T00:00:00Z", width)
    page = ok(get(sim, http, USAGE, params))
    assert (len(page["data"]), page["has_more"]) == (default, True)
    assert len(ok(get(sim, http, USAGE, [*params, ("limit", str(maximum))]))["data"]) == maximum
    for bad in (maximum + 1, 0):
        refused(
            get(sim, http, USAGE, [*params, ("limit", str(bad))]),
            f"limit: Input should be an integer from 1 to {maximum}, got '{bad}'",
        )


def test_cost_report_is_daily_with_its_own_limits(sim: Simulator, http: requests.Session) -> None:
    params = window("2026-09-01T00:00:00Z", "2026-12-01T00:00:00Z")
    assert len(ok(get(sim, http, COST, params))["data"]) == 7
    assert len(ok(get(sim, http, COST, [*params, ("limit", "31")]))["data"]) == 31
    refused(
        get(sim, http, COST, [*params, ("limit", "32")]), "limit: Input should be an integer from 1 to 31, got '32'"
    )
    refused(
        get(sim, http, COST, window("2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z", "1h")),
        "bucket_width: the cost report supports only 1d, got '1h'",
    )
    refused(
        get(sim, http, COST, [*params, ("group_by[]", "model")]),
        "group_by[]: invalid value 'model'; expected one of description, workspace_id",
    )


def test_bad_enum_values_are_refused(sim: Simulator, http: requests.Session) -> None:
    params = window("2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z")
    refused(
        get(sim, http, USAGE, window("2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z", "1w")),
        "bucket_width: expected one of 1d, 1h, 1m, got '1w'",
    )
    refused(
        get(sim, http, USAGE, [*params, ("group_by[]", "user")]),
        "group_by[]: invalid value 'user'; expected one of account_id, api_key_id, context_window, inference_geo, "
        "model, service_account_id, service_tier, speed, workspace_id",
    )
    refused(
        get(sim, http, USAGE, [*params, ("service_tiers[]", "premium")]),
        "service_tiers[]: invalid value 'premium'; expected one of batch, flex, flex_discount, priority, "
        "priority_on_demand, standard",
    )
    refused(
        get(sim, http, USAGE, [*params, ("context_window[]", "1M")]),
        "context_window[]: invalid value '1M'; expected one of 0-200k, 200k-1M",
    )
    refused(
        get(sim, http, USAGE, [*params, ("inference_geos[]", "eu")]),
        "inference_geos[]: invalid value 'eu'; expected one of global, not_available, us",
    )


def test_speed_needs_the_fast_mode_beta(sim: Simulator, http: requests.Session) -> None:
    params = window("2026-11-01T00:00:00Z", "2026-11-08T00:00:00Z", "1d", ("group_by[]", "speed"))
    message = "group_by[]=speed and speeds[] need the anthropic-beta header fast-mode-2026-02-01"
    refused(get(sim, http, USAGE, params), message)
    refused(get(sim, http, USAGE, [("starting_at", "2026-11-01T00:00:00Z"), ("speeds[]", "fast")]), message)
    page = ok(get(sim, http, USAGE, params, beta="some-other-beta, fast-mode-2026-02-01"))
    rows = [row for bucket in page["data"] for row in bucket["results"]]
    assert {row["speed"] for row in rows} == {"fast", "standard"}
    assert {frozenset(row) for row in rows} == {frozenset(RESULT_KEYS | {"speed"})}
    # Without the header, results carry no speed field at all.
    plain = ok(get(sim, http, USAGE, params[:3]))
    assert {frozenset(row) for b in plain["data"] for row in b["results"]} == {frozenset(RESULT_KEYS)}


# --------------------------------------------------------------------------- paging


def test_pages_follow_next_page_and_tokens_are_bound_to_their_query(sim: Simulator, http: requests.Session) -> None:
    params = window("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z", "1d", ("limit", "7"), ("group_by[]", "model"))
    first = ok(get(sim, http, USAGE, params))
    token = first["next_page"]
    assert re.fullmatch(r"page_[A-Za-z0-9+/]+=*", token)
    assert base64.b64decode(token[5:]).decode().startswith("2026-11-08T00:00:00Z|")
    buckets = every_page(sim, http, USAGE, params)
    assert [b["starting_at"][:10] for b in buckets] == [f"2026-11-{d:02d}" for d in range(1, 31)]
    whole = ok(get(sim, http, USAGE, [*params[:3], ("limit", "31"), ("group_by[]", "model")]))
    assert buckets == whole["data"]
    bound = "page: this page token belongs to a different query; keep every other parameter as it was"
    for changed in (
        [*params[:3], ("limit", "8"), ("group_by[]", "model")],
        [*params[:4]],
        [*params, ("group_by[]", "workspace_id")],
        window("2026-11-01T00:00:00Z", "2026-11-30T00:00:00Z", "1d", ("limit", "7"), ("group_by[]", "model")),
    ):
        refused(get(sim, http, USAGE, [*changed, ("page", token)]), bound)
    refused(get(sim, http, COST, [*params[:4], ("page", token)]), bound)  # another endpoint
    refused(get(sim, http, USAGE, [*params, ("page", "page_!!")]), "page: invalid page token")
    refused(get(sim, http, USAGE, [*params, ("page", "2026-11-08T00:00:00Z")]), "page: invalid page token")
    # The same parameters in another order are the same query.
    second = ok(get(sim, http, USAGE, [*params, ("page", token)]))
    assert ok(get(sim, http, USAGE, [*reversed(params), ("page", token)])) == second
    assert second["data"] == whole["data"][7:14]


def test_a_page_generates_only_the_days_it_shows(
    sim: Simulator, http: requests.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    generated: list[date] = []
    original = fake._all_usage_events

    def counting(org: t.Any, day: date) -> list[fake.UsageEvent]:
        generated.append(day)
        return original(org, day)

    monkeypatch.setattr(fake, "_all_usage_events", counting)
    page = ok(get(sim, http, USAGE, window("2025-12-01T00:00:00Z", "2026-12-01T00:00:00Z", "1d", ("limit", "31"))))
    assert page["has_more"] is True
    assert generated == [date(2025, 12, 1) + timedelta(days=i) for i in range(31)]


# --------------------------------------------------------------------------- data


def test_every_width_sums_to_the_same_totals(sim: Simulator, http: requests.Session) -> None:
    start, end = "2026-12-02T00:00:00Z", "2026-12-03T00:00:00Z"
    want = events(sim, 0, at(start[:-1]), at(end[:-1]))
    assert len(want) == 23
    for width, limit in (("1d", "1"), ("1h", "24"), ("1m", "1440")):
        buckets = every_page(sim, http, USAGE, window(start, end, width, ("limit", limit)))
        for counter in ("uncached_input_tokens", "cache_read_input_tokens", "output_tokens"):
            assert total(buckets, counter) == sum(getattr(e, counter) for e in want), (width, counter)
        rows = [row for b in buckets for row in b["results"]]
        assert sum(r["cache_creation"]["ephemeral_1h_input_tokens"] for r in rows) == sum(
            e.ephemeral_1h_input_tokens for e in want
        )
        assert sum(r["cache_creation"]["ephemeral_5m_input_tokens"] for r in rows) == sum(
            e.ephemeral_5m_input_tokens for e in want
        )
        assert sum(r["server_tool_use"]["web_search_requests"] for r in rows) == sum(
            e.web_search_requests for e in want
        )


def test_nothing_after_now(sim: Simulator, http: requests.Session) -> None:
    sim.set_clock(at("2026-12-02T12:00:00"))
    buckets = every_page(
        sim, http, USAGE, window("2026-12-02T00:00:00Z", "2026-12-03T00:00:00Z", "1h", ("limit", "24"))
    )
    assert [bool(b["results"]) for b in buckets][12:] == [False] * 12
    assert any(b["results"] for b in buckets[:12])
    assert total(buckets) == sum(e.output_tokens for e in events(sim, 0, at("2026-12-02"), at("2026-12-02T12:00:00")))
    cost = ok(get(sim, http, COST, window("2026-12-02T00:00:00Z", "2026-12-03T00:00:00Z")))
    cents = sum(Decimal(row["amount"]) for row in cost["data"][0]["results"])
    assert cents == sum(item.amount for item in fake.cost_items(sim.orgs[0], date(2026, 12, 2), sim.now()))
    assert all(item.at < sim.now() for item in fake.cost_items(sim.orgs[0], date(2026, 12, 2), sim.now()))


def test_filters(sim: Simulator, http: requests.Session) -> None:
    start, end = "2026-11-25T00:00:00Z", "2026-12-02T00:00:00Z"
    org = sim.orgs[0]
    want = events(sim, 0, at(start[:-1]), at(end[:-1]))
    base = window(start, end, "1d", ("limit", "31"))
    opus = every_page(sim, http, USAGE, [*base, ("models[]", "claude-opus-4-6"), ("group_by[]", "model")])
    assert {r["model"] for b in opus for r in b["results"]} == {"claude-opus-4-6"}
    assert total(opus) == sum(e.output_tokens for e in want if e.model == "claude-opus-4-6")
    tiers = every_page(sim, http, USAGE, [*base, ("service_tiers[]", "batch"), ("service_tiers[]", "priority")])
    assert total(tiers) == sum(e.output_tokens for e in want if e.service_tier in ("batch", "priority"))
    # UNCERTAIN in the docs: the Default Workspace (null in results) is named by its real id here.
    default = every_page(
        sim, http, USAGE, [*base, ("workspace_ids[]", org.default_workspace_id), ("group_by[]", "workspace_id")]
    )
    assert {r["workspace_id"] for b in default for r in b["results"]} == {None}
    assert total(default) == sum(e.output_tokens for e in want if e.workspace_id is None)
    geo = every_page(sim, http, USAGE, [*base, ("inference_geos[]", "not_available"), ("context_window[]", "0-200k")])
    assert total(geo) == sum(
        e.output_tokens for e in want if e.inference_geo == "not_available" and e.context_window == "0-200k"
    )


def test_cost_rows_and_amounts(sim: Simulator, http: requests.Session) -> None:
    params = window("2026-11-25T00:00:00Z", "2026-12-02T00:00:00Z", "1d", ("limit", "31"))
    grouped = ok(get(sim, http, COST, [*params, ("group_by[]", "workspace_id"), ("group_by[]", "description")]))
    rows = [row for bucket in grouped["data"] for row in bucket["results"]]
    assert {frozenset(row) for row in rows} == {frozenset(COST_KEYS)}
    assert all(re.fullmatch(r"[0-9]+(\.[0-9]*[1-9])?", row["amount"]) for row in rows)
    assert max(len(row["amount"].partition(".")[2]) for row in rows) == 18
    assert {row["currency"] for row in rows} == {"USD"}
    assert {row["cost_type"] for row in rows} == {"tokens", "web_search", "code_execution"}
    assert {row["service_tier"] for row in rows} == {"standard", "batch", None}  # Priority Tier is not in it
    # A description determines the parsed fields.
    parsed = {row["description"]: tuple(row[k] for k in sorted(COST_KEYS - {"amount", "workspace_id"})) for row in rows}
    assert len(parsed) == len({(row["description"], *parsed[row["description"]]) for row in rows})
    assert "Claude Sonnet 4.5 Usage - Input Tokens" in parsed
    # Without description the parsed fields are null, and the day's total is the same.
    plain = ok(get(sim, http, COST, params))
    for day, bucket in zip(plain["data"], grouped["data"], strict=True):
        (only,) = day["results"]
        assert {k: v for k, v in only.items() if k not in ("amount", "currency")} == dict.fromkeys(
            COST_KEYS - {"amount", "currency"}
        )
        assert Decimal(only["amount"]) == sum(Decimal(row["amount"]) for row in bucket["results"])
        day_items = fake.cost_items(sim.orgs[0], at(day["starting_at"][:10]).date(), NOW)
        assert Decimal(only["amount"]) == sum(item.amount for item in day_items)


def test_the_same_seed_gives_the_same_reports(http: requests.Session) -> None:
    params = window("2026-11-20T00:00:00Z", "2026-11-27T00:00:00Z", "1d", ("group_by[]", "model"))
    with Simulator(SPECS, seed=5, now=NOW) as one, Simulator(SPECS, seed=5, now=NOW) as two:
        assert ok(get(one, http, USAGE, params)) == ok(get(two, http, USAGE, params))
        assert ok(get(one, http, COST, params[:3])) == ok(get(two, http, COST, params[:3]))
    with Simulator(SPECS, seed=6, now=NOW) as other, Simulator(SPECS, seed=5, now=NOW) as one:
        assert ok(get(one, http, USAGE, params)) != ok(get(other, http, USAGE, params))
