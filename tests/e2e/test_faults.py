"""Behaviour under faults, each against the real daemon process and simulator."""

import asyncio
import time

import grpc
import pytest
from support.hall import Hall, by_device, error_info, read_request

from hallgw_api.v1 import device_pb2, device_service_pb2, idcard_pb2

ONLINE = device_pb2.OPER_STATE_ONLINE
OFFLINE = device_pb2.OPER_STATE_OFFLINE


@pytest.mark.parametrize("device_id", ["idr-01", "idr-05"], ids=["pty", "tcp"])
async def test_unplug_is_offline_fast_and_replug_recovers(hall: Hall, device_id: str) -> None:
    await hall.ctl.insert(device_id, "resident-1")
    before = await hall.device(device_id)
    await hall.ctl.fault(device_id, "unplug")
    took = await hall.wait_oper(device_id, OFFLINE, timeout=2)
    assert took < 1.0, f"offline after {took:.2f} s"
    started = time.monotonic()
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.idcard.ReadIdCard(read_request(by_device(device_id)), timeout=5)
    assert time.monotonic() - started < 0.3, "an offline reader must answer at once"
    code, reason, meta = error_info(info.value)
    assert (code, reason, meta["action"]) == (grpc.StatusCode.UNAVAILABLE, "DEVICE_OFFLINE", "ENGINEER")
    dev = await hall.device(device_id)
    assert dev.last_error.reason == "DEVICE_OFFLINE" and dev.last_error.message
    await hall.ctl.fault(device_id, "replug")
    took = await hall.wait_oper(device_id, ONLINE, timeout=3)
    assert took < 2.0, f"online again after {took:.2f} s"
    after = await hall.device(device_id)
    assert after.counters.reconnects == before.counters.reconnects + 1
    await hall.ctl.insert(device_id, "resident-1")
    resp = await hall.idcard.ReadIdCard(read_request(by_device(device_id)), timeout=5)
    assert resp.card.card_type == idcard_pb2.CARD_TYPE_RESIDENT_ID


async def test_card_removed_mid_read_then_reader_still_usable(hall: Hall) -> None:
    await hall.ctl.insert("idr-02", "resident-2")
    await hall.ctl.fault("idr-02", "remove_mid_read")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.idcard.ReadIdCard(read_request(by_device("idr-02")), timeout=5)
    code, reason, meta = error_info(info.value)
    assert (code, reason, meta["action"]) == (grpc.StatusCode.ABORTED, "CARD_READ_FAILED", "RETRY")
    dev = await hall.device("idr-02")
    assert dev.oper_state == ONLINE
    assert not dev.HasField("last_error")  # the applicant's doing, not the reader's fault
    await hall.ctl.insert("idr-02", "resident-2")
    resp = await hall.idcard.ReadIdCard(read_request(by_device("idr-02")), timeout=5)
    assert resp.card.resident_id.id_number


@pytest.mark.parametrize(("fault", "arg"), [("garbage", 64), ("corrupt", 1)])
async def test_garbage_on_the_line_is_survived_and_counted(hall: Hall, fault: str, arg: int) -> None:
    await hall.ctl.insert("idr-03", "fpr2017-1")
    before = (await hall.device("idr-03")).counters.link_errors
    await hall.ctl.fault("idr-03", fault, arg)
    resp = await hall.idcard.ReadIdCard(read_request(by_device("idr-03")), timeout=5)
    assert resp.card.card_type == idcard_pb2.CARD_TYPE_FOREIGN_PERMANENT_RESIDENT_2017
    after = await hall.device("idr-03")
    assert after.counters.link_errors > before
    assert after.oper_state == ONLINE


async def test_persistent_corruption_fails_cleanly(hall: Hall) -> None:
    await hall.ctl.insert("idr-03", "fpr2017-1")
    await hall.ctl.fault("idr-03", "corrupt", 20)
    events = hall.devices.WatchEvents(device_service_pb2.WatchEventsRequest(device_ids=["idr-03"]))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.idcard.ReadIdCard(read_request(by_device("idr-03")), timeout=8)
    assert error_info(info.value)[1] == "DEVICE_PROTOCOL_ERROR"
    assert (await hall.device("idr-03")).last_error.reason == "DEVICE_PROTOCOL_ERROR"
    # The new fault is published even though the reader stayed online, so monitoring sees it.
    async with asyncio.timeout(5):
        async for item in events:
            changed = item.event.state_changed.device
            if changed.last_error.reason == "DEVICE_PROTOCOL_ERROR":
                assert changed.oper_state in (ONLINE, device_pb2.OPER_STATE_BUSY)
                break
    events.cancel()


