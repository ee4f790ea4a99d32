"""Reading every card layout through the real daemon, by device and by station."""

import asyncio

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from support.hall import Hall, by_device, error_info, read_request

from hallgw_api.v1 import device_pb2, device_service_pb2, idcard_pb2
from hallgw_protocols.idcard_sam import LONG_TERM, ResidentCard
from hallgw_simulators.deck import Deck


def iso(date: device_pb2.Date) -> str:
    return f"{date.year:04d}{date.month:02d}{date.day:02d}"


@pytest.mark.parametrize("card_id", ["resident-1", "resident-2", "fpr2017-1", "fpr2023-1", "hmt-1"])
async def test_every_layout_decodes_field_by_field(hall: Hall, deck: Deck, card_id: str) -> None:
    await hall.ctl.insert("idr-02", card_id)
    resp = await hall.idcard.ReadIdCard(read_request(by_device("idr-02")), timeout=10)
    card = resp.card
    expected = deck[card_id].text
    assert resp.device_id == "idr-02"
    assert card.photo.format == idcard_pb2.PHOTO_FORMAT_WLT
    assert card.photo.data == deck[card_id].photo and len(card.photo.data) == 1024
    assert not card.HasField("decoded_photo")  # no WLT decoder plugin installed
    fields = getattr(card, card.WhichOneof("fields"))
    assert fields.sex.code == expected.sex_code and fields.sex.name in {"male", "female"}
    assert iso(fields.birth_date) == expected.birth_date
    assert iso(fields.validity.valid_from) == expected.valid_from
    if expected.valid_until == LONG_TERM:
        assert fields.validity.long_term and not fields.validity.HasField("valid_until")
    else:
        assert iso(fields.validity.valid_until) == expected.valid_until
    if isinstance(expected, ResidentCard):
        assert card.card_type == idcard_pb2.CARD_TYPE_RESIDENT_ID
        assert (fields.name, fields.id_number, fields.address) == (expected.name, expected.id_number, expected.address)
        assert fields.nation.code == expected.nation_code and fields.nation.name_zh
    for name in ("english_name", "chinese_name", "card_number", "nationality", "travel_permit_number", "issue_count"):
        if hasattr(expected, name):
            assert getattr(fields, name) == getattr(expected, name), name


async def test_read_by_station_and_progress_events(hall: Hall, deck: Deck) -> None:
    await hall.ctl.remove("idr-04")
    events = hall.devices.WatchEvents(device_service_pb2.WatchEventsRequest(request_id="visit-42/read-1"))
    ref = device_pb2.DeviceRef(
        station=device_pb2.StationRef(station_id="window-04", kind=device_pb2.DEVICE_KIND_IDCARD_READER)
    )
    read = asyncio.ensure_future(hall.idcard.ReadIdCard(read_request(ref, "visit-42/read-1", wait=5), timeout=10))
    stages = []
    async with asyncio.timeout(5):
        async for item in events:
            if item.event.WhichOneof("payload") == "progress":
                stages.append(item.event.progress.stage)
                if item.event.progress.stage == "WAITING_FOR_CARD":
                    assert item.event.device_id == "idr-04" and item.event.station_id == "window-04"
                    await hall.ctl.insert("idr-04", "hmt-1")
            if item.event.WhichOneof("payload") == "finished":
                assert item.event.finished.ok and item.event.finished.operation == "ReadIdCard"
                break
    events.cancel()
    resp = await read
    assert stages == ["WAITING_FOR_CARD", "CARD_FOUND", "READING"]
    assert resp.card.card_type == idcard_pb2.CARD_TYPE_HMT_RESIDENCE_PERMIT
    assert resp.card.hmt_residence_permit.id_number == deck["hmt-1"].text.id_number  # type: ignore[union-attr]


async def test_no_card_within_wait(hall: Hall) -> None:
    await hall.ctl.remove("idr-02")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.idcard.ReadIdCard(read_request(by_device("idr-02"), wait=0.3), timeout=5)
    code, reason, meta = error_info(info.value)
    assert (code, reason, meta["action"], meta["device_id"]) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "NO_CARD",
        "RETRY",
        "idr-02",
    )


async def test_deadline_bounds_the_card_wait(hall: Hall) -> None:
    """Without card_wait the call waits until just before its deadline and says why."""
    await hall.ctl.remove("idr-02")
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.idcard.ReadIdCard(read_request(by_device("idr-02"), wait=None), timeout=1.0)
    assert error_info(info.value)[1] == "NO_CARD"
    assert 0.5 < loop.time() - started < 1.0


@pytest.mark.parametrize(
    ("ref", "code", "reason"),
    [
        (by_device("idr-99"), grpc.StatusCode.NOT_FOUND, "UNKNOWN_DEVICE"),
        (device_pb2.DeviceRef(), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST"),
        (
            device_pb2.DeviceRef(station=device_pb2.StationRef(station_id="window-99")),
            grpc.StatusCode.NOT_FOUND,
            "UNKNOWN_DEVICE",
        ),
    ],
)
async def test_bad_requests_get_clear_errors(
    hall: Hall, ref: device_pb2.DeviceRef, code: grpc.StatusCode, reason: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.idcard.ReadIdCard(read_request(ref), timeout=5)
    assert error_info(info.value)[:2] == (code, reason)
    assert info.value.details()


async def test_bad_request_id_and_negative_wait(hall: Hall) -> None:
    req = read_request(by_device("idr-01"), request_id="x" * 200)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.idcard.ReadIdCard(req, timeout=5)
    assert error_info(info.value)[1] == "INVALID_REQUEST"
    req = read_request(by_device("idr-01"))
    req.card_wait.seconds = -1
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.idcard.ReadIdCard(req, timeout=5)
    assert "card_wait" in (info.value.details() or "")


async def test_inventory_health_and_reflection(hall: Hall) -> None:
    resp = await hall.devices.ListDevices(device_service_pb2.ListDevicesRequest(), timeout=5)
    ids = [d.device_id for d in resp.devices]
    assert ids == sorted(ids) and len(ids) == len(hall.ready["devices"]) >= 5
    for dev in resp.devices:
        assert dev.kind == device_pb2.DEVICE_KIND_IDCARD_READER
        assert dev.oper_state in (device_pb2.OPER_STATE_ONLINE, device_pb2.OPER_STATE_BUSY)
        assert dev.admin_state == device_pb2.ADMIN_STATE_ENABLED
        assert dev.identity["sam_id"] and dev.oper_state_since.seconds > 0
    only = await hall.devices.ListDevices(device_service_pb2.ListDevicesRequest(station_ids=["window-03"]), timeout=5)
    assert [d.device_id for d in only.devices] == ["idr-03"]
    assert hall.channel is not None
    health = health_pb2_grpc.HealthStub(hall.channel)
    for service in ("", "hallgw.v1.IdCardService"):
        status = await health.Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        assert status.status == health_pb2.HealthCheckResponse.SERVING
    refl = reflection_pb2_grpc.ServerReflectionStub(hall.channel)
    call = refl.ServerReflectionInfo()
    await call.write(reflection_pb2.ServerReflectionRequest(list_services=""))
    answer = await call.read()
    await call.done_writing()
    names = {s.name for s in answer.list_services_response.service}
    assert {"hallgw.v1.DeviceService", "hallgw.v1.IdCardService", "grpc.health.v1.Health"} <= names
