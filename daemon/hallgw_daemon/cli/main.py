"""``hallctl``: the command line of the hall gateway for field engineers.

This module is the command surface only: it parses options, calls ``client``,
and hands the results to ``render`` (people) or ``views`` (``--json``). Every
command maps failures to the exit codes of ``errors.ExitCode``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
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

from hallgw_api.v1 import device_pb2, device_service_pb2, document_pb2, fingerprint_pb2, idcard_pb2

from . import render, views
from .client import DEFAULT_TARGET, DEFAULT_TIMEOUT_S, MAX_ISSUANCES, Gateway, TlsFiles
from .errors import EXIT_CODES_HELP, CliError, ExitCode, from_rpc_error, usage_error
from .names import describe_ref, finger_word, parse_device_ref, parse_finger, parse_kind, station_ref
from .progress import ReadProgress
from .telemetry import telemetry_app

MAX_REQUEST_ID = 128  # the API's limit on caller-chosen request ids

app = typer.Typer(
    name="hallctl",
    help=(
        "Engineers' client of the hall gateway (hallgwd): device states, events, frame traces, "
        "test reads of ID cards and travel documents, fingerprint test captures, kiosks and their journal."
    ),
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    rich_markup_mode="markdown",
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(telemetry_app)


def _group(name: str, help_text: str, *, bare_runs: bool = False) -> typer.Typer:
    """A command group with hallctl's settings, added to ``app``; ``bare_runs``: the group name alone runs it."""
    group = typer.Typer(
        name=name,
        help=help_text,
        rich_markup_mode="markdown",
        add_completion=False,
        context_settings={"help_option_names": ["-h", "--help"]},
        invoke_without_command=bare_runs,
        no_args_is_help=not bare_runs,
    )
    app.add_typer(group)
    return group


document_app = _group(
    "document", "Travel documents (ICAO 9303): test-read a passport, permit or ID card through its MRZ and chip."
)
fingerprint_app = _group("fingerprint", "Fingerprint scanners: test-capture a finger and see its quality score.")
station_app = _group(
    "station",
    "One station: its roles and who holds it (`station show`), or end a stuck visit (`station release`).",
)
visit_app = _group("visit", "Visits at claimed stations: follow one visit's events (`visit watch VISIT`).")
photo_app = _group(
    "photo", "Document photos: check a photo against the standard (with a picture of the analysis), or take one."
)
kiosks_app = _group(
    "kiosks",
    "List the self-service kiosks: states, kind, model, mode, door and consumables (paper, ribbon, "
    "card stock, slots), low ones highlighted. `kiosks consumables KIOSK` shows one kiosk's.",
    bare_runs=True,
)
ledger_app = _group(
    "ledger",
    "The kiosks' exactly-once journal: issuances by request id, those in flight or in doubt, recent history.",
)


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


def _reader_ref(
    device: str | None, station: str | None, kind: device_pb2.DeviceKind = device_pb2.DEVICE_KIND_IDCARD_READER
) -> device_pb2.DeviceRef:
    if station is not None and device is None:
        return station_ref(station, kind)
    if device is None or station is not None:
        raise usage_error("give either a DEVICE or --station STATION")
    return _device_ref(device)


def _check_request_id(request_id: str) -> None:
    if not request_id or len(request_id) > MAX_REQUEST_ID or not request_id.isprintable():
        raise usage_error(f"--request-id must be 1 to {MAX_REQUEST_ID} printable characters")


def _check_photo_out(path: Path, option: str = "--photo-out") -> None:
    """Refuse a path that cannot be written before the applicant presents a card, not after."""
    if path.is_dir():
        raise usage_error(f"{option} {path} is a directory")
    parent = path.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise usage_error(f"{option} {path}: directory {parent} does not exist or is not writable")


