"""What hallctl shows a person: rich tables and one-line events and frames.

Everything here is a pure function of API messages (and the current time where
a relative time is shown), returning rich renderables; nothing here calls the
gateway. Text from the gateway is wrapped in ``Text`` objects, never parsed as
markup, so a device name like ``[red]`` prints as itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime

from google.protobuf import timestamp_pb2
from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from hallgw_api.v1 import (
    device_pb2,
    device_service_pb2,
    document_pb2,
    fingerprint_pb2,
    idcard_pb2,
    kiosk_pb2,
    photo_pb2,
    station_pb2,
)

from .names import (
    action_word,
    admin_word,
    card_type_word,
    finger_word,
    hash_check_word,
    issuance_state_word,
    kind_word,
    mrz_source_word,
    oper_word,
    operation_word,
    photo_format_word,
    signature_word,
)
from .views import (
    CARD_TYPE_LABELS,
    QUALITY_COMPONENTS,
    CardField,
    chip_mrz_differences,
    consumables_list,
    duration_seconds,
    face_view,
    fingerprint_image_view,
    hints_view,
    iso_utc,
    low_consumables,
    timestamp_datetime,
)

OPER_STYLES = {
    "online": "green",
    "offline": "bold red",
    "connecting": "yellow",
    "busy": "cyan",
    "error": "bold magenta",
}
ADMIN_STYLES = {"enabled": "green", "disabled": "yellow", "maintenance": "blue"}
EVENT_STYLES = {"state": "bold", "progress": "cyan", "finished": "green", "link": "yellow"}

# Frames longer than this are cut in the human trace unless --full is given:
# an ID card response is 1295 bytes, mostly masked zeros.
HEX_PREVIEW_BYTES = 64
_PIPE_WIDTH = 160


class PipeConsole(Console):
    """A console for which a closed pipe (``hallctl watch | head``) is BrokenPipeError, not rich's exit 1."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError


def make_console(*, stderr: bool = False) -> Console:
    """A console on stdout or stderr; wide when piped, so lines are not cut at 80 columns."""
    console = PipeConsole(stderr=stderr, highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = _PIPE_WIDTH
    return console


# --- time ------------------------------------------------------------------


def relative_time(then: datetime, now: datetime) -> str:
    """``12s ago``, ``4m 05s ago``, ``3h 07m ago``, ``2d 01h ago``."""
    seconds = int((now - then).total_seconds())
    if seconds < 0:
        # The gateway's clock is ahead of ours; say so rather than print "-3s ago".
        return "in the future" if seconds < -1 else "just now"
    if seconds < 1:
        return "just now"
    if seconds < 60:
        return f"{seconds}s ago"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds:02d}s ago"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m ago"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h ago"


def since_text(ts: timestamp_pb2.Timestamp, present: bool, now: datetime) -> str:
    """A relative time, or ``-`` when the timestamp is unset."""
    return relative_time(timestamp_datetime(ts), now) if present else "-"


def clock(ts: timestamp_pb2.Timestamp) -> str:
    """``10:15:02.123Z``: the time of day in UTC, for live streams."""
    return timestamp_datetime(ts).strftime("%H:%M:%S.%f")[:-3] + "Z"


# --- devices ---------------------------------------------------------------


def oper_text(state: int) -> Text:
    """The operating state, coloured."""
    word = oper_word(state)
    return Text(word, style=OPER_STYLES.get(word, ""))


def admin_text(state: int) -> Text:
    """The admin state, coloured."""
    word = admin_word(state)
    return Text(word, style=ADMIN_STYLES.get(word, ""))


def last_error_text(device: device_pb2.Device) -> Text:
    """``DEVICE_OFFLINE (action: engineer)``; dimmed once the device is online again."""
    if not device.HasField("last_error"):
        return Text("-", style="dim")
    error = device.last_error
    stale = device.oper_state == device_pb2.OPER_STATE_ONLINE
    return Text(f"{error.reason} (action: {action_word(error.action)})", style="dim" if stale else "red")


