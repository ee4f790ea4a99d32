"""Scenario files: which stations and devices a virtual hall has.

The schema is small and strict: an unknown key, a missing key or a value of the
wrong type or range is a :class:`ScenarioError` that names the file and the key
path (``devices[2].transport``). See ``docs/simulators.md`` for the schema.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Collection
from importlib import resources
from pathlib import Path
from typing import Any, Final, TypeVar

from hallgw_simulators.deck import build_deck
from hallgw_simulators.links import BAUD_RATES
from hallgw_simulators.passport_deck import build_passport_deck

STATION_KINDS: Final = ("window", "desk", "booth", "area24")
DEVICE_KINDS: Final = (
    "idcard_reader", "mrz_reader", "document_reader", "fingerprint_scanner", "kiosk", "camera", "lighting",
    "payment_scanner", "document_camera", "ticket_printer", "form_printer",
)  # fmt: skip
TRANSPORTS: Final = ("pty", "tcp", "vpcd", "usbip", "mqtt", "http", "file", "ipp")
SERIAL_TRANSPORTS: Final = ("pty", "tcp")
KIND_TRANSPORTS: Final = {
    "idcard_reader": SERIAL_TRANSPORTS,
    "mrz_reader": SERIAL_TRANSPORTS,
    "document_reader": ("vpcd",),
    "fingerprint_scanner": (*SERIAL_TRANSPORTS, "usbip"),
    "kiosk": ("mqtt",),
    "camera": ("http", "file"),
    "lighting": SERIAL_TRANSPORTS,
    "payment_scanner": SERIAL_TRANSPORTS,
    "document_camera": ("http",),
    "ticket_printer": SERIAL_TRANSPORTS,
    "form_printer": ("ipp",),
}
"""The transports each kind of device comes on."""
KIOSK_KINDS: Final = ("endorsement", "collection", "record_query")
"""A kiosk's own kind (``kiosk_kind``), as in the kiosk protocol."""
SCRIPTS_OF_KIND: Final = {"camera": ("walk_in", "still"), "document_camera": ("two_pages", "still", "empty", "dark")}
"""What each simulated camera can show: hallgw_simulators.photo_booth.SCRIPTS, document_scene.SCRIPTS."""
CAMERA_SCRIPTS: Final = ("walk_in", "still", "two_pages", "empty", "dark")
MAX_KIOSKS: Final = 5000
VPCD_SLOTS: Final = 2
"""vpcd's slots per pcscd (readers Virtual PCD 00 00 and 00 01)."""
_IDENT: Final = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
"""The daemon's id syntax: a scenario must not produce a config the daemon refuses."""
_BROKER: Final = re.compile(r"mqtt://[A-Za-z0-9.\-]+:[0-9]{1,5}")
_CUPS: Final = re.compile(r"[A-Za-z0-9.\-]+:[0-9]{1,5}")
_QUEUE: Final = re.compile(r"[A-Za-z0-9_\-]{1,127}")
_T = TypeVar("_T")


