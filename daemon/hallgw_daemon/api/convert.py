"""Domain objects to protobuf messages (and the few enums back)."""

from __future__ import annotations

import datetime as dt
import math
from typing import Final

from google.protobuf import duration_pb2, timestamp_pb2

from hallgw_api.v1 import device_pb2, device_service_pb2, document_pb2, fingerprint_pb2, idcard_pb2, photo_pb2
from hallgw_daemon.core.errors import InvalidRequestError
from hallgw_daemon.core.events import Event, Finished, LinkFault, Progress, StateChanged
from hallgw_daemon.core.model import Action, AdminState, DeviceKind, DeviceSnapshot, OperState
from hallgw_daemon.drivers.base import Direction, TraceRecord
from hallgw_daemon.drivers.document import DocumentRead, HashCheck, SignatureStatus
from hallgw_daemon.drivers.fingerprint import Capture
from hallgw_daemon.drivers.fingerprint_quality import Component, Quality
from hallgw_daemon.drivers.idcard import CardResult
from hallgw_daemon.drivers.photo import ImageCheck, PhotoCapture
from hallgw_daemon.drivers.photo_compliance import Check, Rect, Report
from hallgw_protocols.icao9303 import ImageFormat, Mrz, MrzFormat
from hallgw_protocols.idcard_sam import (
    LONG_TERM,
    NATION,
    SEX,
    CardType,
    ForeignPermanentResidentCard2017,
    ResidencePermitHMT,
    ResidentCard,
)

KIND_TO_PB: Final = {
    DeviceKind.IDCARD_READER: device_pb2.DEVICE_KIND_IDCARD_READER,
    DeviceKind.MRZ_READER: device_pb2.DEVICE_KIND_MRZ_READER,
    DeviceKind.DOCUMENT_READER: device_pb2.DEVICE_KIND_DOCUMENT_READER,
    DeviceKind.FINGERPRINT_SCANNER: device_pb2.DEVICE_KIND_FINGERPRINT_SCANNER,
    DeviceKind.KIOSK: device_pb2.DEVICE_KIND_KIOSK,
    DeviceKind.CAMERA: device_pb2.DEVICE_KIND_CAMERA,
    DeviceKind.LIGHTING: device_pb2.DEVICE_KIND_LIGHTING,
    DeviceKind.PAYMENT_SCANNER: device_pb2.DEVICE_KIND_PAYMENT_SCANNER,
    DeviceKind.FORM_PRINTER: device_pb2.DEVICE_KIND_PRINTER,
    DeviceKind.TICKET_PRINTER: device_pb2.DEVICE_KIND_TICKET_PRINTER,
    DeviceKind.DOCUMENT_CAMERA: device_pb2.DEVICE_KIND_DOCUMENT_CAMERA,
}
KIND_FROM_PB: Final = {v: k for k, v in KIND_TO_PB.items()}
ADMIN_TO_PB: Final = {
    AdminState.ENABLED: device_pb2.ADMIN_STATE_ENABLED,
    AdminState.DISABLED: device_pb2.ADMIN_STATE_DISABLED,
    AdminState.MAINTENANCE: device_pb2.ADMIN_STATE_MAINTENANCE,
}
ADMIN_FROM_PB: Final = {v: k for k, v in ADMIN_TO_PB.items()}
OPER_TO_PB: Final = {
    OperState.OFFLINE: device_pb2.OPER_STATE_OFFLINE,
    OperState.CONNECTING: device_pb2.OPER_STATE_CONNECTING,
    OperState.ONLINE: device_pb2.OPER_STATE_ONLINE,
    OperState.BUSY: device_pb2.OPER_STATE_BUSY,
    OperState.ERROR: device_pb2.OPER_STATE_ERROR,
}
ACTION_TO_PB: Final = {
    Action.NONE: device_pb2.ACTION_REQUIRED_NONE,
    Action.RETRY: device_pb2.ACTION_REQUIRED_RETRY,
    Action.RESET: device_pb2.ACTION_REQUIRED_RESET,
    Action.STAFF: device_pb2.ACTION_REQUIRED_STAFF,
    Action.ENGINEER: device_pb2.ACTION_REQUIRED_ENGINEER,
}
CARD_TYPE_TO_PB: Final = {
    CardType.RESIDENT: idcard_pb2.CARD_TYPE_RESIDENT_ID,
    CardType.FOREIGN_PERMANENT_2017: idcard_pb2.CARD_TYPE_FOREIGN_PERMANENT_RESIDENT_2017,
    CardType.FOREIGN_PERMANENT_2023: idcard_pb2.CARD_TYPE_FOREIGN_PERMANENT_RESIDENT_2023,
    CardType.HMT_RESIDENCE_PERMIT: idcard_pb2.CARD_TYPE_HMT_RESIDENCE_PERMIT,
}


