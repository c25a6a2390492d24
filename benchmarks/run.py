"""How fast and how lean the tap is, against the simulator: figures printed, nothing asserted.

    python benchmarks/run.py           # the issue's scenario: 10 organizations, 50 ms a request (~10 min)
    python benchmarks/run.py --quick   # a small size, for CI's smoke test (~1 min)

Every figure is a ratio of two measurements taken in this same run on this machine:

1. requests made / the minimum the API's page sizes allow for the data the simulator holds;
2. wall time / the floor that the requests, the latency and the concurrency impose;
3. wall time of a baseline (concurrency 1, pages of 20: a template tap) / the default's;
4. records a second at zero latency / records a second of the SDK's msgspec writer alone;
5. peak memory (RSS) syncing the small / the large number of messages_usage records.

The simulator runs in its own process (the tap's CPU is not shared with it) and, for figures 1-4,
keeps every answer after serving it once, so generating reports is paid for by a warm-up run.
The per-organization request budget is set out of reach (1,000,000 a minute): at the documented
100 a minute every configuration would wait on the budget, and this measures the tap.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import multiprocessing as mp
import os
import platform
import subprocess
import sys
import tempfile
import time
import typing as t
from dataclasses import dataclass
from pathlib import Path

NOW = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)  # the simulator's clock; windows end here
MAX_PAGE = 1000
UNLIMITED = 1_000_000  # requests a minute per organization


@dataclass(frozen=True)
class Scenario:
    orgs: int
    users: int
    invites: int
    workspaces: int
    members: int
    api_keys: int
    days: int
    claude_code_rows: int
    usage_events: int
    latency: float
    #: The memory runs: (organizations, days of usage) small and large, and usage events a day.
    #: Both fill the window of chains read ahead, with pages of the same size (one org-month
    #: each), so what differs is only how many records stream through.
    memory_small: tuple[int, int]
    memory_large: tuple[int, int]
    memory_events: int


FULL = Scenario(10, 2500, 300, 20, 50, 500, 90, 1200, 24, 0.05, (10, 31), (50, 720), 45)
QUICK = Scenario(2, 250, 30, 3, 5, 50, 10, 1200, 24, 0.01, (2, 31), (4, 200), 45)


# --------------------------------------------------------------------------- the simulator process


def _serve(scenario: Scenario, memory: tuple[int, int] | None, conn: t.Any) -> None:
    """Child process: a simulator for the scenario (or a memory run), driven through ``conn``."""
    from tap_claude_developer.simulator import OrgSpec, Simulator

    if memory is None:
        spec = OrgSpec(
            "Org",
            users=scenario.users,
            invites=scenario.invites,
            workspaces=scenario.workspaces,
            members_per_workspace=scenario.members,
            api_keys=scenario.api_keys,
            claude_code_rows_per_day=scenario.claude_code_rows,
            usage_events_per_day=scenario.usage_events,
        )
        specs = [
            OrgSpec(f"Org {i + 1}", **{k: getattr(spec, k) for k in spec.__dataclass_fields__ if k != "name"})
            for i in range(scenario.orgs)
        ]
        sim = Simulator(specs, seed=5, now=NOW, cache_responses=True)
    else:
        specs = [
            OrgSpec(
                f"Org {i + 1}",
                users=5,
                invites=0,
                workspaces=1,
                members_per_workspace=1,
                api_keys=2,
                usage_events_per_day=scenario.memory_events,
            )
            for i in range(memory[0])
        ]
        sim = Simulator(specs, seed=5, now=NOW)
    sim.start()
    conn.send((sim.url, sim.admin_keys, _minimum(sim, scenario) if memory is None else 0))
    while True:
        command, *args = conn.recv()
        if command == "latency":
            sim.latency = args[0]
        elif command == "requests":
            conn.send(len(sim.requests))
            sim.clear_requests()
        elif command == "stop":
            sim.stop()
            conn.send(None)
            return


def _minimum(sim: t.Any, scenario: Scenario) -> int:
    """The fewest requests that read everything the simulator holds, at the API's largest pages."""
    from tap_claude_developer.simulator.claude_code import day_rows

    def pages(count: int) -> int:
        return max(1, math.ceil(count / MAX_PAGE))

    first_day = (NOW - dt.timedelta(days=scenario.days)).date()
    days = [first_day + dt.timedelta(days=n) for n in range(scenario.days)]
    total = 0
    for org in sim.orgs:
        total += 1  # /me
        total += pages(len(org.users)) + pages(len(org.invites)) + pages(len(org.workspaces)) + pages(len(org.api_keys))
        # members and workspace rate limits: one list per workspace (the Default one answers 404)
        total += sum(pages(len(org.members.get(ws["id"], []))) for ws in org.workspaces)
        total += 1 + len(org.workspaces)  # rate_limits, workspace_rate_limits
        total += 2 * math.ceil(scenario.days / 31)  # messages_usage (daily buckets) and cost_report
        total += sum(pages(len(day_rows(org, sim.seed, day, NOW))) for day in days)  # claude_code_usage
    return total


