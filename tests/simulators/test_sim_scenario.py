"""Scenario validation (errors name the key path) and the daemon config hallsim writes."""

from __future__ import annotations

import copy
import dataclasses
import tomllib
from pathlib import Path
from typing import Any

import pytest

from hallgw_daemon.config import Config, parse_config
from hallgw_simulators.daemon_config import SUPERVISION, render_daemon_config, toml_string
from hallgw_simulators.scenario import ScenarioError, load_demo_scenario, load_scenario, parse_scenario

BASE: dict[str, Any] = {
    "hall": {"name": "h", "seed": 1},
    "stations": [{"id": "window-01", "kind": "window", "name": "Window 1"}],
    "devices": [{"id": "idr-01", "kind": "idcard_reader", "station": "window-01", "transport": "pty"}],
}


def _with(path: str, value: object) -> dict[str, Any]:
    """BASE with one key set, e.g. ``devices.0.transport``."""
    data = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[int(last) if last.isdigit() else last] = value
    return data


def test_demo_scenario_has_the_promised_hall() -> None:
    demo = load_demo_scenario()
    assert demo.hall.name == "demo-hall"
    windows = [s.id for s in demo.stations if s.kind == "window"]
    assert windows == ["window-01", "window-02", "window-03", "window-04"]
    readers = {d.id: d for d in demo.devices if d.kind == "idcard_reader"}
    for n in range(1, 5):
        reader = readers[f"idr-0{n}"]
        assert (reader.station, reader.transport) == (f"window-0{n}", "pty")
        assert (reader.baud or demo.hall.baud) == 115200
    assert [d.id for d in demo.devices if d.transport == "tcp"]
    assert [d.id for d in demo.devices if d.card]
    scanners = {
        d.id: (d.station, d.transport, d.baud)
        for d in demo.devices
        if d.kind == "fingerprint_scanner" and d.station.startswith("window")
    }
    assert scanners == {
        "fp-01": ("window-01", "pty", None),
        "fp-02": ("window-02", "pty", None),
        "fp-03": ("window-03", "usbip", None),
        "fp-04": ("window-04", "usbip", None),
    }
    booths = [s.id for s in demo.stations if s.kind == "booth"]
    assert booths == ["booth-01", "booth-02"]
    cameras = {d.id: (d.station, d.transport) for d in demo.devices if d.kind == "camera"}
    desks = [s.id for s in demo.stations if s.kind == "desk"]
    assert {station for station, _ in cameras.values()} == {*windows, *booths, *desks}
    assert {transport for _, transport in cameras.values()} == {"http", "file"}
    assert {d.station for d in demo.devices if d.kind == "lighting"} == set(booths)
    assert desks == ["desk-01", "desk-02", "desk-03", "desk-04"]
    every_role = {
        "idcard_reader", "camera", "fingerprint_scanner", "document_camera", "payment_scanner", "ticket_printer",
        "form_printer",
    }  # fmt: skip
    for desk in desks:
        assert {d.kind for d in demo.devices if d.station == desk} == every_role, desk
    assert {d.queue for d in demo.devices if d.kind == "form_printer"} == {f"hallgw_demo_desk0{n}" for n in range(1, 5)}


def test_fingerprint_scanners_take_serial_or_usbip_transports() -> None:
    data = copy.deepcopy(BASE)
    data["devices"] = [
        {"id": "fp-01", "kind": "fingerprint_scanner", "station": "window-01", "transport": "usbip"},
    ]
    assert parse_scenario(data).devices[0].transport == "usbip"
    for transport in ("pty", "tcp"):
        data["devices"][0]["transport"] = transport
        assert parse_scenario(data).devices[0].transport == transport
    data["devices"][0]["transport"] = "vpcd"
    with pytest.raises(ScenarioError, match=r"transport: a fingerprint_scanner takes transport pty or tcp or usbip"):
        parse_scenario(data)
    data["devices"][0].update(transport="usbip", baud=57600)
    with pytest.raises(ScenarioError, match=r"devices\[0\]\.baud: only a pty or tcp device has a line rate"):
        parse_scenario(data)
    data["devices"][0] = {"id": "idr-01", "kind": "idcard_reader", "station": "window-01", "transport": "usbip"}
    with pytest.raises(
        ScenarioError, match=r"an idcard_reader takes transport pty or tcp, not 'usbip'|a idcard_reader"
    ):
        parse_scenario(data)


