"""Retries: what is retried, how long each wait is (exactly), and what is never retried."""

from __future__ import annotations

import email.utils
import time
import typing as t

import pytest

from tap_claude_developer import client as client_module
from tap_claude_developer.client import AdminApiClient, ApiError, RequestBudget
from tap_claude_developer.simulator import Fault, OrgSpec, Simulator
from tests.fakes import FakeClock

USERS = "/v1/organizations/users"


@pytest.fixture(scope="module")
def sim() -> t.Iterator[Simulator]:
    with Simulator([OrgSpec("Acme", users=3, invites=0, workspaces=0, api_keys=0)], seed=1) as simulator:
        yield simulator


@pytest.fixture
def clock(sim: Simulator) -> FakeClock:
    sim.clear_faults()
    sim.clear_requests()
    return FakeClock()


def make_client(sim: Simulator, clock: FakeClock, **overrides: t.Any) -> AdminApiClient:
    settings: dict[str, t.Any] = {
        "api_url": sim.url,
        "keys": sim.admin_keys,
        "anthropic_version": "2023-06-01",
        "user_agent": "tests",
        "timeout": 5.0,
        "max_retries": 5,
        "max_retry_wait": 120.0,
        "requests_per_minute": 1000,
        "clock": clock,
    }
    return AdminApiClient(**{**settings, **overrides})


def users_requests(sim: Simulator) -> int:
    return sum(r.path == USERS for r in sim.requests)


@pytest.mark.parametrize(
    ("headers", "wait"),
    [({"retry-after": "7"}, 7.0), ({"retry-after": "0.5"}, 0.5), ({"retry-after-ms": "1500"}, 1.5)],
)
def test_429_waits_exactly_what_retry_after_says(
    sim: Simulator, clock: FakeClock, headers: dict[str, str], wait: float
) -> None:
    sim.add_fault(Fault(path=USERS, status=429, headers=headers))
    page = make_client(sim, clock).get(0, USERS).json()
    assert len(page["data"]) == 3
    assert clock.waits == [wait]
    assert users_requests(sim) == 2


def test_429_with_an_http_date(sim: Simulator, clock: FakeClock) -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    sim.add_fault(Fault(path=USERS, status=429, headers={"retry-after": when}))
    make_client(sim, clock).get(0, USERS)
    assert len(clock.waits) == 1
    assert 28.0 <= clock.waits[0] <= 30.0


def test_jitter_only_lengthens_a_retry_after_wait(sim: Simulator) -> None:
    clock = FakeClock(jitter_fraction=1.0)
    sim.clear_faults()
    sim.add_fault(Fault(path=USERS, status=429, headers={"retry-after": "8"}))
    make_client(sim, clock).get(0, USERS)
    assert clock.waits == [8.25]  # 8 s plus at most a quarter of a second


def test_retry_after_is_capped_by_max_retry_wait(sim: Simulator, clock: FakeClock) -> None:
    sim.add_fault(Fault(path=USERS, status=429, headers={"retry-after": "3600"}))
    make_client(sim, clock, max_retry_wait=10.0).get(0, USERS)
    assert clock.waits == [10.0]


def test_a_429_without_retry_after_gets_two_retries_then_a_clear_error(sim: Simulator, clock: FakeClock) -> None:
    sim.add_fault(Fault(path=USERS, status=429, times=None))
    with pytest.raises(ApiError) as error:
        make_client(sim, clock).get(0, USERS)
    assert clock.waits == [1.0, 2.0]
    assert users_requests(sim) == 3
    assert "HTTP 429 rate_limit_error" in str(error.value)
    assert "may have reached its spend limit" in str(error.value)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 529, 408])
def test_server_errors_back_off_exponentially(sim: Simulator, clock: FakeClock, status: int) -> None:
    sim.add_fault(Fault(path=USERS, status=status, times=3))
    assert len(make_client(sim, clock).get(0, USERS).json()["data"]) == 3
    assert clock.waits == [1.0, 2.0, 4.0]
    assert users_requests(sim) == 4


