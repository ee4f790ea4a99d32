"""Builds the JSON Schema (draft 2020-12) of every kiosk message from the dataclasses and the field rules.

The shipped ``schemas/<type>.schema.json`` files are this module's output; a
test fails when they drift from it (and rewrites them when asked, see
``schemas/__init__.py``). Building from the same rules the parser applies keeps
schema and parser in step. What a schema cannot say (a collection machine's
``occupied`` at most ``total``) only the parser checks.
"""

from __future__ import annotations

import enum
import types
import typing
from typing import Any, Final

from hallgw_protocols.kiosk.examples import EXAMPLES
from hallgw_protocols.kiosk.messages import (
    FIELD_RULES,
    MAJOR,
    MESSAGE_CLASSES,
    MINOR,
    PROTOCOL_REASONS,
    SCHEMA_VERSION,
    IntRule,
    MessageType,
    NotDone,
    Reason,
    Rejected,
    ReleaseCertificate,
    StrRule,
    TextRule,
    _hints,
    _Part,
)

DRAFT: Final = "https://json-schema.org/draft/2020-12/schema"
ENVELOPE: Final = ("schema_version", "type", "time")


def _reasons_for(cls: type) -> list[str]:
    if cls is NotDone:
        return [r.value for r in Reason if r not in PROTOCOL_REASONS]
    if cls is Rejected:
        return [r.value for r in Reason if r is not Reason.NOT_RECEIVED]
    return [r.value for r in Reason]


def _scalar(owner: type, name: str, hint: Any) -> dict[str, Any]:
    if hint is str:
        rule = FIELD_RULES.get(name)
        if isinstance(rule, StrRule):
            return {"type": "string", "pattern": f"^{rule.pattern}$"}
        if isinstance(rule, TextRule):
            return {"type": "string", "maxLength": rule.max_length}
        return {"type": "string"}
    if hint is int:
        int_rule = FIELD_RULES[name]
        assert isinstance(int_rule, IntRule)  # noqa: S101 - every int field has one (a test checks it)
        return {"type": "integer", "minimum": int_rule.minimum, "maximum": int_rule.maximum}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        values = _reasons_for(owner) if hint is Reason else [m.value for m in hint]
        return {"type": "string", "enum": values}
    raise TypeError(f"no schema for {hint!r}")  # pragma: no cover


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


def _field(owner: type, name: str, hint: Any, strict: bool) -> dict[str, Any]:
    if _is_union(hint):
        return _union(owner, name, hint, strict)
    if isinstance(hint, type) and issubclass(hint, _Part):
        return _object(hint, strict, result=False)
    return _scalar(owner, name, hint)


def _union(owner: type, name: str, hint: Any, strict: bool) -> dict[str, Any]:
    args = typing.get_args(hint)
    rest = [a for a in args if a is not type(None)]
    nullable = len(rest) < len(args)
    if len(rest) > 1:  # an outcome
        variants = [_object(cls, strict, result=True) for cls in rest]
        return {"oneOf": [*variants, {"type": "null"}] if nullable else variants}
    inner = _field(owner, name, rest[0], strict)
    if "enum" in inner:
        return {**inner, "type": [inner["type"], "null"], "enum": [*inner["enum"], None]}
    if inner.get("type") in ("string", "integer"):
        return {**inner, "type": [inner["type"], "null"]}
    return {"anyOf": [inner, {"type": "null"}]}


def _object(cls: type, strict: bool, *, result: bool) -> dict[str, Any]:
    hints = _hints(cls)
    properties: dict[str, Any] = {}
    if result:
        properties["result"] = {"const": cls.RESULT}  # type: ignore[attr-defined]
    for name, hint in hints.items():
        properties[name] = _field(cls, name, hint, strict)
    schema: dict[str, Any] = {"type": "object", "required": list(properties), "properties": properties}
    if strict:
        schema["additionalProperties"] = False
    return schema


def _strict_overlay(cls: type) -> dict[str, Any]:
    """At the minor version we speak, unknown fields are refused, at every level."""
    hints = _hints(cls)
    nested: dict[str, Any] = {}
    for name, hint in hints.items():
        inner = [a for a in typing.get_args(hint) if a is not type(None)] if _is_union(hint) else [hint]
        parts = [a for a in inner if isinstance(a, type) and issubclass(a, _Part)]
        if len(parts) == 1:
            nested[name] = {"anyOf": [{"type": "null"}, _object(parts[0], True, result=False)]}
        elif parts:
            nested[name] = {"anyOf": [{"type": "null"}, *(_object(p, True, result=True) for p in parts)]}
    overlay: dict[str, Any] = {"propertyNames": {"enum": [*ENVELOPE, *(n for n in hints if n != "time")]}}
    if nested:
        overlay["properties"] = nested
    return overlay


def _rules(cls: type) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = [
        {
            "if": {"properties": {"schema_version": {"pattern": f"^{MAJOR}\\.(0|[1-{MINOR}])$"}}},
            "then": _strict_overlay(cls),
        }
        if MINOR
        else {"if": {"properties": {"schema_version": {"const": SCHEMA_VERSION}}}, "then": _strict_overlay(cls)}
    ]
    if cls is ReleaseCertificate:
        rules.append(
            {
                "oneOf": [
                    {"properties": {"slot": {"type": "string"}, "pickup_ref": {"type": "null"}}},
                    {"properties": {"slot": {"type": "null"}, "pickup_ref": {"type": "string"}}},
                ]
            }
        )
    if cls is Rejected:
        protocol = sorted(r.value for r in PROTOCOL_REASONS - {Reason.COMMAND_ID_REUSED})
        rules.append(
            {
                "if": {"properties": {"command_id": {"type": "null"}}},
                "then": {"properties": {"reason": {"enum": protocol}}},
            }
        )
    return rules


def build_schema(message_type: MessageType) -> dict[str, Any]:
    """The JSON Schema of one message type, envelope included."""
    cls = MESSAGE_CLASSES[message_type]
    body = _object(cls, strict=False, result=False)
    doc = (cls.__doc__ or message_type.value).strip().splitlines()[0]
    return {
        "$schema": DRAFT,
        "$id": f"kiosk/v{MAJOR}/{message_type.value}.schema.json",
        "title": f"kiosk {message_type.value}",
        "description": (
            f"{doc} Kiosk protocol {SCHEMA_VERSION} (docs/kiosk-protocol.md). At a newer minor version of "
            f"major {MAJOR}, unknown fields are allowed (and ignored); at {SCHEMA_VERSION} they are refused."
        ),
        "type": "object",
        "required": [*ENVELOPE, *(n for n in body["required"] if n != "time")],
        "properties": {
            "schema_version": {"type": "string", "pattern": f"^{MAJOR}\\.(0|[1-9][0-9]{{0,5}})$"},
            "type": {"const": message_type.value},
            "time": _scalar(cls, "time", str),
            **{k: v for k, v in body["properties"].items() if k != "time"},
        },
        "allOf": _rules(cls),
        "examples": [m.to_dict() for m in EXAMPLES[message_type]],
    }


def build_all() -> dict[str, dict[str, Any]]:
    """Every schema, by file name (``<type>.schema.json``)."""
    return {f"{t.value}.schema.json": build_schema(t) for t in MessageType}
