"""Faults and failures at the level of a whole run: nothing lost, nothing wrongly deleted."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

from tap_claude_developer import client as client_module
from tap_claude_developer import pagination
from tap_claude_developer.client import PageMarks
from tap_claude_developer.pagination import PaginationError, next_cursor
from tap_claude_developer.settings import key_label
from tap_claude_developer.simulator import Fault, OrgSpec, Simulator
from tests.fakes import FakeClock
from tests.helpers import DIRECTORY, Run, catalog_for, config_for, run_tap

SPECS = [
    OrgSpec("Acme", users=2500, invites=3, workspaces=2, members_per_workspace=3, api_keys=4),
    OrgSpec("Globex", users=40, invites=2, workspaces=1, members_per_workspace=2, api_keys=3),
    OrgSpec("Initech", users=25, invites=1, workspaces=1, members_per_workspace=2, api_keys=2),
]
USERS = "/v1/organizations/users$"


@pytest.fixture(scope="module")
def sim() -> t.Iterator[Simulator]:
    with Simulator(SPECS, seed=8) as simulator:
        yield simulator


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch, sim: Simulator) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(client_module, "SYSTEM_CLOCK", fake)
    sim.clear_faults()
    sim.clear_requests()
    return fake


@pytest.fixture(scope="module")
def clean(sim: Simulator) -> Run:
    run = run_tap(config_for(sim), streams=DIRECTORY)
    assert run.failures == []
    return run


def comparable(run: Run) -> list[dict[str, t.Any]]:
    """Messages without what differs between two runs by design (extraction time)."""
    return [{k: v for k, v in m.items() if k not in ("time_extracted", "version")} for m in run.messages]


FAULTS: dict[str, dict[str, t.Any]] = {
    "429 retry-after": {"status": 429, "headers": {"retry-after": "3"}},
    "429 retry-after-ms": {"status": 429, "headers": {"retry-after-ms": "250"}},
    "500": {"status": 500},
    "502 html": {"kind": "html"},
    "503": {"status": 503},
    "504": {"status": 504},
    "529": {"status": 529},
    "connection reset": {"kind": "reset"},
    "truncated body": {"kind": "truncate"},
    "non-JSON 200": {"status": 200, "body": "<html>gateway says hi</html>"},
}
POSITIONS = {"first page": 0, "middle page": 1, "last page": 2}


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("fault", FAULTS)
def test_fault_on_any_page_leaves_the_output_identical(
    sim: Simulator, clean: Run, fault: str, position: str, clock: FakeClock
) -> None:
    sim.add_fault(Fault(path=USERS, org_index=0, after=POSITIONS[position], times=2, **FAULTS[fault]))
    run = run_tap(config_for(sim), streams=DIRECTORY)
    assert run.failures == []
    assert comparable(run) == comparable(clean)
    # Two retries waited (other requests to the same organization may wait out a retry-after too).
    assert len(clock.waits) >= 2
    users_pages = [r for r in sim.requests if r.path == "/v1/organizations/users" and r.org_id == sim.orgs[0].id]
    assert len(users_pages) == 3 + 2


def test_a_read_timeout_mid_listing_is_retried(sim: Simulator, clean: Run) -> None:
    sim.add_fault(Fault(path=USERS, org_index=0, after=1, kind="slow", delay=1.5))
    run = run_tap(config_for(sim, request_timeout=0.3), streams=DIRECTORY)
    assert comparable(run) == comparable(clean)


def test_a_revoked_key_fails_its_organization_only(sim: Simulator, clean: Run) -> None:
    sim.add_fault(Fault(path="/v1/organizations/me$", status=401, org_index=1, times=None))
    run = run_tap(config_for(sim), streams=DIRECTORY)
    assert len(run.failures) == 1
    assert run.failures[0].startswith("the 2nd admin API key (ending ...")
    assert "HTTP 401 authentication_error" in run.failures[0]
    others = {sim.orgs[0].id, sim.orgs[2].id}
    for stream in ("users", "invites", "workspaces", "workspace_members", "api_keys"):
        want = [r for r in clean.records(stream) if r["organization_id"] in others]
        assert run.records(stream) == want
    assert run.of_type("ACTIVATE_VERSION") == []  # the 2nd organization's rows must not look deleted
    assert [p["context"]["organization_id"] for p in run.last_state["bookmarks"]["users"]["partitions"]] == [
        sim.orgs[0].id,
        sim.orgs[2].id,
    ]


def test_a_key_revoked_mid_run_stops_that_organization_and_no_other(sim: Simulator, clean: Run) -> None:
    # Streams run in name order: api_keys, invites, organizations, users, workspace_members, workspaces.
    # The key dies after api_keys: from invites on, every request answers 401.
    sim.add_fault(Fault(path="/v1/organizations/(invites|users|workspaces)", status=401, org_index=0, times=None))
    run = run_tap(config_for(sim), streams=DIRECTORY)
    # One failure per stream Acme could not sync.
    assert [f.split(": ", 1)[0] for f in run.failures] == [
        f"organization 'Acme' ({sim.orgs[0].id}), stream '{stream}'"
        for stream in ("invites", "users", "workspace_members", "workspaces")
    ]
    assert run.records("api_keys") == clean.records("api_keys")  # synced before the key died
    assert run.records("organizations") == clean.records("organizations")  # read when the run began
    for stream in ("invites", "users", "workspaces", "workspace_members"):
        assert run.records(stream) == [r for r in clean.records(stream) if r["organization_id"] != sim.orgs[0].id]
    assert [m["stream"] for m in run.of_type("ACTIVATE_VERSION")] == ["api_keys", "organizations"]
    acme = [r.path for r in sim.requests if r.org_id == sim.orgs[0].id and r.status == 401]
    assert len(acme) <= 4  # at most one refused request per stream: a 401 is never retried


def test_a_permanent_error_mid_listing_keeps_the_rest_of_the_run(sim: Simulator, clean: Run) -> None:
    sim.add_fault(Fault(path=USERS, org_index=0, after=1, status=500, times=None))
    run = run_tap(config_for(sim, max_retries=2), streams=DIRECTORY)
    assert len(run.failures) == 1
    assert "HTTP 500 api_error" in run.failures[0]
    assert "users" not in [m["stream"] for m in run.of_type("ACTIVATE_VERSION")]
    for stream in ("invites", "workspaces", "workspace_members", "api_keys"):
        assert run.records(stream) == clean.records(stream)


def test_a_stream_the_organization_cannot_have_is_skipped(
    sim: Simulator, clean: Run, caplog: pytest.LogCaptureFixture
) -> None:
    sim.add_fault(
        Fault(path="/v1/organizations/invites$", status=400, org_index=2, error_code="organization_type_not_supported")
    )
    run = run_tap(config_for(sim), streams=DIRECTORY)
    assert run.failures == []
    assert run.records("invites") == [r for r in clean.records("invites") if r["organization_id"] != sim.orgs[2].id]
    skipped = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Skipped stream")]
    assert len(skipped) == 1
    assert skipped[0].startswith(
        f"Skipped stream 'invites' for organization 'Initech' ({sim.orgs[2].id}) (its rows from earlier runs are "
        "kept; no deletions are marked in this stream this run): GET /v1/organizations/invites "
        "failed: HTTP 400 invalid_request_error: "
    )
    assert skipped[0].endswith("This stream does not exist for this organization type.")
    # Initech's invites from earlier runs must not be marked deleted because the API now says "no".
    activated = [m["stream"] for m in run.of_type("ACTIVATE_VERSION")]
    assert activated == ["api_keys", "organizations", "users", "workspace_members", "workspaces"]


def repeat_cursor_body(sim: Simulator, repeat: str) -> str:
    users = sim.orgs[1].users
    return json.dumps({"data": users[20:30], "has_more": True, "first_id": users[20]["id"], "last_id": repeat})


def test_a_repeated_cursor_stops_the_listing_instead_of_looping(sim: Simulator) -> None:
    users = sim.orgs[1].users
    # pages of 10: cursors u10, u20, then the API answers with u10 again (A, B, A).
    sim.add_fault(Fault(path=USERS, org_index=1, after=2, status=200, body=repeat_cursor_body(sim, users[9]["id"])))
    run = run_tap(config_for(sim, page_size=10), streams=["users"])
    assert len(run.failures) == 1
    assert "repeated a cursor (after_id) after 3 pages" in run.failures[0]
    assert sum(r.path == "/v1/organizations/users" and r.org_id == sim.orgs[1].id for r in sim.requests) == 3


def test_has_more_without_a_cursor_is_an_error_not_the_end(sim: Simulator) -> None:
    body = json.dumps({"data": [], "has_more": True, "first_id": None, "last_id": None})
    sim.add_fault(Fault(path=USERS, org_index=2, after=1, status=200, body=body))
    run = run_tap(config_for(sim, page_size=10), streams=["users"])
    assert len(run.failures) == 1
    assert "the API said has_more but gave no last_id" in run.failures[0]


def test_a_listing_that_never_ends_is_stopped(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pagination, "MAX_PAGES_PER_CHAIN", 3)
    run = run_tap(config_for(sim, page_size=10), streams=["users"])
    # Acme (2500 users) and Globex (40) need more than 3 pages of 10; Initech (25) needs exactly 3.
    assert [f.split(": ", 1)[0] for f in run.failures] == [
        f"organization '{org.name}' ({org.id}), stream 'users'" for org in sim.orgs[:2]
    ]
    assert all("more than 3 pages in one listing" in f for f in run.failures)


def cli(sim: Simulator, tmp_path: Path, **settings: t.Any) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**config_for(sim), **settings}))
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tap_claude_developer",
            "--config",
            str(path),
            "--catalog",
            str(_users_only(sim, tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _users_only(sim: Simulator, tmp_path: Path) -> Path:
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(catalog_for(["users"], config_for(sim))))
    return path


def errors(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line.split(" | ")[-1] for line in result.stderr.splitlines() if "| ERROR" in line]


def test_a_key_refused_at_its_first_request_is_explained(sim: Simulator, tmp_path: Path) -> None:
    """Found by a new user: the cause of a /me failure was never shown, only the closing summary."""
    sim.add_fault(Fault(path="/v1/organizations/me$", status=401, org_index=1, times=None))
    result = cli(sim, tmp_path)
    assert result.returncode == 1
    lines = errors(result)
    assert len(lines) == 2
    assert lines[0].startswith("the 2nd admin API key (ending ...")
    assert ", stream 'organizations': GET /v1/organizations/me failed: HTTP 401 authentication_error: " in lines[0]
    assert lines[0].endswith(
        "The key was revoked or is not an Admin key: create an Admin key in the Claude Console "
        "under Settings > Admin Keys."
    )
    assert lines[1] == (
        f"Sync incomplete: 1 failure(s) in {lines[0].split(', stream')[0]}; "
        "the 2 other organization(s) completed every stream and their STATE was sent."
    )


def test_when_every_key_fails_the_summary_says_so(sim: Simulator, tmp_path: Path) -> None:
    sim.add_fault(Fault(path="/v1/organizations/me$", status=401, times=None))
    result = cli(sim, tmp_path)
    assert result.returncode == 1
    lines = errors(result)
    assert [line.split(" (ending")[0] for line in lines[:3]] == [
        "the 1st admin API key",
        "the 2nd admin API key",
        "the 3rd admin API key",
    ]
    assert lines[3].endswith("; no organization completed.")


@pytest.mark.parametrize(
    "body",
    [
        b'{"data": [{"id": "user_x", "name": "\xe9"}], "has_more": false, "first_id": null, "last_id": null}',
        b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
    ids=["invalid UTF-8", "nested 100,000 deep"],
)
def test_an_unreadable_200_body_fails_its_organization_not_the_run(sim: Simulator, clean: Run, body: bytes) -> None:
    """Found by attack: these crashed the whole run with a traceback after partial output."""
    sim.add_fault(Fault(path=USERS, status=200, body=body, org_index=1, times=None))
    run = run_tap(config_for(sim), streams=DIRECTORY)
    assert len(run.failures) == 1
    assert run.failures[0].startswith(f"organization 'Globex' ({sim.orgs[1].id}), stream 'users': GET ")
    assert "unreadable JSON body" in run.failures[0]
    for stream in ("invites", "workspaces", "workspace_members", "api_keys"):
        assert run.records(stream) == clean.records(stream)
    assert run.records("users") == [r for r in clean.records("users") if r["organization_id"] != sim.orgs[1].id]


@pytest.mark.parametrize(
    "me",
    [
        {"id": None, "name": "x", "type": "organization"},
        {"id": {"a": 1}, "name": "x", "type": "organization"},
        {"id": "", "name": "x", "type": "organization"},
        {"id": "org\n1", "name": "x", "type": "organization"},
        {"name": "x", "type": "organization"},
    ],
    ids=["null id", "object id", "empty id", "control character", "no id"],
)
def test_an_organization_without_a_usable_id_fails_and_marks_nothing_deleted(
    sim: Simulator, clean: Run, me: t.Any
) -> None:
    """Found by attack: a null id became the text "None" in every key column, and ACTIVATE_VERSION was sent."""
    sim.add_fault(Fault(path="/v1/organizations/me$", status=200, body=json.dumps(me), org_index=1, times=None))
    run = run_tap(config_for(sim, emit_activate_version_messages=True), streams=DIRECTORY)
    who = key_label(1, sim.admin_keys[1])
    assert run.failures == [f"{who}, stream 'organizations': GET /v1/organizations/me gave no organization id"]
    assert run.of_type("ACTIVATE_VERSION") == []  # a key that reached no organization: nothing may look deleted
    assert {r["organization_id"] for r in run.records("users")} == {sim.orgs[0].id, sim.orgs[2].id}


def test_an_organization_name_cannot_forge_a_log_line(sim: Simulator, tmp_path: Path) -> None:
    """Found by attack: a name with a newline and escape codes split the closing summary into a fake ERROR line."""
    evil = {"id": sim.orgs[1].id, "name": "Evil\n2026 | ERROR | FAKE LINE\x1b[31m", "type": "organization"}
    sim.add_fault(Fault(path="/v1/organizations/me$", status=200, body=json.dumps(evil), org_index=1, times=None))
    sim.add_fault(Fault(path=USERS, status=403, org_index=1, times=None))
    result = cli(sim, tmp_path)
    assert result.returncode == 1
    assert "\x1b" not in result.stderr
    assert not [line for line in result.stderr.splitlines() if line.startswith("2026 | ERROR | FAKE LINE")]
    summary = (
        f"Sync incomplete: 1 failure(s) in organization 'Evil\\n2026 | ERROR | FAKE LINE\\x1b[31m' "
        f"({sim.orgs[1].id}); the 2 other organization(s) completed every stream and their STATE was sent."
    )
    assert [line for line in result.stderr.splitlines() if line.endswith(summary)] != []


def test_a_404_on_a_real_workspaces_members_fails_instead_of_marking_them_deleted(sim: Simulator, clean: Run) -> None:
    """Found by audit: any 404 read as "no members", the run exited 0 and its members looked deleted."""
    org = sim.orgs[0]
    workspace = next(w for w in org.workspaces if w["name"] != "Default")
    path = f"/v1/organizations/workspaces/{workspace['id']}/members$"
    sim.add_fault(Fault(path=path, status=404, org_index=0, times=None))
    run = run_tap(config_for(sim), streams=DIRECTORY)
    assert len(run.failures) == 1
    assert run.failures[0].startswith(
        f"organization 'Acme' ({org.id}), stream 'workspace_members': "
        f"GET /v1/organizations/workspaces/{workspace['id']}/members failed: HTTP 404 not_found_error: "
    )
    assert "workspace_members" not in [m["stream"] for m in run.of_type("ACTIVATE_VERSION")]
    # The Default Workspace's own 404 is "no members", for the other organizations as for Acme.
    others = [r for r in clean.records("workspace_members") if r["organization_id"] != org.id]
    assert [r for r in run.records("workspace_members") if r["organization_id"] != org.id] == others


@pytest.mark.parametrize(
    "bad_id", [None, 7, "", "../users", "wrkspc_1/members?x="], ids=["null", "integer", "empty", "dots", "slash"]
)
def test_a_workspace_without_a_usable_id_fails_its_organization_and_marks_nothing_deleted(
    sim: Simulator, clean: Run, bad_id: object
) -> None:
    """Found by audit: no id crashed the run (KeyError); a null id requested /workspaces/None/members,
    took its 404 as "no members" and sent ACTIVATE_VERSION."""
    org = sim.orgs[1]
    listed = [dict(w) for w in org.workspaces]
    listed[-1]["id"] = bad_id
    if bad_id is None:
        del listed[-1]["id"]
    body = json.dumps({"data": listed, "has_more": False, "first_id": None, "last_id": None})
    sim.add_fault(Fault(path="/v1/organizations/workspaces$", status=200, body=body, org_index=1, times=None))
    run = run_tap(config_for(sim), streams=[*DIRECTORY, "workspace_rate_limits"])
    failed = sorted(f.split(": GET")[0] for f in run.failures)
    who = f"organization 'Globex' ({org.id})"
    # The workspaces stream itself refuses an id that is no string; a string is its data.
    assert failed == [
        f"{who}, stream 'workspace_members'",
        f"{who}, stream 'workspace_rate_limits'",
        *([f"{who}, stream 'workspaces'"] if not isinstance(bad_id, str) else []),
    ]
    assert f"{who}, stream 'workspace_members': GET /v1/organizations/workspaces failed: HTTP 200: " in "\n".join(
        run.failures
    )
    activated = {m["stream"] for m in run.of_type("ACTIVATE_VERSION")}
    assert activated.isdisjoint({"workspace_members", "workspace_rate_limits"})
    assert not any("/None/" in r.path or ".." in r.path for r in sim.requests)
    for stream in ("users", "invites", "api_keys"):
        assert run.records(stream) == clean.records(stream)


def test_a_principal_type_that_is_no_string_fails_clearly_not_the_run(sim: Simulator, clean: Run) -> None:
    """Found by audit: {"type": {...}} in an API key's principal raised TypeError and emptied the whole run."""
    keys = [dict(k) for k in sim.orgs[0].api_keys]
    keys[0]["principal"] = {"type": {"kind": "user_actor"}, "user_id": "user_x"}
    body = json.dumps({"data": keys, "has_more": False, "first_id": None, "last_id": None})
    sim.add_fault(Fault(path="/v1/organizations/api_keys$", status=200, body=body, org_index=0, times=None))
    run = run_tap(config_for(sim), streams=DIRECTORY)
    assert run.failures == [
        f"organization 'Acme' ({sim.orgs[0].id}), stream 'api_keys': GET /v1/organizations/api_keys failed: "
        "HTTP 200: stream 'api_keys' field 'principal.type' is not a string"
    ]
    for stream in ("users", "invites", "workspaces", "workspace_members"):
        assert run.records(stream) == clean.records(stream)


