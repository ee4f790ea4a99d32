"""TLS, client certificates and roles on a real gRPC server (in process, on 127.0.0.1)."""

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import descriptor_pool
from grpc_status import rpc_status
from support.hall import error_info, free_port
from support.pki import Pki

from hallgw_api.v1 import (
    device_pb2,
    device_service_pb2,
    device_service_pb2_grpc,
    idcard_pb2,
    idcard_pb2_grpc,
)
from hallgw_daemon.api.auth import REQUIRED
from hallgw_daemon.api.server import SERVICE_NAMES, ApiServer
from hallgw_daemon.config import ConfigError, parse_config
from hallgw_daemon.core.bus import EventBus
from hallgw_daemon.supervisor import DeviceRegistry

REF = device_pb2.DeviceRef(device_id="idr-01")


def gateway_config(tmp_path: Path, pki: Pki, port: int) -> str:
    cert, key = pki.issue("gateway", server=True)
    return f"""
[gateway]
hall = "h"
id = "g"
state_dir = "{tmp_path / "state"}"
[api]
listen = "127.0.0.1:{port}"
anonymous_role = "none"
[api.tls]
cert = "{cert}"
key = "{key}"
client_ca = "{pki.ca}"
[[api.clients]]
name = "acceptance-1"
role = "business"
[[api.clients]]
name = "noc-1"
role = "monitor"
[[api.clients]]
name = "engineer-1"
role = "engineer"
[[devices]]
id = "idr-01"
kind = "idcard_reader"
link = "tcp://127.0.0.1:1"
"""


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[tuple[Pki, int]]:
    pki = Pki(tmp_path / "pki")
    port = free_port()
    config = parse_config(gateway_config(tmp_path, pki, port))
    api = ApiServer(DeviceRegistry(config, EventBus()), config.api)
    await api.start()
    try:
        yield pki, port
    finally:
        await api.stop(0)


def channel(pki: Pki, port: int, cn: str | None) -> grpc.aio.Channel:
    cert = key = None
    if cn is not None:
        cert_path, key_path = pki.issue(cn)
        cert, key = cert_path.read_bytes(), key_path.read_bytes()
    creds = grpc.ssl_channel_credentials(root_certificates=pki.ca.read_bytes(), private_key=key, certificate_chain=cert)
    return grpc.aio.secure_channel(f"127.0.0.1:{port}", creds)


async def code_of(call: object) -> tuple[grpc.StatusCode, str]:
    try:
        await call  # type: ignore[misc]
    except grpc.aio.AioRpcError as err:
        if rpc_status.from_call(err) is None:  # type: ignore[arg-type]
            return err.code(), ""  # refused before any handler: no rich status
        return err.code(), error_info(err)[1]
    return grpc.StatusCode.OK, ""


def admin_request() -> device_service_pb2.SetAdminStateRequest:
    return device_service_pb2.SetAdminStateRequest(device=REF, admin_state=device_pb2.ADMIN_STATE_ENABLED)


async def test_roles_decide_what_each_client_may_call(server: tuple[Pki, int]) -> None:
    pki, port = server
    async with channel(pki, port, "acceptance-1") as ch:
        devices, cards = device_service_pb2_grpc.DeviceServiceStub(ch), idcard_pb2_grpc.IdCardServiceStub(ch)
        assert (await code_of(devices.ListDevices(device_service_pb2.ListDevicesRequest(), timeout=5)))[
            0
        ] == grpc.StatusCode.OK
        # Allowed: the call reaches the device (offline here), not the role check.
        read = cards.ReadIdCard(idcard_pb2.ReadIdCardRequest(device=REF), timeout=5)
        assert (await code_of(read))[1] == "DEVICE_OFFLINE"
        denied = await code_of(devices.SetAdminState(admin_request(), timeout=5))
        assert denied == (grpc.StatusCode.PERMISSION_DENIED, "PERMISSION_DENIED")
    async with channel(pki, port, "noc-1") as ch:
        cards = idcard_pb2_grpc.IdCardServiceStub(ch)
        denied = await code_of(cards.ReadIdCard(idcard_pb2.ReadIdCardRequest(device=REF), timeout=5))
        assert denied == (grpc.StatusCode.PERMISSION_DENIED, "PERMISSION_DENIED")
        devices = device_service_pb2_grpc.DeviceServiceStub(ch)
        call = devices.GetDevice(device_service_pb2.GetDeviceRequest(device=REF), timeout=5)
        assert (await code_of(call))[0] == grpc.StatusCode.OK
    async with channel(pki, port, "engineer-1") as ch:
        devices = device_service_pb2_grpc.DeviceServiceStub(ch)
        assert (await code_of(devices.SetAdminState(admin_request(), timeout=5)))[0] == grpc.StatusCode.OK