def _write_private(path: Path, data: bytes, *, reason: str, what: str) -> None:
    """Write personal data readable by its owner only, also when the file existed before with a wider mode."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
    except OSError as err:
        raise CliError(
            code="LOCAL",
            reason=reason,
            message=f"the {what} was read but {path} could not be written: {err.strerror}",
            action="none",
            exit_code=ExitCode.INTERNAL,
        ) from err


def _write_photo(path: Path, card: idcard_pb2.IdentityCard) -> dict[str, Any] | None:
    """Write the decoded photo when the gateway has one, else the card's own; None when the card has none."""
    field = "decoded_photo" if card.HasField("decoded_photo") and card.decoded_photo.data else "photo"
    photo: idcard_pb2.CardPhoto = getattr(card, field)
    if not photo.data:
        return None
    _write_private(path, photo.data, reason="PHOTO_NOT_WRITTEN", what="card")
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
        _check_request_id(request_id)
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


# --- travel documents ------------------------------------------------------------

RequestIdOpt = Annotated[
    str | None, typer.Option("--request-id", metavar="ID", help="Request id (default: a new UUID).")
]
ShowPiiOpt = Annotated[bool, typer.Option("--show-pii", help="Show personal data unmasked.")]


def normalise_mrz(text: str) -> str:
    """The MRZ lines separated by line breaks, as the API wants them.

    The lines may come separated by line breaks, by a literal ``\n`` (as typed
    in a shell), by spaces or by commas: MRZ characters are ``A-Z``, ``0-9``
    and ``<`` only, so none of those can be part of a line. Letters are
    upper-cased. Whether the lines make a valid MRZ is for the gateway to say
    (MRZ_INVALID).
    """
    lines = [part for part in re.split(r"[\s,]+", text.replace("\\n", "\n")) if part]
    return "\n".join(line.upper() for line in lines)


def _mrz_option(mrz: str | None, mrz_file: Path | None) -> str:
    """The MRZ from --mrz or --mrz-file, normalised; empty when neither is given. Never echoes it."""
    if mrz is not None and mrz_file is not None:
        raise usage_error("give either --mrz or --mrz-file, not both")
    if mrz_file is not None:
        try:
            mrz = mrz_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            reason = err.strerror if isinstance(err, OSError) else "not UTF-8 text"
            raise usage_error(f"--mrz-file {mrz_file}: {reason}") from err
    if mrz is None:
        return ""
    normalised = normalise_mrz(mrz)
    if not normalised:
        raise usage_error("--mrz-file is empty" if mrz_file is not None else "--mrz is empty")
    return normalised


def _write_face(path: Path, document: document_pb2.TravelDocument) -> dict[str, Any] | None:
    """Write the face image (JPEG); None when the response carries none."""
    if not document.HasField("face") or not document.face.jpeg:
        return None
    _write_private(path, document.face.jpeg, reason="FACE_NOT_WRITTEN", what="document")
    return {"path": str(path), **(views.face_view(document) or {})}


