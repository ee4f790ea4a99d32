"""Kiosk messages: frozen dataclasses, one UTF-8 JSON object each, strictly validated.

Every message is ``{"schema_version": "1.0", "type": ..., "time": ..., fields...}``.

- ``schema_version`` is ``"<major>.<minor>"``. A message of another major
  version is refused (:class:`UnsupportedVersion`). A message of a newer minor
  version is accepted and the fields this side does not know are ignored, at
  every level; at the minor version this side speaks (or an older one) an
  unknown field is an error. A minor version only ever adds optional fields;
  anything else (a new enum value, a new required field, a changed meaning)
  makes a new major version.
- ``time`` is the UTC time the sender wrote the message, ISO 8601 with ``Z``
  and 0 to 6 fractional digits. The caller supplies it: nothing here reads a clock.
- Every field of version 1.0 is required; a field that may be empty is ``null``,
  never absent. JSON ``true`` is not an integer, ``NaN`` and duplicate keys are
  refused, and a message is at most 64 KiB.

Values are checked when a message is built (:class:`InvalidMessage`) and when
one is parsed (:class:`MalformedMessage` and its siblings), with the same rules.
No message carries personal data: an applicant is named by the business system's
opaque reference (``business_ref``) only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import json
import re
import types
import typing
from collections.abc import Mapping
from typing import Any, ClassVar, Final, TypeAlias, TypeVar

from hallgw_protocols.kiosk.errors import (
    Fault,
    InvalidMessage,
    KioskProtocolError,
    MalformedMessage,
    UnknownMessageType,
    UnsupportedVersion,
)
from hallgw_protocols.kiosk.topics import Channel

SCHEMA_VERSION: Final = "1.0"
MAJOR: Final = 1
MINOR: Final = 0
MAX_MESSAGE_BYTES: Final = 65_536
MAX_INT: Final = 2**53 - 1
"""The largest integer every JSON implementation reads exactly."""
MAX_TEXT: Final = 200
"""Longest human-readable ``message`` or ``reason`` text, in characters."""
DEFAULT_WINDOW: Final = 1000
"""The command window a kiosk must keep at least (see docs/kiosk-protocol.md)."""


# --------------------------------------------------------------------------- enums


class MessageType(enum.Enum):
    # gateway to kiosk, on cmd
    ISSUE_ENDORSEMENT = "issue_endorsement"
    RELEASE_CERTIFICATE = "release_certificate"
    PRINT_TRAVEL_RECORD = "print_travel_record"
    QUERY_OUTCOME = "query_outcome"
    GET_CONSUMABLES = "get_consumables"
    PING = "ping"
    # kiosk to gateway, on reply/<gateway>
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    PROGRESS = "progress"
    COMPLETION = "completion"
    OUTCOME = "outcome"
    CONSUMABLES = "consumables"
    PONG = "pong"
    # kiosk, on its own topics
    STATE = "state"
    HEARTBEAT = "heartbeat"
    STATUS = "status"


class CommandKind(enum.Enum):
    """The side-effecting commands: each issues something at most once per command id."""

    ISSUE_ENDORSEMENT = "issue_endorsement"
    RELEASE_CERTIFICATE = "release_certificate"
    PRINT_TRAVEL_RECORD = "print_travel_record"


class KioskKind(enum.Enum):
    ENDORSEMENT = "endorsement"
    """Self-service endorsement machine: writes and prints an HK/Macao endorsement on the applicant's e-permit."""
    COLLECTION = "collection"
    """Certificate collection machine: a locker or dispenser that releases a finished document."""
    RECORD_QUERY = "record_query"
    """Record query machine: prints a person's own travel record."""


COMMANDS_BY_KIND: Final[Mapping[KioskKind, CommandKind]] = {
    KioskKind.ENDORSEMENT: CommandKind.ISSUE_ENDORSEMENT,
    KioskKind.COLLECTION: CommandKind.RELEASE_CERTIFICATE,
    KioskKind.RECORD_QUERY: CommandKind.PRINT_TRAVEL_RECORD,
}
"""The one side-effecting command each kind of kiosk executes; any other is rejected (unsupported_command)."""


class Mode(enum.Enum):
    IN_SERVICE = "in_service"
    OUT_OF_SERVICE = "out_of_service"
    MAINTENANCE = "maintenance"


class Door(enum.Enum):
    CLOSED = "closed"
    OPEN = "open"


class Online(enum.Enum):
    ONLINE = "online"
    OFFLINE = "offline"


class Destination(enum.Enum):
    HONG_KONG = "hong_kong"
    MACAO = "macao"


