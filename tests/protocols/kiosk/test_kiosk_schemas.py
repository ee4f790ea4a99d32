"""The kiosk JSON Schemas: shipped as generated, well formed, true of every example, and in step with the parser.

The files in ``hallgw_protocols/kiosk/schemas/`` must equal what
``schemagen.build_all()`` makes of the dataclasses and the field rules. After a
change to the messages, rewrite them with
``KIOSK_WRITE_SCHEMAS=1 .venv/bin/pytest tests/protocols/kiosk/test_kiosk_schemas.py``.
Every JSON example in docs/kiosk-protocol.md is checked against its schema and
the parser too, so the written protocol cannot drift from the code.
"""

from __future__ import annotations

import json
import os
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from hallgw_protocols.kiosk import MESSAGE_CLASSES, KioskProtocolError, MessageType, parse
from hallgw_protocols.kiosk.examples import EXAMPLES
from hallgw_protocols.kiosk.messages import field_names
from hallgw_protocols.kiosk.schemagen import ENVELOPE, build_all
from hallgw_protocols.kiosk.schemas import load_schema, schema_types

DOCS = Path(__file__).resolve().parents[3] / "docs" / "kiosk-protocol.md"
SCHEMA_DIR = resources.files("hallgw_protocols.kiosk.schemas")
TYPES = [t.value for t in MessageType]


def _text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def test_shipped_schemas_are_the_generated_ones() -> None:
    built = build_all()
    if os.environ.get("KIOSK_WRITE_SCHEMAS") == "1":  # pragma: no cover - the regeneration step
        for name, schema in built.items():
            Path(str(SCHEMA_DIR.joinpath(name))).write_text(_text(schema), encoding="utf-8")
    stale = [name for name, schema in built.items() if SCHEMA_DIR.joinpath(name).read_text("utf-8") != _text(schema)]
    assert not stale, f"regenerate with KIOSK_WRITE_SCHEMAS=1: {stale}"
    assert sorted(built) == sorted(f"{t}.schema.json" for t in schema_types())


def test_one_schema_per_type() -> None:
    assert schema_types() == tuple(sorted(TYPES))


@pytest.mark.parametrize("name", ["", "../telemetry/schemas/birth", "Ping", "nothing"])
def test_load_schema_refuses_other_names(name: str) -> None:
    with pytest.raises(ValueError, match="no kiosk schema"):
        load_schema(name)


@pytest.mark.parametrize("type_name", TYPES)
def test_schema_is_well_formed_and_lists_the_fields(type_name: str) -> None:
    schema = load_schema(type_name)
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == f"kiosk/v1/{type_name}.schema.json"
    fields = field_names(MESSAGE_CLASSES[MessageType(type_name)])
    assert schema["required"] == [*ENVELOPE, *(f for f in fields if f != "time")]
    assert set(schema["properties"]) == set(schema["required"])


@pytest.mark.parametrize("type_name", TYPES)
def test_schema_examples_validate_and_parse(type_name: str) -> None:
    schema = load_schema(type_name)
    validator = Draft202012Validator(schema)
    assert schema["examples"] == [m.to_dict() for m in EXAMPLES[MessageType(type_name)]]
    for example in schema["examples"]:
        validator.validate(example)
        assert parse(json.dumps(example)).to_dict() == example


def _example(t: MessageType, **changes: Any) -> dict[str, Any]:
    return EXAMPLES[t][0].to_dict() | changes


def _nested(t: MessageType, key: str, **changes: Any) -> dict[str, Any]:
    obj = EXAMPLES[t][0].to_dict()
    obj[key] = obj[key] | changes
    return obj


