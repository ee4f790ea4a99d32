"""ICAO Doc 9303 travel documents: MRZ, Basic Access Control, secure messaging, LDS files.

Pure codecs (reference/protocols.md section 3): :mod:`.mrz` parses and checks
machine readable zones; :mod:`.bac` derives the BAC keys and runs mutual
authentication; :mod:`.apdu` holds the plain commands; :mod:`.sm` wraps and unwraps them
under secure messaging; :mod:`.tlv`, :mod:`.lds` and :mod:`.dg2` parse the
files read from the chip; :mod:`.sod` takes the data group hashes and the signer part out of EF.SOD.
"""

from hallgw_protocols.icao9303.apdu import (
    EMRTD_AID,
    CommandApdu,
    ResponseApdu,
    external_authenticate,
    get_challenge,
    read_binary,
    select_application,
    select_file,
)
from hallgw_protocols.icao9303.bac import (
    BacDeniedError,
    BacKeys,
    MutualAuthentication,
    SessionKeys,
    parse_challenge,
)
from hallgw_protocols.icao9303.dg2 import (
    FaceImage,
    ImageDataType,
    ImageFormat,
    encode_dg2,
    parse_dg2,
    sniff_image,
)
from hallgw_protocols.icao9303.lds import (
    EfCom,
    LdsFile,
    encode_dg1,
    encode_ef_com,
    parse_dg1,
    parse_ef_com,
)
from hallgw_protocols.icao9303.mrz import (
    Mrz,
    MrzCheck,
    MrzCheckError,
    MrzFormat,
    Sex,
    check_digit,
    compose_mrz,
    parse_mrz,
)
from hallgw_protocols.icao9303.sm import SecureMessaging, SmState, UnprotectedStatusError
from hallgw_protocols.icao9303.sod import (
    AlgorithmIdentifier,
    LdsSecurityObject,
    RsaPssParameters,
    SignedSod,
    SignerIdentifier,
    SignerInfo,
    SodToBeSigned,
    encode_unsigned_sod,
    parse_pss_parameters,
    parse_signed_sod,
    parse_sod,
    prepare_signed_sod,
)

__all__ = [
    "EMRTD_AID",
    "AlgorithmIdentifier",
    "BacDeniedError",
    "BacKeys",
    "CommandApdu",
    "EfCom",
    "FaceImage",
    "ImageDataType",
    "ImageFormat",
    "LdsFile",
    "LdsSecurityObject",
    "Mrz",
    "MrzCheck",
    "MrzCheckError",
    "MrzFormat",
    "MutualAuthentication",
    "ResponseApdu",
    "RsaPssParameters",
    "SecureMessaging",
    "SessionKeys",
    "Sex",
    "SignedSod",
    "SignerIdentifier",
    "SignerInfo",
    "SmState",
    "SodToBeSigned",
    "UnprotectedStatusError",
    "check_digit",
    "compose_mrz",
    "encode_dg1",
    "encode_dg2",
    "encode_ef_com",
    "encode_unsigned_sod",
    "external_authenticate",
    "get_challenge",
    "parse_challenge",
    "parse_dg1",
    "parse_dg2",
    "parse_ef_com",
    "parse_mrz",
    "parse_pss_parameters",
    "parse_signed_sod",
    "parse_sod",
    "prepare_signed_sod",
    "read_binary",
    "select_application",
    "select_file",
    "sniff_image",
]
