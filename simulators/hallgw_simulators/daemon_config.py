"""The daemon configuration that points ``hallgwd`` at a virtual hall.

The daemon validates its config strictly (unknown keys fail), so this module
writes exactly the documented schema: ``[gateway]``, ``[api]``, ``[logging]``,
``[supervision]``, ``[documents]``, ``[kiosks]`` (the broker the kiosks use),
``[[stations]]`` and ``[[devices]]`` (a kiosk is a device of kind ``kiosk`` whose
link ``kiosk://<kiosk id>`` names it in the MQTT topic tree; a ``lighting``
device has its ``[devices.lighting]`` levels). The simulators never
import the daemon, so the schema is restated here and pinned by a test.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

from hallgw_simulators.scenario import Scenario

LOG_LEVELS: Final = ("debug", "info", "warning", "error")
LOG_FORMATS: Final = ("auto", "json", "console")

SUPERVISION: Final[Mapping[str, float | int]] = {
    "probe_interval": 1.0,
    "probe_timeout": 0.5,
    "offline_after_failures": 2,
    "backoff_initial": 0.05,
    "backoff_max": 1.0,
    "command_timeout": 3.0,
    "queue_limit": 4,
}
"""Supervision defaults for a simulated hall: fast probing and reconnects, so
faults show up in tests within a second or two."""

_KIND_NAMES: Final = {
    "idcard_reader": "ID card reader",
    "mrz_reader": "MRZ reader",
    "document_reader": "document chip reader",
    "fingerprint_scanner": "fingerprint scanner",
    "camera": "photo camera",
    "lighting": "studio lights",
    "payment_scanner": "payment-code scanner",
    "document_camera": "document camera",
    "ticket_printer": "ticket printer",
    "form_printer": "form printer",
}
LIGHTING: Final = "capture = { 1 = 255, 2 = 255, 3 = 180 }"
"""The studio lights' levels in a simulated hall: key, fill and background lamps on DMX channels 1-3,
all off between captures."""
_KIOSK_NAMES: Final = {
    "endorsement": "endorsement kiosk",
    "collection": "collection kiosk",
    "record_query": "record query kiosk",
}


def toml_string(value: str) -> str:
    """``value`` as a TOML basic string."""
    out = ['"']
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _value(value: str | float) -> str:
    if isinstance(value, str):
        return toml_string(value)
    return repr(value)


def _table(header: str, items: Sequence[tuple[str, str | float]]) -> list[str]:
    return [header, *(f"{key} = {_value(value)}" for key, value in items), ""]


def render_daemon_config(
    scenario: Scenario,
    *,
    links: Mapping[str, str],
    state_dir: Path,
    api_listen: str = "127.0.0.1:50051",
    log_level: str = "info",
    log_format: str = "auto",
    csca: Path | None = None,
    kiosk_broker: str | None = None,
) -> str:
    """The daemon's TOML config; ``links`` maps each device id to its link URL.

    ``csca``: a country signing certificate file for passive authentication (``[documents]``).
    ``kiosk_broker``: ``mqtt://HOST:PORT`` of the kiosks' broker (``[kiosks]``), needed when there are kiosks.
    """
    if scenario.kiosks and kiosk_broker is None:
        raise ValueError("a hall with kiosks needs the kiosks' broker")
    if log_level not in LOG_LEVELS:
        raise ValueError(f"log level must be one of {LOG_LEVELS}")
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {LOG_FORMATS}")
    lines = ["# Written by hallsim: the daemon config for this virtual hall.", ""]
    lines += _table(
        "[gateway]",
        [
            ("hall", scenario.hall.name),
            ("id", scenario.hall.gateway),
            ("state_dir", str(state_dir.resolve() / "daemon")),
        ],
    )
    lines += _table("[api]", [("listen", api_listen)])
    lines += _table("[logging]", [("level", log_level), ("format", log_format)])
    lines += _table("[supervision]", list(SUPERVISION.items()))
    if csca is not None:
        lines += ["[documents]", f"csca_certificates = [{toml_string(str(csca.resolve()))}]", ""]
    if scenario.kiosks and kiosk_broker is not None:
        lines += _table("[kiosks]", [("broker", kiosk_broker)])
    for station in scenario.stations:
        lines += _table("[[stations]]", [("id", station.id), ("kind", station.kind), ("name", station.name)])
    for device in scenario.devices:
        station = scenario.station(device.station)
        if device.kind == "kiosk":
            default = f"{_KIOSK_NAMES.get(device.kiosk_kind or '', 'kiosk')} {device.id}, {station.name}"
        else:
            default = f"{_KIND_NAMES.get(device.kind, device.kind)}, {station.name}"
        name = device.name or default
        lines += _table(
            "[[devices]]",
            [
                ("id", device.id),
                ("kind", device.kind),
                ("station", device.station),
                ("name", name),
                ("link", links[device.id]),
            ],
        )
        if device.kind == "lighting":
            lines += ["[devices.lighting]", LIGHTING, ""]
    return "\n".join(lines)


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so a reader sees the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}.new")
    staging.write_text(text, encoding="utf-8")
    os.replace(staging, path)
