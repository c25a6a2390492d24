"""``meltano run tap-claude-developer target-postgres`` with the opt-in Analytics streams selected.

1. A run with ``select`` naming the two streams loads exactly the simulator's rows: every amount exact
   as NUMERIC, in cents and in USD.
2. The same window again (from the saved state, so the 30-day lookback re-reads everything): the same
   rows, no table grows.
3. A run with the project's own selection makes no Analytics request at all.

The simulator keeps real time, and the window is given in dates relative to today, so the tap's clock
(which tests cannot pin in a Meltano subprocess) and the simulator's agree on the API's 365-day limit.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import typing as t
from dataclasses import dataclass
from decimal import Decimal

import pytest

from tap_claude_developer.simulator import OrgSpec, Simulator, analytics
from tests.conftest import Meltano, explain, tap_env

pytestmark = [pytest.mark.postgres, pytest.mark.meltano]

UTC = dt.timezone.utc
SPECS = (
    OrgSpec("Acme Analytics", users=10, invites=2, workspaces=2, members_per_workspace=2, api_keys=6),
    OrgSpec("Globex Research", users=6, invites=1, workspaces=1, members_per_workspace=2, api_keys=4),
    OrgSpec("Initech Labs", users=4, invites=1, workspaces=1, members_per_workspace=1, api_keys=3),
)
SELECT = json.dumps(["analytics_usage.*", "analytics_cost.*"])
TABLES = ("analytics_usage", "analytics_cost")
Key = tuple[str, str, str]


@dataclass
class Story:
    sim: Simulator
    start: dt.datetime
    end: dt.datetime
    first: dict[str, list[dict[str, t.Any]]]
    second: dict[str, list[dict[str, t.Any]]]
    column_types: dict[tuple[str, str], str]
    first_requests: list[t.Any]
    second_requests: list[t.Any]
    plain_requests: list[t.Any]


def snapshot(pg: t.Any, schema: str) -> dict[str, list[dict[str, t.Any]]]:
    from psycopg import sql
    from psycopg.rows import dict_row

    with pg.cursor(row_factory=dict_row) as cursor:
        rows = {}
        for table in TABLES:
            cursor.execute(sql.SQL("SELECT * FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table)))
            rows[table] = list(cursor.fetchall())
    return rows


@pytest.fixture(scope="module")
def story(meltano: Meltano, pg: t.Any, pg_schema: str) -> t.Iterator[Story]:
    today = dt.datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start, end = today - dt.timedelta(days=40), today - dt.timedelta(days=5)  # 35 days: 2 queries each
    with Simulator(SPECS, seed=13) as sim:
        settings = {"start_date": start.date().isoformat(), "end_date": end.date().isoformat()}
        env = {
            **tap_env(sim, **settings),
            "TAP_CLAUDE_DEVELOPER__SELECT": SELECT,
            "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": pg_schema,
        }

        def run(run_env: dict[str, str], suffix: str) -> list[t.Any]:
            sim.clear_requests()
            result = meltano.run("tap-claude-developer", "target-postgres", state_id_suffix=suffix, env=run_env)
            assert result.returncode == 0, explain(result)
            return [r for r in sim.requests if "/analytics/" in r.path]

        first_requests = run(env, pg_schema)
        first = snapshot(pg, pg_schema)
        column_types = {
            (table, column): data_type
            for table, column, data_type in pg.execute(
                "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = %s",
                (pg_schema,),
            ).fetchall()
        }
        second_requests = run(env, pg_schema)
        second = snapshot(pg, pg_schema)
        # The project's own selection, into another schema: no Analytics stream, no Analytics request.
        plain = {**tap_env(sim, **settings), "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": pg_schema + "_p"}
        plain_requests = run(plain, pg_schema + "_p")
        pg.execute(f'DROP SCHEMA IF EXISTS "{pg_schema}_p" CASCADE')
        yield Story(sim, start, end, first, second, column_types, first_requests, second_requests, plain_requests)


def key(row: dict[str, t.Any]) -> Key:
    return (row["organization_id"], row["starting_at"].strftime("%Y-%m-%dT%H:%M:%SZ"), row["group_key"])


def expected_cost(story: Story) -> dict[Key, tuple[Decimal, Decimal]]:
    """Default grouping (model, workspace_id, api_key_id, cost_type, token_type), from the facts."""
    out: dict[Key, list[Decimal]] = collections.defaultdict(lambda: [Decimal(0), Decimal(0)])
    for org in story.sim.orgs:
        for fact in analytics.facts_between(org, story.sim.seed, story.start, story.end):
            for line in fact.costs:
                values = {d: fact.dims[d] for d in ("model", "workspace_id", "api_key_id")}
                values |= {"cost_type": line.cost_type, "token_type": line.token_type}
                group_key = json.dumps(values, sort_keys=True, separators=(",", ":"))
                pair = out[(org.id, fact.at.strftime("%Y-%m-%dT00:00:00Z"), group_key)]
                pair[0] += line.amount
                pair[1] += line.list_amount
    return {k: (a, b) for k, (a, b) in out.items()}


def test_the_selected_streams_load_exact_amounts(story: Story) -> None:
    want = expected_cost(story)
    rows = story.first["analytics_cost"]
    assert len(rows) == len(want)
    assert {key(row): (row["amount_cents"], row["list_amount_cents"]) for row in rows} == want
    for row in rows:
        assert isinstance(row["amount_cents"], Decimal)
        assert row["amount_usd"] * 100 == row["amount_cents"]
        assert row["list_amount_usd"] * 100 == row["list_amount_cents"]
    total = sum((amount for amount, _ in want.values()), Decimal(0))
    assert sum(row["amount_usd"] for row in rows) * 100 == total
    assert any(len(str(row["amount_cents"]).split(".")[-1]) >= 5 for row in rows)  # fractional cents kept


def test_usage_totals_match_the_facts(story: Story) -> None:
    rows = story.first["analytics_usage"]
    facts = [f for org in story.sim.orgs for f in analytics.facts_between(org, story.sim.seed, story.start, story.end)]
    assert sum(row["output_tokens"] for row in rows) == sum(f.usage["output_tokens"] for f in facts)
    assert sum(row["total_tokens"] for row in rows) == sum(f.total_tokens for f in facts)
    assert sum(row["requests"] for row in rows) == sum(f.usage["requests"] for f in facts)
    assert len({key(row) for row in rows}) == len(rows)


def test_column_types(story: Story) -> None:
    types = story.column_types
    for column in ("amount_cents", "amount_usd", "list_amount_cents", "list_amount_usd"):
        assert types[("analytics_cost", column)] == "numeric", column
    for column in ("output_tokens", "total_tokens", "requests"):
        assert types[("analytics_usage", column)] == "bigint", column
    for table in TABLES:
        assert types[(table, "starting_at")] == "timestamp without time zone"
        assert types[(table, "group_key")] == "text"
        assert types[(table, "actor_provider")] == "jsonb"


def test_running_the_same_window_again_changes_nothing(story: Story) -> None:
    for table in TABLES:
        assert len(story.second[table]) == len(story.first[table]), table
        before = {key(row): row for row in story.first[table]}
        for row in story.second[table]:
            old = before[key(row)]
            for column in ("amount_cents", "list_amount_cents", "output_tokens", "requests"):
                if column in row:
                    assert row[column] == old[column], (table, column)
    # 35 days: 2 queries per organization and stream. The second run resumed from its state, the last
    # day read minus the 30-day lookback: 31 days, 1 query each, every row re-read and upserted.
    assert len(story.first_requests) == 3 * 2 * 2
    assert len(story.second_requests) == 3 * 2
    assert {dict(r.query)["starting_at"] for r in story.second_requests} == {
        (story.end - dt.timedelta(days=31)).strftime("%Y-%m-%dT%H:%M:%SZ")
    }


def test_a_run_with_the_projects_selection_makes_no_analytics_request(story: Story) -> None:
    assert story.plain_requests == []
