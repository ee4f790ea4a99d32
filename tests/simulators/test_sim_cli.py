"""``hallsim`` as a real process: run, ctl, probe, and a clean exit on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.broker import Broker, mosquitto_broker

from hallgw_simulators.deck import build_deck
from hallgw_simulators.hostside import SamHost

HALLSIM = str(Path(sys.executable).with_name("hallsim"))
TIMEOUT = 15.0


async def _hallsim(*args: str) -> tuple[int, str, str]:
    """Run one short ``hallsim`` command; returns (exit code, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        HALLSIM, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        async with asyncio.timeout(TIMEOUT):
            out, err = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def _exists(path: str | Path) -> bool:
    return os.path.lexists(path)


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[Broker]:
    async with mosquitto_broker(tmp_path / "broker") as running:
        yield running


async def test_run_ctl_probe_and_sigterm(tmp_path: Path, broker: Broker) -> None:
    state, config, ready = tmp_path / "state", tmp_path / "hallgw.toml", tmp_path / "ready.json"
    # hallsim's stderr to a file: a pipe nobody reads could fill up and stall the hall.
    errors = (tmp_path / "hallsim.err").open("wb")
    proc = await asyncio.create_subprocess_exec(
        HALLSIM, "run", "--state-dir", str(state), "--config-out", str(config), "--ready-file", str(ready),
        "--api-listen", "127.0.0.1:50123", "--control", "127.0.0.1:0", "--baud", "0", "--seed", "5",
        "--broker", broker.url, "--cups", "127.0.0.1:18631",
        stdout=asyncio.subprocess.PIPE, stderr=errors,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(TIMEOUT):
            line = (await proc.stdout.readline()).decode()
        assert line.startswith("hallsim: ready control=127.0.0.1:"), line

        info = json.loads(ready.read_text())
        assert info["seed"] == 5
        assert info["config"] == str(config)
        devices = {d["id"]: d for d in info["devices"]}
        assert set(devices) == {
            *(f"idr-0{n}" for n in range(1, 6)),
            *("mrz-03", "mrz-04", "dr-03", "dr-04"),
            *(f"fp-0{n}" for n in range(1, 5)),
            *(f"cam-0{n}" for n in range(1, 5)),
            *("cam-b1", "cam-b2", "lights-b1", "lights-b2"),
            *(f"{kind}-d{n}" for kind in ("idr", "cam", "fp", "dcam", "pay", "tkt", "a4") for n in range(1, 5)),
        }
        assert devices["idr-01"]["path"] == str(state / "idr-01.tty")
        assert devices["idr-05"]["transport"] == "tcp"
        assert devices["mrz-03"]["link"] == f"serial://{state / 'mrz-03.tty'}?baud=9600"
        assert (devices["dr-04"]["transport"], devices["dr-04"]["link"]) == ("vpcd", "pcsc://Virtual PCD 00 01")
        assert all(os.readlink(devices[f"idr-0{n}"]["path"]).startswith("/dev/pts/") for n in range(1, 5))
        # Fingerprint scanners: two on ptys (57600 in the link even unpaced), two on the hall's USB/IP server.
        assert devices["fp-01"]["link"] == f"serial://{state / 'fp-01.tty'}?baud=57600"
        usbip = info["usbip"]
        assert usbip["host"] == "127.0.0.1" and usbip["port"] > 0
        for n, busid in ((3, "1-1"), (4, "1-2")):
            fp = devices[f"fp-0{n}"]
            assert (fp["kind"], fp["transport"], fp["busid"], fp["port"]) == (
                "fingerprint_scanner",
                "usbip",
                busid,
                usbip["port"],
            )
            assert fp["link"] == f"usbip://127.0.0.1:{usbip['port']}?vid=2109&pid=7638&serial=FP-FP-0{n}"

        # Photo machines: cameras on video files and on MJPEG streams, booth lights on ptys.
        assert devices["cam-01"]["link"] == f"camera://{state / 'cameras' / 'cam-01.avi'}?loop=1"
        assert (await asyncio.to_thread((state / "cameras" / "cam-01.avi").read_bytes))[:4] == b"RIFF"
        assert devices["cam-b1"]["link"] == f"http://127.0.0.1:{devices['cam-b1']['port']}/video.mjpg"
        assert devices["lights-b1"]["link"] == f"serial://{state / 'lights-b1.tty'}?baud=115200"
        assert devices["a4-d3"]["link"] == "ipp://127.0.0.1:18631/printers/hallgw_demo_desk03"

        written = tomllib.loads(config.read_text())
        lights = next(d for d in written["devices"] if d["id"] == "lights-b1")
        assert lights["lighting"]["capture"] == {"1": 255, "2": 255, "3": 180}
        assert written["api"]["listen"] == "127.0.0.1:50123"
        csca = Path(written["documents"]["csca_certificates"][0])
        assert (await asyncio.to_thread(csca.read_bytes)).startswith(b"-----BEGIN CERTIFICATE-----")
        assert {d["id"]: d["link"] for d in written["devices"] if d["kind"] != "kiosk"} == {
            k: d["link"] for k, d in devices.items()
        }
        # The demo's 350 kiosks: in the config with their broker, in the ready file, online.
        assert written["kiosks"] == {"broker": broker.url}
        kiosks = {k["id"]: k for k in info["kiosks"]}
        assert len(kiosks) == 350 and info["broker"] == broker.url
        assert {d["id"]: d["link"] for d in written["devices"] if d["kind"] == "kiosk"} == {
            k: f"kiosk://{k}" for k in kiosks
        }
        assert kiosks["kiosk-a3-c-007"] == {
            "id": "kiosk-a3-c-007",
            "kind": "collection",
            "station": "area24-03",
            "link": "kiosk://kiosk-a3-c-007",
            "topic_base": "hallgw/kiosk/v1/demo-hall/kiosk-a3-c-007",
        }
        code, out, _ = await _hallsim(
            "ctl", "--ready-file", str(ready), "kiosks", "--station", "area24-03", "--kind", "collection"
        )
        answer = json.loads(out)
        assert code == 0 and len(answer["kiosks"]) == 20 and all(k["connected"] for k in answer["kiosks"])
        assert (answer["total"], answer["connected"]) == (350, 350)
        assert answer["by_kind"] == {"collection": 100, "endorsement": 150, "record_query": 100}
        code, out, _ = await _hallsim("ctl", "--ready-file", str(ready), "fault", "kiosk-a1-q-001", "paper_out")
        assert code == 0 and json.loads(out)["device"]["consumables"]["paper_pct"] == 0

        code, out, _ = await _hallsim("ctl", "--ready-file", str(ready), "list")
        assert code == 0
        assert [d["id"] for d in json.loads(out)["devices"]] == list(devices)
        control = f"{info['control']['host']}:{info['control']['port']}"
        code, out, _ = await _hallsim("ctl", "--control", control, "insert", "idr-02", "resident-2")
        assert code == 0
        assert json.loads(out)["device"]["card"] == "resident-2"
        code, _, err = await _hallsim("ctl", "--control", control, "insert", "idr-02", "nobody")
        assert code == 1
        assert "unknown card 'nobody'" in err
        code, out, _ = await _hallsim("ctl", "--control", control, "fault", "idr-04", "corrupt", "2")
        assert json.loads(out)["device"]["faults"]["corrupt"] == 2
        code, out, _ = await _hallsim("ctl", "--control", control, "fault", "fp-01", "place", "right-index", "good")
        assert code == 0
        assert json.loads(out)["device"]["finger"] == {"id": "right-index", "contact": "good", "coverage": 1.0}
        code, out, _ = await _hallsim("ctl", "--control", control, "finger", "fp-03", "alice/left-thumb", "dry", "0.8")
        assert code == 0
        assert json.loads(out)["device"]["finger"] == {"id": "alice/left-thumb", "contact": "dry", "coverage": 0.8}
        code, out, _ = await _hallsim("ctl", "--control", control, "fault", "fp-04", "touch", "bob/right-ring")
        assert code == 0
        assert json.loads(out)["device"]["touch"] == {"id": "bob/right-ring", "contact": "good", "coverage": 1.0}
        code, out, _ = await _hallsim("ctl", "--control", control, "fault", "fp-04", "replug")
        assert json.loads(out)["device"]["busid"] not in ("1-1", "1-2")
        code, _, err = await _hallsim("ctl", "--control", control, "finger", "fp-02", "x", "soggy")
        assert code == 1 and "contact is one of" in err
        code, out, _ = await _hallsim("ctl", "--control", control, "cards")
        assert {c["id"] for c in json.loads(out)["cards"]} == set(build_deck(5))

        # The card the ctl inserted is on the wire, with the seed's photo.
        host = await SamHost.open_pty(devices["idr-02"]["path"])
        try:
            text, photo, _ = await host.read_card()
        finally:
            host.close()
        assert text == build_deck(5)["resident-2"].text
        assert photo == build_deck(5)["resident-2"].photo

        code, out, _ = await _hallsim("probe", "--ready-file", str(ready), "idr-05")
        assert code == 0
        probed = json.loads(out)
        assert probed["card"] == {"layout": "hmt_residence_permit", "photo_bytes": 1024, "fingerprint_bytes": 1024}
        assert not [v for v in build_deck(5).sensitive_values() if v in out]

        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(TIMEOUT):
            assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        errors.close()
    assert not [d for d in devices.values() if d["path"] and _exists(d["path"])]
    assert not _exists(ready)
    assert config.exists()


async def test_sigint_also_exits_cleanly(tmp_path: Path) -> None:
    scenario = tmp_path / "one.toml"
    scenario.write_text(
        '[hall]\nname = "one"\n[[stations]]\nid = "booth-01"\nkind = "booth"\n'
        '[[devices]]\nid = "idr-01"\nkind = "idcard_reader"\nstation = "booth-01"\ntransport = "pty"\n',
        encoding="utf-8",
    )
    proc = await asyncio.create_subprocess_exec(
        HALLSIM, "run", str(scenario), "--state-dir", str(tmp_path), "--config-out", str(tmp_path / "c.toml"),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(TIMEOUT):
            assert (await proc.stdout.readline()).startswith(b"hallsim: ready")
        assert (tmp_path / "idr-01.tty").is_symlink()
        proc.send_signal(signal.SIGINT)
        async with asyncio.timeout(TIMEOUT):
            assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert not _exists(tmp_path / "idr-01.tty")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["run", "{bad}", "--state-dir", "{tmp}", "--config-out", "{tmp}/c.toml"], 2, "devices[0].transport"),
        (["run", "--state-dir", "{tmp}", "--config-out", "{tmp}/c.toml", "--baud", "12345"], 2, "--baud"),
        (["ctl", "--control", "127.0.0.1:1", "list"], 1, "control server 127.0.0.1:1"),
        (["ctl", "--ready-file", "{tmp}/missing.json", "list"], 2, "cannot read the control address"),
        (["probe", "--link", "serial://{tmp}/no-such.tty"], 1, "No such file"),
    ],
)
async def test_errors_exit_with_a_message(tmp_path: Path, args: list[str], code: int, message: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[hall]\nname = "x"\n[[stations]]\nid = "w"\nkind = "window"\n'
        '[[devices]]\nid = "d"\nkind = "idcard_reader"\nstation = "w"\ntransport = "serial"\n',
        encoding="utf-8",
    )
    argv = [a.format(bad=bad, tmp=tmp_path) for a in args]
    got, _, err = await _hallsim(*argv)
    assert got == code
    assert message in err


