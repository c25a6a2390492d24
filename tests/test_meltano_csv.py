"""``meltano run tap-claude-developer target-csv`` against the simulator: one readable CSV per stream.

target-csv writes ``str(value)`` for whatever it gets, so a nested object or list would land as a
Python repr (``{'team': 'platform'}``, ``['us']``). meltano.yml turns on the target's flattening
(depth 1): fixed-shape objects become ``parent__child`` columns, and lists and free-form objects JSON text.
"""

from __future__ import annotations

import csv
import json
import re
import typing as t
from dataclasses import dataclass
from pathlib import Path

import pytest

from tap_claude_developer.simulator import Simulator
from tap_claude_developer.tap import TapClaudeDeveloper
from tests.conftest import Meltano, explain, tap_env

pytestmark = pytest.mark.meltano

#: Python reprs of scalars; a list or an object must be JSON text (a repr such as ['a'] is not JSON).
#: target-csv writes every boolean as True/False: accepted in boolean columns only.
PYTHON_REPR = re.compile(r"^(None|True|False)$|^datetime\.|^Decimal\(")


@dataclass
class Output:
    sim: Simulator
    files: dict[str, Path]
    schemas: dict[str, dict[str, t.Any]]

    def read(self, stream: str) -> tuple[list[str], list[dict[str, str]]]:
        with self.files[stream].open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            rows = list(reader)
            return list(reader.fieldnames or []), rows


@pytest.fixture(scope="module")
def output(simulator: Simulator, meltano: Meltano, tmp_path_factory: pytest.TempPathFactory) -> Output:
    out = tmp_path_factory.mktemp("csv")
    env = {**tap_env(simulator), "TARGET_CSV_OUTPUT_PATH": str(out)}
    result = meltano.run("tap-claude-developer", "target-csv", state_id_suffix=out.name, env=env)
    assert result.returncode == 0, explain(result)
    tap = TapClaudeDeveloper(config={"admin_api_keys": simulator.admin_keys}, parse_env_config=False)
    # meltano.yml selects every stream but the opt-in ones (analytics_usage, analytics_cost).
    schemas = {name: stream.schema for name, stream in tap.streams.items() if stream.selected_by_default}
    return Output(simulator, {path.stem: path for path in out.glob("*.csv")}, schemas)


def expected_counts(sim: Simulator) -> dict[str, int]:
    return {
        "organizations": len(sim.orgs),
        "users": sum(len(org.users) for org in sim.orgs),
        "invites": sum(len(org.invites) for org in sim.orgs),
        "workspaces": sum(len(org.workspaces) for org in sim.orgs),
        "workspace_members": sum(len(members) for org in sim.orgs for members in org.members.values()),
        "api_keys": sum(len(org.api_keys) for org in sim.orgs),
    }


def expected_header(schema: dict[str, t.Any]) -> list[str]:
    """Flattening at depth 1: an object with declared properties becomes one column per property."""
    columns: list[str] = []
    for name, prop in schema["properties"].items():
        children = prop.get("properties") if "object" in prop.get("type", []) else None
        if children:
            columns += [f"{name}__{child}" for child in children]
        else:
            columns.append(name)
    return columns


def test_one_csv_per_stream(output: Output) -> None:
    assert set(output.files) == set(output.schemas)


def test_exact_row_counts(output: Output) -> None:
    for stream, count in expected_counts(output.sim).items():
        _, rows = output.read(stream)
        assert len(rows) == count, stream


def test_header_columns(output: Output) -> None:
    for stream, schema in output.schemas.items():
        header, _ = output.read(stream)
        assert header == expected_header(schema), stream


def test_no_python_repr_anywhere(output: Output) -> None:
    for stream in output.files:
        _, rows = output.read(stream)
        properties = output.schemas[stream]["properties"]
        booleans = {name for name, prop in properties.items() if "boolean" in prop.get("type", [])}
        for row in rows:
            for column, cell in row.items():
                where = f"{stream}.{column} holds a Python repr: {cell!r}"
                if column in booleans and cell in ("True", "False"):
                    continue
                assert not PYTHON_REPR.search(cell), where
                if cell[:1] in ("[", "{", "("):
                    try:
                        json.loads(cell)
                    except ValueError:
                        pytest.fail(where)


def test_nested_values_are_json_or_columns(output: Output) -> None:
    """Workspace tags and data residency round-trip as JSON (allowed_inference_geos: a list or a word)."""
    served = {ws["id"]: ws for org in output.sim.orgs for ws in org.workspaces}
    _, rows = output.read("workspaces")
    seen_list = seen_word = False
    for row in rows:
        workspace = served[row["id"]]
        assert json.loads(row["tags"]) == workspace["tags"]
        residency = json.loads(row["data_residency"])
        assert residency == workspace["data_residency"]
        if isinstance(residency["allowed_inference_geos"], list):
            seen_list = True
        else:
            assert residency["allowed_inference_geos"] == "unrestricted"
            seen_word = True
    assert seen_list
    assert seen_word
    _, invites = output.read("invites")
    assert all(isinstance(json.loads(row["rbac_group_ids"]), list) for row in invites)


def test_ids_match_the_api(output: Output) -> None:
    _, users = output.read("users")
    assert {(row["organization_id"], row["id"]) for row in users} == {
        (org.id, user["id"]) for org in output.sim.orgs for user in org.users
    }