def devices_table(devices: list[device_pb2.Device], now: datetime, *, with_errors: bool = True) -> Table:
    """The table of ``hallctl devices``, with a caption counting devices per operating state."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True, header_style="bold")
    for column in ("DEVICE", "KIND", "STATION", "ADMIN", "OPER", "SINCE"):
        table.add_column(column, no_wrap=True)
    table.add_column("QUEUE", justify="right", no_wrap=True)
    if with_errors:
        table.add_column("LAST ERROR", no_wrap=True)
    counts: dict[str, int] = {}
    for device in devices:
        counts[oper_word(device.oper_state)] = counts.get(oper_word(device.oper_state), 0) + 1
        cells: list[str | Text] = [
            Text(device.device_id, style="bold"),
            kind_word(device.kind),
            device.station_id or "-",
            admin_text(device.admin_state),
            oper_text(device.oper_state),
            since_text(device.oper_state_since, device.HasField("oper_state_since"), now),
            str(device.counters.queue_depth),
        ]
        if with_errors:
            cells.append(last_error_text(device))
        table.add_row(*cells)
    noun = "device" if len(devices) == 1 else "devices"
    states = ", ".join(f"{count} {state}" for state, count in sorted(counts.items()))
    table.caption = f"{len(devices)} {noun}" + (f": {states}" if states else "")
    return table


def devices_view(devices: list[device_pb2.Device], now: datetime, console: Console) -> RenderableType:
    """The devices table; on a terminal too narrow for it, the last errors move below it.

    Truncated device ids or states would be worse than no table: an engineer on
    an 80-column serial console must still see which device is offline and why.
    """
    table = devices_table(devices, now)
    natural = console.measure(table, options=console.options.update_width(10_000)).maximum
    if natural <= console.width:
        return table
    errors = [
        Text(f"{device.device_id}: ").append_text(last_error_text(device))
        for device in devices
        if device.HasField("last_error")
    ]
    return Group(devices_table(devices, now, with_errors=False), *errors)


def _state_with_since(state: Text, ts: timestamp_pb2.Timestamp, present: bool, now: datetime) -> Text:
    text = state.copy()
    if present:
        text.append(f"  since {iso_utc(ts)} ({relative_time(timestamp_datetime(ts), now)})", style="dim")
    return text


def device_detail(device: device_pb2.Device, now: datetime) -> Table:
    """The key/value view of ``hallctl show``: every field of the device."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()

    def row(key: str, value: str | Text) -> None:
        grid.add_row(key, value if isinstance(value, Text) else Text(value))

    row("Device", device.device_id)
    row("Name", device.name or "-")
    row("Kind", kind_word(device.kind))
    row("Station", device.station_id or "-")
    row("Link", device.link or "-")
    row(
        "Admin state",
        _state_with_since(
            admin_text(device.admin_state), device.admin_state_since, device.HasField("admin_state_since"), now
        ),
    )
    row("Admin reason", device.admin_reason or "-")
    row(
        "Oper state",
        _state_with_since(
            oper_text(device.oper_state), device.oper_state_since, device.HasField("oper_state_since"), now
        ),
    )
    if device.HasField("last_error"):
        error = device.last_error
        row("Last error", last_error_text(device))
        row("  message", error.message or "-")
        if error.HasField("time"):
            row("  time", f"{iso_utc(error.time)} ({relative_time(timestamp_datetime(error.time), now)})")
    else:
        row("Last error", Text("none since start-up", style="dim"))
    if device.identity:
        for index, (key, value) in enumerate(sorted(device.identity.items())):
            row("Identity" if index == 0 else "", f"{key} = {value}")
    else:
        row("Identity", Text("not identified yet", style="dim"))
    if device.consumables:
        row("Consumables", consumables_text(device.consumables))
    counters = device.counters
    row("Commands", f"{counters.commands_ok} ok, {counters.commands_failed} failed")
    row("Link errors", str(counters.link_errors))
    row("Reconnects", str(counters.reconnects))
    row("Probe failures", str(counters.probe_failures))
    row("Queue depth", str(counters.queue_depth))
    return grid


def admin_result(device: device_pb2.Device, now: datetime) -> Text:
    """One line after enable / disable / maintenance: the device's admin and operating state."""
    text = Text(f"{device.device_id}: admin ")
    text.append_text(admin_text(device.admin_state))
    if device.admin_reason:
        text.append(f" (reason: {device.admin_reason})")
    text.append(", oper ")
    text.append_text(oper_text(device.oper_state))
    if device.HasField("oper_state_since"):
        text.append(f" since {relative_time(timestamp_datetime(device.oper_state_since), now)}", style="dim")
    return text


