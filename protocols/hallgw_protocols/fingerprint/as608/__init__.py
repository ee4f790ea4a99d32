"""The AS608 / ZFM-20 / R30x fingerprint module packet protocol ("EF01"), reference/protocols.md section 2."""

from hallgw_protocols.fingerprint.as608.codes import (
    CONFIRMATION_TEXT,
    DOWNLOAD_INSTRUCTIONS,
    UPLOAD_INSTRUCTIONS,
    Confirmation,
    Instruction,
    confirmation_text,
)
from hallgw_protocols.fingerprint.as608.packets import (
    DEFAULT_ADDRESS,
    HEADER,
    MAX_PACKET,
    MAX_PAYLOAD,
    Packet,
    PacketId,
    checksum,
)

__all__ = [
    "CONFIRMATION_TEXT",
    "DEFAULT_ADDRESS",
    "DOWNLOAD_INSTRUCTIONS",
    "HEADER",
    "MAX_PACKET",
    "MAX_PAYLOAD",
    "UPLOAD_INSTRUCTIONS",
    "Confirmation",
    "Instruction",
    "Packet",
    "PacketId",
    "checksum",
    "confirmation_text",
]
