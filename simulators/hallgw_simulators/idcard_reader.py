"""State model of a second-generation ID card reader (the SAM side).

Theory of operation
-------------------
:class:`SamReaderModel` is sans-IO: it takes decoded :class:`Command` events and
returns the :class:`Response` a SAM would send. It holds a SAM id, a card slot
(empty or one card of the deck) and where the host is in the card transaction
of reference section 1.9:

* ``20 01`` find: ``9F`` + 4 zero bytes when a card lies on the reader, else
  ``80``. A successful find arms selection (and drops an earlier selection).
* ``20 02`` select: ``90`` + 8 zero bytes after a successful find, else ``81``.
* ``30 01`` / ``30 10`` read: ``90`` + the card after a successful select. A read
  without a selected card answers ``41`` (read failed): the status belongs to
  the command that was sent, so a host never sees "select failed" for a read.
  The selection stays until the card leaves, a new find or a SAM reset.
* ``11 FF`` status and ``10 FF`` reset: ``90`` (reset also clears the
  transaction); ``12 FF``: ``90`` + the 16-byte SAM id.
* ``30 03`` appended address: ``91`` (no such item) with a selected card, else
  ``41``; ``30 05`` card MID: ``21`` (payload not documented publicly);
  ``60 xx`` baud and ``61 FF`` frame size: ``90``, with no effect (a pty has no
  line rate; pacing is configured, not negotiated).
* Anything else, or a known command carrying data it does not take: ``21``.
* A frame that fails its checksum or length check: ``10``
  (:meth:`SamReaderModel.bad_frame`).

Card-level faults live here too (:class:`CardFaults`); wire-level faults
(silence, corruption, garbage, delay) belong to the link, see
:mod:`hallgw_simulators.serial_device`.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from typing import Any, Final

from hallgw_protocols.idcard_sam import (
    FIND_CARD_DATA,
    SELECT_CARD_DATA,
    Command,
    CommandCode,
    Response,
    SamId,
    Status,
    build_card_read,
)
from hallgw_simulators.deck import Deck, DeckCard


class UnknownCardError(KeyError):
    """A card id that is not in the deck."""

    def __str__(self) -> str:
        return f"unknown card {self.args[0]!r}"


@dataclasses.dataclass(slots=True)
class CardFaults:
    """Faults that change what the SAM answers (not how the bytes travel)."""

    remove_mid_read: bool = False
    """The next read answers 41 and the card is gone, as if pulled out mid-read."""
    no_card: bool = False
    """The reader does not see the card in its slot (lying badly): find answers 80."""
    selftest_fail: bool = False
    """Every command answers 60 (SAM self-test failed)."""


_NO_DATA_COMMANDS = frozenset(CommandCode) - {CommandCode.SET_MAX_RF_FRAME}
_ACCEPTED_WITHOUT_EFFECT = frozenset(
    {
        CommandCode.SET_BAUD_115200,
        CommandCode.SET_BAUD_57600,
        CommandCode.SET_BAUD_38400,
        CommandCode.SET_BAUD_19200,
        CommandCode.SET_BAUD_9600,
        CommandCode.SET_MAX_RF_FRAME,
    }
)


def sam_id_for(seed: int, device_id: str) -> SamId:
    """A SAM id that depends only on (seed, device id): every reader of a hall differs."""
    # A str seed is hashed with SHA-512 by random.Random: stable across runs and
    # independent of PYTHONHASHSEED.
    rng = random.Random(f"hallsim/{seed}/{device_id}/sam-id")  # noqa: S311 - test data, not secrets
    return SamId.from_parts(5, 1, rng.randrange(10**8), rng.randrange(10**9), rng.randrange(10**9))


class SamReaderModel:
    """What one reader's SAM answers, given its slot, transaction state and faults."""

    def __init__(self, *, deck: Deck, sam_id: SamId, card: str | None = None) -> None:
        self.deck = deck
        self.sam_id = sam_id
        self.faults = CardFaults()
        self._card: DeckCard | None = None
        self._found = False
        self._selected = False
        if card is not None:
            self.insert(card)

    # -- the slot ----------------------------------------------------------------
    @property
    def card(self) -> DeckCard | None:
        """The card lying on the reader, if any."""
        return self._card

    def insert(self, card_id: str) -> None:
        """Put a card of the deck on the reader (replacing any card there)."""
        try:
            self._card = self.deck[card_id]
        except KeyError:
            raise UnknownCardError(card_id) from None
        self._reset_transaction()

    def remove(self) -> None:
        """Take the card away."""
        self._card = None
        self._reset_transaction()

    def _reset_transaction(self) -> None:
        self._found = False
        self._selected = False

    def describe(self) -> dict[str, Any]:
        """Slot and transaction state for the control protocol (no personal fields)."""
        return {
            "card": self._card.card_id if self._card else None,
            "found": self._found,
            "selected": self._selected,
        }

    # -- the protocol ------------------------------------------------------------
    def bad_frame(self) -> Response:
        """The answer to a frame that failed its checksum or length check."""
        return Response(sw3=Status.HOST_CHECKSUM_ERROR)

    def handle(self, command: Command) -> Response:
        """The SAM's response to one command."""
        if self.faults.selftest_fail:
            return Response(sw3=Status.SELF_TEST_FAILED)
        code = command.code
        if code is None or (command.data and code in _NO_DATA_COMMANDS):
            return Response(sw3=Status.COMMAND_ERROR)
        if code is CommandCode.SET_MAX_RF_FRAME and len(command.data) != 1:
            return Response(sw3=Status.COMMAND_ERROR)
        if code in _ACCEPTED_WITHOUT_EFFECT:
            return Response(sw3=Status.OK)
        handler = _HANDLERS.get(code)
        # READ_CARD_MID lands here: its payload is not documented publicly, so refuse it.
        return handler(self) if handler else Response(sw3=Status.COMMAND_ERROR)

    def _status(self) -> Response:
        return Response(sw3=Status.OK)

    def _reset(self) -> Response:
        self._reset_transaction()
        return Response(sw3=Status.OK)

    def _read_sam_id(self) -> Response:
        return Response(sw3=Status.OK, data=self.sam_id.raw)

    def _appended_address(self) -> Response:
        return Response(sw3=Status.NO_CONTENT if self._selected else Status.READ_FAILED)

    def _find(self) -> Response:
        self._selected = False
        self._found = self._card is not None and not self.faults.no_card
        if self._found:
            return Response(sw3=Status.FIND_CARD_OK, data=FIND_CARD_DATA)
        return Response(sw3=Status.FIND_CARD_FAILED)

    def _select(self) -> Response:
        if not self._found or self._card is None or self.faults.no_card:
            self._selected = False
            return Response(sw3=Status.SELECT_CARD_FAILED)
        self._selected = True
        return Response(sw3=Status.OK, data=SELECT_CARD_DATA)

    def _read(self, *, with_fingerprint: bool) -> Response:
        if self.faults.remove_mid_read:
            self.faults.remove_mid_read = False
            self.remove()
            return Response(sw3=Status.READ_FAILED)
        if not self._selected or self._card is None:
            return Response(sw3=Status.READ_FAILED)
        data = build_card_read(self._card.card_read(), with_fingerprint=with_fingerprint)
        return Response(sw3=Status.OK, data=data)


_HANDLERS: Final[dict[CommandCode, Callable[[SamReaderModel], Response]]] = {
    CommandCode.SAM_STATUS: SamReaderModel._status,
    CommandCode.RESET_SAM: SamReaderModel._reset,
    CommandCode.READ_SAM_ID: SamReaderModel._read_sam_id,
    CommandCode.FIND_CARD: SamReaderModel._find,
    CommandCode.SELECT_CARD: SamReaderModel._select,
    CommandCode.READ_TEXT_PHOTO: lambda model: model._read(with_fingerprint=False),
    CommandCode.READ_TEXT_PHOTO_FINGERPRINT: lambda model: model._read(with_fingerprint=True),
    CommandCode.READ_APPENDED_ADDRESS: SamReaderModel._appended_address,
}
"""The command table: a known command missing here is refused with 21."""
