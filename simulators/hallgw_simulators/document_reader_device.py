"""A document chip reader of the virtual hall: one vpcd slot of pcscd and the e-passport chip in it.

Theory of operation
-------------------
The reader itself is pcscd's vpcd driver (a real PC/SC reader to every
PC/SC client, the daemon included); this device is what lies on it. Placing
a document (:meth:`DocumentReaderDevice.place`) builds an
:class:`~hallgw_simulators.epassport_chip.EpassportChip` for a passport of
the deck and connects it to the slot's port (35963 + slot), which pcscd sees
as a card inserted; taking it away closes the connection. The daemon's link
URL is the reader's name, ``pcsc://Virtual PCD 00 0<slot>``.

Faults (control protocol ``fault`` op, or :meth:`apply_fault`):

* ``insert DOC [tampered-dgN ...] [bad-signature]``: place document DOC
  (a deck id), optionally with data groups whose EF.SOD hash was computed over
  altered bytes, or an EF.SOD signature over other content;
* ``remove``: take the document away;
* ``remove-after N``: the document leaves the field after N more APDUs (pulled
  out mid-read);
* ``mac-error``: the next protected answer carries a wrong MAC;
* ``refuse-bac on|off``: EXTERNAL AUTHENTICATE is denied even with the right MRZ;
* ``clear``: every fault off.

Needs pcscd running with vpcd (``make setup`` installs both; ``make demo`` and
the tests start pcscd when it is not running).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from typing import Any, ClassVar, Final

from hallgw_protocols.icao9303 import LdsFile
from hallgw_simulators.epassport_chip import ChipFaults, EpassportChip
from hallgw_simulators.faults import FaultArg, FaultError, count_arg, no_args, switch_arg
from hallgw_simulators.passport_deck import PassportDeck, PassportDocument, make_document
from hallgw_simulators.vpcd_card import VPCD_PORT, VpcdCard

VPCD_READER: Final = "Virtual PCD 00 0{slot}"
"""pcscd's name for vpcd's reader of a slot (with Debian's /etc/reader.conf.d/vpcd)."""
SLOTS: Final = 2
_TAMPERED: Final = re.compile(r"tampered-dg(\d{1,2})")


class DocumentReaderDevice:
    """A vpcd slot and the document on it (see the module docstring)."""

    kind: ClassVar[str] = "document_reader"

    def __init__(
        self,
        *,
        device_id: str,
        deck: PassportDeck,
        slot: int,
        seed: int,
        station: str | None,
        name: str | None,
        document: str | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        if not 0 <= slot < SLOTS:
            raise ValueError(f"vpcd has slots 0..{SLOTS - 1}, not {slot}")
        self.device_id = device_id
        self.deck = deck
        self.slot = slot
        self.seed = seed
        self.station = station
        self.name = name
        self.host = host
        self.port = VPCD_PORT + slot
        self._initial = document
        self._document: PassportDocument | None = None
        self._card: VpcdCard | None = None
        self._chip: EpassportChip | None = None
        self._refuse_bac = False

    @property
    def link_url(self) -> str:
        return f"pcsc://{VPCD_READER.format(slot=self.slot)}"

    @property
    def document(self) -> PassportDocument | None:
        return self._document

    # -- lifecycle ---------------------------------------------------------------
    async def start(self) -> None:
        if self._initial is not None:
            await self.place(self._initial)

    async def stop(self) -> None:
        await self.take_away()

    # -- documents ---------------------------------------------------------------
    async def place(
        self, doc_id: str, *, tampered: frozenset[LdsFile] = frozenset(), bad_signature: bool = False
    ) -> None:
        """Put document ``doc_id`` of the deck on the reader (replacing what lies there)."""
        if doc_id not in self.deck:
            raise FaultError(f"no document {doc_id!r} in the passport deck; known: {', '.join(self.deck)}")
        document = self.deck[doc_id]
        if tampered or bad_signature:
            document = make_document(doc_id, document.mrz, tampered=tampered, bad_signature=bad_signature)
        await self.take_away()
        chip = EpassportChip(document, seed=f"{self.seed}/{self.device_id}")
        chip.faults.refuse_bac = self._refuse_bac
        card = VpcdCard(chip, host=self.host, port=self.port)
        try:
            await card.insert()
        except OSError as err:
            raise FaultError(
                f"cannot reach vpcd on {self.host}:{self.port} ({err}): is pcscd running with vsmartcard-vpcd?"
            ) from err
        self._document, self._chip, self._card = document, chip, card

    async def take_away(self) -> None:
        card, self._card = self._card, None
        self._chip, self._document = None, None
        if card is not None:
            with contextlib.suppress(OSError):
                await card.remove()

    def _faults(self) -> ChipFaults:
        if self._chip is None:
            raise FaultError("no document is on the reader: insert one first")
        return self._chip.faults

    # -- control protocol --------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        faults = self._chip.faults if self._chip is not None else ChipFaults()
        return {
            "id": self.device_id,
            "kind": self.kind,
            "station": self.station,
            "transport": "vpcd",
            "link": self.link_url,
            "slot": self.slot,
            "port": self.port,
            "document": self._document.doc_id if self._document is not None else None,
            "inserted": self._card is not None and self._card.inserted,
            "faults": {
                "remove_after": faults.remove_after,
                "corrupt_next_mac": faults.corrupt_next_mac,
                "refuse_bac": self._refuse_bac,
            },
        }

    async def apply_fault(self, name: str, args: Sequence[FaultArg] = ()) -> None:
        if name == "insert":
            await self._insert(args)
        elif name == "remove":
            no_args(name, args)
            await self.take_away()
        elif name == "remove-after":
            self._faults().remove_after = count_arg(name, args, 10_000)
        elif name == "mac-error":
            no_args(name, args)
            self._faults().corrupt_next_mac = True
        elif name == "refuse-bac":
            self._refuse_bac = switch_arg(name, args)
            if self._chip is not None:
                self._chip.faults.refuse_bac = self._refuse_bac
        elif name == "clear":
            no_args(name, args)
            self._refuse_bac = False
            if self._chip is not None:
                self._chip.faults = ChipFaults()
        else:
            raise FaultError(
                f"unknown fault {name!r}; known: insert, remove, remove-after, mac-error, refuse-bac, clear"
            )

    async def _insert(self, args: Sequence[FaultArg]) -> None:
        if not args or not isinstance(args[0], str):
            raise FaultError("insert takes a document id, then optional tampered-dgN and bad-signature")
        tampered: set[LdsFile] = set()
        bad_signature = False
        for extra in args[1:]:
            text = str(extra)
            match = _TAMPERED.fullmatch(text)
            if match is not None:
                number = int(match.group(1))
                if number not in (1, 2):
                    raise FaultError(f"{text}: the simulated chips hold DG1 and DG2 only")
                tampered.add(LdsFile.data_group(number))
            elif text == "bad-signature":
                bad_signature = True
            else:
                raise FaultError(f"insert: unknown option {text!r}; expected tampered-dgN or bad-signature")
        await self.place(args[0], tampered=frozenset(tampered), bad_signature=bad_signature)
