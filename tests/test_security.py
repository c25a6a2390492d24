"""The tap is read-only, and an admin key never leaves the x-api-key header."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
import requests

from tap_claude_developer.client import (
    KNOWN_KEYS,
    AdminApiClient,
    ApiError,
    ReadOnlySession,
    ReadOnlyViolation,
    redact,
)
from tap_claude_developer.simulator import Fault, OrgSpec, Simulator
from tests.conftest import Meltano, explain
from tests.fakes import FakeClock

SPECS = [OrgSpec("Acme", users=30, invites=4, workspaces=2, members_per_workspace=3, api_keys=5)] * 2


@pytest.fixture
def sim() -> t.Iterator[Simulator]:
    with Simulator(SPECS, seed=21) as simulator:
        yield simulator


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", b"POST", "post"])
def test_every_method_but_get_is_refused_before_it_is_sent(sim: Simulator, method: str | bytes) -> None:
    with pytest.raises(ReadOnlyViolation, match="the tap is read-only"):
        ReadOnlySession().request(method, f"{sim.url}/v1/organizations/users", headers={"x-api-key": sim.admin_keys[0]})
    assert sim.requests == []


def test_a_prepared_request_cannot_slip_past_the_get_only_check(sim: Simulator) -> None:
    session = ReadOnlySession()
    prepared = session.prepare_request(requests.Request("DELETE", f"{sim.url}/v1/organizations/users/user_x"))
    with pytest.raises(ReadOnlyViolation, match="refused to send DELETE"):
        session.send(prepared)
    assert sim.requests == []


def test_the_session_never_follows_a_redirect_even_when_asked(sim: Simulator) -> None:
    """requests keeps x-api-key on every redirect, to any host: following one could hand the key away."""
    sim.add_fault(Fault(path="/v1/organizations/users$", status=302, headers={"location": f"{sim.url}/v1/elsewhere"}))
    response = ReadOnlySession().get(
        f"{sim.url}/v1/organizations/users", headers={"x-api-key": sim.admin_keys[0]}, allow_redirects=True
    )
    assert response.status_code == 302
    assert response.history == []
    assert [r.path for r in sim.requests] == ["/v1/organizations/users"]


def test_redact_removes_key_shaped_text_and_folds_lines() -> None:
    key = "sk-ant-admin01-" + "x" * 40
    assert redact(f"bad key {key}\nsecond line") == "bad key [redacted key] second line"


def tap_cli(args: list[str], config: dict[str, t.Any], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    env = {**os.environ, "LOGLEVEL": "DEBUG"}
    return subprocess.run(
        [sys.executable, "-m", "tap_claude_developer", "--config", str(path), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def test_a_key_never_appears_in_output_logs_or_state_even_when_the_api_echoes_it(
    sim: Simulator, tmp_path: Path
) -> None:
    keys = sim.admin_keys
    echo = json.dumps(
        {
            "type": "error",
            "error": {"type": "invalid_request_error", "message": f"unexpected x-api-key {keys[1]} for this route"},
            "request_id": "req_echo",
        }
    )
    sim.add_fault(Fault(path="/v1/organizations/invites$", status=400, body=echo, org_index=1))
    sim.add_fault(Fault(path="/v1/organizations/users$", status=500, org_index=0, times=1))
    config = {"admin_api_keys": keys, "api_url": sim.url, "max_requests_per_minute": 100_000}
    result = tap_cli([], config, tmp_path)
    assert result.returncode == 1
    assert "request_id req_echo" in result.stderr
    assert "[redacted key]" in result.stderr
    assert "DEBUG" in result.stderr  # the run really logged at debug level
    states = [json.loads(line) for line in result.stdout.splitlines() if '"type":"STATE"' in line]
    assert states
    for key in keys:
        for secret in (key, key[15:45], key[-30:]):
            assert secret not in result.stdout
            assert secret not in result.stderr
            assert secret not in json.dumps(states)
    # ... while the simulator saw it, in the header only.
    for request in sim.requests:
        assert request.headers["x-api-key"] in keys
        assert all(key not in value for key in keys for _, value in request.query)
        assert all(key not in request.path for key in keys)


@pytest.mark.parametrize("args", [["--about"], ["--about", "--format=json"], ["--discover"]])
def test_about_and_discover_print_no_key(sim: Simulator, tmp_path: Path, args: list[str]) -> None:
    config = {"admin_api_keys": sim.admin_keys, "api_url": sim.url}
    result = tap_cli(args, config, tmp_path)
    assert result.returncode == 0
    for key in sim.admin_keys:
        assert key not in result.stdout + result.stderr
    assert sim.requests == []  # neither asks the API anything


@pytest.mark.parametrize("command", [["list", "--all"], ["print"]])
def test_meltano_config_shows_no_key(meltano: Meltano, command: list[str]) -> None:
    """`meltano config` reads the keys from the environment, as a scheduled job sets them, and masks them."""
    keys = ["sk-ant-admin01-MELTANOSENTINEL-one-AAAA", "sk-ant-admin01-MELTANOSENTINEL-two-BBBB"]
    result = meltano(
        "config",
        *command[:1],
        "tap-claude-developer",
        *command[1:],
        env={"TAP_CLAUDE_DEVELOPER_ADMIN_API_KEYS": json.dumps(keys)},
    )
    assert result.returncode == 0, explain(result)
    assert "admin_api_keys" in result.stdout
    assert "MELTANOSENTINEL" not in result.stdout + result.stderr


def refused_users(sim: Simulator, key: str, status: int, body: str) -> ApiError:
    """The error a client raises when the users listing answers ``status`` with ``body`` (no retry)."""
    sim.add_fault(Fault(path="/v1/organizations/users$", status=status, body=body, times=None))
    client = AdminApiClient(
        api_url=sim.url,
        keys=[key],
        anthropic_version="2023-06-01",
        user_agent="tests",
        timeout=5.0,
        max_retries=0,
        max_retry_wait=1.0,
        requests_per_minute=1000,
        clock=FakeClock(),
    )
    with pytest.raises(ApiError) as error:
        client.get(0, "/v1/organizations/users")
    return error.value


def test_an_api_error_echoing_the_key_in_any_field_keeps_it_out_of_the_exception(sim: Simulator) -> None:
    """Found by audit: only the message was redacted; a key in error.type or request_id stayed in str(error)."""
    key = sim.admin_keys[0]
    echo = json.dumps(
        {
            "type": "error",
            "error": {"type": f"echo {key}", "message": f"x {key}", "details": {"error_code": f"c_{key}"}},
            "request_id": f"req_{key}",
        }
    )
    failure = refused_users(sim, key, 400, echo)
    assert str(failure) == (
        "GET /v1/organizations/users failed: HTTP 400 echo [redacted key]: x [redacted key] "
        "(request_id req_[redacted key])"
    )
    assert key not in repr(failure)
    assert failure.error_code == "c_[redacted key]"


def windows(key: str, width: int = 12) -> list[str]:
    """Every piece of ``width`` characters of a key's secret part, in any case."""
    secret = key.removeprefix("sk-ant-admin")
    return [secret[i : i + width].lower() for i in range(len(secret) - width + 1)]