@document_app.command("read")
def document_read(
    ctx: typer.Context,
    *,
    device: Annotated[
        str | None,
        typer.Argument(
            metavar="DEVICE", help="Chip reader id (dr-03) or STATION:KIND; or use --station.", show_default=False
        ),
    ] = None,
    station: Annotated[
        str | None, typer.Option("--station", "-s", metavar="STATION", help="The document reader of this station.")
    ] = None,
    mrz: Annotated[
        str | None,
        typer.Option(
            "--mrz",
            metavar="TEXT",
            help="The MRZ lines (separated by line breaks, \\n, spaces or commas); default: the station's MRZ reader.",
        ),
    ] = None,
    mrz_file: Annotated[
        Path | None, typer.Option("--mrz-file", metavar="FILE", help="Read the MRZ lines from FILE.")
    ] = None,
    wait: Annotated[
        float,
        typer.Option("--wait", min=0.0, metavar="SECONDS", help="How long to wait for the MRZ scan and the document."),
    ] = 20.0,
    request_id: RequestIdOpt = None,
    face_out: Annotated[
        Path | None, typer.Option("--face-out", metavar="FILE", help="Write the face image (JPEG) to FILE (mode 0600).")
    ] = None,
    show_pii: ShowPiiOpt = False,
    json_flag: JsonFlag = False,
) -> None:
    """Test-read the travel document on a chip reader: MRZ, chip, passive authentication (masked unless --show-pii)."""
    settings = _settings(ctx, json_flag)
    request_id = request_id if request_id is not None else str(uuid.uuid4())
    with _reporting(settings):
        ref = _reader_ref(device, station, device_pb2.DEVICE_KIND_DOCUMENT_READER)
        _check_request_id(request_id)
        given = _mrz_option(mrz, mrz_file)
        if face_out is not None:
            _check_photo_out(face_out, "--face-out")
        with settings.gateway() as gateway:
            reader = gateway.get_device(ref)
            where = f"{reader.device_id} ({reader.station_id})" if reader.station_id else reader.device_id
            awaited = "the document" if given else "the MRZ scan and the document"
            header = (
                f"reading the travel document on {where}: waiting up to {wait:g}s for {awaited} (request {request_id})"
            )
            with ReadProgress(render.make_console(stderr=True), header, quiet=settings.json_output) as progress:
                response = gateway.read_travel_document(
                    ref,
                    device_id=reader.device_id,
                    request_id=request_id,
                    mrz=given,
                    wait=wait,
                    skip_face=face_out is None,
                    on_event=progress.update,
                )
        written = _write_face(face_out, response.document) if face_out is not None else None

    if settings.json_output:
        view = views.document_view(response, request_id=request_id, show_pii=show_pii)
        if face_out is not None:
            view["face_out"] = written
        _emit_json(view)
    else:
        fields = views.mrz_fields(response.document.mrz, show_pii=show_pii)
        render.make_console().print(render.document_table(response, fields, request_id=request_id, show_pii=show_pii))
    if face_out is not None:
        if written is None:
            _note(f"the document carries no face image; {face_out} was not written", style="yellow")
        elif not settings.json_output:
            _note(f"face image written to {face_out} (JPEG, {written['size']} bytes)")


# --- fingerprints ----------------------------------------------------------------


def _write_fingerprint(path: Path, response: fingerprint_pb2.CaptureResponse) -> dict[str, Any] | None:
    """Write the PNG as received; None when the response carries no image."""
    if not response.image.png:
        return None
    _write_private(path, response.image.png, reason="IMAGE_NOT_WRITTEN", what="fingerprint")
    return {"path": str(path), **views.fingerprint_image_view(response.image)}


@fingerprint_app.command("capture")
def fingerprint_capture(
    ctx: typer.Context,
    *,
    device: Annotated[
        str | None,
        typer.Argument(
            metavar="DEVICE", help="Scanner id (fps-03) or STATION:KIND; or use --station.", show_default=False
        ),
    ] = None,
    station: Annotated[
        str | None,
        typer.Option("--station", "-s", metavar="STATION", help="The fingerprint scanner of this station."),
    ] = None,
    finger: Annotated[
        str | None,
        typer.Option(
            "--finger",
            "-f",
            metavar="FINGER",
            help="right-thumb ... right-little, left-thumb ... left-little, or 1..10 (default: not recorded).",
        ),
    ] = None,
    min_quality: Annotated[
        int | None,
        typer.Option(
            "--min-quality",
            min=0,
            max=100,
            metavar="N",
            help="Lowest acceptable score 0..100 (default: the gateway's).",
        ),
    ] = None,
    attempts: Annotated[
        int | None,
        typer.Option("--attempts", min=1, max=10, metavar="N", help="Attempts 1..10 (default: the gateway's)."),
    ] = None,
    wait: Annotated[
        float,
        typer.Option("--wait", min=0.0, metavar="SECONDS", help="How long each attempt waits for the finger."),
    ] = 10.0,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", metavar="FILE", help="Write the image (PNG) to FILE (mode 0600).")
    ] = None,
    request_id: RequestIdOpt = None,
    json_flag: JsonFlag = False,
) -> None:
    """Test-capture a finger on a scanner and show the quality score (the image only goes to --out)."""
    settings = _settings(ctx, json_flag)
    request_id = request_id if request_id is not None else str(uuid.uuid4())
    with _reporting(settings):
        ref = _reader_ref(device, station, device_pb2.DEVICE_KIND_FINGERPRINT_SCANNER)
        _check_request_id(request_id)
        try:
            position = parse_finger(finger) if finger is not None else fingerprint_pb2.FINGER_POSITION_UNSPECIFIED
        except ValueError as err:
            raise usage_error(str(err)) from err
        if out is not None:
            _check_photo_out(out, "--out")
        with settings.gateway() as gateway:
            scanner = gateway.get_device(ref)
            where = f"{scanner.device_id} ({scanner.station_id})" if scanner.station_id else scanner.device_id
            header = (
                f"capturing the {finger_word(position).replace('_', ' ')} finger on {where}: "
                f"waiting up to {wait:g}s per attempt (request {request_id})"
            )
            with ReadProgress(render.make_console(stderr=True), header, quiet=settings.json_output) as progress:
                response = gateway.capture_fingerprint(
                    ref,
                    device_id=scanner.device_id,
                    request_id=request_id,
                    finger=position,
                    min_quality=min_quality or 0,
                    attempts=attempts or 0,
                    wait=wait,
                    on_event=progress.update,
                )
        written = _write_fingerprint(out, response) if out is not None else None

    if settings.json_output:
        view = views.capture_view(response, request_id=request_id)
        if out is not None:
            view["out"] = written
        _emit_json(view)
    else:
        render.make_console().print(render.capture_table(response, request_id=request_id))
    if out is not None:
        if written is None:
            _note(f"the gateway sent no image; {out} was not written", style="yellow")
        elif not settings.json_output:
            _note(f"fingerprint image written to {out} (PNG, {written['size']} bytes)")


