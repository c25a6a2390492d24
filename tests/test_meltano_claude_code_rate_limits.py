"""claude_code_usage, rate_limits and workspace_rate_limits through Meltano into PostgreSQL and CSV.

Three runs over the same window into one schema: a first load, an incremental re-run (the lookback
re-reads the last days) and a ``--full-refresh`` re-run of the whole window. Every run leaves the
same rows: the same keys, the same count, the same cents, to the last digit.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import typing as t
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from tap_claude_developer.simulator import OrgSpec, Simulator
from tap_claude_developer.simulator.claude_code import day_rows
from tap_claude_developer.simulator.rate_limits import org_limits, workspace_limits
from tap_claude_developer.tap import TapClaudeDeveloper
from tests.conftest import Meltano, explain, tap_env

pytestmark = pytest.mark.meltano

STREAMS = ("claude_code_usage", "rate_limits", "workspace_rate_limits")
KEYS: dict[str, tuple[str, ...]] = {
    "claude_code_usage": (
        "organization_id",
        "date",
        "actor_type",
        "actor_id",
        "terminal_type",
        "is_remote",
        "customer_type",
    ),
    "rate_limits": ("organization_id", "id"),
    "workspace_rate_limits": ("organization_id", "workspace_id", "rate_limit_id"),
}
SPECS = (
    OrgSpec("Acme", users=3, invites=0, workspaces=2, members_per_workspace=1, api_keys=0, claude_code_rows_per_day=9),
    OrgSpec(
        "Globex", users=3, invites=0, workspaces=3, members_per_workspace=1, api_keys=0, claude_code_rows_per_day=4
    ),
    OrgSpec(
        "Initech", users=3, invites=0, workspaces=1, members_per_workspace=1, api_keys=0, claude_code_rows_per_day=0
    ),
)
#: Seven complete days: every row has landed (a day is complete an hour after it ends).
TODAY = dt.datetime.now(dt.timezone.utc).date()
WINDOW = [TODAY - dt.timedelta(days=n) for n in range(8, 1, -1)]
SETTINGS = {"start_date": WINDOW[0].isoformat(), "end_date": (WINDOW[-1] + dt.timedelta(days=1)).isoformat()}


@pytest.fixture(scope="module")
def sim() -> t.Iterator[Simulator]:
    with Simulator(SPECS, seed=13) as simulator:
        yield simulator


def env(sim: Simulator, **extra: str) -> dict[str, str]:
    return {
        **tap_env(sim, **SETTINGS),
        "TAP_CLAUDE_DEVELOPER__SELECT": json.dumps([f"{s}.*" for s in STREAMS]),
        **extra,
    }


def served_usage(sim: Simulator) -> list[dict[str, t.Any]]:
    return [row | {"org": org.id} for org in sim.orgs for day in WINDOW for row in day_rows(org, sim.seed, day)]


def usage_key(row: dict[str, t.Any]) -> tuple[t.Any, ...]:
    actor = row["actor"]
    name = actor.get("email_address") or actor.get("api_key_name")
    when = dt.datetime.fromisoformat(row["date"].replace("Z", "+00:00")).replace(tzinfo=None)
    return (row["org"], when, actor["type"], name, row["terminal_type"], row["is_remote"], row["customer_type"])


def row_cents(row: dict[str, t.Any]) -> Decimal:
    return sum((Decimal(repr(m["estimated_cost"]["amount"])) for m in row["model_breakdown"]), Decimal(0))


def expected_keys(sim: Simulator) -> dict[str, set[tuple[t.Any, ...]]]:
    return {
        "claude_code_usage": {usage_key(row) for row in served_usage(sim)},
        "rate_limits": {(org.id, entry["id"]) for org in sim.orgs for entry in org_limits(org, sim.seed)},
        "workspace_rate_limits": {
            (org.id, ws["id"], entry["rate_limit_id"])
            for org in sim.orgs
            for ws in org.workspaces[1:]
            for entry in workspace_limits(org, sim.seed, ws["id"], include_inherited=True)
        },
    }


# --------------------------------------------------------------------------- PostgreSQL

Rows = dict[str, list[dict[str, t.Any]]]


@dataclass
class Loads:
    first: Rows
    incremental: Rows
    full_refresh: Rows
    column_types: dict[tuple[str, str], str]
    states: list[dict[str, t.Any]]


def snapshot(pg: t.Any, schema: str) -> Rows:
    from psycopg import sql
    from psycopg.rows import dict_row

    rows: Rows = {}
    with pg.cursor(row_factory=dict_row) as cursor:
        for table in STREAMS:
            cursor.execute(sql.SQL("SELECT * FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table)))
            rows[table] = list(cursor.fetchall())
    return rows


@pytest.fixture(scope="module")
def loads(sim: Simulator, meltano: Meltano, pg: t.Any, pg_schema: str) -> Loads:
    target = {"TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": pg_schema}
    snapshots: list[Rows] = []
    states: list[dict[str, t.Any]] = []
    for extra in ((), (), ("--full-refresh",)):
        result = meltano.run(
            *extra, "tap-claude-developer", "target-postgres", state_id_suffix=pg_schema, env=env(sim, **target)
        )
        assert result.returncode == 0, explain(result)
        snapshots.append(snapshot(pg, pg_schema))
        states.append(meltano.state("tap-claude-developer-to-target-postgres", pg_schema))
    column_types = {
        (table, column): data_type
        for table, column, data_type in pg.execute(
            "SELECT table_name, column_name, CASE WHEN data_type = 'ARRAY' THEN udt_name ELSE data_type END"
            " FROM information_schema.columns WHERE table_schema = %s",
            (pg_schema,),
        ).fetchall()
    }
    return Loads(*snapshots, column_types=column_types, states=states)


def keys_of(rows: Rows, table: str) -> list[tuple[t.Any, ...]]:
    return [tuple(row[column] for column in KEYS[table]) for row in rows[table]]


@pytest.mark.postgres
def test_every_run_holds_exactly_the_apis_rows(sim: Simulator, loads: Loads) -> None:
    want = expected_keys(sim)
    assert len(want["claude_code_usage"]) == 7 * (9 + 4)
    for rows in (loads.first, loads.incremental, loads.full_refresh):
        for table in STREAMS:
            keys = keys_of(rows, table)
            assert len(keys) == len(want[table]), f"{table}: duplicate or missing rows"
            assert set(keys) == want[table], table
            assert all(row["_sdc_deleted_at"] is None for row in rows[table]), table


@pytest.mark.postgres
def test_cents_and_dollars_are_exact_in_postgres(sim: Simulator, loads: Loads) -> None:
    served = {usage_key(row): row for row in served_usage(sim)}
    total = Decimal(0)
    for rows in (loads.first, loads.full_refresh):
        for record in rows["claude_code_usage"]:
            row = served[tuple(record[column] for column in KEYS["claude_code_usage"])]
            assert record["estimated_cost_cents"] == row_cents(row)
            assert record["estimated_cost_usd"] * 100 == row_cents(row)
            assert record["model_breakdown"][0]["model"] == row["model_breakdown"][0]["model"]
            assert record["tool_actions"] == row["tool_actions"]
    for row in served.values():
        total += row_cents(row)
    assert sum(r["estimated_cost_cents"] for r in loads.full_refresh["claude_code_usage"]) == total
    assert total != total.to_integral_value()


@pytest.mark.postgres
def test_column_types(loads: Loads) -> None:
    types = loads.column_types
    assert types[("claude_code_usage", "date")] == "timestamp without time zone"
    assert types[("claude_code_usage", "is_remote")] == "boolean"
    for column in ("estimated_cost_cents", "estimated_cost_usd"):
        assert types[("claude_code_usage", column)] == "numeric", column
    for column in ("num_sessions", "lines_added", "input_tokens", "edit_tool_accepted"):
        assert types[("claude_code_usage", column)] == "bigint", column
    for column in ("actor", "core_metrics", "tool_actions"):
        assert types[("claude_code_usage", column)] == "jsonb", column
    assert types[("claude_code_usage", "model_breakdown")] == "_jsonb"  # an array of objects: jsonb[]
    for table in ("rate_limits", "workspace_rate_limits"):
        assert types[(table, "group")] == "jsonb"
        assert types[(table, "limits")] == "_jsonb"
        assert types[(table, "models")] == "_text"
        assert types[(table, "group_type")] == "text"


@pytest.mark.postgres
def test_bookmarks_are_the_last_day_of_the_window(sim: Simulator, loads: Loads) -> None:
    last = f"{WINDOW[-1].isoformat()}T00:00:00Z"
    for state in loads.states:
        partitions = state["singer_state"]["bookmarks"]["claude_code_usage"]["partitions"]
        assert {p["context"]["organization_id"]: p["replication_key_value"] for p in partitions} == {
            org.id: last for org in sim.orgs
        }


# --------------------------------------------------------------------------- CSV


@pytest.fixture(scope="module")
def csv_files(sim: Simulator, meltano: Meltano, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("csv")
    # Meltano keeps state between test sessions: a suffix of its own, or this run would resume an older one.
    suffix = f"csv-{uuid.uuid4().hex[:12]}"
    result = meltano.run(
        "tap-claude-developer", "target-csv", state_id_suffix=suffix, env=env(sim, TARGET_CSV_OUTPUT_PATH=str(out))
    )
    assert result.returncode == 0, explain(result)
    return {path.stem: path for path in out.glob("*.csv")}


def read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def test_csv_columns_are_the_schemas_and_readable(sim: Simulator, csv_files: dict[str, Path]) -> None:
    assert set(csv_files) == set(STREAMS)
    schemas = TapClaudeDeveloper(config={"admin_api_keys": sim.admin_keys}, parse_env_config=False).streams
    for stream in STREAMS:
        header, rows = read(csv_files[stream])
        assert header == list(schemas[stream].schema["properties"]), stream  # no nested object is split up
        assert len(rows) == len(expected_keys(sim)[stream]), stream


def test_csv_values_are_exact_and_json(sim: Simulator, csv_files: dict[str, Path]) -> None:
    served = {usage_key(row): row for row in served_usage(sim)}
    _, rows = read(csv_files["claude_code_usage"])
    for cell in rows:
        when = dt.datetime.fromisoformat(cell["date"].replace("Z", "+00:00"))
        assert when.utcoffset() == dt.timedelta(0)
        key = (
            cell["organization_id"],
            when.replace(tzinfo=None),
            cell["actor_type"],
            cell["actor_id"],
            cell["terminal_type"],
            cell["is_remote"] == "True",
            cell["customer_type"],
        )
        row = served[key]
        assert Decimal(cell["estimated_cost_cents"]) == row_cents(row)
        assert Decimal(cell["estimated_cost_usd"]) * 100 == row_cents(row)
        assert json.loads(cell["tool_actions"]) == row["tool_actions"]
        models = json.loads(cell["model_breakdown"], parse_float=Decimal)
        assert [m["estimated_cost"]["amount"] for m in models] == [
            Decimal(repr(m["estimated_cost"]["amount"])) for m in row["model_breakdown"]
        ]
    _, limits = read(csv_files["workspace_rate_limits"])
    for cell in limits:
        assert cell["group_type"] in {"model_group", "batch", "files", "skills", "token_count", "web_search"}
        assert {limit["source"]["type"] for limit in json.loads(cell["limits"])} <= {"workspace", "organization"}
