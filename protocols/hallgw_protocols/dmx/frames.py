"""Frames of the Enttec DMX USB Pro widget API: one message, whatever it carries.

Every message, in both directions::

    7E | LABEL | LENGTH (2, LSB first) | DATA (LENGTH bytes) | E7

``LENGTH`` counts the data bytes only and is 0..600. There is no checksum:
the end delimiter is the only thing a receiver can check, so a byte changed
inside the data goes unnoticed by the framing (the events of :mod:`.events`
check the values they can). Sources: Enttec, "DMX USB Pro Widget API
Specification 1.44" (https://www.scribd.com/document/695729553/dmx-usb-pro-api-spec),
"Application Message Format"; the label list agrees with QLC+
(``plugins/dmxusb/src/enttecdmxusbpro.cpp``) and H3rby7/usbdmx-golang
(``controller/enttec/dmxusbpro/messages/labels.go``).

This module frames and unframes single messages; stream reassembly lives in
:mod:`.connection`.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Final

from hallgw_protocols._common import LocalProtocolError, RemoteProtocolError

START: Final = 0x7E
"""Start of message delimiter."""
END: Final = 0xE7
"""End of message delimiter."""
HEADER_SIZE: Final = 4
"""Start byte, label and the two length bytes: what a receiver reads before it knows the size."""
MAX_DATA: Final = 600
"""Largest data length the widget API allows (spec 1.44: "valid range for data length is 0 to 600")."""
MAX_FRAME: Final = HEADER_SIZE + MAX_DATA + 1


class Label(enum.IntEnum):
    """Message labels of the widget API (spec 1.44). Labels 1, 2, 7, 8, 9 and 11 travel as raw messages."""

    REPROGRAM_FIRMWARE = 1
    PROGRAM_FLASH_PAGE = 2
    GET_WIDGET_PARAMETERS = 3
    """Request (host) and reply (widget) share the label."""
    SET_WIDGET_PARAMETERS = 4
    RECEIVED_DMX = 5
    """Widget to host, unsolicited: a DMX packet arrived on the input port."""
    OUTPUT_ONLY_SEND_DMX = 6
    """Host to widget: output this universe periodically. Never answered."""
    SEND_RDM = 7
    RECEIVE_DMX_ON_CHANGE = 8
    RECEIVED_DMX_CHANGE_OF_STATE = 9
    GET_WIDGET_SERIAL_NUMBER = 10
    """Request (host) and reply (widget) share the label."""
    SEND_RDM_DISCOVERY = 11


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Frame:
    """One message on the wire: a label and its data."""

    label: int
    data: bytes = b""

    def __post_init__(self) -> None:
        if not 0 <= self.label <= 0xFF:
            raise LocalProtocolError(f"label out of byte range: {self.label!r}")
        if len(self.data) > MAX_DATA:
            raise LocalProtocolError(f"data of {len(self.data)} bytes is longer than the {MAX_DATA} the widget takes")

    def to_bytes(self) -> bytes:
        return bytes([START, self.label]) + len(self.data).to_bytes(2, "little") + self.data + bytes([END])

    @classmethod
    def from_bytes(cls, data: bytes) -> Frame:
        """Decode exactly one whole frame; any fault is the sender's (:class:`RemoteProtocolError`)."""
        if len(data) < HEADER_SIZE + 1:
            raise RemoteProtocolError(f"a frame of {len(data)} bytes is too short")
        if data[0] != START:
            raise RemoteProtocolError(f"frame starts with {data[0]:02X}, expected 7E")
        length = parse_length(data[2:4])
        if len(data) != HEADER_SIZE + length + 1:
            raise RemoteProtocolError(f"length field says {length} but {len(data) - HEADER_SIZE - 1} data bytes follow")
        if data[-1] != END:
            raise RemoteProtocolError(f"frame ends with {data[-1]:02X} where the end byte E7 belongs")
        return cls(label=data[1], data=data[HEADER_SIZE:-1])


def parse_length(field: bytes) -> int:
    """The length field (LSB first), checked against :data:`MAX_DATA`."""
    length = int.from_bytes(field, "little")
    if length > MAX_DATA:
        raise RemoteProtocolError(f"data length {length} is over the maximum of {MAX_DATA}")
    return length
