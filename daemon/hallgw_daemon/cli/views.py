"""Plain views of the API's messages: what ``--json`` prints and the tables show.

Devices, events and frames carry no personal data (the gateway masks frame
payloads itself), so they are converted field by field. A card, and a travel
document's MRZ, is turned into an ordered list of ``CardField`` once, masked
here and only here, and both the table and the JSON are built from that list:
the two outputs cannot disagree about what is hidden. Fingerprint captures
carry no personal data but the image, which is never shown. Kiosks and the
issuances of their journal carry none either: a business reference is the
business system's opaque key, never personal data.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from google.protobuf import duration_pb2, text_format, timestamp_pb2
from google.protobuf.message import Message

from hallgw_api.v1 import (
    device_pb2,
    device_service_pb2,
    document_pb2,
    fingerprint_pb2,
    idcard_pb2,
    kiosk_pb2,
    photo_pb2,
    station_pb2,
)

from . import masking
from .names import (
    action_word,
    admin_word,
    card_type_word,
    chip_format_word,
    direction_word,
    finger_word,
    hash_check_word,
    issuance_state_word,
    kind_word,
    mrz_format_word,
    mrz_source_word,
    oper_word,
    operation_word,
    photo_format_word,
    signature_word,
)

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
        "consumables": dict(sorted(device.consumables.items())),
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
        "visit_id": event.visit_id,
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


# --- travel documents --------------------------------------------------------

_MRZ_LABELS = {
    "format": "Format",
    "document_code": "Document code",
    "issuing_state": "Issuing state",
    "nationality": "Nationality",
    "sex": "Sex",
    "document_number": "Document number",
    "primary_identifier": "Surname",
    "secondary_identifier": "Given names",
    "date_of_birth": "Date of birth",
    "date_of_expiry": "Date of expiry",
    "optional_data": "Optional data",
    "optional_data_2": "Optional data 2",
    "lines": "MRZ lines",
}
# The order of the table and of the JSON object: the document first, then the holder.
_MRZ_ORDER = tuple(_MRZ_LABELS)


def mask_mrz_date(date: str) -> str:
    """``491231`` -> ``49****``: a date of birth keeps its (two-digit) year, as read-id keeps the year."""
    if len(date) <= 2:
        return masking.MASK * len(date)
    return date[:2] + masking.MASK * (len(date) - 2)


# How each MRZ field is masked. Sex and the date of expiry are shown as they
# are, as read-id shows sex and validity. A field missing from both tables
# (added to the API after this client was built) is hidden whole.
_MRZ_MASKS: dict[str, Callable[[str], str]] = {
    "document_number": masking.mask_number,
    "primary_identifier": masking.mask_name,
    "secondary_identifier": masking.mask_name,
    "date_of_birth": mask_mrz_date,
    "optional_data": masking.mask_number,
    "optional_data_2": masking.mask_number,
}
_MRZ_NOT_PERSONAL = frozenset({"document_code", "issuing_state", "nationality", "sex", "date_of_expiry"})


def _mrz_field(mrz: document_pb2.MrzFields, name: str, *, show_pii: bool) -> CardField:
    label = _MRZ_LABELS.get(name, name.replace("_", " ").capitalize())
    if name == "format":
        word = mrz_format_word(mrz.format)
        return CardField(name, label, word.upper() if not word.startswith("unknown") else word, word)
    if name == "lines":
        # The lines repeat every personal field: hidden entirely, one mask per line.
        lines = list(mrz.lines) if show_pii else [masking.mask_whole(line) for line in mrz.lines]
        return CardField(name, label, "\n".join(lines), lines)
    value = getattr(mrz, name)
    if not isinstance(value, str):
        text = text_format.MessageToString(value, as_one_line=True) if isinstance(value, Message) else str(value)
        return CardField(name, label, text if show_pii else masking.mask_whole(text), text if show_pii else None)
    text = value
    if not show_pii:
        if name in _MRZ_MASKS:
            text = _MRZ_MASKS[name](text)
        elif name not in _MRZ_NOT_PERSONAL:
            text = masking.mask_whole(text)
    return CardField(name, label, text, text)


def mrz_fields(mrz: document_pb2.MrzFields, *, show_pii: bool) -> list[CardField]:
    """The fields of an MRZ, masked unless ``show_pii``; the second optional data only on TD1 documents."""
    known = [name for name in _MRZ_ORDER if name in mrz.DESCRIPTOR.fields_by_name]
    names = known + [f.name for f in mrz.DESCRIPTOR.fields if f.name not in _MRZ_LABELS]
    return [
        _mrz_field(mrz, name, show_pii=show_pii)
        for name in names
        if name != "optional_data_2" or mrz.format == document_pb2.MRZ_FORMAT_TD1 or mrz.optional_data_2
    ]


def chip_mrz_differences(document: document_pb2.TravelDocument) -> list[str]:
    """The labels of the fields in which the chip's DG1 differs from the printed MRZ (never their values)."""
    if not document.HasField("chip_mrz"):
        return []
    printed, chip = document.mrz, document.chip_mrz
    return [
        _MRZ_LABELS.get(f.name, f.name)
        for f in printed.DESCRIPTOR.fields
        if f.name != "lines" and getattr(printed, f.name) != getattr(chip, f.name)
    ]


