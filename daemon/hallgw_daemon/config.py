"""The gateway's one TOML configuration file, validated strictly.

An unknown key or a bad value stops start-up with the file, the key path and
what was expected (:class:`ConfigError`). The example in
``systemd/hallgw.example.toml`` documents every key.
"""

from __future__ import annotations

import enum
import tomllib
from pathlib import Path
from typing import Annotated, Literal, Self, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from hallgw_daemon.core.model import LINK_SCHEMES, DeviceKind, StationKind
from hallgw_daemon.transports import parse_link_url

Ident = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
Seconds = Annotated[float, Field(gt=0, le=3600)]


E = TypeVar("E", bound=enum.Enum)


def _enum(cls: type[E], value: object) -> E:
    for member in cls:
        if value == member.value:
            return member
    raise ValueError(f"expected one of {', '.join(repr(m.value) for m in cls)}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class GatewaySection(_Strict):
    """Who this gateway is and where it keeps its state."""

    hall: Ident
    id: Ident
    state_dir: str = "/var/lib/hallgw"

    @field_validator("state_dir")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not Path(value).is_absolute():
            raise ValueError("expected an absolute path")
        return value


RoleName = Literal["none", "monitor", "business", "engineer"]


class TlsSection(_Strict):
    """TLS for the gRPC server; with ``client_ca``, callers must show a certificate it signed."""

    cert: str
    key: str
    client_ca: str | None = None

    @field_validator("cert", "key", "client_ca")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        if value is not None and not Path(value).is_absolute():
            raise ValueError("expected an absolute path to a PEM file")
        return value


class ClientRule(_Strict):
    """A caller known by its certificate's common name, and its role."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    role: RoleName


class ApiSection(_Strict):
    """The gRPC server, its TLS and who may call what."""

    listen: str = "127.0.0.1:50051"
    grace_period: Seconds = 2.0
    tls: TlsSection | None = None
    clients: list[ClientRule] = []
    anonymous_role: RoleName = "engineer"
    """Role of callers no client rule names (plaintext callers, TLS callers without a
    known certificate). "engineer" suits a gateway serving only its own loopback;
    a gateway serving the hall network sets TLS with client_ca and lowers this."""

    @model_validator(mode="after")
    def _clients(self) -> Self:
        names = [c.name for c in self.clients]
        if len(set(names)) != len(names):
            raise ValueError("api.clients names a certificate twice")
        if self.clients and (self.tls is None or self.tls.client_ca is None):
            raise ValueError("api.clients needs api.tls.client_ca: callers are known by their client certificates")
        return self

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError("expected HOST:PORT, for example 127.0.0.1:50051 or [::]:50051")
        return value


class LoggingSection(_Strict):
    """Log level and rendering (JSON lines for journald, console on a TTY)."""

    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["auto", "json", "console"] = "auto"


class Supervision(_Strict):
    """How each device is supervised. Every key may be overridden per device."""

    probe_interval: Seconds = 1.0
    probe_timeout: Seconds = 0.5
    offline_after_failures: Annotated[int, Field(ge=1, le=100)] = 2
    backoff_initial: Seconds = 0.05
    backoff_max: Seconds = 1.0
    command_timeout: Seconds = 3.0
    queue_limit: Annotated[int, Field(ge=0, le=1000)] = 4

    @model_validator(mode="after")
    def _backoff_order(self) -> Self:
        if self.backoff_initial > self.backoff_max:
            raise ValueError("backoff_initial must not exceed backoff_max")
        return self


class SupervisionOverride(_Strict):
    """Per-device overrides of :class:`Supervision` (unset keys take the defaults)."""

    probe_interval: Seconds | None = None
    probe_timeout: Seconds | None = None
    offline_after_failures: Annotated[int, Field(ge=1, le=100)] | None = None
    backoff_initial: Seconds | None = None
    backoff_max: Seconds | None = None
    command_timeout: Seconds | None = None
    queue_limit: Annotated[int, Field(ge=0, le=1000)] | None = None


class StationConfig(_Strict):
    """A window, desk, photo booth or 24-hour area."""

    id: Ident
    kind: StationKind
    name: str = ""
    area: Ident | None = None
    """Where the station is, for availability roll-ups ("24h-a", "windows-north"); default: its kind."""

    @property
    def area_name(self) -> str:
        return self.area or self.kind.value

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: object) -> StationKind:
        return _enum(StationKind, value)


DMX_CHANNELS = 512


def _levels(value: dict[str, int]) -> dict[str, int]:
    for channel, level in value.items():
        if not channel.isdigit() or not 1 <= int(channel) <= DMX_CHANNELS:
            raise ValueError(f"channel {channel!r}: DMX channels are 1 to {DMX_CHANNELS}")
        if not 0 <= level <= 255:
            raise ValueError(f"channel {channel}: level {level} is not 0 to 255")
    return value


class LightingOptions(_Strict):
    """A photo machine's studio lights: the DMX levels of a capture and of the rest of the time."""

    capture: dict[str, int]
    """Channel (1..512) -> level (0..255) set before a capture; other channels are 0."""
    idle: dict[str, int] = {}
    """Levels between captures (the lights dimmed); unlisted channels are 0."""
    settle: Annotated[float, Field(ge=0, le=5)] = 0.3
    """Seconds the lamps take to reach their level: frames before that are not judged."""

    @field_validator("capture", "idle")
    @classmethod
    def _channels(cls, value: dict[str, int]) -> dict[str, int]:
        return _levels(value)

    @model_validator(mode="after")
    def _something_lit(self) -> Self:
        if not any(self.capture.values()):
            raise ValueError("capture: at least one channel must be lit for a capture")
        return self

    def capture_levels(self) -> dict[int, int]:
        return {int(c): v for c, v in self.capture.items()}

    def idle_levels(self) -> dict[int, int]:
        return {int(c): v for c, v in self.idle.items()}


class ScannerOptions(_Strict):
    """How a serial barcode scanner frames what it reads (its factory or configured settings)."""

    prefix: Annotated[str, StringConstraints(max_length=16)] = ""
    """Characters the scanner sends before each code (its preamble); stripped."""
    suffix: Annotated[str, StringConstraints(max_length=16)] = ""
    """Characters it sends after each code, before the line end (its postamble); stripped."""
    terminator: Literal["any", "cr", "lf", "crlf"] = "any"
    """The line end: CR, LF, CR LF, or any of them (the default)."""


class DeviceConfig(_Strict):
    """One device: its kind, its station and the URL of its link."""

    id: Ident
    kind: DeviceKind
    link: str
    station: Ident | None = None
    name: str = ""
    supervision: SupervisionOverride = SupervisionOverride()
    lighting: LightingOptions | None = None
    """A ``lighting`` device's levels (required for that kind, refused for the others)."""
    scanner: ScannerOptions | None = None
    """A ``payment_scanner``'s framing (optional for that kind, refused for the others)."""

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: object) -> DeviceKind:
        return _enum(DeviceKind, value)

    @field_validator("link")
    @classmethod
    def _link(cls, value: str) -> str:
        parse_link_url(value)  # raises ValueError saying what was expected
        return value

    @model_validator(mode="after")
    def _scheme(self) -> Self:
        scheme = parse_link_url(self.link).scheme
        allowed = LINK_SCHEMES[self.kind]
        if scheme not in allowed:
            raise ValueError(f"link: a {self.kind.value} takes a {' or '.join(sorted(allowed))} link, not {scheme}://")
        if (self.kind is DeviceKind.LIGHTING) != (self.lighting is not None):
            raise ValueError(
                "lighting: a lighting device needs its levels ([devices.lighting] capture = {...})"
                if self.kind is DeviceKind.LIGHTING
                else f"lighting: only a lighting device has levels, not a {self.kind.value}"
            )
        if self.scanner is not None and self.kind is not DeviceKind.PAYMENT_SCANNER:
            raise ValueError(f"scanner: only a payment_scanner has scanner framing, not a {self.kind.value}")
        return self


