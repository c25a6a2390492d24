"""meltano.yml declares every plugin in full (it must install without Meltano Hub) and every tap setting."""

from __future__ import annotations

import json
import subprocess
import sys
import typing as t

import pytest
import yaml

from tests.conftest import REPO_ROOT

#: JSON Schema type -> Meltano setting kind. Numbers are declared `integer` (whole seconds): Meltano 4.4.1
#: turns a `decimal` setting given as text (an environment variable, .env, `meltano config set`) into a
#: Decimal that it then fails to write into the plugin's config ("Object of type Decimal is not JSON
#: serializable"), so the run dies before the tap starts.
KINDS = {
    "string": "string",
    "integer": "integer",
    "number": "integer",
    "boolean": "boolean",
    "array": "array",
    "object": "object",
}


@pytest.fixture(scope="module")
def project() -> dict[str, t.Any]:
    return t.cast("dict[str, t.Any]", yaml.safe_load((REPO_ROOT / "meltano.yml").read_text(encoding="utf-8")))


def plugins(project: dict[str, t.Any]) -> dict[str, dict[str, t.Any]]:
    return {plugin["name"]: plugin for kind in project["plugins"].values() for plugin in kind}


def test_project_settings(project: dict[str, t.Any]) -> None:
    assert "version" not in project, "top-level `version` is deprecated: use requires_meltano"
    assert project["requires_meltano"]
    assert project["send_anonymous_usage_stats"] is False
    assert project["project_id"]


def test_every_plugin_is_declared_in_full(project: dict[str, t.Any]) -> None:
    found = plugins(project)
    assert set(found) == {"tap-claude-developer", "target-postgres", "target-csv"}
    for name, plugin in found.items():
        for field in ("namespace", "pip_url", "executable", "settings"):
            assert plugin.get(field), f"{name} has no {field}: it would need Meltano Hub"
        assert "variant" not in plugin, name
        assert all(setting.get("kind") != "password" for setting in plugin["settings"]), name
    assert found["target-postgres"]["pip_url"] == "meltanolabs-target-postgres==0.8.1"
    assert found["target-csv"]["pip_url"] == "meltanolabs-target-csv==0.5.0"


def expected_settings(about: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """meltano.yml's `settings:` for the tap, as `--about --format=json` describes them."""
    settings = []
    for name, prop in about["settings"]["properties"].items():
        types = prop.get("type", ["object"])
        types = [types] if isinstance(types, str) else [kind for kind in types if kind != "null"]
        setting: dict[str, t.Any] = {"name": name}
        if prop.get("title"):
            setting["label"] = prop["title"]
        setting["kind"] = KINDS[types[0]]
        if prop.get("description"):
            setting["description"] = " ".join(prop["description"].split())
        if "default" in prop:
            setting["value"] = prop["default"]
        if prop.get("secret"):
            setting["sensitive"] = True
        settings.append(setting)
    return settings


def test_extractor_declares_every_tap_setting(project: dict[str, t.Any]) -> None:
    about = json.loads(
        subprocess.run(
            [sys.executable, "-m", "tap_claude_developer", "--about", "--format=json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    tap = plugins(project)["tap-claude-developer"]
    declared = [
        {**setting, "description": " ".join(setting.get("description", "").split())} for setting in tap["settings"]
    ]
    expected = expected_settings(about)
    assert declared == expected, (
        "meltano.yml's settings for tap-claude-developer differ from `--about`; they should read:\n"
        + yaml.safe_dump(expected, sort_keys=False, width=110)
    )
    admin_keys = next(setting for setting in declared if setting["name"] == "admin_api_keys")
    assert admin_keys["kind"] == "array"
    assert admin_keys["sensitive"] is True
    assert sorted(tap["capabilities"]) == sorted(
        ["catalog", "discover", "state", "about", "stream-maps", "schema-flattening", "activate-version"]
    )
