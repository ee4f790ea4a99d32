"""The words hallctl uses for the API's enums, and device references.

On the command line and in ``--json`` output every enum value is its proto name
without the type prefix, in lower case (``DEVICE_KIND_IDCARD_READER`` is
``idcard_reader``), so scripts see the same words an engineer types.
"""

from __future__ import annotations

from typing import Protocol, cast

from hallgw_api.v1 import device_pb2, device_service_pb2, document_pb2, fingerprint_pb2, idcard_pb2, kiosk_pb2


class _EnumType(Protocol):
    """What the generated enum wrappers offer that we need."""

    def Name(self, number: int) -> str: ...

    def keys(self) -> list[str]: ...


def enum_word(enum: _EnumType, value: int, prefix: str) -> str:
    """The lower-case word for ``value``; ``unknown(N)`` for a value this build does not know.

    A newer daemon may send values added to the API after this client was built;
    they are shown rather than crashing the command.
    """
    try:
        name = enum.Name(value)
    except ValueError:
        return f"unknown({value})"
    return name.removeprefix(prefix).lower()


def kind_word(kind: int) -> str:
    """``idcard_reader`` for DEVICE_KIND_IDCARD_READER: the config's kind names."""
    word = enum_word(device_pb2.DeviceKind, kind, "DEVICE_KIND_")
    return "form_printer" if word == "printer" else word  # the API's PRINTER is the config's form_printer


def admin_word(state: int) -> str:
    """``enabled`` / ``disabled`` / ``maintenance``."""
    return enum_word(device_pb2.AdminState, state, "ADMIN_STATE_")


def oper_word(state: int) -> str:
    """``offline`` / ``connecting`` / ``online`` / ``busy`` / ``error``."""
    return enum_word(device_pb2.OperState, state, "OPER_STATE_")


def action_word(action: int) -> str:
    """``none`` / ``retry`` / ``reset`` / ``staff`` / ``engineer``."""
    return enum_word(device_pb2.ActionRequired, action, "ACTION_REQUIRED_")


def card_type_word(card_type: int) -> str:
    """``resident_id``, ``foreign_permanent_resident_2017``, ..."""
    return enum_word(idcard_pb2.CardType, card_type, "CARD_TYPE_")


def photo_format_word(photo_format: int) -> str:
    """``wlt`` / ``bmp``."""
    return enum_word(idcard_pb2.PhotoFormat, photo_format, "PHOTO_FORMAT_")


def direction_word(direction: int) -> str:
    """``to_device`` / ``from_device``."""
    return enum_word(device_service_pb2.FrameDirection, direction, "FRAME_DIRECTION_")


def mrz_format_word(mrz_format: int) -> str:
    """``td1`` / ``td2`` / ``td3``."""
    return enum_word(document_pb2.MrzFormat, mrz_format, "MRZ_FORMAT_")


def mrz_source_word(source: int) -> str:
    """``request`` / ``mrz_reader``."""
    return enum_word(document_pb2.MrzSource, source, "MRZ_SOURCE_")


def chip_format_word(chip_format: int) -> str:
    """``jpeg`` / ``jpeg2000``."""
    return enum_word(document_pb2.ChipImageFormat, chip_format, "CHIP_IMAGE_FORMAT_")


def hash_check_word(check: int) -> str:
    """``match`` / ``mismatch`` / ``not_listed``."""
    return enum_word(document_pb2.HashCheck, check, "HASH_CHECK_")


def signature_word(status: int) -> str:
    """``verified`` / ``not_verified`` / ``invalid``."""
    return enum_word(document_pb2.SignatureStatus, status, "SIGNATURE_STATUS_")


def finger_word(finger: int) -> str:
    """``right_index`` for FINGER_POSITION_RIGHT_INDEX; ``unspecified`` when not given."""
    return enum_word(fingerprint_pb2.FingerPosition, finger, "FINGER_POSITION_")


def issuance_state_word(state: int) -> str:
    """``done`` / ``not_done`` / ``in_progress`` / ``in_doubt``."""
    return enum_word(kiosk_pb2.IssuanceState, state, "ISSUANCE_STATE_")


