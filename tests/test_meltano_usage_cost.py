"""``meltano run`` of messages_usage and cost_report into PostgreSQL and CSV, against a simulator with a fixed clock.

PostgreSQL: one load, then the same window again from no state, then an incremental run from the
first run's bookmarks; the row counts never change (the target upserts on the primary key) and the
cost amounts are NUMERIC with every digit the API sent. CSV: one readable file per stream.
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

from tap_claude_developer.simulator import Simulator
from tap_claude_developer.tap import TapClaudeDeveloper
from tests.conftest import THREE_ORGS, Meltano, explain, tap_env
from tests.test_usage_cost import expected_cost, expected_usage

pytestmark = pytest.mark.meltano

#: Long before any real clock this runs on: the tap's own clock (now) never cuts the window short.
NOW = dt.datetime(2026, 10, 8, 12, 0, tzinfo=dt.timezone.utc)
START, END = dt.datetime(2026, 9, 1, tzinfo=dt.timezone.utc), dt.datetime(2026, 10, 5, tzinfo=dt.timezone.utc)
STREAMS = ("messages_usage", "cost_report")
KEY = ("organization_id", "bucket_width", "starting_at", "group_key")


@pytest.fixture(scope="module")
def sim() -> t.Iterator[Simulator]:
    with Simulator(THREE_ORGS, seed=7, now=NOW) as simulator:
        yield simulator


def env_for(sim: Simulator, **extra: str) -> dict[str, str]:
    return {
        **tap_env(sim, start_date="2026-09-01", end_date="2026-10-05", lookback_days=2),
        "TAP_CLAUDE_DEVELOPER__SELECT": json.dumps([f"{stream}.*" for stream in STREAMS]),
        **extra,
    }


def moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def digits(amount: Decimal) -> str:
    """A decimal as the API writes it: no exponent, no trailing zeros."""
    return format(amount.normalize(), "f")


# --------------------------------------------------------------------------- PostgreSQL

Rows = dict[str, list[dict[str, t.Any]]]


def snapshot(pg: t.Any, schema: str) -> Rows:
    from psycopg import sql
    from psycopg.rows import dict_row

    rows: Rows = {}
    with pg.cursor(row_factory=dict_row) as cursor:
        for table in STREAMS:
            # Amounts also as text: NUMERIC's own digits, not a Python conversion of them.
            text = ", amount_cents::text AS cents_text, amount_usd::text AS usd_text" if table == "cost_report" else ""
            query = sql.SQL("SELECT *{} FROM {}.{}").format(
                sql.SQL(text), sql.Identifier(schema), sql.Identifier(table)
            )
            cursor.execute(query)
            rows[table] = list(cursor.fetchall())
    return rows


@dataclass
class Loads:
    first: Rows
    again: Rows
    incremental: Rows
    types: dict[tuple[str, str], str]


@pytest.fixture(scope="module")
def loads(sim: Simulator, meltano: Meltano, pg: t.Any, pg_schema: str) -> Loads:
    target = {"TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": pg_schema}

    def run(state_id: str) -> Rows:
        result = meltano.run(
            "tap-claude-developer", "target-postgres", state_id_suffix=state_id, env=env_for(sim, **target)
        )
        assert result.returncode == 0, explain(result)
        return snapshot(pg, pg_schema)

    first = run(pg_schema)
    again = run(pg_schema + "-again")  # no state: the whole window once more
    incremental = run(pg_schema)  # from the first run's bookmarks, minus the lookback
    types = {
        (table, column): data_type
        for table, column, data_type in pg.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = %s",
            (pg_schema,),
        ).fetchall()
    }
    return Loads(first, again, incremental, types)


def keyed(rows: list[dict[str, t.Any]]) -> dict[tuple[t.Any, ...], dict[str, t.Any]]:
    return {tuple(row[c] for c in KEY): {k: v for k, v in row.items() if not k.startswith("_sdc_")} for row in rows}


@pytest.mark.postgres
def test_the_same_window_twice_leaves_the_tables_as_they_were(sim: Simulator, loads: Loads) -> None:
    want = {"messages_usage": expected_usage(sim, START, END), "cost_report": expected_cost(sim, START, END)}
    for table in STREAMS:
        assert len(loads.first[table]) == len(want[table]) > 1000, table
        assert len(keyed(loads.first[table])) == len(loads.first[table]), f"{table}: duplicate keys"
        assert len(loads.again[table]) == len(loads.first[table]), table
        assert len(loads.incremental[table]) == len(loads.first[table]), table
        assert keyed(loads.again[table]) == keyed(loads.incremental[table]) == keyed(loads.first[table]), table


@pytest.mark.postgres
def test_cost_amounts_are_numeric_with_every_digit(sim: Simulator, loads: Loads) -> None:
    assert loads.types[("cost_report", "amount_cents")] == "numeric"
    assert loads.types[("cost_report", "amount_usd")] == "numeric"
    want = {
        (r["organization_id"], r["starting_at"], r["group_key"]): r["amount_cents"]
        for r in expected_cost(sim, START, END)
    }
    rows = loads.incremental["cost_report"]
    longest = 0
    for row in rows:
        cents = want[(row["organization_id"], row["starting_at"].strftime("%Y-%m-%dT%H:%M:%SZ"), row["group_key"])]
        assert row["cents_text"] == digits(cents)
        assert row["usd_text"] == str(Decimal(digits(cents)).scaleb(-2))
        longest = max(longest, len(row["cents_text"].replace(".", "").lstrip("0")))
    assert longest > 17, "some amount has more significant digits than a float keeps"
    assert sum((Decimal(row["cents_text"]) for row in rows), Decimal(0)) == sum(want.values(), Decimal(0))


@pytest.mark.postgres
def test_column_types(loads: Loads) -> None:
    for table in STREAMS:
        assert loads.types[(table, "organization_id")] == "text"
        assert loads.types[(table, "group_key")] == "text"
        assert loads.types[(table, "starting_at")] == "timestamp without time zone"
    for column in ("uncached_input_tokens", "cache_creation_ephemeral_1h_input_tokens", "output_tokens"):
        assert loads.types[("messages_usage", column)] == "bigint"


# --------------------------------------------------------------------------- CSV


@pytest.fixture(scope="module")
def csv_dir(sim: Simulator, meltano: Meltano, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("usage-cost-csv")
    env = env_for(sim, TARGET_CSV_OUTPUT_PATH=str(out))
    # A state id of its own: Meltano keeps state between sessions, and tmp directory names repeat.
    result = meltano.run("tap-claude-developer", "target-csv", state_id_suffix=f"csv-{uuid.uuid4().hex}", env=env)
    assert result.returncode == 0, explain(result)
    return out


def read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def test_csv_columns_are_readable(sim: Simulator, csv_dir: Path) -> None:
    assert sorted(path.name for path in csv_dir.glob("*.csv")) == ["cost_report.csv", "messages_usage.csv"]
    tap = TapClaudeDeveloper(config={"admin_api_keys": sim.admin_keys}, parse_env_config=False)
    for stream in STREAMS:
        header, rows = read(csv_dir / f"{stream}.csv")
        # Flat schemas: one column per field, named as the schema names them.
        assert header == list(tap.streams[stream].schema["properties"]), stream
        for row in rows:
            assert isinstance(json.loads(row["group_key"]), dict)
            assert all(
                cell not in ("None", "True", "False") and not cell.startswith("Decimal(") for cell in row.values()
            )
    _, usage = read(csv_dir / "messages_usage.csv")
    want = expected_usage(sim, START, END)
    assert len(usage) == len(want)
    assert sum(int(row["cache_creation_ephemeral_5m_input_tokens"]) for row in usage) == sum(
        r["cache_creation_ephemeral_5m_input_tokens"] for r in want
    )
    # target-csv writes timestamps as Python prints them ("2026-09-01 00:00:00+00:00"): readable, still UTC.
    assert {moment(row["starting_at"]) for row in usage} == {moment(r["starting_at"]) for r in want}
    _, cost = read(csv_dir / "cost_report.csv")
    cents = {
        (r["organization_id"], moment(r["starting_at"]), r["group_key"]): r["amount_cents"]
        for r in expected_cost(sim, START, END)
    }
    assert len(cost) == len(cents)
    for row in cost:
        amount = cents[(row["organization_id"], moment(row["starting_at"]), row["group_key"])]
        assert row["amount_cents"] == digits(amount)
        assert row["amount_usd"] == str(Decimal(digits(amount)).scaleb(-2))
        assert Decimal(row["amount_usd"]) == amount / 100
