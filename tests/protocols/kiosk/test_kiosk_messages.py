"""Kiosk messages: round trips, every validation rule on parse and on build, versions, channels."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hallgw_protocols._common import LocalProtocolError, RemoteProtocolError
from hallgw_protocols.kiosk import (
    CHANNEL_TYPES,
    MAX_MESSAGE_BYTES,
    MESSAGE_CLASSES,
    SCHEMA_VERSION,
    Accepted,
    Action,
    Channel,
    CommandKind,
    Completion,
    Consumables,
    Done,
    Duplicate,
    Fault,
    InProgress,
    InvalidMessage,
    IssueEndorsement,
    KioskProtocolError,
    MalformedMessage,
    Message,
    MessageType,
    NotDone,
    OutcomeAnswer,
    Ping,
    Pong,
    PrintTravelRecord,
    Progress,
    QueryOutcome,
    Reason,
    Rejected,
    RejectionCounter,
    ReleaseCertificate,
    Slots,
    Stage,
    State,
    UnknownMessageType,
    UnsupportedVersion,
    answers,
    command_digest,
    ends_request,
    parse,
    parse_command,
    parse_for_channel,
    parse_heartbeat,
    parse_reply,
    parse_state,
    parse_status,
    rejection_for,
)
from hallgw_protocols.kiosk.examples import EXAMPLES
from hallgw_protocols.kiosk.messages import FIELD_RULES, IntRule, field_names

T = "2025-03-14T09:41:17.002Z"
ALL_EXAMPLES: list[Message] = [m for ms in EXAMPLES.values() for m in ms]


def example(t: MessageType) -> dict[str, Any]:
    return EXAMPLES[t][0].to_dict()


def refused(obj: object) -> MalformedMessage:
    data = obj if isinstance(obj, bytes | str) else json.dumps(obj)
    with pytest.raises(MalformedMessage) as info:
        parse(data)
    return info.value


# ------------------------------------------------------------------ round trips


@pytest.mark.parametrize("message", ALL_EXAMPLES, ids=lambda m: m.TYPE.value)
def test_round_trip(message: Message) -> None:
    assert parse(message.to_bytes()) == message
    assert parse(message.to_json()) == message
    assert json.loads(message.to_bytes()) == message.to_dict()
    assert parse_for_channel(next(c for c, ts in CHANNEL_TYPES.items() if message.TYPE in ts), message.to_bytes())


def test_every_type_has_an_example_and_a_channel() -> None:
    assert set(EXAMPLES) == set(MessageType) == set(MESSAGE_CLASSES)
    assert sorted(t.value for ts in CHANNEL_TYPES.values() for t in ts) == sorted(t.value for t in MessageType)


def test_envelope_comes_first() -> None:
    assert list(Ping(time=T).to_dict()) == ["schema_version", "type", "time"]
    assert Ping(time=T).to_bytes() == b'{"schema_version":"1.0","type":"ping","time":"2025-03-14T09:41:17.002Z"}'


def test_text_is_utf8_not_escaped() -> None:
    m = Progress(time=T, command_id="c1", seq=1, stage=Stage.PRINTING, message="正在打印")
    assert "正在打印".encode() in m.to_bytes()
    assert parse(m.to_bytes()) == m


def test_every_int_field_has_a_rule() -> None:
    for cls in MESSAGE_CLASSES.values():
        for name in field_names(cls):
            hint = str(cls.__dataclass_fields__[name].type)
            if hint.startswith("int"):
                assert isinstance(FIELD_RULES[name], IntRule), (cls, name)


def test_specific_parsers() -> None:
    assert parse_command(json.dumps(example(MessageType.PING))) == EXAMPLES[MessageType.PING][0]
    assert isinstance(parse_reply(json.dumps(example(MessageType.ACCEPTED))), Accepted)
    assert parse_state(json.dumps(example(MessageType.STATE))) == EXAMPLES[MessageType.STATE][0]
    assert parse_heartbeat(json.dumps(example(MessageType.HEARTBEAT))) == EXAMPLES[MessageType.HEARTBEAT][0]
    assert parse_status(json.dumps(example(MessageType.STATUS))) == EXAMPLES[MessageType.STATUS][0]


@pytest.mark.parametrize(
    ("channel", "message_type"),
    [
        (Channel.CMD, MessageType.ACCEPTED),
        (Channel.CMD, MessageType.STATE),
        (Channel.REPLY, MessageType.ISSUE_ENDORSEMENT),
        (Channel.STATE, MessageType.HEARTBEAT),
        (Channel.HEARTBEAT, MessageType.STATUS),
        (Channel.STATUS, MessageType.STATE),
    ],
)
def test_a_type_on_the_wrong_channel_is_refused(channel: Channel, message_type: MessageType) -> None:
    with pytest.raises(UnknownMessageType, match="not sent here"):
        parse_for_channel(channel, json.dumps(example(message_type)))


def test_wrong_family_for_specific_parser() -> None:
    with pytest.raises(UnknownMessageType):
        parse_command(json.dumps(example(MessageType.COMPLETION)))
    with pytest.raises(UnknownMessageType):
        parse_reply(json.dumps(example(MessageType.QUERY_OUTCOME)))
    with pytest.raises(UnknownMessageType):
        parse_state(json.dumps(example(MessageType.STATUS)))


# ------------------------------------------------------------------ payload level


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not json",
        b"\xff\xfe{}",  # not UTF-8
        b"[]",
        b"42",
        b'"text"',
        b"null",
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b'{"type": "ping", "type": "ping"}',  # duplicate key
        b"[" * 100_000,  # nesting
        b'{"n": ' + b"1" * 5000 + b"}",  # an integer too long for int()
    ],
)
def test_payloads_that_are_not_json_objects(data: bytes) -> None:
    err = refused(data)
    assert err.fault is Fault.MALFORMED
    assert err.field is None


def test_too_large() -> None:
    obj = example(MessageType.PROGRESS) | {"pad": "x" * MAX_MESSAGE_BYTES}
    assert "at most 65536 bytes" in str(refused(obj))


def test_not_bytes() -> None:
    with pytest.raises(MalformedMessage):
        parse(42)  # type: ignore[arg-type]


# ------------------------------------------------------------------ envelope and versions


@pytest.mark.parametrize(
    ("version", "error"),
    [
        (None, MalformedMessage),
        (1, MalformedMessage),
        (1.0, MalformedMessage),
        ("1", MalformedMessage),
        ("1.0.0", MalformedMessage),
        ("01.0", MalformedMessage),
        ("1.00", MalformedMessage),
        ("v1.0", MalformedMessage),
        ("2.0", UnsupportedVersion),
        ("0.9", UnsupportedVersion),
        ("10.0", UnsupportedVersion),
    ],
)
def test_schema_version(version: object, error: type[Exception]) -> None:
    obj = example(MessageType.ACCEPTED) | {"schema_version": version}
    with pytest.raises(error) as info:
        parse(json.dumps(obj))
    assert info.value.field == "schema_version"  # type: ignore[attr-defined]
    assert info.value.command_id == "req-7f3a9c1e-0001"  # type: ignore[attr-defined]


def test_missing_version() -> None:
    obj = example(MessageType.PING)
    del obj["schema_version"]
    assert refused(obj).field == "schema_version"


def test_unknown_major_is_refused_before_the_type() -> None:
    with pytest.raises(UnsupportedVersion):
        parse(json.dumps({"schema_version": "2.0", "type": "teleport", "time": T}))


def test_newer_minor_is_accepted_and_unknown_fields_ignored_at_every_level() -> None:
    obj = example(MessageType.STATE) | {"schema_version": "1.7", "ambient_temp_c": 21}
    obj["consumables"] = obj["consumables"] | {"toner_pct": 40}
    assert parse(json.dumps(obj)) == EXAMPLES[MessageType.STATE][0]
    done = example(MessageType.COMPLETION) | {"schema_version": "1.1"}
    done["outcome"] = done["outcome"] | {"photo_of_receipt": "no"}
    assert parse(json.dumps(done)) == EXAMPLES[MessageType.COMPLETION][0]


def test_newer_minor_still_checks_known_fields() -> None:
    obj = example(MessageType.HEARTBEAT) | {"schema_version": "1.3", "seq": -1}
    assert refused(obj).field == "seq"
    obj = example(MessageType.HEARTBEAT) | {"schema_version": "1.3"}
    del obj["uptime_s"]
    assert refused(obj).field == "uptime_s"


def test_unknown_field_at_our_minor_is_refused() -> None:
    obj = example(MessageType.ACCEPTED) | {"extra": 1}
    err = refused(obj)
    assert err.field == "extra"
    assert "unknown fields are refused" in str(err)


def test_unknown_nested_field_at_our_minor_is_refused() -> None:
    obj = example(MessageType.STATE)
    obj["slots"] = {"total": 3, "occupied": 1, "jammed": 0}
    assert refused(obj).field == "slots.jammed"
    obj = example(MessageType.COMPLETION)
    obj["outcome"] = obj["outcome"] | {"stage": "printing"}
    assert refused(obj).field == "outcome.stage"


@pytest.mark.parametrize("kind", ["teleport", "", "PING", "Ping"])
def test_unknown_type(kind: str) -> None:
    with pytest.raises(UnknownMessageType) as info:
        parse(json.dumps({"schema_version": SCHEMA_VERSION, "type": kind, "time": T, "command_id": "c-1"}))
    assert info.value.fault is Fault.UNKNOWN_TYPE
    assert info.value.command_id == "c-1"


@pytest.mark.parametrize("kind", [None, 3, ["ping"]])
def test_type_must_be_a_string(kind: object) -> None:
    assert refused({"schema_version": SCHEMA_VERSION, "type": kind, "time": T}).field == "type"


def test_type_missing() -> None:
    assert refused({"schema_version": SCHEMA_VERSION, "time": T}).field == "type"


# ------------------------------------------------------------------ field rules, one per rule


def with_(t: MessageType, **changes: object) -> dict[str, Any]:
    return example(t) | changes


@pytest.mark.parametrize(
    ("obj", "field", "words"),
    [
        # presence and null
        ({k: v for k, v in example(MessageType.ACCEPTED).items() if k != "command_id"}, "command_id", "missing"),
        ({k: v for k, v in example(MessageType.PING).items() if k != "time"}, "time", "missing"),
        (with_(MessageType.ACCEPTED, command_id=None), "command_id", "must not be null"),
        # types
        (with_(MessageType.PROGRESS, seq="1"), "seq", "must be an integer, got a string"),
        (with_(MessageType.PROGRESS, seq=True), "seq", "must be an integer, got a boolean"),
        (with_(MessageType.PROGRESS, seq=1.0), "seq", "must be an integer, got a number"),
        (with_(MessageType.PROGRESS, message=5), "message", "must be a string, got an integer"),
        (with_(MessageType.PROGRESS, stage=1), "stage", "must be a string"),
        (with_(MessageType.STATE, consumables=[]), "consumables", "must be an object, got an array"),
        (with_(MessageType.COMPLETION, outcome="done"), "outcome", "must be an object"),
        # times
        (with_(MessageType.PING, time="2025-03-14T09:41:17+00:00"), "time", "UTC time"),
        (with_(MessageType.PING, time="2025-03-14 09:41:17Z"), "time", "UTC time"),
        (with_(MessageType.PING, time="2025-03-14T09:41:17.1234567Z"), "time", "UTC time"),
        (with_(MessageType.PING, time="2025-02-30T09:41:17Z"), "time", "not a valid date"),
        (with_(MessageType.PING, time="2025-03-14T24:00:00Z"), "time", "not a valid date"),
        (with_(MessageType.PING, time="２０２５-03-14T09:41:17Z"), "time", "UTC time"),
        # string patterns
        (with_(MessageType.ACCEPTED, command_id=""), "command_id", "1 to 64"),
        (with_(MessageType.ACCEPTED, command_id="-x"), "command_id", "1 to 64"),
        (with_(MessageType.ACCEPTED, command_id="a" * 65), "command_id", "1 to 64"),
        (with_(MessageType.ACCEPTED, command_id="a b"), "command_id", "1 to 64"),
        (with_(MessageType.ACCEPTED, command_id="a\n"), "command_id", "1 to 64"),
        (with_(MessageType.ISSUE_ENDORSEMENT, business_ref="has space"), "business_ref", "printable ASCII"),
        (with_(MessageType.ISSUE_ENDORSEMENT, business_ref="x" * 129), "business_ref", "printable ASCII"),
        (with_(MessageType.ISSUE_ENDORSEMENT, business_ref="张三"), "business_ref", "printable ASCII"),
        (with_(MessageType.PRINT_TRAVEL_RECORD, record_ref=""), "record_ref", "printable ASCII"),
        (with_(MessageType.RELEASE_CERTIFICATE, slot="B/17"), "slot", "1 to 16"),
        (with_(MessageType.STATE, model=" SE"), "model", "no leading or trailing space"),
        (with_(MessageType.STATE, firmware=""), "firmware", "1 to 64"),
        (with_(MessageType.PROGRESS, message="x" * 201), "message", "at most 200 characters"),
        (with_(MessageType.STATUS, reason="x" * 201), "reason", "at most 200 characters"),
        (with_(MessageType.PROGRESS, message="\ud800"), "message", "lone surrogate"),
        # integer ranges
        (with_(MessageType.PROGRESS, seq=-1), "seq", "from 0 to"),
        (with_(MessageType.PROGRESS, seq=2**53), "seq", "from 0 to"),
        (with_(MessageType.ISSUE_ENDORSEMENT, entries=0), "entries", "from 1 to 99"),
        (with_(MessageType.ISSUE_ENDORSEMENT, valid_days=3651), "valid_days", "from 1 to 3650"),
        (with_(MessageType.ISSUE_ENDORSEMENT, stay_days=0), "stay_days", "from 1 to 180"),
        (with_(MessageType.PRINT_TRAVEL_RECORD, copies=6), "copies", "from 1 to 5"),
        (with_(MessageType.HEARTBEAT, interval_s=0), "interval_s", "from 1 to 3600"),
        (with_(MessageType.HEARTBEAT, uptime_s=-5), "uptime_s", "from 0"),
        (with_(MessageType.STATE, command_window=0), "command_window", "from 1"),
        (with_(MessageType.STATUS, session=-1), "session", "from 0"),
        # enums
        (with_(MessageType.ISSUE_ENDORSEMENT, destination="taiwan"), "destination", "is not one of"),
        (with_(MessageType.ISSUE_ENDORSEMENT, endorsement_type="GROUP"), "endorsement_type", "is not one of"),
        (with_(MessageType.STATE, kind="atm"), "kind", "is not one of"),
        (with_(MessageType.STATE, mode="sleeping"), "mode", "is not one of"),
        (with_(MessageType.STATE, door="ajar"), "door", "is not one of"),
        (with_(MessageType.STATUS, status="away"), "status", "is not one of"),
        (with_(MessageType.REJECTED, reason="bored"), "reason", "is not one of"),
        (with_(MessageType.REJECTED, action="pray"), "action", "is not one of"),
        (with_(MessageType.COMPLETION, command="ping"), "command", "is not one of"),
        # nested
        (
            with_(MessageType.STATE, consumables={"paper_pct": 101, "ribbon_pct": None, "card_stock": None}),
            "consumables.paper_pct",
            "from 0 to 100",
        ),
        (
            with_(MessageType.STATE, consumables={"paper_pct": 1, "ribbon_pct": None}),
            "consumables.card_stock",
            "missing",
        ),
        (with_(MessageType.CONSUMABLES, slots={"total": 0, "occupied": 0}), "slots.total", "from 1"),
        (with_(MessageType.COMPLETION, outcome={"result": "maybe"}), "outcome.result", "one of: done, not_done"),
        (with_(MessageType.COMPLETION, outcome={"serial": "x"}), "outcome.result", "one of"),
        (
            with_(MessageType.COMPLETION, outcome={"result": "in_progress", "stage": "printing"}),
            "outcome.result",
            "one of: done, not_done",
        ),
        (
            with_(MessageType.COMPLETION, outcome={"result": "done", "serial": "has space", "completed_at": T}),
            "outcome.serial",
            "printable ASCII",
        ),
        (
            with_(MessageType.DUPLICATE, outcome={"result": "in_progress", "stage": "dreaming"}),
            "outcome.stage",
            "is not one of",
        ),
    ],
)
def test_field_rule(obj: dict[str, Any], field: str, words: str) -> None:
    err = refused(obj)
    assert err.field == field
    assert words in str(err)
    assert isinstance(err, RemoteProtocolError)


def test_rules_between_fields() -> None:
    both = with_(MessageType.RELEASE_CERTIFICATE, pickup_ref="PU-1")
    assert "exactly one of slot and pickup_ref" in str(refused(both))
    neither = with_(MessageType.RELEASE_CERTIFICATE, slot=None)
    assert refused(neither).field == "slot"
    over = with_(MessageType.CONSUMABLES, slots={"total": 3, "occupied": 4})
    assert refused(over).field == "slots.occupied"
    anonymous = with_(MessageType.REJECTED, command_id=None)  # card_stock_empty needs the id
    assert refused(anonymous).field == "command_id"
    not_received = with_(MessageType.REJECTED, reason="not_received")
    assert refused(not_received).field == "reason"
    protocol_outcome = with_(
        MessageType.COMPLETION, outcome={"result": "not_done", "reason": "malformed", "action": "none", "message": ""}
    )
    assert refused(protocol_outcome).field == "outcome.reason"


def test_errors_never_repeat_received_strings() -> None:
    personal = "ID110101199003071234"
    for obj in (
        with_(MessageType.ISSUE_ENDORSEMENT, business_ref=personal + " x"),
        with_(MessageType.ACCEPTED, command_id=personal + "!"),
        with_(MessageType.PING, time=personal),
        {"schema_version": "1.0", "type": personal, "time": T},
        {"schema_version": personal, "type": "ping", "time": T},
        with_(MessageType.STATE, mode=personal),
    ):
        with pytest.raises(RemoteProtocolError) as info:
            parse(json.dumps(obj))
        assert personal not in str(info.value)


# ------------------------------------------------------------------ building


def test_building_checks_the_same_rules() -> None:
    with pytest.raises(InvalidMessage, match="field 'copies'"):
        PrintTravelRecord(time=T, command_id="c", business_ref="b", record_ref="r", copies=0)
    with pytest.raises(LocalProtocolError):
        Accepted(time="yesterday", command_id="c")
    with pytest.raises(ValueError, match="exactly one"):
        ReleaseCertificate(time=T, command_id="c", business_ref="b", slot=None, pickup_ref=None)
    with pytest.raises(InvalidMessage, match="must be a Stage"):
        InProgress(stage="printing")  # type: ignore[arg-type]
    stage = InProgress(stage=Stage.WRITING)
    with pytest.raises(InvalidMessage, match="must be a Done or NotDone"):
        Completion(time=T, command_id="c", command=CommandKind.ISSUE_ENDORSEMENT, outcome=stage)  # type: ignore[arg-type]
    with pytest.raises(InvalidMessage, match="never an outcome"):
        NotDone(reason=Reason.COMMAND_ID_REUSED, action=Action.NONE, message="")
    with pytest.raises(InvalidMessage, match="occupied"):
        Slots(total=1, occupied=2)
    with pytest.raises(InvalidMessage, match="must be an integer"):
        Consumables(paper_pct=True, ribbon_pct=None, card_stock=None)


def test_messages_are_frozen() -> None:
    m = Ping(time=T)
    with pytest.raises(AttributeError):
        m.time = "x"  # type: ignore[misc]


# ------------------------------------------------------------------ helpers


def test_rejection_for_a_bad_command() -> None:
    counter = RejectionCounter()
    for data, reason, command_id in (
        (b"{", Reason.MALFORMED, None),
        (b'{"schema_version":"2.0","type":"ping","time":"x","command_id":"c-9"}', Reason.UNSUPPORTED_VERSION, "c-9"),
        (b'{"schema_version":"1.0","type":"fly","time":"x"}', Reason.UNKNOWN_TYPE, None),
        (b'{"schema_version":"1.0","type":"query_outcome","time":"x","command_id":"c-8"}', Reason.MALFORMED, "c-8"),
    ):
        try:
            parse_command(data)
        except KioskProtocolError as err:
            counter.count(err)
            rejected = rejection_for(err, time=T)
        assert rejected.reason is reason
        assert rejected.command_id == command_id
        assert not rejected.spends_id
        assert parse(rejected.to_bytes()) == rejected
    assert counter.total == 4
    assert counter.snapshot() == {"malformed": 2, "unsupported_version": 1, "unknown_type": 1, "foreign_topic": 0}
    assert counter[Fault.MALFORMED] == 2


def test_business_rejection_is_an_outcome() -> None:
    r = EXAMPLES[MessageType.REJECTED][0]
    assert isinstance(r, Rejected)
    assert r.spends_id
    assert r.as_outcome() == NotDone(reason=Reason.RIBBON_OUT, action=Action.STAFF, message=r.message)


def test_command_digest_ignores_time_only() -> None:
    a = EXAMPLES[MessageType.ISSUE_ENDORSEMENT][0]
    assert isinstance(a, IssueEndorsement)
    same = type(a)(
        time="2026-01-01T00:00:00Z",
        command_id=a.command_id,
        business_ref=a.business_ref,
        destination=a.destination,
        endorsement_type=a.endorsement_type,
        entries=a.entries,
        valid_days=a.valid_days,
        stay_days=a.stay_days,
    )
    other = type(a)(
        time=a.time,
        command_id=a.command_id,
        business_ref=a.business_ref,
        destination=a.destination,
        endorsement_type=a.endorsement_type,
        entries=2,
        valid_days=a.valid_days,
        stay_days=a.stay_days,
    )
    assert command_digest(same) == command_digest(a)
    assert command_digest(other) != command_digest(a)
    assert len(command_digest(a)) == 64


def test_answers_and_ends_request() -> None:
    cmd = EXAMPLES[MessageType.ISSUE_ENDORSEMENT][0]
    assert isinstance(cmd, IssueEndorsement)
    cid = cmd.command_id
    accepted, progress = Accepted(time=T, command_id=cid), EXAMPLES[MessageType.PROGRESS][0]
    done = EXAMPLES[MessageType.COMPLETION][0]
    in_progress = Duplicate(time=T, command_id=cid, outcome=InProgress(stage=Stage.WRITING))
    final_dup = Duplicate(time=T, command_id=cid, outcome=Done(serial="s", completed_at=T))
    assert all(answers(cmd, r) for r in (accepted, progress, done, in_progress, final_dup))  # type: ignore[arg-type]
    assert not answers(cmd, Accepted(time=T, command_id="other"))
    assert not answers(cmd, Pong(time=T))
    assert answers(Ping(time=T), Pong(time=T))
    assert answers(cmd, Rejected(time=T, command_id=None, reason=Reason.MALFORMED, action=Action.NONE, message=""))
    query = QueryOutcome(time=T, command_id=cid)
    answer = OutcomeAnswer(time=T, command_id=cid, command=None, outcome=InProgress(stage=Stage.PRINTING))
    assert answers(query, answer)
    assert not answers(query, accepted)
    assert [ends_request(r) for r in (accepted, progress, in_progress, final_dup, done, answer, Pong(time=T))] == [  # type: ignore[arg-type]
        False,
        False,
        False,
        True,
        True,
        True,
        True,
    ]


def test_state_example_is_idle_endorsement_kiosk() -> None:
    s = EXAMPLES[MessageType.STATE][0]
    assert isinstance(s, State)
    assert s.active_command is None
    assert s.slots is None