async def test_queue_bound_then_busy_at_once(hall: Hall) -> None:
    """One read runs, queue_limit (4) wait, the next is DEVICE_BUSY without waiting."""
    await hall.ctl.remove("idr-04")
    calls = [hall.idcard.ReadIdCard(read_request(by_device("idr-04"), f"q{i}", wait=1.0), timeout=10) for i in range(5)]
    pending = [asyncio.ensure_future(c) for c in calls]
    await asyncio.sleep(0.3)  # let the five reach the daemon; they wait for a card for 1 s each
    assert (await hall.device("idr-04")).counters.queue_depth == 4
    started = time.monotonic()
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.idcard.ReadIdCard(read_request(by_device("idr-04"), "q-extra"), timeout=5)
    assert time.monotonic() - started < 0.3
    code, reason, meta = error_info(info.value)
    assert (code, reason, meta["action"]) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "DEVICE_BUSY", "RETRY")
    await hall.ctl.insert("idr-04", "resident-1")
    results = await asyncio.gather(*pending, return_exceptions=True)
    assert all(not isinstance(r, BaseException) for r in results[1:]), results
    assert sum(isinstance(r, idcard_pb2.ReadIdCardResponse) for r in results) >= 4


async def test_cancelled_client_frees_the_reader(hall: Hall) -> None:
    await hall.ctl.remove("idr-01")
    call = hall.idcard.ReadIdCard(read_request(by_device("idr-01"), "gone", wait=30), timeout=60)
    fut = asyncio.ensure_future(call)
    await hall.wait_oper("idr-01", device_pb2.OPER_STATE_BUSY)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await fut
    took = await hall.wait_oper("idr-01", ONLINE, timeout=2)
    assert took < 1.0
    await hall.ctl.insert("idr-01", "resident-1")
    started = time.monotonic()
    resp = await hall.idcard.ReadIdCard(read_request(by_device("idr-01"), "next"), timeout=5)
    assert resp.card.resident_id.name
    assert time.monotonic() - started < 1.0


async def test_dead_reader_does_not_slow_the_others(hall: Hall) -> None:
    for dev in ("idr-01", "idr-02", "idr-03", "idr-04"):
        await hall.ctl.insert(dev, "resident-1")
    # Baseline: the four readers with the fifth healthy.
    started = time.monotonic()
    await asyncio.gather(*(hall.idcard.ReadIdCard(read_request(by_device(d)), timeout=5) for d in ("idr-01", "idr-02")))
    baseline = time.monotonic() - started
    await hall.ctl.fault("idr-05", "silence", "on")
    slow = asyncio.ensure_future(hall.idcard.ReadIdCard(read_request(by_device("idr-05"), wait=0.5), timeout=10))
    await asyncio.sleep(0.05)
    timings = []
    for _ in range(3):
        started = time.monotonic()
        results = await asyncio.gather(
            *(
                hall.idcard.ReadIdCard(read_request(by_device(d)), timeout=5)
                for d in ("idr-01", "idr-02", "idr-03", "idr-04")
            )
        )
        timings.append(time.monotonic() - started)
        assert all(r.card.resident_id.id_number for r in results)
    assert max(timings) < max(0.5, 5 * baseline), timings
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await slow
    assert error_info(info.value)[1] in {"DEVICE_TIMEOUT", "DEVICE_OFFLINE"}
    took = await hall.wait_oper("idr-05", OFFLINE, timeout=6)
    assert took < 6


async def test_sam_self_test_failure_shows_error_and_recovers(hall: Hall) -> None:
    await hall.ctl.fault("idr-02", "selftest_fail", "on")
    await hall.wait_oper("idr-02", device_pb2.OPER_STATE_ERROR, timeout=4)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.idcard.ReadIdCard(read_request(by_device("idr-02")), timeout=5)
    code, reason, meta = error_info(info.value)
    assert (code, reason) == (grpc.StatusCode.FAILED_PRECONDITION, "SAM_FAULT")
    assert meta["action"] == "RESET"
    await hall.ctl.fault("idr-02", "selftest_fail", "off")
    await hall.wait_oper("idr-02", ONLINE, timeout=4)


async def test_admin_state_blocks_calls_and_survives_restart(hall: Hall) -> None:
    ref = by_device("idr-03")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.devices.SetAdminState(
            device_service_pb2.SetAdminStateRequest(device=ref, admin_state=device_pb2.ADMIN_STATE_DISABLED), timeout=5
        )
    assert error_info(info.value)[1] == "INVALID_REQUEST"  # a reason is required
    resp = await hall.devices.SetAdminState(
        device_service_pb2.SetAdminStateRequest(
            device=ref, admin_state=device_pb2.ADMIN_STATE_DISABLED, reason="card slot jammed"
        ),
        timeout=5,
    )
    assert resp.device.admin_state == device_pb2.ADMIN_STATE_DISABLED
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await hall.idcard.ReadIdCard(read_request(ref), timeout=5)
    code, reason, meta = error_info(info.value)
    assert (code, reason, meta["action"]) == (grpc.StatusCode.FAILED_PRECONDITION, "DEVICE_DISABLED", "STAFF")
    assert "card slot jammed" in (info.value.details() or "")
    assert await hall.stop_daemon() == 0
    await hall.start_daemon()
    dev = await hall.device("idr-03")
    assert dev.admin_state == device_pb2.ADMIN_STATE_DISABLED and dev.admin_reason == "card slot jammed"
    resp = await hall.devices.SetAdminState(
        device_service_pb2.SetAdminStateRequest(device=ref, admin_state=device_pb2.ADMIN_STATE_ENABLED), timeout=5
    )
    assert resp.device.admin_state == device_pb2.ADMIN_STATE_ENABLED
