"""Kill the tap (SIGKILL) anywhere, re-run it with the last STATE it emitted: nothing is lost."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import typing as t
from pathlib import Path

import pytest

from tap_claude_developer.simulator import Fault, OrgSpec, Simulator

SPECS = [
    OrgSpec(
        "Acme", users=2300, invites=6, workspaces=3, members_per_workspace=4, api_keys=8, claude_code_rows_per_day=40
    ),
    OrgSpec("Globex", users=60, invites=4, workspaces=2, members_per_workspace=3, api_keys=5),
    OrgSpec("Initech", users=30, invites=2, workspaces=1, members_per_workspace=2, api_keys=3),
]
NOW = dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.timezone.utc)
#: Reports over a fixed window of the simulator's fixed clock, so every run sees the same data.
WINDOW = {"start_date": "2026-10-25", "end_date": NOW.isoformat()}
Message = dict[str, t.Any]
Trigger = t.Callable[[list[Message]], bool]


@pytest.fixture(scope="module")
def sim() -> t.Iterator[Simulator]:
    with Simulator(SPECS, seed=13, latency=0.005, now=NOW) as simulator:
        yield simulator


def start(sim: Simulator, tmp_path: Path, state: dict[str, t.Any] | None) -> subprocess.Popen[str]:
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps({"admin_api_keys": sim.admin_keys, "api_url": sim.url, "max_requests_per_minute": 10_000})
    )
    args = [sys.executable, "-m", "tap_claude_developer", "--config", str(config)]
    if state is not None:
        (tmp_path / "state.json").write_text(json.dumps(state))
        args += ["--state", str(tmp_path / "state.json")]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=os.environ.copy())


def run(
    sim: Simulator, tmp_path: Path, state: dict[str, t.Any] | None = None, kill_when: Trigger | None = None
) -> list[Message]:
    """Messages the tap emitted, up to the SIGKILL when ``kill_when`` says so."""
    process = start(sim, tmp_path, state)
    seen: list[Message] = []
    assert process.stdout is not None
    for line in process.stdout:
        seen.append(json.loads(line))
        if kill_when is not None and kill_when(seen):
            process.kill()
            break
    process.wait(timeout=60)
    if kill_when is None:
        assert process.returncode == 0
    else:
        assert process.returncode == -9, "the run ended before the kill point"
    return seen


def keyed_records(
    messages: list[Message], keys: dict[str, list[str]]
) -> dict[tuple[str, tuple[t.Any, ...]], dict[str, t.Any]]:
    """What a target that upserts on key_properties ends up holding."""
    table: dict[tuple[str, tuple[t.Any, ...]], dict[str, t.Any]] = {}
    for message in messages:
        if message["type"] == "RECORD":
            record = message["record"]
            table[(message["stream"], tuple(record[k] for k in keys[message["stream"]]))] = record
    return table


def last_state(messages: list[Message]) -> dict[str, t.Any] | None:
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    return states[-1] if states else None


def records_of(messages: list[Message]) -> int:
    return sum(m["type"] == "RECORD" for m in messages)


def records_of_stream(stream: str, count: int) -> Trigger:
    return lambda seen: sum(m["type"] == "RECORD" and m["stream"] == stream for m in seen) == count


def first_record_of_second_org(messages: list[Message]) -> bool:
    orgs = [m["record"]["organization_id"] for m in messages if m["type"] == "RECORD" and m["stream"] == "users"]
    return len(set(orgs)) == 2


KILL_POINTS: dict[str, Trigger] = {
    "early (after the first SCHEMA)": lambda seen: seen[-1]["type"] == "SCHEMA",
    "mid-page (500 users into a 1000-user page)": lambda seen: (
        sum(m["type"] == "RECORD" and m["stream"] == "users" for m in seen) == 500
    ),
    "between organizations": first_record_of_second_org,
    "between streams (after an ACTIVATE_VERSION)": lambda seen: (
        seen[-1]["type"] == "ACTIVATE_VERSION" and seen[-1]["stream"] == "invites"
    ),
    "inside an incremental report (Claude Code, day by day)": records_of_stream("claude_code_usage", 500),
    "inside messages_usage": records_of_stream("messages_usage", 100),
    "inside cost_report": records_of_stream("cost_report", 50),
}


@pytest.fixture(scope="module")
def clean(sim: Simulator, tmp_path_factory: pytest.TempPathFactory) -> list[Message]:
    return run(sim, tmp_path_factory.mktemp("clean"))


@pytest.mark.parametrize("point", KILL_POINTS)
def test_kill_and_resume_loses_nothing(sim: Simulator, clean: list[Message], tmp_path: Path, point: str) -> None:
    keys = {m["stream"]: m["key_properties"] for m in clean if m["type"] == "SCHEMA"}
    killed = run(sim, tmp_path, kill_when=KILL_POINTS[point])
    assert 0 < len(killed) < len(clean)
    resumed = run(sim, tmp_path, state=last_state(killed))
    downstream = keyed_records(killed + resumed, keys)
    assert downstream == keyed_records(clean, keys)
    assert records_of(clean) == len(keyed_records(clean, keys))  # the clean run itself has no duplicates
    assert last_state(resumed) == last_state(clean)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("moment", ["mid-stream", "waiting-on-a-retry"])
def test_a_signal_stops_the_run_at_once_and_exits_non_zero(
    sim: Simulator, tmp_path: Path, signum: signal.Signals, moment: str
) -> None:
    """The SDK's handler exits 0 and left fetch threads running (the process hung): neither may happen."""
    sim.clear_faults()
    if moment == "waiting-on-a-retry":  # every thread waits 30 s on this organization's retry-after
        sim.add_fault(Fault(path="/users$", org_index=0, status=429, headers={"retry-after": "30"}, times=None))
        ready = "Retrying in"
    else:
        sim.add_fault(Fault(path="/users$", kind="slow", delay=0.3, times=None))
        ready = "Beginning sync of 'users'"
    try:
        config = tmp_path / "config.json"
        config.write_text(json.dumps({"admin_api_keys": sim.admin_keys, "api_url": sim.url}))
        process = subprocess.Popen(
            [sys.executable, "-m", "tap_claude_developer", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stderr is not None
        lines = []
        for line in process.stderr:
            lines.append(line)
            if ready in line:
                break
        process.send_signal(signum)
        stopped_at = time.monotonic()
        _, rest = process.communicate(timeout=20)
        waited = time.monotonic() - stopped_at
    finally:
        sim.clear_faults()
    assert process.returncode == 128 + signum
    assert waited < 5, f"took {waited:.1f}s to stop"
    errors = [line for line in rest.splitlines() if "Stopped by signal" in line]
    assert len(errors) == 1
    assert errors[0].endswith(
        f"Stopped by signal {int(signum)}: the run did not complete; the next run resumes from the last STATE sent."
    )
    assert "Traceback" not in rest