def operation_word(operation: int) -> str:
    """``issue_endorsement`` / ``release_certificate`` / ``print_travel_record``."""
    return enum_word(kiosk_pb2.IssuanceOperation, operation, "ISSUANCE_OPERATION_")


def finger_choices() -> list[str]:
    """The finger names a user may type, in ISO/ANSI order (1 = right thumb): ``right-thumb`` ... ``left-little``."""
    return [
        name.removeprefix("FINGER_POSITION_").lower().replace("_", "-")
        for name in fingerprint_pb2.FingerPosition.keys()  # noqa: SIM118  (EnumTypeWrapper is not iterable)
        if name != "FINGER_POSITION_UNSPECIFIED"
    ]


def parse_finger(word: str) -> fingerprint_pb2.FingerPosition:
    """The FingerPosition for ``right-index`` (case and ``-`` vs ``_`` do not matter) or its ISO/ANSI number 1..10.

    Raises ValueError naming the accepted names.
    """
    normalised = word.strip().lower().replace("_", "-").removeprefix("finger-position-")
    choices = finger_choices()
    if normalised.isdigit() and 1 <= int(normalised) <= len(choices):
        return cast("fingerprint_pb2.FingerPosition", int(normalised))
    if normalised in choices:
        value = fingerprint_pb2.FingerPosition.Value("FINGER_POSITION_" + normalised.replace("-", "_").upper())
        return cast("fingerprint_pb2.FingerPosition", value)
    raise ValueError(f"unknown finger {word!r}; one of: {', '.join(choices)} (or their numbers 1 to {len(choices)})")


def kind_choices() -> list[str]:
    """Every kind word a user may type, in the API's order."""
    return [
        kind_word(device_pb2.DeviceKind.Value(name))
        for name in device_pb2.DeviceKind.keys()  # noqa: SIM118  (EnumTypeWrapper is not iterable)
        if name != "DEVICE_KIND_UNSPECIFIED"
    ]


def parse_kind(word: str) -> device_pb2.DeviceKind:
    """The DeviceKind for a word such as ``idcard_reader`` (case and ``-`` vs ``_`` do not matter).

    Raises ValueError naming the accepted words.
    """
    normalised = word.strip().lower().replace("-", "_").removeprefix("device_kind_")
    if normalised in kind_choices():
        normalised = "printer" if normalised == "form_printer" else normalised
        # The stubs type Value() as int; it is a DeviceKind number by construction.
        return cast("device_pb2.DeviceKind", device_pb2.DeviceKind.Value("DEVICE_KIND_" + normalised.upper()))
    raise ValueError(f"unknown device kind {word!r}; one of: {', '.join(kind_choices())}")


def parse_device_ref(spec: str) -> device_pb2.DeviceRef:
    """A DeviceRef from ``DEVICE_ID`` or ``STATION:KIND`` (``window-07:idcard_reader``).

    Device ids in the gateway configuration do not contain ``:``, so a colon
    always means a station. Raises ValueError on an empty part or unknown kind.
    """
    spec = spec.strip()
    if not spec:
        raise ValueError("empty device reference")
    if ":" not in spec:
        return device_pb2.DeviceRef(device_id=spec)
    station, _, kind = spec.rpartition(":")
    if not station or not kind:
        raise ValueError(f"bad device reference {spec!r}: expected DEVICE_ID or STATION:KIND")
    return station_ref(station, parse_kind(kind))


def station_ref(station_id: str, kind: device_pb2.DeviceKind) -> device_pb2.DeviceRef:
    """A DeviceRef to the device of ``kind`` at ``station_id``."""
    return device_pb2.DeviceRef(station=device_pb2.StationRef(station_id=station_id, kind=kind))


def describe_ref(ref: device_pb2.DeviceRef) -> str:
    """The reference as the user would type it, for messages."""
    if ref.WhichOneof("target") == "station":
        return f"{ref.station.station_id}:{kind_word(ref.station.kind)}"
    return ref.device_id