class KiosksSection(_Strict):
    """Kiosks over MQTT (docs/kiosk-protocol.md). Absent: no kiosk devices may be configured."""

    broker: str
    """mqtt://HOST[:PORT] of the broker the hall's kiosks use."""
    client_id: Annotated[str, StringConstraints(max_length=64)] = ""
    """Default: hallgw-<gateway id>-kiosks."""
    username: str = ""
    password_file: str | None = None
    heartbeat_misses: Annotated[int, Field(ge=1, le=20)] = 3
    """A kiosk whose heartbeats stop for this many of its intervals is offline."""
    command_timeout: Annotated[float, Field(ge=1, le=3600)] = 120.0
    """Longest a side-effecting command may take at the kiosk (the applicant takes the document)."""
    ledger: str | None = None
    """The exactly-once journal (SQLite). Default: <gateway.state_dir>/ledger.db."""

    @field_validator("broker")
    @classmethod
    def _broker(cls, value: str) -> str:
        parts = urlsplit(value)
        try:
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
        except ValueError as err:
            raise ValueError(f"bad port in {value!r}") from err
        if parts.scheme != "mqtt" or not parts.hostname or parts.path not in ("", "/"):
            raise ValueError("expected mqtt://HOST[:PORT]")
        return value

    @field_validator("password_file", "ledger")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        if value is not None and not Path(value).is_absolute():
            raise ValueError("expected an absolute path")
        return value


