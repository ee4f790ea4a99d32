"""A running virtual hall: `hallsim run` and `hallgwd` as real processes, with clients.

Every test that uses it talks to the daemon the way a business system does
(gRPC on a real port) and drives the simulated devices through the
simulator's control port, as an engineer would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from hallgw_api.v1 import (
    desk_pb2_grpc,
    device_pb2,
    device_service_pb2,
    device_service_pb2_grpc,
    document_pb2_grpc,
    fingerprint_pb2_grpc,
    idcard_pb2,
    idcard_pb2_grpc,
    kiosk_pb2_grpc,
    photo_pb2_grpc,
    station_pb2_grpc,
)
from hallgw_simulators.control import ControlClient
from hallgw_simulators.deck import build_deck
from hallgw_simulators.passport_deck import build_passport_deck

BIN = Path(sys.executable).parent
SCENARIOS = Path(__file__).parent / "scenarios"
IDCARD_HALL = SCENARIOS / "idcards.toml"
"""The default hall of the e2e tests: five ID card readers, no pcscd needed."""
DOCUMENT_HALL = SCENARIOS / "documents.toml"
"""MRZ and chip readers: needs pcscd (the ``pcscd`` fixture)."""
FINGERPRINT_HALL = SCENARIOS / "fingerprints.toml"
"""A fingerprint scanner on a pty (fp-01) and one on USB/IP (fp-02)."""
PHOTO_HALL = SCENARIOS / "photos.toml"
"""A photo booth (scripted camera over HTTP and DMX studio lights) and a window camera on a video file."""
DESK_HALL = SCENARIOS / "desks.toml"
"""Pre-acceptance desks: desk-01 with a reader, a photo camera, a fingerprint scanner and a payment scanner."""
KIOSK_HALL = SCENARIOS / "kiosks.toml"
"""A few kiosks of each kind: needs a broker (``broker=`` of :class:`Hall`)."""
START_TIMEOUT = 20.0
CHANNEL_OPTIONS = [("grpc.enable_http_proxy", 0)]
"""Everything is on 127.0.0.1: never route test calls through a configured proxy."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def error_info(err: grpc.aio.AioRpcError) -> tuple[grpc.StatusCode, str, dict[str, str]]:
    """(status code, ErrorInfo reason, ErrorInfo metadata) of a failed call."""
    status = rpc_status.from_call(err)  # type: ignore[arg-type]
    assert status is not None, f"no rich status in {err.code()}: {err.details()}"
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return err.code(), info.reason, dict(info.metadata)
    raise AssertionError("no ErrorInfo in the status details")


async def wait_for_file(path: Path, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():  # noqa: ASYNC240 - a stat per 20 ms poll of a child's ready file
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode} before writing {path}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} not written within {timeout} s")
        await asyncio.sleep(0.02)


def by_device(device_id: str) -> device_pb2.DeviceRef:
    return device_pb2.DeviceRef(device_id=device_id)


def read_request(
    ref: device_pb2.DeviceRef, request_id: str = "rq-1", wait: float | None = 2.0
) -> idcard_pb2.ReadIdCardRequest:
    req = idcard_pb2.ReadIdCardRequest(device=ref, request_id=request_id)
    if wait is not None:
        req.card_wait.CopyFrom(duration_pb2.Duration(seconds=int(wait), nanos=int((wait % 1) * 1e9)))
    return req