def face_view(document: document_pb2.TravelDocument) -> JsonObject | None:
    """Size and formats of the face image; the image itself is never shown."""
    if not document.HasField("face"):
        return None
    face = document.face
    return {
        "format": "jpeg",
        "chip_format": chip_format_word(face.chip_format),
        "width": face.width,
        "height": face.height,
        "size": len(face.jpeg),
    }


def passive_authentication_view(pa: document_pb2.PassiveAuthentication) -> JsonObject:
    """The data groups' hash checks and EF.SOD's signature."""
    return {
        "hashes_ok": pa.hashes_ok,
        "data_groups": [{"number": dg.number, "hash": hash_check_word(dg.hash)} for dg in pa.data_groups],
        "signature": signature_word(pa.signature),
        "signature_message": pa.signature_message,
    }


def document_view(response: document_pb2.ReadTravelDocumentResponse, *, request_id: str, show_pii: bool) -> JsonObject:
    """The ``--json`` object of ``document read``."""
    document = response.document
    return {
        "device_id": response.device_id,
        "request_id": request_id,
        "mrz_source": mrz_source_word(document.mrz_source),
        "mrz": {f.key: f.value for f in mrz_fields(document.mrz, show_pii=show_pii)},
        "chip_mrz": (
            {f.key: f.value for f in mrz_fields(document.chip_mrz, show_pii=show_pii)}
            if document.HasField("chip_mrz")
            else None
        ),
        "chip_mrz_matches": document.chip_mrz_matches,
        "chip_mrz_differences": chip_mrz_differences(document),
        "data_groups_present": list(document.data_groups_present),
        "lds_version": document.lds_version or None,
        "passive_authentication": passive_authentication_view(document.passive_authentication),
        "face": face_view(document),
        "pii_masked": not show_pii,
    }


# --- fingerprints --------------------------------------------------------------

QUALITY_COMPONENTS = ("foreground", "contrast", "coherence", "moisture")


def hints_view(quality: fingerprint_pb2.FingerprintQuality) -> list[JsonObject]:
    """Each hint's stable code and its text."""
    return [
        {"code": code or None, "text": text or None}
        for code, text in itertools.zip_longest(quality.hints, quality.hint_texts, fillvalue="")
    ]


def quality_view(quality: fingerprint_pb2.FingerprintQuality) -> JsonObject:
    """The overall score, its four components (value 0..1 and the raw figure) and the hints."""
    view: JsonObject = {"score": quality.score}
    for name in QUALITY_COMPONENTS:
        component: fingerprint_pb2.QualityComponent = getattr(quality, name)
        view[name] = {"value": round(component.value, 4), "raw": round(component.raw, 4)}
    view["hints"] = hints_view(quality)
    return view