def test_retries_are_bounded(sim: Simulator, clock: FakeClock) -> None:
    sim.add_fault(Fault(path=USERS, status=529, times=None))
    with pytest.raises(ApiError, match="HTTP 529 overloaded_error"):
        make_client(sim, clock, max_retries=3).get(0, USERS)
    assert clock.waits == [1.0, 2.0, 4.0]
    assert users_requests(sim) == 4


def test_backoff_is_capped(sim: Simulator, clock: FakeClock) -> None:
    sim.add_fault(Fault(path=USERS, status=500, times=6))
    make_client(sim, clock, max_retries=6, max_retry_wait=5.0).get(0, USERS)
    assert clock.waits == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0]


@pytest.mark.parametrize("kind", ["reset", "truncate", "html"])
def test_broken_responses_are_retried(sim: Simulator, clock: FakeClock, kind: str) -> None:
    sim.add_fault(Fault(path=USERS, kind=kind, times=2))  # type: ignore[arg-type]
    assert len(make_client(sim, clock).get(0, USERS).json()["data"]) == 3
    assert clock.waits == [1.0, 2.0]


def test_a_read_timeout_is_retried(sim: Simulator, clock: FakeClock) -> None:
    sim.add_fault(Fault(path=USERS, kind="slow", delay=1.0))
    assert len(make_client(sim, clock, timeout=0.2).get(0, USERS).json()["data"]) == 3
    assert clock.waits == [1.0]


def test_a_non_json_200_is_retried(sim: Simulator, clock: FakeClock) -> None:
    sim.add_fault(Fault(path=USERS, status=200, body="<html>maintenance</html>"))
    assert len(make_client(sim, clock).get(0, USERS).json()["data"]) == 3
    assert clock.waits == [1.0]


@pytest.mark.parametrize(
    ("status", "hint"),
    [
        (400, ""),
        (401, "The key was revoked or is not an Admin key"),
        (403, "The key lacks permission for this endpoint."),
        (404, ""),
    ],
)
def test_client_errors_are_never_retried(sim: Simulator, clock: FakeClock, status: int, hint: str) -> None:
    sim.add_fault(Fault(path=USERS, status=status, times=None))
    with pytest.raises(ApiError) as error:
        make_client(sim, clock).get(0, USERS)
    assert clock.waits == []
    assert users_requests(sim) == 1
    assert error.value.status == status
    assert error.value.request_id
    assert f"(request_id {error.value.request_id})" in str(error.value)
    assert hint in str(error.value)


def test_x_should_retry_false_is_honoured(sim: Simulator, clock: FakeClock) -> None:
    sim.add_fault(Fault(path=USERS, status=500, headers={"x-should-retry": "false"}))
    with pytest.raises(ApiError):
        make_client(sim, clock).get(0, USERS)
    assert users_requests(sim) == 1


def test_organization_type_not_supported_names_the_next_step(sim: Simulator, clock: FakeClock) -> None:
    sim.add_fault(Fault(path=USERS, status=400, error_code="organization_type_not_supported"))
    with pytest.raises(ApiError) as error:
        make_client(sim, clock).get(0, USERS)
    assert error.value.error_code == "organization_type_not_supported"
    assert str(error.value).endswith("This stream does not exist for this organization type.")


def test_the_budget_allows_n_requests_in_any_rolling_minute() -> None:
    clock = FakeClock()
    budget = RequestBudget(3, clock)
    for _ in range(7):
        budget.acquire()
    assert clock.waits == [60.0, 60.0]  # 3 at t=0, 3 at t=60, the 7th at t=120


def test_a_retry_after_holds_every_request_to_that_organization() -> None:
    clock = FakeClock()
    budget = RequestBudget(100, clock)
    budget.hold_until(clock.now() + 12.5)
    budget.acquire()
    assert clock.waits == [12.5]


def test_the_system_clock_jitter_stays_within_a_quarter() -> None:
    jitters = [client_module.SYSTEM_CLOCK.jitter(8.0) for _ in range(500)]
    assert min(jitters) >= 0.0
    assert max(jitters) <= 2.0
