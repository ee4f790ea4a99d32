"""Kiosks in scenarios, in the virtual hall and in fleets of hundreds."""

from __future__ import annotations

import re
import time
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from support.broker import Broker, collect, mosquitto_broker

from hallgw_protocols.kiosk import Online, parse_status
from hallgw_simulators.control import ControlClient
from hallgw_simulators.hall import VirtualHall
from hallgw_simulators.kiosk_device import KioskDevice, KioskTiming
from hallgw_simulators.kiosk_fleet import FleetError, KioskFleet
from hallgw_simulators.scenario import ScenarioError, load_scenario, parse_scenario

pytestmark = pytest.mark.timeout(90)
KIOSK_HALL = Path(__file__).parents[1] / "support" / "scenarios" / "kiosks.toml"


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[Broker]:
    async with mosquitto_broker(tmp_path / "broker") as running:
        yield running


def _scenario(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "hall": {"name": "h-1"},
        "stations": [{"id": "area24-01", "kind": "area24"}, {"id": "area24-02", "kind": "area24"}],
        "devices": [
            {"id": "k-1", "kind": "kiosk", "station": "area24-01", "transport": "mqtt", "kiosk_kind": "collection"}
        ],
    }
    data.update(extra)
    return data


def test_kiosk_groups_expand_to_numbered_kiosks() -> None:
    scenario = parse_scenario(
        _scenario(
            kiosk_groups=[
                {"station": "area24-01", "kind": "endorsement", "count": 3, "prefix": "kiosk-a1-e"},
                {
                    "station": "area24-02",
                    "kind": "collection",
                    "count": 2,
                    "prefix": "kiosk-a2-c",
                    "first": 9,
                    "slots": 8,
                },
            ],
            kiosks={"heartbeat_interval": 2, "step_delay": 0.5},
        )
    )
    kiosks = {k.id: (k.station, k.kiosk_kind, k.slots) for k in scenario.kiosks}
    assert kiosks == {
        "k-1": ("area24-01", "collection", None),
        "kiosk-a1-e-001": ("area24-01", "endorsement", None),
        "kiosk-a1-e-002": ("area24-01", "endorsement", None),
        "kiosk-a1-e-003": ("area24-01", "endorsement", None),
        "kiosk-a2-c-009": ("area24-02", "collection", 8),
        "kiosk-a2-c-010": ("area24-02", "collection", 8),
    }
    assert (scenario.kiosk_timing.heartbeat_interval, scenario.kiosk_timing.step_delay) == (2, 0.5)
    assert scenario.hall.broker is None


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (
            {"devices": [{"id": "k-1", "kind": "kiosk", "station": "area24-01", "transport": "mqtt"}]},
            "devices[0].kiosk_kind",
        ),
        (
            {
                "devices": [
                    {
                        "id": "k-1",
                        "kind": "kiosk",
                        "station": "area24-01",
                        "transport": "tcp",
                        "kiosk_kind": "collection",
                    }
                ]
            },
            "devices[0].transport",
        ),
        (
            {
                "devices": [
                    {"id": "k-1", "kind": "kiosk", "station": "area24-01", "transport": "mqtt", "kiosk_kind": "atm"}
                ]
            },
            "devices[0].kiosk_kind",
        ),
        (
            {
                "devices": [
                    {
                        "id": "k-1",
                        "kind": "kiosk",
                        "station": "area24-01",
                        "transport": "mqtt",
                        "kiosk_kind": "endorsement",
                        "slots": 3,
                    }
                ]
            },
            "devices[0].slots",
        ),
        (
            {"kiosk_groups": [{"station": "area24-09", "kind": "endorsement", "count": 1, "prefix": "p"}]},
            "kiosk_groups[0].station",
        ),
        ({"kiosk_groups": [{"station": "area24-01", "kind": "endorsement", "prefix": "p"}]}, "kiosk_groups[0].count"),
        (
            {
                "kiosk_groups": [
                    {"station": "area24-01", "kind": "endorsement", "count": 1, "prefix": "k", "first": 1},
                    {"station": "area24-01", "kind": "endorsement", "count": 1, "prefix": "k"},
                ]
            },
            "kiosk_groups[1].prefix",
        ),
        (
            {
                "kiosk_groups": [
                    {"station": "area24-01", "kind": "endorsement", "count": 1, "prefix": "p", "colour": "red"}
                ]
            },
            "kiosk_groups[0].colour",
        ),
        ({"hall": {"name": "h-1", "broker": "tcp://127.0.0.1:1"}}, "hall.broker"),
        ({"kiosks": {"heartbeat_interval": 0}}, "kiosks.heartbeat_interval"),
        ({"kiosks": {"step_delay": "fast"}}, "kiosks.step_delay"),
    ],
)
def test_bad_kiosk_entries_name_the_key(change: dict[str, Any], where: str) -> None:
    with pytest.raises(ScenarioError, match="^<scenario>: " + re.escape(where) + ": "):
        parse_scenario(_scenario(**change))


