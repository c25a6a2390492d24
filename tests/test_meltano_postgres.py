"""``meltano run tap-claude-developer target-postgres`` against the simulator, three runs in a row.

1. A first load: every table holds exactly the simulator's data, with the expected column types.
2. Two users are removed (one of them re-invited) and a run follows: their rows get ``_sdc_deleted_at``,
   nobody else's does, and no table grows but by the new invite. README's user-status SQL is checked here.
3. One organization's user list fails (HTTP 500, for ever) and a run follows: it exits non-zero and
   nothing of that organization looks deleted, while the other organizations load as usual.

The three runs share one simulator and one schema; the fixture takes a snapshot of every table after
each run and the tests only read those snapshots.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

import pytest

from tap_claude_developer.simulator import Fault, Simulator
from tests.conftest import PG_CONNINFO, REPO_ROOT, Meltano, explain, tap_env

pytestmark = [pytest.mark.postgres, pytest.mark.meltano]

KEYS: dict[str, tuple[str, ...]] = {
    "organizations": ("organization_id",),
    "users": ("organization_id", "id"),
    "invites": ("organization_id", "id"),
    "workspaces": ("organization_id", "id"),
    "workspace_members": ("organization_id", "workspace_id", "user_id"),
    "api_keys": ("organization_id", "id"),
}
USER_STATUS_SQL = REPO_ROOT / "docs" / "user_status.sql"
FAILING_ORG = 1

Rows = dict[str, list[dict[str, t.Any]]]


def expected_keys(sim: Simulator) -> dict[str, set[tuple[str, ...]]]:
    """The primary keys each table must hold: the API's objects, as the simulator serves them now."""
    keys: dict[str, set[tuple[str, ...]]] = {table: set() for table in KEYS}
    for org in sim.orgs:
        keys["organizations"].add((org.id,))
        keys["users"] |= {(org.id, user["id"]) for user in org.users}
        keys["invites"] |= {(org.id, invite["id"]) for invite in org.invites}
        keys["workspaces"] |= {(org.id, workspace["id"]) for workspace in org.workspaces}
        keys["workspace_members"] |= {
            (org.id, member["workspace_id"], member["user_id"])
            for workspace in org.workspaces
            for member in org.members.get(workspace["id"], [])
        }
        keys["api_keys"] |= {(org.id, key["id"]) for key in org.api_keys}
    return keys


