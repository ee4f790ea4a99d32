"""PC/SC readers through pcscd (pyscard's low-level ``scard`` API), off the event loop.

Theory of operation
-------------------
A :class:`PcscReader` is one reader of pcscd, named in the link URL
(``pcsc://Virtual PCD 00 00``). The configured name matches a reader's name
exactly or, when no reader has that exact name, as a prefix: pcsc-lite appends
slot numbers (``... 00 00``) that can change when a reader is plugged into
another port, so ``pcsc://ACS ACR1252`` finds it wherever it lands.

pyscard calls block, so every call runs on a thread. Each reader has two
PC/SC contexts, each used by one thread only, because pcsc-lite serialises the
calls of one context and a blocking wait would stall the commands:

* the **command** thread connects to the card and transmits APDUs. A whole
  card session runs there as one blocking function (:meth:`PcscReader.session`):
  one hop from the event loop per read instead of one per APDU;
* the **monitor** thread waits in ``SCardGetStatusChange`` for the reader to
  go away (:meth:`PcscReader.wait_gone`); closing the reader cancels that wait
  with ``SCardCancel``.

pcscd stopping, the reader being unplugged, or its context becoming invalid
are all "link lost" (:class:`~hallgw_daemon.transports.link.LinkClosedError`).
A card taken out during a session is :class:`CardRemovedError`; pcsc-lite
reports it in several ways (removed card, no smart card, or "transaction
failed" on the next transmit), so after any transmit error the reader's state
decides.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import functools
import threading
from collections.abc import Callable
from typing import Final, TypeVar

from smartcard import scard

from hallgw_daemon.transports.link import LinkClosedError, LinkOpenError, LinkUrl

T = TypeVar("T")

WAIT_SLICE_MS: Final = 200
"""Longest single status wait of a card wait, so a cancelled wait ends within this time."""
MONITOR_SLICE_MS: Final = 1000
"""Longest single status wait of the reader monitor."""
REMOVAL_GRACE_MS: Final = 500
"""After a failed transmit with the card still reported present: how long to wait for the reader to report it gone."""

_SERVICE_GONE: Final = frozenset(
    code & 0xFFFFFFFF
    for code in (
        scard.SCARD_E_NO_SERVICE,
        scard.SCARD_E_SERVICE_STOPPED,
        scard.SCARD_E_INVALID_HANDLE,
        scard.SCARD_E_UNKNOWN_READER,
        scard.SCARD_E_READER_UNAVAILABLE,
        scard.SCARD_E_NO_READERS_AVAILABLE,
        scard.SCARD_F_COMM_ERROR,
        scard.SCARD_E_INVALID_HANDLE,
    )
)
_CARD_GONE: Final = frozenset(
    code & 0xFFFFFFFF for code in (scard.SCARD_W_REMOVED_CARD, scard.SCARD_E_NO_SMARTCARD, scard.SCARD_W_RESET_CARD)
)
_CANCELLED: Final = scard.SCARD_E_CANCELLED & 0xFFFFFFFF
_TIMEOUT: Final = scard.SCARD_E_TIMEOUT & 0xFFFFFFFF
_GONE_STATES: Final = scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_UNAVAILABLE | scard.SCARD_STATE_IGNORE


class CardRemovedError(ConnectionError):
    """The card left the reader (before or during a session)."""


class CardAbsentError(CardRemovedError):
    """No card was on the reader when a session began."""


class CardIoError(OSError):
    """A card command failed while the card stayed on the reader."""


def _code(rc: int) -> int:
    return rc & 0xFFFFFFFF


def _message(rc: int) -> str:
    return f"{scard.SCardGetErrorMessage(rc)} (0x{_code(rc):08X})"


def _establish() -> int:
    rc, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if rc != scard.SCARD_S_SUCCESS:
        raise LinkOpenError(f"pcscd is not available: {_message(rc)}; is pcscd running?")
    return int(ctx)


def _release(ctx: int) -> None:
    with contextlib.suppress(Exception):
        scard.SCardReleaseContext(ctx)


def list_readers() -> list[str]:
    """The names of pcscd's readers now (blocking); LinkOpenError when pcscd is not there."""
    ctx = _establish()
    try:
        rc, readers = scard.SCardListReaders(ctx, [])
        if _code(rc) == _code(scard.SCARD_E_NO_READERS_AVAILABLE):
            return []
        if rc != scard.SCARD_S_SUCCESS:
            raise LinkOpenError(f"pcscd did not list its readers: {_message(rc)}")
        return list(readers)
    finally:
        _release(ctx)