class Simulator:
    """The parent's handle on a simulator process."""

    def __init__(self, scenario: Scenario, memory: tuple[int, int] | None = None) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(target=_serve, args=(scenario, memory, child), daemon=True)
        self._process.start()
        self.url, self.keys, self.minimum = self._conn.recv()

    def latency(self, seconds: float) -> None:
        self._conn.send(("latency", seconds))

    def requests(self) -> int:
        """Requests served since the last call."""
        self._conn.send(("requests",))
        return int(self._conn.recv())

    def stop(self) -> None:
        self._conn.send(("stop",))
        self._conn.recv()
        self._process.join(timeout=10)


# --------------------------------------------------------------------------- running the tap


@dataclass(frozen=True)
class Result:
    wall: float
    peak_mb: float
    records: int
    output: Path


def run_tap(
    config: dict[str, t.Any], work: Path, name: str, streams: list[str] | None = None, *, keep: bool = False
) -> Result:
    """One run of the tap in its own process, stdout to a file; wall time and peak RSS of that process.

    The output (gigabytes in the full scenario) is deleted once counted, unless ``keep``.
    """
    config_path = work / f"{name}.config.json"
    config_path.write_text(json.dumps(config))
    args = [sys.executable, "-m", "tap_claude_developer", "--config", str(config_path)]
    if streams is not None:
        args += ["--catalog", str(_catalog(config_path, streams, work / f"{name}.catalog.json"))]
    output = work / f"{name}.jsonl"
    os.sync()  # the gigabytes an earlier run wrote must not be flushed to disk during this one
    with output.open("wb") as out, (work / f"{name}.log").open("wb") as log:
        start = time.perf_counter()
        process = subprocess.Popen(args, stdout=out, stderr=log)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
    if status != 0:
        sys.exit(f"benchmark: the tap failed in run '{name}' (see {work / name}.log)")
    with output.open("rb") as lines:
        records = sum(line.startswith(b'{"type":"RECORD"') for line in lines)
    if not keep:
        output.unlink()
    return Result(wall, usage.ru_maxrss / 1024, records, output)


def _catalog(config_path: Path, streams: list[str], path: Path) -> Path:
    found = subprocess.run(
        [sys.executable, "-m", "tap_claude_developer", "--config", str(config_path), "--discover"],
        capture_output=True,
        check=True,
    )
    catalog = json.loads(found.stdout)
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in streams
    path.write_text(json.dumps(catalog))
    return path


RAW_WRITER = """
import sys, time
import msgspec
from decimal import Decimal
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import RecordMessage
decoder = msgspec.json.Decoder(float_hook=Decimal)
records = [decoder.decode(line) for line in open(sys.argv[1], "rb") if line.startswith(b'{"type":"RECORD"')]
records = [(m["stream"], m["record"]) for m in records]
sys.stdout = open(sys.argv[2], "w")
writer = MsgSpecWriter()
start = time.perf_counter()
for stream, record in records:
    writer.write_message(RecordMessage(stream=stream, record=record))
sys.stdout.flush()
print(len(records) / (time.perf_counter() - start), file=sys.stderr)
"""


def raw_writer_rate(output: Path, work: Path) -> float:
    """Records a second of the SDK's msgspec writer writing the same records to a file."""
    done = subprocess.run(
        [sys.executable, "-c", RAW_WRITER, str(output), str(work / "raw.jsonl")], capture_output=True, check=True
    )
    (work / "raw.jsonl").unlink()
    return float(done.stderr.decode().strip().splitlines()[-1])


# --------------------------------------------------------------------------- the figures