def timestamp(value: dt.datetime) -> timestamp_pb2.Timestamp:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(value)
    return ts


def duration(value: dt.timedelta) -> duration_pb2.Duration:
    d = duration_pb2.Duration()
    d.FromTimedelta(value)
    return d


def device(snap: DeviceSnapshot) -> device_pb2.Device:
    msg = device_pb2.Device(
        device_id=snap.device_id,
        kind=KIND_TO_PB[snap.kind],
        station_id=snap.station_id or "",
        name=snap.name,
        admin_state=ADMIN_TO_PB[snap.admin_state],
        oper_state=OPER_TO_PB[snap.oper_state],
        oper_state_since=timestamp(snap.oper_since),
        admin_state_since=timestamp(snap.admin_since),
        admin_reason=snap.admin_reason,
        link=snap.link,
        identity=dict(snap.identity),
        consumables=dict(snap.consumables),
        counters=device_pb2.DeviceCounters(
            commands_ok=snap.counters.commands_ok,
            commands_failed=snap.counters.commands_failed,
            link_errors=snap.counters.link_errors,
            reconnects=snap.counters.reconnects,
            probe_failures=snap.counters.probe_failures,
            queue_depth=snap.counters.queue_depth,
        ),
    )
    if snap.last_error is not None:
        msg.last_error.CopyFrom(
            device_pb2.DeviceError(
                reason=snap.last_error.reason,
                message=snap.last_error.message,
                action=ACTION_TO_PB[snap.last_error.action],
                time=timestamp(snap.last_error.time),
            )
        )
    return msg


def event(ev: Event) -> device_pb2.DeviceEvent:
    msg = device_pb2.DeviceEvent(
        sequence=ev.sequence,
        time=timestamp(ev.time),
        device_id=ev.device_id,
        station_id=ev.station_id or "",
        request_id=ev.request_id,
        visit_id=ev.visit_id,
    )
    p = ev.payload
    if isinstance(p, StateChanged):
        msg.state_changed.device.CopyFrom(device(p.device))
    elif isinstance(p, Progress):
        msg.progress.CopyFrom(device_pb2.CommandProgress(stage=p.stage, message=p.message))
    elif isinstance(p, Finished):
        msg.finished.CopyFrom(
            device_pb2.CommandFinished(operation=p.operation, ok=p.ok, reason=p.reason, duration=duration(p.duration))
        )
    elif isinstance(p, LinkFault):
        msg.link_fault.CopyFrom(device_pb2.LinkFault(message=p.message, discarded_bytes=p.discarded_bytes))
    return msg


def trace(rec: TraceRecord) -> device_service_pb2.TraceFramesResponse:
    return device_service_pb2.TraceFramesResponse(
        time=timestamp(rec.time),
        direction=device_service_pb2.FRAME_DIRECTION_TO_DEVICE
        if rec.direction is Direction.TO_DEVICE
        else device_service_pb2.FRAME_DIRECTION_FROM_DEVICE,
        summary=rec.summary,
        data=rec.data,
        masked=rec.masked,
        length=rec.length,
        error=rec.error,
    )


def admin_state(value: int) -> AdminState:
    try:
        return ADMIN_FROM_PB[value]  # type: ignore[index]
    except KeyError:
        raise InvalidRequestError("admin_state must be ENABLED, DISABLED or MAINTENANCE") from None


def kind(value: int) -> DeviceKind:
    try:
        return KIND_FROM_PB[value]  # type: ignore[index]
    except KeyError:
        raise InvalidRequestError("station.kind must name a device kind this gateway has") from None


# -- identity cards ----------------------------------------------------------------------
def _date(text: str) -> device_pb2.Date:
    return device_pb2.Date(year=int(text[:4]), month=int(text[4:6]), day=int(text[6:8]))


def _coded(code: str, table: dict[str, tuple[str, str]]) -> device_pb2.CodedValue:
    zh, en = table.get(code, ("", "unlisted"))
    return device_pb2.CodedValue(code=code, name=en, name_zh=zh)


def _validity(valid_from: str, valid_until: str) -> idcard_pb2.Validity:
    v = idcard_pb2.Validity(valid_from=_date(valid_from))
    if valid_until == LONG_TERM:
        v.long_term = True
    else:
        v.valid_until.CopyFrom(_date(valid_until))
    return v