class Hall:
    """The processes, their logs and the clients of one virtual hall."""

    def __init__(
        self,
        root: Path,
        *,
        scenario: Path | None = IDCARD_HALL,
        baud: int | None = None,
        daemon_env: dict[str, str] | None = None,
        extra_config: str = "",
        broker: str | None = None,
        cups: str | None = None,
    ) -> None:
        self.root = root
        self.extra_config = extra_config
        self.daemon_env = {**os.environ, **(daemon_env or {})}
        self.scenario = scenario
        """None: the packaged demo hall."""
        self.broker = broker
        """mqtt://HOST:PORT of the broker the hall's kiosks and the daemon's kiosk hub use."""
        self.cups = cups
        """HOST:PORT of the CUPS server with the form printers' queues."""
        self.baud = baud
        self.port = free_port()
        self.target = f"127.0.0.1:{self.port}"
        self.config = root / "hallgw.toml"
        self.ready_file = root / "ready.json"
        self.sim_log = root / "hallsim.log"
        self.gw_log = root / "hallgwd.log"
        self.sim: subprocess.Popen[bytes] | None = None
        self.gw: subprocess.Popen[bytes] | None = None
        self.ready: dict[str, Any] = {}
        self.channel: grpc.aio.Channel | None = None
        self.control: ControlClient | None = None

    # -- processes ---------------------------------------------------------------------
    async def start(self) -> None:
        await self.start_simulator()
        await self.start_daemon()

    async def start_simulator(self) -> None:
        args = [str(BIN / "hallsim"), "run", "--state-dir", str(self.root), "--config-out", str(self.config),
                "--ready-file", str(self.ready_file), "--api-listen", self.target]  # fmt: skip
        if self.scenario is not None:
            args.append(str(self.scenario))
        if self.baud is not None:
            args += ["--baud", str(self.baud)]
        if self.broker is not None:
            args += ["--broker", self.broker]
        if self.cups is not None:
            args += ["--cups", self.cups]
        with self.sim_log.open("ab") as log:
            # Popen only forks; the process is watched with poll() and reaped in a thread.
            self.sim = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)  # noqa: ASYNC220
        await wait_for_file(self.ready_file, self.sim, START_TIMEOUT)
        self.ready = json.loads(self.ready_file.read_text())
        if self.extra_config:  # sections hallsim does not write, e.g. [telemetry]
            with self.config.open("a", encoding="utf-8") as f:
                f.write("\n" + self.extra_config + "\n")
        self.control = await ControlClient.connect(self.ready["control"]["host"], self.ready["control"]["port"])

    async def start_daemon(self) -> None:
        with self.gw_log.open("ab") as log:
            self.gw = subprocess.Popen(  # noqa: ASYNC220 - as for the simulator
                [str(BIN / "hallgwd"), "--config", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.daemon_env,
            )
        self.channel = grpc.aio.insecure_channel(self.target, options=CHANNEL_OPTIONS)
        health = health_pb2_grpc.HealthStub(self.channel)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.gw.poll() is not None:
                raise RuntimeError(f"hallgwd exited with {self.gw.returncode}: {self.gw_log.read_text()[-2000:]}")
            try:
                resp = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
                if resp.status == health_pb2.HealthCheckResponse.SERVING:
                    break
            except grpc.aio.AioRpcError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("hallgwd did not start serving")
            await asyncio.sleep(0.05)

    async def stop_daemon(self, sig: int = signal.SIGTERM) -> int:
        """Stop hallgwd with ``sig``; returns its exit code."""
        assert self.gw is not None
        if self.channel is not None:
            await self.channel.close(None)
            self.channel = None
        self.gw.send_signal(sig)
        return await asyncio.to_thread(self.gw.wait, 15)

    async def stop(self) -> tuple[int | None, int | None]:
        """Stop both processes (daemon first); returns their exit codes."""
        gw_code = sim_code = None
        if self.gw is not None and self.gw.poll() is None:
            gw_code = await self.stop_daemon()
        elif self.gw is not None:
            gw_code = self.gw.returncode
        if self.control is not None:
            with contextlib.suppress(Exception):
                await self.control.close()
        if self.sim is not None:
            if self.sim.poll() is None:
                self.sim.send_signal(signal.SIGTERM)
                try:
                    sim_code = await asyncio.to_thread(self.sim.wait, 10)
                except subprocess.TimeoutExpired:
                    self.sim.kill()
                    sim_code = self.sim.wait()
            else:
                sim_code = self.sim.returncode
        if self.gw is not None and self.gw.poll() is None:
            self.gw.kill()
            self.gw.wait()
        return gw_code, sim_code

    # -- clients -----------------------------------------------------------------------
    @property
    def devices(self) -> device_service_pb2_grpc.DeviceServiceStub:
        assert self.channel is not None
        return device_service_pb2_grpc.DeviceServiceStub(self.channel)

    @property
    def idcard(self) -> idcard_pb2_grpc.IdCardServiceStub:
        assert self.channel is not None
        return idcard_pb2_grpc.IdCardServiceStub(self.channel)

    @property
    def documents(self) -> document_pb2_grpc.DocumentServiceStub:
        assert self.channel is not None
        return document_pb2_grpc.DocumentServiceStub(self.channel)

    @property
    def fingerprints(self) -> fingerprint_pb2_grpc.FingerprintServiceStub:
        assert self.channel is not None
        return fingerprint_pb2_grpc.FingerprintServiceStub(self.channel)

    @property
    def desk(self) -> desk_pb2_grpc.DeskServiceStub:
        assert self.channel is not None
        return desk_pb2_grpc.DeskServiceStub(self.channel)

    @property
    def stations(self) -> station_pb2_grpc.StationServiceStub:
        assert self.channel is not None
        return station_pb2_grpc.StationServiceStub(self.channel)

    @property
    def photos(self) -> photo_pb2_grpc.PhotoServiceStub:
        assert self.channel is not None
        return photo_pb2_grpc.PhotoServiceStub(self.channel)

    @property
    def kiosks(self) -> kiosk_pb2_grpc.KioskServiceStub:
        assert self.channel is not None
        return kiosk_pb2_grpc.KioskServiceStub(self.channel)

    @property
    def ctl(self) -> ControlClient:
        assert self.control is not None
        return self.control

    async def device(self, device_id: str) -> device_pb2.Device:
        resp = await self.devices.GetDevice(
            device_service_pb2.GetDeviceRequest(device=device_pb2.DeviceRef(device_id=device_id)), timeout=5
        )
        device: device_pb2.Device = resp.device
        return device

    async def wait_oper(self, device_id: str, state: int, timeout: float = 5.0) -> float:
        """Wait until ``device_id`` reaches ``state``; returns the seconds it took."""
        started = time.monotonic()
        call = self.devices.WatchEvents(
            device_service_pb2.WatchEventsRequest(device_ids=[device_id], include_current_state=True)
        )
        try:
            async with asyncio.timeout(timeout):
                async for item in call:
                    ev = item.event
                    if ev.WhichOneof("payload") == "state_changed" and ev.state_changed.device.oper_state == state:
                        return time.monotonic() - started
        finally:
            call.cancel()
        raise AssertionError("stream ended")  # pragma: no cover

    async def wait_all_online(self, timeout: float = 10.0) -> None:
        for dev in [*self.ready["devices"], *self.ready.get("kiosks", [])]:
            await self.wait_oper(dev["id"], device_pb2.OPER_STATE_ONLINE, timeout)

    def logs(self) -> str:
        return self.gw_log.read_text(errors="replace") + self.sim_log.read_text(errors="replace")


@contextlib.asynccontextmanager
async def running_hall(root: Path, **kwargs: Any) -> AsyncIterator[Hall]:
    """Start a virtual hall and its daemon; stop both (and check they exit cleanly) after."""
    await asyncio.to_thread(root.mkdir, parents=True, exist_ok=True)
    hall = Hall(root, **kwargs)
    try:
        await hall.start()
        await hall.wait_all_online()
        yield hall
    finally:
        gw_code, sim_code = await hall.stop()
    assert gw_code in (0, None), f"hallgwd exited with {gw_code}"
    assert sim_code in (0, None), f"hallsim exited with {sim_code}"
    if hall.ready:
        assert_no_personal_data(
            root, build_deck(int(hall.ready["seed"])).sensitive_values() + build_passport_deck().sensitive_values()
        )


def assert_no_personal_data(root: Path, values: tuple[str, ...]) -> None:
    """No test identity's name or number in any file the run left: logs, state, configs.

    Every file under ``root`` is searched as UTF-8 and as UTF-16-LE (the card's own encoding).
    """
    assert values
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        for value in values:
            for encoded in (value.encode(), value.encode("utf-16-le")):
                assert encoded not in data, f"personal data ({value[:1]}...) found in {path.name}"


HALLCTL = str(BIN / "hallctl")


async def hallctl(hall: Hall, *args: str, timeout: float = 60.0) -> tuple[int, str, str]:
    """Run the real ``hallctl`` against ``hall``'s daemon: (exit code, stdout, stderr)."""
    env = {**os.environ, "HALLGW_TARGET": hall.target, "COLUMNS": "160", "no_proxy": "*"}
    proc = await asyncio.create_subprocess_exec(
        HALLCTL, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()