async def test_unknown_certificates_get_the_anonymous_role(server: tuple[Pki, int]) -> None:
    pki, port = server
    async with channel(pki, port, "stranger") as ch:
        devices = device_service_pb2_grpc.DeviceServiceStub(ch)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await devices.ListDevices(device_service_pb2.ListDevicesRequest(), timeout=5)
        assert error_info(info.value)[1] == "PERMISSION_DENIED"
        assert "unknown certificate stranger" in (info.value.details() or "")
        assert "needs monitor" in (info.value.details() or "")


async def test_no_client_certificate_and_foreign_ca_cannot_connect(server: tuple[Pki, int], tmp_path: Path) -> None:
    pki, port = server
    async with channel(pki, port, None) as ch:
        call = device_service_pb2_grpc.DeviceServiceStub(ch).ListDevices(
            device_service_pb2.ListDevicesRequest(), timeout=3
        )
        assert (await code_of(call))[0] == grpc.StatusCode.UNAVAILABLE
    rogue = Pki(tmp_path / "rogue", ca_name="rogue CA")
    cert, key = rogue.issue("acceptance-1")
    creds = grpc.ssl_channel_credentials(
        root_certificates=pki.ca.read_bytes(), private_key=key.read_bytes(), certificate_chain=cert.read_bytes()
    )
    async with grpc.aio.secure_channel(f"127.0.0.1:{port}", creds) as ch:
        call = device_service_pb2_grpc.DeviceServiceStub(ch).ListDevices(
            device_service_pb2.ListDevicesRequest(), timeout=3
        )
        assert (await code_of(call))[0] == grpc.StatusCode.UNAVAILABLE


def test_every_rpc_has_a_required_role() -> None:
    pool = descriptor_pool.Default()
    methods = {f"/{name}/{m.name}" for name in SERVICE_NAMES for m in pool.FindServiceByName(name).methods}
    assert len(SERVICE_NAMES) >= 3
    assert methods == set(REQUIRED)


def test_client_rules_need_a_client_ca(tmp_path: Path) -> None:
    base = '[gateway]\nhall = "h"\nid = "g"\n[api]\n'
    with pytest.raises(ConfigError, match=r"api\.clients needs api\.tls\.client_ca"):
        parse_config(base + '[[api.clients]]\nname = "a"\nrole = "business"\n')
    with pytest.raises(ConfigError, match=r"api\.tls\.cert: Value error, expected an absolute path"):
        parse_config(base + '[api.tls]\ncert = "gw.crt"\nkey = "/k"\n')
    with pytest.raises(ConfigError, match=r"api\.anonymous_role"):
        parse_config(base + 'anonymous_role = "admin"\n')


async def hallctl(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "hallctl"),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_hallctl_over_mutual_tls(server: tuple[Pki, int]) -> None:
    pki, port = server
    cert, key = pki.issue("engineer-1")
    tls = [
        "--target",
        f"127.0.0.1:{port}",
        "--ca-cert",
        str(pki.ca),
        "--client-cert",
        str(cert),
        "--client-key",
        str(key),
    ]
    code, out, err = await hallctl(*tls, "devices", "--json")
    assert code == 0, err
    assert "idr-01" in out
    code, _, err = await hallctl(*tls, "maintenance", "idr-01", "--reason", "lens cleaning")
    assert code == 0, err
    noc_cert, noc_key = pki.issue("noc-1")
    monitor = [*tls[:4], "--client-cert", str(noc_cert), "--client-key", str(noc_key)]
    code, _, err = await hallctl(*monitor, "enable", "idr-01")
    assert code == 2
    assert "PERMISSION_DENIED" in err
    code, _, err = await hallctl(*tls[:2], "--ca-cert", "/nonexistent/ca.pem", "devices")
    assert code == 2
    assert "/nonexistent/ca.pem" in err
