"""Stations and their claims through the real daemon: roles, leases, streams, STATION_CLAIMED, broken claims,
events tagged with the visit, and the personal buffers of a station dropped when its visit ends."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import duration_pb2
from support.hall import DOCUMENT_HALL, HALLCTL, Hall, by_device, error_info, hallctl, read_request, running_hall
from support.pcscd import Pcscd

from hallgw_api.v1 import device_pb2, device_service_pb2, document_pb2, station_pb2

pytestmark = pytest.mark.timeout(90)
VISIT = "x-hallgw-visit"


@pytest.fixture
async def hall(tmp_path: Path) -> AsyncIterator[Hall]:
    async with running_hall(tmp_path / "hall") as h:
        yield h


def claim(station: str, holder: str = "counter app", lease: float | None = None) -> station_pb2.ClaimStationRequest:
    req = station_pb2.ClaimStationRequest(station_id=station, holder=holder)
    if lease is not None:
        req.lease.CopyFrom(duration_pb2.Duration(seconds=int(lease)))
    return req


async def test_stations_list_their_roles_and_states(hall: Hall) -> None:
    stations = {s.station_id: s for s in (await hall.stations.ListStations(station_pb2.ListStationsRequest())).stations}
    assert set(stations) >= {"window-01", "window-02", "area24-01"}
    w1 = stations["window-01"]
    assert w1.kind == "window" and not w1.HasField("visit")
    assert [(r.kind, r.device_id, r.oper_state) for r in w1.roles] == [
        (device_pb2.DEVICE_KIND_IDCARD_READER, "idr-01", device_pb2.OPER_STATE_ONLINE)
    ]
    areas = await hall.stations.ListStations(station_pb2.ListStationsRequest(kind="area24"))
    assert [s.station_id for s in areas.stations] == ["area24-01"]
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.stations.GetStation(station_pb2.GetStationRequest(station_id="desk-99"))
    assert error_info(info.value)[1] == "INVALID_REQUEST"


async def test_a_claim_keeps_others_out_and_tags_the_visits_events(hall: Hall) -> None:
    visit = (await hall.stations.ClaimStation(claim("window-02", lease=60))).visit
    assert visit.visit_id.startswith("visit-") and visit.station_id == "window-02"
    assert visit.holder.endswith("(counter app)") and visit.HasField("expires") and not visit.held_by_stream

    # A second client cannot claim the desk, nor use its devices: the error names who holds it.
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.stations.ClaimStation(claim("window-02", holder="another app"))
    code, reason, details = error_info(info.value)
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "STATION_CLAIMED")
    assert details["visit_id"] == visit.visit_id and details["holder"] == visit.holder
    await hall.ctl.insert("idr-02", "resident-1")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.idcard.ReadIdCard(read_request(by_device("idr-02")), timeout=10)
    assert error_info(info.value)[1] == "STATION_CLAIMED"
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.idcard.ReadIdCard(read_request(by_device("idr-02")), timeout=10, metadata=((VISIT, "visit-nope"),))
    assert error_info(info.value)[1] == "STATION_CLAIMED"

    # The holder reads, naming its visit; the call's events carry the visit id.
    events = hall.devices.WatchEvents(device_service_pb2.WatchEventsRequest(visit_id=visit.visit_id))
    seen: list[device_pb2.DeviceEvent] = []

    async def watch() -> None:
        async for item in events:
            seen.append(item.event)
            if item.event.WhichOneof("payload") == "finished":
                return

    watching = asyncio.ensure_future(watch())
    await asyncio.sleep(0.3)
    ref = device_pb2.DeviceRef(
        station=device_pb2.StationRef(station_id="window-02", kind=device_pb2.DEVICE_KIND_IDCARD_READER)
    )
    mine = ((VISIT, visit.visit_id),)
    resp = await hall.idcard.ReadIdCard(read_request(ref, "visit-read"), timeout=10, metadata=mine)
    assert resp.card.HasField("resident_id")
    await asyncio.wait_for(watching, 5)
    events.cancel()
    assert seen and all(e.visit_id == visit.visit_id and e.station_id == "window-02" for e in seen)
    assert seen[-1].request_id == "visit-read" and seen[-1].finished.ok

    # Other stations are untouched by the claim.
    await hall.ctl.insert("idr-01", "resident-1")
    assert (await hall.idcard.ReadIdCard(read_request(by_device("idr-01")), timeout=10)).card.HasField("resident_id")

    renewed = (await hall.stations.RenewClaim(station_pb2.RenewClaimRequest(visit_id=visit.visit_id))).visit
    assert renewed.expires.ToDatetime() > visit.expires.ToDatetime()
    station = (await hall.stations.GetStation(station_pb2.GetStationRequest(station_id="window-02"))).station
    assert station.visit.visit_id == visit.visit_id

    await hall.stations.ReleaseStation(station_pb2.ReleaseStationRequest(visit_id=visit.visit_id))
    assert (await hall.idcard.ReadIdCard(read_request(by_device("idr-02")), timeout=10)).card.HasField("resident_id")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.stations.ReleaseStation(station_pb2.ReleaseStationRequest(visit_id=visit.visit_id))
    assert error_info(info.value)[:2] == (grpc.StatusCode.NOT_FOUND, "UNKNOWN_VISIT")
    assert "visit ended" in hall.logs() and "released by its holder" in hall.logs()


async def test_a_lease_that_runs_out_frees_the_station(hall: Hall) -> None:
    visit = (await hall.stations.ClaimStation(claim("window-03", lease=5))).visit
    with pytest.raises(grpc.aio.AioRpcError):
        await hall.stations.ClaimStation(claim("window-03", holder="next"))
    await asyncio.sleep(5.5)
    station = (await hall.stations.GetStation(station_pb2.GetStationRequest(station_id="window-03"))).station
    assert not station.HasField("visit")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.stations.RenewClaim(station_pb2.RenewClaimRequest(visit_id=visit.visit_id))
    assert error_info(info.value)[1] == "UNKNOWN_VISIT"
    assert "its lease ran out" in hall.logs()
    assert (await hall.stations.ClaimStation(claim("window-03", holder="next"))).visit.visit_id != visit.visit_id


async def test_a_claim_held_by_a_stream_ends_with_it(hall: Hall) -> None:
    call = hall.stations.HoldStation(station_pb2.HoldStationRequest(station_id="window-04", holder="kiosk ui"))
    stream = aiter(call)
    visit = (await anext(stream)).visit
    assert visit.held_by_stream and not visit.HasField("expires")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.stations.ClaimStation(claim("window-04"))
    assert error_info(info.value)[1] == "STATION_CLAIMED"
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.stations.RenewClaim(station_pb2.RenewClaimRequest(visit_id=visit.visit_id))
    assert error_info(info.value)[1] == "INVALID_REQUEST"
    call.cancel()
    async with asyncio.timeout(5):
        while True:
            station = (await hall.stations.GetStation(station_pb2.GetStationRequest(station_id="window-04"))).station
            if not station.HasField("visit"):
                break
            await asyncio.sleep(0.05)
    assert "its stream closed" in hall.logs()


async def test_an_engineer_breaks_a_claim_with_a_reason(hall: Hall) -> None:
    visit = (await hall.stations.ClaimStation(claim("window-01", lease=60))).visit
    for bad in ("", " ", "x" * 201):
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await hall.stations.BreakClaim(station_pb2.BreakClaimRequest(station_id="window-01", reason=bad))
        assert error_info(info.value)[1] == "INVALID_REQUEST"
    broken = await hall.stations.BreakClaim(
        station_pb2.BreakClaimRequest(station_id="window-01", reason="the counter app hung")
    )
    assert broken.visit.visit_id == visit.visit_id
    assert "the counter app hung" in hall.logs()
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.stations.BreakClaim(station_pb2.BreakClaimRequest(station_id="window-01", reason="again"))
    assert error_info(info.value)[1] == "UNKNOWN_VISIT"


async def test_the_end_of_a_visit_drops_the_stations_personal_buffers(tmp_path: Path, pcscd: Pcscd) -> None:
    """A passport's MRZ scanned during a visit is not read by the next one: the lease end dropped it."""
    async with running_hall(tmp_path / "hall", scenario=DOCUMENT_HALL) as hall:

        async def read(visit_id: str) -> document_pb2.ReadTravelDocumentResponse:
            ref = device_pb2.DeviceRef(
                station=device_pb2.StationRef(station_id="window-03", kind=device_pb2.DEVICE_KIND_DOCUMENT_READER)
            )
            req = document_pb2.ReadTravelDocumentRequest(device=ref, request_id=f"r-{visit_id[-4:]}")
            req.document_wait.CopyFrom(duration_pb2.Duration(seconds=1))
            response: document_pb2.ReadTravelDocumentResponse = await hall.documents.ReadTravelDocument(
                req, timeout=20, metadata=((VISIT, visit_id),)
            )
            return response

        first = (await hall.stations.ClaimStation(claim("window-03", lease=5))).visit
        await hall.ctl.place("window-03", "td3-uto-1")
        assert (await read(first.visit_id)).document.mrz.document_number  # the scan serves its own visit
        await hall.ctl.place("window-03", "td3-uto-1")  # scanned again, but not read before the lease ends
        await asyncio.sleep(5.5)
        second = (await hall.stations.ClaimStation(claim("window-03", lease=30))).visit
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await read(second.visit_id)
        assert error_info(info.value)[1] == "NO_DOCUMENT"  # the first visit's scan was dropped with it


