"""The ID card reader driver: find, select and read a card through the reader's SAM.

Statuses map to caller-facing errors in one table (:data:`STATUS_ERRORS`).
Decoding the WLT photo needs a licensed vendor library; a decoder can be
plugged in through the ``hallgw.wlt_decoders`` entry point group (a callable
taking the 1024-byte WLT blob and returning BMP bytes, or None).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import ClassVar, Final

from hallgw_daemon.core.errors import (
    CardReadFailedError,
    DeviceProtocolError,
    GatewayError,
    LinkLostError,
    NoCardError,
    SamFaultError,
    UnsupportedCardError,
)
from hallgw_daemon.core.model import Action, DeviceKind
from hallgw_daemon.drivers.base import Driver, DriverContext, register_driver, stream_of
from hallgw_daemon.drivers.samlink import SamLink
from hallgw_daemon.logging import get_logger
from hallgw_daemon.transports import Transport
from hallgw_protocols import RemoteProtocolError
from hallgw_protocols.idcard_sam import (
    CardText,
    CommandCode,
    Response,
    Status,
    decode_text,
    parse_card_read,
    parse_sam_id,
    status_text,
)

log = get_logger(__name__)

CARD_POLL_INTERVAL: Final = 0.15
"""How often a waiting read looks for a card (seconds)."""

PhotoDecoder = Callable[[bytes], bytes | None]

STATUS_ERRORS: Final[dict[int, tuple[type[GatewayError], str]]] = {
    Status.FIND_CARD_FAILED: (NoCardError, "no card on the reader: place the card on the reader"),
    Status.SELECT_CARD_FAILED: (CardReadFailedError, "the card could not be selected: hold it still and retry"),
    Status.READ_FAILED: (CardReadFailedError, "the card could not be read (moved or removed?): place it again"),
    Status.NO_CONTENT: (CardReadFailedError, "the card has no content for this item"),
    Status.CARD_AUTH_SAM_FAILED: (CardReadFailedError, "the card failed to authenticate the reader: place it again"),
    Status.SAM_AUTH_CARD_FAILED: (CardReadFailedError, "the reader could not authenticate the card: check the card"),
    Status.VERIFY_FAILED: (CardReadFailedError, "the card's information failed verification: check the card"),
    Status.UNKNOWN_CARD_TYPE: (UnsupportedCardError, "this card type is not supported by the reader"),
    Status.SELF_TEST_FAILED: (SamFaultError, "the reader's security module failed its self-test: reset the reader"),
    Status.NOT_AUTHORISED: (SamFaultError, "the reader's security module is not authorised: call an engineer"),
    Status.HOST_CHECKSUM_ERROR: (DeviceProtocolError, "the reader received a corrupted command: retry"),
    Status.HOST_LENGTH_ERROR: (DeviceProtocolError, "the reader received a truncated command: retry"),
    Status.COMMAND_ERROR: (SamFaultError, "the reader rejected the command: reset the reader"),
    Status.NOT_PERMITTED: (SamFaultError, "the reader refused the operation: call an engineer"),
    Status.UNRECOGNISED_ERROR: (SamFaultError, "the reader reported an unrecognised error: reset the reader"),
    Status.GET_RANDOM_FAILED: (CardReadFailedError, "the card did not answer (get-random failed): place it again"),
}
_ACTIONS: Final = {Status.NOT_AUTHORISED: Action.ENGINEER, Status.NOT_PERMITTED: Action.ENGINEER}


def status_error(resp: Response, device_id: str) -> GatewayError:
    """The caller-facing error for a failed response."""
    cls, message = STATUS_ERRORS.get(
        resp.sw3, (DeviceProtocolError, f"the reader answered with an unknown status 0x{resp.sw3:02X}")
    )
    action = _ACTIONS.get(Status(resp.sw3)) if resp.sw3 in Status._value2member_map_ else None
    return cls(f"{message} (SAM status {resp.sw3:02X}: {status_text(resp.sw3)})", device_id=device_id, action=action)


def load_photo_decoder() -> PhotoDecoder | None:
    """The first installed WLT decoder plugin, or None (decoding then stays off)."""
    for ep in entry_points(group="hallgw.wlt_decoders"):
        try:
            decoder: PhotoDecoder = ep.load()
        except Exception as err:
            log.warning("wlt decoder unavailable", plugin=ep.name, error=str(err))
            continue
        log.info("wlt decoder loaded", plugin=ep.name)
        return decoder
    return None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class CardResult:
    """A card read: the decoded text fields and the photo as stored (WLT)."""

    card: CardText
    photo_wlt: bytes
    decoded_photo: bytes | None

    def __repr__(self) -> str:  # personal data: never in a repr
        return f"CardResult({self.card.card_type.name})"


ProgressFn = Callable[[str, str], None]


@register_driver
class IdCardReaderDriver(Driver):
    """Second-generation ID card reader with a SAM, over a serial or TCP link."""

    kind: ClassVar[DeviceKind] = DeviceKind.IDCARD_READER
    photo_decoder: ClassVar[PhotoDecoder | None] = None

    def __init__(self, ctx: DriverContext) -> None:
        super().__init__(ctx)
        self._sam: SamLink | None = None

    @property
    def sam(self) -> SamLink:
        if self._sam is None:
            raise LinkLostError("the device went offline (its link is closed)", device_id=self.ctx.device_id)
        return self._sam

    def attach(self, transport: Transport) -> None:
        self._sam = SamLink(stream_of(transport, self.ctx.device_id), self.ctx)

    async def identify(self, *, timeout: float) -> Mapping[str, str]:
        resp = await self._command(CommandCode.READ_SAM_ID, timeout)
        try:
            sam_id = parse_sam_id(resp.data)
        except RemoteProtocolError as err:
            raise DeviceProtocolError(f"bad SAM id response: {err}", device_id=self.ctx.device_id) from err
        return {"sam_id": sam_id.display()}

    async def probe(self, *, timeout: float) -> None:
        await self._command(CommandCode.SAM_STATUS, timeout)

    async def wait_closed(self) -> str:
        return await self.sam.wait_closed()

    async def detach(self) -> None:
        if self._sam is not None:
            await self._sam.close()
            self._sam = None

    async def _command(self, code: CommandCode, timeout: float) -> Response:
        resp = await self.sam.exchange(code, timeout=timeout)
        if not resp.ok:
            raise status_error(resp, self.ctx.device_id)
        return resp

    async def read_card(self, *, wait_until: float, progress: ProgressFn) -> CardResult:
        """Wait for a card until ``wait_until`` (loop time), then select and read it."""
        loop = asyncio.get_running_loop()
        timeout = self.ctx.command_timeout
        announced = False
        while True:
            resp = await self.sam.exchange(CommandCode.FIND_CARD, timeout=timeout)
            if resp.ok:
                break
            if resp.sw3 != Status.FIND_CARD_FAILED:
                raise status_error(resp, self.ctx.device_id)
            remaining = wait_until - loop.time()
            if remaining <= 0:
                raise NoCardError("no card was placed on the reader in time", device_id=self.ctx.device_id)
            if not announced:
                progress("WAITING_FOR_CARD", "place the card on the reader")
                announced = True
            await asyncio.sleep(min(CARD_POLL_INTERVAL, remaining))
        progress("CARD_FOUND", "card found, hold it still")
        await self._command(CommandCode.SELECT_CARD, timeout)
        progress("READING", "reading the card")
        resp = await self._command(CommandCode.READ_TEXT_PHOTO, timeout)
        try:
            read = parse_card_read(resp.data, with_fingerprint=False)
            card = decode_text(read.text)
        except RemoteProtocolError as err:
            raise DeviceProtocolError(
                f"the reader returned an unreadable card record: {err}", device_id=self.ctx.device_id
            ) from err
        decoded = None
        decoder = type(self).photo_decoder
        if decoder is not None:
            try:
                decoded = decoder(read.photo)
            except Exception as err:
                log.warning("wlt decoding failed", device_id=self.ctx.device_id, error=type(err).__name__)
        return CardResult(card=card, photo_wlt=read.photo, decoded_photo=decoded)
