"""What every driver offers the supervisor, and the registry that finds drivers by kind."""

from __future__ import annotations

import abc
import dataclasses
import datetime as dt
import enum
from collections.abc import Callable, Mapping
from typing import ClassVar, TypeVar

from hallgw_daemon.config import LightingOptions, ScannerOptions
from hallgw_daemon.core.errors import InternalError
from hallgw_daemon.core.model import DeviceKind, utcnow
from hallgw_daemon.transports import ByteStream, Link, PcscReader, Transport, UsbLink


class Direction(enum.Enum):
    TO_DEVICE = "to_device"
    FROM_DEVICE = "from_device"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class TraceRecord:
    """One frame on a link, decoded, with personal payload already masked."""

    direction: Direction
    summary: str
    data: bytes = b""
    masked: bool = False
    length: int = 0
    error: str = ""
    time: dt.datetime = dataclasses.field(default_factory=utcnow)


@dataclasses.dataclass(slots=True, kw_only=True)
class DriverContext:
    """What a driver gets from the supervisor."""

    device_id: str
    command_timeout: float
    on_link_fault: Callable[[str, int], None] = lambda _message, _discarded: None
    """Called with (message, discarded bytes) for each recovered protocol error."""
    taps: set[Callable[[TraceRecord], None]] = dataclasses.field(default_factory=set)
    """Frame trace subscribers; empty in normal operation (no cost)."""
    lighting: LightingOptions | None = None
    """A lighting device's levels, from its config."""
    scanner: ScannerOptions | None = None
    """A payment scanner's framing, from its config (None: the defaults)."""


class Driver(abc.ABC):
    """A device family's driver: joins a codec to a link.

    Lifecycle: ``attach(link)`` starts reading, ``identify()`` asks the device
    for its identity map, ``probe()`` checks health, ``wait_closed()`` returns when
    the link is lost, ``detach()`` stops. Family operations are methods of
    the subclass, called by the API through the device's command lane.
    """

    kind: ClassVar[DeviceKind]
    self_reporting: ClassVar[bool] = False
    """True when the device reports its own liveness (heartbeats, a last will) and its link's
    ``wait_closed()`` ends when they stop: the supervisor then never polls ``probe()``."""

    def __init__(self, ctx: DriverContext) -> None:
        self.ctx = ctx

    def drop_personal_data(self) -> None:  # noqa: B027 - most drivers keep nothing between calls
        """Forget whatever personal data waits in the driver (a scan not yet read): the visit ended."""

    @abc.abstractmethod
    def attach(self, transport: Transport) -> None:
        """Start using ``transport`` (no I/O yet)."""

    @abc.abstractmethod
    async def identify(self, *, timeout: float) -> Mapping[str, str]:
        """Ask the device who it is; returns its identity map for display."""

    @abc.abstractmethod
    async def probe(self, *, timeout: float) -> None:
        """Raise a GatewayError if the device is unhealthy."""

    @abc.abstractmethod
    async def wait_closed(self) -> str:
        """Return (with the reason) once the link is lost."""

    @abc.abstractmethod
    async def detach(self) -> None:
        """Stop using the link and close it."""

    def consumables(self) -> Mapping[str, int]:
        """Consumables and capacity as the device last reported them; empty for devices without any."""
        return {}


def stream_of(transport: Transport, device_id: str) -> ByteStream:
    """``transport`` as a byte stream, for drivers of serial devices (config validation makes this hold)."""
    if not isinstance(transport, Link | UsbLink):
        raise InternalError(f"device {device_id}: a byte-stream driver got {transport!r}")
    return transport


def reader_of(transport: Transport, device_id: str) -> PcscReader:
    """``transport`` as a PC/SC reader, for smart-card drivers."""
    if not isinstance(transport, PcscReader):
        raise InternalError(f"device {device_id}: a PC/SC driver got {transport!r}")
    return transport


D = TypeVar("D", bound=type[Driver])
_REGISTRY: dict[DeviceKind, type[Driver]] = {}


def register_driver(cls: D) -> D:
    """Class decorator: make ``cls`` the driver of its ``kind``."""
    _REGISTRY[cls.kind] = cls
    return cls


def driver_for(kind: DeviceKind) -> type[Driver] | None:
    """The driver class registered for ``kind``, if any."""
    return _REGISTRY.get(kind)
