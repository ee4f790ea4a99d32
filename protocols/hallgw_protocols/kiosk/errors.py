"""What goes wrong with kiosk messages, and whose fault it is.

A message from the other side that breaks the protocol raises a
:class:`KioskProtocolError` (a :class:`~hallgw_protocols._common.RemoteProtocolError`):
the receiver answers it with a ``rejected`` message where it can, counts it in a
:class:`RejectionCounter`, and goes on. Building a message with a bad value
ourselves raises :class:`InvalidMessage` (a ``LocalProtocolError`` and a
``ValueError``). Error messages name the field and the rule, and never repeat a
string value that was received: a misbehaving peer must not get personal data
into the logs through us.
"""

from __future__ import annotations

import collections
import enum

from hallgw_protocols._common import LocalProtocolError, RemoteProtocolError


class Fault(enum.Enum):
    """Why a received message was refused. The values are ``rejected`` reasons."""

    MALFORMED = "malformed"
    """Not a JSON object, a field missing, of the wrong type or out of range, an unknown field."""
    UNSUPPORTED_VERSION = "unsupported_version"
    """A ``schema_version`` whose major version this side does not speak."""
    UNKNOWN_TYPE = "unknown_type"
    """A message ``type`` this side does not know, or one that is not sent where it arrived."""
    FOREIGN_TOPIC = "foreign_topic"
    """A topic outside the kiosk tree, or one no kiosk or gateway publishes."""


class KioskProtocolError(RemoteProtocolError):
    """The peer sent a message that breaks the kiosk protocol."""

    fault: Fault = Fault.MALFORMED

    def __init__(self, message: str, *, field: str | None = None, command_id: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        """The offending field's path (``outcome.reason``), or None when it is the message as a whole."""
        self.command_id = command_id
        """The message's ``command_id`` when it could still be read (so a rejection can name it)."""


class MalformedMessage(KioskProtocolError):
    """Not valid JSON, not an object, or a field that is missing, mistyped, out of range or unknown."""

    fault = Fault.MALFORMED


class UnsupportedVersion(KioskProtocolError):
    """The message's ``schema_version`` has a major version this side does not speak."""

    fault = Fault.UNSUPPORTED_VERSION


class UnknownMessageType(KioskProtocolError):
    """The ``type`` is not one this side knows, or it is not sent on the channel it came on."""

    fault = Fault.UNKNOWN_TYPE


class ForeignTopic(KioskProtocolError):
    """A topic that is not part of the kiosk tree (or a subscription filter, not a topic)."""

    fault = Fault.FOREIGN_TOPIC


class InvalidMessage(LocalProtocolError, ValueError):
    """We tried to build a message with a value the protocol does not allow."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class RejectionCounter:
    """Counts refused messages by fault, for metrics: refusing never crashes, it is counted."""

    __slots__ = ("_counts",)

    def __init__(self) -> None:
        self._counts: collections.Counter[Fault] = collections.Counter()

    def count(self, error: KioskProtocolError) -> Fault:
        """Count one refused message; returns its fault."""
        self._counts[error.fault] += 1
        return error.fault

    def __getitem__(self, fault: Fault) -> int:
        return self._counts[fault]

    @property
    def total(self) -> int:
        return sum(self._counts.values())

    def snapshot(self) -> dict[str, int]:
        """Counts by fault value, every fault present (0 when none), for a metrics message."""
        return {fault.value: self._counts[fault] for fault in Fault}
