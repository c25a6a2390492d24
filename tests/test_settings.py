"""Bad settings fail before any request: one clear line each, exit code 1, no traceback, no key."""

from __future__ import annotations

import collections
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tap_claude_developer import settings
from tap_claude_developer.settings import SETTINGS
from tap_claude_developer.simulator import Simulator
from tap_claude_developer.tap import STREAMS

ADMIN = "sk-ant-admin01-" + "A" * 80 + "-Zq9sAA"
OTHER_ADMIN = "sk-ant-admin01-" + "B" * 80 + "-Wx3kAA"
STANDARD = "sk-ant-api03-" + "C" * 80 + "-Pn4tAA"
ANALYTICS_DIMENSIONS = ", ".join(
    [
        "actor",
        "actor_type",
        "agent_id",
        "api_key_id",
        "claude_tag_category",
        "claude_tag_user_id",
        "context_window",
        "deployment_id",
        "environment_id",
        "inference_geo",
        "model",
        "organization_id",
        "product",
        "rbac_group_id",
        "service_tier",
        "session_id",
        "slack_channel_id",
        "speed",
        "user_profile_id",
        "workspace_id",
    ]
)

#: (config, the exact error lines the tap prints, in order)
BAD_CONFIGS: list[tuple[dict[str, object], list[str]]] = [
    # Found by audit: the "end before start" and a plain bad date had no case of their own;
    # a key this short would also escape the pattern that redacts keys from logs.
    (
        {"admin_api_keys": [ADMIN], "start_date": "2026-11-10", "end_date": "2026-11-01"},
        ["end_date must be after start_date."],
    ),
    (
        {"admin_api_keys": [ADMIN], "start_date": "2026-11-10T00:00:00Z", "end_date": "2026-11-10"},
        ["end_date must be after start_date."],
    ),
    (
        {"admin_api_keys": [ADMIN], "start_date": "yesterday"},
        ["start_date must be a date (2026-11-01) or an RFC 3339 datetime (2026-11-01T00:00:00Z)."],
    ),
    (  # ISO 8601 forms that Python 3.11's fromisoformat accepts but RFC 3339 does not
        {"admin_api_keys": [ADMIN], "start_date": "20261101"},
        ["start_date must be a date (2026-11-01) or an RFC 3339 datetime (2026-11-01T00:00:00Z)."],
    ),
    (
        {"admin_api_keys": [ADMIN], "end_date": "2026-W44-1"},
        ["end_date must be a date (2026-11-01) or an RFC 3339 datetime (2026-11-01T00:00:00Z)."],
    ),
    (
        {"admin_api_keys": ["sk-ant-admin01-x"]},
        ["the 1st admin API key is too short to be an Admin API key (they are about 100 characters long)."],
    ),
    # Found by attack: these passed validation and then crashed or misbehaved.
    (
        {"admin_api_keys": ["sk-ant-admin01-" + "\u043a\u043b\u044e\u0447" * 8 + "-Zq9sAA"]},
        [
            "the 1st admin API key (ending ...9sAA) holds characters no API key has (only letters, digits, "
            "- and _): was something pasted with it?"
        ],
    ),
    (
        {"admin_api_keys": ["sk-ant-admin01-" + "A" * 40 + "\r\nX-Evil: 1"]},
        [
            "the 1st admin API key holds characters no API key has (only letters, digits, - and _): "
            "was something pasted with it?"
        ],
    ),
    (
        {"admin_api_keys": ["sk-ant-admin01-" + "A" * 20 + " " + "A" * 20]},
        [
            "the 1st admin API key (ending ...AAAA) holds characters no API key has (only letters, digits, "
            "- and _): was something pasted with it?"
        ],
    ),
    ({"admin_api_keys": [ADMIN], "request_timeout": 1e308}, ["request_timeout must be at most 3600."]),
    ({"admin_api_keys": [ADMIN], "max_retry_wait": 86400}, ["max_retry_wait must be at most 3600."]),
    # Found by attack: these raised ValueError or passed, then failed after retries at run time.
    (
        {"admin_api_keys": [ADMIN], "api_url": "http://[::1"},
        ["api_url is not a valid URL: check the brackets around its IPv6 address."],
    ),
    (
        {"admin_api_keys": [ADMIN], "api_url": "http://127.0.0.1:99999"},
        ["api_url has a bad port: it must be a number from 1 to 65535."],
    ),
    (
        {"admin_api_keys": [ADMIN], "api_url": "http://127.0.0.1:abc"},
        ["api_url has a bad port: it must be a number from 1 to 65535."],
    ),
    (
        {"admin_api_keys": [ADMIN], "api_url": "https://api.anthropic.com\n"},
        ["api_url must not contain spaces, line breaks or control characters (check its ends)."],
    ),
    (
        {"admin_api_keys": [ADMIN], "api_url": " https://api.anthropic.com"},
        ["api_url must not contain spaces, line breaks or control characters (check its ends)."],
    ),
    # Found by attack: HTTP headers are latin-1, so these crashed the sync with UnicodeEncodeError.
    (
        {"admin_api_keys": [ADMIN], "anthropic_version": "2023-06-01\u65e5\u672c"},
        ["anthropic_version must be printable ASCII (no control characters): it is sent as an HTTP header."],
    ),
    (
        {"admin_api_keys": [ADMIN], "user_agent": "tap/\u65e5\u672c"},
        ["user_agent must be printable ASCII (no control characters): it is sent as an HTTP header."],
    ),
    (
        {"admin_api_keys": [ADMIN], "user_agent": "tap\x00"},
        ["user_agent must be printable ASCII (no control characters): it is sent as an HTTP header."],
    ),
    # Found by attack: year 1 broke the bookmark format, 1970 planned ~20,800 requests per organization.
    (
        {"admin_api_keys": [ADMIN], "start_date": "0001-01-01"},
        ["start_date must be on or after 2020-01-01: Anthropic's API did not exist before then."],
    ),
    (
        {"admin_api_keys": [ADMIN], "start_date": "1970-01-01"},
        ["start_date must be on or after 2020-01-01: Anthropic's API did not exist before then."],
    ),
    (
        {"admin_api_keys": [ADMIN], "end_date": "2019-12-31T23:59:59Z"},
        ["end_date must be on or after 2020-01-01: Anthropic's API did not exist before then."],
    ),
    (
        {"admin_api_keys": [ADMIN], "start_date": "0001-01-01T00:00:00+01:00"},  # OverflowError in UTC
        ["start_date must be a date (2026-11-01) or an RFC 3339 datetime (2026-11-01T00:00:00Z)."],
    ),
    ({}, ["admin_api_keys is required: give one Admin API key (sk-ant-admin...) per organization."]),
    ({"admin_api_keys": []}, ["admin_api_keys is empty: give at least one Admin API key (sk-ant-admin...)."]),
    ({"admin_api_keys": ADMIN}, ["admin_api_keys must be a list of Admin API keys (a JSON array of strings)."]),
    ({"admin_api_keys": [ADMIN, 42]}, ["the 2nd admin API key is not a string."]),
    ({"admin_api_keys": ["   "]}, ["the 1st admin API key is blank."]),
    (
        {"admin_api_keys": [" " + ADMIN]},
        ["the 1st admin API key (ending ...9sAA) has leading or trailing whitespace; remove it."],
    ),
    (
        {"admin_api_keys": [ADMIN, STANDARD]},
        [
            "the 2nd admin API key (ending ...4tAA) is a standard API key (sk-ant-api...), which cannot read "
            "the Admin API: an organization admin creates an Admin key (sk-ant-admin...) in the Claude Console "
            "under Settings > Admin Keys."
        ],
    ),
    (
        {"admin_api_keys": ["not-a-key-at-all-but-long-enough"]},
        ["the 1st admin API key (ending ...ough) is not an Admin API key: Admin keys start with sk-ant-admin."],
    ),
    (
        {"admin_api_keys": [ADMIN, OTHER_ADMIN, ADMIN]},
        ["the 3rd admin API key (ending ...9sAA) is the same key as the 1st; give each key once."],
    ),
    (
        {"admin_api_keys": [ADMIN], "admin_api_key": [ADMIN]},
        ["unknown setting 'admin_api_key' (did you mean 'admin_api_keys'?)."],
    ),
    ({"admin_api_keys": [ADMIN], "colour": "blue"}, ["unknown setting 'colour'."]),
    (
        {"admin_api_keys": [ADMIN], "api_url": "api.anthropic.com"},
        ["api_url must be an http(s) URL such as https://api.anthropic.com."],
    ),
    ({"admin_api_keys": [ADMIN], "api_url": 5}, ["api_url must be a string."]),
    (  # found by attack: requests went to /v1/v1/organizations/me
        {"admin_api_keys": [ADMIN], "api_url": "https://api.anthropic.com/v1"},
        ["api_url must be the API's base URL, without /v1 (the tap adds /v1/organizations/...)."],
    ),
    (
        {"admin_api_keys": [ADMIN], "api_url": "https://gateway.example/anthropic/V1/"},
        ["api_url must be the API's base URL, without /v1 (the tap adds /v1/organizations/...)."],
    ),
    (
        {"admin_api_keys": [ADMIN], "api_url": "https://user:pw@api.anthropic.com"},
        ["api_url must not carry credentials, a query or a fragment."],
    ),
    ({"admin_api_keys": [ADMIN], "page_size": 0}, ["page_size must be from 1 to 1000."]),
    ({"admin_api_keys": [ADMIN], "page_size": 1001}, ["page_size must be from 1 to 1000."]),
    ({"admin_api_keys": [ADMIN], "page_size": "100"}, ["page_size must be an integer."]),
    ({"admin_api_keys": [ADMIN], "page_size": 2.5}, ["page_size must be an integer."]),
    ({"admin_api_keys": [ADMIN], "concurrency": 0}, ["concurrency must be from 1 to 64."]),
    ({"admin_api_keys": [ADMIN], "max_requests_per_minute": -5}, ["max_requests_per_minute must be at least 1."]),
    ({"admin_api_keys": [ADMIN], "request_timeout": 0}, ["request_timeout must be greater than 0."]),
    ({"admin_api_keys": [ADMIN], "request_timeout": -1.5}, ["request_timeout must be greater than 0."]),
    ({"admin_api_keys": [ADMIN], "max_retries": -1}, ["max_retries must be from 0 to 20."]),
    ({"admin_api_keys": [ADMIN], "max_retry_wait": 0}, ["max_retry_wait must be greater than 0."]),
    (
        {"admin_api_keys": [ADMIN], "emit_activate_version_messages": "yes"},
        ["emit_activate_version_messages must be a boolean."],
    ),
    ({"admin_api_keys": [ADMIN], "anthropic_version": " "}, ["anthropic_version must be a non-blank single line."]),
    ({"admin_api_keys": [ADMIN], "user_agent": "a\nb"}, ["user_agent must be a non-blank single line."]),
    ({"admin_api_keys": [ADMIN], "page_size": None}, ["page_size must not be null."]),
    (
        {"admin_api_keys": [ADMIN], "usage_bucket_width": "1w"},
        ["usage_bucket_width must be one of: 1d, 1h, 1m."],
    ),
    ({"admin_api_keys": [ADMIN], "usage_bucket_width": None}, ["usage_bucket_width must not be null."]),
    (
        {"admin_api_keys": [ADMIN], "usage_group_by": ["model", "workspace"]},
        [
            "usage_group_by may list only: account_id, api_key_id, context_window, inference_geo, model, "
            "service_account_id, service_tier, speed, workspace_id."
        ],
    ),
    (
        {"admin_api_keys": [ADMIN], "usage_group_by": ["model", "model"]},
        ["usage_group_by lists the same value twice."],
    ),
    ({"admin_api_keys": [ADMIN], "usage_group_by": "model"}, ["usage_group_by must be an array."]),
    (
        {"admin_api_keys": [ADMIN], "cost_group_by": ["model"]},
        ["cost_group_by may list only: workspace_id, description."],
    ),
    ({"admin_api_keys": [ADMIN], "cost_group_by": [None]}, ["cost_group_by may list only: workspace_id, description."]),
    ({"admin_api_keys": [ADMIN], "analytics_lookback_days": 366}, ["analytics_lookback_days must be from 0 to 365."]),
    ({"admin_api_keys": [ADMIN], "analytics_lookback_days": None}, ["analytics_lookback_days must not be null."]),
    (
        {"admin_api_keys": [ADMIN], "analytics_usage_group_by": ["model", "cost_type"]},
        [f"analytics_usage_group_by may list only: {ANALYTICS_DIMENSIONS}."],
    ),
    (
        {"admin_api_keys": [ADMIN], "analytics_cost_group_by": ["model", "model"]},
        ["analytics_cost_group_by lists the same value twice."],
    ),
    (
        {
            "admin_api_keys": [ADMIN],
            "analytics_usage_group_by": ["actor", "actor_type", "model", "workspace_id", "api_key_id", "product"],
        },
        ["analytics_usage_group_by may list at most 5 dimensions."],
    ),
    (
        # cost_type and token_type do not count toward the 5, a sixth dimension does.
        {
            "admin_api_keys": [ADMIN],
            "analytics_cost_group_by": [
                "cost_type",
                "model",
                "workspace_id",
                "api_key_id",
                "speed",
                "token_type",
                "actor",
                "product",
            ],
        },
        ["analytics_cost_group_by may list at most 5 dimensions (cost_type and token_type do not count)."],
    ),
    (
        {"admin_api_keys": [ADMIN], "analytics_usage_group_by": ["rbac_group_id", "claude_tag_user_id"]},
        ["analytics_usage_group_by cannot combine claude_tag_user_id with rbac_group_id (the API refuses it)."],
    ),
    (
        {"admin_api_keys": [STANDARD, "  "], "page_size": 0},
        [
            "the 1st admin API key (ending ...4tAA) is a standard API key (sk-ant-api...), which cannot read "
            "the Admin API: an organization admin creates an Admin key (sk-ant-admin...) in the Claude Console "
            "under Settings > Admin Keys.",
            "the 2nd admin API key is blank.",
            "page_size must be from 1 to 1000.",
        ],
    ),
]