class DocumentsSection(_Strict):
    """Travel-document reading (docs/documents.md)."""

    csca_certificates: list[str] = []
    """Country signing CA certificates (PEM or DER files, or directories of them) for passive
    authentication. Without any, a read says the document's signature was "not verified"."""
    mrz_freshness: Annotated[float, Field(ge=0, le=300)] = 10.0
    """An MRZ scanned this many seconds before a read started is still used by that read."""

    @field_validator("csca_certificates")
    @classmethod
    def _absolute(cls, value: list[str]) -> list[str]:
        for path in value:
            if not Path(path).is_absolute():
                raise ValueError(f"{path!r}: expected an absolute path")
        return value


class TelemetrySection(_Strict):
    """MQTT telemetry for provincial monitoring (docs/telemetry.md). Absent: telemetry off."""

    broker: str
    """mqtt://HOST:PORT, or mqtts://HOST:PORT with ca_cert (and client_cert/client_key)."""
    client_id: Annotated[str, StringConstraints(max_length=64)] = ""
    username: str = ""
    password_file: str | None = None
    ca_cert: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    keepalive: Annotated[int, Field(ge=2, le=600)] = 10
    metrics_interval: Annotated[float, Field(ge=0.1, le=3600)] = 10.0
    buffer_limit: Annotated[int, Field(ge=10, le=1_000_000)] = 10_000
    backoff_max: Seconds = 5.0

    @field_validator("broker")
    @classmethod
    def _broker(cls, value: str) -> str:
        parts = urlsplit(value)
        try:
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
        except ValueError as err:
            raise ValueError(f"bad port in {value!r}") from err
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname or parts.path not in ("", "/"):
            raise ValueError("expected mqtt://HOST[:PORT] or mqtts://HOST[:PORT]")
        return value

    @field_validator("password_file", "ca_cert", "client_cert", "client_key")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        if value is not None and not Path(value).is_absolute():
            raise ValueError("expected an absolute path")
        return value

    @model_validator(mode="after")
    def _tls(self) -> Self:
        if (self.client_cert is None) != (self.client_key is None):
            raise ValueError("client_cert and client_key go together")
        if urlsplit(self.broker).scheme == "mqtt" and (self.ca_cert or self.client_cert):
            raise ValueError("certificates need an mqtts:// broker")
        return self


class Config(_Strict):
    """The whole configuration file."""

    gateway: GatewaySection
    api: ApiSection = ApiSection()
    logging: LoggingSection = LoggingSection()
    supervision: Supervision = Supervision()
    stations: list[StationConfig] = []
    devices: list[DeviceConfig] = []
    telemetry: TelemetrySection | None = None
    documents: DocumentsSection = DocumentsSection()
    kiosks: KiosksSection | None = None

    @model_validator(mode="after")
    def _references(self) -> Self:
        stations = [s.id for s in self.stations]
        if len(set(stations)) != len(stations):
            raise ValueError(f"duplicate station ids: {sorted({s for s in stations if stations.count(s) > 1})}")
        ids = [d.id for d in self.devices]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate device ids: {sorted({d for d in ids if ids.count(d) > 1})}")
        if self.kiosks is None and any(d.kind is DeviceKind.KIOSK for d in self.devices):
            raise ValueError("kiosk devices need a [kiosks] section with the broker")
        roles: set[tuple[str, DeviceKind]] = set()
        for i, dev in enumerate(self.devices):
            if dev.station is None:
                continue
            if dev.station not in stations:
                raise ValueError(f"devices[{i}].station: no station {dev.station!r} is declared")
            if (dev.station, dev.kind) in roles and dev.kind is not DeviceKind.KIOSK:  # an area has many kiosks
                raise ValueError(f"devices[{i}]: station {dev.station!r} already has a {dev.kind.value} device")
            roles.add((dev.station, dev.kind))
        return self

    def supervision_for(self, device: DeviceConfig) -> Supervision:
        """The device's supervision settings: the defaults with its overrides applied."""
        overrides = device.supervision.model_dump(exclude_none=True)
        return self.supervision.model_copy(update=overrides) if overrides else self.supervision


class ConfigError(Exception):
    """The configuration cannot be used; ``str()`` names the file, key path and expectation."""


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def parse_config(text: str, *, source: str = "<config>") -> Config:
    """Parse and validate TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{source}: not valid TOML: {err}") from err
    try:
        config = Config.model_validate(data)
    except ValidationError as err:
        lines = []
        for e in err.errors():
            what = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
            lines.append(f"{source}: {_loc(e['loc'])}: {what}")
        raise ConfigError("\n".join(lines)) from None
    if config.supervision.backoff_max <= 0:  # pragma: no cover - guarded by the field bounds
        raise ConfigError(f"{source}: supervision.backoff_max must be positive")
    return config


def load_config(path: Path) -> Config:
    """Read and validate the file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"{path}: cannot read: {err.strerror}") from err
    return parse_config(text, source=str(path))