# --- stations ----------------------------------------------------------------------

STATION_KINDS = ("window", "desk", "booth", "area24")


@app.command()
def stations(
    ctx: typer.Context,
    *,
    kind: Annotated[
        str | None, typer.Option("--kind", "-k", metavar="KIND", help="Only window, desk, booth or area24.")
    ] = None,
    json_flag: JsonFlag = False,
) -> None:
    """List the stations: their roles with each device's state, and the visit holding each."""
    settings = _settings(ctx, json_flag)
    with _reporting(settings):
        if kind is not None and kind not in STATION_KINDS:
            raise usage_error(f"--kind must be one of {', '.join(STATION_KINDS)}")
        with settings.gateway() as gateway:
            found = gateway.list_stations(kind or "")
    if settings.json_output:
        _emit_json({"stations": [views.station_view(s) for s in found]})
    else:
        render.make_console().print(render.stations_table(found, datetime.now(UTC)))


@station_app.command("show")
def station_show(
    ctx: typer.Context,
    station: Annotated[str, typer.Argument(metavar="STATION", help="The station id (desk-03).")],
    *,
    json_flag: JsonFlag = False,
) -> None:
    """One station: each role's device and state, and the visit holding it."""
    settings = _settings(ctx, json_flag)
    with _reporting(settings), settings.gateway() as gateway:
        found = gateway.get_station(station)
    if settings.json_output:
        _emit_json(views.station_view(found))
    else:
        render.make_console().print(render.station_detail(found, datetime.now(UTC)))


@station_app.command("release")
def station_release(
    ctx: typer.Context,
    station: Annotated[str, typer.Argument(metavar="STATION", help="The station to free.")],
    *,
    reason: Annotated[str, typer.Option("--reason", "-r", metavar="TEXT", help="Why (logged with your name).")],
    json_flag: JsonFlag = False,
) -> None:
    """End the visit holding a station (an engineer's break of a stuck claim); its personal data is dropped."""
    settings = _settings(ctx, json_flag)
    with _reporting(settings):
        if not reason.strip():
            raise usage_error("--reason must say why the claim is broken")
        with settings.gateway() as gateway:
            visit = gateway.break_claim(station, reason.strip())
    if settings.json_output:
        _emit_json({"released": views.visit_view(visit)})
    else:
        _note(f"visit {visit.visit_id} of {visit.holder} at {visit.station_id} ended: {reason.strip()}", style="")