# --- events ----------------------------------------------------------------


def _state_details(device: device_pb2.Device) -> Text:
    text = Text("oper ")
    text.append_text(oper_text(device.oper_state))
    text.append(", admin ")
    text.append_text(admin_text(device.admin_state))
    if device.admin_reason and device.admin_state != device_pb2.ADMIN_STATE_ENABLED:
        text.append(f" (reason: {device.admin_reason})")
    if device.HasField("last_error") and device.oper_state != device_pb2.OPER_STATE_ONLINE:
        error = device.last_error
        text.append(f"; last error {error.reason} (action: {action_word(error.action)})", style="red")
    return text


def event_details(event: device_pb2.DeviceEvent) -> tuple[str, Text]:
    """The short type word of an event and its details."""
    kind = event.WhichOneof("payload")
    if kind == "state_changed":
        return "state", _state_details(event.state_changed.device)
    if kind == "progress":
        progress = event.progress
        return "progress", Text(f"{progress.stage}: {progress.message}" if progress.message else progress.stage)
    if kind == "finished":
        finished = event.finished
        took = f" in {duration_seconds(finished.duration):.2f}s" if finished.HasField("duration") else ""
        if finished.ok:
            return "finished", Text(f"{finished.operation} ok{took}")
        return "finished", Text(
            f"{finished.operation} failed: {finished.reason or 'unknown reason'}{took}", style="red"
        )
    if kind == "link_fault":
        fault = event.link_fault
        return "link", Text(f"{fault.message}; {fault.discarded_bytes} bytes discarded")
    return "unknown", Text("an event this hallctl does not know (upgrade hallctl)", style="dim")


def event_line(event: device_pb2.DeviceEvent, *, show_request: bool = True) -> Text:
    """``10:15:02.123Z idr-07 [window-07] progress  WAITING_FOR_CARD: ... (req ...)``."""
    word, details = event_details(event)
    text = Text(clock(event.time) if event.HasField("time") else "--:--:--.---Z", style="dim")
    text.append(" ")
    text.append(event.device_id or "-", style="bold")
    if event.station_id:
        text.append(f" [{event.station_id}]")
    text.append(" ")
    text.append(f"{word:<9}", style=EVENT_STYLES.get(word, ""))
    text.append_text(details)
    if event.request_id and show_request:
        text.append(f" (req {event.request_id})", style="dim")
    if event.visit_id:
        text.append(f" (visit {event.visit_id})", style="dim")
    return text


# --- frames ----------------------------------------------------------------


def hex_bytes(data: bytes, *, full: bool) -> str:
    """``aa aa aa 96 69 ...``; cut after HEX_PREVIEW_BYTES unless ``full``."""
    shown = data if full else data[:HEX_PREVIEW_BYTES]
    text = shown.hex(" ")
    if len(shown) < len(data):
        text += f" … +{len(data) - len(shown)} bytes (--full shows all)"
    return text


def frame_line(frame: device_service_pb2.TraceFramesResponse, *, full: bool = False) -> Text:
    """``10:15:02.123Z → FIND_CARD (10 B) aa aa ...``, or the error line of unframeable bytes."""
    text = Text(clock(frame.time) if frame.HasField("time") else "--:--:--.---Z", style="dim")
    text.append(" ")
    if frame.error:
        text.append("✗ ", style="bold red")
        text.append(frame.error, style="red")
        if frame.data:
            text.append(f" ({len(frame.data)} B) {hex_bytes(frame.data, full=full)}", style="dim")
        return text
    if frame.direction == device_service_pb2.FRAME_DIRECTION_TO_DEVICE:
        text.append("→ ", style="bold cyan")
    elif frame.direction == device_service_pb2.FRAME_DIRECTION_FROM_DEVICE:
        text.append("← ", style="bold green")
    else:
        text.append("? ", style="bold")
    text.append(frame.summary or "(no summary)")
    text.append(f" ({frame.length or len(frame.data)} B)", style="dim")
    if frame.masked:
        text.append(" [masked]", style="yellow")
    if frame.data:
        text.append(" ")
        text.append(hex_bytes(frame.data, full=full))
    return text


# --- cards -----------------------------------------------------------------


