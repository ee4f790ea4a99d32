"""The virtual hall and its JSON-lines control protocol, over a real TCP socket."""

from __future__ import annotations

import asyncio
import json
import os
import tomllib
import tty
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hallgw_protocols import NEED_DATA, Role
from hallgw_protocols.fingerprint.as608 import (
    Acknowledgement,
    AnyAcknowledgement,
    As608Connection,
    Confirmation,
    GetImage,
    ImageToChar,
    SystemParametersReport,
    TypedCommand,
)
from hallgw_protocols.idcard_sam import CommandCode, Status
from hallgw_simulators.control import ControlClient, ControlError
from hallgw_simulators.hall import VirtualHall
from hallgw_simulators.hostside import SamHost
from hallgw_simulators.scenario import Scenario, parse_scenario

SCENARIO = {
    "hall": {"name": "test-hall", "seed": 3, "baud": 0},
    "stations": [
        {"id": "window-01", "kind": "window", "name": "Window 1"},
        {"id": "desk-01", "kind": "desk", "name": "Desk 1"},
        {"id": "area24-01", "kind": "area24"},
    ],
    "devices": [
        {"id": "idr-01", "kind": "idcard_reader", "station": "window-01", "transport": "pty", "card": "resident-1"},
        {"id": "idr-02", "kind": "idcard_reader", "station": "desk-01", "transport": "pty"},
        {"id": "idr-03", "kind": "idcard_reader", "station": "area24-01", "transport": "tcp", "card": "hmt-1"},
    ],
}


@pytest.fixture
def scenario() -> Scenario:
    return parse_scenario(SCENARIO)


@pytest.fixture
async def hall(tmp_path: Path, scenario: Scenario) -> AsyncIterator[VirtualHall]:
    async with VirtualHall(scenario, state_dir=tmp_path / "state") as running:
        yield running


@pytest.fixture
async def client(hall: VirtualHall) -> AsyncIterator[ControlClient]:
    async with await ControlClient.connect(*hall.control_address) as control:
        yield control


def _exists(path: Path | str) -> bool:
    return os.path.lexists(path)


async def test_list_describes_every_device(hall: VirtualHall, client: ControlClient) -> None:
    devices = {d["id"]: d for d in await client.list_devices()}
    assert list(devices) == ["idr-01", "idr-02", "idr-03"]
    assert devices["idr-01"]["path"] == str(hall.state_dir / "idr-01.tty")
    assert devices["idr-01"]["link"] == f"serial://{hall.state_dir}/idr-01.tty?baud=115200"
    assert devices["idr-01"]["card"] == "resident-1"
    assert devices["idr-02"]["card"] is None
    assert devices["idr-03"]["link"] == f"tcp://127.0.0.1:{devices['idr-03']['port']}"
    assert all(d["plugged"] for d in devices.values())
    assert devices["idr-01"]["faults"] == {
        "remove_mid_read": False,
        "no_card": False,
        "selftest_fail": False,
        "silence": False,
        "corrupt": 0,
        "garbage": 0,
        "delay_ms": 0,
    }


async def test_cards_and_list_carry_no_personal_data(hall: VirtualHall, client: ControlClient) -> None:
    cards = await client.cards()
    assert {c["id"] for c in cards} == set(hall.deck)
    assert all(set(c) == {"id", "layout"} for c in cards)
    everything = json.dumps(cards, ensure_ascii=False) + json.dumps(await client.list_devices(), ensure_ascii=False)
    assert not [value for value in hall.deck.sensitive_values() if value in everything]


async def test_insert_and_remove_reach_the_wire(hall: VirtualHall, client: ControlClient) -> None:
    answer = await client.insert("idr-02", "fpr2023-1")
    assert answer["device"]["card"] == "fpr2023-1"
    host = await SamHost.open_pty(hall.state_dir / "idr-02.tty")
    try:
        text, _, _ = await host.read_card()
        assert text == hall.deck["fpr2023-1"].text
        await client.remove("idr-02")
        assert (await host.command(CommandCode.FIND_CARD)).sw3 == Status.FIND_CARD_FAILED
    finally:
        host.close()


