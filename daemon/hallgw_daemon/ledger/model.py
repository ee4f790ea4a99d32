"""The ledger's types: operations, states, outcomes, entries, audit events and errors.

Nothing here holds personal data: an applicant is known only by the business
system's opaque reference, and a command's parameters only by their digest.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import json
import re
from collections.abc import Mapping

from hallgw_daemon.core.errors import GatewayError
from hallgw_daemon.core.model import Action


class Operation(enum.Enum):
    """The side-effecting kiosk commands the ledger journals."""

    ISSUE_ENDORSEMENT = "issue_endorsement"
    RELEASE_CERTIFICATE = "release_certificate"
    PRINT_TRAVEL_RECORD = "print_travel_record"


class State(enum.Enum):
    """Where an entry stands. ``in doubt`` is not a state: see ``Entry.in_doubt``."""

    PENDING = "pending"
    """The intent is recorded; the command is not yet known to have been sent."""
    SENT = "sent"
    """The command may have reached the kiosk."""
    DONE = "done"
    """The kiosk reported the issuance, with its evidence."""
    NOT_DONE = "not_done"
    """Nothing was issued, guaranteed: the command never left, or the kiosk said so."""

    @property
    def final(self) -> bool:
        return self in (State.DONE, State.NOT_DONE)


UNRESOLVED_STATES = (State.PENDING, State.SENT)
FINAL_STATES = (State.DONE, State.NOT_DONE)

_REASON = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
_TOKEN = re.compile(r"[A-Za-z0-9._:/+#@=-]{1,128}")
_DIGEST = re.compile(r"[0-9a-f]{64}")


def _utc(value: dt.datetime, what: str) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must carry a time zone (the ledger records UTC)")
    return value.astimezone(dt.UTC)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Done:
    """The kiosk issued: its operation serial number and its own time are the evidence."""

    operation_serial: str
    kiosk_time: dt.datetime

    def __post_init__(self) -> None:
        if not _TOKEN.fullmatch(self.operation_serial) or len(self.operation_serial) > 64:
            raise ValueError("operation_serial must be 1-64 characters of [A-Za-z0-9._:/+#@=-]")
        object.__setattr__(self, "kiosk_time", _utc(self.kiosk_time, "kiosk_time"))

    @property
    def state(self) -> State:
        return State.DONE


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class NotDone:
    """Nothing was issued. ``reason`` is a stable code (``PAPER_OUT``), never free text."""

    reason: str
    action: Action

    def __post_init__(self) -> None:
        if not _REASON.fullmatch(self.reason):
            raise ValueError("reason must be a stable code: upper case letters, digits and _, at most 64")

    @property
    def state(self) -> State:
        return State.NOT_DONE


Outcome = Done | NotDone


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One request id's journal row, as read."""

    request_id: str
    command_id: str
    """The id sent to the kiosk: made by the ledger, stable across retries of the request id."""
    kiosk_id: str
    operation: Operation
    business_ref: str
    params_digest: str
    state: State
    outcome: Outcome | None
    attempts: int
    """How many times the command was handed to the kiosk (``mark_sent`` calls)."""
    created_at: dt.datetime
    sent_at: dt.datetime | None
    finished_at: dt.datetime | None
    session: int
    """The daemon run (ledger session) that last acted on the entry."""
    in_doubt: bool
    """Unresolved and left by an earlier run: only the kiosk can tell what happened."""

    @property
    def final(self) -> bool:
        return self.state.final


class BeginStatus(enum.Enum):
    """What ``begin`` found, and so what the caller does next."""

    NEW = "new"
    """Intent recorded now: send the command (with ``command_id``) and ``mark_sent`` first."""
    IN_FLIGHT = "in_flight"
    """Begun earlier in this run and not final: join the command in flight; never send again."""
    IN_DOUBT = "in_doubt"
    """Left unresolved by an earlier run: ask the kiosk about ``command_id`` before anything else."""
    FINAL = "final"
    """The outcome is known: return it."""