def test_defaults() -> None:
    scenario = parse_scenario(BASE)
    assert (scenario.hall.baud, scenario.hall.gateway, scenario.hall.control_port) == (115200, "gw-01", 0)
    assert scenario.devices[0].baud is None
    assert scenario.devices[0].card is None


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        (_with("colour", "red"), "colour", "unknown key"),
        (_with("hall.nmae", "x"), "hall.nmae", "unknown key"),
        (_with("devices.0.bauds", 9600), "devices[0].bauds", "unknown key"),
        (_with("stations.0.floor", 2), "stations[0].floor", "unknown key"),
        ({k: v for k, v in BASE.items() if k != "hall"}, "hall", "is required"),
        (_with("hall.seed", "7"), "hall.seed", "expected an integer, got a string"),
        (_with("hall.seed", True), "hall.seed", "expected an integer, got a boolean"),
        (_with("hall.name", "Demo Hall"), "hall.name", "lower-case"),
        (_with("hall.baud", 12345), "hall.baud", "expected 0 (unpaced) or one of"),
        (_with("hall.control_port", 70000), "hall.control_port", "expected 0..65535"),
        (_with("stations.0.kind", "lobby"), "stations[0].kind", "expected one of 'window'"),
        (_with("devices.0.transport", "usb"), "devices[0].transport", "expected one of 'pty', 'tcp', 'vpcd', 'usbip'"),
        (_with("devices.0.station", "window-09"), "devices[0].station", "no station with id 'window-09'"),
        (_with("devices.0.card", "nobody-1"), "devices[0].card", "no card 'nobody-1' in the deck"),
        (_with("devices.0.port", 7001), "devices[0].port", "only a tcp device has a port"),
        (_with("devices.0.kind", "printer"), "devices[0].kind", "expected one of 'idcard_reader'"),
        (_with("devices.0", "idr-01"), "devices[0]", "expected a table, got a string"),
        (_with("devices", {"id": "x"}), "devices", "expected an array of tables"),
        (_with("devices.0.id", ""), "devices[0].id", "lower-case"),
    ],
)
def test_errors_name_the_key_path(data: dict[str, Any], path: str, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(data, source="hall.toml")
    assert caught.value.path == path
    assert message in caught.value.message
    assert str(caught.value).startswith(f"hall.toml: {path}: ")


def test_duplicates_are_errors() -> None:
    data = copy.deepcopy(BASE)
    data["devices"].append(dict(data["devices"][0]))
    with pytest.raises(ScenarioError, match=r"devices\[1\]\.id: duplicate device id 'idr-01'"):
        parse_scenario(data)
    data["devices"][1]["id"] = "idr-02"
    with pytest.raises(ScenarioError, match=r"devices\[1\]\.station: .* already has a idcard_reader device"):
        parse_scenario(data)
    data = copy.deepcopy(BASE)
    data["stations"].append(dict(data["stations"][0]))
    with pytest.raises(ScenarioError, match=r"stations\[1\]\.id: duplicate station id"):
        parse_scenario(data)


def test_load_scenario_reports_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[hall\nname = 1\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"bad\.toml: not valid TOML"):
        load_scenario(bad)
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "missing.toml")


