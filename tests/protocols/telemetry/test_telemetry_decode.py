"""decode() turns anything that is not a telemetry message into ValueError, and nothing else.

A monitoring client or ``hallctl telemetry tail`` feeds it whatever the broker
delivers: foreign publishers, truncated payloads, other schema versions. One
exception type to catch keeps those clients alive.
"""

from __future__ import annotations

import json
import typing
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hallgw_protocols.telemetry import Alarm, AlarmState, Payload, decode
from hallgw_protocols.telemetry.payloads import ENVELOPE
from hallgw_protocols.telemetry.schemas import load_schema

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TYPES = tuple(sorted(c.TYPE for c in typing.get_args(Payload)))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


def example(type_name: str, index: int = 0) -> dict[str, Any]:
    """A valid message of this type (the schema's own example, checked in test_telemetry_schemas)."""
    found = load_schema(type_name)["examples"][index]
    assert isinstance(found, dict)
    return found


def raw(message: object) -> bytes:
    return json.dumps(message).encode()


def decode_or_value_error(data: bytes) -> Payload | None:
    """The payload, or None when decode() refused with ValueError; any other exception fails the test."""
    try:
        return decode(data)[1]
    except ValueError:
        return None


@pytest.mark.parametrize("type_name", TYPES)
def test_the_examples_decode(type_name: str) -> None:
    envelope, payload = decode(raw(example(type_name)))
    assert type_name == payload.TYPE
    assert list(envelope) == list(ENVELOPE)


@FAST
@given(data=st.binary(max_size=200))
def test_arbitrary_bytes_decode_or_raise_value_error(data: bytes) -> None:
    decode_or_value_error(data)


@FAST
@given(value=json_values)
def test_arbitrary_json_decodes_or_raises_value_error(value: object) -> None:
    assert decode_or_value_error(raw(value)) is None  # no random value is a whole telemetry message


@pytest.mark.parametrize("type_name", TYPES)
@FAST
@given(data=st.data(), value=json_values)
def test_a_field_of_any_json_value_decodes_or_raises_value_error(
    type_name: str, data: st.DataObject, value: object
) -> None:
    message = example(type_name)
    message[data.draw(st.sampled_from(sorted(message)))] = value
    decode_or_value_error(raw(message))


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff\xfe\x00",
        b"\xc3\x28",  # invalid UTF-8
        b"{",
        b"[" * 100_000,  # deeper than the parser's recursion limit
        b'{"a":' * 100_000,
        b"1" * 5000,  # more digits than Python converts
        b"NaN",
        b"null",
        b"[]",
        b'"birth"',
        b"{}",
    ],
    ids=lambda d: repr(d[:12]),
)
def test_garbage_raises_value_error(data: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - every message says its own cause
        decode(data)


@pytest.mark.parametrize("bad", ["bogus", "", "Birth", None, 1, ["birth"], {"type": "birth"}])
def test_an_unknown_type_raises_value_error(bad: object) -> None:
    message = example("birth")
    message["type"] = bad
    with pytest.raises(ValueError, match="unknown telemetry type"):
        decode(raw(message))


@pytest.mark.parametrize("type_name", TYPES)
@pytest.mark.parametrize("bad", [0, 2, -1, 1.5, "1", True, None, [1]])
def test_another_schema_version_raises_value_error(type_name: str, bad: object) -> None:
    message = example(type_name)
    message["schema_version"] = bad
    with pytest.raises(ValueError, match="schema_version"):
        decode(raw(message))


@pytest.mark.parametrize("type_name", TYPES)
def test_a_missing_schema_version_raises_value_error(type_name: str) -> None:
    message = example(type_name)
    del message["schema_version"]
    with pytest.raises(ValueError, match="schema_version"):
        decode(raw(message))


@pytest.mark.parametrize("type_name", TYPES)
def test_every_missing_field_raises_value_error(type_name: str) -> None:
    for name in example(type_name):
        message = example(type_name)
        del message[name]
        with pytest.raises(ValueError, match=r"missing|unknown telemetry type|schema_version"):
            decode(raw(message))


@pytest.mark.parametrize("type_name", TYPES)
def test_an_extra_field_raises_value_error(type_name: str) -> None:
    message = example(type_name)
    message["extra"] = 1
    with pytest.raises(ValueError, match=r"\['extra'\] missing or unknown"):
        decode(raw(message))


def test_a_field_of_another_type_raises_value_error() -> None:
    message = example("death") | {"version": "0.1.0"}
    with pytest.raises(ValueError, match="missing or unknown"):
        decode(raw(message))


@pytest.mark.parametrize("field", ["state", "severity", "action"])
@pytest.mark.parametrize("bad", ["bogus", "RAISED", "", None, 0, [], {}])
def test_a_wrong_alarm_enum_value_raises_value_error(field: str, bad: object) -> None:
    message = example("alarm")
    message[field] = bad
    with pytest.raises(ValueError, match=r"is not a valid"):
        decode(raw(message))


def test_alarm_enums_decode_to_the_enum_members() -> None:
    _, payload = decode(raw(example("alarm", 1)))
    assert isinstance(payload, Alarm)
    assert payload.state is AlarmState.CLEARED
    assert payload.cleared_at == "2025-03-14T09:52:40.729Z"