@pytest.mark.parametrize(
    "disguise",
    [
        lambda key: key[7:],  # without "sk-ant-"
        lambda key: f"{key[:16]} {key[12:]}",  # cut in two
        lambda key: "req_" + key[15:],
        lambda key: key.replace("-", " - "),  # spaced out
        lambda key: key.upper(),
        lambda key: key[20:60],  # the middle alone
    ],
    ids=["no-prefix", "cut", "in-a-request-id", "spaced", "upper-case", "middle"],
)
def test_an_echoed_key_is_redacted_in_whatever_form_it_comes_back(
    sim: Simulator, disguise: t.Callable[[str], str]
) -> None:
    """Found by attack: only text starting with a literal 'sk-ant-' was redacted."""
    key = sim.admin_keys[0]
    echo = json.dumps(
        {
            "type": "error",
            "error": {"type": "authentication_error", "message": f"bad key {disguise(key)} here"},
            "request_id": f"req_1 {disguise(key)}",
        }
    )
    failure = refused_users(sim, key, 401, echo)
    text = f"{failure} {failure!r}".lower()
    assert "[redacted key]" in text
    assert [piece for piece in windows(key) if piece in text] == []


def test_a_key_echoed_in_a_page_never_reaches_a_record(sim: Simulator, tmp_path: Path) -> None:
    """Found by attack: /me answering with the key in the organization's name put it in stdout."""
    key = sim.admin_keys[1]
    me = json.dumps({"id": "org-echo", "type": "organization", "name": f"Org {key} / {key[7:].upper()}"})
    sim.add_fault(Fault(path="/v1/organizations/me$", status=200, body=me, org_index=1, times=None))
    config = {"admin_api_keys": sim.admin_keys, "api_url": sim.url, "max_requests_per_minute": 100_000}
    result = tap_cli([], config, tmp_path)
    assert result.returncode == 0
    names = [
        message["record"]["name"]
        for message in map(json.loads, result.stdout.splitlines())
        if message["type"] == "RECORD" and message["stream"] == "organizations"
    ]
    assert names == ["Acme", "Org [redacted key] / [redacted key]"]
    for output in (result.stdout.lower(), result.stderr.lower()):
        assert [piece for piece in windows(key) if piece in output] == []


def test_control_characters_from_an_error_body_are_escaped() -> None:
    """Found by attack: ANSI escapes in an API's message reached the log as they were."""
    assert redact("forged \x1b[31mred\x07 line\r\nnext") == "forged \\x1b[31mred\\x07 line next"


def test_a_key_too_short_to_be_real_redacts_no_ordinary_words() -> None:
    """Its pieces would be words ('key'): such keys are refused by the settings and ignored here."""
    KNOWN_KEYS.add(["key", "sk-ant-admin01-short"])
    assert redact("the 1st admin API key (ending ...abcd): short") == "the 1st admin API key (ending ...abcd): short"