def _photo_text(card: idcard_pb2.IdentityCard, field: str) -> str:
    if not card.HasField(field):
        return "none"
    photo: idcard_pb2.CardPhoto = getattr(card, field)
    return f"{photo_format_word(photo.format).upper()}, {len(photo.data)} bytes"


def card_table(
    response: idcard_pb2.ReadIdCardResponse, fields: list[CardField], *, request_id: str, show_pii: bool
) -> Table:
    """The result of ``hallctl read-id``: card type, every field of its layout, the photos' format and size."""
    card = response.card
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    label = CARD_TYPE_LABELS.get(card.card_type, card_type_word(card.card_type))
    grid.add_row("Card type", Text(f"{label} ({card_type_word(card.card_type)})"))
    if not fields:
        grid.add_row("", Text("the gateway returned no fields for this card", style="yellow"))
    for field in fields:
        grid.add_row(field.label, Text(field.text or "-"))
    grid.add_row("Photo", Text(_photo_text(card, "photo")))
    if card.HasField("decoded_photo"):
        grid.add_row("Decoded photo", Text(_photo_text(card, "decoded_photo")))
    grid.add_row("Reader", Text(response.device_id or "-"))
    grid.add_row("Request id", Text(request_id, style="dim"))
    if not show_pii:
        grid.add_row("", Text("personal data masked; --show-pii shows it", style="dim"))
    return grid


# --- travel documents --------------------------------------------------------

SIGNATURE_STYLES = {"verified": "green", "not_verified": "yellow", "invalid": "bold red"}
HASH_STYLES = {"match": "green", "mismatch": "bold red", "not_listed": "yellow"}


def _key_value_grid() -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    return grid


def _face_text(document: document_pb2.TravelDocument) -> Text:
    face = face_view(document)
    if face is None:
        return Text("not requested (--face-out FILE writes it)", style="dim")
    text = f"JPEG {face['width']}×{face['height']}, {face['size']} bytes"
    if face["chip_format"] != "jpeg":
        text += f" (on the chip: {face['chip_format'].upper()})"
    return Text(text)


def _passive_authentication_rows(grid: Table, pa: document_pb2.PassiveAuthentication) -> None:
    if pa.hashes_ok:
        grid.add_row("Hashes", Text("all data group hashes match EF.SOD", style="green"))
    else:
        grid.add_row("Hashes", Text("a data group does not match EF.SOD", style="bold red"))
    checks = Text()
    for index, check in enumerate(pa.data_groups):
        word = hash_check_word(check.hash)
        if index:
            checks.append(", ")
        checks.append(f"DG{check.number} ")
        checks.append(word, style=HASH_STYLES.get(word, ""))
    grid.add_row("", checks if pa.data_groups else Text("no data group checked", style="yellow"))
    word = signature_word(pa.signature)
    signature = Text(word, style=SIGNATURE_STYLES.get(word, ""))
    message = pa.signature_message
    if message.lower().startswith(f"{word}:"):  # the gateway's message may start with the status word
        message = message[len(word) + 1 :].strip()
    if message:
        signature.append(f": {message}")
    grid.add_row("Signature", signature)


def document_table(
    response: document_pb2.ReadTravelDocumentResponse, fields: list[CardField], *, request_id: str, show_pii: bool
) -> Table:
    """The result of ``hallctl document read``: the MRZ, the chip's checks, the face image's size."""
    document = response.document
    grid = _key_value_grid()
    if not fields:
        grid.add_row("", Text("the gateway returned no MRZ for this document", style="yellow"))
    for field in fields:
        grid.add_row(field.label, Text(field.text or "-"))
    grid.add_row("MRZ source", Text(mrz_source_word(document.mrz_source)))
    if document.chip_mrz_matches:
        grid.add_row("Chip MRZ", Text("matches the printed MRZ", style="green"))
    else:
        differences = chip_mrz_differences(document)
        detail = f" ({', '.join(differences)})" if differences else ""
        grid.add_row("Chip MRZ", Text(f"differs from the printed MRZ{detail}", style="bold red"))
    groups = " ".join(f"DG{number}" for number in document.data_groups_present)
    grid.add_row("Data groups", Text(groups or "-"))
    grid.add_row("LDS version", Text(document.lds_version or "-"))
    _passive_authentication_rows(grid, document.passive_authentication)
    grid.add_row("Face image", _face_text(document))
    grid.add_row("Reader", Text(response.device_id or "-"))
    grid.add_row("Request id", Text(request_id, style="dim"))
    if not show_pii:
        grid.add_row("", Text("personal data masked; --show-pii shows it", style="dim"))
    return grid


