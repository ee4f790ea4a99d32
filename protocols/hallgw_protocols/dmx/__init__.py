"""The Enttec DMX USB Pro widget API ("USB Pro" serial protocol), for the studio lights of photo machines.

:class:`DmxConnection` is the codec (see :mod:`.connection` for the theory of
operation); :mod:`.frames` holds the framing (``7E label len-LSB len-MSB
data E7``) and :mod:`.events` the typed messages with their data layouts.
Source: Enttec, "DMX USB Pro Widget API Specification 1.44"
(https://www.scribd.com/document/695729553/dmx-usb-pro-api-spec); single-source
facts are marked where they are used. docs/dmx.md has the summary.
"""

from hallgw_protocols.dmx.connection import DEFAULT_BUFFER_CAP, DmxConnection
from hallgw_protocols.dmx.events import (
    BREAK_TIMES,
    CHANNELS,
    MAB_TIMES,
    MAX_SERIAL,
    MAX_USER_CONFIG,
    MIN_SEND_CHANNELS,
    NULL_START_CODE,
    OUTPUT_RATES,
    TIME_UNIT_US,
    Event,
    FirmwareVersion,
    GetSerialNumber,
    GetWidgetParameters,
    ReceivedDmx,
    Reply,
    Request,
    SendDmx,
    SerialNumber,
    SetWidgetParameters,
    WidgetMessage,
    WidgetParameters,
    decode_reply,
    decode_request,
    levels_to_bytes,
    to_frame,
)
from hallgw_protocols.dmx.frames import END, HEADER_SIZE, MAX_DATA, MAX_FRAME, START, Frame, Label

__all__ = [
    "BREAK_TIMES",
    "CHANNELS",
    "DEFAULT_BUFFER_CAP",
    "END",
    "HEADER_SIZE",
    "MAB_TIMES",
    "MAX_DATA",
    "MAX_FRAME",
    "MAX_SERIAL",
    "MAX_USER_CONFIG",
    "MIN_SEND_CHANNELS",
    "NULL_START_CODE",
    "OUTPUT_RATES",
    "START",
    "TIME_UNIT_US",
    "DmxConnection",
    "Event",
    "FirmwareVersion",
    "Frame",
    "GetSerialNumber",
    "GetWidgetParameters",
    "Label",
    "ReceivedDmx",
    "Reply",
    "Request",
    "SendDmx",
    "SerialNumber",
    "SetWidgetParameters",
    "WidgetMessage",
    "WidgetParameters",
    "decode_reply",
    "decode_request",
    "levels_to_bytes",
    "to_frame",
]
