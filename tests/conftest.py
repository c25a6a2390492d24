"""Shared fixtures: a started simulator, real Meltano runs with env overrides, throwaway PostgreSQL schemas.

PostgreSQL tests skip when no server answers on 127.0.0.1:5432 (or psycopg is missing) and fail
instead when REQUIRE_POSTGRES=1, as in CI. Meltano tests skip when Meltano is not installed next to
this Python (run `bash scripts/test.sh`, which installs it) and fail instead when CI=true.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
import typing as t
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tap_claude_developer.client import KEY_PATTERN
from tap_claude_developer.simulator import OrgSpec, Simulator

REPO_ROOT = Path(__file__).resolve().parent.parent
#: Part of every Meltano state id, so that no two test sessions ever read each other's state.
SESSION = uuid.uuid4().hex[:8]
PG_CONNINFO = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3"

#: Three organizations, small enough for quick runs, large enough for several pages of nothing.
THREE_ORGS = (
    OrgSpec("Acme Analytics", users=24, invites=8, workspaces=3, members_per_workspace=5, api_keys=9),
    OrgSpec("Globex Research", users=17, invites=6, workspaces=4, members_per_workspace=4, api_keys=7),
    OrgSpec("Initech Labs", users=9, invites=4, workspaces=2, members_per_workspace=3, api_keys=5),
)

#: Settings and environment that a developer's shell may carry and that must not leak into a test run.
_FOREIGN_ENV = re.compile(r"^(TAP_CLAUDE_DEVELOPER_|TARGET_POSTGRES_|TARGET_CSV_|MELTANO_)")


class _RawRecords(logging.Handler):
    """Keeps every log record as it was logged: it takes no filters, so the tap's redaction
    filter (which the tap attaches to every root handler) cannot clean a record before it is read."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[tuple[str, str]] = []

    def addFilter(self, filter: t.Any) -> None:
        """Refused: this handler must see what the code logged, not what a filter made of it."""

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += logging.Formatter().formatException(record.exc_info)
        self.texts.append((record.name, text))


@pytest.fixture(autouse=True)
def no_key_in_any_log(caplog: pytest.LogCaptureFixture) -> t.Iterator[None]:
    """The sentinel check of every test: nothing key-shaped in any log line it produced (at DEBUG).

    Read before any filter: the tap's last-line redaction must never be what keeps a test green.
    """
    caplog.set_level(logging.DEBUG)
    raw = _RawRecords()
    root = logging.getLogger()
    root.handlers.insert(0, raw)  # first: the tap's filter on a later handler rewrites the record itself
    try:
        yield
    finally:
        root.removeHandler(raw)
    for name, text in raw.texts:
        assert not KEY_PATTERN.search(text), f"a key-shaped string reached a log line: {name}"


def _required(variable: str) -> bool:
    return os.environ.get(variable, "").strip().lower() in {"1", "true", "yes"}


@pytest.fixture(scope="module")
def simulator() -> t.Iterator[Simulator]:
    """A simulator of the three organizations of ``THREE_ORGS`` on 127.0.0.1, one per test module."""
    with Simulator(THREE_ORGS, seed=7) as sim:
        yield sim


def tap_env(sim: Simulator, **settings: t.Any) -> dict[str, str]:
    """The tap pointed at ``sim`` through its real settings, as Meltano reads them from the environment."""
    env = {
        "TAP_CLAUDE_DEVELOPER_API_URL": sim.url,
        "TAP_CLAUDE_DEVELOPER_ADMIN_API_KEYS": json.dumps(sim.admin_keys),
    }
    for name, value in settings.items():
        env[f"TAP_CLAUDE_DEVELOPER_{name.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    return env


@dataclass
class Meltano:
    """Runs the project's Meltano (``meltano.yml`` at the repository root) with environment overrides."""

    executable: str
    #: Meltano's system database (runs and state) for the tests alone: a user's project keeps its own.
    database: str

    def __call__(self, *args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
        clean = {name: value for name, value in os.environ.items() if not _FOREIGN_ENV.match(name)}
        return subprocess.run(
            # --env-file: a developer's .env (real keys, say) must not reach the tests.
            [self.executable, "--log-format=uncolored", f"--env-file={os.devnull}", *args],
            cwd=REPO_ROOT,
            env={**clean, "NO_COLOR": "1", "MELTANO_DATABASE_URI": self.database, **env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def run(self, *blocks: str, state_id_suffix: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        """``meltano run BLOCKS`` with its own state id, so tests never share state with each other or a user."""
        return self("run", f"--state-id-suffix={state_id_suffix}-{SESSION}", *blocks, env=env)

    def state(self, job: str, state_id_suffix: str) -> dict[str, t.Any]:
        """The state Meltano stored for ``job`` (e.g. tap-claude-developer-to-target-postgres) run by ``run``."""
        result = self("state", "get", f"dev:{job}:{state_id_suffix}-{SESSION}", env={})
        assert result.returncode == 0, explain(result)
        return t.cast(dict[str, t.Any], json.loads(result.stdout))


def explain(result: subprocess.CompletedProcess[str], lines: int = 30) -> str:
    """A Meltano run's error lines and the end of its output (metrics left out), for assertion messages."""
    output = [line for line in (result.stdout + result.stderr).splitlines() if "METRIC: " not in line]
    errors = [line for line in output if "[error" in line]
    return "\n".join([f"exit {result.returncode}; errors:", *errors, "last lines:", *output[-lines:]])


@pytest.fixture(scope="session")
def meltano(tmp_path_factory: pytest.TempPathFactory) -> Meltano:
    """The Meltano installed beside this Python, with the project's plugins installed."""
    found = Path(sys.executable).parent / "meltano"
    executable = str(found) if found.exists() else shutil.which("meltano")
    if executable is None:
        message = "Meltano is not installed in this environment: run `bash scripts/test.sh`"
        if _required("CI"):
            pytest.fail(message)
        pytest.skip(message)
    runner = Meltano(executable, f"sqlite:///{tmp_path_factory.mktemp('meltano') / 'meltano.db'}")
    plugins = REPO_ROOT / ".meltano"
    wanted = ("extractors/tap-claude-developer", "loaders/target-postgres", "loaders/target-csv")
    if not all((plugins / name / "venv").is_dir() for name in wanted):
        result = runner("--log-level=warning", "install", env={})
        assert result.returncode == 0, explain(result)
    return runner


def _connect() -> t.Any:
    """A psycopg connection to the test database, or a skip (a failure when REQUIRE_POSTGRES=1)."""
    try:
        import psycopg  # only the PostgreSQL tests need it

        return psycopg.connect(PG_CONNINFO, autocommit=True)
    except Exception as error:  # ImportError or psycopg.OperationalError
        message = f"PostgreSQL is not reachable on 127.0.0.1:5432 ({type(error).__name__}: {error})"
        if _required("REQUIRE_POSTGRES"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def pg() -> t.Iterator[t.Any]:
    """An autocommit psycopg connection to database ``test``, one per module."""
    connection = _connect()
    try:
        yield connection
    finally:
        connection.close()


def _drop(connection: t.Any, schema: str) -> None:
    from psycopg import sql

    connection.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(scope="module")
def pg_schema(pg: t.Any) -> t.Iterator[str]:
    """A schema name no other test uses, shared by one module's tests and dropped afterwards."""
    schema = f"test_{uuid.uuid4().hex[:12]}"
    try:
        yield schema
    finally:
        _drop(pg, schema)