def test_daemon_config_has_exactly_the_schema(tmp_path: Path) -> None:
    scenario = load_demo_scenario()
    links = {d.id: f"tcp://127.0.0.1:{7000 + i}" for i, d in enumerate(scenario.devices)}
    links["idr-01"] = f"serial://{tmp_path}/idr-01.tty?baud=115200"
    links["fp-01"] = f"serial://{tmp_path}/fp-01.tty?baud=57600"
    for device in scenario.devices:
        if device.transport == "vpcd":
            links[device.id] = f"pcsc://Virtual PCD 00 0{device.slot}"
        if device.transport == "usbip":
            links[device.id] = f"usbip://127.0.0.1:3240?vid=2109&pid=7638&serial=FP-{device.id.upper()}"
        if device.transport == "http":
            links[device.id] = f"http://127.0.0.1:{7000 + len(links)}/video.mjpg"
        if device.transport == "file":
            links[device.id] = f"camera://{tmp_path}/cameras/{device.id}.avi?loop=1"
        if device.transport == "ipp":
            links[device.id] = f"ipp://127.0.0.1:18631/printers/{device.queue}"
    for kiosk in scenario.kiosks:
        links[kiosk.id] = f"kiosk://{kiosk.id}"
    text = render_daemon_config(
        scenario, links=links, state_dir=tmp_path, api_listen="127.0.0.1:50999", kiosk_broker="mqtt://127.0.0.1:18830"
    )
    data = tomllib.loads(text)
    assert set(data) == {"gateway", "api", "logging", "supervision", "kiosks", "stations", "devices"}
    assert data["kiosks"] == {"broker": "mqtt://127.0.0.1:18830"}
    kiosk = next(d for d in data["devices"] if d["id"] == "kiosk-a2-q-003")
    assert kiosk == {
        "id": "kiosk-a2-q-003",
        "kind": "kiosk",
        "station": "area24-02",
        "name": "record query kiosk kiosk-a2-q-003, 24-hour area 2",
        "link": "kiosk://kiosk-a2-q-003",
    }
    assert data["gateway"] == {"hall": "demo-hall", "id": "gw-01", "state_dir": str(tmp_path / "daemon")}
    assert data["api"] == {"listen": "127.0.0.1:50999"}
    assert data["logging"] == {"level": "info", "format": "auto"}
    assert data["supervision"] == dict(SUPERVISION)
    assert all(set(s) == {"id", "kind", "name"} for s in data["stations"])
    assert all(set(d) == {"id", "kind", "station", "name", "link"} for d in data["devices"] if d["kind"] != "lighting")
    lights = [d for d in data["devices"] if d["kind"] == "lighting"]
    assert [d["id"] for d in lights] == ["lights-b1", "lights-b2"]
    assert all(set(d) == {"id", "kind", "station", "name", "link", "lighting"} for d in lights)
    assert lights[0]["lighting"] == {"capture": {"1": 255, "2": 255, "3": 180}}
    assert data["devices"][0] == {
        "id": "idr-01",
        "kind": "idcard_reader",
        "station": "window-01",
        "name": "ID card reader, Window 1",
        "link": f"serial://{tmp_path}/idr-01.tty?baud=115200",
    }
    fp = next(d for d in data["devices"] if d["id"] == "fp-03")
    assert (fp["kind"], fp["name"]) == ("fingerprint_scanner", "fingerprint scanner, Window 3 (foreigners)")
    # The daemon's own strict loader accepts it (with kiosks once the daemon knows them).
    if "kiosks" not in Config.model_fields:
        scenario = dataclasses.replace(scenario, devices=tuple(d for d in scenario.devices if d.kind != "kiosk"))
        text = render_daemon_config(scenario, links=links, state_dir=tmp_path, api_listen="127.0.0.1:50999")
    config = parse_config(text, source="hallgw.toml")
    assert [d.id for d in config.devices] == [d.id for d in scenario.devices]


def test_toml_strings_survive_a_round_trip() -> None:
    tricky = 'Window "7" \\ back\tslash\n新\x7f'
    assert tomllib.loads(f"v = {toml_string(tricky)}")["v"] == tricky