async def test_faults_through_the_control_port(hall: VirtualHall, client: ControlClient) -> None:
    port = (await client.list_devices())[2]["port"]
    host = await SamHost.open_tcp(port)
    try:
        answer = await client.fault("idr-03", "selftest_fail", "on")
        assert answer["device"]["faults"]["selftest_fail"] is True
        assert (await host.command(CommandCode.SAM_STATUS)).sw3 == Status.SELF_TEST_FAILED
        await client.fault("idr-03", "clear")
        await client.fault("idr-03", "delay", 0)
        assert (await host.command(CommandCode.SAM_STATUS)).sw3 == Status.OK
    finally:
        host.close()


async def test_unplug_and_replug_through_the_control_port(hall: VirtualHall, client: ControlClient) -> None:
    path = hall.state_dir / "idr-01.tty"
    answer = await client.fault("idr-01", "unplug")
    assert answer["device"]["plugged"] is False
    assert not _exists(path)
    answer = await client.fault("idr-01", "replug")
    assert answer["device"]["plugged"] is True
    host = await SamHost.open_pty(path)
    try:
        text, _, _ = await host.read_card()
        assert text == hall.deck["resident-1"].text
    finally:
        host.close()


@pytest.mark.parametrize(
    ("request_", "error"),
    [
        ({"op": "dance"}, "unknown op 'dance'"),
        ({}, "unknown op None"),
        ({"op": "insert", "device": "idr-99", "card": "resident-1"}, "unknown device 'idr-99'"),
        ({"op": "insert", "device": "idr-01", "card": "nobody"}, "unknown card 'nobody'"),
        ({"op": "insert", "device": "idr-01"}, "needs a card id"),
        ({"op": "remove"}, "needs a device id"),
        ({"op": "remove", "device": "idr-01", "card": "x"}, "unknown field(s) for remove: card"),
        ({"op": "fault", "device": "idr-01", "fault": "explode"}, "unknown fault 'explode'"),
        ({"op": "fault", "device": "idr-01", "fault": "corrupt", "args": ["many"]}, "corrupt takes a number"),
        ({"op": "fault", "device": "idr-01", "fault": "silence", "args": "on"}, "'args' is a list"),
        ({"op": "fault", "device": "idr-01"}, "needs the fault name"),
    ],
)
async def test_bad_requests_get_an_error_answer(client: ControlClient, request_: dict[str, object], error: str) -> None:
    answer = await client.call(request_)
    assert answer["ok"] is False
    assert error in answer["error"]
    assert (await client.call({"op": "cards"}))["ok"] is True  # the connection survives


async def test_malformed_lines_and_the_raising_client(hall: VirtualHall) -> None:
    reader, writer = await asyncio.open_connection(*hall.control_address)
    try:
        writer.write(b"this is not json\n[1, 2]\n\n" + json.dumps({"op": "list"}).encode() + b"\n")
        await writer.drain()
        async with asyncio.timeout(3):
            answers = [json.loads(await reader.readline()) for _ in range(3)]
    finally:
        writer.close()
    assert answers[0]["ok"] is False
    assert "not a JSON line" in answers[0]["error"]
    assert answers[1] == {"ok": False, "error": "a request is a JSON object"}
    assert answers[2]["ok"] is True
    async with await ControlClient.connect(*hall.control_address) as client:
        with pytest.raises(ControlError, match="unknown device"):
            await client.remove("idr-42")


async def test_stopping_the_hall_removes_every_symlink(tmp_path: Path, scenario: Scenario) -> None:
    hall = VirtualHall(scenario, state_dir=tmp_path / "s", seed=99)
    async with hall:
        links = [hall.state_dir / "idr-01.tty", hall.state_dir / "idr-02.tty"]
        assert all(link.is_symlink() for link in links)
        assert hall.ready_info()["seed"] == 99
    assert not [link for link in links if _exists(link)]
    with pytest.raises(ConnectionRefusedError):
        await ControlClient.connect(*hall.control_address)