class EndorsementType(enum.Enum):
    """The category of an HK/Macao endorsement."""

    INDIVIDUAL_TOURISM = "individual_tourism"
    GROUP_TOURISM = "group_tourism"
    BUSINESS = "business"
    FAMILY_VISIT = "family_visit"
    STAY = "stay"
    OTHER = "other"


class Stage(enum.Enum):
    """Where a command stands on the kiosk."""

    ACCEPTED = "accepted"
    """Recorded and about to start; nothing done yet."""
    WAITING_FOR_CARD = "waiting_for_card"
    CARD_INSERTED = "card_inserted"
    FETCHING_RECORD = "fetching_record"
    WRITING = "writing"
    PRINTING = "printing"
    DISPENSING = "dispensing"
    WAITING_FOR_PICKUP = "waiting_for_pickup"
    DOCUMENT_TAKEN = "document_taken"
    RECOVERING = "recovering"
    """The kiosk restarted during the command and is establishing what happened; staff may be needed."""


class Reason(enum.Enum):
    """Why a command was not done (completion, duplicate, outcome) or refused (rejected)."""

    PAPER_OUT = "paper_out"
    RIBBON_OUT = "ribbon_out"
    CARD_STOCK_EMPTY = "card_stock_empty"
    NO_CARD = "no_card"
    CARD_REMOVED = "card_removed"
    CARD_INVALID = "card_invalid"
    """The inserted permit cannot take this endorsement (wrong document, chip unreadable, no free page)."""
    WRITE_FAILED = "write_failed"
    """The chip write failed and was rolled back: nothing was issued."""
    JAM = "jam"
    DOOR_OPEN = "door_open"
    SLOT_EMPTY = "slot_empty"
    PICKUP_UNKNOWN = "pickup_unknown"
    """No document waits under this slot or pickup reference."""
    RECORD_UNAVAILABLE = "record_unavailable"
    """The kiosk could not fetch the travel record from the business system."""
    CANCELLED = "cancelled"
    """The applicant cancelled at the kiosk, or walked away before the first irreversible step."""
    INTERRUPTED = "interrupted"
    """The kiosk restarted before the first irreversible step."""
    BUSY = "busy"
    OUT_OF_SERVICE = "out_of_service"
    MAINTENANCE = "maintenance"
    UNSUPPORTED_COMMAND = "unsupported_command"
    """This kind of kiosk does not execute this command."""
    KIOSK_FAULT = "kiosk_fault"
    NOT_RECEIVED = "not_received"
    """Answer to a query for an id the kiosk never saw: the id is now spent, the command can never run."""
    COMMAND_ID_REUSED = "command_id_reused"
    """Rejected only: the command id was seen with different parameters. Not recorded."""
    MALFORMED = Fault.MALFORMED.value
    """Rejected only: the command broke the protocol. Not recorded."""
    UNSUPPORTED_VERSION = Fault.UNSUPPORTED_VERSION.value
    """Rejected only: another major version. Not recorded."""
    UNKNOWN_TYPE = Fault.UNKNOWN_TYPE.value
    """Rejected only: an unknown command type. Not recorded."""


PROTOCOL_REASONS: Final = frozenset(
    {Reason.COMMAND_ID_REUSED, Reason.MALFORMED, Reason.UNSUPPORTED_VERSION, Reason.UNKNOWN_TYPE}
)
"""Rejections that do not spend the command id (the kiosk records nothing); never a command's outcome."""


class Action(enum.Enum):
    """What must happen before the same thing can succeed (as the daemon's core.Action)."""

    NONE = "none"
    RETRY = "retry"
    RESET = "reset"
    STAFF = "staff"
    ENGINEER = "engineer"


# --------------------------------------------------------------------------- field rules


@dataclasses.dataclass(frozen=True, slots=True)
class StrRule:
    pattern: str
    """A regular expression the whole value must match."""
    description: str


@dataclasses.dataclass(frozen=True, slots=True)
class TextRule:
    max_length: int


@dataclasses.dataclass(frozen=True, slots=True)
class IntRule:
    minimum: int
    maximum: int


TIME_PATTERN: Final = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z"
COMMAND_ID_PATTERN: Final = r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}"
REF_PATTERN: Final = r"[!-~]{1,128}"
"""Opaque references: 1 to 128 printable ASCII characters, no spaces."""

_TIME = StrRule(TIME_PATTERN, "a UTC time like 2025-03-14T09:41:17.002Z")
_COMMAND_ID = StrRule(COMMAND_ID_PATTERN, "1 to 64 letters, digits, '.', '_', ':' or '-', not punctuation first")
_REF = StrRule(REF_PATTERN, "1 to 128 printable ASCII characters without spaces")
_LABEL = StrRule(r"[!-~]([ -~]{0,62}[!-~])?", "1 to 64 printable ASCII characters, no leading or trailing space")
_TEXT = TextRule(MAX_TEXT)

