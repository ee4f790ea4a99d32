"""The payment scanner driver against the simulated scanner on a real pseudo-terminal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest
import structlog

from hallgw_daemon.config import ScannerOptions
from hallgw_daemon.core.errors import LinkLostError, NoPaymentCodeError
from hallgw_daemon.core.model import DeviceKind
from hallgw_daemon.drivers import DriverContext, TraceRecord
from hallgw_daemon.drivers import payment_scanner as driver_module
from hallgw_daemon.drivers.base import Direction, driver_for
from hallgw_daemon.drivers.payment_scanner import PaymentScannerDriver, framing_of
from hallgw_daemon.logging import get_logger
from hallgw_daemon.transports import open_transport, parse_link_url
from hallgw_protocols.payment_scanner import Framing, PaymentCode, PaymentScheme
from hallgw_simulators.links import PtyEndpoint
from hallgw_simulators.payment_scanner_device import PaymentScannerDevice

pytestmark = pytest.mark.timeout(60)
WECHAT = "134567890123456789"  # shaped like payment codes, issued by no one
ALIPAY = "2876543210987654321"


class Progress:
    """The progress events of one request, awaitable one by one."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self._queue: asyncio.Queue[str] = asyncio.Queue()

    def __call__(self, stage: str, message: str) -> None:
        assert message
        self.seen.append(stage)
        self._queue.put_nowait(stage)

    async def until(self, stage: str, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while await self._queue.get() != stage:
                pass


Setup = Callable[..., Awaitable[tuple[PaymentScannerDevice, PaymentScannerDriver]]]


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    """Start a scanner (settings of the simulator) and a driver (``options``, ``driver_class``) on its pty."""
    devices: list[PaymentScannerDevice] = []
    drivers: list[PaymentScannerDriver] = []

    async def start(
        *,
        options: ScannerOptions | None = None,
        driver_class: type[PaymentScannerDriver] = PaymentScannerDriver,
        taps: set[Callable[[TraceRecord], None]] | None = None,
        **settings: Any,
    ) -> tuple[PaymentScannerDevice, PaymentScannerDriver]:
        settings.setdefault("baud", 0)
        device = PaymentScannerDevice(
            device_id="pay-t", seed=5, endpoint=PtyEndpoint("pay-t", tmp_path / "pay.tty"), **settings
        )
        await device.start()
        devices.append(device)
        ctx = DriverContext(device_id="pay-t", command_timeout=2.0, scanner=options, taps=taps or set())
        driver = driver_class(ctx)
        driver.attach(await open_transport(parse_link_url(device.link_url)))
        drivers.append(driver)
        await driver.identify(timeout=1.0)
        return device, driver

    yield start
    for driver in drivers:
        await driver.detach()
    for device in devices:
        await device.stop()


async def take_while(
    driver: PaymentScannerDriver, action: Awaitable[object], *, wait: float = 5.0, since: float | None = None
) -> tuple[PaymentCode, Progress]:
    """Start a request, then do ``action`` (a scan) once the request has asked for the code."""
    loop = asyncio.get_running_loop()
    progress = Progress()
    start = loop.time() if since is None else since
    request = asyncio.create_task(driver.take_code(since=start, until=loop.time() + wait, progress=progress))
    await progress.until("SHOW_PAYMENT_CODE")
    await action
    async with asyncio.timeout(wait + 1):
        return await request, progress


def test_registered_for_its_kind() -> None:
    assert driver_for(DeviceKind.PAYMENT_SCANNER) is PaymentScannerDriver
    assert framing_of(None) == Framing()
    options = ScannerOptions(prefix="P", suffix="S", terminator="crlf")
    assert framing_of(options) == Framing(prefix="P", suffix="S", terminator="crlf")


@pytest.mark.parametrize(("code", "scheme"), [(WECHAT, PaymentScheme.WECHAT_PAY), (ALIPAY, PaymentScheme.ALIPAY)])
async def test_codes_are_read_with_their_scheme(setup: Setup, code: str, scheme: PaymentScheme) -> None:
    device, driver = await setup()
    result, progress = await take_while(driver, device.scan(code))
    assert result == PaymentCode(code, scheme)
    assert progress.seen == ["SHOW_PAYMENT_CODE", "PAYMENT_CODE_READ"]
    assert driver.kept == 0  # taken once, then gone


@pytest.mark.parametrize("kind", ["wechat", "alipay", "unionpay", "invalid"])
async def test_generated_codes_of_every_kind(setup: Setup, kind: str) -> None:
    device, driver = await setup(stx_etx=True)
    result, _ = await take_while(driver, device.apply_fault("scan", [kind]))
    expected = {
        "wechat": PaymentScheme.WECHAT_PAY,
        "alipay": PaymentScheme.ALIPAY,
        "unionpay": PaymentScheme.UNIONPAY,
        "invalid": PaymentScheme.UNKNOWN,  # handed out: the caller decides
    }
    assert result.scheme is expected[kind]


async def test_prefix_suffix_and_crlf_from_the_config(setup: Setup) -> None:
    options = ScannerOptions(prefix="]Q1", suffix="#", terminator="crlf")
    device, driver = await setup(options=options, prefix="]Q1", suffix="#", terminator="crlf")
    result, progress = await take_while(driver, device.scan(WECHAT))
    assert result == PaymentCode(WECHAT, PaymentScheme.WECHAT_PAY)
    assert "SCAN_AGAIN" not in progress.seen


async def test_a_scanner_set_up_otherwise_than_the_config_is_asked_again(setup: Setup) -> None:
    device, driver = await setup(options=ScannerOptions(prefix="PAY:"))
    loop = asyncio.get_running_loop()
    progress = Progress()
    request = asyncio.create_task(driver.take_code(since=loop.time(), until=loop.time() + 0.8, progress=progress))
    await progress.until("SHOW_PAYMENT_CODE")
    await device.scan(WECHAT)  # no prefix: refused
    await progress.until("SCAN_AGAIN")
    with pytest.raises(NoPaymentCodeError) as caught:
        await request
    assert caught.value.reason == "NO_PAYMENT_CODE"


async def test_the_deadline_gives_no_payment_code(setup: Setup) -> None:
    _, driver = await setup()
    loop = asyncio.get_running_loop()
    progress = Progress()
    started = loop.time()
    with pytest.raises(NoPaymentCodeError, match="no payment code was scanned in time") as caught:
        await driver.take_code(since=started, until=started + 0.3, progress=progress)
    assert loop.time() - started >= 0.3
    assert caught.value.device_id == "pay-t"
    assert progress.seen == ["SHOW_PAYMENT_CODE"]


async def test_a_partial_scan_then_a_good_one(setup: Setup) -> None:
    device, driver = await setup()
    loop = asyncio.get_running_loop()
    progress = Progress()
    request = asyncio.create_task(driver.take_code(since=loop.time(), until=loop.time() + 10, progress=progress))
    await progress.until("SHOW_PAYMENT_CODE")
    await device.apply_fault("partial")
    await device.scan(WECHAT)
    await progress.until("SCAN_AGAIN")  # the line is reported once it is older than the codec's timeout
    assert not request.done()
    await device.apply_fault("clear")
    await device.scan(ALIPAY)
    async with asyncio.timeout(5):
        assert await request == PaymentCode(ALIPAY, PaymentScheme.ALIPAY)
    assert progress.seen == ["SHOW_PAYMENT_CODE", "SCAN_AGAIN", "PAYMENT_CODE_READ"]


async def test_garbage_then_the_code(setup: Setup) -> None:
    device, driver = await setup(terminator="crlf", options=ScannerOptions(terminator="crlf"))
    await device.apply_fault("garbage", [12])
    result, progress = await take_while(driver, device.scan(WECHAT))
    assert result.code == WECHAT
    assert progress.seen == ["SHOW_PAYMENT_CODE", "SCAN_AGAIN", "PAYMENT_CODE_READ"]


async def test_a_scan_just_before_the_request_is_taken_but_not_one_before_since(setup: Setup) -> None:
    device, driver = await setup()
    loop = asyncio.get_running_loop()
    before = loop.time()
    await device.scan(WECHAT)
    await wait_for_kept(driver, 1)
    # The clerk asks a moment after the applicant scanned: a request from ``before`` takes it.
    progress = Progress()
    result = await driver.take_code(since=before, until=loop.time() + 1, progress=progress)
    assert result.code == WECHAT
    assert progress.seen == ["SHOW_PAYMENT_CODE", "PAYMENT_CODE_READ"]
    # A scan made before a request's ``since`` belongs to someone else.
    await device.scan(ALIPAY)
    await wait_for_kept(driver, 1)
    later = loop.time() + 0.01
    with pytest.raises(NoPaymentCodeError):
        await driver.take_code(since=later, until=later + 0.2, progress=Progress())
    assert driver.kept == 0


async def test_the_end_of_a_visit_drops_a_code_not_taken(setup: Setup) -> None:
    device, driver = await setup()
    loop = asyncio.get_running_loop()
    before = loop.time()
    await device.scan(WECHAT)
    await wait_for_kept(driver, 1)
    driver.drop_personal_data()  # the station's visit ended (StationRegistry's end of visit)
    assert driver.kept == 0
    with pytest.raises(NoPaymentCodeError):
        await driver.take_code(since=before, until=loop.time() + 0.2, progress=Progress())


class _ShortMemory(PaymentScannerDriver):
    freshness: ClassVar[float] = 0.3


async def test_stale_scans_are_forgotten_and_not_taken(setup: Setup) -> None:
    device, driver = await setup(driver_class=_ShortMemory)
    loop = asyncio.get_running_loop()
    before = loop.time()
    await device.scan(WECHAT)
    await wait_for_kept(driver, 1)
    await wait_for_kept(driver, 0)  # dropped by the reader's tick, with nobody asking
    assert loop.time() - before >= 0.3
    with pytest.raises(NoPaymentCodeError):
        await driver.take_code(since=before, until=loop.time() + 0.1, progress=Progress())


async def wait_for_kept(driver: PaymentScannerDriver, count: int, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while driver.kept != count:  # noqa: ASYNC110 - the driver has no event for forgetting, by design
            await asyncio.sleep(0.01)


async def test_unplug_is_link_lost(setup: Setup) -> None:
    device, driver = await setup()
    loop = asyncio.get_running_loop()
    progress = Progress()
    request = asyncio.create_task(driver.take_code(since=loop.time(), until=loop.time() + 10, progress=progress))
    await progress.until("SHOW_PAYMENT_CODE")
    await device.apply_fault("unplug")
    with pytest.raises(LinkLostError):
        async with asyncio.timeout(5):
            await request
    async with asyncio.timeout(5):
        assert await driver.wait_closed()
    with pytest.raises(LinkLostError):
        await driver.probe(timeout=1.0)
    with pytest.raises(LinkLostError):
        await driver.take_code(since=loop.time(), until=loop.time() + 1, progress=progress)


async def test_the_code_never_reaches_traces_logs_or_reprs(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    traces: list[TraceRecord] = []
    code_text = "QRPAY-SECRET-TOKEN"  # letters too, so no number redaction could hide a leak
    with structlog.testing.capture_logs() as logs:
        # A logger made inside the capture: the module's may be cached with another configuration.
        monkeypatch.setattr(driver_module, "log", get_logger(driver_module.__name__))
        device, driver = await setup(taps={traces.append}, terminator="crlf")
        results = []
        for code in (WECHAT, code_text):
            result, _ = await take_while(driver, device.scan(code))
            results.append(result)
        await device.apply_fault("garbage", [5])
        await device.apply_fault("partial")
        loop = asyncio.get_running_loop()
        progress = Progress()
        request = asyncio.create_task(driver.take_code(since=loop.time(), until=loop.time() + 8, progress=progress))
        await progress.until("SHOW_PAYMENT_CODE")
        await device.scan(ALIPAY)  # noise, then the code cut short: two failed scans
        await progress.until("SCAN_AGAIN")
        await progress.until("SCAN_AGAIN")
        await device.apply_fault("clear")
        await device.scan(ALIPAY)
        async with asyncio.timeout(5):
            results.append(await request)
    assert [r.code for r in results] == [WECHAT, code_text, ALIPAY]
    assert [r.scheme for r in results] == [PaymentScheme.WECHAT_PAY, PaymentScheme.UNKNOWN, PaymentScheme.ALIPAY]
    good = [t for t in traces if t.masked]
    assert [t.summary for t in good] == [
        "payment code scan (18 chars, WECHAT_PAY)",
        "payment code scan (18 chars, UNKNOWN)",
        "payment code scan (19 chars, ALIPAY)",
    ]
    assert all(t.direction is Direction.FROM_DEVICE and t.data == b"" for t in traces)
    assert [t.length for t in good] == [18, 18, 19]
    assert any(t.error for t in traces if not t.masked)
    assert any(entry["event"] == "payment scan failed" for entry in logs)
    assert any(entry["event"] == "payment code read" for entry in logs)
    everything = repr(traces) + repr(logs) + repr(results) + repr(driver._scans) + repr(device.describe())
    for code in (WECHAT, code_text, ALIPAY):
        assert code not in everything
        assert code[:8] not in everything