FINGERPRINT_SCENARIO = {
    "hall": {"name": "fp-hall", "seed": 5},
    "stations": [
        {"id": "window-01", "kind": "window", "name": "Window 1"},
        {"id": "window-02", "kind": "window", "name": "Window 2"},
    ],
    "devices": [
        {"id": "fp-01", "kind": "fingerprint_scanner", "station": "window-01", "transport": "pty", "baud": 0},
        {"id": "fp-02", "kind": "fingerprint_scanner", "station": "window-02", "transport": "usbip"},
    ],
}


async def _as608_over_pty(path: Path, command: TypedCommand) -> AnyAcknowledgement:
    """One AS608 exchange over a pty, with the codec in the host role."""
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        tty.setraw(fd)
        codec = As608Connection(Role.HOST)
        os.write(fd, codec.send(command))
        async with asyncio.timeout(5.0):
            while (event := codec.next_event()) is NEED_DATA:
                try:
                    codec.receive_data(os.read(fd, 4096))
                except BlockingIOError:
                    await asyncio.sleep(0.005)
    finally:
        os.close(fd)
    assert isinstance(event, (Acknowledgement, SystemParametersReport))
    return event


async def test_fingerprint_scanners_on_a_pty_and_on_usbip(tmp_path: Path) -> None:
    hall = VirtualHall(parse_scenario(FINGERPRINT_SCENARIO), state_dir=tmp_path / "fp")
    async with hall, await ControlClient.connect(*hall.control_address) as client:
        assert hall.usbip is not None
        info = hall.ready_info()
        assert info["usbip"] == {"host": "127.0.0.1", "port": hall.usbip.port}
        where = {d["id"]: d for d in info["devices"]}
        assert where["fp-01"]["link"] == f"serial://{hall.state_dir}/fp-01.tty?baud=57600"
        assert (where["fp-02"]["transport"], where["fp-02"]["busid"]) == ("usbip", "1-1")
        assert where["fp-02"]["link"] == f"usbip://127.0.0.1:{hall.usbip.port}?vid=2109&pid=7638&serial=FP-FP-02"
        config = tomllib.loads(hall.daemon_config())
        assert {d["id"]: (d["kind"], d["link"]) for d in config["devices"]} == {
            "fp-01": ("fingerprint_scanner", where["fp-01"]["link"]),
            "fp-02": ("fingerprint_scanner", where["fp-02"]["link"]),
        }

        devices = {d["id"]: d for d in await client.list_devices()}
        assert devices["fp-01"]["baud"] == 0 and devices["fp-01"]["finger"] is None
        assert devices["fp-02"]["plugged"] and devices["fp-02"]["serial"] == "FP-FP-02"

        path = hall.state_dir / "fp-01.tty"
        assert (await _as608_over_pty(path, GetImage())).confirmation == Confirmation.NO_FINGER
        answer = await client.finger("fp-01", "alice/right-index", "light", 0.7)
        assert answer["device"]["finger"] == {"id": "alice/right-index", "contact": "light", "coverage": 0.7}
        assert (await _as608_over_pty(path, GetImage())).confirmation == Confirmation.OK
        assert (await _as608_over_pty(path, ImageToChar(buffer_id=1))).confirmation == Confirmation.TOO_FEW_FEATURES

        answer = await client.touch("fp-02", "bob/left-index", after_ms=0, hold_ms=60_000)
        assert answer["device"]["finger"]["id"] == "bob/left-index"
        assert answer["device"]["touch"] == {"id": "bob/left-index", "contact": "good", "coverage": 1.0}
        answer = await client.fault("fp-02", "unplug")
        assert answer["device"]["plugged"] is False and answer["device"]["busid"] is None
        answer = await client.fault("fp-02", "replug")
        assert answer["device"]["busid"] == "1-2"
        with pytest.raises(ControlError, match="unknown fault 'corrupt'"):
            await client.fault("fp-02", "corrupt", 1)
        port = hall.usbip.port
    # The USB/IP server stops with the hall.
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection("127.0.0.1", port)
    assert not _exists(hall.state_dir / "fp-01.tty")