def test_a_hall_with_kiosks_needs_a_broker(tmp_path: Path) -> None:
    scenario = load_scenario(KIOSK_HALL)
    with pytest.raises(ScenarioError, match="6 kiosks and no MQTT broker"):
        VirtualHall(scenario, state_dir=tmp_path)


async def test_the_kiosk_hall_runs_writes_its_config_and_takes_kiosk_faults(tmp_path: Path, broker: Broker) -> None:
    scenario = load_scenario(KIOSK_HALL)
    async with VirtualHall(scenario, state_dir=tmp_path / "state", broker=broker.url) as hall:
        config = tomllib.loads(hall.daemon_config())
        assert config["kiosks"] == {"broker": broker.url}
        assert [(d["id"], d["kind"], d["station"], d["link"]) for d in config["devices"]] == [
            (k.id, "kiosk", k.station, f"kiosk://{k.id}") for k in scenario.kiosks
        ]
        assert config["devices"][0]["name"] == "Endorsement kiosk 1"
        ready = hall.ready_info()
        assert ready["broker"] == broker.url
        assert [k["id"] for k in ready["kiosks"]] == [k.id for k in scenario.kiosks]
        assert ready["kiosks"][1]["topic_base"] == "hallgw/kiosk/v1/kiosk-hall/kiosk-002"
        host, port = hall.control_address
        async with await ControlClient.connect(host, port) as control:
            answer = await control.kiosks(station="area24-02")
            assert [k["id"] for k in answer["kiosks"]] == ["kiosk-a2-e-001", "kiosk-a2-c-001", "kiosk-a2-q-001"]
            assert answer["by_kind"] == {"collection": 2, "endorsement": 2, "record_query": 2}
            assert answer["connected"] == 6
            assert answer["kiosks"][1]["slots"]["total"] == 40
            door = await control.fault("kiosk-002", "door", "open")
            assert door["device"]["door"] == "open"
            bad = await control.call({"op": "fault", "device": "kiosk-002", "fault": "card_removed", "args": []})
            assert not bad["ok"] and "only an endorsement kiosk" in bad["error"]
            await control.fault("kiosk-003", "offline")
            wills = await collect(
                broker.url,
                "hallgw/kiosk/v1/kiosk-hall/kiosk-003/status",
                until=lambda ms: any(parse_status(m.payload).status is Online.OFFLINE for m in ms),
                timeout=5,
            )
            assert parse_status(wills[-1].payload).reason == "connection lost"
            unknown = await control.call({"op": "fault", "device": "kiosk-999", "fault": "jam"})
            assert not unknown["ok"] and "6 kiosks" in unknown["error"]
    # A clean stop: every kiosk's retained status says shutdown (kiosk-003 was already away).
    statuses = await collect(
        broker.url, "hallgw/kiosk/v1/kiosk-hall/+/status", until=lambda ms: len(ms) >= 6, timeout=5
    )
    reasons = {m.topic.split("/")[4]: parse_status(m.payload).reason for m in statuses}
    assert reasons == {k.id: "connection lost" if k.id == "kiosk-003" else "shutdown" for k in scenario.kiosks}


async def test_a_fleet_of_200_kiosks_starts_and_stops_in_seconds(tmp_path: Path, broker: Broker) -> None:
    kiosks = [
        KioskDevice(
            kiosk_id=f"kiosk-{n:03d}",
            kiosk_kind=("endorsement", "collection", "record_query")[n % 3],
            hall="big-hall",
            broker_host=broker.host,
            broker_port=broker.port,
            state_dir=tmp_path / "kiosks",
            seed=1,
            timing=KioskTiming(heartbeat_interval=5),
        )
        for n in range(200)
    ]
    fleet = KioskFleet(kiosks, concurrency=32)
    started = time.monotonic()
    await fleet.start()
    try:
        assert time.monotonic() - started < 20
        summary = fleet.summary()
        assert (summary["total"], summary["connected"]) == (200, 200)
        assert summary["by_kind"] == {"collection": 67, "endorsement": 67, "record_query": 66}
        retained = await collect(
            broker.url, "hallgw/kiosk/v1/big-hall/+/state", until=lambda ms: len(ms) >= 200, timeout=10
        )
        assert len({m.topic for m in retained}) == 200
    finally:
        stopping = time.monotonic()
        await fleet.stop()
    assert time.monotonic() - stopping < 20
    assert not any(k.connected for k in kiosks)


async def test_a_fleet_reports_an_unreachable_broker(tmp_path: Path) -> None:
    kiosk = KioskDevice(
        kiosk_id="k-1", kiosk_kind="endorsement", hall="h", broker_host="127.0.0.1", broker_port=1, state_dir=tmp_path
    )
    with pytest.raises(FleetError, match=r"cannot reach the MQTT broker at mqtt://127.0.0.1:1"):
        await KioskFleet([kiosk]).start()
