"""A virtual hall: every simulator of a scenario plus the control server.

``async with VirtualHall(scenario, state_dir=...) as hall`` starts each device
on its transport (pty symlinks go into ``state_dir``) and the JSON-lines
control server on 127.0.0.1; leaving the block closes everything and removes
the symlinks. :meth:`VirtualHall.handle` is the control protocol's dispatcher.

USB devices (transport ``usbip``: the fingerprint scanners) hang on one
:class:`~hallgw_simulators.usbip_server.UsbIpServer` per hall, on 127.0.0.1
and a free port, started before the devices and closed after them; the ready
file lists it under ``"usbip"``.

Kiosks (kind ``kiosk``, transport ``mqtt``) are
:class:`~hallgw_simulators.kiosk_device.KioskDevice` objects, each with its
own MQTT connection to the hall's broker (``[hall] broker`` in the scenario,
or the ``broker`` argument: hallsim never starts one). They are started by a
:class:`~hallgw_simulators.kiosk_fleet.KioskFleet` after the other devices,
keep their command windows under ``state_dir/kiosks``, take faults through the
``fault`` op like every device, and are listed by the ``kiosks`` op and under
``"kiosks"`` in the ready file.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

from hallgw_simulators.camera_device import DEFAULT_FPS as CAMERA_FPS
from hallgw_simulators.camera_device import CameraDevice
from hallgw_simulators.control import ControlServer
from hallgw_simulators.daemon_config import render_daemon_config
from hallgw_simulators.deck import Deck, build_deck
from hallgw_simulators.dmx_device import DmxInterfaceDevice
from hallgw_simulators.document_reader_device import DocumentReaderDevice
from hallgw_simulators.document_scene import document_camera
from hallgw_simulators.faults import FaultArg, FaultError
from hallgw_simulators.fingerprint_device import DEFAULT_BAUD as FINGERPRINT_DEFAULT_BAUD
from hallgw_simulators.fingerprint_device import FingerprintModuleDevice
from hallgw_simulators.fingerprint_usb import FingerprintUsbDevice
from hallgw_simulators.idcard_device import IdCardReaderDevice
from hallgw_simulators.kiosk_device import KioskDevice, KioskTiming, broker_address
from hallgw_simulators.kiosk_fleet import KioskFleet
from hallgw_simulators.links import Endpoint, PtyEndpoint, TcpEndpoint
from hallgw_simulators.mrz_reader_device import DEFAULT_BAUD as MRZ_DEFAULT_BAUD
from hallgw_simulators.mrz_reader_device import MrzReaderDevice
from hallgw_simulators.passport_deck import PassportDeck, build_passport_deck
from hallgw_simulators.passport_pki import write_csca_pem
from hallgw_simulators.payment_scanner_device import DEFAULT_BAUD as SCANNER_DEFAULT_BAUD
from hallgw_simulators.payment_scanner_device import PaymentScannerDevice
from hallgw_simulators.photo_booth import VideoFileCamera, booth_camera
from hallgw_simulators.scenario import DeviceSpec, Scenario, ScenarioError
from hallgw_simulators.ticket_printer_device import DEFAULT_BAUD as TICKET_DEFAULT_BAUD
from hallgw_simulators.ticket_printer_device import TicketPrinterDevice
from hallgw_simulators.usbip_server import UsbIpServer


class CupsQueue:
    """A form printer of the scenario: a queue on a real CUPS server, which hallsim does not simulate.

    The hall only names it (``ipp://SERVER/printers/QUEUE`` in the daemon config); the
    server and its queue are whoever runs the hall's business (a test's private cupsd,
    the demo's). It takes no faults: stop, disable or fill the queue with CUPS's tools.
    """

    kind: Final = "form_printer"

    def __init__(self, device_id: str, *, server: str, queue: str, station: str | None, name: str | None) -> None:
        self.device_id = device_id
        self.server = server
        self.queue = queue
        self.station = station
        self.name = name

    @property
    def link_url(self) -> str:
        return f"ipp://{self.server}/printers/{self.queue}"

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def apply_fault(self, name: str, args: Sequence[FaultArg] = ()) -> None:
        raise FaultError(f"{self.device_id} is a CUPS queue: use cupsdisable, cupsaccept or lpadmin on its server")

    def describe(self) -> dict[str, Any]:
        return {"id": self.device_id, "kind": self.kind, "station": self.station, "transport": "ipp",
                "link": self.link_url}  # fmt: skip


SimDevice = (
    IdCardReaderDevice
    | MrzReaderDevice
    | DocumentReaderDevice
    | FingerprintModuleDevice
    | FingerprintUsbDevice
    | DmxInterfaceDevice
    | PaymentScannerDevice
    | TicketPrinterDevice
    | CupsQueue
    | CameraDevice
    | VideoFileCamera
)

_FIELDS: dict[str, frozenset[str]] = {
    "list": frozenset({"op"}),
    "cards": frozenset({"op"}),
    "insert": frozenset({"op", "device", "card"}),
    "remove": frozenset({"op", "device"}),
    "fault": frozenset({"op", "device", "fault", "args"}),
    "documents": frozenset({"op"}),
    "place": frozenset({"op", "station", "document", "options"}),
    "kiosks": frozenset({"op", "station", "kind", "device"}),
}
"""Ops and the fields each request may carry: an unknown field is an error, not ignored."""


class VirtualHall:
    """The simulators of one scenario and the control server that drives them."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        state_dir: Path,
        control_host: str = "127.0.0.1",
        control_port: int | None = None,
        seed: int | None = None,
        baud: int | None = None,
        broker: str | None = None,
        cups: str | None = None,
    ) -> None:
        """``seed`` overrides the scenario's; ``baud`` overrides every device's line rate.

        ``broker`` (``mqtt://HOST:PORT``) overrides the scenario's ``[hall] broker``; a
        scenario with kiosks needs one or the other (:class:`ScenarioError`). ``cups``
        (``HOST:PORT``) likewise overrides ``[hall] cups`` for the form printers' queues.
        """
        self.scenario = scenario
        self.state_dir = state_dir.resolve()
        self.seed = scenario.hall.seed if seed is None else seed
        self.deck: Deck = build_deck(self.seed)
        self.passports: PassportDeck = build_passport_deck()
        self.usbip: UsbIpServer | None = (
            UsbIpServer(host="127.0.0.1", port=0) if any(d.transport == "usbip" for d in scenario.devices) else None
        )
        """The hall's USB/IP server, when a device is on USB."""
        self.cups = cups if cups is not None else scenario.hall.cups
        """HOST:PORT of the CUPS server with the form printers' queues."""
        self.broker = broker if broker is not None else scenario.hall.broker
        """The kiosks' broker, ``mqtt://HOST:PORT``."""
        self.kiosks = KioskFleet([self._kiosk(spec) for spec in scenario.kiosks])
        self.devices: dict[str, SimDevice] = {
            spec.id: self._device(spec, baud) for spec in scenario.devices if spec.kind != "kiosk"
        }
        port = scenario.hall.control_port if control_port is None else control_port
        self.control = ControlServer(self.handle, host=control_host, port=port)
        self._started: list[SimDevice] = []

    @property
    def csca_path(self) -> Path | None:
        """Where the test CSCA certificate is written, for the daemon's passive authentication."""
        if not any(isinstance(d, DocumentReaderDevice) for d in self.devices.values()):
            return None
        return self.state_dir / "csca" / "uto-csca.pem"

    def _kiosk(self, spec: DeviceSpec) -> KioskDevice:
        if self.broker is None:
            raise ScenarioError(
                "scenario",
                "hall.broker",
                f"the hall has {len(self.scenario.kiosks)} kiosks and no MQTT broker: set [hall] broker = "
                '"mqtt://HOST:PORT" or run hallsim run --broker mqtt://HOST:PORT',
            )
        try:
            host, port = broker_address(self.broker)
        except ValueError as err:
            raise ScenarioError("scenario", "hall.broker", str(err)) from None
        timing = self.scenario.kiosk_timing
        return KioskDevice(
            kiosk_id=spec.id,
            kiosk_kind=spec.kiosk_kind or "",
            hall=self.scenario.hall.name,
            broker_host=host,
            broker_port=port,
            state_dir=self.state_dir / "kiosks",
            seed=self.seed,
            station=spec.station,
            name=spec.name,
            timing=KioskTiming(
                heartbeat_interval=timing.heartbeat_interval,
                step_delay=timing.step_delay,
                pickup_timeout=timing.pickup_timeout,
            ),
            **({"slots": spec.slots} if spec.slots is not None else {}),
        )

    def _lit(self, station: str) -> bool:
        """Whether the station's studio lights are up (a station without a DMX interface is lit)."""
        widget = next(
            (d for d in self.devices.values() if isinstance(d, DmxInterfaceDevice) and d.station == station), None
        )
        return widget is None or any(widget.levels)

    def _camera(self, spec: DeviceSpec) -> CameraDevice | VideoFileCamera:
        script = spec.script or "walk_in"
        if spec.transport == "file":
            return VideoFileCamera(
                spec.id,
                path=self.state_dir / "cameras" / f"{spec.id}.avi",
                script=script,
                seed=self.seed,
                station=spec.station,
                name=spec.name,
            )
        return booth_camera(
            spec.id,
            script=script,
            seed=self.seed,
            lit=lambda: self._lit(spec.station),
            station=spec.station,
            name=spec.name,
            fps=spec.fps or CAMERA_FPS,
        )

    def _device(self, spec: DeviceSpec, baud_override: int | None) -> SimDevice:
        if spec.kind == "camera":
            return self._camera(spec)
        if spec.kind == "form_printer":
            if self.cups is None:
                raise ScenarioError(
                    "scenario",
                    "hall.cups",
                    f"{spec.id} is a CUPS queue and the hall names no CUPS server: set [hall] cups = "
                    '"HOST:PORT" or run hallsim run --cups HOST:PORT',
                )
            assert spec.queue is not None  # noqa: S101 - required for a form printer by the scenario parser
            return CupsQueue(spec.id, server=self.cups, queue=spec.queue, station=spec.station, name=spec.name)
        if spec.kind == "document_camera":
            return document_camera(
                spec.id,
                script=spec.script or "two_pages",
                seed=self.seed,
                station=spec.station,
                name=spec.name,
                fps=spec.fps or CAMERA_FPS,
            )
        if spec.kind == "document_reader":
            return DocumentReaderDevice(
                device_id=spec.id,
                deck=self.passports,
                slot=spec.slot,
                seed=self.seed,
                station=spec.station,
                name=spec.name,
                document=spec.document,
            )
        if spec.transport == "usbip":
            assert self.usbip is not None  # noqa: S101 - created for any usbip device
            return FingerprintUsbDevice(
                device_id=spec.id, seed=self.seed, server=self.usbip, station=spec.station, name=spec.name
            )
        endpoint: Endpoint
        if spec.transport == "pty":
            endpoint = PtyEndpoint(spec.id, self.state_dir / f"{spec.id}.tty")
        else:
            endpoint = TcpEndpoint(spec.id, "127.0.0.1", spec.port)
        return self._serial_device(spec, endpoint, baud_override)

    def _serial_device(self, spec: DeviceSpec, endpoint: Endpoint, baud_override: int | None) -> SimDevice:
        if spec.kind == "mrz_reader":
            # Its own line rate (9600 as these readers ship) unless the scenario or the run says otherwise.
            mrz_baud = baud_override if baud_override is not None else spec.baud
            return MrzReaderDevice(
                device_id=spec.id,
                seed=self.seed,
                endpoint=endpoint,
                deck=self.passports,
                station=spec.station,
                name=spec.name,
                baud=MRZ_DEFAULT_BAUD if mrz_baud is None else mrz_baud,
            )
        if spec.kind == "ticket_printer":
            ticket_baud = baud_override if baud_override is not None else spec.baud
            return TicketPrinterDevice(
                device_id=spec.id,
                seed=self.seed,
                endpoint=endpoint,
                station=spec.station,
                name=spec.name,
                baud=TICKET_DEFAULT_BAUD if ticket_baud is None else ticket_baud,
            )
        if spec.kind == "payment_scanner":
            scanner_baud = baud_override if baud_override is not None else spec.baud
            return PaymentScannerDevice(
                device_id=spec.id,
                seed=self.seed,
                endpoint=endpoint,
                station=spec.station,
                name=spec.name,
                baud=SCANNER_DEFAULT_BAUD if scanner_baud is None else scanner_baud,
            )
        if spec.kind == "lighting":
            return DmxInterfaceDevice(
                device_id=spec.id, seed=self.seed, endpoint=endpoint, station=spec.station, name=spec.name
            )
        if spec.kind == "fingerprint_scanner":
            # 57600 as the modules ship, unless the scenario or the run says otherwise.
            fp_baud = baud_override if baud_override is not None else spec.baud
            return FingerprintModuleDevice(
                device_id=spec.id,
                seed=self.seed,
                endpoint=endpoint,
                station=spec.station,
                name=spec.name,
                baud=FINGERPRINT_DEFAULT_BAUD if fp_baud is None else fp_baud,
            )
        if baud_override is not None:
            baud = baud_override
        else:
            baud = spec.baud if spec.baud is not None else self.scenario.hall.baud
        return IdCardReaderDevice(
            device_id=spec.id,
            deck=self.deck,
            seed=self.seed,
            baud=baud,
            endpoint=endpoint,
            card=spec.card,
            station=spec.station,
            name=spec.name,
        )

    # -- lifecycle ---------------------------------------------------------------
    async def start(self) -> None:
        """Start every device, then the control server; undo everything on failure."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if self.csca_path is not None:
            self.csca_path.parent.mkdir(exist_ok=True)
            write_csca_pem(self.csca_path)
        try:
            if self.usbip is not None:
                await self.usbip.start()
            for device in self.devices.values():
                await device.start()
                self._started.append(device)
            await self.kiosks.start()
            await self.control.start()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop the control server and every device (removing pty symlinks)."""
        await self.control.stop()
        await self.kiosks.stop()
        while self._started:
            device = self._started.pop()
            with contextlib.suppress(OSError):
                await device.stop()
        if self.usbip is not None:
            await self.usbip.close()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def control_address(self) -> tuple[str, int]:
        """(host, port) of the control server."""
        return self.control.host, self.control.port

    def daemon_config(self, *, api_listen: str = "127.0.0.1:50051", log_level: str = "info") -> str:
        """The daemon config pointing at this hall's devices."""
        links = {device_id: device.link_url for device_id, device in self.devices.items()}
        links.update({kiosk.kiosk_id: kiosk.link_url for kiosk in self.kiosks})
        return render_daemon_config(
            self.scenario,
            links=links,
            state_dir=self.state_dir,
            api_listen=api_listen,
            log_level=log_level,
            csca=self.csca_path,
            kiosk_broker=self.broker if len(self.kiosks) else None,
        )

    def ready_info(self) -> dict[str, Any]:
        """What the ready file says: the control address and where each device is."""
        host, port = self.control_address
        info: dict[str, Any] = {
            "hall": self.scenario.hall.name,
            "seed": self.seed,
            "control": {"host": host, "port": port},
        }
        if self.usbip is not None:
            info["usbip"] = {"host": self.usbip.host, "port": self.usbip.port}
        info["devices"] = [_where(device) for device in self.devices.values()]
        if len(self.kiosks):
            info["broker"] = self.broker
            info["kiosks"] = [
                {
                    "id": k.kiosk_id,
                    "kind": k.kiosk_kind.value,
                    "station": k.station,
                    "link": k.link_url,
                    "topic_base": k.topics.base,
                }
                for k in self.kiosks
            ]
        return info

    # -- control protocol --------------------------------------------------------
    async def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer one control request (never raises for a bad request)."""
        op = request.get("op")
        if not isinstance(op, str) or op not in _FIELDS:
            return {"ok": False, "error": f"unknown op {op!r}; known: {', '.join(_FIELDS)}"}
        unknown = sorted(set(request) - _FIELDS[op])
        if unknown:
            return {"ok": False, "error": f"unknown field(s) for {op}: {', '.join(unknown)}"}
        try:
            return await _OP_HANDLERS[op](self, request)
        except FaultError as err:
            return {"ok": False, "error": str(err)}
        except OSError as err:
            # openpty or listen failing on replug: report it, keep serving.
            return {"ok": False, "error": f"{op} failed: {err}"}

    async def _op_list(self, request: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "hall": self.scenario.hall.name, "devices": self._list()}

    async def _op_cards(self, request: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "cards": self.deck.describe()}

    async def _op_documents(self, request: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "documents": self.passports.describe()}

    async def _op_place(self, request: dict[str, Any]) -> dict[str, Any]:
        """A document presented at a station: its data page through the MRZ reader, its chip on the reader."""
        station, document = request.get("station"), request.get("document")
        if not isinstance(station, str) or not isinstance(document, str):
            raise FaultError("place needs a station id in 'station' and a document id in 'document'")
        options = request.get("options", [])
        if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
            raise FaultError("'options' is a list of strings (tampered-dgN, bad-signature)")
        at_station = [d for d in self.devices.values() if d.station == station]
        chip = next((d for d in at_station if isinstance(d, DocumentReaderDevice)), None)
        scanner = next((d for d in at_station if isinstance(d, MrzReaderDevice)), None)
        if chip is None and scanner is None:
            raise FaultError(f"station {station!r} has no MRZ reader and no document reader")
        if chip is not None:
            await chip.apply_fault("insert", [document, *options])
        if scanner is not None:
            await scanner.scan(document)
        return {"ok": True, "devices": [d.describe() for d in (chip, scanner) if d is not None]}

    async def _op_insert(self, request: dict[str, Any]) -> dict[str, Any]:
        device = self._target(request)
        card = request.get("card")
        if not isinstance(card, str):
            raise FaultError("insert needs a card id in 'card'")
        await device.apply_fault("insert", [card])
        return {"ok": True, "device": device.describe()}

    async def _op_remove(self, request: dict[str, Any]) -> dict[str, Any]:
        device = self._target(request)
        await device.apply_fault("remove")
        return {"ok": True, "device": device.describe()}

    async def _op_fault(self, request: dict[str, Any]) -> dict[str, Any]:
        device = self._target(request)
        await device.apply_fault(*self._fault_request(request))
        return {"ok": True, "device": device.describe()}

    async def _op_kiosks(self, request: dict[str, Any]) -> dict[str, Any]:
        """The kiosks (optionally of one station, kind or id) with their state and counts, and fleet totals."""
        station, kind, device = request.get("station"), request.get("kind"), request.get("device")
        for key, value in (("station", station), ("kind", kind), ("device", device)):
            if value is not None and not isinstance(value, str):
                raise FaultError(f"'{key}' is a string")
        chosen = [
            k
            for k in self.kiosks
            if (station is None or k.station == station)
            and (kind is None or k.kiosk_kind.value == kind)
            and (device is None or k.kiosk_id == device)
        ]
        return {"ok": True, "broker": self.broker, **self.kiosks.summary(), "kiosks": [k.describe() for k in chosen]}

    def _list(self) -> list[dict[str, Any]]:
        return [device.describe() for device in self.devices.values()]

    def _target(self, request: dict[str, Any]) -> SimDevice | KioskDevice:
        device_id = request.get("device")
        if not isinstance(device_id, str):
            raise FaultError("the request needs a device id in 'device'")
        if device_id in self.kiosks:
            return self.kiosks[device_id]
        try:
            return self.devices[device_id]
        except KeyError:
            known = ", ".join(self.devices)
            more = f" and {len(self.kiosks)} kiosks (see the kiosks op)" if len(self.kiosks) else ""
            raise FaultError(f"unknown device {device_id!r}; known: {known}{more}") from None

    @staticmethod
    def _fault_request(request: dict[str, Any]) -> tuple[str, Sequence[FaultArg]]:
        name = request.get("fault")
        if not isinstance(name, str):
            raise FaultError("a fault request needs the fault name in 'fault'")
        args = request.get("args", [])
        if not isinstance(args, list) or not all(isinstance(a, str | int | bool) for a in args):
            raise FaultError("'args' is a list of strings, numbers or booleans")
        return name, args


_OP_HANDLERS: Final[dict[str, Callable[[VirtualHall, dict[str, Any]], Coroutine[Any, Any, dict[str, Any]]]]] = {
    "list": VirtualHall._op_list,
    "cards": VirtualHall._op_cards,
    "insert": VirtualHall._op_insert,
    "remove": VirtualHall._op_remove,
    "fault": VirtualHall._op_fault,
    "documents": VirtualHall._op_documents,
    "place": VirtualHall._op_place,
    "kiosks": VirtualHall._op_kiosks,
}


def _where(device: SimDevice) -> dict[str, Any]:
    """A device's entry in the ready file."""
    if isinstance(device, CupsQueue):
        return {**device.describe(), "path": None, "port": None}
    if isinstance(device, CameraDevice | VideoFileCamera):
        file = isinstance(device, VideoFileCamera)
        return {
            "id": device.device_id,
            "kind": device.kind,
            "station": device.station,
            "transport": "file" if file else "http",
            "link": device.link_url,
            "path": None,  # "path" is a pty's, removed at stop; the video stays with the state
            "port": None if isinstance(device, VideoFileCamera) else device.port,
            "file": str(device.path) if isinstance(device, VideoFileCamera) else None,
        }
    if isinstance(device, DocumentReaderDevice):
        return {
            "id": device.device_id,
            "kind": device.kind,
            "station": device.station,
            "transport": "vpcd",
            "link": device.link_url,
            "path": None,
            "port": device.port,
        }
    if isinstance(device, FingerprintUsbDevice):
        return {
            "id": device.device_id,
            "kind": device.kind,
            "station": device.station,
            "transport": device.transport,
            "link": device.link_url,
            "path": None,
            "port": device.server.port,
            "busid": device.busid,
        }
    endpoint = device.endpoint
    return {
        "id": device.device_id,
        "kind": device.kind,
        "station": device.station,
        "transport": endpoint.transport,
        "link": device.link_url,
        "path": str(endpoint.path) if isinstance(endpoint, PtyEndpoint) else None,
        "port": endpoint.port if isinstance(endpoint, TcpEndpoint) else None,
    }