@station_app.command("assign")
def station_assign(
    ctx: typer.Context,
    station: Annotated[str, typer.Argument(metavar="STATION", help="The station (desk-03).")],
    device: Annotated[str, typer.Argument(metavar="DEVICE", help="The device that takes its kind's role there.")],
    *,
    json_flag: JsonFlag = False,
) -> None:
    """Make a device (a spare) fill its kind's role at a station; a visit there goes on with it."""
    settings = _settings(ctx, json_flag)
    with _reporting(settings), settings.gateway() as gateway:
        answer = gateway.assign_role(station, device)
    if settings.json_output:
        _emit_json({"station": views.station_view(answer.station), "replaced": answer.replaced_device_id or None})
        return
    render.make_console().print(render.station_detail(answer.station, datetime.now(UTC)))
    if answer.replaced_device_id:
        _note(f"{device} replaces {answer.replaced_device_id} at {station}", style="")


@visit_app.command("watch")
def visit_watch(
    ctx: typer.Context,
    visit: Annotated[str, typer.Argument(metavar="VISIT", help="The visit id (visit-...).")],
    *,
    json_flag: JsonFlag = False,
) -> None:
    """Stream the events of one visit live, one line each (JSON lines with --json). Ctrl-C stops (exit 0)."""
    settings = _settings(ctx, json_flag)
    request = device_service_pb2.WatchEventsRequest(visit_id=visit)
    console = render.make_console()
    with _reporting(settings, on_interrupt=ExitCode.OK), settings.gateway() as gateway:
        for event in gateway.watch_events(request):
            if settings.json_output:
                _emit_json(views.event_view(event), lines=True)
            else:
                console.print(render.event_line(event), soft_wrap=True)
        _note("the gateway ended the event stream")


# --- photos ----------------------------------------------------------------------

MAX_PHOTO_FILE = 16 * 1024 * 1024


@photo_app.command("check")
def photo_check(
    ctx: typer.Context,
    image: Annotated[Path, typer.Argument(metavar="IMAGE", help="The photo to check (JPEG, PNG, ...).")],
    *,
    overlay: Annotated[
        Path | None,
        typer.Option("--overlay", metavar="FILE", help="Write a picture of the analysis (PNG) to FILE (mode 0600)."),
    ] = None,
    corrected: Annotated[
        Path | None,
        typer.Option("--corrected", metavar="FILE", help="Write the corrected crop (JPEG) to FILE (mode 0600)."),
    ] = None,
    json_flag: JsonFlag = False,
) -> None:
    """Check a photo against the exit-entry photo standard: every check, its value, its window and the hints."""
    settings = _settings(ctx, json_flag)
    with _reporting(settings):
        try:
            if image.stat().st_size > MAX_PHOTO_FILE:
                raise usage_error(f"{image} is over {MAX_PHOTO_FILE // (1024 * 1024)} MiB: the gateway takes no more")
            data = image.read_bytes()
        except OSError as err:
            raise usage_error(f"{image}: {err.strerror}") from err
        for path, option in ((overlay, "--overlay"), (corrected, "--corrected")):
            if path is not None:
                _check_photo_out(path, option)
        with settings.gateway() as gateway:
            response = gateway.check_photo(data, overlay=overlay is not None)
        if overlay is not None and response.overlay_png:
            _write_private(overlay, response.overlay_png, reason="IMAGE_NOT_WRITTEN", what="analysis picture")
        if corrected is not None and response.corrected.jpeg:
            _write_private(corrected, response.corrected.jpeg, reason="IMAGE_NOT_WRITTEN", what="corrected photo")

    if settings.json_output:
        view: dict[str, Any] = {"image": str(image), "report": views.photo_report_view(response.report)}
        if response.HasField("corrected"):
            view["corrected"] = {
                **views.photo_file_view(response.corrected),
                "report": views.photo_report_view(response.corrected_report),
                "out": str(corrected) if corrected is not None else None,
            }
        view["overlay"] = str(overlay) if overlay is not None and response.overlay_png else None
        _emit_json(view)
        return
    console = render.make_console()
    console.print(render.photo_report_table(response.report, title=str(image)))
    if response.HasField("corrected"):
        console.print(render.photo_report_table(response.corrected_report, title="the corrected crop"))
    if overlay is not None:
        _note(f"analysis picture written to {overlay}" if response.overlay_png else "no analysis picture came back")
    if corrected is not None:
        _note(
            f"corrected photo written to {corrected} (JPEG, {len(response.corrected.jpeg)} bytes)"
            if response.corrected.jpeg
            else f"no face was found, so there is no corrected photo; {corrected} was not written",
            style="" if response.corrected.jpeg else "yellow",
        )