FIELD_RULES: Final[Mapping[str, StrRule | TextRule | IntRule]] = {
    "time": _TIME,
    "completed_at": _TIME,
    "command_id": _COMMAND_ID,
    "active_command": _COMMAND_ID,
    "business_ref": _REF,
    "record_ref": _REF,
    "pickup_ref": _REF,
    "serial": StrRule(r"[!-~]{1,64}", "1 to 64 printable ASCII characters without spaces"),
    "slot": StrRule(r"[A-Za-z0-9][A-Za-z0-9._-]{0,15}", "1 to 16 letters, digits, '.', '_' or '-'"),
    "model": _LABEL,
    "firmware": _LABEL,
    "message": _TEXT,
    "reason": _TEXT,  # the free-text reason of a status; the enum reasons are checked as enums
    "entries": IntRule(1, 99),
    "valid_days": IntRule(1, 3650),
    "stay_days": IntRule(1, 180),
    "copies": IntRule(1, 5),
    "seq": IntRule(0, MAX_INT),
    "paper_pct": IntRule(0, 100),
    "ribbon_pct": IntRule(0, 100),
    "card_stock": IntRule(0, 100_000),
    "total": IntRule(1, 10_000),
    "occupied": IntRule(0, 10_000),
    "command_window": IntRule(1, 1_000_000),
    "uptime_s": IntRule(0, MAX_INT),
    "interval_s": IntRule(1, 3600),
    "commands_total": IntRule(0, MAX_INT),
    "session": IntRule(0, MAX_INT),
}
"""The value rules of every string and integer field, by field name (same name, same rule, in every message)."""

_COMPILED: Final = {name: re.compile(rule.pattern) for name, rule in FIELD_RULES.items() if isinstance(rule, StrRule)}


class _FieldError(Exception):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem)
        self.field = field
        self.problem = problem


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "an array"}.get(
        type(value), "an object" if isinstance(value, dict) else type(value).__name__
    )


def _check_value(name: str, expected: Any, value: object) -> None:
    """Check one field's value against its type hint and rule; _FieldError if it breaks them."""
    args = typing.get_args(expected)
    if typing.get_origin(expected) in (typing.Union, types.UnionType) and type(None) in args:
        if value is None:
            return
        rest = tuple(a for a in args if a is not type(None))
        expected = rest[0] if len(rest) == 1 else typing.Union[rest]  # noqa: UP007 - built at run time
    elif value is None:
        raise _FieldError(name, "must not be null")
    if expected is str:
        _check_str(name, value)
    elif expected is int:
        _check_int(name, value)
    else:  # an enum, a part, or a union of parts (an outcome)
        allowed = typing.get_args(expected) or (expected,)
        if not isinstance(value, allowed):
            names = " or ".join(a.__name__ for a in allowed)
            raise _FieldError(name, f"must be a {names}, got {type(value).__name__}")


def _check_str(name: str, value: object) -> None:
    if not isinstance(value, str):
        raise _FieldError(name, f"must be a string, got {_type_name(value)}")
    rule = FIELD_RULES.get(name)
    if isinstance(rule, TextRule):
        if len(value) > rule.max_length:
            raise _FieldError(name, f"must be at most {rule.max_length} characters, got {len(value)}")
        if not _is_unicode(value):
            raise _FieldError(name, "must be Unicode text (a lone surrogate is not)")
    elif isinstance(rule, StrRule):
        if not _COMPILED[name].fullmatch(value):
            raise _FieldError(name, f"must be {rule.description} (got {len(value)} characters that are not)")
        if rule is _TIME:
            _check_time(name, value)


