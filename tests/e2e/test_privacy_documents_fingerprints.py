"""MRZ data, faces and fingerprint images reach only the caller: not telemetry, traces, logs or the CLI's output.

Each test runs a hall with telemetry to a real Mosquitto, subscribes to every
topic and to the frame traces of the devices involved, drives reads that succeed
and reads that fail, and then searches everything that came out. Logs and files
on disk are searched by ``running_hall`` when the hall stops.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from support.broker import Broker, mosquitto_broker, subscriber
from support.hall import DOCUMENT_HALL, FINGERPRINT_HALL, by_device, hallctl, running_hall
from support.pcscd import Pcscd
from support.privacy import Traces, device_metrics_after_reads

from hallgw_api.v1 import document_pb2, fingerprint_pb2
from hallgw_simulators.passport_deck import build_passport_deck

pytestmark = pytest.mark.timeout(120)
DECK = build_passport_deck()


@pytest.fixture
async def broker(tmp_path: Path) -> AsyncIterator[Broker]:
    async with mosquitto_broker(tmp_path / "broker") as b:
        yield b


def telemetry(broker: Broker) -> str:
    return f'[telemetry]\nbroker = "{broker.url}"\nkeepalive = 2\nmetrics_interval = 0.3\n'


async def test_travel_documents_stay_out_of_telemetry_traces_and_cli_output(
    tmp_path: Path, pcscd: Pcscd, broker: Broker
) -> None:
    doc = DECK["td3-uto-1"]
    async with (
        running_hall(tmp_path / "hall", scenario=DOCUMENT_HALL, baud=0, extra_config=telemetry(broker)) as hall,
        subscriber(broker.url, "#") as monitor,
    ):
        traces = Traces(hall, ("dr-03", "mrz-03"))
        await asyncio.sleep(0.3)  # the taps are installed when the streams start
        # A good read through the CLI (masked), one with the MRZ in the request, and failures.
        await hall.ctl.place("window-03", doc.doc_id)
        code, out, err = await hallctl(hall, "document", "read", "--station", "window-03", "--wait", "5")
        assert code == 0, err
        assert "XK4" in out and "verified" in out  # the masked number's head, the signature status
        request = document_pb2.ReadTravelDocumentRequest(
            device=by_device("dr-03"), request_id="r2", mrz="\n".join(doc.mrz.lines)
        )
        resp = await hall.documents.ReadTravelDocument(request, timeout=15)
        assert resp.document.mrz.document_number == doc.mrz.document_number  # the caller does get it
        await hall.ctl.fault("mrz-03", "misread", "on")
        await hall.ctl.place("window-03", doc.doc_id)
        code, _, err = await hallctl(hall, "document", "read", "dr-03", "--wait", "3")
        assert code != 0 and "MRZ_INVALID" in err
        await hall.ctl.fault("mrz-03", "misread", "off")
        await hall.ctl.fault("mrz-03", "scan", "td3-can-1")  # another document's page: BAC refused
        code, _, err = await hallctl(hall, "document", "read", "dr-03", "--wait", "3", "--json")
        assert code != 0 and "BAC_DENIED" in err
        got = await monitor.collect(until=device_metrics_after_reads(("dr-03",)), timeout=10)
        traces.stop()
        published = b"".join(m.topic.encode() + m.payload for m in got)
        assert traces.frames
        cli = (out + err).encode()
        for value in doc.sensitive_values() + DECK["td3-can-1"].sensitive_values():
            for where, blob in (("telemetry", published), ("a trace", traces.text()), ("hallctl output", cli)):
                assert value.encode() not in blob, f"personal data ({value[:1]}...) in {where}"
        assert doc.file(next(f for f in doc.files if f.name == "DG2"))[-64:] not in traces.text()


async def test_fingerprint_images_stay_out_of_telemetry_and_traces(tmp_path: Path, broker: Broker) -> None:
    async with (
        running_hall(tmp_path / "hall", scenario=FINGERPRINT_HALL, baud=0, extra_config=telemetry(broker)) as hall,
        subscriber(broker.url, "#") as monitor,
    ):
        traces = Traces(hall, ("fp-01", "fp-02"))
        await asyncio.sleep(0.3)
        images = []
        for device in ("fp-01", "fp-02"):
            await hall.ctl.fault(device, "place", "zoe/left-index")
            request = fingerprint_pb2.CaptureRequest(device=by_device(device), request_id=f"p-{device}")
            images.append((await hall.fingerprints.Capture(request, timeout=30)).image)
        await hall.ctl.fault("fp-01", "place", "zoe/left-index", "dry")
        code, _, err = await hallctl(hall, "fingerprint", "capture", "fp-01", "--attempts", "1", "--wait", "2")
        assert code != 0 and "QUALITY_TOO_LOW" in err
        out_file = tmp_path / "finger.png"
        await hall.ctl.fault("fp-02", "place", "zoe/left-index")
        code, out, err = await hallctl(hall, "fingerprint", "capture", "fp-02", "--out", str(out_file), "--json")
        assert code == 0, err
        assert json.loads(out)["quality"]["score"] >= 70
        assert (await asyncio.to_thread(out_file.read_bytes)).startswith(b"\x89PNG")
        assert oct(out_file.stat().st_mode & 0o777) == "0o600"
        got = await monitor.collect(until=device_metrics_after_reads(("fp-01", "fp-02")), timeout=10)
        traces.stop()
        published = b"".join(m.payload for m in got)
        masked = [f for f in traces.frames if "image bytes masked" in f.summary]
        assert len(masked) >= 2 * 288 and all(f.masked and not f.data for f in masked)
        blobs = {"telemetry": published, "a trace": traces.text(), "hallctl output": (out + err).encode()}
        for image in images:
            pixels = cv2.imdecode(np.frombuffer(image.png, np.uint8), cv2.IMREAD_UNCHANGED)
            assert pixels is not None
            for row in (pixels[100], pixels[144], pixels[200]):
                chunk = row[64:128].tobytes()
                packed = bytes((a & 0xF0) | (b >> 4) for a, b in zip(chunk[::2], chunk[1::2], strict=True))
                for where, blob in blobs.items():
                    assert chunk not in blob and packed not in blob, f"fingerprint pixels in {where}"
            for where, blob in blobs.items():
                assert image.png[200:264] not in blob, f"fingerprint PNG bytes in {where}"