def run_tap(config: dict[str, object], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    # api_url points nowhere reachable: if validation let a request through, it would show.
    return subprocess.run(
        [sys.executable, "-m", "tap_claude_developer", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "LOGLEVEL": "DEBUG"},
        check=False,
    )


def error_lines(stderr: str) -> list[str]:
    return [line.split(" | ")[-1] for line in stderr.splitlines() if "| ERROR" in line]


@pytest.mark.parametrize(("config", "expected"), BAD_CONFIGS, ids=[f"bad-{i}" for i in range(len(BAD_CONFIGS))])
def test_bad_config_fails_with_its_exact_lines(config: dict[str, object], expected: list[str], tmp_path: Path) -> None:
    result = run_tap(config, tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert error_lines(result.stderr) == [*expected, "Config validation failed"]
    assert "Traceback" not in result.stderr
    for secret in (ADMIN, OTHER_ADMIN, STANDARD, "A" * 30, "B" * 30, "C" * 30):
        assert secret not in result.stderr


def test_there_are_at_least_25_bad_configurations() -> None:
    assert len(BAD_CONFIGS) >= 25


def test_a_good_config_passes_validation() -> None:
    from tap_claude_developer.tap import TapClaudeDeveloper

    tap = TapClaudeDeveloper(config={"admin_api_keys": [ADMIN, OTHER_ADMIN]}, parse_env_config=False)
    assert tap.config["page_size"] == 1000
    assert tap.config["api_url"] == "https://api.anthropic.com"
    assert tap.config["emit_activate_version_messages"] is True


@pytest.mark.parametrize("url", ["https://gateway.example/anthropic", "http://127.0.0.1:8080/", "https://v1.example"])
def test_an_api_url_with_a_gateway_path_is_accepted(url: str) -> None:
    assert settings.validate({"admin_api_keys": [ADMIN], "api_url": url}, SETTINGS) == []


#: (option, file content, the exact error line after "<option> <path>: ")
BAD_FILES: list[tuple[str, bytes, str]] = [
    (
        "--state",
        b"{not json",
        "not a JSON file (Expecting property name enclosed in double quotes: line 1 column 2 (char 1)).",
    ),
    ("--state", b"", "not a JSON file (Expecting value: line 1 column 1 (char 0))."),
    (
        "--state",
        b"\xff\xfe",
        "not a JSON file ('utf-8' codec can't decode byte 0xff in position 0: invalid start byte).",
    ),
    ("--state", b"[]", "a Singer STATE must be a JSON object."),
    ("--state", b'{"bookmarks": []}', "'bookmarks' must be an object of one object per stream."),
    ("--state", b'{"bookmarks": {"users": "x"}}', "'bookmarks' must be an object of one object per stream."),
    (
        "--state",
        b'{"bookmarks": {"users": {"partitions": [1]}}}',
        "the partitions of stream 'users' must be objects with a 'context'.",
    ),
    (
        "--state",
        b'{"type": "STATE", "value": {"bookmarks": {}}}',
        "this is a whole Singer STATE message: pass only its 'value' (the object holding 'bookmarks').",
    ),
    (
        "--state",
        b'{"bookmarks": {"users": {"partitions": [{"context": {}, "progress_markers": "x"}]}}}',
        "the progress_markers of stream 'users' must be objects.",
    ),
    (
        "--state",
        b'{"bookmarks": {"users": {"progress_markers": 1}}}',
        "the progress_markers of stream 'users' must be objects.",
    ),
    ("--state", b'{"bookmarks": {"users": {"x": NaN}}}', "not a JSON file (NaN is not JSON)."),
    ("--catalog", b"nope", "not a JSON file (Expecting value: line 1 column 1 (char 0))."),
    ("--catalog", b'{"streams": {}}', "a Singer catalog must be a JSON object with a 'streams' list."),
    ("--catalog", b'{"streams": [1]}', "every catalog stream must be an object with a 'tap_stream_id'."),
    (
        "--catalog",
        b'{"streams": [{"tap_stream_id": "users", "schema": "x"}]}',
        "the schema of stream 'users' must be an object.",
    ),
    (
        "--catalog",
        b'{"streams": [{"tap_stream_id": "users", "metadata": "x"}]}',
        "the metadata of stream 'users' must be a list of objects with a 'breadcrumb' and a 'metadata'.",
    ),
    (
        "--catalog",
        b'{"streams": [{"tap_stream_id": "users", "metadata": [{"breadcrumb": []}]}]}',
        "the metadata of stream 'users' must be a list of objects with a 'breadcrumb' and a 'metadata'.",
    ),
    (
        "--catalog",
        b'{"streams": [{"tap_stream_id": "messages_usage", "replication_key": "ending_at"}]}',
        "the replication key of stream 'messages_usage' is fixed ('starting_at'), but the catalog gives 'ending_at'.",
    ),
    (
        "--catalog",
        b'{"streams": [{"tap_stream_id": "claude_code_usage", "metadata": '
        b'[{"breadcrumb": [], "metadata": {"replication-key": "actor"}}]}]}',
        "the replication key of stream 'claude_code_usage' is fixed ('date'), but the catalog gives 'actor'.",
    ),
    (
        "--catalog",
        b'{"streams": [{"tap_stream_id": "cost_report"}]}',
        "the replication key of stream 'cost_report' is fixed ('starting_at'), but the catalog gives none.",
    ),
    (
        "--catalog",
        b'{"streams": [{"tap_stream_id": "users", "replication_key": "added_at"}]}',
        "the replication key of stream 'users' is fixed (none), but the catalog gives 'added_at'.",
    ),
    # A second --config file, after a good one: each ended in the SDK's 46-line traceback.
    (
        "--config",
        b"{not json",
        "not a JSON file (Expecting property name enclosed in double quotes: line 1 column 2 (char 1)).",
    ),
    ("--config", b"", "not a JSON file (Expecting value: line 1 column 1 (char 0))."),
    ("--config", b'{"page_size": NaN}', "not a JSON file (NaN is not JSON)."),
    ("--config", b'{"request_timeout": -Infinity}', "not a JSON file (-Infinity is not JSON)."),
    ("--config", b"[]", "the settings must be a JSON object."),
    ("--config", b'"sk-ant-admin01-x"', "the settings must be a JSON object."),
    ("--config", b"null", "the settings must be a JSON object."),
    (
        "--config",
        b'{"api_url": "\xe9"}',
        "not a JSON file ('utf-8' codec can't decode byte 0xe9 in position 13: invalid continuation byte).",
    ),
]


@pytest.mark.parametrize(("option", "content", "expected"), BAD_FILES)
def test_a_bad_config_state_or_catalog_file_is_one_clear_line(
    option: str, content: bytes, expected: str, tmp_path: Path
) -> None:
    """Found by attack: these ended in tracebacks from json or the SDK."""
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"admin_api_keys": [ADMIN], "api_url": "http://127.0.0.1:9"}))
    path = tmp_path / "file.json"
    path.write_bytes(content)
    result = subprocess.run(
        [sys.executable, "-m", "tap_claude_developer", "--config", str(config), option, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert error_lines(result.stderr) == [f"{option} {path}: {expected}"]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("name", "expected"), [("missing.json", "No such file or directory"), (".", "Is a directory")])
def test_a_config_path_that_is_no_readable_file_is_one_clear_line(name: str, expected: str, tmp_path: Path) -> None:
    """Found by attack: the SDK's FileNotFoundError and IsADirectoryError were tracebacks."""
    path = tmp_path / name
    result = subprocess.run(
        [sys.executable, "-m", "tap_claude_developer", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 1
    assert error_lines(result.stderr) == [f"--config {path}: cannot be read ({expected})."]
    assert "Traceback" not in result.stderr


CHECK = "(check its brackets, quotes and commas)."

#: (environment variables beyond a good key, the exact error lines) for --config ENV
BAD_ENVIRONMENTS: list[tuple[dict[str, str], list[str]]] = [
    # Found by attack: int() raised ValueError, "maybe" read as false, a broken array split at its commas.
    ({"PAGE_SIZE": "abc"}, ["environment variable TAP_CLAUDE_DEVELOPER_PAGE_SIZE must be an integer."]),
    ({"PAGE_SIZE": "1.5"}, ["environment variable TAP_CLAUDE_DEVELOPER_PAGE_SIZE must be an integer."]),
    ({"REQUEST_TIMEOUT": "abc"}, ["environment variable TAP_CLAUDE_DEVELOPER_REQUEST_TIMEOUT must be a number."]),
    ({"MAX_RETRY_WAIT": "inf"}, ["environment variable TAP_CLAUDE_DEVELOPER_MAX_RETRY_WAIT must be a number."]),
    (
        {"ADMIN_API_KEYS": f'["{ADMIN}", "{OTHER_ADMIN}'},
        [
            "environment variable TAP_CLAUDE_DEVELOPER_ADMIN_API_KEYS is not a JSON array "
            "(check its brackets, quotes and commas)."
        ],
    ),
    (
        {"USAGE_GROUP_BY": '["model"'},
        [f"environment variable TAP_CLAUDE_DEVELOPER_USAGE_GROUP_BY is not a JSON array {CHECK}"],
    ),
    (
        {"EMIT_ACTIVATE_VERSION_MESSAGES": "maybe"},
        [
            "environment variable TAP_CLAUDE_DEVELOPER_EMIT_ACTIVATE_VERSION_MESSAGES must be true or false "
            "(or 1/0, yes/no, on/off)."
        ],
    ),
    (
        {"STREAM_MAPS": "{"},
        [f"environment variable TAP_CLAUDE_DEVELOPER_STREAM_MAPS is not a JSON object {CHECK}"],
    ),
    ({"PAGE_SIZE": "5000"}, ["page_size must be from 1 to 1000."]),  # parsed, then the usual checks
]


@pytest.mark.parametrize(("variables", "expected"), BAD_ENVIRONMENTS)
def test_a_bad_environment_variable_is_one_clear_line(
    variables: dict[str, str], expected: list[str], tmp_path: Path
) -> None:
    env = {"PATH": "/usr/bin:/bin", "TAP_CLAUDE_DEVELOPER_ADMIN_API_KEYS": json.dumps([ADMIN])}
    env |= {f"TAP_CLAUDE_DEVELOPER_{name}": value for name, value in variables.items()}
    result = subprocess.run(
        [sys.executable, "-m", "tap_claude_developer", "--config", "ENV"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert error_lines(result.stderr) == [*expected, "Config validation failed"]
    assert "Traceback" not in result.stderr
    for secret in ("A" * 30, "B" * 30):
        assert secret not in result.stderr


def test_environment_variables_are_read_as_their_settings_types(monkeypatch: pytest.MonkeyPatch) -> None:
    from tap_claude_developer.tap import TapClaudeDeveloper

    for name, value in {
        "ADMIN_API_KEYS": f"{ADMIN},{OTHER_ADMIN}",  # the SDK's older x,y,z form still works
        "PAGE_SIZE": "50",
        "REQUEST_TIMEOUT": "2.5",  # the SDK left numbers as text, which then failed validation
        "EMIT_ACTIVATE_VERSION_MESSAGES": "No",
        "USAGE_GROUP_BY": '["model"]',
        "START_DATE": "2026-01-01",
    }.items():
        monkeypatch.setenv(f"TAP_CLAUDE_DEVELOPER_{name}", value)
    tap = TapClaudeDeveloper(config={}, parse_env_config=True)
    assert tap.config["admin_api_keys"] == [ADMIN, OTHER_ADMIN]
    assert tap.config["page_size"] == 50
    assert tap.config["request_timeout"] == 2.5
    assert tap.config["emit_activate_version_messages"] is False
    assert tap.config["usage_group_by"] == ["model"]
    assert tap.config["start_date"] == "2026-01-01"


def test_the_discovered_catalog_passes_the_catalog_checks() -> None:
    """The replication-key check must not refuse the catalog the tap itself writes."""
    from tap_claude_developer.tap import TapClaudeDeveloper, _catalog_problem

    tap = TapClaudeDeveloper(config={"admin_api_keys": [ADMIN]}, parse_env_config=False)
    assert _catalog_problem(json.loads(json.dumps(tap.catalog_dict))) is None


def test_the_connection_test_fails_when_a_key_is_refused(simulator: Simulator, tmp_path: Path) -> None:
    """Found by attack: --test exited 0 after a 401."""

    def connection_test(keys: list[str]) -> subprocess.CompletedProcess[str]:
        config = tmp_path / "config.json"
        config.write_text(json.dumps({"admin_api_keys": keys, "api_url": simulator.url, "max_retries": 0}))
        return subprocess.run(
            [sys.executable, "-m", "tap_claude_developer", "--config", str(config), "--test"],
            capture_output=True,
            text=True,
            timeout=120,
            env={"PATH": "/usr/bin:/bin"},
            check=False,
        )

    assert connection_test(simulator.admin_keys[:1]).returncode == 0
    result = connection_test([simulator.admin_keys[0], ADMIN])  # the simulator knows no such key
    assert result.returncode == 1
    assert error_lines(result.stderr)[-1] == (
        "Sync incomplete: 1 failure(s) in the 2nd admin API key (ending ...9sAA); "
        "the 1 other organization(s) completed every stream and their STATE was sent."
    )
    assert "Traceback" not in result.stderr


def test_the_connection_test_reads_one_record_of_every_selected_stream(simulator: Simulator, tmp_path: Path) -> None:
    """Found by a new user: --test gave records for 2 streams of 13, and an ERROR line for each.

    The SDK stops each stream at its first record; the chains that stream left unread were
    served to the next stream, which then took none of its own.
    """
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"admin_api_keys": simulator.admin_keys, "api_url": simulator.url}))
    result = subprocess.run(
        [sys.executable, "-m", "tap_claude_developer", "--config", str(config), "--test"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    records = collections.Counter(
        message["stream"] for message in map(json.loads, result.stdout.splitlines()) if message["type"] == "RECORD"
    )
    opt_in = {"analytics_usage", "analytics_cost"}
    assert records == {stream.name: 1 for stream in STREAMS if stream.name not in opt_in}
    assert error_lines(result.stderr) == []
