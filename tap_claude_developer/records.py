"""Records leave the tap with exactly their schema's fields, of their schema's types.

The SDK's own conformance pass costs about as much as everything else per record, and it lets
a wrong type through to the target. This does the useful part once, cheaply: unknown fields are
dropped (new API fields are ignored until the schema names them), a missing field becomes null,
and a top-level value of the wrong type stops the stream with a message naming stream and field.
"""

from __future__ import annotations

import decimal
import typing as t

from tap_claude_developer.client import ApiError

_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float, decimal.Decimal),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


class SchemaDriftError(ApiError):
    """A response the stream cannot read as its schema says."""


def _json_types(prop: dict[str, t.Any]) -> list[str]:
    if "anyOf" in prop:
        return [kind for option in prop["anyOf"] for kind in _json_types(option)]
    kinds = prop.get("type", [])
    return [kinds] if isinstance(kinds, str) else list(kinds)


class RecordShape:
    """A stream's schema compiled into a per-record check."""

    def __init__(self, stream: str, schema: dict[str, t.Any]) -> None:
        self.stream = stream
        self._fields: list[tuple[str, tuple[type, ...], bool, bool, str]] = []
        for name, prop in schema.get("properties", {}).items():
            kinds = _json_types(prop)
            python = tuple(kind for k in kinds for kind in _PYTHON_TYPES.get(k, ()))
            takes_bool = "boolean" in kinds
            # No declared type at all (an open value): anything goes.
            self._fields.append(
                (name, python or (object,), "null" in kinds or not kinds, takes_bool, " or ".join(kinds))
            )

    def conform(self, record: dict[str, t.Any], path: str) -> dict[str, t.Any]:
        out = {}
        for name, python, nullable, takes_bool, label in self._fields:
            value = record.get(name)
            if value is None:
                if not nullable:
                    raise SchemaDriftError(
                        path, 200, message=f"stream '{self.stream}' field '{name}' is missing or null"
                    )
            elif not isinstance(value, python) or (value.__class__ is bool and not takes_bool):
                raise SchemaDriftError(
                    path,
                    200,
                    message=f"stream '{self.stream}' field '{name}' should be {label}, got {_json_name(value)}",
                )
            out[name] = value
        return out


def _json_name(value: object) -> str:
    for kind, python in _PYTHON_TYPES.items():
        if isinstance(value, python) and not (value.__class__ is bool and kind != "boolean"):
            return kind
    return type(value).__name__
