"""Second-generation ID card readers: the SAM / SAM_V serial protocol.

See ``reference/protocols.md`` section 1. :class:`SamConnection` is the codec;
:mod:`.text` decodes the card layouts; :mod:`.payloads` the response data.
"""

from hallgw_protocols.idcard_sam.codes import NATION, SEX, nation_name, sex_name
from hallgw_protocols.idcard_sam.connection import HOST_TRANSITIONS, ExchangeState, SamConnection
from hallgw_protocols.idcard_sam.frames import (
    MAX_BODY,
    PREAMBLE,
    Command,
    CommandCode,
    Response,
    Status,
    encode_frame,
    status_text,
    xor_checksum,
)
from hallgw_protocols.idcard_sam.payloads import (
    FIND_CARD_DATA,
    PHOTO_SIZE,
    SELECT_CARD_DATA,
    CardRead,
    SamId,
    build_card_read,
    parse_card_read,
    parse_sam_id,
)
from hallgw_protocols.idcard_sam.text import (
    LONG_TERM,
    TEXT_SIZE,
    CardText,
    CardType,
    ForeignPermanentResidentCard2017,
    ForeignPermanentResidentCard2023,
    ResidencePermitHMT,
    ResidentCard,
    card_type_of,
    decode_text,
)

__all__ = [
    "FIND_CARD_DATA",
    "HOST_TRANSITIONS",
    "LONG_TERM",
    "MAX_BODY",
    "NATION",
    "PHOTO_SIZE",
    "PREAMBLE",
    "SELECT_CARD_DATA",
    "SEX",
    "TEXT_SIZE",
    "CardRead",
    "CardText",
    "CardType",
    "Command",
    "CommandCode",
    "ExchangeState",
    "ForeignPermanentResidentCard2017",
    "ForeignPermanentResidentCard2023",
    "ResidencePermitHMT",
    "ResidentCard",
    "Response",
    "SamConnection",
    "SamId",
    "Status",
    "build_card_read",
    "card_type_of",
    "decode_text",
    "encode_frame",
    "nation_name",
    "parse_card_read",
    "parse_sam_id",
    "sex_name",
    "status_text",
    "xor_checksum",
]