class ScenarioError(ValueError):
    """A scenario that does not follow the schema; says where and what."""

    def __init__(self, source: str, path: str, message: str) -> None:
        super().__init__(f"{source}: {path}: {message}" if path else f"{source}: {message}")
        self.source = source
        self.path = path
        self.message = message


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class HallSpec:
    """The ``[hall]`` table."""

    name: str
    seed: int = 0
    baud: int = 115200
    gateway: str = "gw-01"
    control_port: int = 0
    broker: str | None = None
    """``mqtt://HOST:PORT`` of the broker the kiosks use (``hallsim run --broker`` overrides it)."""
    cups: str | None = None
    """``HOST:PORT`` of the CUPS server holding the form printers' queues (``hallsim run --cups`` overrides it)."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class StationSpec:
    """One ``[[stations]]`` entry: a window, desk, booth or 24-hour area."""

    id: str
    kind: str
    name: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class DeviceSpec:
    """One ``[[devices]]`` entry."""

    id: str
    kind: str
    station: str
    transport: str
    baud: int | None = None
    """Line rate; None means the kind's default (the hall's for an ID card reader)."""
    card: str | None = None
    """Card id lying on the reader at start."""
    name: str | None = None
    port: int = 0
    """TCP port (tcp transport only); 0 picks a free one."""
    slot: int = 0
    """vpcd slot of a document reader (0 or 1)."""
    document: str | None = None
    """Passport deck document lying on a document reader at start."""
    kiosk_kind: str | None = None
    """A kiosk's kind: endorsement, collection or record_query (kind ``kiosk`` only)."""
    slots: int | None = None
    """A collection kiosk's slot count (None: the simulator's default)."""
    script: str | None = None
    """A camera's script (walk_in or still; None: walk_in)."""
    queue: str | None = None
    """A form printer's CUPS queue (on the hall's ``cups`` server)."""
    fps: float | None = None
    """A camera's frames per second (None: the camera's default, 10)."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class KioskTimingSpec:
    """The optional ``[kiosks]`` table: how fast the simulated kiosks work."""

    heartbeat_interval: int = 5
    step_delay: float = 0.01
    pickup_timeout: float = 0.05


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    """A whole virtual hall."""

    hall: HallSpec
    stations: tuple[StationSpec, ...]
    devices: tuple[DeviceSpec, ...]
    kiosk_timing: KioskTimingSpec = KioskTimingSpec()

    @property
    def kiosks(self) -> tuple[DeviceSpec, ...]:
        """The kiosks (kind ``kiosk``), from ``[[devices]]`` and ``[[kiosk_groups]]``."""
        return tuple(d for d in self.devices if d.kind == "kiosk")

    def station(self, station_id: str) -> StationSpec:
        """The station with this id."""
        return next(s for s in self.stations if s.id == station_id)


class _Table:
    """Reads one TOML table, remembering which keys were used."""

    def __init__(self, source: str, path: str, value: object) -> None:
        self.source = source
        self.path = path
        if not isinstance(value, dict):
            raise self.error("", f"expected a table, got {_type(value)}")
        self.data: dict[str, Any] = value
        self.used: set[str] = set()

    def error(self, key: str, message: str) -> ScenarioError:
        return ScenarioError(self.source, ".".join(p for p in (self.path, key) if p), message)

    def _get(self, key: str, required: bool) -> object:
        self.used.add(key)
        if key not in self.data and required:
            raise self.error(key, "is required")
        return self.data.get(key)

    def string(
        self, key: str, *, required: bool = False, ident: bool = False, choices: Collection[str] = ()
    ) -> str | None:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.error(key, f"expected a string, got {_type(value)}")
        if ident and not _IDENT.fullmatch(value):
            raise self.error(key, f"expected 1-63 lower-case letters, digits or '-' (not first), got {value!r}")
        if choices and value not in choices:
            raise self.error(key, f"expected one of {', '.join(map(repr, choices))}, got {value!r}")
        if not value.strip():
            raise self.error(key, "must not be empty")
        return value

    def integer(self, key: str, *, minimum: int, maximum: int) -> int | None:
        value = self._get(key, False)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"expected an integer, got {_type(value)}")
        if not minimum <= value <= maximum:
            raise self.error(key, f"expected {minimum}..{maximum}, got {value}")
        return value

    def number(self, key: str, *, minimum: float, maximum: float) -> float | None:
        value = self._get(key, False)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(key, f"expected a number, got {_type(value)}")
        if not minimum <= value <= maximum:
            raise self.error(key, f"expected {minimum}..{maximum}, got {value}")
        return float(value)

    def baud(self, key: str) -> int | None:
        value = self.integer(key, minimum=0, maximum=max(BAUD_RATES))
        if value is not None and value and value not in BAUD_RATES:
            raise self.error(key, f"expected 0 (unpaced) or one of {', '.join(map(str, BAUD_RATES))}, got {value}")
        return value

    def array(self, key: str) -> list[object]:
        value = self._get(key, False)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(key, f"expected an array of tables, got {_type(value)}")
        return value

    def done(self) -> None:
        for key in self.data:
            if key not in self.used:
                raise self.error(key, "unknown key")


def _type(value: object) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "an array"}.get(
        type(value), "a table" if isinstance(value, dict) else type(value).__name__
    )


def _must(value: str | None) -> str:
    assert value is not None  # noqa: S101 - guarded by required=True
    return value


def parse_scenario(data: dict[str, Any], *, source: str = "<scenario>") -> Scenario:
    """Validate parsed TOML and build a :class:`Scenario`."""
    top = _Table(source, "", data)
    hall_table = _Table(source, "hall", top._get("hall", True))
    defaults = HallSpec(name="x")
    hall = HallSpec(
        name=_must(hall_table.string("name", required=True, ident=True)),
        seed=_pick(hall_table.integer("seed", minimum=0, maximum=2**63 - 1), defaults.seed),
        baud=_pick(hall_table.baud("baud"), defaults.baud),
        gateway=_pick(hall_table.string("gateway", ident=True), defaults.gateway),
        control_port=_pick(hall_table.integer("control_port", minimum=0, maximum=65535), defaults.control_port),
        broker=_broker(hall_table),
        cups=_cups(hall_table),
    )
    hall_table.done()

    stations: list[StationSpec] = []
    for index, raw in enumerate(top.array("stations")):
        table = _Table(source, f"stations[{index}]", raw)
        station_id = _must(table.string("id", required=True, ident=True))
        if any(s.id == station_id for s in stations):
            raise table.error("id", f"duplicate station id {station_id!r}")
        kind = _must(table.string("kind", required=True, choices=STATION_KINDS))
        stations.append(StationSpec(id=station_id, kind=kind, name=table.string("name") or station_id))
        table.done()

    parser = _DeviceParser(source, stations)
    for index, raw in enumerate(top.array("devices")):
        parser.parse(index, raw)
    for index, raw in enumerate(top.array("kiosk_groups")):
        parser.group(index, raw)
    if len(parser.devices) - sum(d.kind != "kiosk" for d in parser.devices) > MAX_KIOSKS:
        raise ScenarioError(source, "kiosk_groups", f"at most {MAX_KIOSKS} kiosks in a hall")
    timing = _kiosk_timing(source, top)
    devices = parser.devices
    top.done()
    return Scenario(hall=hall, stations=tuple(stations), devices=tuple(devices), kiosk_timing=timing)


def _cups(table: _Table) -> str | None:
    server = table.string("cups")
    if server is not None and not _CUPS.fullmatch(server):
        raise table.error("cups", f"expected HOST:PORT of a CUPS server, got {server!r}")
    return server


def _broker(table: _Table) -> str | None:
    url = table.string("broker")
    if url is not None and not _BROKER.fullmatch(url):
        raise table.error("broker", f"expected mqtt://HOST:PORT, got {url!r}")
    return url


def _kiosk_timing(source: str, top: _Table) -> KioskTimingSpec:
    raw = top._get("kiosks", False)
    if raw is None:
        return KioskTimingSpec()
    table = _Table(source, "kiosks", raw)
    defaults = KioskTimingSpec()
    timing = KioskTimingSpec(
        heartbeat_interval=_pick(
            table.integer("heartbeat_interval", minimum=1, maximum=3600), defaults.heartbeat_interval
        ),
        step_delay=_pick(table.number("step_delay", minimum=0, maximum=600), defaults.step_delay),
        pickup_timeout=_pick(table.number("pickup_timeout", minimum=0, maximum=3600), defaults.pickup_timeout),
    )
    table.done()
    return timing


class _DeviceParser:
    """Reads the ``[[devices]]`` entries, checking what the entries must not share."""

    def __init__(self, source: str, stations: list[StationSpec]) -> None:
        self.source = source
        self.stations = stations
        self.deck = build_deck(0)
        self.passports = build_passport_deck()
        self.devices: list[DeviceSpec] = []
        self.ports: set[int] = set()
        self.slots: set[int] = set()

    def parse(self, index: int, raw: object) -> None:
        table = _Table(self.source, f"devices[{index}]", raw)
        device_id = _must(table.string("id", required=True, ident=True))
        if any(d.id == device_id for d in self.devices):
            raise table.error("id", f"duplicate device id {device_id!r}")
        kind = _must(table.string("kind", required=True, choices=DEVICE_KINDS))
        station = _must(table.string("station", required=True, ident=True))
        if not any(s.id == station for s in self.stations):
            raise table.error("station", f"no station with id {station!r}")
        if kind != "kiosk" and any(d.station == station and d.kind == kind for d in self.devices):
            # A station's devices fill roles: the daemon refuses two of one kind.
            raise table.error("station", f"station {station!r} already has a {kind} device")
        transport = _must(table.string("transport", required=True, choices=TRANSPORTS))
        if transport not in KIND_TRANSPORTS[kind]:
            expected = " or ".join(KIND_TRANSPORTS[kind])
            raise table.error("transport", f"a {kind} takes transport {expected}, not {transport!r}")
        baud = table.baud("baud")
        if baud is not None and transport not in SERIAL_TRANSPORTS:
            raise table.error("baud", f"only a pty or tcp device has a line rate, not a {transport} one")
        self.devices.append(
            DeviceSpec(
                id=device_id,
                kind=kind,
                station=station,
                transport=transport,
                baud=baud,
                card=self._card(table, kind),
                name=table.string("name"),
                port=self._port(table, transport),
                slot=self._slot(table, transport),
                document=self._document(table, kind),
                kiosk_kind=self._kiosk_kind(table, kind),
                slots=self._kiosk_slots(table, kind),
                script=self._script(table, kind),
                queue=self._queue(table, kind),
                fps=self._fps(table, kind),
            )
        )
        table.done()

    def group(self, index: int, raw: object) -> None:
        """One ``[[kiosk_groups]]`` entry: ``count`` kiosks of one kind at one station, ids ``<prefix>-001`` ..."""
        table = _Table(self.source, f"kiosk_groups[{index}]", raw)
        station = _must(table.string("station", required=True, ident=True))
        if not any(s.id == station for s in self.stations):
            raise table.error("station", f"no station with id {station!r}")
        kiosk_kind = _must(table.string("kind", required=True, choices=KIOSK_KINDS))
        count = table.integer("count", minimum=1, maximum=MAX_KIOSKS)
        if count is None:
            raise table.error("count", "is required")
        prefix = _must(table.string("prefix", required=True, ident=True))
        first = _pick(table.integer("first", minimum=0, maximum=10**6), 1)
        slots = table.integer("slots", minimum=1, maximum=10_000)
        if slots is not None and kiosk_kind != "collection":
            raise table.error("slots", "only a collection kiosk has slots")
        width = max(3, len(str(first + count - 1)))
        for number in range(first, first + count):
            device_id = f"{prefix}-{number:0{width}d}"
            if not _IDENT.fullmatch(device_id):
                raise table.error("prefix", f"makes the id {device_id!r}, longer than 63 characters")
            if any(d.id == device_id for d in self.devices):
                raise table.error("prefix", f"makes the id {device_id!r}, which another device has")
            self.devices.append(
                DeviceSpec(
                    id=device_id, kind="kiosk", station=station, transport="mqtt", kiosk_kind=kiosk_kind, slots=slots
                )
            )
        table.done()

    def _kiosk_kind(self, table: _Table, kind: str) -> str | None:
        kiosk_kind = table.string("kiosk_kind", required=kind == "kiosk", choices=KIOSK_KINDS)
        if kiosk_kind is not None and kind != "kiosk":
            raise table.error("kiosk_kind", "only a kiosk has a kiosk_kind")
        return kiosk_kind

    def _kiosk_slots(self, table: _Table, kind: str) -> int | None:
        slots = table.integer("slots", minimum=1, maximum=10_000)
        if slots is not None and (kind != "kiosk" or table.data.get("kiosk_kind") != "collection"):
            raise table.error("slots", "only a collection kiosk has slots")
        return slots

    def _fps(self, table: _Table, kind: str) -> float | None:
        fps = table.number("fps", minimum=0.5, maximum=30)
        if fps is not None and kind not in SCRIPTS_OF_KIND:
            raise table.error("fps", "only a camera or a document camera has a frame rate")
        return fps

    def _queue(self, table: _Table, kind: str) -> str | None:
        queue = table.string("queue", required=kind == "form_printer")
        if queue is not None and kind != "form_printer":
            raise table.error("queue", "only a form printer has a CUPS queue")
        if queue is not None and not _QUEUE.fullmatch(queue):
            raise table.error("queue", "a CUPS queue name is letters, digits, _ and - (at most 127)")
        return queue

    def _script(self, table: _Table, kind: str) -> str | None:
        allowed = SCRIPTS_OF_KIND.get(kind, ())
        script = table.string("script", choices=CAMERA_SCRIPTS)
        if script is not None and script not in allowed:
            if not allowed:
                raise table.error("script", "only a camera or a document camera has a script")
            raise table.error("script", f"a {kind} plays {' or '.join(allowed)}, not {script!r}")
        return script

    def _card(self, table: _Table, kind: str) -> str | None:
        card = table.string("card")
        if card is not None and kind != "idcard_reader":
            raise table.error("card", "only an idcard_reader holds a card")
        if card is not None and card not in self.deck:
            raise table.error("card", f"no card {card!r} in the deck; known: {', '.join(self.deck)}")
        return card

    def _document(self, table: _Table, kind: str) -> str | None:
        document = table.string("document")
        if document is not None and kind != "document_reader":
            raise table.error("document", "only a document_reader holds a document")
        if document is not None and document not in self.passports:
            known = ", ".join(self.passports)
            raise table.error("document", f"no document {document!r} in the passport deck; known: {known}")
        return document

    def _slot(self, table: _Table, transport: str) -> int:
        slot = table.integer("slot", minimum=0, maximum=VPCD_SLOTS - 1)
        if slot is not None and transport != "vpcd":
            raise table.error("slot", "only a vpcd device has a slot")
        if transport != "vpcd":
            return 0
        slot = slot or 0
        if slot in self.slots:
            raise table.error("slot", f"vpcd slot {slot} is used by another document reader")
        self.slots.add(slot)
        return slot

    def _port(self, table: _Table, transport: str) -> int:
        port = table.integer("port", minimum=0, maximum=65535)
        if port is not None and transport != "tcp":
            raise table.error("port", "only a tcp device has a port")
        if port:
            if port in self.ports:
                raise table.error("port", f"port {port} is used by another device")
            self.ports.add(port)
        return port or 0


def _pick(value: _T | None, default: _T) -> _T:
    return default if value is None else value


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ScenarioError(str(path), "", f"cannot read: {err.strerror or err}") from err
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(str(path), "", f"not valid TOML: {err}") from err
    return parse_scenario(data, source=str(path))


def load_demo_scenario() -> Scenario:
    """The demo hall packaged with the simulators (``scenarios/demo.toml``)."""
    resource = resources.files("hallgw_simulators").joinpath("scenarios").joinpath("demo.toml")
    return parse_scenario(tomllib.loads(resource.read_text(encoding="utf-8")), source="demo.toml")