def match_reader(wanted: str, readers: list[str]) -> str | None:
    """The reader ``wanted`` names: the exact name, else the first one it is a prefix of."""
    if wanted in readers:
        return wanted
    return next((r for r in readers if r.startswith(wanted)), None)


@dataclasses.dataclass(frozen=True, slots=True)
class CardStatus:
    """Whether a card is on the reader, and its answer to reset."""

    present: bool
    atr: bytes = b""


class CardChannel:
    """A connected card, used from the command thread only (blocking calls)."""

    def __init__(self, reader: PcscReader, handle: int, protocol: int) -> None:
        self._reader = reader
        self._handle = handle
        self._protocol = protocol
        self.cancelled = threading.Event()
        """Set by the event loop when the caller gave up: the session stops at its next APDU."""

    def transmit(self, apdu: bytes) -> bytes:
        """Send one command APDU; the response APDU (data and status word)."""
        if self.cancelled.is_set():
            raise CardIoError("the read was cancelled")
        rc, response = scard.SCardTransmit(self._handle, self._protocol, list(apdu))
        if rc != scard.SCARD_S_SUCCESS:
            self._reader._raise_after_failure(rc)
        data = bytes(response)
        if len(data) < 2:
            # A pulled card can also look like an empty success.
            self._reader._raise_after_failure(rc, empty=True)
        return data


