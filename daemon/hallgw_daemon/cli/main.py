"""``hallctl``: the command line of the hall gateway for field engineers.

This module is the command surface only: it parses options, calls ``client``,
and hands the results to ``render`` (people) or ``views`` (``--json``). Every
command maps failures to the exit codes of ``errors.ExitCode``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import grpc
import typer
from rich.text import Text

from hallgw_api.v1 import device_pb2, device_service_pb2, idcard_pb2

from . import render, views
from .client import DEFAULT_TARGET, DEFAULT_TIMEOUT_S, Gateway, TlsFiles
from .errors import EXIT_CODES_HELP, CliError, ExitCode, from_rpc_error, usage_error
from .names import describe_ref, parse_device_ref, parse_kind, station_ref
from .progress import ReadProgress
from .telemetry import telemetry_app

MAX_REQUEST_ID = 128  # the API's limit on caller-chosen request ids

app = typer.Typer(
    name="hallctl",
    help="Engineers' client of the hall gateway (hallgwd): device states, events, frame traces, ID card test reads.",
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    rich_markup_mode="markdown",
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(telemetry_app)


@dataclass(frozen=True, slots=True)
class Settings:
    """The global options, as every command sees them."""

    target: str = DEFAULT_TARGET
    timeout: float = DEFAULT_TIMEOUT_S
    json_output: bool = False
    tls: TlsFiles | None = None

    def gateway(self) -> Gateway:
        """A connection to the gateway with these settings."""
        return Gateway(self.target, timeout=self.timeout, tls=self.tls)


JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of tables.")]
DeviceArg = Annotated[
    str, typer.Argument(metavar="DEVICE", help="Device id (idr-07) or STATION:KIND (window-07:idcard_reader).")
]


@app.callback()
def _root(  # noqa: PLR0917 - typer passes options by position
    ctx: typer.Context,
    target: Annotated[
        str, typer.Option("--target", envvar="HALLGW_TARGET", metavar="HOST:PORT", help="The gateway's gRPC address.")
    ] = DEFAULT_TARGET,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, metavar="SECONDS", help="Deadline of each call.")
    ] = DEFAULT_TIMEOUT_S,
    json_output: JsonFlag = False,
    ca_cert: Annotated[
        Path | None,
        typer.Option(
            "--ca-cert", envvar="HALLGW_CA_CERT", metavar="PEM", help="Use TLS; the CA that signed the gateway."
        ),
    ] = None,
    client_cert: Annotated[
        Path | None,
        typer.Option("--client-cert", envvar="HALLGW_CLIENT_CERT", metavar="PEM", help="Our certificate (mutual TLS)."),
    ] = None,
    client_key: Annotated[
        Path | None,
        typer.Option("--client-key", envvar="HALLGW_CLIENT_KEY", metavar="PEM", help="The key of --client-cert."),
    ] = None,
    server_name: Annotated[
        str | None,
        typer.Option(
            "--server-name", envvar="HALLGW_SERVER_NAME", help="Expect this name in the gateway's certificate."
        ),
    ] = None,
) -> None:
    tls = None
    if ca_cert is not None:
        tls = TlsFiles(ca_cert=ca_cert, client_cert=client_cert, client_key=client_key, server_name=server_name)
    elif client_cert is not None or client_key is not None:
        raise typer.BadParameter("--client-cert and --client-key need --ca-cert (TLS)")
    ctx.obj = Settings(target=target, timeout=timeout, json_output=json_output, tls=tls)


def _settings(ctx: typer.Context, json_flag: bool) -> Settings:
    """The global settings; ``--json`` may be given before or after the command."""
    settings = ctx.find_object(Settings) or Settings()
    return replace(settings, json_output=settings.json_output or json_flag)


def _now() -> datetime:
    return datetime.now(UTC)


def _emit_json(value: Any, *, lines: bool = False) -> None:
    """JSON on stdout: indented for one-shot commands, one compact object per line for streams."""
    if lines:
        typer.echo(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
    else:
        typer.echo(json.dumps(value, ensure_ascii=False, indent=2))


def _note(message: str, *, style: str = "dim") -> None:
    """A line for the person at the terminal, on stderr so stdout stays clean for scripts."""
    render.make_console(stderr=True).print(Text(message, style=style), soft_wrap=True)


def _fail(settings: Settings, error: CliError) -> NoReturn:
    if settings.json_output:
        _emit_json(error.to_json())
    render.make_console(stderr=True).print(Text(error.line(), style="red"), soft_wrap=True)
    raise typer.Exit(int(error.exit_code))


@contextlib.contextmanager
def _reporting(settings: Settings, *, on_interrupt: ExitCode = ExitCode.INTERRUPTED) -> Iterator[None]:
    """Turn failures into the one error line (or JSON object) and the exit code."""
    try:
        yield
    except CliError as error:
        _fail(settings, error)
    except grpc.RpcError as exc:
        _fail(settings, from_rpc_error(exc, target=settings.target))
    except KeyboardInterrupt:
        if on_interrupt != ExitCode.OK:
            _note("interrupted", style="yellow")
        raise typer.Exit(int(on_interrupt)) from None
    except BrokenPipeError:
        # `hallctl watch | head` closed our stdout: a normal way to stop reading.
        # Point stdout at /dev/null so the final flush at exit cannot fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(int(ExitCode.OK)) from None
    except OSError as exc:  # a TLS file that cannot be read (after BrokenPipeError, an OSError too)
        _fail(settings, usage_error(f"{exc.filename or 'TLS'}: {exc.strerror or exc}"))


def _device_ref(spec: str) -> device_pb2.DeviceRef:
    try:
        return parse_device_ref(spec)
    except ValueError as err:
        raise usage_error(str(err)) from err


# --- inventory -------------------------------------------------------------


@app.command()
def devices(
    ctx: typer.Context,
    *,
    kind: Annotated[
        list[str] | None, typer.Option("--kind", "-k", metavar="KIND", help="Only this kind (repeatable).")
    ] = None,
    station: Annotated[
        list[str] | None, typer.Option("--station", "-s", metavar="STATION", help="Only this station (repeatable).")
    ] = None,
    json_flag: JsonFlag = False,
) -> None:
    """List every device: state, since when, last error, queue depth."""
    settings = _settings(ctx, json_flag)
    with _reporting(settings):
        try:
            kinds = [parse_kind(word) for word in kind or []]
        except ValueError as err:
            raise usage_error(str(err)) from err
        with settings.gateway() as gateway:
            found = gateway.list_devices(kinds, station or [])
    if settings.json_output:
        _emit_json({"devices": [views.device_view(device) for device in found]})
    else:
        console = render.make_console()
        console.print(render.devices_view(found, _now(), console))


@app.command()
def show(ctx: typer.Context, device: DeviceArg, json_flag: JsonFlag = False) -> None:
    """Show everything the gateway knows of one device."""
    settings = _settings(ctx, json_flag)
    with _reporting(settings):
        ref = _device_ref(device)
        with settings.gateway() as gateway:
            found = gateway.get_device(ref)
    if settings.json_output:
        _emit_json(views.device_view(found))
    else:
        render.make_console().print(render.device_detail(found, _now()))


# --- admin state -----------------------------------------------------------


def _set_admin(ctx: typer.Context, device: str, state: device_pb2.AdminState, reason: str, json_flag: bool) -> None:
    settings = _settings(ctx, json_flag)
    with _reporting(settings):
        ref = _device_ref(device)
        if state != device_pb2.ADMIN_STATE_ENABLED and not reason.strip():
            raise usage_error("--reason must say why (it is shown to staff and recorded)")
        with settings.gateway() as gateway:
            changed = gateway.set_admin_state(ref, state, reason=reason.strip(), request_id=str(uuid.uuid4()))
    if settings.json_output:
        _emit_json(views.device_view(changed))
    else:
        render.make_console().print(render.admin_result(changed, _now()), soft_wrap=True)


ReasonOpt = Annotated[str, typer.Option("--reason", "-r", help="Why; shown to staff and recorded with the state.")]


@app.command()
def disable(ctx: typer.Context, device: DeviceArg, reason: ReasonOpt, json_flag: JsonFlag = False) -> None:
    """Take a device out of service (business calls fail with DEVICE_DISABLED)."""
    _set_admin(ctx, device, device_pb2.ADMIN_STATE_DISABLED, reason, json_flag)


@app.command()
def enable(ctx: typer.Context, device: DeviceArg, reason: ReasonOpt = "", json_flag: JsonFlag = False) -> None:
    """Put a device back into service."""
    _set_admin(ctx, device, device_pb2.ADMIN_STATE_ENABLED, reason, json_flag)


@app.command()
def maintenance(ctx: typer.Context, device: DeviceArg, reason: ReasonOpt, json_flag: JsonFlag = False) -> None:
    """Mark a device as under maintenance (business calls fail with DEVICE_DISABLED)."""
    _set_admin(ctx, device, device_pb2.ADMIN_STATE_MAINTENANCE, reason, json_flag)


# --- ID cards --------------------------------------------------------------


def _reader_ref(device: str | None, station: str | None) -> device_pb2.DeviceRef:
    if station is not None and device is None:
        return station_ref(station, device_pb2.DEVICE_KIND_IDCARD_READER)
    if device is None or station is not None:
        raise usage_error("give either a DEVICE or --station STATION")
    return _device_ref(device)


def _check_photo_out(path: Path) -> None:
    """Refuse a path that cannot be written before the applicant presents a card, not after."""
    if path.is_dir():
        raise usage_error(f"--photo-out {path} is a directory")
    parent = path.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise usage_error(f"--photo-out {path}: directory {parent} does not exist or is not writable")


def _write_photo(path: Path, card: idcard_pb2.IdentityCard) -> dict[str, Any] | None:
    """Write the decoded photo when the gateway has one, else the card's own; None when the card has none."""
    field = "decoded_photo" if card.HasField("decoded_photo") and card.decoded_photo.data else "photo"
    photo: idcard_pb2.CardPhoto = getattr(card, field)
    if not photo.data:
        return None
    try:
        # The photo is personal data: readable by its owner only, also when
        # the file existed before with a wider mode.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(photo.data)
    except OSError as err:
        raise CliError(
            code="LOCAL",
            reason="PHOTO_NOT_WRITTEN",
            message=f"the card was read but {path} could not be written: {err.strerror}",
            action="none",
            exit_code=ExitCode.INTERNAL,
        ) from err
    return {"path": str(path), "source": field, **(views.photo_view(card, field) or {})}


