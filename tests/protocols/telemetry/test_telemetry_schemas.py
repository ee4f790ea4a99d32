"""The telemetry JSON Schemas: well formed, in step with the payload dataclasses, and true of what encode() writes.

Every payload type's encoded form validates against its schema, decodes back
equal, and the schema rejects what no gateway sends. The examples inside the
schemas and every JSON example in docs/telemetry.md are checked the same way, so
the documentation cannot drift from the code either.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

from hallgw_daemon.core.model import Action, AdminState, DeviceKind, OperState
from hallgw_protocols.telemetry import (
    SCHEMA_VERSION,
    Alarm,
    AlarmState,
    Availability,
    Birth,
    Death,
    DeviceMetrics,
    DeviceState,
    Dropped,
    GatewayMetrics,
    Payload,
    Priority,
    Severity,
    StaffAction,
    decode,
    encode,
)
from hallgw_protocols.telemetry.payloads import ENVELOPE
from hallgw_protocols.telemetry.schemas import load_schema, schema_types

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PAYLOAD_CLASSES: tuple[type[Payload], ...] = typing.get_args(Payload)
TYPES = tuple(sorted(c.TYPE for c in PAYLOAD_CLASSES))
DOCS = Path(__file__).resolve().parents[3] / "docs" / "telemetry.md"

# A real date-time check: jsonschema skips "date-time" without the optional rfc3339-validator.
FORMATS = FormatChecker()


def _is_utc_date_time(value: object) -> bool:
    return not isinstance(value, str) or dt.datetime.fromisoformat(value).utcoffset() == dt.timedelta(0)


FORMATS.checks("date-time", raises=ValueError)(_is_utc_date_time)


def validator(type_name: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(type_name), format_checker=FORMATS)


def is_valid(type_name: str, message: object) -> bool:
    return bool(validator(type_name).is_valid(message))


def examples(type_name: str) -> list[dict[str, Any]]:
    found = load_schema(type_name)["examples"]
    assert isinstance(found, list)
    return found


def walk(schema: Mapping[str, Any], path: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every subschema that describes part of a message, with its path, the root included.

    ``if``/``then``/``else`` only restate the types of properties described elsewhere: not walked.
    """
    yield path, schema
    for key, value in schema.items():
        if key in ("properties", "$defs"):
            for name, sub in value.items():
                yield from walk(sub, f"{path}/{key}/{name}")
        elif key in ("items", "additionalProperties", "propertyNames") and isinstance(value, dict):
            yield from walk(value, f"{path}/{key}")
        elif key in ("anyOf", "oneOf", "allOf"):
            for i, sub in enumerate(value):
                yield from walk(sub, f"{path}/{key}/{i}")


# -- the files and the loader ---------------------------------------------------------------


def test_there_is_one_schema_per_payload_type() -> None:
    assert schema_types() == TYPES
    assert len(TYPES) == 8