def test_a_feature_the_organization_lacks_is_skipped_but_a_403_on_the_directory_fails(
    sim: Simulator, clean: Run, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 4: a stream the organization cannot use is skipped, once, for that organization only."""
    window = {"start_date": (sim.now() - dt.timedelta(days=3)).date().isoformat()}
    sim.add_fault(Fault(path="/v1/organizations/cost_report$", status=403, org_index=2, times=None))
    sim.add_fault(Fault(path="/v1/organizations/rate_limits$", status=403, org_index=1, times=None))
    sim.add_fault(Fault(path=USERS, status=403, org_index=1, times=None))
    run = run_tap(config_for(sim, **window), streams=["cost_report", "rate_limits", "users"])
    assert [f.split(": GET")[0] for f in run.failures] == [f"organization 'Globex' ({sim.orgs[1].id}), stream 'users'"]
    assert "HTTP 403 permission_error" in run.failures[0]
    skipped = [r.getMessage().split(" (its rows")[0] for r in caplog.records if r.getMessage().startswith("Skipped")]
    assert skipped == [
        f"Skipped stream 'cost_report' for organization 'Initech' ({sim.orgs[2].id})",
        f"Skipped stream 'rate_limits' for organization 'Globex' ({sim.orgs[1].id})",
    ]
    assert {r["organization_id"] for r in run.records("cost_report")} == {sim.orgs[0].id, sim.orgs[1].id}
    assert {r["organization_id"] for r in run.records("rate_limits")} == {sim.orgs[0].id, sim.orgs[2].id}
    # Neither a skip (rate_limits) nor a failure (users, for Globex) lets deletions through.
    assert run.of_type("ACTIVATE_VERSION") == []


def test_a_stream_only_for_parent_organizations_is_skipped(sim: Simulator, clean: Run) -> None:
    sim.add_fault(
        Fault(path="/v1/organizations/invites$", status=400, org_index=0, error_code="parent_organization_required")
    )
    run = run_tap(config_for(sim), streams=DIRECTORY)
    assert run.failures == []
    assert run.records("invites") == [r for r in clean.records("invites") if r["organization_id"] != sim.orgs[0].id]


@pytest.mark.parametrize(("scheme", "has_more"), [("report", True), ("token", None)])
def test_a_page_token_that_comes_back_stops_the_report_instead_of_looping(scheme: str, has_more: object) -> None:
    """Page tokens, like id cursors, may not repeat even after another one (A, B, A)."""
    tokens = iter(["page_A", "page_B", "page_A", "page_C"])
    asked: list[list[tuple[str, str]]] = []

    class Pages:
        def get(self, org_index: int, path: str, params: t.Any = (), headers: t.Any = ()) -> client_module.Body:
            asked.append(list(params))
            marks = client_module.PageMarks(has_more=has_more, next_page=next(tokens))
            return client_module.Body(b"{}", marks, path)

    chain = pagination.Chain(0, "/v1/organizations/usage_report/claude_code", (("starting_at", "2026-11-01"),), scheme)  # type: ignore[arg-type]
    with pytest.raises(pagination.PaginationError) as error:
        list(pagination.walk(Pages(), chain))  # type: ignore[arg-type]
    assert str(error.value) == (
        "GET /v1/organizations/usage_report/claude_code stopped: the API repeated a cursor (page) after 3 pages; "
        "the API's paging is inconsistent"
    )
    assert [dict(p).get("page") for p in asked] == [None, "page_A", "page_B"]


def test_retry_warnings_name_the_organization_once_it_is_known(
    sim: Simulator, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by audit: retry warnings named only the key's position, never the organization."""
    sim.add_fault(Fault(path=USERS, status=500, org_index=1))
    run = run_tap(config_for(sim), streams=["users"])
    assert run.failures == []
    retries = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Retrying")]
    assert len(retries) == 1
    assert retries[0].startswith(
        f"Retrying in 1.0s (attempt 2 of 6) for organization 'Globex' ({sim.orgs[1].id}): "
        "GET /v1/organizations/users failed: HTTP 500 api_error"
    )
    assert clock.waits == [1.0]


@pytest.mark.parametrize(
    ("scheme", "marks", "message"),
    [
        ("id", {"has_more": "false", "last_id": "user_1"}, "has_more is not a boolean"),
        ("report", {"has_more": 1, "next_page": "p2"}, "has_more is not a boolean"),
        ("id", {"has_more": True, "last_id": {"x": 1}}, "last_id is not a string"),
        ("report", {"has_more": True, "next_page": 7}, "next_page is not a string"),
        ("token", {"next_page": ["p2"]}, "next_page is not a string"),
    ],
)
def test_paging_fields_of_the_wrong_type_stop_the_chain(scheme: str, marks: dict[str, t.Any], message: str) -> None:
    """Found by attack: has_more "false" read as true, and an object cursor was sent as its repr."""
    with pytest.raises(PaginationError) as error:
        next_cursor(t.cast(t.Any, scheme), PageMarks(**marks), "/v1/organizations/users")
    assert str(error.value) == f"GET /v1/organizations/users stopped: {message}; the API's paging is inconsistent"