@app.command("read-id")
def read_id(
    ctx: typer.Context,
    *,
    device: Annotated[
        str | None,
        typer.Argument(
            metavar="DEVICE", help="Reader id (idr-07) or STATION:KIND; or use --station.", show_default=False
        ),
    ] = None,
    station: Annotated[
        str | None, typer.Option("--station", "-s", metavar="STATION", help="The ID card reader of this station.")
    ] = None,
    request_id: Annotated[
        str | None, typer.Option("--request-id", metavar="ID", help="Request id (default: a new UUID).")
    ] = None,
    wait: Annotated[
        float, typer.Option("--wait", min=0.0, metavar="SECONDS", help="How long to wait for a card (0: look once).")
    ] = 10.0,
    show_pii: Annotated[bool, typer.Option("--show-pii", help="Show personal data unmasked.")] = False,
    photo_out: Annotated[
        Path | None, typer.Option("--photo-out", metavar="FILE", help="Write the photo to FILE (mode 0600).")
    ] = None,
    json_flag: JsonFlag = False,
) -> None:
    """Test-read the ID card on a reader and show its fields (masked unless --show-pii)."""
    settings = _settings(ctx, json_flag)
    request_id = request_id if request_id is not None else str(uuid.uuid4())
    with _reporting(settings):
        ref = _reader_ref(device, station)
        if not request_id or len(request_id) > MAX_REQUEST_ID or not request_id.isprintable():
            raise usage_error(f"--request-id must be 1 to {MAX_REQUEST_ID} printable characters")
        if photo_out is not None:
            _check_photo_out(photo_out)
        with settings.gateway() as gateway:
            reader = gateway.get_device(ref)
            where = f"{reader.device_id} ({reader.station_id})" if reader.station_id else reader.device_id
            header = f"reading the ID card on {where}: waiting up to {wait:g}s for a card (request {request_id})"
            with ReadProgress(render.make_console(stderr=True), header, quiet=settings.json_output) as progress:
                response = gateway.read_id_card(
                    ref, device_id=reader.device_id, request_id=request_id, wait=wait, on_event=progress.update
                )
        written = _write_photo(photo_out, response.card) if photo_out is not None else None

    fields = views.card_fields(response.card, show_pii=show_pii)
    if settings.json_output:
        view = views.card_view(response, request_id=request_id, show_pii=show_pii)
        if photo_out is not None:
            view["photo_out"] = written
        _emit_json(view)
    else:
        render.make_console().print(render.card_table(response, fields, request_id=request_id, show_pii=show_pii))
    if photo_out is not None:
        if written is None:
            _note(f"the card carries no photo; {photo_out} was not written", style="yellow")
        elif not settings.json_output:
            _note(f"photo written to {photo_out} ({written['format']}, {written['size']} bytes)")


