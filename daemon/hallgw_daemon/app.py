"""``hallgwd``: the one place where the daemon's components are wired together."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from hallgw_daemon.api.server import ApiServer
from hallgw_daemon.config import Config, ConfigError, load_config
from hallgw_daemon.core.bus import EventBus
from hallgw_daemon.core.errors import GatewayError
from hallgw_daemon.core.events import StateChanged
from hallgw_daemon.drivers.document import DocumentReaderDriver
from hallgw_daemon.drivers.idcard import IdCardReaderDriver, load_photo_decoder
from hallgw_daemon.drivers.kiosk import KioskDriver
from hallgw_daemon.drivers.mrz import MrzReaderDriver
from hallgw_daemon.drivers.passive_auth import load_csca_certificates
from hallgw_daemon.ledger import Ledger
from hallgw_daemon.logging import configure_logging, get_logger
from hallgw_daemon.notify import Notifier
from hallgw_daemon.supervisor import DeviceRegistry
from hallgw_daemon.telemetry import TelemetryPublisher
from hallgw_daemon.transports import KioskHub, install_hub

log = get_logger("hallgw_daemon")

DEFAULT_CONFIG = Path("/etc/hallgw/hallgw.toml")


def configure_drivers(config: Config) -> None:
    """Give the drivers what the config and the installed plugins say; ConfigError for unusable files."""
    # The WLT photo decoder is a licensed vendor library, installed (or not) as a plugin.
    IdCardReaderDriver.photo_decoder = load_photo_decoder()
    DocumentReaderDriver.cscas = load_csca_certificates(Path(p) for p in config.documents.csca_certificates)
    MrzReaderDriver.freshness = config.documents.mrz_freshness


class Gateway:
    """The daemon: registry, supervision, the API and telemetry, started and stopped together."""

    def __init__(self, config: Config) -> None:
        self.config = config
        configure_drivers(config)
        self.bus = EventBus()
        self.registry = DeviceRegistry(config, self.bus)
        self.api = ApiServer(self.registry, config.api)
        self.telemetry = TelemetryPublisher(config, self.registry, self.bus) if config.telemetry else None
        self.kiosk_hub: KioskHub | None = None
        if config.kiosks is not None:
            section = config.kiosks
            password = Path(section.password_file).read_text().strip() if section.password_file else None
            self.kiosk_hub = KioskHub(
                broker=section.broker,
                hall=config.gateway.hall,
                gateway_id=config.gateway.id,
                client_id=section.client_id or f"hallgw-{config.gateway.id}-kiosks",
                heartbeat_misses=section.heartbeat_misses,
                username=section.username or None,
                password=password,
                on_event=lambda event, fields: log.info(event, **fields),
            )
            KioskDriver.command_timeout = section.command_timeout
        install_hub(self.kiosk_hub)
        self.stopping = asyncio.Event()
        self.notifier = Notifier()

    def ledger_path(self) -> Path:
        section = self.config.kiosks
        if section is not None and section.ledger:
            return Path(section.ledger)
        return Path(self.config.gateway.state_dir) / "ledger.db"

    async def run(self) -> None:
        if self.kiosk_hub is not None:
            # The journal opens before anything can be issued; a broken one stops start-up.
            path = self.ledger_path()
            await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
            KioskDriver.ledger = await Ledger.open(path)
        try:
            await self._serve()
        finally:
            if KioskDriver.ledger is not None:
                await KioskDriver.ledger.close()
                KioskDriver.ledger = None

    async def _serve(self) -> None:
        await self.api.start()
        if self.config.api.tls is None and not _loopback(self.config.api.listen):
            log.warning("serving plaintext gRPC beyond this machine: configure api.tls", listen=self.config.api.listen)
        log.info(
            "gateway started",
            hall=self.config.gateway.hall,
            gateway=self.config.gateway.id,
            listen=self.config.api.listen,
            port=self.api.port,
            devices=len(self.registry.devices),
        )
        self.notifier.send(ready="1", status=f"serving {len(self.registry.devices)} devices on port {self.api.port}")
        try:
            async with asyncio.TaskGroup() as tg:
                background = [
                    tg.create_task(self.registry.run(), name="supervision"),
                    tg.create_task(self._follow_health(), name="health"),
                ]
                if self.telemetry is not None:
                    background.append(tg.create_task(_isolated("telemetry", self.telemetry.run), name="telemetry"))
                if self.kiosk_hub is not None:
                    background.append(tg.create_task(_isolated("kiosk hub", self.kiosk_hub.run), name="kiosk-hub"))
                if self.notifier.watchdog_interval is not None:
                    background.append(tg.create_task(self._watchdog(self.notifier.watchdog_interval), name="watchdog"))
                await self.stopping.wait()
                log.info("gateway stopping")
                self.notifier.send(stopping="1")
                if self.telemetry is not None:
                    await self.telemetry.close()
                await self.api.stop(self.config.api.grace_period)
                for task in background:
                    task.cancel()
        finally:
            self.notifier.close()
            for dev in self.registry.list():
                with contextlib.suppress(Exception):
                    await dev.driver.detach()
            log.info("gateway stopped")

    async def _watchdog(self, interval: float) -> None:
        """Ping systemd's watchdog from the event loop: a hung loop stops the pings."""
        while True:
            self.notifier.send(watchdog="1")
            await asyncio.sleep(interval)

    async def _follow_health(self) -> None:
        async with self.bus.subscribe(lambda ev: isinstance(ev.payload, StateChanged)) as sub:
            async for _ in sub:
                await self.api.update_health()


async def _isolated(name: str, run: Callable[[], Awaitable[None]], *, pause: float = 1.0) -> None:
    """Run ``run`` for ever; a crash (a bug) is logged and restarted, never taking the gateway down."""
    while True:
        try:
            await run()
        except Exception:
            log.exception("component crashed; restarting it", component=name)
        await asyncio.sleep(pause)


def _loopback(listen: str) -> bool:
    host = listen.rpartition(":")[0].strip("[]")
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


async def _serve(config: Config) -> None:
    gateway = Gateway(config)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, gateway.stopping.set)
    await gateway.run()


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``hallgwd``."""
    parser = argparse.ArgumentParser(prog="hallgwd", description="hallgw device gateway daemon")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help=f"TOML config (default {DEFAULT_CONFIG})")
    parser.add_argument("--check-config", action="store_true", help="validate the config and exit")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
        configure_drivers(config)
    except ConfigError as err:
        print(f"hallgwd: configuration error:\n{err}", file=sys.stderr)
        return 2
    if args.check_config:
        print(f"{args.config}: OK ({len(config.devices)} devices, {len(config.stations)} stations)")
        return 0
    configure_logging(level=config.logging.level, fmt=config.logging.format)
    try:
        asyncio.run(_serve(config))
    except OSError as err:
        log.error("cannot start", error=str(err))
        return 1
    except GatewayError as err:  # the kiosk ledger cannot be opened
        log.error("cannot start", reason=err.reason, error=err.message)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
