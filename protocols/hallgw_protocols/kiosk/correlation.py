"""The gateway's side of request/response: Correlation Data out, replies matched back.

Every command the gateway publishes carries a Response Topic (its reply topic
for that kiosk) and Correlation Data from :meth:`Correlator.register`. Each reply
carries the same Correlation Data back; :meth:`Correlator.match` finds the
request it answers, checks that the reply fits it (type and command id), and
forgets the request once the reply ends it. A reply whose Correlation Data is
unknown (it answers a request of an earlier gateway process, or it is stray) is
not an error: it returns None, and the caller still records a completion by its
``command_id``, which is the durable key.

Pure: the caller owns the clock and the timeouts (:meth:`Correlator.forget`).
"""

from __future__ import annotations

import dataclasses

from hallgw_protocols.kiosk.errors import MalformedMessage
from hallgw_protocols.kiosk.messages import Command, Reply, answers, ends_request
from hallgw_protocols.kiosk.topics import MAX_CORRELATION_BYTES, check_id


@dataclasses.dataclass(frozen=True, slots=True)
class PendingRequest:
    """A command that waits for replies."""

    correlation: bytes
    kiosk_id: str
    command: Command


@dataclasses.dataclass(frozen=True, slots=True)
class Match:
    """A reply matched to its request."""

    request: PendingRequest
    reply: Reply
    final: bool
    """True if no more replies follow for this request (it was forgotten)."""


class Correlator:
    """Correlation Data for outgoing commands and the requests still waiting for replies.

    ``prefix`` must differ between gateway processes (the daemon uses its
    gateway id and its MQTT session number), so a late reply to a request of an
    earlier process never matches a new one.
    """

    __slots__ = ("_next", "_pending", "_prefix")

    def __init__(self, prefix: str) -> None:
        if not prefix.isascii() or not 1 <= len(prefix) <= MAX_CORRELATION_BYTES - 17:
            raise ValueError(f"a correlation prefix is 1 to {MAX_CORRELATION_BYTES - 17} ASCII characters")
        self._prefix = prefix
        self._next = 1
        self._pending: dict[bytes, PendingRequest] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def pending(self) -> tuple[PendingRequest, ...]:
        return tuple(self._pending.values())

    def register(self, kiosk_id: str, command: Command) -> bytes:
        """New Correlation Data for ``command`` to ``kiosk_id``; the request waits until a reply ends it."""
        check_id(kiosk_id, "kiosk id")
        correlation = f"{self._prefix}:{self._next:x}".encode("ascii")
        self._next += 1
        self._pending[correlation] = PendingRequest(correlation, kiosk_id, command)
        return correlation

    def match(self, kiosk_id: str, correlation: bytes | None, reply: Reply) -> Match | None:
        """The request ``reply`` (received from ``kiosk_id``) answers, or None if none waits under that data.

        Raises :class:`MalformedMessage` if the reply cannot answer that request:
        another kiosk, a reply type that does not fit, another command id.
        """
        request = self._pending.get(correlation) if correlation else None
        if request is None:
            return None
        if request.kiosk_id != kiosk_id:
            raise MalformedMessage("a reply from another kiosk carries this request's correlation data")
        if not answers(request.command, reply):
            raise MalformedMessage(
                f"a {reply.TYPE.value!r} reply does not answer this {request.command.TYPE.value!r} request",
                field="command_id",
            )
        final = ends_request(reply)
        if final:
            del self._pending[request.correlation]
        return Match(request, reply, final)

    def forget(self, correlation: bytes) -> PendingRequest | None:
        """Stop waiting for a request (its caller gave up or timed out); the request, if it was waiting."""
        return self._pending.pop(correlation, None)
