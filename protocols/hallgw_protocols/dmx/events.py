"""Typed messages of the Enttec DMX USB Pro widget API, for both ends of the link.

Data layouts (Enttec, "DMX USB Pro Widget API Specification 1.44"; all
two-byte values LSB first):

========================  =====  ====================================================
message                   label  data
========================  =====  ====================================================
Get Widget Parameters     3      user configuration size (2), 0..508
  reply                   3      firmware version LSB, MSB; break time; MAB time;
                                 output rate; user configuration (that many bytes)
Set Widget Parameters     4      user configuration size (2); break time; MAB time;
                                 output rate; user configuration
Received DMX Packet       5      receive status (bit 0 queue overflow, bit 1 overrun);
                                 DMX data beginning with the start code (1..513)
Output Only Send DMX      6      DMX data beginning with the start code (25..513)
Get Widget Serial Number  10     none
  reply                   10     serial number, 4 bytes BCD
========================  =====  ====================================================

Break and MAB times are in units of 10.67 us (9..127 and 1..127), the output
rate in packets per second (1..40, or 0 for as fast as possible). The
firmware version's MSB names the firmware variety (1 DMX, 2 RDM, 3 RDM
sniffer) and its LSB the release, so "1.44" is MSB 1, LSB 44.

The serial number's byte order is [single source]: QLC+
(``plugins/dmxusb/src/enttecdmxusbpro.cpp``) prints the reply's data bytes
last to first (``"%x%.2x%.2x%.2x"``, bytes 3, 2, 1, 0), so the first data
byte holds the two lowest digits; we read and write it that way.

A DMX packet carries at most 512 channel levels after its start code, and
the widget takes no fewer than 24 in a Send DMX request, so
:class:`SendDmx` pads a shorter universe with zeros on the wire (the lights
past the end are dark either way). Any other label, in either direction,
travels as a raw :class:`WidgetMessage`: the widget ignores messages its
firmware does not support, and a host must not choke on a label it does not
use (label 9, change-of-state input, for example).

Decoding a peer's data raises :class:`RemoteProtocolError`; building an
event with values out of range raises :class:`LocalProtocolError`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Final, Self, TypeVar

from hallgw_protocols._common import LocalProtocolError, RemoteProtocolError
from hallgw_protocols.dmx.frames import Frame, Label

CHANNELS: Final = 512
"""Channel levels in one DMX universe."""
MIN_SEND_CHANNELS: Final = 24
"""Fewest levels the widget takes in an Output Only Send DMX request (data of 25..513 bytes)."""
NULL_START_CODE: Final = 0
"""The DMX start code of a packet of dimmer levels."""
MAX_USER_CONFIG: Final = 508
BREAK_TIMES: Final = range(9, 128)
MAB_TIMES: Final = range(1, 128)
OUTPUT_RATES: Final = range(41)
"""Packets per second; 0 means as fast as the widget can."""
TIME_UNIT_US: Final = 10.67
"""Microseconds per unit of the break and MAB times."""
MAX_SERIAL: Final = 99_999_999
"""Eight BCD digits."""
_T = TypeVar("_T")


def _check_byte(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFF:
        raise LocalProtocolError(f"{name} must be an integer 0..255, got {value!r}")


def _check_in(name: str, value: int, allowed: range, unit: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        raise LocalProtocolError(f"{name} must be {allowed.start}..{allowed.stop - 1}{unit}, got {value!r}")


def _check_user_config(config: bytes) -> None:
    if len(config) > MAX_USER_CONFIG:
        raise LocalProtocolError(f"user configuration of {len(config)} bytes is over {MAX_USER_CONFIG}")


def levels_to_bytes(levels: Mapping[int, int] | Sequence[int]) -> bytes:
    """Channel levels as one byte per channel from channel 1.

    A sequence gives channels 1..len in order; a mapping gives levels by
    channel number (1-based) and leaves the channels it skips at 0, up to the
    highest one named. Either way 1..512 channels, each level 0..255.
    """
    if isinstance(levels, bytes | bytearray):
        values: list[int] = list(levels)
    elif isinstance(levels, Mapping):
        for channel in levels:
            _check_in("a DMX channel", channel, range(1, CHANNELS + 1), " (channels are numbered from 1)")
        values = [0] * max(levels, default=0)
        for channel, level in levels.items():
            _check_byte(f"the level of channel {channel}", level)
            values[channel - 1] = level
    else:
        values = list(levels)
        for index, level in enumerate(values):
            _check_byte(f"the level of channel {index + 1}", level)
    if not 1 <= len(values) <= CHANNELS:
        raise LocalProtocolError(f"a DMX universe has 1..{CHANNELS} channels, got {len(values)}")
    return bytes(values)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, order=True)
class FirmwareVersion:
    """The widget's firmware version: ``major`` is the reply's MSB (the variety), ``minor`` its LSB."""

    major: int
    minor: int

    def __post_init__(self) -> None:
        _check_byte("firmware major version", self.major)
        _check_byte("firmware minor version", self.minor)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"

    @classmethod
    def parse(cls, text: str) -> FirmwareVersion:
        """``"1.44"`` -> major 1, minor 44."""
        major, dot, minor = text.partition(".")
        if not dot or not major.isdigit() or not minor.isdigit():
            raise LocalProtocolError(f"a firmware version looks like 1.44, got {text!r}")
        return cls(major=int(major), minor=int(minor))


# -- host to widget ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class GetWidgetParameters:
    """Ask for the widget's parameters and ``user_config_size`` bytes of its user configuration."""

    label: ClassVar[Label] = Label.GET_WIDGET_PARAMETERS
    user_config_size: int = 0

    def __post_init__(self) -> None:
        _check_in("user_config_size", self.user_config_size, range(MAX_USER_CONFIG + 1))

    def data(self) -> bytes:
        return self.user_config_size.to_bytes(2, "little")

    @classmethod
    def from_data(cls, data: bytes) -> Self:
        _expect_size(cls, data, 2)
        return _remote(cls, user_config_size=int.from_bytes(data, "little"))


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SetWidgetParameters:
    """Set the output timing (kept by the widget across power cycles) and the user configuration."""

    label: ClassVar[Label] = Label.SET_WIDGET_PARAMETERS
    break_time: int = 9
    mab_time: int = 1
    output_rate: int = 40
    user_config: bytes = b""

    def __post_init__(self) -> None:
        _check_in("break_time", self.break_time, BREAK_TIMES, " (units of 10.67 us)")
        _check_in("mab_time", self.mab_time, MAB_TIMES, " (units of 10.67 us)")
        _check_in("output_rate", self.output_rate, OUTPUT_RATES, " packets per second")
        _check_user_config(self.user_config)

    def data(self) -> bytes:
        head = len(self.user_config).to_bytes(2, "little")
        return head + bytes([self.break_time, self.mab_time, self.output_rate]) + self.user_config

    @classmethod
    def from_data(cls, data: bytes) -> Self:
        if len(data) < 5:
            raise RemoteProtocolError(f"{cls.__name__} carries at least 5 bytes, got {len(data)}")
        size = int.from_bytes(data[:2], "little")
        if len(data) != 5 + size:
            raise RemoteProtocolError(f"{cls.__name__} announces {size} configuration bytes, carries {len(data) - 5}")
        return _remote(cls, break_time=data[2], mab_time=data[3], output_rate=data[4], user_config=data[5:])


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SendDmx:
    """Output Only Send DMX Packet: the widget sends this universe out, again and again, until told otherwise.

    ``levels`` are channels 1..len (1..512 of them); on the wire they are
    padded with zeros to the 24 the widget needs, so the widget's side sees at
    least 24. The widget never answers this message.
    """

    label: ClassVar[Label] = Label.OUTPUT_ONLY_SEND_DMX
    levels: bytes
    start_code: int = NULL_START_CODE

    def __post_init__(self) -> None:
        if not isinstance(self.levels, bytes):
            raise LocalProtocolError(f"levels must be bytes (see levels_to_bytes), got {type(self.levels).__name__}")
        if not 1 <= len(self.levels) <= CHANNELS:
            raise LocalProtocolError(f"a DMX universe has 1..{CHANNELS} channels, got {len(self.levels)}")
        _check_byte("start_code", self.start_code)

    @classmethod
    def of(cls, levels: Mapping[int, int] | Sequence[int], *, start_code: int = NULL_START_CODE) -> SendDmx:
        """Build from levels by channel (see :func:`levels_to_bytes`)."""
        return cls(levels=levels_to_bytes(levels), start_code=start_code)

    def data(self) -> bytes:
        return bytes([self.start_code]) + self.levels.ljust(MIN_SEND_CHANNELS, b"\x00")

    @classmethod
    def from_data(cls, data: bytes) -> Self:
        if not 1 + MIN_SEND_CHANNELS <= len(data) <= 1 + CHANNELS:
            raise RemoteProtocolError(
                f"a Send DMX request carries a start code and {MIN_SEND_CHANNELS}..{CHANNELS} levels, "
                f"got {len(data)} bytes"
            )
        return cls(levels=data[1:], start_code=data[0])

    def level(self, channel: int) -> int:
        """The level of ``channel`` (1-based); 0 past the end."""
        _check_in("a DMX channel", channel, range(1, CHANNELS + 1))
        return self.levels[channel - 1] if channel <= len(self.levels) else 0


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class GetSerialNumber:
    """Ask for the serial number printed on the widget's case."""

    label: ClassVar[Label] = Label.GET_WIDGET_SERIAL_NUMBER

    def data(self) -> bytes:
        return b""

    @classmethod
    def from_data(cls, data: bytes) -> Self:
        _expect_size(cls, data, 0)
        return cls()