def machine() -> str:
    memory = next(
        (line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")), "0"
    )
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, {int(memory) // 1024 // 1024} GiB, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a small size, for a smoke test")
    parser.add_argument("--orgs", type=int, help="organizations in the main scenario")
    parser.add_argument("--latency", type=float, help="seconds added to every request (default 0.05)")
    options = parser.parse_args()
    scenario = QUICK if options.quick else FULL
    if options.orgs:
        scenario = Scenario(**{**scenario.__dict__, "orgs": options.orgs})
    if options.latency is not None:
        scenario = Scenario(**{**scenario.__dict__, "latency": options.latency})

    from tap_claude_developer.settings import SETTINGS

    concurrency = SETTINGS["properties"]["concurrency"]["default"]
    print(f"machine: {machine()}")
    print(
        f"scenario: {scenario.orgs} organizations x {scenario.users} users, {scenario.invites} invites, "
        f"{scenario.workspaces} workspaces x {scenario.members} members, {scenario.api_keys} API keys, "
        f"{scenario.days} days of daily usage (default group-by) and cost, {scenario.days} days of Claude Code "
        f"({scenario.claude_code_rows} rows: 2 pages a day), rate limits; {scenario.latency * 1000:.0f} ms a request; "
        f"default concurrency {concurrency}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="tap-bench-") as tmp:
        work = Path(tmp)
        sim = Simulator(scenario)
        base = {
            "admin_api_keys": sim.keys,
            "api_url": sim.url,
            "max_requests_per_minute": UNLIMITED,
            "start_date": (NOW - dt.timedelta(days=scenario.days)).date().isoformat(),
            "end_date": NOW.isoformat(),
        }
        try:
            sim.latency(0)
            run_tap(base, work, "warm-up")
            sim.requests()
            idle = run_tap(base, work, "startup", streams=[])
            fast = run_tap(base, work, "zero-latency", keep=True)
            sim.requests()
            raw_rate = raw_writer_rate(fast.output, work)
            fast.output.unlink()
            sim.latency(scenario.latency)
            default = run_tap(base, work, "default")
            requests = sim.requests()
            baseline = run_tap({**base, "concurrency": 1, "page_size": 20}, work, "baseline")
            baseline_requests = sim.requests()
        finally:
            sim.stop()

        floor = requests * scenario.latency / concurrency
        tap_rate = fast.records / max(fast.wall - idle.wall, 1e-9)
        print(f"records: {default.records:,} in {requests:,} requests (baseline: {baseline_requests:,} requests)")
        print(f"1. requests made / minimum: {requests:,} / {sim.minimum:,} = {requests / sim.minimum:.2f}")
        print(
            f"2. wall / floor: {default.wall:.1f} s / {floor:.1f} s = {default.wall / floor:.2f} "
            f"(floor = {requests:,} requests x {scenario.latency * 1000:.0f} ms / concurrency {concurrency})"
        )
        print(
            f"3. baseline / default wall: {baseline.wall:.1f} s / {default.wall:.1f} s = "
            f"{baseline.wall / default.wall:.1f}x"
        )
        print(
            f"4. records/s at zero latency / raw msgspec writer: {tap_rate:,.0f} / {raw_rate:,.0f} = "
            f"{tap_rate / raw_rate:.2f} ({fast.records:,} records in {fast.wall - idle.wall:.1f} s after "
            f"{idle.wall:.1f} s of start-up)",
            flush=True,
        )

        peaks = []
        for orgs, days in (scenario.memory_small, scenario.memory_large):
            memory_sim = Simulator(scenario, memory=(orgs, days))
            config = {
                "admin_api_keys": memory_sim.keys,
                "api_url": memory_sim.url,
                "max_requests_per_minute": UNLIMITED,
                "start_date": (NOW - dt.timedelta(days=days)).date().isoformat(),
                "end_date": NOW.isoformat(),
            }
            try:
                peaks.append(run_tap(config, work, f"memory-{orgs}-{days}", streams=["messages_usage"]))
            finally:
                memory_sim.stop()
        small, large = peaks
        print(
            f"5. peak memory, {small.records:,} / {large.records:,} messages_usage records: "
            f"{small.peak_mb:.1f} MB / {large.peak_mb:.1f} MB; large / small = {large.peak_mb / small.peak_mb:.2f}"
        )


if __name__ == "__main__":
    main()