@dataclasses.dataclass(frozen=True, slots=True)
class Begin:
    """``begin``'s answer: the entry and what it means for the caller."""

    entry: Entry
    status: BeginStatus

    @property
    def new(self) -> bool:
        return self.status is BeginStatus.NEW


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent:
    """One line of the append-only audit trail."""

    seq: int
    at: dt.datetime
    request_id: str | None
    event: str
    detail: Mapping[str, str | int | None]


def params_digest(params: Mapping[str, object]) -> str:
    """SHA-256 (hex) of the canonical JSON of a command's parameters.

    Keys sorted, no insignificant white space, UTF-8: the same parameters give the
    same digest whatever their order, so a request id reused with other parameters is
    caught without storing them. Values must be JSON types (str, int, float, bool,
    None, lists and mappings of them); anything else raises ``TypeError``.
    """
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def check_token(value: str, what: str) -> str:
    """Ids and references: 1-128 characters, no spaces or control characters."""
    if not _TOKEN.fullmatch(value):
        raise ValueError(f"{what} must be 1-128 characters of [A-Za-z0-9._:/+#@=-]")
    return value


def check_digest(value: str) -> str:
    if not _DIGEST.fullmatch(value):
        raise ValueError("params_digest must be a SHA-256 in lower-case hex (see params_digest())")
    return value


def utc(value: dt.datetime, what: str = "time") -> dt.datetime:
    """An aware time converted to UTC; a naive one is refused."""
    return _utc(value, what)


class LedgerError(GatewayError):
    """The ledger cannot do what was asked (base class)."""

    reason = "LEDGER_UNAVAILABLE"
    action = Action.ENGINEER


class LedgerCorruptError(LedgerError):
    """The ledger file is damaged, not a ledger, or from a newer hallgw. The message names the file."""


class LedgerClosedError(LedgerError):
    """A call arrived after ``close()``."""


class UnknownRequestError(LedgerError, KeyError):
    """No entry for this request id: a caller asked about one never journalled (or, inside the
    gateway, ``mark_sent`` or ``finish`` came before ``begin``: a bug)."""

    reason = "UNKNOWN_REQUEST"
    action = Action.NONE

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


class ReusedRequestIdError(LedgerError):
    """A request id came back with other parameters, another kiosk or another operation.

    The caller reused an id for a different request; nothing is sent. ``fields``
    names what differs (never the values).
    """

    reason = "REQUEST_ID_REUSED"
    action = Action.NONE

    def __init__(self, request_id: str, fields: tuple[str, ...], *, device_id: str | None = None) -> None:
        super().__init__(
            f"request id {request_id!r} was already used for a different request (differs in: "
            f"{', '.join(fields)}); use a new request id for a new request",
            device_id=device_id,
            details={"request_id": request_id, "differs": ",".join(fields)},
        )
        self.request_id = request_id
        self.fields = fields


class OutcomeConflictError(LedgerError):
    """A second, different final outcome for an entry that is already final.

    The first outcome stands; the conflict is written to the audit trail. It means a
    bug in the gateway or a kiosk contradicting itself: an engineer must look.
    """

    reason = "LEDGER_CONFLICT"
    action = Action.ENGINEER

    def __init__(self, request_id: str, recorded: Outcome, reported: Outcome, *, device_id: str | None = None) -> None:
        super().__init__(
            f"request id {request_id!r} is already final ({recorded.state.value}); a different outcome "
            f"({reported.state.value}) was refused and recorded in the audit trail",
            device_id=device_id,
            details={"request_id": request_id, "recorded": recorded.state.value, "reported": reported.state.value},
        )
        self.request_id = request_id
        self.recorded = recorded
        self.reported = reported


class LedgerStateError(LedgerError):
    """A transition the journal does not allow (``mark_sent`` on a final entry)."""

    reason = "INTERNAL"
