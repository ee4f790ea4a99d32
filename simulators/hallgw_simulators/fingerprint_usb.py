"""A simulated AS608 fingerprint module on USB, exported over USB/IP.

Theory of operation
-------------------
USB fingerprint modules of the AS608 family (the R30x "USB" variants, the
ZFM boards behind a vendor-class bridge) carry the very packets of the serial
protocol over a pair of bulk endpoints: the host writes a command packet to
bulk OUT 0x01 and reads the acknowledgement (and, for an upload, the data
packets) from bulk IN 0x81. So the USB device here is the engine of
:mod:`hallgw_simulators.fingerprint_device` behind a :class:`UsbBehaviour`:

* **Bulk OUT.** :meth:`As608UsbBehaviour.bulk_out` feeds the bytes to the
  engine, which answers each whole command; its answer (all the packets of
  one command, upload faults applied) is cut into packets of the IN
  endpoint's wMaxPacketSize (64 at full speed), as the device's endpoint
  buffer sends it.
* **Bulk IN.** A transfer takes whole packets while they fit in its length and
  ends after a short packet (the end of one answer), as a host controller
  completes a bulk IN transfer. A host therefore reads until its codec has
  whole AS608 packets, whatever transfer length it asks for. A transfer
  shorter than one USB packet gets the first bytes of it and leaves the rest
  for the next (lenient where real hardware would report an overflow). An IN
  transfer waits (the device NAKs) until there is an answer; the wait is
  cancel-safe, so the host may unlink it on a timeout.
* **Identity.** VID 0x2109, PID 0x7638 (:data:`VENDOR_ID`, :data:`PRODUCT_ID`:
  a fixed pair for every simulated module), the serial number ``FP-`` + the device id upper-cased, full
  speed. The link URL names the server and the identity, not the busid:
  ``usbip://127.0.0.1:PORT?vid=2109&pid=7638&serial=FP-FP-03``, so the
  daemon finds the module again wherever it is plugged.

:class:`FingerprintUsbDevice` is the hall's device: the same ``describe()``,
``apply_fault()``, ``link_url``, ``start()`` and ``stop()`` as the serial
devices. Its faults: the engine's (:data:`~hallgw_simulators.fingerprint_device.ENGINE_FAULTS`:
``place``, ``touch``, ``press``, ``lift``, ``lift_early``, ``sensor_fail``,
``corrupt_upload``, ``stall_upload``), ``silence on|off`` (commands are
swallowed and bulk IN never completes), ``unplug`` (the server closes the
importer's connection: the host's pending and later transfers fail with
ENODEV, and the module leaves the device list), ``replug`` (plugged again at
a busid it did not have before, unplugging first when plugged) and ``clear``.
"""

from __future__ import annotations

import asyncio
import collections
import random
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, ClassVar, Final

from hallgw_simulators.faults import FaultArg, FaultError, no_args, switch_arg
from hallgw_simulators.fingerprint_device import ENGINE_FAULTS, KIND, As608Engine
from hallgw_simulators.fingerprint_module import As608Model
from hallgw_simulators.usbip_server import UsbBehaviour, UsbIpServer, VirtualUsbDevice

__all__ = [
    "FAULTS",
    "PRODUCT_ID",
    "VENDOR_ID",
    "As608UsbBehaviour",
    "FingerprintUsbDevice",
    "serial_number_of",
]

VENDOR_ID: Final = 0x2109
"""The simulated modules' USB vendor id."""
PRODUCT_ID: Final = 0x7638
"""The simulated modules' USB product id."""
MANUFACTURER: Final = "hallgw simulators"
PRODUCT: Final = "AS608 fingerprint module"
MAX_PACKET_SIZE: Final = 64
"""wMaxPacketSize of the bulk endpoints (full speed)."""


def serial_number_of(device_id: str) -> str:
    """The USB serial number of the simulated module ``device_id``: ``FP-`` + the id upper-cased."""
    return f"FP-{device_id.upper()}"


class As608UsbBehaviour(UsbBehaviour):
    """Bulk OUT into the AS608 engine, its answers out of bulk IN in max-packet-size packets."""

    def __init__(self, engine: As608Engine, *, max_packet_size: int = MAX_PACKET_SIZE) -> None:
        if max_packet_size <= 0:
            raise ValueError(f"expected a positive max packet size, got {max_packet_size}")
        self.engine = engine
        self.max_packet_size = max_packet_size
        self._silent = False
        self._packets: collections.deque[bytes] = collections.deque()
        self._ready = asyncio.Event()
        self.out_transfers = 0
        self.in_transfers = 0

    @property
    def silent(self) -> bool:
        """Commands are swallowed and bulk IN never completes."""
        return self._silent

    @silent.setter
    def silent(self, value: bool) -> None:
        self._silent = value
        self._ready.set()  # waiters look again

    @property
    def pending_bytes(self) -> int:
        """Answer bytes the host has not read yet."""
        return sum(len(p) for p in self._packets)

    def bulk_out(self, data: bytes) -> None:
        self.out_transfers += 1
        self.engine.receive_data(data)
        while (reply := self.engine.next_reply(silent=self._silent)) is not None:
            stream = b"".join(reply)
            size = self.max_packet_size
            self._packets.extend(stream[i : i + size] for i in range(0, len(stream), size))
        if self._packets:
            self._ready.set()

    async def bulk_in(self, max_length: int) -> bytes:
        while self._silent or not self._packets:
            self._ready.clear()
            await self._ready.wait()
        # No await below: a cancelled transfer has taken nothing.
        out = bytearray()
        while self._packets and len(out) + len(self._packets[0]) <= max_length:
            packet = self._packets.popleft()
            out += packet
            if len(packet) < self.max_packet_size:
                break  # a short packet ends the transfer
        if not out:
            first = self._packets[0]
            out += first[:max_length]
            self._packets[0] = first[max_length:]
        self.in_transfers += 1
        return bytes(out)

    def reset(self) -> None:
        """A new importer or a port reset: no partial command, no unread answer survives."""
        self.engine.new_link()
        self._packets.clear()


