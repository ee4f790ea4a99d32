"""Frame traces are decoded and masked; personal data reaches only the authorised caller."""

import asyncio
import signal
import subprocess
from pathlib import Path

import grpc
import pytest
from support.hall import BIN, Hall, by_device, error_info, read_request

from hallgw_api.v1 import device_service_pb2
from hallgw_simulators.deck import Deck


async def test_trace_shows_the_exchange_with_the_card_masked(hall: Hall, deck: Deck) -> None:
    await hall.ctl.insert("idr-01", "resident-1")
    trace = hall.devices.TraceFrames(device_service_pb2.TraceFramesRequest(device=by_device("idr-01")))
    await asyncio.sleep(0.2)  # the tap is installed when the stream starts
    read = asyncio.ensure_future(hall.idcard.ReadIdCard(read_request(by_device("idr-01")), timeout=5))
    frames = []
    async with asyncio.timeout(5):
        async for frame in trace:
            frames.append(frame)
            if "READ_TEXT_PHOTO:" in frame.summary:
                break
    trace.cancel()
    await read
    summaries = [f.summary for f in frames if f.summary]
    sent = [f.summary for f in frames if f.direction == device_service_pb2.FRAME_DIRECTION_TO_DEVICE]
    assert sent[-3:] == ["FIND_CARD", "SELECT_CARD", "READ_TEXT_PHOTO"]
    assert frames[0].data[:5] == bytes.fromhex("AAAAAA9669")
    last = frames[-1]
    assert last.masked and last.length == 1295 and len(last.data) == 1295
    assert last.data[10:14] == bytes.fromhex("01000400")  # the length words stay readable
    assert set(last.data[14:]) == {0}
    card = deck["resident-1"].text
    for f in frames:
        for value in (card.name, card.id_number):  # type: ignore[union-attr]
            assert value.encode("utf-16-le") not in f.data
    assert any("status 9F" in s for s in summaries)


async def test_watch_rejects_unknown_devices(hall: Hall) -> None:
    call = hall.devices.WatchEvents(device_service_pb2.WatchEventsRequest(device_ids=["nope"]))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        async for _ in call:
            pass
    assert error_info(info.value)[1] == "UNKNOWN_DEVICE"


async def test_sigterm_stops_gracefully_and_sigkill_leaves_simulator_reusable(hall: Hall) -> None:
    assert await hall.stop_daemon(signal.SIGKILL) == -signal.SIGKILL
    await hall.start_daemon()  # the simulator's ptys accept a new daemon
    await hall.wait_all_online()
    assert await hall.stop_daemon(signal.SIGTERM) == 0
    assert "gateway stopped" in hall.gw_log.read_text()


def test_bad_config_stops_start_up_with_the_key_path(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text(
        '[gateway]\nhall = "h"\nid = "g"\n[[devices]]\nid = "d1"\nkind = "idcard_reader"\nlink = "serial:///x?baud=7"\n'
    )
    proc = subprocess.run([BIN / "hallgwd", "--config", cfg], capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 2
    assert f"{cfg}: devices[0].link: Value error" in proc.stderr and "baud must be one of" in proc.stderr
    ok = subprocess.run([BIN / "hallgwd", "--config", Path(__file__).parents[2] / "systemd" / "hallgw.example.toml",
                         "--check-config"], capture_output=True, text=True, timeout=30, check=False)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
