"""The gateway's correlation of replies to requests."""

from __future__ import annotations

import pytest

from hallgw_protocols.kiosk import (
    Accepted,
    Action,
    CommandKind,
    Completion,
    ConsumablesAnswer,
    Correlator,
    Done,
    Duplicate,
    GetConsumables,
    InProgress,
    MalformedMessage,
    Ping,
    Pong,
    PrintTravelRecord,
    Progress,
    Reason,
    Rejected,
    Stage,
    check_correlation_data,
)
from hallgw_protocols.kiosk.examples import EXAMPLES
from hallgw_protocols.kiosk.messages import MessageType

T = "2025-03-14T09:41:17.002Z"
CMD = PrintTravelRecord(time=T, command_id="c1", business_ref="Q-1", record_ref="R-1", copies=1)


def test_a_command_through_to_its_completion() -> None:
    c = Correlator("gw-01:42")
    data = c.register("kiosk-1", CMD)
    assert check_correlation_data(data) == data
    assert data.startswith(b"gw-01:42:")
    assert len(c) == 1
    for reply in (
        Accepted(time=T, command_id="c1"),
        Progress(time=T, command_id="c1", seq=1, stage=Stage.PRINTING, message=""),
    ):
        match = c.match("kiosk-1", data, reply)
        assert match is not None
        assert not match.final
        assert match.request.command == CMD
    done = Completion(
        time=T, command_id="c1", command=CommandKind.PRINT_TRAVEL_RECORD, outcome=Done(serial="s", completed_at=T)
    )
    match = c.match("kiosk-1", data, done)
    assert match is not None
    assert match.final
    assert len(c) == 0
    assert c.match("kiosk-1", data, done) is None  # a redelivered completion: nobody waits any more


def test_correlation_data_is_unique() -> None:
    c = Correlator("gw")
    values = {c.register("k", Ping(time=T)) for _ in range(1000)}
    assert len(values) == 1000
    assert all(1 <= len(v) <= 64 for v in values)


@pytest.mark.parametrize(
    ("reply", "final"),
    [
        (Rejected(time=T, command_id="c1", reason=Reason.JAM, action=Action.STAFF, message="jam"), True),
        (Duplicate(time=T, command_id="c1", outcome=InProgress(stage=Stage.WRITING)), False),
        (Duplicate(time=T, command_id="c1", outcome=Done(serial="s", completed_at=T)), True),
    ],
)
def test_what_ends_a_request(reply: Rejected | Duplicate, final: bool) -> None:
    c = Correlator("gw")
    data = c.register("k", CMD)
    match = c.match("k", data, reply)
    assert match is not None
    assert match.final is final
    assert len(c) == (0 if final else 1)


def test_answers_to_simple_requests() -> None:
    c = Correlator("gw")
    ping, get = c.register("k", Ping(time=T)), c.register("k", GetConsumables(time=T))
    answer = EXAMPLES[MessageType.CONSUMABLES][0]
    assert isinstance(answer, ConsumablesAnswer)
    with pytest.raises(MalformedMessage, match="does not answer"):
        c.match("k", ping, answer)
    m = c.match("k", get, answer)
    assert m is not None
    assert m.final
    m = c.match("k", ping, Pong(time=T))
    assert m is not None
    assert m.final


def test_unknown_or_missing_correlation_is_not_an_error() -> None:
    c = Correlator("gw")
    c.register("k", CMD)
    assert c.match("k", b"gw:999", Accepted(time=T, command_id="c1")) is None
    assert c.match("k", None, Accepted(time=T, command_id="c1")) is None
    assert len(c) == 1


def test_mismatches_are_protocol_errors() -> None:
    c = Correlator("gw")
    data = c.register("kiosk-1", CMD)
    with pytest.raises(MalformedMessage, match="another kiosk"):
        c.match("kiosk-2", data, Accepted(time=T, command_id="c1"))
    with pytest.raises(MalformedMessage, match="does not answer"):
        c.match("kiosk-1", data, Accepted(time=T, command_id="c2"))
    with pytest.raises(MalformedMessage, match="does not answer"):
        c.match("kiosk-1", data, Pong(time=T))
    assert len(c) == 1  # still waiting for the real answer


def test_forget() -> None:
    c = Correlator("gw")
    data = c.register("k", CMD)
    pending = c.forget(data)
    assert pending is not None
    assert pending.command == CMD
    assert c.forget(data) is None
    assert c.pending() == ()


@pytest.mark.parametrize("prefix", ["", "x" * 48, "网关"])
def test_bad_prefix(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        Correlator(prefix)


def test_register_checks_the_kiosk_id() -> None:
    with pytest.raises(ValueError, match="kiosk id"):
        Correlator("gw").register("Kiosk 1", CMD)
