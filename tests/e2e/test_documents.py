"""Reading travel documents through the real daemon: hallsim's MRZ readers and chips, pcscd, vpcd."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import duration_pb2
from support.hall import DOCUMENT_HALL, Hall, by_device, error_info, running_hall
from support.pcscd import Pcscd

from hallgw_api.v1 import device_pb2, device_service_pb2, document_pb2
from hallgw_simulators.passport_deck import build_passport_deck

pytestmark = pytest.mark.timeout(120)
DECK = build_passport_deck()
TD3 = "td3-uto-1"
TD1 = "td1-uto-card"


@pytest.fixture
async def hall(tmp_path: Path, pcscd: Pcscd) -> AsyncIterator[Hall]:
    async with running_hall(tmp_path / "hall", scenario=DOCUMENT_HALL, baud=0) as h:
        yield h
        # Nothing left on the vpcd slots for the next test.
        for device in ("dr-03", "dr-d1"):
            await h.ctl.fault(device, "remove")


def at_window(
    request_id: str = "visit-1/doc", *, mrz: str = "", wait: float = 5.0
) -> document_pb2.ReadTravelDocumentRequest:
    return document_pb2.ReadTravelDocumentRequest(
        device=device_pb2.DeviceRef(
            station=device_pb2.StationRef(station_id="window-03", kind=device_pb2.DEVICE_KIND_DOCUMENT_READER)
        ),
        request_id=request_id,
        mrz=mrz,
        document_wait=duration_pb2.Duration(seconds=int(wait), nanos=int((wait % 1) * 1e9)),
    )


async def failure(
    hall: Hall, request: document_pb2.ReadTravelDocumentRequest
) -> tuple[grpc.StatusCode, str, dict[str, str]]:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.documents.ReadTravelDocument(request, timeout=15)
    return error_info(info.value)


async def test_td3_passport_through_the_mrz_reader(hall: Hall) -> None:
    doc = DECK[TD3]
    events = hall.devices.WatchEvents(
        device_service_pb2.WatchEventsRequest(device_ids=["dr-03"], include_current_state=True)
    )
    stream = aiter(events)
    await anext(stream)  # the watch is in place: the read's first event cannot be missed
    read = asyncio.ensure_future(hall.documents.ReadTravelDocument(at_window(), timeout=15))
    stages: list[str] = []
    async with asyncio.timeout(10):
        async for item in stream:
            if item.event.request_id != "visit-1/doc":
                continue
            if item.event.WhichOneof("payload") == "progress":
                stages.append(item.event.progress.stage)
                if item.event.progress.stage == "WAITING_FOR_MRZ":
                    await hall.ctl.place("window-03", TD3)
            if item.event.WhichOneof("payload") == "finished":
                assert item.event.finished.ok, (item.event.finished.reason, stages)
                break
    events.cancel()
    resp = await read
    got = resp.document
    assert resp.device_id == "dr-03"
    assert stages[:2] == ["WAITING_FOR_MRZ", "MRZ_READ"] and "READING_CHIP" in stages
    assert got.mrz_source == document_pb2.MRZ_SOURCE_MRZ_READER
    assert got.mrz.format == document_pb2.MRZ_FORMAT_TD3
    assert tuple(got.mrz.lines) == doc.mrz.lines
    assert (got.mrz.document_number, got.mrz.primary_identifier) == (
        doc.mrz.document_number,
        doc.mrz.primary_identifier,
    )
    assert got.chip_mrz_matches and tuple(got.chip_mrz.lines) == doc.mrz.lines
    pa = got.passive_authentication
    assert pa.hashes_ok
    assert {(g.number, g.hash) for g in pa.data_groups} == {
        (1, document_pb2.HASH_CHECK_MATCH),
        (2, document_pb2.HASH_CHECK_MATCH),
    }
    assert pa.signature == document_pb2.SIGNATURE_STATUS_VERIFIED, pa.signature_message
    assert got.face.jpeg.startswith(b"\xff\xd8") and (got.face.width, got.face.height) == (24, 32)
    assert list(got.data_groups_present) == [1, 2]


async def test_td1_card_with_the_mrz_in_the_request(hall: Hall) -> None:
    doc = DECK[TD1]
    await hall.ctl.fault("dr-d1", "insert", TD1)
    request = document_pb2.ReadTravelDocumentRequest(
        device=by_device("dr-d1"), request_id="r-td1", mrz="\n".join(doc.mrz.lines), skip_face=True
    )
    resp = await hall.documents.ReadTravelDocument(request, timeout=15)
    got = resp.document
    assert got.mrz_source == document_pb2.MRZ_SOURCE_REQUEST
    assert got.mrz.format == document_pb2.MRZ_FORMAT_TD1
    assert got.chip_mrz_matches and got.passive_authentication.hashes_ok
    assert not got.HasField("face")


async def test_tampered_dg1_is_reported(hall: Hall) -> None:
    await hall.ctl.place("window-03", TD3, "tampered-dg1")
    resp = await hall.documents.ReadTravelDocument(at_window(), timeout=15)
    pa = resp.document.passive_authentication
    assert not pa.hashes_ok
    assert {(g.number, g.hash) for g in pa.data_groups} == {
        (1, document_pb2.HASH_CHECK_MISMATCH),
        (2, document_pb2.HASH_CHECK_MATCH),
    }
    # The signature itself is good: it covers the hashes EF.SOD lists.
    assert pa.signature == document_pb2.SIGNATURE_STATUS_VERIFIED


async def test_bad_signature_is_invalid(hall: Hall) -> None:
    await hall.ctl.place("window-03", TD3, "bad-signature")
    resp = await hall.documents.ReadTravelDocument(at_window(), timeout=15)
    pa = resp.document.passive_authentication
    assert pa.hashes_ok and pa.signature == document_pb2.SIGNATURE_STATUS_INVALID
    assert pa.signature_message.startswith("invalid")


async def test_wrong_mrz_is_bac_denied(hall: Hall) -> None:
    await hall.ctl.fault("dr-03", "insert", TD3)
    await hall.ctl.fault("mrz-03", "scan", "td3-can-1")  # another document's data page
    code, reason, meta = await failure(hall, at_window())
    assert (code, reason, meta["action"], meta["device_id"]) == (
        grpc.StatusCode.FAILED_PRECONDITION, "BAC_DENIED", "RETRY", "dr-03"
    )  # fmt: skip


async def test_misread_mrz_is_mrz_invalid(hall: Hall) -> None:
    await hall.ctl.fault("mrz-03", "misread", "on")
    await hall.ctl.place("window-03", TD3)
    code, reason, meta = await failure(hall, at_window())
    assert (code, reason, meta["action"]) == (grpc.StatusCode.INVALID_ARGUMENT, "MRZ_INVALID", "RETRY")
    await hall.ctl.fault("mrz-03", "misread", "off")


async def test_partial_mrz_read_is_mrz_invalid(hall: Hall) -> None:
    await hall.ctl.fault("mrz-03", "partial", "on")
    await hall.ctl.place("window-03", TD3)
    code, reason, _ = await failure(hall, at_window())
    assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "MRZ_INVALID")


async def test_bad_mrz_in_the_request(hall: Hall) -> None:
    lines = list(DECK[TD3].mrz.lines)
    lines[1] = lines[1][:9] + ("0" if lines[1][9] != "0" else "1") + lines[1][10:]  # document number check digit
    code, reason, _ = await failure(hall, at_window(mrz="\n".join(lines)))
    assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "MRZ_INVALID")


async def test_no_document_until_the_deadline(hall: Hall) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    code, reason, _ = await failure(hall, at_window(mrz="\n".join(DECK[TD3].mrz.lines), wait=0.6))
    assert (code, reason) == (grpc.StatusCode.DEADLINE_EXCEEDED, "NO_DOCUMENT")
    assert loop.time() - started < 3
    # Without an MRZ the wait is for the data page on the MRZ reader.
    code, reason, _ = await failure(hall, at_window(wait=0.6))
    assert (code, reason) == (grpc.StatusCode.DEADLINE_EXCEEDED, "NO_DOCUMENT")


async def test_removed_mid_read(hall: Hall) -> None:
    await hall.ctl.fault("dr-03", "insert", TD3)
    await hall.ctl.fault("dr-03", "remove-after", 6)
    code, reason, meta = await failure(hall, at_window(mrz="\n".join(DECK[TD3].mrz.lines)))
    assert (code, reason, meta["action"]) == (grpc.StatusCode.ABORTED, "DOCUMENT_REMOVED", "RETRY")


async def test_mac_error_is_chip_read_failed_and_the_next_read_works(hall: Hall) -> None:
    mrz = "\n".join(DECK[TD3].mrz.lines)
    await hall.ctl.fault("dr-03", "insert", TD3)
    await hall.ctl.fault("dr-03", "mac-error")
    code, reason, _ = await failure(hall, at_window(mrz=mrz))
    assert (code, reason) == (grpc.StatusCode.ABORTED, "CHIP_READ_FAILED")
    resp = await hall.documents.ReadTravelDocument(at_window(mrz=mrz), timeout=15)
    assert resp.document.chip_mrz_matches


async def test_station_without_mrz_reader_needs_the_mrz(hall: Hall) -> None:
    request = document_pb2.ReadTravelDocumentRequest(device=by_device("dr-d1"), request_id="r")
    code, reason, _ = await failure(hall, request)
    assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST")


async def test_mrz_reader_unplugged(hall: Hall) -> None:
    await hall.ctl.fault("mrz-03", "unplug")
    await hall.wait_oper("mrz-03", device_pb2.OPER_STATE_OFFLINE, timeout=2)
    code, reason, meta = await failure(hall, at_window())
    assert (code, reason, meta["device_id"]) == (grpc.StatusCode.UNAVAILABLE, "DEVICE_OFFLINE", "mrz-03")
    await hall.ctl.fault("mrz-03", "replug")
    await hall.wait_oper("mrz-03", device_pb2.OPER_STATE_ONLINE, timeout=3)


async def test_reader_unplugged_and_back(hall: Hall, pcscd: Pcscd) -> None:
    if not pcscd.owned:
        pytest.skip("pcscd was running before the tests: they do not stop a pcscd they did not start")
    mrz = "\n".join(DECK[TD3].mrz.lines)
    pcscd.stop()  # every PC/SC reader disappears, as when the reader is unplugged
    gone = await hall.wait_oper("dr-03", device_pb2.OPER_STATE_OFFLINE, timeout=3)
    assert gone < 1.5
    code, reason, _ = await failure(hall, at_window(mrz=mrz))
    assert (code, reason) == (grpc.StatusCode.UNAVAILABLE, "DEVICE_OFFLINE")
    await asyncio.to_thread(pcscd.start)
    await hall.wait_oper("dr-03", device_pb2.OPER_STATE_ONLINE, timeout=3)
    await hall.ctl.fault("dr-03", "insert", TD3)
    resp = await hall.documents.ReadTravelDocument(at_window(mrz=mrz), timeout=15)
    assert resp.document.chip_mrz_matches