INVALID: list[dict[str, Any]] = [
    _example(MessageType.PING, schema_version="1"),
    _example(MessageType.PING, schema_version=1),
    _example(MessageType.PING, schema_version="2.0"),
    _example(MessageType.PING, time="2025-03-14T09:41:17+08:00"),
    _example(MessageType.PING, extra=True),
    _example(MessageType.ACCEPTED, command_id=None),
    _example(MessageType.ACCEPTED, command_id="has space"),
    _example(MessageType.ISSUE_ENDORSEMENT, entries=0),
    _example(MessageType.ISSUE_ENDORSEMENT, entries="1"),
    _example(MessageType.ISSUE_ENDORSEMENT, destination="taipei"),
    _example(MessageType.ISSUE_ENDORSEMENT, business_ref="a b"),
    _example(MessageType.RELEASE_CERTIFICATE, pickup_ref="PU-1"),  # slot and pickup_ref
    _example(MessageType.RELEASE_CERTIFICATE, slot=None),  # neither
    _example(MessageType.PRINT_TRAVEL_RECORD, copies=True),
    _example(MessageType.REJECTED, command_id=None),  # a business reason needs the id
    _example(MessageType.REJECTED, reason="not_received"),
    _example(MessageType.PROGRESS, stage="thinking"),
    _example(MessageType.PROGRESS, message="x" * 201),
    _example(MessageType.COMPLETION, outcome={"result": "in_progress", "stage": "printing"}),
    _nested(MessageType.COMPLETION, "outcome", result="not_done"),
    _nested(MessageType.COMPLETION, "outcome", extra=1),
    _example(
        MessageType.COMPLETION, outcome={"result": "not_done", "reason": "malformed", "action": "none", "message": ""}
    ),
    _example(MessageType.OUTCOME, command="ping"),
    _nested(MessageType.STATE, "consumables", paper_pct=101),
    _nested(MessageType.STATE, "consumables", extra=1),
    _example(MessageType.STATE, slots={"total": 0, "occupied": 0}),
    _example(MessageType.STATE, model=""),
    _example(MessageType.HEARTBEAT, interval_s=0),
    _example(MessageType.STATUS, status="away"),
]

VALID_VARIANTS: list[dict[str, Any]] = [
    _example(MessageType.PING, schema_version="1.3", extra=True),  # newer minor: unknown fields ignored
    _nested(MessageType.STATE, "consumables", toner_pct=3) | {"schema_version": "1.1"},
    _nested(MessageType.COMPLETION, "outcome", extra=1) | {"schema_version": "1.12"},
    _example(MessageType.ISSUE_ENDORSEMENT, entries=None),
    _example(MessageType.PROGRESS, message="请取走您的证件"),
    _example(MessageType.PING, time="2025-03-14T09:41:17Z"),
    _example(MessageType.PING, time="2025-03-14T09:41:17.123456Z"),
]


@pytest.mark.parametrize("obj", INVALID, ids=lambda o: o["type"])
def test_parser_and_schema_refuse_the_same(obj: dict[str, Any]) -> None:
    assert not Draft202012Validator(load_schema(obj["type"])).is_valid(obj)
    with pytest.raises(KioskProtocolError):
        parse(json.dumps(obj))


@pytest.mark.parametrize("obj", VALID_VARIANTS, ids=lambda o: o["type"])
def test_parser_and_schema_accept_the_same(obj: dict[str, Any]) -> None:
    Draft202012Validator(load_schema(obj["type"])).validate(obj)
    parse(json.dumps(obj))


def test_what_only_the_parser_checks() -> None:
    """A JSON Schema cannot compare two fields: occupied > total, and impossible dates, are the parser's."""
    over = _example(MessageType.CONSUMABLES, slots={"total": 3, "occupied": 4})
    bad_date = _example(MessageType.PING, time="2025-02-30T00:00:00Z")
    for obj in (over, bad_date):
        assert Draft202012Validator(load_schema(obj["type"])).is_valid(obj)
        with pytest.raises(KioskProtocolError):
            parse(json.dumps(obj))


def _doc_examples() -> list[dict[str, Any]]:
    text = DOCS.read_text(encoding="utf-8")
    blocks = re.findall(r"```json\n(.*?)```", text, flags=re.DOTALL)
    return [json.loads(block) for block in blocks]


def test_docs_examples_validate_and_parse() -> None:
    examples = _doc_examples()
    assert len(examples) >= len(TYPES)
    seen = set()
    for obj in examples:
        Draft202012Validator(load_schema(obj["type"])).validate(obj)
        assert parse(json.dumps(obj)).to_dict() == obj
        seen.add(obj["type"])
    assert seen == set(TYPES), f"types without an example in the docs: {set(TYPES) - seen}"