def fingerprint_image_view(image: fingerprint_pb2.FingerprintImage) -> JsonObject:
    """Size and resolution of the image; the image itself is never shown."""
    return {
        "format": "png",
        "width": image.width,
        "height": image.height,
        "resolution_dpi": image.resolution_dpi,
        "size": len(image.png),
    }


def capture_view(response: fingerprint_pb2.CaptureResponse, *, request_id: str) -> JsonObject:
    """The ``--json`` object of ``fingerprint capture``."""
    return {
        "device_id": response.device_id,
        "request_id": request_id,
        "finger": finger_word(response.finger),
        "finger_code": int(response.finger),
        "attempt": response.attempt,
        "quality": quality_view(response.quality),
        "image": fingerprint_image_view(response.image) if response.HasField("image") else None,
    }


# --- stations --------------------------------------------------------------------


def visit_view(visit: station_pb2.Visit) -> JsonObject:
    """A visit: its id, station, holder and times (a visit carries no personal data)."""
    return {
        "visit_id": visit.visit_id,
        "station_id": visit.station_id,
        "holder": visit.holder,
        "started": iso_utc(visit.started) if visit.HasField("started") else None,
        "expires": iso_utc(visit.expires) if visit.HasField("expires") else None,
        "held_by_stream": visit.held_by_stream,
    }


def station_view(station: station_pb2.Station) -> JsonObject:
    """A station with its roles and its visit."""
    return {
        "station_id": station.station_id,
        "kind": station.kind,
        "name": station.name,
        "area": station.area,
        "roles": [
            {
                "kind": kind_word(role.kind),
                "device_id": role.device_id,
                "admin_state": admin_word(role.admin_state),
                "oper_state": oper_word(role.oper_state),
            }
            for role in station.roles
        ],
        "visit": visit_view(station.visit) if station.HasField("visit") else None,
    }


# --- photos ----------------------------------------------------------------------


def photo_report_view(report: photo_pb2.ComplianceReport) -> JsonObject:
    """A compliance report: every check, the guidance, the face and crop boxes (never the image)."""

    def box(b: photo_pb2.Box) -> JsonObject:
        return {"x": b.x, "y": b.y, "width": b.width, "height": b.height}

    return {
        "passed": report.passed,
        "image": {"width": report.image_width, "height": report.image_height},
        "faces": report.faces,
        "face": box(report.face) if report.HasField("face") else None,
        "crop": box(report.crop) if report.HasField("crop") else None,
        "checks": [
            {
                "name": c.name,
                "value": c.value,
                "low": c.low if c.HasField("low") else None,
                "high": c.high if c.HasField("high") else None,
                "unit": c.unit,
                "passed": c.passed,
                "hint": c.hint or None,
            }
            for c in report.checks
        ],
        "hints": [{"code": code, "text": text} for code, text in zip(report.hints, report.hint_texts, strict=False)],
    }


def photo_file_view(photo: photo_pb2.Photo) -> JsonObject:
    """Format, size and pixels of a photo; the photo itself is never shown."""
    return {"format": "jpeg", "width": photo.width, "height": photo.height, "size": len(photo.jpeg)}


# --- kiosks ----------------------------------------------------------------------

# What a kiosk says about itself when identified (Device.identity).
KIOSK_IDENTITY = ("kiosk_kind", "model", "firmware", "mode", "door")
# Below these a kiosk needs a refill soon: paper or ribbon under 15 %, fewer
# than 10 blank cards. A collection kiosk with every slot occupied cannot take
# another finished document.
LOW_PERCENT = 15
LOW_CARD_STOCK = 10


@dataclass(frozen=True, slots=True)
class Consumable:
    """One consumable as shown: its word (``paper``), its text (``80%``) and whether it is low."""

    key: str
    word: str
    text: str
    low: bool