def identity_card(result: CardResult) -> idcard_pb2.IdentityCard:
    c = result.card
    msg = idcard_pb2.IdentityCard(
        card_type=CARD_TYPE_TO_PB[c.card_type],
        photo=idcard_pb2.CardPhoto(format=idcard_pb2.PHOTO_FORMAT_WLT, data=result.photo_wlt),
    )
    if result.decoded_photo is not None:
        msg.decoded_photo.CopyFrom(idcard_pb2.CardPhoto(format=idcard_pb2.PHOTO_FORMAT_BMP, data=result.decoded_photo))
    if isinstance(c, ResidentCard):
        msg.resident_id.CopyFrom(
            idcard_pb2.ResidentIdFields(
                name=c.name,
                sex=_coded(c.sex_code, SEX),
                nation=_coded(c.nation_code, NATION),
                birth_date=_date(c.birth_date),
                address=c.address,
                id_number=c.id_number,
                issuing_authority=c.issuing_authority,
                validity=_validity(c.valid_from, c.valid_until),
            )
        )
    elif isinstance(c, ResidencePermitHMT):
        msg.hmt_residence_permit.CopyFrom(
            idcard_pb2.HmtResidencePermitFields(
                name=c.name,
                sex=_coded(c.sex_code, SEX),
                birth_date=_date(c.birth_date),
                address=c.address,
                id_number=c.id_number,
                issuing_authority=c.issuing_authority,
                validity=_validity(c.valid_from, c.valid_until),
                travel_permit_number=c.travel_permit_number,
                issue_count=c.issue_count,
            )
        )
    else:
        fpr = msg.foreign_permanent_resident
        fpr.CopyFrom(
            idcard_pb2.ForeignPermanentResidentFields(
                english_name=c.english_name,
                chinese_name=c.chinese_name,
                sex=_coded(c.sex_code, SEX),
                birth_date=_date(c.birth_date),
                card_number=c.card_number,
                nationality=c.nationality,
                validity=_validity(c.valid_from, c.valid_until),
            )
        )
        if isinstance(c, ForeignPermanentResidentCard2017):
            fpr.card_version, fpr.authority_code = c.card_version, c.authority_code
        else:
            fpr.renewal_count, fpr.previous_card_link = c.renewal_count, c.previous_card_link
    return msg


MRZ_FORMAT_TO_PB: Final = {
    MrzFormat.TD1: document_pb2.MRZ_FORMAT_TD1,
    MrzFormat.TD2: document_pb2.MRZ_FORMAT_TD2,
    MrzFormat.TD3: document_pb2.MRZ_FORMAT_TD3,
}
CHIP_IMAGE_TO_PB: Final = {
    ImageFormat.JPEG: document_pb2.CHIP_IMAGE_FORMAT_JPEG,
    ImageFormat.JP2: document_pb2.CHIP_IMAGE_FORMAT_JPEG2000,
    ImageFormat.J2K: document_pb2.CHIP_IMAGE_FORMAT_JPEG2000,
}
HASH_TO_PB: Final = {
    HashCheck.MATCH: document_pb2.HASH_CHECK_MATCH,
    HashCheck.MISMATCH: document_pb2.HASH_CHECK_MISMATCH,
    HashCheck.NOT_LISTED: document_pb2.HASH_CHECK_NOT_LISTED,
}
SIGNATURE_TO_PB: Final = {
    SignatureStatus.VERIFIED: document_pb2.SIGNATURE_STATUS_VERIFIED,
    SignatureStatus.NOT_VERIFIED: document_pb2.SIGNATURE_STATUS_NOT_VERIFIED,
    SignatureStatus.INVALID: document_pb2.SIGNATURE_STATUS_INVALID,
}


def mrz_fields(mrz: Mrz) -> document_pb2.MrzFields:
    return document_pb2.MrzFields(
        format=MRZ_FORMAT_TO_PB[mrz.format],
        document_code=mrz.document_code,
        issuing_state=mrz.issuing_state,
        document_number=mrz.document_number,
        primary_identifier=mrz.primary_identifier,
        secondary_identifier=mrz.secondary_identifier,
        nationality=mrz.nationality,
        date_of_birth=mrz.birth_date,
        sex=mrz.sex.value,
        date_of_expiry=mrz.expiry_date,
        optional_data=mrz.optional_data,
        optional_data_2=mrz.optional_data_2,
        lines=list(mrz.lines),
    )