class PcscReader:
    """One pcscd reader, opened by :func:`open_pcsc` (see the module docstring)."""

    def __init__(self, url: LinkUrl, name: str, command_ctx: int, monitor_ctx: int) -> None:
        self.url = url
        self.name = name
        self._ctx = command_ctx
        self._monitor_ctx = monitor_ctx
        self._commands = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=f"pcsc-cmd:{name}")
        self._monitor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=f"pcsc-mon:{name}")
        self._closing = threading.Event()
        self._closed = False

    # -- blocking helpers (command thread) -----------------------------------------
    def _status(self, timeout_ms: int, known: int = scard.SCARD_STATE_UNAWARE) -> tuple[int, int, bytes]:
        rc, states = scard.SCardGetStatusChange(self._ctx, timeout_ms, [(self.name, known)])
        code = _code(rc)
        if code in _SERVICE_GONE:
            raise LinkClosedError(f"{self.url.display()}: reader gone: {_message(rc)}")
        if code not in (scard.SCARD_S_SUCCESS, _TIMEOUT, _CANCELLED):
            raise CardIoError(f"reader status failed: {_message(rc)}")
        _, event, atr = states[0]
        if event & _GONE_STATES:
            raise LinkClosedError(f"{self.url.display()}: reader gone")
        return code, int(event), bytes(atr)

    def _raise_after_failure(self, rc: int, *, empty: bool = False) -> None:
        code = _code(rc)
        if code in _SERVICE_GONE:
            raise LinkClosedError(f"{self.url.display()}: {_message(rc)}")
        if code in _CARD_GONE:
            raise CardRemovedError("the card was removed")
        _, event, _ = self._status(0)
        if event & scard.SCARD_STATE_PRESENT:
            # Some readers (vpcd among them) notice a pulled card only on their next poll:
            # give the reader that long to say so before calling it a card error.
            _, event, _ = self._status(REMOVAL_GRACE_MS, event & ~scard.SCARD_STATE_CHANGED)
        if not event & scard.SCARD_STATE_PRESENT:
            raise CardRemovedError("the card was removed")
        what = "an empty response" if empty else _message(rc)
        raise CardIoError(f"the card command failed: {what}")

    def _card_status(self) -> CardStatus:
        _, event, atr = self._status(0)
        present = bool(event & scard.SCARD_STATE_PRESENT) and not event & scard.SCARD_STATE_MUTE
        return CardStatus(present=present, atr=atr if present else b"")

    def _wait_card(self, timeout_ms: int) -> CardStatus:
        _, event, _ = self._status(0)
        if event & scard.SCARD_STATE_PRESENT:
            return self._card_status()
        self._status(timeout_ms, event & ~scard.SCARD_STATE_CHANGED)
        return self._card_status()

    def _session(self, fn: Callable[[CardChannel], T], channel_box: list[CardChannel]) -> T:
        rc, handle, protocol = scard.SCardConnect(
            self._ctx, self.name, scard.SCARD_SHARE_EXCLUSIVE, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
        )
        if rc != scard.SCARD_S_SUCCESS:
            code = _code(rc)
            if code in _SERVICE_GONE:
                raise LinkClosedError(f"{self.url.display()}: {_message(rc)}")
            if code in _CARD_GONE or code == _code(scard.SCARD_W_UNRESPONSIVE_CARD):
                raise CardAbsentError(f"no card to connect to: {_message(rc)}")
            raise CardIoError(f"cannot connect to the card: {_message(rc)}")
        try:
            channel = CardChannel(self, handle, protocol)
            channel_box.append(channel)
            return fn(channel)
        finally:
            # Reset: the chip forgets its session keys when the read ends.
            scard.SCardDisconnect(handle, scard.SCARD_RESET_CARD)

    # -- the event loop's side ---------------------------------------------------------
    async def _run(self, fn: Callable[[], T]) -> T:
        if self._closed:
            raise LinkClosedError(f"{self.url.display()}: closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._commands, fn)

    async def card_status(self) -> CardStatus:
        """Whether a card is on the reader now."""
        return await self._run(self._card_status)

    async def wait_for_card(self, timeout: float) -> CardStatus:
        """Until a card is on the reader or ``timeout`` seconds passed (then ``present`` is False)."""
        loop = asyncio.get_running_loop()
        until = loop.time() + max(0.0, timeout)
        while True:
            remaining_ms = int((until - loop.time()) * 1000)
            status = await self._run(functools.partial(self._wait_card, max(0, min(WAIT_SLICE_MS, remaining_ms))))
            if status.present or loop.time() >= until:
                return status

    async def session(self, fn: Callable[[CardChannel], T]) -> T:
        """Connect to the card, run ``fn`` on the command thread, then reset the card.

        :class:`CardAbsentError` when no card is there to connect to.

        If the caller is cancelled, ``fn`` stops at its next APDU (it is never
        interrupted mid-APDU) and the cancellation goes on.
        """
        box: list[CardChannel] = []
        future = asyncio.ensure_future(self._run(lambda: self._session(fn, box)))
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            if box:
                box[0].cancelled.set()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await future  # the thread finishes its APDU; the reader stays usable
            raise

    def _monitor_loop(self) -> str:
        known = scard.SCARD_STATE_UNAWARE
        while not self._closing.is_set():
            rc, states = scard.SCardGetStatusChange(self._monitor_ctx, MONITOR_SLICE_MS, [(self.name, known)])
            code = _code(rc)
            if code in _SERVICE_GONE:
                return f"reader gone: {_message(rc)}"
            if code == _CANCELLED or self._closing.is_set():
                return "closed"
            if code == _TIMEOUT:
                continue
            if code != scard.SCARD_S_SUCCESS:
                return f"reader status failed: {_message(rc)}"
            _, event, _ = states[0]
            if event & _GONE_STATES:
                return "reader gone"
            known = int(event) & ~scard.SCARD_STATE_CHANGED
        return "closed"

    async def wait_gone(self) -> str:
        """Return (with the reason) once the reader or pcscd is gone, or the reader was closed."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._monitor, self._monitor_loop)

    async def close(self) -> None:
        """Stop the monitor, release both contexts and the threads."""
        if self._closed:
            return
        self._closed = True
        self._closing.set()
        with contextlib.suppress(Exception):
            scard.SCardCancel(self._monitor_ctx)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._shutdown)

    def _shutdown(self) -> None:
        self._commands.shutdown(wait=True)
        self._monitor.shutdown(wait=True)
        _release(self._ctx)
        _release(self._monitor_ctx)

    def __repr__(self) -> str:
        return f"PcscReader({self.name!r})"


def _open(url: LinkUrl) -> PcscReader:
    readers = list_readers()
    name = match_reader(url.path, readers)
    if name is None:
        have = ", ".join(repr(r) for r in readers) or "none"
        raise LinkOpenError(f"{url.display()}: no such reader (pcscd has: {have})")
    command_ctx = _establish()
    try:
        monitor_ctx = _establish()
    except LinkOpenError:
        _release(command_ctx)
        raise
    return PcscReader(url, name, command_ctx, monitor_ctx)


async def open_pcsc(url: LinkUrl, *, timeout: float = 2.0) -> PcscReader:
    """Open the reader ``url`` names; LinkOpenError when pcscd or the reader is not there."""
    try:
        async with asyncio.timeout(timeout):
            return await asyncio.to_thread(_open, url)
    except TimeoutError as err:
        raise LinkOpenError(f"{url.display()}: pcscd did not answer within {timeout} s") from err