def _is_unicode(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_int(name: str, value: object) -> None:
    if type(value) is not int:
        raise _FieldError(name, f"must be an integer, got {_type_name(value)}")
    rule = FIELD_RULES[name]
    if not isinstance(rule, IntRule):  # pragma: no cover - every int field has an int rule (a test checks it)
        raise TypeError(f"no integer rule for field {name!r}")
    if not rule.minimum <= value <= rule.maximum:
        raise _FieldError(name, f"must be from {rule.minimum} to {rule.maximum}, got {value}")


def _check_time(name: str, value: str) -> None:
    try:
        dt.datetime.fromisoformat(value[:-1])
    except ValueError:
        raise _FieldError(name, "is not a valid date and time") from None


_HINTS: Final[dict[type, dict[str, Any]]] = {}


def _hints(cls: type) -> dict[str, Any]:
    """The dataclass fields of ``cls`` and their resolved type hints, in order."""
    hints = _HINTS.get(cls)
    if hints is None:
        resolved = typing.get_type_hints(cls)
        hints = _HINTS[cls] = {f.name: resolved[f.name] for f in dataclasses.fields(cls)}
    return hints


# --------------------------------------------------------------------------- base classes


def _jsonify(value: object) -> object:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, _Part):
        return value.to_dict()
    return value


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class _Part:
    """A JSON object: a message or a part of one. Checks its fields when built."""

    def __post_init__(self) -> None:
        try:
            for name, hint in _hints(type(self)).items():
                _check_value(name, hint, getattr(self, name))
            self._validate()
        except _FieldError as err:
            raise InvalidMessage(f"{self._label()}: field {err.field!r} {err.problem}", field=err.field) from None

    def _validate(self) -> None:
        """Rules between fields; raises _FieldError."""

    def _label(self) -> str:
        return type(self).__name__

    def _body(self) -> dict[str, Any]:
        return {f.name: _jsonify(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def to_dict(self) -> dict[str, Any]:
        """The JSON object, as plain dicts, lists, strings, numbers and None."""
        return self._body()


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class _Message(_Part):
    TYPE: ClassVar[MessageType]

    time: str
    """When the sender wrote the message (UTC, ISO 8601, ``Z``)."""

    def _label(self) -> str:
        return self.TYPE.value

    def to_dict(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "type": self.TYPE.value, **self._body()}

    def to_json(self) -> str:
        """The message as compact JSON text."""
        return json.dumps(self.to_dict(), ensure_ascii=False, allow_nan=False, separators=(",", ":"))

    def to_bytes(self) -> bytes:
        """The MQTT payload: the JSON text in UTF-8."""
        return self.to_json().encode("utf-8")


# --------------------------------------------------------------------------- parts


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Consumables(_Part):
    """What a kiosk has left; null for what this kind of kiosk does not use."""

    paper_pct: int | None
    """Receipt or record paper left, in percent."""
    ribbon_pct: int | None
    """Printer ribbon left, in percent."""
    card_stock: int | None
    """Blank cards (or document stock) left, a count."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Slots(_Part):
    """Slot occupancy of a collection machine."""

    total: int
    occupied: int

    def _validate(self) -> None:
        if self.occupied > self.total:
            raise _FieldError("occupied", f"must not exceed total ({self.total}), got {self.occupied}")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class InProgress(_Part):
    """The command is under way (or the kiosk is establishing how it ended)."""

    RESULT: ClassVar[str] = "in_progress"
    stage: Stage

    def to_dict(self) -> dict[str, Any]:
        return {"result": self.RESULT, **self._body()}


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Done(_Part):
    """The command was executed: the kiosk's evidence."""

    RESULT: ClassVar[str] = "done"
    serial: str
    """The kiosk's own operation serial number for this issuance."""
    completed_at: str
    """When the kiosk completed it (UTC)."""

    def to_dict(self) -> dict[str, Any]:
        return {"result": self.RESULT, **self._body()}


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class NotDone(_Part):
    """The command was not executed, and nothing was issued."""

    RESULT: ClassVar[str] = "not_done"
    reason: Reason
    action: Action
    message: str
    """Plain words for staff (no personal data), at most 200 characters."""

    def _validate(self) -> None:
        if self.reason in PROTOCOL_REASONS:
            raise _FieldError("reason", f"{self.reason.value!r} is a rejection, never an outcome")

    def to_dict(self) -> dict[str, Any]:
        return {"result": self.RESULT, **self._body()}


FinalOutcome: TypeAlias = Done | NotDone
Outcome: TypeAlias = InProgress | Done | NotDone
_OUTCOMES: Final[dict[str, type[InProgress] | type[Done] | type[NotDone]]] = {
    c.RESULT: c for c in (InProgress, Done, NotDone)
}


def is_final(outcome: Outcome) -> bool:
    """True for done and not done, False while in progress."""
    return not isinstance(outcome, InProgress)


# --------------------------------------------------------------------------- commands (cmd)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class IssueEndorsement(_Message):
    """Write and print an HK/Macao endorsement onto the applicant's e-permit, at most once."""

    TYPE: ClassVar[MessageType] = MessageType.ISSUE_ENDORSEMENT
    KIND: ClassVar[CommandKind] = CommandKind.ISSUE_ENDORSEMENT
    command_id: str
    business_ref: str
    """The business system's opaque reference of the approved application (never an ID number)."""
    destination: Destination
    endorsement_type: EndorsementType
    entries: int | None
    """Entries allowed (1 to 99); null for multiple entries."""
    valid_days: int
    """Days the endorsement is valid from issue (1 to 3650)."""
    stay_days: int
    """Days of stay allowed per entry (1 to 180)."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseCertificate(_Message):
    """Release a finished document from a slot or dispenser, at most once."""

    TYPE: ClassVar[MessageType] = MessageType.RELEASE_CERTIFICATE
    KIND: ClassVar[CommandKind] = CommandKind.RELEASE_CERTIFICATE
    command_id: str
    business_ref: str
    slot: str | None
    """The slot holding the document; exactly one of slot and pickup_ref is set."""
    pickup_ref: str | None
    """An opaque reference to a pickup code the kiosk resolves itself."""

    def _validate(self) -> None:
        if (self.slot is None) == (self.pickup_ref is None):
            raise _FieldError("slot", "exactly one of slot and pickup_ref must be set")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PrintTravelRecord(_Message):
    """Print a person's own travel record, at most once. The kiosk fetches the record by reference."""

    TYPE: ClassVar[MessageType] = MessageType.PRINT_TRAVEL_RECORD
    KIND: ClassVar[CommandKind] = CommandKind.PRINT_TRAVEL_RECORD
    command_id: str
    business_ref: str
    record_ref: str
    """Opaque reference of the prepared record; its content never travels over MQTT."""
    copies: int


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class QueryOutcome(_Message):
    """What became of a command id? Answered by ``outcome``. An unknown id is spent by the query."""

    TYPE: ClassVar[MessageType] = MessageType.QUERY_OUTCOME
    command_id: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class GetConsumables(_Message):
    """Answered by ``consumables``."""

    TYPE: ClassVar[MessageType] = MessageType.GET_CONSUMABLES


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Ping(_Message):
    """Answered by ``pong``; no effect."""

    TYPE: ClassVar[MessageType] = MessageType.PING


SideEffectCommand: TypeAlias = IssueEndorsement | ReleaseCertificate | PrintTravelRecord
Command: TypeAlias = IssueEndorsement | ReleaseCertificate | PrintTravelRecord | QueryOutcome | GetConsumables | Ping


# --------------------------------------------------------------------------- replies (reply/<gateway>)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Accepted(_Message):
    """The kiosk recorded the command id and starts; progress and one completion follow."""

    TYPE: ClassVar[MessageType] = MessageType.ACCEPTED
    command_id: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Rejected(_Message):
    """The command was refused before anything happened: nothing was issued.

    For a business reason the id is spent (a repeat gets ``duplicate`` with this
    outcome); for a protocol reason (:data:`PROTOCOL_REASONS`) nothing is recorded
    and ``command_id`` is null when it could not be read.
    """

    TYPE: ClassVar[MessageType] = MessageType.REJECTED
    command_id: str | None
    reason: Reason
    action: Action
    message: str

    def _validate(self) -> None:
        if self.command_id is None and self.reason not in PROTOCOL_REASONS - {Reason.COMMAND_ID_REUSED}:
            raise _FieldError("command_id", f"must be set when the reason is {self.reason.value!r}")
        if self.reason is Reason.NOT_RECEIVED:
            raise _FieldError("reason", "'not_received' answers a query, never a command")

    @property
    def spends_id(self) -> bool:
        """True when the kiosk recorded this rejection as the command's outcome."""
        return self.reason not in PROTOCOL_REASONS

    def as_outcome(self) -> NotDone:
        """The not-done outcome a business rejection stands for."""
        return NotDone(reason=self.reason, action=self.action, message=self.message)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Duplicate(_Message):
    """The command id was seen before (with the same parameters): its first outcome, nothing run again.

    When in progress, the kiosk sends the completion to this request too.
    """

    TYPE: ClassVar[MessageType] = MessageType.DUPLICATE
    command_id: str
    outcome: Outcome


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Progress(_Message):
    """A step of an accepted command."""

    TYPE: ClassVar[MessageType] = MessageType.PROGRESS
    command_id: str
    seq: int
    """1, 2, ... per command: a receiver drops a seq it has seen (QoS 1 may deliver twice)."""
    stage: Stage
    message: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Completion(_Message):
    """The one final outcome of an accepted command."""

    TYPE: ClassVar[MessageType] = MessageType.COMPLETION
    command_id: str
    command: CommandKind
    outcome: FinalOutcome


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class OutcomeAnswer(_Message):
    """Answer to ``query_outcome``: the command's outcome as the kiosk's window holds it.

    ``not_done`` with reason ``not_received``: the kiosk never saw the id and
    has now recorded it as not done, so that command can never run later.
    """

    TYPE: ClassVar[MessageType] = MessageType.OUTCOME
    command_id: str
    command: CommandKind | None
    """Which command it was; null when the kiosk never received it."""
    outcome: Outcome


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ConsumablesAnswer(_Message):
    """Answer to ``get_consumables``."""

    TYPE: ClassVar[MessageType] = MessageType.CONSUMABLES
    consumables: Consumables
    slots: Slots | None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Pong(_Message):
    TYPE: ClassVar[MessageType] = MessageType.PONG


Reply: TypeAlias = Accepted | Rejected | Duplicate | Progress | Completion | OutcomeAnswer | ConsumablesAnswer | Pong


# --------------------------------------------------------------------------- kiosk topics


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class State(_Message):
    """The kiosk's state, retained on ``state``: published on connect and on every change."""

    TYPE: ClassVar[MessageType] = MessageType.STATE
    kind: KioskKind
    model: str
    firmware: str
    mode: Mode
    door: Door
    consumables: Consumables
    slots: Slots | None
    """Collection machines only; null on the others."""
    command_window: int
    """How many command ids the kiosk remembers (at least 1000)."""
    active_command: str | None
    """The command id being executed, null when idle."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Heartbeat(_Message):
    """Published every ``interval_s`` with QoS 0; missing three in a row means the kiosk is not there."""

    TYPE: ClassVar[MessageType] = MessageType.HEARTBEAT
    seq: int
    """0 after the kiosk starts, then 1 per beat."""
    uptime_s: int
    interval_s: int
    commands_total: int
    """Side-effecting commands the kiosk accepted since it was installed."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Status(_Message):
    """Online or offline, retained on ``status``. The offline one is the kiosk's Last Will."""

    TYPE: ClassVar[MessageType] = MessageType.STATUS
    status: Online
    session: int
    """The kiosk's connection counter: persisted, raised on every connection attempt."""
    reason: str
    """Empty when online; ``connection lost`` (the will) or ``shutdown`` when offline."""


KioskMessage: TypeAlias = State | Heartbeat | Status
Message: TypeAlias = Command | Reply | KioskMessage

MESSAGE_CLASSES: Final[Mapping[MessageType, type[Message]]] = {
    cls.TYPE: cls
    for cls in (
        IssueEndorsement,
        ReleaseCertificate,
        PrintTravelRecord,
        QueryOutcome,
        GetConsumables,
        Ping,
        Accepted,
        Rejected,
        Duplicate,
        Progress,
        Completion,
        OutcomeAnswer,
        ConsumablesAnswer,
        Pong,
        State,
        Heartbeat,
        Status,
    )
}

CHANNEL_TYPES: Final[Mapping[Channel, frozenset[MessageType]]] = {
    Channel.CMD: frozenset(
        {
            MessageType.ISSUE_ENDORSEMENT,
            MessageType.RELEASE_CERTIFICATE,
            MessageType.PRINT_TRAVEL_RECORD,
            MessageType.QUERY_OUTCOME,
            MessageType.GET_CONSUMABLES,
            MessageType.PING,
        }
    ),
    Channel.REPLY: frozenset(
        {
            MessageType.ACCEPTED,
            MessageType.REJECTED,
            MessageType.DUPLICATE,
            MessageType.PROGRESS,
            MessageType.COMPLETION,
            MessageType.OUTCOME,
            MessageType.CONSUMABLES,
            MessageType.PONG,
        }
    ),
    Channel.STATE: frozenset({MessageType.STATE}),
    Channel.HEARTBEAT: frozenset({MessageType.HEARTBEAT}),
    Channel.STATUS: frozenset({MessageType.STATUS}),
}
"""The message types each channel carries; anything else there is refused as unknown_type."""


# --------------------------------------------------------------------------- parsing


_VERSION: Final = re.compile(r"(0|[1-9][0-9]{0,5})\.(0|[1-9][0-9]{0,5})")
_T = TypeVar("_T", bound=_Part)


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("a key appears twice in one object")
    return out


def load_json(data: bytes | str) -> dict[str, Any]:
    """The JSON object of a payload; MalformedMessage for anything else."""
    if not isinstance(data, bytes | str):
        raise MalformedMessage(f"a payload is bytes or text, not {type(data).__name__}")
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
    if size > MAX_MESSAGE_BYTES:
        raise MalformedMessage(f"a message is at most {MAX_MESSAGE_BYTES} bytes, got {size}")
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        obj = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as err:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise MalformedMessage(f"not UTF-8 JSON: {type(err).__name__}") from None
    if not isinstance(obj, dict):
        raise MalformedMessage(f"a message is a JSON object, got {_type_name(obj)}")
    return obj


class _Reader:
    """Builds one dataclass from one JSON object, naming fields by their path."""

    def __init__(self, strict: bool, command_id: str | None) -> None:
        self.strict = strict
        self.command_id = command_id

    def fail(self, path: str, problem: str) -> MalformedMessage:
        return MalformedMessage(f"field {path!r} {problem}", field=path, command_id=self.command_id)

    def build(self, cls: type[_T], obj: object, path: str, skip: frozenset[str] = frozenset()) -> _T:
        if not isinstance(obj, dict):
            raise self.fail(path.rstrip("."), f"must be an object, got {_type_name(obj)}")
        hints = _hints(cls)
        if self.strict:
            unknown = sorted(set(obj) - set(hints) - skip)
            if unknown:
                raise self.fail(path + unknown[0], "is not a field of this message (unknown fields are refused)")
        values = {}
        for name, hint in hints.items():
            if name not in obj:
                raise self.fail(path + name, "is missing")
            values[name] = self.value(hint, obj[name], path + name)
        try:
            return cls(**values)
        except InvalidMessage as err:
            field = path + (err.field or "")
            problem = str(err).split(f"field {err.field!r} ", 1)[-1]
            raise self.fail(field, problem) from None

    def value(self, hint: Any, raw: object, path: str) -> object:
        args = typing.get_args(hint)
        if typing.get_origin(hint) in (typing.Union, types.UnionType):
            if raw is None and type(None) in args:
                return None
            rest = [a for a in args if a is not type(None)]
            if all(isinstance(a, type) and issubclass(a, _Part) and hasattr(a, "RESULT") for a in rest):
                return self.outcome(raw, path, tuple(rest))
            hint = rest[0]  # X | None
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            if not isinstance(raw, str):
                raise self.fail(path, f"must be a string, got {_type_name(raw)}")
            try:
                return hint(raw)
            except ValueError:
                allowed = ", ".join(m.value for m in hint)
                raise self.fail(path, f"is not one of: {allowed}") from None
        if isinstance(hint, type) and issubclass(hint, _Part):
            return self.build(hint, raw, path + ".")
        return raw  # str, int: the dataclass checks them

    def outcome(self, raw: object, path: str, allowed: tuple[type, ...]) -> Outcome:
        if not isinstance(raw, dict):
            raise self.fail(path, f"must be an object, got {_type_name(raw)}")
        result = raw.get("result")
        cls = _OUTCOMES.get(result) if isinstance(result, str) else None
        if cls is None or cls not in allowed:
            names = ", ".join(c.RESULT for c in _OUTCOMES.values() if c in allowed)
            raise self.fail(path + ".result", f"must be one of: {names}")
        return self.build(cls, raw, path + ".", skip=frozenset({"result"}))


def _read_command_id(obj: Mapping[str, Any]) -> str | None:
    value = obj.get("command_id")
    return value if isinstance(value, str) and _COMPILED["command_id"].fullmatch(value) else None


def read_envelope(obj: Mapping[str, Any]) -> tuple[MessageType, int]:
    """(type, minor version) of a message object; the matching KioskProtocolError if unusable."""
    command_id = _read_command_id(obj)
    version = obj.get("schema_version")
    if not isinstance(version, str):
        what = "is missing" if "schema_version" not in obj else f"must be a string, got {_type_name(version)}"
        raise MalformedMessage(f"field 'schema_version' {what}", field="schema_version", command_id=command_id)
    match = _VERSION.fullmatch(version)
    if not match:
        raise MalformedMessage(
            "field 'schema_version' must be '<major>.<minor>' like '1.0'", field="schema_version", command_id=command_id
        )
    major, minor = int(match[1]), int(match[2])
    if major != MAJOR:
        raise UnsupportedVersion(
            f"schema_version {major}.{minor}: only major version {MAJOR} is spoken here",
            field="schema_version",
            command_id=command_id,
        )
    kind = obj.get("type")
    if not isinstance(kind, str):
        what = "is missing" if "type" not in obj else f"must be a string, got {_type_name(kind)}"
        raise MalformedMessage(f"field 'type' {what}", field="type", command_id=command_id)
    try:
        return MessageType(kind), minor
    except ValueError:
        raise UnknownMessageType("unknown message type", field="type", command_id=command_id) from None


def message_from_dict(obj: Mapping[str, Any], *, allowed: frozenset[MessageType] | None = None) -> Message:
    """The message a decoded JSON object holds (see :func:`parse`)."""
    if not isinstance(obj, dict):
        raise MalformedMessage(f"a message is a JSON object, got {_type_name(obj)}")
    kind, minor = read_envelope(obj)
    command_id = _read_command_id(obj)
    if allowed is not None and kind not in allowed:
        raise UnknownMessageType(f"a {kind.value!r} message is not sent here", field="type", command_id=command_id)
    reader = _Reader(strict=minor <= MINOR, command_id=command_id)
    cls = MESSAGE_CLASSES[kind]
    return reader.build(cls, obj, "", skip=frozenset({"schema_version", "type"}))


def parse(data: bytes | str, *, allowed: frozenset[MessageType] | None = None) -> Message:
    """The message in an MQTT payload, of any type (or one of ``allowed``).

    Raises a :class:`~hallgw_protocols.kiosk.errors.KioskProtocolError` and
    nothing else, whatever ``data`` holds.
    """
    return message_from_dict(load_json(data), allowed=allowed)


def parse_for_channel(channel: Channel, data: bytes | str) -> Message:
    """The message in a payload received on ``channel``; a type the channel does not carry is refused."""
    return parse(data, allowed=CHANNEL_TYPES[channel])


def _narrow(cls: type[_T] | tuple[type[_T], ...], message: Message, what: str) -> _T:
    if not isinstance(message, cls):
        raise UnknownMessageType(f"expected {what}, got {message.TYPE.value!r}", field="type")
    return message


def parse_command(data: bytes | str) -> Command:
    """A message from the ``cmd`` topic (the kiosk's side)."""
    return typing.cast(Command, parse_for_channel(Channel.CMD, data))


def parse_reply(data: bytes | str) -> Reply:
    """A message from a ``reply`` topic (the gateway's side)."""
    return typing.cast(Reply, parse_for_channel(Channel.REPLY, data))


def parse_state(data: bytes | str) -> State:
    return _narrow(State, parse_for_channel(Channel.STATE, data), "a state")


def parse_heartbeat(data: bytes | str) -> Heartbeat:
    return _narrow(Heartbeat, parse_for_channel(Channel.HEARTBEAT, data), "a heartbeat")


def parse_status(data: bytes | str) -> Status:
    return _narrow(Status, parse_for_channel(Channel.STATUS, data), "a status")


def outcome_from_dict(obj: object, *, path: str = "outcome") -> Outcome:
    """An outcome object (``{"result": ...}``) checked strictly; MalformedMessage if it is not one."""
    return _Reader(strict=True, command_id=None).outcome(obj, path, (InProgress, Done, NotDone))


# --------------------------------------------------------------------------- helpers for both sides


def rejection_for(error: KioskProtocolError, *, time: str) -> Rejected:
    """The ``rejected`` reply a kiosk sends for a command it could not parse (the id is not spent)."""
    reason = {
        Fault.UNSUPPORTED_VERSION: Reason.UNSUPPORTED_VERSION,
        Fault.UNKNOWN_TYPE: Reason.UNKNOWN_TYPE,
    }.get(error.fault, Reason.MALFORMED)
    return Rejected(
        time=time,
        command_id=error.command_id,
        reason=reason,
        action=Action.ENGINEER,
        message=str(error)[:MAX_TEXT],
    )


def command_digest(command: SideEffectCommand) -> str:
    """A fingerprint of a command's parameters (everything but ``time``): equal ids with unequal digests are a reuse."""
    body = command.to_dict()
    del body["time"], body["schema_version"]
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def answers(command: Command, reply: Reply) -> bool:
    """True if ``reply`` is a reply this command can get (same command id, a fitting type)."""
    if isinstance(reply, Rejected):
        return reply.command_id is None or reply.command_id == getattr(command, "command_id", None)
    expected: Mapping[type[Command], tuple[type[Reply], ...]] = _ANSWERS
    for cls, kinds in expected.items():
        if isinstance(command, cls):
            if not isinstance(reply, kinds):
                return False
            return getattr(reply, "command_id", None) == getattr(command, "command_id", None)
    return False  # pragma: no cover - every command class is listed


_ANSWERS: Final[Mapping[type[Command], tuple[type[Reply], ...]]] = {
    IssueEndorsement: (Accepted, Duplicate, Progress, Completion),
    ReleaseCertificate: (Accepted, Duplicate, Progress, Completion),
    PrintTravelRecord: (Accepted, Duplicate, Progress, Completion),
    QueryOutcome: (OutcomeAnswer,),
    GetConsumables: (ConsumablesAnswer,),
    Ping: (Pong,),
}


def ends_request(reply: Reply) -> bool:
    """True if no further reply follows for this request (its correlation can be forgotten).

    A rejection, a duplicate with a final outcome, a completion and the answers
    to queries, consumables and pings end it; an acceptance, progress and a
    duplicate still in progress do not (the completion follows).
    """
    if isinstance(reply, Accepted | Progress):
        return False
    if isinstance(reply, Duplicate):
        return is_final(reply.outcome)
    return True


def field_names(cls: type[_Part]) -> tuple[str, ...]:
    """The JSON field names of a message or part class, in order (without the envelope's)."""
    return tuple(f.name for f in dataclasses.fields(cls))