def travel_document(read: DocumentRead, *, from_reader: bool, include_face: bool) -> document_pb2.TravelDocument:
    msg = document_pb2.TravelDocument(
        mrz=mrz_fields(read.mrz),
        mrz_source=document_pb2.MRZ_SOURCE_MRZ_READER if from_reader else document_pb2.MRZ_SOURCE_REQUEST,
        chip_mrz_matches=read.chip_mrz_matches,
        passive_authentication=document_pb2.PassiveAuthentication(
            hashes_ok=read.hashes_ok,
            data_groups=[document_pb2.DataGroupCheck(number=n, hash=HASH_TO_PB[c]) for n, c in read.data_groups],
            signature=SIGNATURE_TO_PB[read.signature],
            signature_message=read.signature_message,
        ),
        data_groups_present=list(read.present),
        lds_version=read.lds_version,
    )
    if read.chip_mrz is not None:
        msg.chip_mrz.CopyFrom(mrz_fields(read.chip_mrz))
    if include_face and read.face is not None:
        msg.face.CopyFrom(
            document_pb2.FaceImage(
                jpeg=read.face.jpeg,
                width=read.face.width,
                height=read.face.height,
                chip_format=CHIP_IMAGE_TO_PB[read.face.chip_format],
            )
        )
    return msg


def _component(c: Component) -> fingerprint_pb2.QualityComponent:
    return fingerprint_pb2.QualityComponent(value=c.value, raw=c.raw)


def fingerprint_quality(q: Quality) -> fingerprint_pb2.FingerprintQuality:
    return fingerprint_pb2.FingerprintQuality(
        score=q.overall,
        foreground=_component(q.foreground),
        contrast=_component(q.contrast),
        coherence=_component(q.coherence),
        moisture=_component(q.moisture),
        hints=[h.value for h in q.guidance],
        hint_texts=[h.text for h in q.guidance],
    )


def capture_response(capture: Capture, *, finger: int, device_id: str) -> fingerprint_pb2.CaptureResponse:
    return fingerprint_pb2.CaptureResponse(
        image=fingerprint_pb2.FingerprintImage(
            png=capture.png, width=capture.width, height=capture.height, resolution_dpi=capture.resolution_dpi
        ),
        quality=fingerprint_quality(capture.quality),
        attempt=capture.attempt,
        finger=finger,  # type: ignore[arg-type]  # the request's enum value, echoed
        device_id=device_id,
    )


def _box(rect: Rect | None) -> photo_pb2.Box | None:
    return None if rect is None else photo_pb2.Box(x=rect.x, y=rect.y, width=rect.w, height=rect.h)


def _check(check: Check) -> photo_pb2.ComplianceCheck:
    out = photo_pb2.ComplianceCheck(
        name=check.name,
        value=check.value if math.isfinite(check.value) else 0.0,
        unit=check.unit,
        passed=check.passed,
        hint=check.hint.name if check.hint is not None and not check.passed else "",
    )
    if check.low is not None:
        out.low = check.low
    if check.high is not None:
        out.high = check.high
    return out


def compliance_report(report: Report) -> photo_pb2.ComplianceReport:
    hints = report.hints()
    return photo_pb2.ComplianceReport(
        passed=report.passed,
        checks=[_check(c) for c in report.checks],
        hints=[h.name for h in hints],
        hint_texts=[h.text for h in hints],
        faces=report.faces,
        face=_box(report.face),
        crop=_box(report.crop),
        image_width=report.frame_size[0],
        image_height=report.frame_size[1],
    )


def photo_capture_response(capture: PhotoCapture, *, device_id: str) -> photo_pb2.PhotoServiceCaptureResponse:
    return photo_pb2.PhotoServiceCaptureResponse(
        photo=photo_pb2.Photo(jpeg=capture.jpeg, width=capture.width, height=capture.height),
        report=compliance_report(capture.report),
        device_id=device_id,
        frames_judged=capture.frames,
    )


def photo_check_response(result: ImageCheck) -> photo_pb2.PhotoServiceCheckResponse:
    response = photo_pb2.PhotoServiceCheckResponse(report=compliance_report(result.report))
    if result.jpeg is not None and result.corrected is not None:
        width, height = result.corrected.frame_size
        response.corrected.CopyFrom(photo_pb2.Photo(jpeg=result.jpeg, width=width, height=height))
        response.corrected_report.CopyFrom(compliance_report(result.corrected))
    if result.overlay_png is not None:
        response.overlay_png = result.overlay_png
    return response