@photo_app.command("capture")
def photo_capture(
    ctx: typer.Context,
    *,
    device: Annotated[
        str | None,
        typer.Argument(
            metavar="DEVICE", help="Camera id (cam-b1) or STATION:KIND; or use --station.", show_default=False
        ),
    ] = None,
    station: Annotated[
        str | None, typer.Option("--station", "-s", metavar="STATION", help="The camera of this station.")
    ] = None,
    wait: Annotated[
        float, typer.Option("--wait", min=1.0, max=600.0, metavar="SECONDS", help="How long the applicant has.")
    ] = 30.0,
    hold: Annotated[
        int | None,
        typer.Option("--hold", min=1, max=30, metavar="N", help="Compliant frames in a row before the photo is taken."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", metavar="FILE", help="Write the photo (JPEG) to FILE (mode 0600).")
    ] = None,
    request_id: RequestIdOpt = None,
    json_flag: JsonFlag = False,
) -> None:
    """Take a document photo with a camera, showing the guidance as it comes; the photo only goes to --out."""
    settings = _settings(ctx, json_flag)
    request_id = request_id if request_id is not None else str(uuid.uuid4())
    with _reporting(settings):
        ref = _reader_ref(device, station, device_pb2.DEVICE_KIND_CAMERA)
        _check_request_id(request_id)
        if out is not None:
            _check_photo_out(out, "--out")
        with settings.gateway() as gateway:
            camera = gateway.get_device(ref)
            where = f"{camera.device_id} ({camera.station_id})" if camera.station_id else camera.device_id
            header = f"taking a photo on {where}: up to {wait:g}s (request {request_id})"
            with ReadProgress(render.make_console(stderr=True), header, quiet=settings.json_output) as progress:
                response = gateway.capture_photo(
                    ref,
                    device_id=camera.device_id,
                    request_id=request_id,
                    wait=wait,
                    hold=hold or 0,
                    on_event=progress.update,
                )
        if out is not None:
            _write_private(out, response.photo.jpeg, reason="IMAGE_NOT_WRITTEN", what="photo")

    if settings.json_output:
        _emit_json(
            {
                "device_id": response.device_id,
                "request_id": request_id,
                "frames_judged": response.frames_judged,
                "photo": {**views.photo_file_view(response.photo), "out": str(out) if out is not None else None},
                "report": views.photo_report_view(response.report),
            }
        )
        return
    render.make_console().print(render.photo_report_table(response.report, title=f"photo from {response.device_id}"))
    if out is not None:
        _note(f"photo written to {out} (JPEG {response.photo.width}×{response.photo.height}, "
              f"{len(response.photo.jpeg)} bytes)")  # fmt: skip


# --- kiosks ----------------------------------------------------------------------


@kiosks_app.callback()
def kiosks(
    ctx: typer.Context,
    *,
    station: Annotated[
        list[str] | None, typer.Option("--station", "-s", metavar="STATION", help="Only this station (repeatable).")
    ] = None,
    json_flag: JsonFlag = False,
) -> None:
    """List the kiosks: states, kind, model, mode, door and consumables, low ones highlighted."""
    if ctx.invoked_subcommand is not None:
        return
    settings = _settings(ctx, json_flag)
    with _reporting(settings), settings.gateway() as gateway:
        found = gateway.list_devices([device_pb2.DEVICE_KIND_KIOSK], station or [])
    if settings.json_output:
        _emit_json({"kiosks": [views.kiosk_view(device) for device in found]})
    else:
        console = render.make_console()
        console.print(render.kiosks_view(found, console))


@kiosks_app.command("consumables")
def kiosk_consumables(
    ctx: typer.Context,
    *,
    device: Annotated[
        str | None,
        typer.Argument(
            metavar="KIOSK", help="Kiosk id (kio-01) or STATION:KIND; or use --station.", show_default=False
        ),
    ] = None,
    station: Annotated[
        str | None, typer.Option("--station", "-s", metavar="STATION", help="The kiosk of this station.")
    ] = None,
    json_flag: JsonFlag = False,
) -> None:
    """Show a kiosk's consumables as it last reported them (GetConsumables)."""
    settings = _settings(ctx, json_flag)
    with _reporting(settings):
        ref = _reader_ref(device, station, device_pb2.DEVICE_KIND_KIOSK)
        with settings.gateway() as gateway:
            response = gateway.get_consumables(ref)
    if settings.json_output:
        _emit_json(views.consumables_view(response))
    else:
        render.make_console().print(render.consumables_table(response, _now()))


# --- the kiosks' journal -----------------------------------------------------------

KioskOpt = Annotated[
    str | None,
    typer.Option("--kiosk", "-k", metavar="ID", help="Only this kiosk's (device id or STATION:KIND)."),
]


def _kiosk_id(gateway: Gateway, kiosk: str | None) -> str:
    """The device id of ``--kiosk``; a ``STATION:KIND`` reference is resolved by the gateway."""
    if kiosk is None:
        return ""
    ref = _device_ref(kiosk)
    if ref.WhichOneof("target") == "device_id":
        return ref.device_id
    return gateway.get_device(ref).device_id


@ledger_app.command("show")
def ledger_show(
    ctx: typer.Context,
    request_id: Annotated[str, typer.Argument(metavar="REQUEST_ID", help="The request id of the issuance.")],
    json_flag: JsonFlag = False,
) -> None:
    """Show one journalled issuance: its state, with the kiosk's evidence or the reason and action."""
    settings = _settings(ctx, json_flag)
    with _reporting(settings):
        if (
            not request_id
            or len(request_id) > MAX_REQUEST_ID
            or not request_id.isprintable()
            or any(char.isspace() for char in request_id)
        ):
            raise usage_error(f"REQUEST_ID must be 1 to {MAX_REQUEST_ID} printable characters without spaces")
        with settings.gateway() as gateway:
            found = gateway.get_issuance(request_id)
    if settings.json_output:
        _emit_json(views.issuance_view(found))
    else:
        render.make_console().print(render.issuance_detail(found, _now()))


@ledger_app.command("pending")
def ledger_pending(ctx: typer.Context, *, kiosk: KioskOpt = None, json_flag: JsonFlag = False) -> None:
    """List the issuances in flight or in doubt, oldest first."""
    settings = _settings(ctx, json_flag)
    with _reporting(settings), settings.gateway() as gateway:
        found = gateway.list_issuances(device_id=_kiosk_id(gateway, kiosk), limit=MAX_ISSUANCES)
    if settings.json_output:
        _emit_json({"issuances": [views.issuance_view(issuance) for issuance in found]})
        return
    if not found:
        typer.echo("no issuance in flight or in doubt" + (f" on {kiosk}" if kiosk else ""))
        return
    console = render.make_console()
    console.print(render.issuances_view(found, _now(), console))
    if len(found) >= MAX_ISSUANCES:
        _note(f"showing the oldest {MAX_ISSUANCES}; there may be more", style="yellow")


@ledger_app.command("list")
def ledger_list(
    ctx: typer.Context,
    *,
    kiosk: KioskOpt = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            "-n",
            min=1,
            max=MAX_ISSUANCES,
            metavar="N",
            help=f"At most N issuances, 1..{MAX_ISSUANCES} (default: the gateway's, 100).",
        ),
    ] = None,
    json_flag: JsonFlag = False,
) -> None:
    """List recent issuances: those not final yet (oldest first), then final ones (newest first)."""
    settings = _settings(ctx, json_flag)
    with _reporting(settings), settings.gateway() as gateway:
        found = gateway.list_issuances(device_id=_kiosk_id(gateway, kiosk), include_final=True, limit=limit or 0)
    if settings.json_output:
        _emit_json({"issuances": [views.issuance_view(issuance) for issuance in found]})
    elif not found:
        typer.echo("no issuance journalled" + (f" on {kiosk}" if kiosk else ""))
    else:
        console = render.make_console()
        console.print(render.issuances_view(found, _now(), console))


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
