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
    """A stream's schema compiled into one straight-line function per stream.

    Every record of every stream passes through ``conform``, so instead of looping over the
    schema it runs code generated once from it: a dictionary lookup and an exact-class test per
    field, with the slower ``isinstance`` reasoning only for values that fail the fast test.
    """

    def __init__(self, stream: str, schema: dict[str, t.Any]) -> None:
        self.stream = stream
        self._fields: list[tuple[str, tuple[type, ...], bool, bool, str]] = []
        for name, prop in schema.get("properties", {}).items():
            kinds = _json_types(prop)
            python = tuple(kind for k in kinds for kind in _PYTHON_TYPES.get(k, ()))
            # No declared type at all (an open value): anything goes.
            self._fields.append(
                (name, python or (object,), "null" in kinds or not kinds, "boolean" in kinds, " or ".join(kinds))
            )
        self.conform: t.Callable[[dict[str, t.Any], str], dict[str, t.Any]] = self._compile()

    def _compile(self) -> t.Callable[[dict[str, t.Any], str], dict[str, t.Any]]:
        """``conform``: a record with exactly the schema's fields, in its order (the tap's own report
        rows), is checked and returned as it is; any other (an API object with a new field) is rebuilt."""
        checks: list[str] = []
        scope: dict[str, t.Any] = {"slow": self._slow_check, "names": tuple(name for name, *_ in self._fields)}
        for i, (_, python, nullable, _, _) in enumerate(self._fields):
            scope[f"exact{i}"] = frozenset(python)
            test = f"v{i}.__class__ not in exact{i}" if object not in python else "False"
            if nullable:
                checks.append(f"if v{i} is not None and {test}: slow({i}, v{i}, path)")
            else:
                checks.append(f"if v{i} is None or {test}: slow({i}, v{i}, path)")
        names = scope["names"]
        lines = [
            "def conform(record, path):",
            "    if tuple(record) == names:",
            *(f"        v{i} = record[{name!r}]" for i, name in enumerate(names)),
            *(f"        {check}" for check in checks),
            "        return record",
            "    get = record.get",
            *(f"    v{i} = get({name!r})" for i, name in enumerate(names)),
            *(f"    {check}" for check in checks),
            "    return {" + ", ".join(f"{name!r}: v{i}" for i, name in enumerate(names)) + "}",
        ]
        exec("\n".join(lines), scope)  # noqa: S102  source built above from the stream's own schema
        return t.cast(t.Callable[[dict[str, t.Any], str], dict[str, t.Any]], scope["conform"])

    def _slow_check(self, index: int, value: object, path: str) -> None:
        """A value whose class is not one of the exact ones: accept subclasses, else say what is wrong."""
        name, python, nullable, takes_bool, label = self._fields[index]
        if value is None:
            if not nullable:
                raise SchemaDriftError(path, 200, message=f"stream '{self.stream}' field '{name}' is missing or null")
        elif not isinstance(value, python) or (value.__class__ is bool and not takes_bool):
            raise SchemaDriftError(
                path, 200, message=f"stream '{self.stream}' field '{name}' should be {label}, got {_json_name(value)}"
            )


def _json_name(value: object) -> str:
    for kind, python in _PYTHON_TYPES.items():
        if isinstance(value, python) and not (value.__class__ is bool and kind != "boolean"):
            return kind
    return type(value).__name__


def cents_to_usd(cents: decimal.Decimal) -> decimal.Decimal:
    """Exactly ``cents`` / 100: only the exponent moves, so no digit is rounded whatever the context."""
    try:
        return cents.scaleb(-2, _MOVE_POINT)  # a sixth of the cost of rebuilding from as_tuple()
    except decimal.DecimalException:  # an exponent beyond any context's range: rebuild by hand
        sign, digits, exponent = cents.as_tuple()
        assert isinstance(exponent, int)  # finite, checked by the caller
        return decimal.Decimal((sign, digits, exponent - 2))


#: Moves a decimal point or raises: any rounding, or an exponent out of range, is an error.
_MOVE_POINT = decimal.Context(
    prec=decimal.MAX_PREC,
    Emax=decimal.MAX_EMAX,
    Emin=decimal.MIN_EMIN,
    traps=[
        decimal.InvalidOperation,
        decimal.Inexact,
        decimal.Rounded,
        decimal.Overflow,
        decimal.Underflow,
        decimal.Subnormal,
    ],
)


#: Arithmetic on money without rounding: the default context keeps 28 digits, and amounts in
#: fractional cents can have more (the API's cost strings are not bounded).
EXACT = decimal.Context(prec=decimal.MAX_PREC, traps=[decimal.InvalidOperation])
