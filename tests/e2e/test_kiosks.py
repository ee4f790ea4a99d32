"""Kiosks through the real daemon: hallsim's kiosks on a real Mosquitto, each issuance exactly once."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from support.broker import Broker, mosquitto_broker
from support.hall import KIOSK_HALL, Hall, by_device, error_info, running_hall

from hallgw_api.v1 import device_pb2, device_service_pb2, kiosk_pb2

pytestmark = pytest.mark.timeout(120)
ENDORSEMENT, COLLECTION, RECORDS = "kiosk-001", "kiosk-002", "kiosk-003"


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[Broker]:
    async with mosquitto_broker(tmp_path / "broker") as b:
        yield b


@pytest.fixture
async def hall(tmp_path: Path, broker: Broker) -> AsyncIterator[Hall]:
    async with running_hall(tmp_path / "hall", scenario=KIOSK_HALL, broker=broker.url) as h:
        yield h


def endorsement(request_id: str, kiosk: str = ENDORSEMENT, **overrides: Any) -> kiosk_pb2.IssueEndorsementRequest:
    fields: dict[str, Any] = {
        "device": by_device(kiosk),
        "request_id": request_id,
        "business_ref": f"app-{request_id}",
        "destination": kiosk_pb2.DESTINATION_HONG_KONG,
        "endorsement_type": kiosk_pb2.ENDORSEMENT_TYPE_INDIVIDUAL_TOURISM,
        "entries": 1,
        "valid_days": 90,
        "stay_days": 7,
    }
    fields.update(overrides)
    return kiosk_pb2.IssueEndorsementRequest(**fields)


async def kiosk_counts(hall: Hall, kiosk: str) -> dict[str, int]:
    answer = await hall.ctl.request("kiosks", device=kiosk)
    counts: dict[str, int] = answer["kiosks"][0]["counts"]
    return counts


async def test_each_kind_issues_with_evidence_and_progress(hall: Hall) -> None:
    events = hall.devices.WatchEvents(device_service_pb2.WatchEventsRequest(request_id="e-1"))
    stream = aiter(events)
    resp = await hall.kiosks.IssueEndorsement(endorsement("e-1"), timeout=20)
    got = resp.issuance
    assert got.state == kiosk_pb2.ISSUANCE_STATE_DONE, got
    assert got.evidence.operation_serial and got.evidence.kiosk_time.seconds > 0
    assert got.device_id == ENDORSEMENT and got.command_id and got.attempts == 1
    stages = []
    async with asyncio.timeout(5):
        async for item in stream:
            if item.event.WhichOneof("payload") == "progress":
                stages.append(item.event.progress.stage)
            if item.event.WhichOneof("payload") == "finished":
                break
    events.cancel()
    assert "WRITING" in stages and "PRINTING" in stages, stages
    release = await hall.kiosks.ReleaseCertificate(
        kiosk_pb2.ReleaseCertificateRequest(
            device=by_device(COLLECTION), request_id="c-1", business_ref="app-c1", slot="A-01"
        ),
        timeout=20,
    )
    assert release.issuance.state == kiosk_pb2.ISSUANCE_STATE_DONE, release.issuance
    record = await hall.kiosks.PrintTravelRecord(
        kiosk_pb2.PrintTravelRecordRequest(
            device=by_device(RECORDS), request_id="r-1", business_ref="app-r1", record_ref="rec-9", copies=1
        ),
        timeout=20,
    )
    assert record.issuance.state == kiosk_pb2.ISSUANCE_STATE_DONE


async def test_a_retry_returns_the_same_outcome_and_never_issues_twice(hall: Hall) -> None:
    first = (await hall.kiosks.IssueEndorsement(endorsement("dup-1"), timeout=20)).issuance
    again = (await hall.kiosks.IssueEndorsement(endorsement("dup-1"), timeout=20)).issuance
    assert again.state == kiosk_pb2.ISSUANCE_STATE_DONE
    assert again.evidence.operation_serial == first.evidence.operation_serial
    assert again.command_id == first.command_id
    # Concurrent retries join the one call in flight.
    results = await asyncio.gather(*(hall.kiosks.IssueEndorsement(endorsement("dup-2"), timeout=20) for _ in range(5)))
    assert len({r.issuance.evidence.operation_serial for r in results}) == 1
    assert (await kiosk_counts(hall, ENDORSEMENT))["done"] == 2


async def test_reused_request_id_with_other_parameters_is_refused(hall: Hall) -> None:
    await hall.kiosks.IssueEndorsement(endorsement("reuse-1"), timeout=20)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.kiosks.IssueEndorsement(endorsement("reuse-1", valid_days=30), timeout=20)
    code, reason, meta = error_info(info.value)
    assert (code, reason) == (grpc.StatusCode.ALREADY_EXISTS, "REQUEST_ID_REUSED")
    assert "params" in meta["differs"]


@pytest.mark.parametrize(("rid", "ref"), [("visit,9", "app-1"), ("ok-1", "APP,2025(1)"), ("", "app-1"), ("a b", "x")])
async def test_ids_the_journal_cannot_keep_are_invalid_requests(hall: Hall, rid: str, ref: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.kiosks.IssueEndorsement(endorsement(rid, business_ref=ref), timeout=20)
    assert error_info(info.value)[:2] == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST")


@pytest.mark.parametrize(
    ("fault", "args", "reason"),
    [("paper_out", (), "paper_out"), ("jam", (), "jam"), ("card_removed", (), "card_removed")],
)
async def test_kiosk_faults_are_not_done_with_reason(
    hall: Hall, fault: str, args: tuple[str, ...], reason: str
) -> None:
    await hall.ctl.fault(ENDORSEMENT, fault, *args)
    got = (await hall.kiosks.IssueEndorsement(endorsement(f"f-{fault}"), timeout=20)).issuance
    assert got.state == kiosk_pb2.ISSUANCE_STATE_NOT_DONE, got
    assert got.reason == reason and got.action != 0
    # The same request id answers the same, even once the fault is cleared.
    await hall.ctl.fault(ENDORSEMENT, "clear")
    again = (await hall.kiosks.IssueEndorsement(endorsement(f"f-{fault}"), timeout=20)).issuance
    assert (again.state, again.reason) == (kiosk_pb2.ISSUANCE_STATE_NOT_DONE, reason)
    assert (await kiosk_counts(hall, ENDORSEMENT))["done"] == 0


async def test_offline_kiosk_is_not_done_at_once(hall: Hall) -> None:
    await hall.ctl.fault(RECORDS, "offline")
    await hall.wait_oper(RECORDS, device_pb2.OPER_STATE_OFFLINE, timeout=5)
    request = kiosk_pb2.PrintTravelRecordRequest(
        device=by_device(RECORDS), request_id="off-1", business_ref="app-off", record_ref="rec-1", copies=1
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.kiosks.PrintTravelRecord(request, timeout=20)
    assert error_info(info.value)[1] == "DEVICE_OFFLINE" and loop.time() - started < 1
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await hall.kiosks.GetIssuance(kiosk_pb2.GetIssuanceRequest(request_id="off-1"), timeout=5)
    assert error_info(missing.value)[1] == "UNKNOWN_REQUEST"  # nothing was journalled: nothing can be in doubt
    assert (await hall.device(RECORDS)).consumables["paper_pct"] >= 0  # its last report still describes it
    with pytest.raises(grpc.aio.AioRpcError) as away:
        await hall.kiosks.GetConsumables(kiosk_pb2.GetConsumablesRequest(device=by_device(RECORDS)), timeout=5)
    assert error_info(away.value)[1] == "DEVICE_OFFLINE"
    await hall.ctl.fault(RECORDS, "online")
    await hall.wait_oper(RECORDS, device_pb2.OPER_STATE_ONLINE, timeout=10)
    assert (await hall.kiosks.PrintTravelRecord(request, timeout=20)).issuance.state == kiosk_pb2.ISSUANCE_STATE_DONE


async def test_kiosk_drops_mid_command_and_the_outcome_is_recovered(hall: Hall) -> None:
    await hall.ctl.fault(ENDORSEMENT, "slow_ack", 0)
    await hall.ctl.fault(ENDORSEMENT, "offline", "mid")
    got = (await hall.kiosks.IssueEndorsement(endorsement("mid-1"), timeout=20)).issuance
    assert got.state in (kiosk_pb2.ISSUANCE_STATE_IN_DOUBT, kiosk_pb2.ISSUANCE_STATE_DONE), got
    await hall.ctl.fault(ENDORSEMENT, "online")
    await hall.wait_oper(ENDORSEMENT, device_pb2.OPER_STATE_ONLINE, timeout=10)
    async with asyncio.timeout(10):
        while True:
            entry = (
                await hall.kiosks.GetIssuance(kiosk_pb2.GetIssuanceRequest(request_id="mid-1"), timeout=5)
            ).issuance
            if entry.state == kiosk_pb2.ISSUANCE_STATE_DONE:
                break
            await asyncio.sleep(0.2)
    assert (await kiosk_counts(hall, ENDORSEMENT))["done"] == 1
    again = (await hall.kiosks.IssueEndorsement(endorsement("mid-1"), timeout=20)).issuance
    assert again.evidence.operation_serial == entry.evidence.operation_serial


async def test_daemon_killed_mid_command_resolves_on_restart(hall: Hall) -> None:
    await hall.ctl.fault(ENDORSEMENT, "slow_ack", 500)
    call = asyncio.ensure_future(hall.kiosks.IssueEndorsement(endorsement("kill-1"), timeout=20))
    await asyncio.sleep(0.3)  # journalled and sent; the kiosk has not acknowledged yet
    assert await hall.stop_daemon(signal.SIGKILL) == -signal.SIGKILL
    with pytest.raises((grpc.aio.AioRpcError, asyncio.CancelledError)):  # the channel closed with the daemon
        await call
    await hall.ctl.fault(ENDORSEMENT, "slow_ack", 0)
    await hall.start_daemon()
    await hall.wait_oper(ENDORSEMENT, device_pb2.OPER_STATE_ONLINE, timeout=15)
    entry = (await hall.kiosks.IssueEndorsement(endorsement("kill-1"), timeout=20)).issuance
    assert entry.state in (kiosk_pb2.ISSUANCE_STATE_DONE, kiosk_pb2.ISSUANCE_STATE_NOT_DONE), entry
    done = (await kiosk_counts(hall, ENDORSEMENT))["done"]
    assert done == (1 if entry.state == kiosk_pb2.ISSUANCE_STATE_DONE else 0)


async def test_the_journal_shows_a_call_in_flight_as_in_progress(hall: Hall) -> None:
    await hall.ctl.fault(ENDORSEMENT, "slow_ack", 800)
    call = asyncio.ensure_future(hall.kiosks.IssueEndorsement(endorsement("flight-1"), timeout=20))
    await asyncio.sleep(0.3)  # journalled and sent; the kiosk takes its time to acknowledge
    seen = (await hall.kiosks.GetIssuance(kiosk_pb2.GetIssuanceRequest(request_id="flight-1"), timeout=5)).issuance
    assert seen.state == kiosk_pb2.ISSUANCE_STATE_IN_PROGRESS, seen  # followed by its driver: not in doubt
    assert (await call).issuance.state == kiosk_pb2.ISSUANCE_STATE_DONE
    await hall.ctl.fault(ENDORSEMENT, "slow_ack", 0)
    final = (await hall.kiosks.GetIssuance(kiosk_pb2.GetIssuanceRequest(request_id="flight-1"), timeout=5)).issuance
    assert final.state == kiosk_pb2.ISSUANCE_STATE_DONE and final.evidence.operation_serial


async def test_duplicate_completions_are_harmless(hall: Hall) -> None:
    await hall.ctl.fault(ENDORSEMENT, "duplicate_delivery", "on")
    got = (await hall.kiosks.IssueEndorsement(endorsement("dd-1"), timeout=20)).issuance
    assert got.state == kiosk_pb2.ISSUANCE_STATE_DONE
    await asyncio.sleep(0.3)
    listing = await hall.kiosks.ListIssuances(kiosk_pb2.ListIssuancesRequest(include_final=True), timeout=5)
    assert [i.request_id for i in listing.issuances].count("dd-1") == 1
    assert "kiosk outcome not recorded" not in hall.logs()


async def test_consumables_in_the_device_model(hall: Hall) -> None:
    device = await hall.device(ENDORSEMENT)
    assert {"paper_pct", "ribbon_pct", "card_stock"} <= set(device.consumables), device.consumables
    assert device.identity["kiosk_kind"] == "endorsement"
    answer = await hall.kiosks.GetConsumables(kiosk_pb2.GetConsumablesRequest(device=by_device(COLLECTION)), timeout=5)
    assert answer.consumables["slots_total"] == 40 and answer.reported.seconds > 0