# -- widget to host ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class WidgetParameters:
    """The reply to Get Widget Parameters.

    Values are checked as bytes only: what a widget reports is reported, even
    outside the ranges a host may set.
    """

    label: ClassVar[Label] = Label.GET_WIDGET_PARAMETERS
    firmware: FirmwareVersion
    break_time: int
    mab_time: int
    output_rate: int
    user_config: bytes = b""

    def __post_init__(self) -> None:
        _check_byte("break_time", self.break_time)
        _check_byte("mab_time", self.mab_time)
        _check_byte("output_rate", self.output_rate)
        _check_user_config(self.user_config)

    @property
    def break_us(self) -> float:
        return self.break_time * TIME_UNIT_US

    @property
    def mab_us(self) -> float:
        return self.mab_time * TIME_UNIT_US

    def data(self) -> bytes:
        head = bytes([self.firmware.minor, self.firmware.major, self.break_time, self.mab_time, self.output_rate])
        return head + self.user_config

    @classmethod
    def from_data(cls, data: bytes) -> Self:
        if len(data) < 5:
            raise RemoteProtocolError(f"widget parameters take at least 5 bytes, got {len(data)}")
        return _remote(
            cls,
            firmware=FirmwareVersion(major=data[1], minor=data[0]),
            break_time=data[2],
            mab_time=data[3],
            output_rate=data[4],
            user_config=data[5:],
        )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ReceivedDmx:
    """A DMX packet the widget received on its input port (sent unasked)."""

    label: ClassVar[Label] = Label.RECEIVED_DMX
    levels: bytes = b""
    start_code: int = NULL_START_CODE
    status: int = 0
    """Bit 0: the widget's receive queue overflowed; bit 1: a receive overrun occurred."""

    def __post_init__(self) -> None:
        if len(self.levels) > CHANNELS:
            raise LocalProtocolError(f"a DMX packet has at most {CHANNELS} levels, got {len(self.levels)}")
        _check_byte("start_code", self.start_code)
        _check_byte("status", self.status)

    @property
    def queue_overflow(self) -> bool:
        return bool(self.status & 0x01)

    @property
    def overrun(self) -> bool:
        return bool(self.status & 0x02)

    def data(self) -> bytes:
        return bytes([self.status, self.start_code]) + self.levels

    @classmethod
    def from_data(cls, data: bytes) -> Self:
        if not 2 <= len(data) <= 2 + CHANNELS:
            raise RemoteProtocolError(
                f"a received DMX packet carries a status, a start code and 0..{CHANNELS} levels, got {len(data)} bytes"
            )
        return cls(status=data[0], start_code=data[1], levels=data[2:])


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SerialNumber:
    """The reply to Get Widget Serial Number: eight decimal digits."""

    label: ClassVar[Label] = Label.GET_WIDGET_SERIAL_NUMBER
    number: int

    def __post_init__(self) -> None:
        _check_in("serial number", self.number, range(MAX_SERIAL + 1))

    @property
    def text(self) -> str:
        """As printed on the case: eight digits."""
        return f"{self.number:08d}"

    def data(self) -> bytes:
        digits = self.text
        # Two digits per byte, lowest pair first ([single source], see module docstring).
        return bytes(int(digits[i : i + 2], 16) for i in range(6, -1, -2))

    @classmethod
    def from_data(cls, data: bytes) -> Self:
        _expect_size(cls, data, 4)
        text = data[::-1].hex()
        if not text.isdigit():
            raise RemoteProtocolError(f"serial number {text.upper()} is not BCD")
        return cls(number=int(text))