async def test_run_refuses_kiosks_without_a_broker(tmp_path: Path) -> None:
    code, _, err = await _hallsim("run", "--state-dir", str(tmp_path), "--config-out", str(tmp_path / "c.toml"))
    assert code == 2
    assert "350 kiosks and no MQTT broker" in err and "--broker mqtt://HOST:PORT" in err
    code, _, err = await _hallsim(
        "run", "--state-dir", str(tmp_path), "--config-out", str(tmp_path / "c.toml"), "--broker", "tcp://x:1"
    )
    assert code == 2 and "expected mqtt://HOST:PORT" in err
    code, _, err = await _hallsim(
        "run", "--state-dir", str(tmp_path), "--config-out", str(tmp_path / "c.toml"), "--broker", "mqtt://x:1"
    )
    assert code == 2 and "names no CUPS server" in err and "--cups HOST:PORT" in err
    code, _, err = await _hallsim(
        "run", "--state-dir", str(tmp_path), "--config-out", str(tmp_path / "c.toml"), "--cups", "nowhere"
    )
    assert code == 2 and "expected HOST:PORT of a CUPS server" in err


async def test_run_fails_clearly_when_the_broker_is_away(tmp_path: Path) -> None:
    scenario = Path(__file__).parents[1] / "support" / "scenarios" / "kiosks.toml"
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, _, err = await _hallsim(
        "run", str(scenario), "--state-dir", str(tmp_path), "--config-out", str(tmp_path / "c.toml"),
        "--broker", f"mqtt://127.0.0.1:{port}",
    )  # fmt: skip
    assert code == 1 and f"cannot reach the MQTT broker at mqtt://127.0.0.1:{port}" in err
