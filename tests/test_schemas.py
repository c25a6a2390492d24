"""Every stream's schema is one that Singer targets accept and flatten cleanly."""

from __future__ import annotations

import typing as t

import jsonschema
import pytest

from tap_claude_developer.tap import TapClaudeDeveloper

TAP = TapClaudeDeveloper(config={"admin_api_keys": ["sk-ant-admin01-" + "s" * 60]}, parse_env_config=False)


@pytest.mark.parametrize("name", list(TAP.streams))
def test_schema_is_valid_json_schema(name: str) -> None:
    jsonschema.Draft7Validator.check_schema(TAP.streams[name].schema)


def nested_objects(schema: dict[str, t.Any], path: str = "") -> t.Iterator[tuple[str, dict[str, t.Any]]]:
    for key, prop in schema.get("properties", {}).items():
        kinds = prop.get("type", [])
        if "object" in (kinds if isinstance(kinds, list) else [kinds]):
            yield f"{path}{key}", prop
            yield from nested_objects(prop, f"{path}{key}.")


@pytest.mark.parametrize("name", list(TAP.streams))
def test_nullable_or_free_form_objects_declare_no_properties(name: str) -> None:
    """The SDK's flattening breaks target-csv on a null object or free-form keys (see base.JSON_OBJECT)."""
    for path, prop in nested_objects(TAP.streams[name].schema):
        kinds = prop.get("type", [])
        if prop.get("properties"):
            assert "null" not in kinds, f"{name}.{path} can be null: declare it as JSON_OBJECT"
            assert not prop.get("additionalProperties"), f"{name}.{path} has free-form keys: declare it as JSON_OBJECT"


@pytest.mark.parametrize("name", list(TAP.streams))
def test_primary_keys_are_required_fields(name: str) -> None:
    stream = TAP.streams[name]
    assert stream.primary_keys[0] == "organization_id"
    for key in stream.primary_keys:
        kinds = stream.schema["properties"][key]["type"]
        assert "null" not in kinds, f"{name}.{key} is a primary key and may be null"