# -- any label ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class WidgetMessage:
    """Any message by label and raw data: labels without a typed event, in either direction."""

    label: int
    payload: bytes = b""

    def __post_init__(self) -> None:
        Frame(label=self.label, data=self.payload)  # checks label and length

    @property
    def known(self) -> Label | None:
        try:
            return Label(self.label)
        except ValueError:
            return None

    def data(self) -> bytes:
        return self.payload


Request = GetWidgetParameters | SetWidgetParameters | SendDmx | GetSerialNumber
"""What a host sends (typed)."""
Reply = WidgetParameters | ReceivedDmx | SerialNumber
"""What a widget sends (typed)."""
Event = Request | Reply | WidgetMessage

_REQUESTS: Final[dict[int, type[Request]]] = {
    cls.label: cls for cls in (GetWidgetParameters, SetWidgetParameters, SendDmx, GetSerialNumber)
}
_REPLIES: Final[dict[int, type[Reply]]] = {cls.label: cls for cls in (WidgetParameters, ReceivedDmx, SerialNumber)}


def decode_request(frame: Frame) -> Request | WidgetMessage:
    """A frame the widget received, as its typed request (raw when the label has none)."""
    cls = _REQUESTS.get(frame.label)
    return WidgetMessage(label=frame.label, payload=frame.data) if cls is None else cls.from_data(frame.data)


def decode_reply(frame: Frame) -> Reply | WidgetMessage:
    """A frame the host received, as its typed reply (raw when the label has none)."""
    cls = _REPLIES.get(frame.label)
    return WidgetMessage(label=frame.label, payload=frame.data) if cls is None else cls.from_data(frame.data)


def to_frame(event: Event) -> Frame:
    return Frame(label=event.label, data=event.data())


def _expect_size(cls: type, data: bytes, size: int) -> None:
    if len(data) != size:
        raise RemoteProtocolError(f"{cls.__name__} carries {size} data bytes, got {len(data)}")


def _remote(cls: type[_T], **values: Any) -> _T:
    """Build an event from a peer's values: a value out of range is the peer's fault."""
    try:
        return cls(**values)
    except LocalProtocolError as err:
        raise RemoteProtocolError(f"{cls.__name__}: {err}") from None