@pytest.mark.parametrize("type_name", TYPES)
def test_schema_is_draft_2020_12_with_a_relative_id(type_name: str) -> None:
    schema = load_schema(type_name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"telemetry/v1/{type_name}.schema.json"
    assert schema["title"]
    assert schema["description"]


@pytest.mark.parametrize("name", ["", "nope", "Birth", "../schemas/birth", "birth.schema.json", "birth/"])
def test_loader_refuses_what_is_not_a_payload_type(name: str) -> None:
    with pytest.raises(ValueError, match="no telemetry schema"):
        load_schema(name)


def test_loader_returns_a_fresh_copy() -> None:
    load_schema("death")["properties"].clear()
    assert "reason" in load_schema("death")["properties"]


# -- schema and code cannot drift -----------------------------------------------------------


@pytest.mark.parametrize("cls", PAYLOAD_CLASSES, ids=lambda c: c.TYPE)
def test_properties_are_exactly_the_envelope_and_the_dataclass_fields(cls: type[Payload]) -> None:
    schema = load_schema(cls.TYPE)
    fields = [f.name for f in dataclasses.fields(cls)]
    assert list(schema["properties"]) == [*ENVELOPE, *fields]  # same names, in the order encode() writes them
    assert schema["required"] == list(schema["properties"])
    assert schema["additionalProperties"] is False
    assert schema["properties"]["type"]["const"] == cls.TYPE
    assert schema["properties"]["schema_version"]["const"] == SCHEMA_VERSION


def test_envelope_is_described_identically_everywhere() -> None:
    def envelope(type_name: str) -> dict[str, Any]:
        props = load_schema(type_name)["properties"]
        return {k: props[k] for k in ENVELOPE if k != "type"}

    first = envelope(TYPES[0])
    for type_name in TYPES[1:]:
        assert envelope(type_name) == first, type_name


@pytest.mark.parametrize("type_name", TYPES)
def test_every_property_is_described_and_every_object_is_closed(type_name: str) -> None:
    walked = list(walk(load_schema(type_name)))
    described = [path for path, _ in walked if path.rsplit("/", 2)[-2:-1] == ["properties"]]
    assert len(described) > len(ENVELOPE)
    for path, sub in walked:
        if path in described:
            assert sub.get("description"), f"{path} has no description"
        if "properties" in sub:
            assert sub.get("additionalProperties") is False, f"{path} accepts unknown properties"


def _enum(type_name: str, *path: str) -> list[Any]:
    node: Any = load_schema(type_name)
    for key in path:
        node = node["properties"][key]
    values = node["enum"]
    assert isinstance(values, list)
    return values


@pytest.mark.parametrize(
    ("type_name", "path", "python_enum"),
    [
        ("alarm", ("state",), AlarmState),
        ("alarm", ("severity",), Severity),
        ("alarm", ("action",), StaffAction),
        ("device_state", ("admin_state",), AdminState),
        ("device_state", ("oper_state",), OperState),
        ("device_state", ("last_error", "action"), Action),
    ],
)
def test_enums_list_exactly_the_python_values(type_name: str, path: tuple[str, ...], python_enum: type[Any]) -> None:
    assert _enum(type_name, *path) == [m.value for m in python_enum]


def test_dropped_counts_are_by_priority_name() -> None:
    counts = load_schema("dropped")["properties"]["counts"]
    assert list(counts["properties"]) == [p.name.lower() for p in Priority]
    assert counts["required"] == list(counts["properties"])


def test_every_device_kind_fits_the_kind_pattern() -> None:
    pattern = load_schema("device_state")["properties"]["kind"]["pattern"]
    for kind in DeviceKind:
        assert re.search(pattern, kind.value), kind


# -- examples: in the schemas and in the docs ------------------------------------------------


def _round_trip(message: Mapping[str, Any]) -> None:
    envelope, payload = decode(json.dumps(message).encode())
    assert message["type"] == payload.TYPE
    again = encode(payload, session=envelope["session"], seq=envelope["seq"], time=envelope["time"])
    assert json.loads(again) == message


@pytest.mark.parametrize("type_name", TYPES)
def test_schema_examples_validate_and_round_trip(type_name: str) -> None:
    assert examples(type_name)
    for example in examples(type_name):
        validator(type_name).validate(example)
        _round_trip(example)


def _doc_messages() -> list[dict[str, Any]]:
    blocks = re.findall(r"```json\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.DOTALL)
    messages = [json.loads(b) for b in blocks]
    return [m for m in messages if isinstance(m, dict) and "schema_version" in m]


def test_docs_show_an_example_of_every_payload_type() -> None:
    assert {m["type"] for m in _doc_messages()} == set(TYPES)


def test_every_docs_example_validates_and_round_trips() -> None:
    for message in _doc_messages():
        validator(message["type"]).validate(message)
        _round_trip(message)


# -- rejections -------------------------------------------------------------------------------


def _first(type_name: str) -> dict[str, Any]:
    return examples(type_name)[0]  # load_schema() reads the file afresh: a copy to change at will


@pytest.mark.parametrize("type_name", TYPES)
def test_a_missing_field_is_rejected(type_name: str) -> None:
    for name in _first(type_name):
        message = _first(type_name)
        del message[name]
        assert not is_valid(type_name, message), name


@pytest.mark.parametrize("type_name", TYPES)
def test_an_extra_field_is_rejected(type_name: str) -> None:
    message = _first(type_name)
    message["extra"] = 1
    assert not is_valid(type_name, message)


@pytest.mark.parametrize("type_name", TYPES)
def test_the_wrong_type_or_schema_version_is_rejected(type_name: str) -> None:
    for key, value in [("type", "bogus"), ("schema_version", 2), ("schema_version", True), ("schema_version", "1")]:
        message = _first(type_name)
        message[key] = value
        assert not is_valid(type_name, message), (key, value)
    other = next(t for t in TYPES if t != type_name)
    assert not is_valid(type_name, _first(other))


@pytest.mark.parametrize(
    ("type_name", "path"),
    [
        ("death", ("reason",)),
        ("device_state", ("admin_state",)),
        ("device_state", ("oper_state",)),
        ("alarm", ("state",)),
        ("alarm", ("severity",)),
        ("alarm", ("action",)),
    ],
)
@pytest.mark.parametrize("bad", ["bogus", "", "RAISED", None, 1])
def test_a_wrong_enum_value_is_rejected(type_name: str, path: tuple[str, ...], bad: object) -> None:
    message = _first(type_name)
    message[path[0]] = bad
    assert not is_valid(type_name, message)


def test_a_wrong_nested_enum_value_is_rejected() -> None:
    message = examples("device_state")[1]
    assert is_valid("device_state", message)
    message["last_error"]["action"] = "call someone"
    assert not is_valid("device_state", message)


@pytest.mark.parametrize(
    ("type_name", "index", "change"),
    [
        ("birth", 0, lambda m: m["devices"][0].update(serial="X1")),
        ("birth", 0, lambda m: m["devices"][0].pop("area")),
        ("device_state", 1, lambda m: m["last_error"].update(extra=1)),
        ("device_metrics", 0, lambda m: m["latency_ms"].pop("p99")),
        ("device_metrics", 0, lambda m: m["commands_failed"].update(no_card=1)),
        ("device_metrics", 0, lambda m: m["commands_failed"].update(NO_CARD=-1)),
        ("gateway_metrics", 0, lambda m: m["loop_lag_ms"].update(p90=1.0)),
        ("dropped", 0, lambda m: m["counts"].update(alarm=1)),
        ("availability", 0, lambda m: m["unavailable"].append(m["unavailable"][0])),
        ("availability", 0, lambda m: m.update(available=-1)),
        ("alarm", 0, lambda m: m.update(cleared_at="2025-03-14T09:50:00Z")),  # raised, yet cleared
        ("alarm", 1, lambda m: m.update(cleared_at=None)),  # cleared, yet no time
        ("alarm", 0, lambda m: m.update(alarm_id="idr-08/fault")),
        ("device_state", 0, lambda m: m.update(since="2025-03-14T09:41:17+08:00")),  # not UTC
        ("device_state", 0, lambda m: m.update(since="2025-13-14T09:41:17Z")),  # no such month
        ("gateway_metrics", 0, lambda m: m.update(seq=-1)),
        ("gateway_metrics", 0, lambda m: m.update(session=1.5)),
    ],
)
def test_nested_and_value_errors_are_rejected(type_name: str, index: int, change: Any) -> None:
    message = examples(type_name)[index]
    assert is_valid(type_name, message)
    change(message)
    assert not is_valid(type_name, message)


# -- every payload that can be built validates ------------------------------------------------

segments = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,20}", fullmatch=True)
optional_segments = st.one_of(st.just(""), segments)
kinds = st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)
reasons = st.from_regex(r"[A-Z][A-Z0-9_]{0,20}", fullmatch=True)
texts = st.text(max_size=30)
counts = st.integers(0, 2**53)
amounts = st.floats(0, 1e9, allow_nan=False, allow_infinity=False)
times = st.builds(
    lambda t, z: t.isoformat().replace("+00:00", "Z" if z else "+00:00"),
    st.datetimes(min_value=dt.datetime(2000, 1, 1), timezones=st.just(dt.UTC)),
    st.booleans(),
)