UsbFaultHandler = Callable[["FingerprintUsbDevice", str, Sequence[FaultArg]], Awaitable[None]]


class FingerprintUsbDevice:
    """One simulated AS608 module on USB, exported by the hall's USB/IP server (see module docstring)."""

    kind: ClassVar[str] = KIND
    transport: ClassVar[str] = "usbip"
    FAULT_HANDLERS: ClassVar[Mapping[str, UsbFaultHandler]]

    def __init__(
        self,
        *,
        device_id: str,
        seed: int,
        server: UsbIpServer,
        packet_size: int = 128,
        password: int = 0,
        library_size: int = 300,
        station: str | None = None,
        name: str | None = None,
    ) -> None:
        self.device_id = device_id
        self.station = station
        self.name = name
        self.server = server
        self.engine = As608Engine(
            seed=seed,
            model=As608Model(seed=seed, packet_size=packet_size, password=password, library_size=library_size),
            rng=random.Random(f"hallsim/{seed}/{device_id}/wire"),  # noqa: S311 - not for secrets
        )
        self.behaviour = As608UsbBehaviour(self.engine)
        self.usb = VirtualUsbDevice(
            vendor_id=VENDOR_ID,
            product_id=PRODUCT_ID,
            serial_number=serial_number_of(device_id),
            behaviour=self.behaviour,
            manufacturer=MANUFACTURER,
            product=PRODUCT,
            max_packet_size=MAX_PACKET_SIZE,
        )
        self.busid: str | None = None
        """Where the module is exported now; None while unplugged."""
        self._busids: set[str] = set()
        """Every busid it has had: a replug takes a new one."""

    @property
    def model(self) -> As608Model:
        """The module model (the engine's)."""
        return self.engine.model

    @property
    def serial_number(self) -> str:
        return self.usb.serial_number

    @property
    def plugged(self) -> bool:
        return self.busid is not None

    # -- lifecycle ---------------------------------------------------------------
    async def start(self) -> None:
        """Export the module (the server must be started: the link names its port)."""
        self._plug()

    async def stop(self) -> None:
        """Stop a finger's timeline and take the module off the bus."""
        self.engine.close()
        self._unplug_now()

    def _plug(self) -> None:
        port = 1
        while (busid := f"{self.server.busnum}-{port}") in self.server.exported() or busid in self._busids:
            port += 1
        self.busid = self.server.plug(self.usb, busid=busid)
        self._busids.add(self.busid)

    def _unplug_now(self) -> None:
        if self.busid is not None:
            busid, self.busid = self.busid, None
            self.server.unplug(busid)

    @property
    def link_url(self) -> str:
        """``usbip://HOST:PORT?vid=2109&pid=7638&serial=...``: found by identity, wherever it is plugged."""
        query = urllib.parse.urlencode(
            {"vid": f"{VENDOR_ID:04x}", "pid": f"{PRODUCT_ID:04x}", "serial": self.serial_number}
        )
        return f"usbip://{self.server.host}:{self.server.port}?{query}"

    def describe(self) -> dict[str, Any]:
        """State for the control protocol: where it is, the module's state and the faults."""
        return {
            "id": self.device_id,
            "kind": self.kind,
            "station": self.station,
            "transport": self.transport,
            "link": self.link_url,
            "host": self.server.host,
            "port": self.server.port,
            "busid": self.busid,
            "vid": f"{VENDOR_ID:04x}",
            "pid": f"{PRODUCT_ID:04x}",
            "serial": self.serial_number,
            "plugged": self.plugged,
            "attached": self.busid is not None and self.server.is_attached(self.busid),
            **self.engine.describe(),
            "faults": self.engine.fault_state() | {"silence": self.behaviour.silent},
        }

    # -- faults ------------------------------------------------------------------
    async def apply_fault(self, name: str, args: Sequence[FaultArg] = ()) -> None:
        """Apply one fault by name (see :data:`FAULTS`); raises :class:`FaultError`."""
        handler = self.FAULT_HANDLERS.get(name)
        if handler is None:
            raise FaultError(f"unknown fault {name!r}; known: {', '.join(self.FAULT_HANDLERS)}")
        await handler(self, name, args)

    async def _engine_fault(self, name: str, args: Sequence[FaultArg]) -> None:
        await self.engine.apply_fault(name, args)

    async def _silence(self, name: str, args: Sequence[FaultArg]) -> None:
        self.behaviour.silent = switch_arg(name, args)

    async def _unplug(self, name: str, args: Sequence[FaultArg]) -> None:
        no_args(name, args)
        self._unplug_now()

    async def _replug(self, name: str, args: Sequence[FaultArg]) -> None:
        no_args(name, args)
        self._unplug_now()
        self._plug()

    async def _clear(self, name: str, args: Sequence[FaultArg]) -> None:
        no_args(name, args)
        self.engine.clear_faults()
        self.behaviour.silent = False


FingerprintUsbDevice.FAULT_HANDLERS = {
    **dict.fromkeys(ENGINE_FAULTS, FingerprintUsbDevice._engine_fault),
    "silence": FingerprintUsbDevice._silence,
    "unplug": FingerprintUsbDevice._unplug,
    "replug": FingerprintUsbDevice._replug,
    "clear": FingerprintUsbDevice._clear,
}

FAULTS: Final = tuple(FingerprintUsbDevice.FAULT_HANDLERS)
"""Fault names :meth:`FingerprintUsbDevice.apply_fault` accepts."""