# --- fingerprints --------------------------------------------------------------


def finger_text(finger: int) -> str:
    """``right_index (2)``: the finger and its ISO/ANSI position code."""
    return f"{finger_word(finger)} ({finger})"


def capture_table(response: fingerprint_pb2.CaptureResponse, *, request_id: str) -> Table:
    """The result of ``hallctl fingerprint capture``: finger, attempt, quality and its parts, the image's size."""
    grid = _key_value_grid()
    quality = response.quality
    grid.add_row("Finger", Text(finger_text(response.finger)))
    grid.add_row("Attempt", Text(str(response.attempt)))
    grid.add_row("Quality", Text(f"{quality.score}/100", style="bold"))
    for name in QUALITY_COMPONENTS:
        component: fingerprint_pb2.QualityComponent = getattr(quality, name)
        grid.add_row(f"  {name}", Text(f"{component.value:.2f} (raw {component.raw:g})"))
    hints = hints_view(quality)
    if not hints:
        grid.add_row("Hints", Text("none", style="dim"))
    for index, hint in enumerate(hints):
        words = ": ".join(part for part in (hint["code"], hint["text"]) if part)
        grid.add_row("Hints" if index == 0 else "", Text(words))
    if response.HasField("image"):
        image = fingerprint_image_view(response.image)
        dpi = f", {image['resolution_dpi']} dpi" if image["resolution_dpi"] else ""
        grid.add_row("Image", Text(f"PNG {image['width']}×{image['height']}{dpi}, {image['size']} bytes"))
    else:
        grid.add_row("Image", Text("none", style="yellow"))
    grid.add_row("Scanner", Text(response.device_id or "-"))
    grid.add_row("Request id", Text(request_id, style="dim"))
    return grid


# --- stations --------------------------------------------------------------------


def _roles_text(station: station_pb2.Station) -> Text:
    text = Text()
    for index, role in enumerate(station.roles):
        if index:
            text.append(", ")
        text.append(f"{kind_word(role.kind)} {role.device_id} ")
        text.append_text(oper_text(role.oper_state))
        if role.admin_state != device_pb2.ADMIN_STATE_ENABLED:
            text.append(" (")
            text.append_text(admin_text(role.admin_state))
            text.append(")")
    return text if station.roles else Text("no devices", style="dim")


def _visit_text(station: station_pb2.Station, now: datetime) -> Text:
    if not station.HasField("visit"):
        return Text("free", style="dim")
    visit = station.visit
    until = "held by its stream" if visit.held_by_stream else f"lease until {iso_utc(visit.expires)}"
    return Text(f"{visit.visit_id} by {visit.holder}, {until}", style="bold")


