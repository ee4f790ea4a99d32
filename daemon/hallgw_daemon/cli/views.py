"""Plain views of the API's messages: what ``--json`` prints and the tables show.

Devices, events and frames carry no personal data (the gateway masks frame
payloads itself), so they are converted field by field. A card is turned into an
ordered list of ``CardField`` once, masked here and only here, and both the
table and the JSON are built from that list: the two outputs cannot disagree
about what is hidden.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google.protobuf import duration_pb2, text_format, timestamp_pb2
from google.protobuf.message import Message

from hallgw_api.v1 import device_pb2, device_service_pb2, idcard_pb2

from . import masking
from .names import action_word, admin_word, card_type_word, direction_word, kind_word, oper_word, photo_format_word

JsonObject = dict[str, Any]


def timestamp_datetime(ts: timestamp_pb2.Timestamp) -> datetime:
    """The timestamp as an aware UTC datetime."""
    return ts.ToDatetime(tzinfo=UTC)


def iso_utc(ts: timestamp_pb2.Timestamp) -> str:
    """``2026-05-17T10:15:02.123Z``: UTC, millisecond precision."""
    return timestamp_datetime(ts).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _optional_time(message: Message, field: str) -> str | None:
    return iso_utc(getattr(message, field)) if message.HasField(field) else None


def duration_seconds(duration: duration_pb2.Duration) -> float:
    """The duration in seconds."""
    return duration.seconds + duration.nanos / 1e9


def device_error_view(error: device_pb2.DeviceError) -> JsonObject:
    """A DeviceError as JSON."""
    return {
        "reason": error.reason,
        "message": error.message,
        "action": action_word(error.action),
        "time": _optional_time(error, "time"),
    }


def device_view(device: device_pb2.Device) -> JsonObject:
    """Everything GetDevice says about a device, as JSON."""
    counters = device.counters
    return {
        "device_id": device.device_id,
        "name": device.name,
        "kind": kind_word(device.kind),
        "station_id": device.station_id,
        "link": device.link,
        "admin_state": admin_word(device.admin_state),
        "admin_state_since": _optional_time(device, "admin_state_since"),
        "admin_reason": device.admin_reason,
        "oper_state": oper_word(device.oper_state),
        "oper_state_since": _optional_time(device, "oper_state_since"),
        "last_error": device_error_view(device.last_error) if device.HasField("last_error") else None,
        "identity": dict(sorted(device.identity.items())),
        "counters": {
            "commands_ok": counters.commands_ok,
            "commands_failed": counters.commands_failed,
            "link_errors": counters.link_errors,
            "reconnects": counters.reconnects,
            "probe_failures": counters.probe_failures,
            "queue_depth": counters.queue_depth,
        },
    }


def event_view(event: device_pb2.DeviceEvent) -> JsonObject:
    """A DeviceEvent as one JSON line: the common fields, ``type``, and the payload under its type."""
    kind = event.WhichOneof("payload")
    view: JsonObject = {
        "sequence": event.sequence,
        "time": _optional_time(event, "time"),
        "device_id": event.device_id,
        "station_id": event.station_id,
        "request_id": event.request_id,
        "type": kind or "unknown",
    }
    if kind == "state_changed":
        view[kind] = {"device": device_view(event.state_changed.device)}
    elif kind == "progress":
        view[kind] = {"stage": event.progress.stage, "message": event.progress.message}
    elif kind == "finished":
        finished = event.finished
        view[kind] = {
            "operation": finished.operation,
            "ok": finished.ok,
            "reason": finished.reason,
            "duration_s": round(duration_seconds(finished.duration), 3),
        }
    elif kind == "link_fault":
        view[kind] = {"message": event.link_fault.message, "discarded_bytes": event.link_fault.discarded_bytes}
    return view


def frame_view(frame: device_service_pb2.TraceFramesResponse) -> JsonObject:
    """A traced frame as JSON; ``data`` is the (already masked) bytes in hex."""
    return {
        "time": _optional_time(frame, "time"),
        "direction": direction_word(frame.direction),
        "summary": frame.summary,
        "length": frame.length,
        "masked": frame.masked,
        "data": frame.data.hex(),
        "error": frame.error,
    }


# --- cards -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CardField:
    """One field of a card as shown: its JSON key, its label, its text and its JSON value."""

    key: str
    label: str
    text: str
    value: Any


def format_date(date: device_pb2.Date) -> str:
    """``1990-03-07``."""
    return f"{date.year:04d}-{date.month:02d}-{date.day:02d}"


def coded_text(value: device_pb2.CodedValue) -> str:
    """``01 Han (汉)``: the code, the English name and the Chinese one when known."""
    text = f"{value.code} {value.name}".strip()
    return f"{text} ({value.name_zh})" if value.name_zh else text


_LABELS = {
    "name": "Name",
    "english_name": "English name",
    "chinese_name": "Chinese name",
    "sex": "Sex",
    "nation": "Nation",
    "birth_date": "Birth date",
    "address": "Address",
    "id_number": "ID number",
    "card_number": "Card number",
    "nationality": "Nationality",
    "issuing_authority": "Issuing authority",
    "validity": "Validity",
    "card_version": "Card version",
    "authority_code": "Authority code",
    "renewal_count": "Renewals",
    "previous_card_link": "Previous card",
    "travel_permit_number": "Travel permit number",
    "issue_count": "Issue count",
}

# How each string field is masked. A field missing from both tables (added to
# the API after this client was built) is hidden whole: privacy by default.
_STRING_MASKS: dict[str, Callable[[str], str]] = {
    "name": masking.mask_name,
    "english_name": masking.mask_name,
    "chinese_name": masking.mask_name,
    "address": masking.mask_address,
    "id_number": masking.mask_number,
    "card_number": masking.mask_number,
    "travel_permit_number": masking.mask_number,
    "previous_card_link": masking.mask_number,
}
_NOT_PERSONAL = frozenset(
    {"nationality", "issuing_authority", "card_version", "authority_code", "renewal_count", "issue_count"}
)

# Fields of the shared foreign permanent resident message that one layout only fills.
_LAYOUT_ONLY = {
    "card_version": idcard_pb2.CARD_TYPE_FOREIGN_PERMANENT_RESIDENT_2017,
    "authority_code": idcard_pb2.CARD_TYPE_FOREIGN_PERMANENT_RESIDENT_2017,
    "renewal_count": idcard_pb2.CARD_TYPE_FOREIGN_PERMANENT_RESIDENT_2023,
    "previous_card_link": idcard_pb2.CARD_TYPE_FOREIGN_PERMANENT_RESIDENT_2023,
}

CARD_TYPE_LABELS = {
    idcard_pb2.CARD_TYPE_RESIDENT_ID: "resident ID card",
    idcard_pb2.CARD_TYPE_FOREIGN_PERMANENT_RESIDENT_2017: "foreign permanent resident ID card (2017 layout)",
    idcard_pb2.CARD_TYPE_FOREIGN_PERMANENT_RESIDENT_2023: "foreign permanent resident ID card (2023 layout)",
    idcard_pb2.CARD_TYPE_HMT_RESIDENCE_PERMIT: "residence permit for Hong Kong, Macao and Taiwan residents",
}


def _validity_field(validity: idcard_pb2.Validity) -> CardField:
    start = format_date(validity.valid_from) if validity.HasField("valid_from") else ""
    end = (
        "long-term"
        if validity.long_term
        else (format_date(validity.valid_until) if validity.HasField("valid_until") else "")
    )
    value = {
        "valid_from": start or None,
        "valid_until": None if validity.long_term else (end or None),
        "long_term": validity.long_term,
    }
    return CardField("validity", _LABELS["validity"], f"{start or '?'} – {end or '?'}", value)


def _card_field(fields: Message, name: str, *, show_pii: bool) -> CardField:
    label = _LABELS.get(name, name.replace("_", " ").capitalize())
    value = getattr(fields, name)
    if isinstance(value, device_pb2.CodedValue):
        coded = {"code": value.code, "name": value.name, "name_zh": value.name_zh}
        return CardField(name, label, coded_text(value), coded)
    if isinstance(value, device_pb2.Date):
        if not fields.HasField(name):
            return CardField(name, label, "", None)
        # The only date field of the layouts is the date of birth; any other
        # would be personal too, so every date is cut to its year.
        text = format_date(value) if show_pii else f"{value.year:04d}"
        return CardField(name, label, text, text)
    if isinstance(value, idcard_pb2.Validity):
        return _validity_field(value)
    if isinstance(value, Message):
        text = text_format.MessageToString(value, as_one_line=True, as_utf8=True)
        return CardField(name, label, text if show_pii else masking.mask_whole(text), text if show_pii else None)
    text = str(value)
    if not show_pii:
        if name in _STRING_MASKS:
            text = _STRING_MASKS[name](text)
        elif name not in _NOT_PERSONAL:
            text = masking.mask_whole(text)
    return CardField(name, label, text, text)


def card_fields(card: idcard_pb2.IdentityCard, *, show_pii: bool) -> list[CardField]:
    """The fields of the card's layout, in the API's order, masked unless ``show_pii``."""
    which = card.WhichOneof("fields")
    if which is None:
        return []
    fields: Message = getattr(card, which)
    result = []
    for descriptor in fields.DESCRIPTOR.fields:
        only_for = _LAYOUT_ONLY.get(descriptor.name)
        if only_for is not None and card.card_type != only_for:
            continue
        result.append(_card_field(fields, descriptor.name, show_pii=show_pii))
    return result


def photo_view(card: idcard_pb2.IdentityCard, field: str) -> JsonObject | None:
    """Format and size of a photo; the bytes themselves are never shown."""
    if not card.HasField(field):
        return None
    photo: idcard_pb2.CardPhoto = getattr(card, field)
    return {"format": photo_format_word(photo.format), "size": len(photo.data)}


def card_view(response: idcard_pb2.ReadIdCardResponse, *, request_id: str, show_pii: bool) -> JsonObject:
    """The ``--json`` object of read-id."""
    card = response.card
    return {
        "device_id": response.device_id,
        "request_id": request_id,
        "card_type": card_type_word(card.card_type),
        "fields": {f.key: f.value for f in card_fields(card, show_pii=show_pii)},
        "photo": photo_view(card, "photo"),
        "decoded_photo": photo_view(card, "decoded_photo"),
        "pii_masked": not show_pii,
    }