def _values(python_enum: type[Any]) -> st.SearchStrategy[str]:
    return st.sampled_from([m.value for m in python_enum])


def _percentiles(*names: str) -> st.SearchStrategy[dict[str, float]]:
    return st.fixed_dictionaries(dict.fromkeys(names, amounts))


births = st.builds(
    Birth,
    version=st.text(min_size=1, max_size=20),
    config_digest=st.text(min_size=1, max_size=70),
    devices=st.lists(
        st.fixed_dictionaries(
            {
                "device_id": segments,
                "kind": kinds,
                "station": optional_segments,
                "area": segments,
                "name": texts,
            }
        ),
        max_size=4,
    ),
)
deaths = st.builds(Death, reason=st.sampled_from(["connection lost", "shutdown"]))
device_states = st.builds(
    DeviceState,
    device_id=segments,
    kind=kinds,
    station=optional_segments,
    admin_state=_values(AdminState),
    admin_reason=texts,
    oper_state=_values(OperState),
    since=times,
    last_error=st.none()
    | st.fixed_dictionaries({"reason": reasons, "message": texts, "action": _values(Action), "time": times}),
)
device_metrics = st.builds(
    DeviceMetrics,
    device_id=segments,
    interval_s=amounts,
    commands_ok=counts,
    commands_failed=st.dictionaries(reasons, counts, max_size=3),
    latency_ms=st.builds(
        lambda p, n: p | {"count": float(n)}, _percentiles("p50", "p90", "p99", "max"), st.integers(0, 2048)
    ),
    link_errors=counts,
    reconnects=counts,
    probe_failures=counts,
    queue_depth=counts,
    consumables=st.dictionaries(segments, st.one_of(texts, counts, amounts, st.booleans()), max_size=3),
)
gateway_metrics = st.builds(
    GatewayMetrics,
    interval_s=amounts,
    cpu_percent=amounts,
    rss_bytes=counts,
    loop_lag_ms=_percentiles("p50", "p99", "max"),
    queue_depths=st.dictionaries(segments, counts, max_size=3),
    devices_total=counts,
    devices_online=counts,
)


