"""Unit tests of what hallctl shows: masking, card fields, tables, event and frame lines."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rich.console import Console, RenderableType

from hallgw_api.v1 import device_pb2, device_service_pb2, idcard_pb2
from hallgw_daemon.cli import masking, names, render, views

from .hallctl_fake import ADDRESS, ID_NUMBER, NAME, foreign_card, hmt_card, make_hall, resident_card, ts

NOW = datetime(2026, 5, 17, 10, 15, 2, 123000, tzinfo=UTC)


def text_of(renderable: RenderableType) -> str:
    console = Console(file=io.StringIO(), width=200, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


# --- masking -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张三丰", "张**"), ("ZHANG, JOHN", "Z**********"), ("李四", "李*"), ("王", "*"), ("", "")],
)
def test_names_keep_their_first_character_only(name: str, masked: str) -> None:
    assert masking.mask_name(name) == masked


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("11010519491231002X", "110*************2X"),
        ("CAN110083041201", "CAN**********01"),
        ("H01234567", "H01****67"),
        ("123456", "123*56"),
        ("12345", "*****"),
        ("", ""),
    ],
)
def test_numbers_keep_the_first_three_and_last_two(number: str, masked: str) -> None:
    assert masking.mask_number(number) == masked


def test_addresses_are_reduced_to_stars_but_absence_stays_visible() -> None:
    assert masking.mask_address(ADDRESS) == "***"
    assert masking.mask_address("") == ""


# --- card fields -------------------------------------------------------------


def fields_by_key(card: idcard_pb2.IdentityCard, *, show_pii: bool) -> dict[str, views.CardField]:
    return {field.key: field for field in views.card_fields(card, show_pii=show_pii)}


def test_resident_card_is_masked_field_by_field() -> None:
    fields = fields_by_key(resident_card(), show_pii=False)
    assert list(fields) == [
        "name", "sex", "nation", "birth_date", "address", "id_number", "issuing_authority", "validity",
    ]  # fmt: skip
    assert fields["name"].text == "张**"
    assert fields["id_number"].text == "110*************2X"
    assert fields["address"].text == "***"
    assert fields["birth_date"].text == "1949"
    assert fields["birth_date"].value == "1949"
    # Sex and nation are shown as code and names; validity is not personal.
    assert fields["sex"].text == "1 male (男)"
    assert fields["nation"].value == {"code": "01", "name": "Han", "name_zh": "汉"}
    assert fields["validity"].text == "2015-03-01 – long-term"
    assert fields["validity"].value == {"valid_from": "2015-03-01", "valid_until": None, "long_term": True}


def test_show_pii_shows_every_field_whole() -> None:
    fields = fields_by_key(resident_card(), show_pii=True)
    assert fields["name"].text == NAME
    assert fields["id_number"].text == ID_NUMBER
    assert fields["address"].text == ADDRESS
    assert fields["birth_date"].text == "1949-12-31"


def test_foreign_2023_layout_shows_only_its_own_fields() -> None:
    fields = fields_by_key(foreign_card(), show_pii=False)
    assert "renewal_count" in fields
    assert "previous_card_link" in fields
    assert "card_version" not in fields
    assert "authority_code" not in fields
    assert fields["english_name"].text == "Z*****************"
    assert fields["card_number"].text == "932*************17"
    assert fields["previous_card_link"].text == "CAN**********01"
    assert fields["validity"].text == "2023-12-01 – 2033-12-01"


def test_foreign_2017_layout_shows_its_version_and_authority() -> None:
    card = foreign_card()
    card.card_type = idcard_pb2.CARD_TYPE_FOREIGN_PERMANENT_RESIDENT_2017
    card.foreign_permanent_resident.card_version = "10"
    card.foreign_permanent_resident.authority_code = "1100"
    fields = fields_by_key(card, show_pii=False)
    assert fields["card_version"].text == "10"
    assert fields["authority_code"].text == "1100"
    assert "renewal_count" not in fields


def test_hmt_permit_masks_both_numbers() -> None:
    fields = fields_by_key(hmt_card(), show_pii=False)
    assert fields["id_number"].text == "810*************13"
    assert fields["travel_permit_number"].text == "H01****67"
    assert fields["issue_count"].text == "02"


def test_a_field_unknown_to_hallctl_is_hidden_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    # Simulate a field added to the API after this build: in neither table.
    monkeypatch.setattr(views, "_NOT_PERSONAL", views._NOT_PERSONAL - {"issuing_authority"})
    fields = fields_by_key(resident_card(), show_pii=False)
    assert fields["issuing_authority"].text == "***"
    assert fields_by_key(resident_card(), show_pii=True)["issuing_authority"].text == "北京市公安局朝阳分局"


def test_card_view_reports_photo_format_and_size_never_bytes() -> None:
    response = idcard_pb2.ReadIdCardResponse(card=resident_card(), device_id="idr-07")
    view = views.card_view(response, request_id="r1", show_pii=False)
    assert view["photo"] == {"format": "wlt", "size": 1024}
    assert view["decoded_photo"] == {"format": "bmp", "size": 38862}
    assert view["pii_masked"] is True
    assert "data" not in str(view)


def test_card_table_masks_and_names_the_card_type() -> None:
    response = idcard_pb2.ReadIdCardResponse(card=resident_card(), device_id="idr-07")
    fields = views.card_fields(response.card, show_pii=False)
    text = text_of(render.card_table(response, fields, request_id="r1", show_pii=False))
    assert "resident ID card (resident_id)" in text
    assert "WLT, 1024 bytes" in text
    assert "BMP, 38862 bytes" in text
    assert "--show-pii" in text
    for secret in (NAME, ID_NUMBER, ADDRESS, "1949-12-31"):
        assert secret not in text


# --- devices -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        (timedelta(seconds=0.4), "just now"),
        (timedelta(seconds=12), "12s ago"),
        (timedelta(minutes=4, seconds=5), "4m 05s ago"),
        (timedelta(hours=3, minutes=7), "3h 07m ago"),
        (timedelta(days=2, hours=1), "2d 01h ago"),
        (timedelta(seconds=-30), "in the future"),
    ],
)
def test_relative_time(age: timedelta, expected: str) -> None:
    assert render.relative_time(NOW - age, NOW) == expected


def test_devices_table_shows_state_since_error_and_queue() -> None:
    hall = make_hall(now=NOW)
    devices = [device for _, device in sorted(hall.devices.items())]
    text = text_of(render.devices_table(devices, NOW))
    lines = {line.split()[0]: line for line in text.splitlines() if line.strip().startswith(("idr", "cam"))}
    assert "offline" in lines["idr-08"]
    assert "4m 05s ago" in lines["idr-08"]
    assert "DEVICE_OFFLINE (action: engineer)" in lines["idr-08"]
    assert "maintenance" in lines["cam-07"]
    assert lines["idr-07"].split()[-2:] == ["1", "-"]  # queue depth, no last error
    assert "5 devices: 1 busy, 1 offline, 3 online" in text


@pytest.mark.parametrize("width", [80, 60])
def test_a_narrow_terminal_moves_errors_below_and_keeps_ids_whole(width: int) -> None:
    devices = [device for _, device in sorted(make_hall(now=NOW).devices.items())]
    console = Console(file=io.StringIO(), width=width, record=True, color_system=None)
    console.print(render.devices_view(devices, NOW, console))
    text = console.export_text()
    assert "LAST ERROR" not in text
    assert "idr-08: DEVICE_OFFLINE (action: engineer)" in text
    if width == 80:
        row = next(line for line in text.splitlines() if line.startswith("idr-08 "))
        assert row.split()[:5] == ["idr-08", "idcard_reader", "window-08", "enabled", "offline"]


def test_a_wide_terminal_shows_errors_in_the_table() -> None:
    devices = [device for _, device in sorted(make_hall(now=NOW).devices.items())]
    console = Console(file=io.StringIO(), width=160, record=True, color_system=None)
    console.print(render.devices_view(devices, NOW, console))
    row = next(line for line in console.export_text().splitlines() if line.startswith("idr-08 "))
    assert row.rstrip().endswith("DEVICE_OFFLINE (action: engineer)")


def test_oper_states_are_coloured() -> None:
    assert render.oper_text(device_pb2.OPER_STATE_ONLINE).style == "green"
    assert render.oper_text(device_pb2.OPER_STATE_OFFLINE).style == "bold red"
    assert render.oper_text(device_pb2.OPER_STATE_CONNECTING).style == "yellow"


def test_device_from_a_newer_gateway_still_renders() -> None:
    device = device_pb2.Device(device_id="x-1", kind=42, oper_state=9)  # type: ignore[arg-type]
    assert names.kind_word(42) == "unknown(42)"
    text = text_of(render.devices_table([device], NOW))
    assert "unknown(42)" in text
    assert "unknown(9)" in text


def test_gateway_text_is_not_taken_as_markup() -> None:
    device = device_pb2.Device(device_id="[red]x[/red]", name="[bold]n")
    text = text_of(render.device_detail(device, NOW))
    assert "[red]x[/red]" in text
    assert "[bold]n" in text


def test_device_detail_lists_identity_counters_link_and_admin_reason() -> None:
    hall = make_hall(now=NOW)
    text = text_of(render.device_detail(hall.devices["idr-07"], NOW))
    assert "sam_id = 05.01-20101015-0011223344-3344556677" in text
    assert "41 ok, 2 failed" in text
    assert "tcp://127.0.0.1:707" in text
    text = text_of(render.device_detail(hall.devices["cam-07"], NOW))
    assert "lens cleaning" in text


# --- events and frames ---------------------------------------------------------


def event(**payload: Any) -> device_pb2.DeviceEvent:
    return device_pb2.DeviceEvent(
        sequence=7, time=ts(NOW), device_id="idr-07", station_id="window-07", request_id="r-1", **payload
    )


def test_event_lines() -> None:
    progress = event(progress=device_pb2.CommandProgress(stage="WAITING_FOR_CARD", message="place the card"))
    assert render.event_line(progress).plain == (
        "10:15:02.123Z idr-07 [window-07] progress WAITING_FOR_CARD: place the card (req r-1)"
    )
    failed = event(finished=device_pb2.CommandFinished(operation="ReadIdCard", ok=False, reason="NO_CARD"))
    assert "ReadIdCard failed: NO_CARD" in render.event_line(failed).plain
    fault = event(link_fault=device_pb2.LinkFault(message="checksum mismatch", discarded_bytes=12))
    assert "link     checksum mismatch; 12 bytes discarded" in render.event_line(fault).plain
    offline = make_hall(now=NOW).devices["idr-08"]
    state = event(state_changed=device_pb2.DeviceStateChanged(device=offline))
    assert "oper offline, admin enabled; last error DEVICE_OFFLINE (action: engineer)" in render.event_line(state).plain


def test_event_view_is_flat_json_with_the_payload_under_its_type() -> None:
    view = views.event_view(event(finished=device_pb2.CommandFinished(operation="ReadIdCard", ok=True)))
    assert view["type"] == "finished"
    assert view["time"] == "2026-05-17T10:15:02.123Z"
    assert view["finished"]["ok"] is True


def test_frame_lines_mark_direction_masking_and_errors() -> None:
    hall = make_hall(now=NOW)
    to_device, from_device, long_masked, error = hall.frames["idr-07"]
    assert render.frame_line(to_device).plain == "10:15:02.123Z → FIND_CARD (11 B) aa aa aa 96 69 00 03 20 01 22 00"
    assert render.frame_line(from_device).plain.startswith("10:15:02.123Z ← status 9F card found (16 B) aa aa")
    line = render.frame_line(long_masked).plain
    assert "[masked]" in line
    assert line.endswith("… +1231 bytes (--full shows all)")
    assert len(render.frame_line(long_masked, full=True).plain.split("[masked] ")[1].split()) == 1295
    assert render.frame_line(error).plain.startswith("10:15:02.123Z ✗ checksum mismatch in a 16-byte frame")


def test_frame_view_is_hex() -> None:
    frame = device_service_pb2.TraceFramesResponse(
        data=b"\xaa\x01", masked=True, direction=device_service_pb2.FRAME_DIRECTION_TO_DEVICE
    )
    assert views.frame_view(frame) | {"time": None} == {
        "time": None, "direction": "to_device", "summary": "", "length": 0, "masked": True, "data": "aa01", "error": "",
    }  # fmt: skip


# --- references ------------------------------------------------------------------


def test_device_references() -> None:
    assert names.parse_device_ref("idr-07").device_id == "idr-07"
    ref = names.parse_device_ref("window-07:idcard_reader")
    assert ref.station.station_id == "window-07"
    assert ref.station.kind == device_pb2.DEVICE_KIND_IDCARD_READER
    assert names.parse_device_ref("window-07:IDCARD-READER").station.kind == device_pb2.DEVICE_KIND_IDCARD_READER
    with pytest.raises(ValueError, match="unknown device kind 'scanner'; one of: idcard_reader"):
        names.parse_device_ref("window-07:scanner")
    with pytest.raises(ValueError, match="bad device reference"):
        names.parse_device_ref(":idcard_reader")