async def test_hallctl_shows_stations_and_breaks_a_claim(hall: Hall) -> None:
    visit = (await hall.stations.ClaimStation(claim("window-02", lease=60))).visit
    code, out, err = await hallctl(hall, "stations")
    assert code == 0, err
    assert "window-02" in out and visit.visit_id in out and "idcard_reader idr-02 online" in out
    code, out, err = await hallctl(hall, "station", "show", "window-02", "--json")
    shown = json.loads(out)
    assert shown["visit"]["visit_id"] == visit.visit_id and shown["roles"][0]["device_id"] == "idr-02"
    code, _, err = await hallctl(hall, "station", "release", "window-02", "--reason", " ")
    assert code == 2 and "--reason" in err
    code, out, err = await hallctl(hall, "station", "release", "window-02", "--reason", "app hung", "--json")
    assert code == 0 and json.loads(out)["released"]["visit_id"] == visit.visit_id, err
    code, _, err = await hallctl(hall, "station", "release", "window-02", "--reason", "again")
    assert code == 1 and "UNKNOWN_VISIT" in err

    # visit watch: the events of one visit, live, until stopped.
    visit = (await hall.stations.ClaimStation(claim("window-02", lease=60))).visit
    env = {**os.environ, "HALLGW_TARGET": hall.target, "COLUMNS": "160", "no_proxy": "*"}
    proc = await asyncio.create_subprocess_exec(
        HALLCTL, "visit", "watch", visit.visit_id, "--json", env=env, stdout=asyncio.subprocess.PIPE
    )
    try:
        await asyncio.sleep(1.5)  # hallctl has subscribed
        await hall.ctl.insert("idr-02", "resident-1")
        req = read_request(by_device("idr-02"), "watched-read")
        await hall.idcard.ReadIdCard(req, timeout=10, metadata=((VISIT, visit.visit_id),))
        assert proc.stdout is not None
        async with asyncio.timeout(10):
            while True:
                line = json.loads(await proc.stdout.readline())
                assert line["visit_id"] == visit.visit_id
                if line["request_id"] == "watched-read":
                    break
    finally:
        proc.terminate()
        await proc.wait()
