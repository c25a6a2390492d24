"""Concurrency changes only the time: the same messages in the same order, within the request budget."""

from __future__ import annotations

import collections
import datetime as dt
import random
import typing as t

import pytest

from tap_claude_developer import client as client_module
from tap_claude_developer.client import RequestBudget
from tap_claude_developer.simulator import Fault, OrgSpec, Simulator
from tap_claude_developer.tap import TapClaudeDeveloper
from tests.fakes import FakeClock
from tests.helpers import DIRECTORY, Run, config_for, run_tap

SPECS = [
    OrgSpec(
        "Acme", users=2100, invites=40, workspaces=6, members_per_workspace=5, api_keys=30, claude_code_rows_per_day=30
    ),
    OrgSpec("Globex", users=300, invites=12, workspaces=4, members_per_workspace=4, api_keys=12),
    OrgSpec("Initech", users=80, invites=5, workspaces=3, members_per_workspace=3, api_keys=6),
    OrgSpec("Umbrella", users=10, invites=1, workspaces=1, members_per_workspace=2, api_keys=2),
]
NOW = dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.timezone.utc)
#: Every stream, the opt-in Analytics ones included, over a fixed window of the simulator's clock.
EVERYTHING = {"start_date": "2026-10-01", "end_date": NOW.isoformat()}


def comparable(run: Run) -> list[dict[str, t.Any]]:
    """Every message, minus what is the clock's by definition (extraction time, table version)."""
    return [{k: v for k, v in m.items() if k not in ("time_extracted", "version")} for m in run.messages]


@pytest.fixture(scope="module")
def sim() -> t.Iterator[Simulator]:
    with Simulator(SPECS, seed=17, now=NOW) as simulator:
        yield simulator


def jitter_faults(sim: Simulator, seed: int) -> None:
    """Slow down random requests so that chains finish in a different order each time."""
    rng = random.Random(seed)
    sim.clear_faults()
    for path in (
        "/users$",
        "/invites$",
        "/members$",
        "/api_keys$",
        "/workspaces$",
        "/me$",
        "/usage_report/",
        "/cost_report$",
        "/rate_limits$",
        "/analytics/",
    ):
        for org_index in range(len(SPECS)):
            sim.add_fault(Fault(path=path, kind="slow", delay=rng.random() * 0.03, org_index=org_index, times=None))


def test_output_is_identical_at_concurrency_1_4_and_16(sim: Simulator) -> None:
    streams = list(TapClaudeDeveloper(config=config_for(sim), parse_env_config=False).streams)
    runs = {}
    for seed, concurrency in enumerate((1, 4, 16)):
        jitter_faults(sim, seed)
        config = config_for(sim, concurrency=concurrency, page_size=100, **EVERYTHING)
        run = run_tap(config, streams=streams)
        assert run.failures == []
        runs[concurrency] = comparable(run)
    assert {m["stream"] for m in runs[1] if m["type"] == "RECORD"} == set(streams)  # every stream had rows
    assert len(runs[1]) > 4000
    assert runs[4] == runs[1]
    assert runs[16] == runs[1]


def test_requests_really_overlap(sim: Simulator) -> None:
    sim.clear_faults()
    sim.add_fault(Fault(path="/members$", kind="slow", delay=0.2, times=None))
    sim.clear_requests()
    run_tap(config_for(sim, concurrency=16), streams=["workspace_members"])
    members = sorted(r.time for r in sim.requests if r.path.endswith("/members"))
    assert len(members) == sum(spec.workspaces + 1 for spec in SPECS)  # each org's Default Workspace too
    # 18 member lists of 0.2 s each: one after the other that would take 3.6 s.
    assert members[-1] - members[0] < 1.0


def test_the_per_organization_budget_holds_under_any_concurrency(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    monkeypatch.setattr(client_module, "SYSTEM_CLOCK", clock)
    sent: dict[int, list[float]] = collections.defaultdict(list)
    original = RequestBudget.acquire

    def acquire(self: RequestBudget) -> None:
        original(self)
        sent[id(self)].append(clock.now())

    monkeypatch.setattr(RequestBudget, "acquire", acquire)
    sim.clear_faults()
    run = run_tap(config_for(sim, concurrency=16, page_size=50, max_requests_per_minute=12), streams=DIRECTORY)
    assert run.failures == []
    assert len(sent) == len(SPECS)
    for times in sent.values():
        times.sort()
        assert all(later - earlier >= 60 for earlier, later in zip(times, times[12:], strict=False))
    assert max(len(times) for times in sent.values()) > 12  # the budget had to hold requests back


def test_a_retry_after_pauses_every_thread_of_that_organization(sim: Simulator) -> None:
    """16 threads on one organization's Claude Code days: after its 429, none of them sends until it is over."""
    path = "/v1/organizations/usage_report/claude_code"
    sim.clear_faults()
    sim.clear_requests()
    sim.add_fault(Fault(path=path, org_index=0, after=5, status=429, headers={"retry-after": "1"}))
    sim.add_fault(Fault(path=path, kind="slow", delay=0.05, times=None))
    try:
        run = run_tap(
            config_for(sim, concurrency=16, start_date="2026-10-20", end_date=NOW.isoformat()),
            streams=["claude_code_usage"],
        )
    finally:
        sim.clear_faults()
    assert run.failures == []
    acme = sorted((r.time, r.status) for r in sim.requests if r.path == path and r.org_id == sim.orgs[0].id)
    assert [status for _, status in acme].count(429) == 1
    held = next(moment for moment, status in acme if status == 429)
    # Requests already on their way when the 429 arrived may land just after it; then nothing for a second.
    assert [moment for moment, _ in acme if held + 0.3 < moment < held + 1.0] == []
    assert len(acme) == 32 + 1  # every day from 10-20 to 11-20 once, and the one answered 429 again
    clean = run_tap(config_for(sim, start_date="2026-10-20", end_date=NOW.isoformat()), streams=["claude_code_usage"])
    assert run.records("claude_code_usage") == clean.records("claude_code_usage") != []