def _alarm(*, state: AlarmState, cleared_at: str, **fields: Any) -> Alarm:
    return Alarm(state=state, cleared_at=cleared_at if state is AlarmState.CLEARED else None, **fields)


alarms = st.builds(
    _alarm,
    state=st.sampled_from(AlarmState),
    cleared_at=times,
    alarm_id=segments,
    device_id=segments,
    severity=st.sampled_from(Severity),
    action=st.sampled_from(StaffAction),
    message=texts,
    raised_at=times,
)
availabilities = st.builds(
    Availability,
    function=segments,
    area=segments,
    available=counts,
    total=counts,
    unavailable=st.lists(segments, unique=True, max_size=5),
)
droppeds = st.builds(
    Dropped,
    counts=st.fixed_dictionaries({p.name.lower(): counts for p in Priority}),
    first_dropped_at=times,
    last_dropped_at=times,
)


STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "birth": births,
    "death": deaths,
    "device_state": device_states,
    "device_metrics": device_metrics,
    "gateway_metrics": gateway_metrics,
    "alarm": alarms,
    "availability": availabilities,
    "dropped": droppeds,
}


def test_there_is_a_strategy_for_every_payload_type() -> None:
    assert sorted(STRATEGIES) == list(TYPES)


@pytest.mark.parametrize("type_name", TYPES)
@FAST
@given(data=st.data(), session=counts, seq=counts, time=times)
def test_every_built_payload_validates_and_decodes_back_equal(
    type_name: str, data: st.DataObject, session: int, seq: int, time: str
) -> None:
    payload: Payload = data.draw(STRATEGIES[type_name])
    assert type_name == payload.TYPE
    message = encode(payload, session=session, seq=seq, time=time)
    validator(type_name).validate(json.loads(message))
    envelope, decoded = decode(message)
    assert decoded == payload
    assert dict(envelope) == {
        "type": type_name,
        "schema_version": SCHEMA_VERSION,
        "session": session,
        "seq": seq,
        "time": time,
    }
