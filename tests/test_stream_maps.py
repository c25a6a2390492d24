"""Stream maps and flattening (SDK capabilities the tap declares) against the simulator.

Records of unmapped streams skip the SDK's message objects; these tests pin that a map, an
alias, a filter, a removed property or flattening still takes the SDK's own path, and that the
plain path writes exactly the messages the SDK would.
"""

from __future__ import annotations

import json
import subprocess
import sys
import typing as t

import pytest

from tap_claude_developer.simulator import OrgSpec, Simulator
from tests.helpers import config_for, run_tap

SPECS = [OrgSpec("Acme", users=4, invites=1, workspaces=2, members_per_workspace=2, api_keys=2)]
STREAMS = ["users", "workspaces"]


@pytest.fixture(scope="module")
def sim() -> t.Iterator[Simulator]:
    with Simulator(SPECS, seed=3) as simulator:
        yield simulator


def test_plain_records_are_the_messages_the_sdk_would_write(sim: Simulator) -> None:
    run = run_tap(config_for(sim), streams=STREAMS)
    records = run.of_type("RECORD")
    assert [m["stream"] for m in records] == ["users"] * 4 + ["workspaces"] * 3  # 2 + the Default Workspace
    for message in records:
        # RecordMessage.to_dict(): type, stream, record, time_extracted in UTC (no version: full table
        # streams carry one only with emit_activate_version_messages, which is on by default).
        assert list(message) == ["type", "stream", "record", "version", "time_extracted"]
        assert message["time_extracted"].endswith("Z")
    assert [r["email"] for r in run.records("users")] == [u["email"] for u in sim.orgs[0].users]


def test_without_activate_version_records_carry_no_version(sim: Simulator) -> None:
    run = run_tap(config_for(sim, emit_activate_version_messages=False), streams=["users"])
    assert {tuple(m) for m in run.of_type("RECORD")} == {("type", "stream", "record", "time_extracted")}


def test_a_map_aliases_filters_and_computes(sim: Simulator) -> None:
    users = sim.orgs[0].users
    keep = users[1]["email"]
    maps = {
        "users": {
            "__alias__": "people",
            "__filter__": f"email == '{keep}'",
            "email_domain": "email.split('@')[1]",
            "name": "__NULL__",
        }
    }
    run = run_tap(config_for(sim, stream_maps=maps), streams=STREAMS)
    assert run.records("users") == []
    people = run.records("people")
    assert people == [
        {
            "id": users[1]["id"],
            "type": "user",
            "email": keep,
            "role": users[1]["role"],
            "added_at": users[1]["added_at"],
            "organization_id": sim.orgs[0].id,
            "email_domain": keep.split("@")[1],
        }
    ]
    schema = next(m for m in run.of_type("SCHEMA") if m["stream"] == "people")["schema"]
    assert "name" not in schema["properties"]
    assert len(run.records("workspaces")) == 3  # other streams untouched


def test_else_null_drops_every_unmapped_stream(sim: Simulator) -> None:
    maps = {"users": {}, "__else__": "__NULL__"}
    run = run_tap(config_for(sim, stream_maps=maps), streams=STREAMS)
    assert len(run.records("users")) == 4
    assert run.records("workspaces") == []


def test_flattening_writes_free_form_objects_as_json_text(sim: Simulator) -> None:
    """Objects kept whole (no declared properties) flatten to compact JSON text, as target-csv needs."""
    run = run_tap(config_for(sim, flattening_enabled=True, flattening_max_depth=1), streams=["workspaces"])
    workspaces = sim.orgs[0].workspaces
    records = run.records("workspaces")
    assert [r["id"] for r in records] == [w["id"] for w in workspaces]
    for record, workspace in zip(records, workspaces, strict=True):
        assert record["data_residency"] == json.dumps(workspace["data_residency"], separators=(",", ":"))
        assert record["tags"] == json.dumps(workspace["tags"], separators=(",", ":"))


@pytest.mark.parametrize(
    ("maps", "line"),
    [
        ({"users": {"email": "((("}}, "stream_maps: Failed to parse expression (((."),
        (
            {"users": {"email": "1/0"}},
            "stream_maps: stream 'users': an expression failed on a record (ZeroDivisionError: division by zero)",
        ),
        (
            {"users": {"__filter__": "nonexistent_var > 1"}},
            "stream_maps: Failed to evaluate simpleeval expressions nonexistent_var > 1.",
        ),
    ],
)
def test_a_broken_stream_map_is_one_clear_line(
    sim: Simulator, tmp_path: t.Any, maps: dict[str, t.Any], line: str
) -> None:
    """Found by attack: a bad expression ended the run in a Python traceback."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**config_for(sim), "stream_maps": maps}))
    done = subprocess.run(
        [sys.executable, "-m", "tap_claude_developer", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1].endswith(f"| {line}")