# --- streams ---------------------------------------------------------------


@app.command()
def watch(
    ctx: typer.Context,
    *,
    device: Annotated[
        list[str] | None, typer.Option("--device", "-d", metavar="ID", help="Only this device (repeatable).")
    ] = None,
    station: Annotated[
        list[str] | None, typer.Option("--station", "-s", metavar="STATION", help="Only this station (repeatable).")
    ] = None,
    request_id: Annotated[
        str | None, typer.Option("--request-id", metavar="ID", help="Only events of this call.")
    ] = None,
    current: Annotated[bool, typer.Option("--current", help="First show the current state of each device.")] = False,
    json_flag: JsonFlag = False,
) -> None:
    """Stream device events live, one line each (JSON lines with --json). Ctrl-C stops (exit 0)."""
    settings = _settings(ctx, json_flag)
    request = device_service_pb2.WatchEventsRequest(
        device_ids=device or [], station_ids=station or [], request_id=request_id or "", include_current_state=current
    )
    # Sequence numbers count every event of the gateway, so only an unfiltered
    # watch can tell a gap (events dropped because this watcher was slow).
    unfiltered = not (device or station or request_id)
    console = render.make_console()
    with _reporting(settings, on_interrupt=ExitCode.OK), settings.gateway() as gateway:
        last_sequence = 0
        for event in gateway.watch_events(request):
            if unfiltered and last_sequence and event.sequence > last_sequence + 1:
                _note(f"missed {event.sequence - last_sequence - 1} events (this watcher was too slow)", style="yellow")
            last_sequence = max(last_sequence, event.sequence)
            if settings.json_output:
                _emit_json(views.event_view(event), lines=True)
            else:
                console.print(render.event_line(event), soft_wrap=True)
        _note("the gateway ended the event stream")


@app.command()
def trace(
    ctx: typer.Context,
    *,
    device: DeviceArg,
    count: Annotated[int | None, typer.Option("--count", "-n", min=1, metavar="N", help="Stop after N frames.")] = None,
    full: Annotated[bool, typer.Option("--full", help="Print every byte of long frames.")] = False,
    json_flag: JsonFlag = False,
) -> None:
    """Stream the frames on a device's link (payload masked by the gateway). Ctrl-C stops (exit 0)."""
    settings = _settings(ctx, json_flag)
    console = render.make_console()
    with _reporting(settings, on_interrupt=ExitCode.OK):
        ref = _device_ref(device)
        with (
            settings.gateway() as gateway,
            contextlib.closing(gateway.trace_frames(ref)) as frames,
        ):
            for seen, frame in enumerate(frames, start=1):
                if settings.json_output:
                    _emit_json(views.frame_view(frame), lines=True)
                else:
                    console.print(render.frame_line(frame, full=full), soft_wrap=True)
                if count is not None and seen >= count:
                    return
            _note(f"the gateway ended the trace of {describe_ref(ref)}")


def main() -> None:
    """Console-script entry point of ``hallctl``."""
    app(prog_name="hallctl")