def snapshot(pg: t.Any, schema: str) -> Rows:
    from psycopg import sql
    from psycopg.rows import dict_row

    rows: Rows = {}
    with pg.cursor(row_factory=dict_row) as cursor:
        for table in KEYS:
            cursor.execute(sql.SQL("SELECT * FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table)))
            rows[table] = list(cursor.fetchall())
    return rows


def user_statuses(schema: str) -> dict[tuple[str, str], str]:
    """README's user-status query, run exactly as the file has it: (organization id, email) -> status."""
    import psycopg

    with psycopg.connect(PG_CONNINFO, options=f"-c search_path={schema}") as connection:
        rows = connection.execute(USER_STATUS_SQL.read_text(encoding="utf-8")).fetchall()
    statuses = {(organization_id, email): status for organization_id, _name, email, status in rows}
    assert len(statuses) == len(rows), "one row per organization and person"
    return statuses


def key_of(table: str, row: dict[str, t.Any]) -> tuple[str, ...]:
    return tuple(row[column] for column in KEYS[table])


def keys(rows: Rows, table: str, *, deleted: bool | None = None) -> set[tuple[str, ...]]:
    """Primary keys of a table's rows; only the soft-deleted (or only the live) ones when asked."""
    return {
        key_of(table, row) for row in rows[table] if deleted is None or (row["_sdc_deleted_at"] is not None) == deleted
    }


@dataclass
class Story:
    sim: Simulator
    schema: str
    first: Rows
    column_types: dict[tuple[str, str], str]
    second: Rows
    statuses: dict[tuple[str, str], str]
    failed_run: t.Any
    third: Rows
    statuses_after_failure: dict[tuple[str, str], str]
    expected_first: dict[str, set[tuple[str, ...]]]
    removed: list[dict[str, t.Any]] = field(default_factory=list)
    removed_memberships: set[tuple[str, ...]] = field(default_factory=set)
    newcomer: str = ""


@pytest.fixture(scope="module")
def story(simulator: Simulator, meltano: Meltano, pg: t.Any, pg_schema: str) -> Story:
    sim = simulator
    org = sim.orgs[0]
    env = {**tap_env(sim), "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": pg_schema}

    def run(extra: dict[str, str] | None = None) -> t.Any:
        return meltano.run(
            "tap-claude-developer", "target-postgres", state_id_suffix=pg_schema, env={**env, **(extra or {})}
        )

    # Someone invited who never joined (before the first run, so the invite is in every load).
    newcomer = sim.add_invite(0, email="new.hire@acme-analytics.example", role="developer")["email"]
    # A NUL in an API string, which PostgreSQL text cannot hold (found by attack: the load failed).
    sim.update_user(0, org.users[0]["id"], name="Nul\x00Byte")

    first_run = run()
    assert first_run.returncode == 0, explain(first_run)
    expected_first = expected_keys(sim)
    first = snapshot(pg, pg_schema)
    column_types = {
        (table, column): data_type
        for table, column, data_type in pg.execute(
            "SELECT table_name, column_name, CASE WHEN data_type = 'ARRAY' THEN udt_name ELSE data_type END"
            " FROM information_schema.columns WHERE table_schema = %s",
            (pg_schema,),
        ).fetchall()
    }

    # Two members leave; the second is invited again at once.
    removed = [org.users[3], org.users[5]]
    removed_ids = {user["id"] for user in removed}
    removed_memberships = {
        (org.id, ws_id, member["user_id"])
        for ws_id, members in org.members.items()
        for member in members
        if member["user_id"] in removed_ids
    }
    for user in removed:
        sim.remove_user(0, user["id"])
    sim.add_invite(0, email=removed[1]["email"], role=removed[1]["role"])

    second_run = run()
    assert second_run.returncode == 0, explain(second_run)
    second = snapshot(pg, pg_schema)
    statuses = user_statuses(pg_schema)

    # One organization's user list fails for good: a server error, retried once, quickly.
    sim.add_fault(Fault(path=r"^/v1/organizations/users$", status=500, times=None, org_index=FAILING_ORG))
    failed_run = run(tap_env(sim, max_retries=1, max_retry_wait=1))
    third = snapshot(pg, pg_schema)
    statuses_after_failure = user_statuses(pg_schema)

    return Story(
        sim=sim,
        schema=pg_schema,
        first=first,
        column_types=column_types,
        second=second,
        statuses=statuses,
        failed_run=failed_run,
        third=third,
        statuses_after_failure=statuses_after_failure,
        expected_first=expected_first,
        removed=removed,
        removed_memberships=removed_memberships,
        newcomer=newcomer,
    )


def test_first_run_loads_exactly_the_apis_data(story: Story) -> None:
    for table, expected in story.expected_first.items():
        assert keys(story.first, table) == expected, table
        assert len(story.first[table]) == len(expected), f"{table}: duplicate rows"
        assert keys(story.first, table, deleted=True) == set(), f"{table}: nothing is deleted yet"
    assert len(story.first["organizations"]) == 3


def test_workspaces_include_archived_and_default(story: Story) -> None:
    workspaces = story.first["workspaces"]
    per_org = {org.id: org for org in story.sim.orgs}
    defaults = [row for row in workspaces if row["id"] == per_org[row["organization_id"]].default_workspace_id]
    assert len(defaults) == 3
    assert {row["name"] for row in defaults} == {"Default"}
    archived = sum(1 for org in story.sim.orgs for ws in org.workspaces if ws["archived_at"] is not None)
    assert archived > 0
    assert sum(1 for row in workspaces if row["archived_at"] is not None) == archived


def test_column_types(story: Story) -> None:
    types = story.column_types
    for table in KEYS:
        assert types[(table, "organization_id")] == "text"
        assert types[(table, "_sdc_deleted_at")] == "timestamp without time zone"
    for table, column in [("users", "id"), ("invites", "id"), ("workspaces", "id"), ("api_keys", "id")]:
        assert types[(table, column)] == "text"
    for column in ("workspace_id", "user_id"):
        assert types[("workspace_members", column)] == "text"
    timestamps = [
        ("users", "added_at"),
        ("invites", "invited_at"),
        ("invites", "expires_at"),
        ("invites", "accepted_at"),
        ("workspaces", "created_at"),
        ("workspaces", "archived_at"),
        ("api_keys", "created_at"),
        ("api_keys", "expires_at"),
    ]
    for key in timestamps:
        assert types[key] == "timestamp without time zone", key
    nested = [
        ("workspaces", "tags"),
        ("workspaces", "data_residency"),
        ("api_keys", "created_by"),
        ("api_keys", "principal"),
        ("api_keys", "scope"),
    ]
    for key in nested:
        assert types[key] == "jsonb", key
    assert types[("invites", "rbac_group_ids")] == "_text"


def test_nested_values_arrive_intact(story: Story) -> None:
    """JSONB holds the API's objects as they were, both forms of allowed_inference_geos included."""
    served = {(org.id, ws["id"]): ws for org in story.sim.orgs for ws in org.workspaces}
    for row in story.first["workspaces"]:
        workspace = served[(row["organization_id"], row["id"])]
        assert row["tags"] == workspace["tags"]
        assert row["data_residency"] == workspace["data_residency"]
    geos = [row["data_residency"]["allowed_inference_geos"] for row in story.first["workspaces"]]
    assert "unrestricted" in geos
    assert any(isinstance(value, list) for value in geos)


def test_removed_users_are_soft_deleted_and_nothing_grows(story: Story) -> None:
    org_id = story.sim.orgs[0].id
    removed = {(org_id, user["id"]) for user in story.removed}
    assert keys(story.second, "users", deleted=True) == removed
    assert keys(story.second, "users") == keys(story.first, "users")
    assert len(story.second["users"]) == len(story.first["users"])
    assert story.removed_memberships, "the removed users were members of a workspace"
    assert keys(story.second, "workspace_members", deleted=True) == story.removed_memberships
    assert len(story.second["workspace_members"]) == len(story.first["workspace_members"])
    # The re-invite is the one new row anywhere; nothing else vanished.
    assert len(story.second["invites"]) == len(story.first["invites"]) + 1
    for table in ("organizations", "invites", "workspaces", "api_keys"):
        assert keys(story.second, table, deleted=True) == set(), table
        assert keys(story.second, table) >= keys(story.first, table), table


def test_user_status_sql(story: Story) -> None:
    sim = story.sim
    acme, initech = sim.orgs[0], sim.orgs[2]
    removed, reinvited = story.removed
    statuses = story.statuses
    assert statuses[(acme.id, acme.users[0]["email"].lower())] == "active"
    assert statuses[(initech.id, initech.users[-1]["email"].lower())] == "active"
    assert statuses[(acme.id, story.newcomer)] == "invited"
    assert statuses[(acme.id, removed["email"].lower())] == "removed"
    assert statuses[(acme.id, reinvited["email"].lower())] == "invited"
    for org in sim.orgs:
        active = {email for (org_id, email), status in statuses.items() if org_id == org.id and status == "active"}
        assert active == {user["email"].lower() for user in org.users}, org.name
    removed_people = {key for key, status in statuses.items() if status == "removed"}
    assert removed_people == {(acme.id, removed["email"].lower())}


def test_failed_organization_is_not_marked_deleted(story: Story) -> None:
    assert story.failed_run.returncode != 0, explain(story.failed_run)
    failing_id = story.sim.orgs[FAILING_ORG].id
    for table in KEYS:
        failing_deleted = {key for key in keys(story.third, table, deleted=True) if key[0] == failing_id}
        assert failing_deleted == set(), f"{table}: rows of the failed organization look deleted"
        # The other organizations are unaffected: same rows, and deleted only what was deleted before.
        assert keys(story.third, table) == keys(story.second, table), table
        assert keys(story.third, table, deleted=True) == keys(story.second, table, deleted=True), table
    assert story.statuses_after_failure == story.statuses


def test_failed_run_still_loads_the_other_organizations(story: Story) -> None:
    """The healthy organizations' users were sent again (a newer table version); the failed one's were not."""
    failing_id = story.sim.orgs[FAILING_ORG].id
    before = {key_of("users", row): row["_sdc_table_version"] for row in story.second["users"]}
    for row in story.third["users"]:
        key = key_of("users", row)
        if row["_sdc_deleted_at"] is not None:
            continue
        if row["organization_id"] == failing_id:
            assert row["_sdc_table_version"] == before[key], key
        else:
            assert row["_sdc_table_version"] > before[key], key


def test_a_nul_character_loads_as_a_replacement_character(story: Story) -> None:
    names = [row["name"] for row in story.first["users"] if row["id"] == story.sim.orgs[0].users[0]["id"]]
    assert names == ["Nul\ufffdByte"]