def stations_table(stations: list[station_pb2.Station], now: datetime) -> Table:
    """``hallctl stations``: each station, its roles with their states, and who holds it."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("station", "kind", "name", "roles", "visit"):
        table.add_column(column)
    for station in stations:
        table.add_row(station.station_id, station.kind, station.name, _roles_text(station), _visit_text(station, now))
    return table


def station_detail(station: station_pb2.Station, now: datetime) -> Table:
    """``hallctl station show``: one station, role by role."""
    grid = _key_value_grid()
    grid.add_row("Station", Text(station.station_id))
    grid.add_row("Kind", Text(station.kind))
    grid.add_row("Name", Text(station.name))
    grid.add_row("Area", Text(station.area))
    for index, role in enumerate(station.roles):
        line = Text(f"{kind_word(role.kind)}: {role.device_id} ")
        line.append_text(oper_text(role.oper_state))
        line.append(", ")
        line.append_text(admin_text(role.admin_state))
        grid.add_row("Roles" if index == 0 else "", line)
    if not station.roles:
        grid.add_row("Roles", Text("none", style="dim"))
    grid.add_row("Visit", _visit_text(station, now))
    if station.HasField("visit"):
        grid.add_row("  started", _time_text(station.visit.started, True, now))
    return grid


# --- photos ----------------------------------------------------------------------


def _num(value: float) -> str:
    """A measured value as people read it: whole numbers whole, others to three significant digits."""
    if value == int(value) or abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.3g}"


def _bound(check: photo_pb2.ComplianceCheck) -> str:
    low = _num(check.low) if check.HasField("low") else ""
    high = _num(check.high) if check.HasField("high") else ""
    if low and high:
        return low if low == high else f"{low} to {high}"
    return f">= {low}" if low else f"<= {high}" if high else "-"


def photo_report_table(report: photo_pb2.ComplianceReport, *, title: str) -> Table:
    """Every check of a photo: measured value, allowed window, pass or fail, and the hint that fixes it."""
    verdict = "compliant" if report.passed else "not compliant"
    table = Table(
        title=f"{title}: {verdict} ({report.image_width}×{report.image_height}, faces {report.faces})",
        title_justify="left",
        box=None,
        pad_edge=False,
    )
    for column in ("check", "value", "allowed", "unit", "result", "hint"):
        table.add_column(column)
    for c in report.checks:
        result = Text("pass", style="green") if c.passed else Text("FAIL", style="bold red")
        table.add_row(c.name, _num(c.value), _bound(c), c.unit, result, c.hint or "")
    for code, text in zip(report.hints, report.hint_texts, strict=False):
        table.caption = (f"{table.caption}\n" if table.caption else "") + f"{code}: {text}"
    return table


# --- kiosks ----------------------------------------------------------------------

MODE_STYLES = {"in_service": "", "out_of_service": "yellow", "maintenance": "blue"}
DOOR_STYLES = {"closed": "", "open": "bold yellow"}
LOW_STYLE = "bold red"


def consumables_text(consumables: Mapping[str, int]) -> Text:
    """``paper 80%, ribbon 8%, cards 120, slots 3/12``, the low ones in bold red; ``-`` when none were reported."""
    items = consumables_list(consumables)
    if not items:
        return Text("-", style="dim")
    text = Text()
    for index, item in enumerate(items):
        if index:
            text.append(", ")
        text.append(f"{item.word} {item.text}", style=LOW_STYLE if item.low else "")
    return text


def _identity_text(device: device_pb2.Device, key: str, styles: Mapping[str, str] | None = None) -> Text:
    value = device.identity.get(key, "")
    if not value:
        return Text("-", style="dim")
    return Text(value, style=(styles or {}).get(value, ""))


def kiosks_summary(kiosks: list[device_pb2.Device]) -> str:
    """``350 kiosks: 340 online, 10 offline; low consumables: paper 3, slots full 1`` (or ``none``)."""
    counts: dict[str, int] = {"online": 0, "offline": 0}
    low: dict[str, int] = {}
    for device in kiosks:
        state = oper_word(device.oper_state)
        counts[state] = counts.get(state, 0) + 1
        for word in low_consumables(device.consumables):
            low[word] = low.get(word, 0) + 1
    noun = "kiosk" if len(kiosks) == 1 else "kiosks"
    states = ", ".join(f"{count} {state}" for state, count in counts.items() if count or state in {"online", "offline"})
    order = ("paper", "ribbon", "cards", "slots")
    lows = ", ".join(f"{'slots full' if word == 'slots' else word} {low[word]}" for word in order if word in low)
    return f"{len(kiosks)} {noun}: {states}; low consumables: {lows or 'none'}"


def attention_text(device: device_pb2.Device) -> Text:
    """What is not as usual about a kiosk, for narrow tables: ``maintenance, out_of_service, door open``."""
    parts = []
    if device.admin_state != device_pb2.ADMIN_STATE_ENABLED:
        parts.append(admin_word(device.admin_state))
    mode = device.identity.get("mode", "")
    if mode and mode != "in_service":
        parts.append(mode)
    if device.identity.get("door") == "open":
        parts.append("door open")
    return Text(", ".join(parts), style="yellow") if parts else Text("-", style="dim")


def kiosks_table(kiosks: list[device_pb2.Device], *, narrow: bool = False) -> Table:
    """The table of ``hallctl kiosks``: states, what each kiosk said about itself, its consumables.

    ``narrow`` keeps the kiosk, its station, its operating state and its
    consumables, and folds the admin state, mode and door into one NOTE column
    that only says what is not as usual.
    """
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True, header_style="bold")
    if narrow:
        columns = ["KIOSK", "STATION", "OPER"]
    else:
        columns = ["KIOSK", "STATION", "KIND", "MODEL", "ADMIN", "OPER", "MODE", "DOOR"]
    for column in columns:
        table.add_column(column, no_wrap=True)
    table.add_column("CONSUMABLES", min_width=12)
    if narrow:
        table.add_column("NOTE", min_width=8)
    for device in kiosks:
        cells: list[str | Text] = [Text(device.device_id, style="bold"), device.station_id or "-"]
        if narrow:
            cells += [oper_text(device.oper_state), consumables_text(device.consumables), attention_text(device)]
        else:
            cells += [
                _identity_text(device, "kiosk_kind"),
                _identity_text(device, "model"),
                admin_text(device.admin_state),
                oper_text(device.oper_state),
                _identity_text(device, "mode", MODE_STYLES),
                _identity_text(device, "door", DOOR_STYLES),
                consumables_text(device.consumables),
            ]
        table.add_row(*cells)
    table.caption = kiosks_summary(kiosks)
    return table


def kiosks_view(kiosks: list[device_pb2.Device], console: Console) -> RenderableType:
    """The kiosks table, then one line per kiosk whose consumables are low.

    On a terminal too narrow for the whole table (an 80-column console) the
    narrow one is shown: kiosk ids and states are never cut.
    """
    table = kiosks_table(kiosks)
    natural = console.measure(table, options=console.options.update_width(10_000)).maximum
    if natural > console.width:
        table = kiosks_table(kiosks, narrow=True)
    lows = []
    for device in kiosks:
        low = [f"{item.word} {item.text}" for item in consumables_list(device.consumables) if item.low]
        if low:
            where = f" [{device.station_id}]" if device.station_id else ""
            line = Text(f"{device.device_id}{where}: ", style="bold")
            line.append(f"low {', '.join(low)}", style=LOW_STYLE)
            lows.append(line)
    return Group(table, *lows)


_CONSUMABLE_LABELS = {"paper": "Paper", "ribbon": "Ribbon", "cards": "Card stock", "slots": "Slots"}


def consumables_table(response: kiosk_pb2.GetConsumablesResponse, now: datetime) -> Table:
    """The result of ``hallctl kiosks consumables``: each consumable, low ones marked, and when it was reported."""
    grid = _key_value_grid()
    grid.add_row("Kiosk", Text(response.device_id or "-"))
    items = consumables_list(response.consumables)
    if not items:
        grid.add_row("Consumables", Text("none reported", style="dim"))
    for item in items:
        text = Text(f"{item.text} occupied" if item.word == "slots" else item.text)
        if item.low:
            text.stylize(LOW_STYLE)
            text.append("  low", style=LOW_STYLE)
        grid.add_row(_CONSUMABLE_LABELS.get(item.word, item.word), text)
    if response.HasField("reported"):
        when = f"{iso_utc(response.reported)} ({relative_time(timestamp_datetime(response.reported), now)})"
        grid.add_row("Reported", Text(when))
    else:
        grid.add_row("Reported", Text("-", style="dim"))
    return grid


# --- the exactly-once journal ------------------------------------------------------

STATE_STYLES = {"done": "green", "not_done": "yellow", "in_progress": "cyan", "in_doubt": "bold magenta"}
STATE_NOTES = {
    "in_progress": "the kiosk is working on it; a retry with the same request id joins it",
    "in_doubt": (
        "the kiosk may have issued it; the gateway finds out as soon as it reaches the kiosk: "
        "retry later with the same request id, never a new one"
    ),
}


def issuance_state_text(issuance: kiosk_pb2.Issuance) -> Text:
    """The state word, coloured."""
    word = issuance_state_word(issuance.state)
    return Text(word, style=STATE_STYLES.get(word, ""))


def outcome_text(issuance: kiosk_pb2.Issuance) -> Text:
    """``serial S-1`` when done, ``paper_out (action: staff)`` when not done, ``-`` otherwise."""
    if issuance.state == kiosk_pb2.ISSUANCE_STATE_DONE:
        serial = issuance.evidence.operation_serial
        return Text(f"serial {serial}") if serial else Text("-", style="dim")
    if issuance.state == kiosk_pb2.ISSUANCE_STATE_NOT_DONE:
        return Text(f"{issuance.reason or 'no reason given'} (action: {action_word(issuance.action)})", style="yellow")
    return Text("-", style="dim")


def _time_text(ts: timestamp_pb2.Timestamp, present: bool, now: datetime) -> Text:
    if not present:
        return Text("-", style="dim")
    return Text(f"{iso_utc(ts)} ({relative_time(timestamp_datetime(ts), now)})")


def issuance_detail(issuance: kiosk_pb2.Issuance, now: datetime) -> Table:
    """The key/value view of ``hallctl ledger show``."""
    grid = _key_value_grid()
    grid.add_row("Request id", Text(issuance.request_id))
    grid.add_row("Kiosk", Text(issuance.device_id or "-"))
    grid.add_row("Command id", Text(issuance.command_id or "-"))
    grid.add_row("Operation", Text(operation_word(issuance.operation)))
    grid.add_row("Business ref", Text(issuance.business_ref or "-"))
    grid.add_row("State", issuance_state_text(issuance))
    word = issuance_state_word(issuance.state)
    if issuance.state == kiosk_pb2.ISSUANCE_STATE_DONE:
        evidence = issuance.evidence
        grid.add_row("Serial", Text(evidence.operation_serial or "-"))
        grid.add_row("Kiosk time", _time_text(evidence.kiosk_time, evidence.HasField("kiosk_time"), now))
    elif issuance.state == kiosk_pb2.ISSUANCE_STATE_NOT_DONE:
        grid.add_row("Reason", Text(issuance.reason or "-", style="yellow"))
        grid.add_row("Action", Text(action_word(issuance.action)))
        grid.add_row("", Text("nothing was issued; a new request needs a new request id", style="dim"))
    elif word in STATE_NOTES:
        grid.add_row("", Text(STATE_NOTES[word], style=STATE_STYLES[word]))
    grid.add_row("Created", _time_text(issuance.created, issuance.HasField("created"), now))
    grid.add_row("Finished", _time_text(issuance.finished, issuance.HasField("finished"), now))
    grid.add_row("Attempts", Text(str(issuance.attempts)))
    return grid


def issuances_table(issuances: list[kiosk_pb2.Issuance], now: datetime, *, narrow: bool = False) -> Table:
    """The table of ``hallctl ledger pending`` and ``ledger list``, in the gateway's order.

    ``narrow`` leaves out the operation and the business reference (``ledger show`` has them).
    """
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True, header_style="bold")
    table.add_column("REQUEST", min_width=14, overflow="fold")
    table.add_column("KIOSK", no_wrap=True)
    if not narrow:
        table.add_column("OPERATION", no_wrap=True)
    table.add_column("STATE", no_wrap=True)
    table.add_column("CREATED", no_wrap=True)
    table.add_column("ATTEMPTS", justify="right", no_wrap=True)
    if not narrow:
        table.add_column("BUSINESS REF", min_width=12, overflow="fold")
    table.add_column("OUTCOME", min_width=12)
    counts: dict[str, int] = {}
    for issuance in issuances:
        word = issuance_state_word(issuance.state)
        counts[word] = counts.get(word, 0) + 1
        cells: list[str | Text] = [Text(issuance.request_id, style="bold"), issuance.device_id or "-"]
        if not narrow:
            cells.append(operation_word(issuance.operation))
        cells += [
            issuance_state_text(issuance),
            since_text(issuance.created, issuance.HasField("created"), now),
            str(issuance.attempts),
        ]
        if not narrow:
            cells.append(issuance.business_ref or "-")
        cells.append(outcome_text(issuance))
        table.add_row(*cells)
    noun = "issuance" if len(issuances) == 1 else "issuances"
    order = ("in_doubt", "in_progress", "not_done", "done")
    states = ", ".join(
        f"{counts[word]} {word}" for word in [*order, *sorted(set(counts) - set(order))] if word in counts
    )
    table.caption = f"{len(issuances)} {noun}" + (f": {states}" if states else "")
    return table


def issuances_view(issuances: list[kiosk_pb2.Issuance], now: datetime, console: Console) -> RenderableType:
    """The issuances table; the narrow one on a terminal too narrow for it."""
    table = issuances_table(issuances, now)
    natural = console.measure(table, options=console.options.update_width(10_000)).maximum
    return table if natural <= console.width else issuances_table(issuances, now, narrow=True)