def consumables_list(consumables: Mapping[str, int]) -> list[Consumable]:
    """The kiosk's consumables in a fixed order (paper, ribbon, cards, slots), then any other key as it is.

    ``slots_total`` and ``slots_occupied`` make one entry, ``slots 3/12``;
    slots are low when every one is occupied.
    """
    shown: list[Consumable] = []
    if "paper_pct" in consumables:
        paper = consumables["paper_pct"]
        shown.append(Consumable("paper_pct", "paper", f"{paper}%", paper < LOW_PERCENT))
    if "ribbon_pct" in consumables:
        ribbon = consumables["ribbon_pct"]
        shown.append(Consumable("ribbon_pct", "ribbon", f"{ribbon}%", ribbon < LOW_PERCENT))
    if "card_stock" in consumables:
        cards = consumables["card_stock"]
        shown.append(Consumable("card_stock", "cards", str(cards), cards < LOW_CARD_STOCK))
    if "slots_total" in consumables or "slots_occupied" in consumables:
        total = consumables.get("slots_total", 0)
        occupied = consumables.get("slots_occupied", 0)
        shown.append(Consumable("slots", "slots", f"{occupied}/{total}", total > 0 and occupied >= total))
    known = {"paper_pct", "ribbon_pct", "card_stock", "slots_total", "slots_occupied"}
    shown.extend(
        Consumable(key, key, str(value), low=False) for key, value in sorted(consumables.items()) if key not in known
    )
    return shown


def low_consumables(consumables: Mapping[str, int]) -> list[str]:
    """The words of the consumables that are low: ``paper``, ``ribbon``, ``cards``, ``slots``."""
    return [item.word for item in consumables_list(consumables) if item.low]


def kiosk_view(device: device_pb2.Device) -> JsonObject:
    """A kiosk as ``kiosks --json`` lists it: its states, what it said about itself, its consumables."""
    return {
        "device_id": device.device_id,
        "name": device.name,
        "station_id": device.station_id,
        "admin_state": admin_word(device.admin_state),
        "oper_state": oper_word(device.oper_state),
        "oper_state_since": _optional_time(device, "oper_state_since"),
        **{key: device.identity.get(key) or None for key in KIOSK_IDENTITY},
        "consumables": dict(sorted(device.consumables.items())),
        "low": low_consumables(device.consumables),
        "last_error": device_error_view(device.last_error) if device.HasField("last_error") else None,
    }


def consumables_view(response: kiosk_pb2.GetConsumablesResponse) -> JsonObject:
    """The ``--json`` object of ``kiosks consumables``."""
    return {
        "device_id": response.device_id,
        "consumables": dict(sorted(response.consumables.items())),
        "low": low_consumables(response.consumables),
        "reported": _optional_time(response, "reported"),
    }


# --- the exactly-once journal ------------------------------------------------------


def issuance_view(issuance: kiosk_pb2.Issuance) -> JsonObject:
    """A journalled issuance as JSON; evidence only when done, reason and action only when not done."""
    done = issuance.state == kiosk_pb2.ISSUANCE_STATE_DONE
    not_done = issuance.state == kiosk_pb2.ISSUANCE_STATE_NOT_DONE
    evidence = issuance.evidence
    return {
        "request_id": issuance.request_id,
        "device_id": issuance.device_id,
        "command_id": issuance.command_id,
        "operation": operation_word(issuance.operation),
        "business_ref": issuance.business_ref,
        "state": issuance_state_word(issuance.state),
        "evidence": (
            {"operation_serial": evidence.operation_serial, "kiosk_time": _optional_time(evidence, "kiosk_time")}
            if done and issuance.HasField("evidence")
            else None
        ),
        "reason": (issuance.reason or None) if not_done else None,
        "action": action_word(issuance.action) if not_done and issuance.action else None,
        "created": _optional_time(issuance, "created"),
        "finished": _optional_time(issuance, "finished"),
        "attempts": issuance.attempts,
    }
