"""Exit codes and the translation of gRPC failures into one clear error.

The gateway reports failures as gRPC statuses carrying ``google.rpc.ErrorInfo``
(domain ``hallgw.gateway``, a stable reason, the action required). hallctl turns
each into an exit code that scripts can branch on and one line an engineer can
act on. A status without ErrorInfo did not come from the gateway's error mapping:
it is the gRPC library speaking (connection refused, deadline passed) or
something in between, and is classified by its status code.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from hallgw_api.v1 import errors_pb2

ERROR_DOMAIN = "hallgw.gateway"


class ExitCode(enum.IntEnum):
    """hallctl's exit codes (documented in ``hallctl --help`` and docs/cli.md)."""

    OK = 0
    FAILED = 1
    USAGE = 2
    UNREACHABLE = 3
    INTERNAL = 4
    INTERRUPTED = 130


EXIT_CODES_HELP = """Exit codes:

* 0: ok
* 1: the operation failed on the device (NO_CARD, NO_DOCUMENT, BAC_DENIED, QUALITY_TOO_LOW, DEVICE_OFFLINE, ...),
  or no issuance is journalled under the request id (UNKNOWN_REQUEST)
* 2: usage error, invalid request, unknown device or a reused request id
* 3: the gateway is unreachable, or did not answer in time
* 4: internal error (in the gateway or in hallctl; LEDGER_UNAVAILABLE, LEDGER_CONFLICT)
* 130: interrupted by Ctrl-C during a one-shot command (watch and trace exit 0 on Ctrl-C)
"""

# The reasons of errors.proto, as they appear on the wire (without the enum prefix).
KNOWN_REASONS = frozenset(
    name.removeprefix("ERROR_REASON_")
    for name in errors_pb2.ErrorReason.keys()  # noqa: SIM118  (EnumTypeWrapper is not iterable)
    if name != "ERROR_REASON_UNSPECIFIED"
)

# Every known reason not listed here is 1 (FAILED): the gateway answered, and the
# device, the document or the applicant did not do what the call needed. That
# includes MRZ_INVALID even when the MRZ came from --mrz: the gateway cannot
# tell a mistyped MRZ from a bad scan, and the remedy (re-scan the data page) is
# the same.
_REASON_EXIT = {
    "UNKNOWN_DEVICE": ExitCode.USAGE,
    "INVALID_REQUEST": ExitCode.USAGE,
    "PERMISSION_DENIED": ExitCode.USAGE,
    "INTERNAL": ExitCode.INTERNAL,
    # Travel documents.
    "NO_DOCUMENT": ExitCode.FAILED,
    "MRZ_INVALID": ExitCode.FAILED,
    "BAC_DENIED": ExitCode.FAILED,
    "DOCUMENT_REMOVED": ExitCode.FAILED,
    "CHIP_READ_FAILED": ExitCode.FAILED,
    "UNSUPPORTED_DOCUMENT": ExitCode.FAILED,
    # Fingerprints.
    "NO_FINGER": ExitCode.FAILED,
    "QUALITY_TOO_LOW": ExitCode.FAILED,
    # Photos: no compliant frame in time is an outcome of the capture; an upload that is not
    # an image is the caller's mistake.
    "PHOTO_NOT_COMPLIANT": ExitCode.FAILED,
    "IMAGE_INVALID": ExitCode.USAGE,
    # Kiosks and their exactly-once journal. A reused request id is the
    # caller's mistake (a new issuance needs a new id); an unknown one is an
    # answer about the journal, not a usage error, although its status is
    # NOT_FOUND. A journal that cannot be used, or that a kiosk contradicts,
    # is a fault of the gateway for an engineer.
    "REQUEST_ID_REUSED": ExitCode.USAGE,
    "UNKNOWN_REQUEST": ExitCode.FAILED,
    "LEDGER_UNAVAILABLE": ExitCode.INTERNAL,
    "LEDGER_CONFLICT": ExitCode.INTERNAL,
}

# ErrorInfo metadata keys that every error has; the others are the error's details.
_COMMON_METADATA = frozenset({"action", "device_id"})
# Details with a known shape: counts, and comma-separated lists of codes.
_INT_DETAILS = frozenset({"best_quality", "best_attempt", "judged"})
_LIST_DETAILS = frozenset({"hints", "differs", "failed"})

_USAGE_CODES = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.UNAUTHENTICATED,
    }
)
_INTERNAL_CODES = frozenset(
    {
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.DATA_LOSS,
    }
)
_TRANSPORT_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})


@dataclass(eq=False)  # not frozen: raising assigns __traceback__ and friends
class CliError(Exception):
    """A failure as hallctl reports it.

    ``code`` is the gRPC status name (or ``USAGE`` for a local mistake), ``reason``
    the gateway's stable reason code or the one hallctl assigns, ``action`` a
    lower-case action word (none, retry, reset, staff, engineer).
    """

    code: str
    reason: str
    message: str
    action: str
    exit_code: ExitCode
    device_id: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.line()

    def line(self) -> str:
        """The one line printed to stderr."""
        where = f", device {self.device_id}" if self.device_id else ""
        line = f"hallctl: {self.reason}: {self.message} (action: {self.action}{where})"
        extra = details_text(self.reason, self.details)
        return f"{line}; {extra}" if extra else line

    def to_json(self) -> dict[str, Any]:
        """The ``{"error": {...}}`` object printed on stdout with ``--json``."""
        body: dict[str, Any] = {
            "code": self.code,
            "reason": self.reason,
            "message": self.message,
            "action": self.action,
        }
        if self.device_id:
            body["device_id"] = self.device_id
        if self.details:
            body["details"] = dict(self.details)
        return {"error": body}


def error_details(metadata: Mapping[str, str]) -> dict[str, Any]:
    """The extra facts of an ErrorInfo (all but action and device_id), typed where their shape is known.

    ``best_quality`` and ``best_attempt`` become numbers, ``hints`` a list of
    hint codes, ``failed`` (PHOTO_NOT_COMPLIANT) a list of check names and
    ``differs`` (REQUEST_ID_REUSED) a list of field names;
    anything else stays the string the gateway sent. The gateway never puts
    personal data there.
    """
    details: dict[str, Any] = {}
    for key, raw in sorted(metadata.items()):
        if key in _COMMON_METADATA:
            continue
        value: Any = raw
        if key in _INT_DETAILS and raw.strip().isdigit():
            value = int(raw)
        elif key in _LIST_DETAILS:
            value = [part.strip() for part in raw.replace(";", ",").split(",") if part.strip()]
        details[key] = value
    return details


def details_text(reason: str, details: Mapping[str, Any]) -> str:
    """The details in words: ``best quality 48 at attempt 2, hints: press_harder``; ``key=value`` otherwise."""
    if not details:
        return ""
    rest = dict(details)
    parts = []
    if reason == "QUALITY_TOO_LOW" and "best_quality" in rest:
        best = f"best quality {rest.pop('best_quality')}"
        if "best_attempt" in rest:
            best += f" at attempt {rest.pop('best_attempt')}"
        parts.append(best)
    if "hints" in rest:
        hints = rest.pop("hints")
        listed = ", ".join(str(hint) for hint in hints) if isinstance(hints, list) else str(hints)
        parts.append(f"hints: {listed or 'none'}")
    if "failed" in rest:
        failed = rest.pop("failed")
        listed = ", ".join(str(name) for name in failed) if isinstance(failed, list) else str(failed)
        parts.insert(0, f"failed checks: {listed or 'none'}")
        if "judged" in rest:
            parts.insert(1, f"frames judged: {rest.pop('judged')}")
    if "differs" in rest:
        differs = rest.pop("differs")
        listed = ", ".join(str(name) for name in differs) if isinstance(differs, list) else str(differs)
        parts.append(f"differs in: {listed or '?'}")
    parts.extend(f"{key}={value}" for key, value in rest.items())
    return ", ".join(parts)


def usage_error(message: str) -> CliError:
    """A mistake in the command line that hallctl itself detected."""
    return CliError(code="USAGE", reason="INVALID_REQUEST", message=message, action="none", exit_code=ExitCode.USAGE)


def _error_info(exc: grpc.RpcError) -> Any | None:
    """The ErrorInfo of the rich status details, preferring the gateway's domain."""
    if not isinstance(exc, grpc.Call):
        return None
    try:
        status = rpc_status.from_call(exc)
    except ValueError:
        # The details disagree with the status line: treat them as absent
        # rather than trusting either half.
        return None
    if status is None:
        return None
    found = []
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            found.append(info)
    for info in found:
        if info.domain == ERROR_DOMAIN:
            return info
    return found[0] if found else None


def _exit_for_code(code: grpc.StatusCode, *, from_gateway: bool) -> ExitCode:
    if code in _USAGE_CODES:
        return ExitCode.USAGE
    if code in _INTERNAL_CODES:
        return ExitCode.INTERNAL
    if code in _TRANSPORT_CODES and not from_gateway:
        return ExitCode.UNREACHABLE
    return ExitCode.FAILED


def from_rpc_error(exc: grpc.RpcError, *, target: str) -> CliError:
    """Classify a failed call; ``target`` names the gateway in messages about reaching it."""
    code = exc.code() if isinstance(exc, grpc.Call) else grpc.StatusCode.UNKNOWN
    details = (exc.details() if isinstance(exc, grpc.Call) else None) or str(exc)
    info = _error_info(exc)
    if info is not None:
        reason = str(info.reason) or code.name
        action = str(info.metadata.get("action", "")).lower() or "none"
        device_id = str(info.metadata.get("device_id", ""))
        if reason in KNOWN_REASONS:
            exit_code = _REASON_EXIT.get(reason, ExitCode.FAILED)
        else:
            exit_code = _exit_for_code(code, from_gateway=True)
        extra = error_details({str(key): str(value) for key, value in info.metadata.items()})
        return CliError(code.name, reason, details, action, exit_code, device_id, extra)

    exit_code = _exit_for_code(code, from_gateway=False)
    if code == grpc.StatusCode.UNAVAILABLE:
        return CliError(
            code.name,
            "GATEWAY_UNREACHABLE",
            f"cannot reach the gateway at {target}: {details}",
            "engineer",
            exit_code,
        )
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return CliError(
            code.name,
            "DEADLINE_EXCEEDED",
            f"the gateway at {target} did not answer in time: {details}",
            "retry",
            exit_code,
        )
    action = "none" if exit_code == ExitCode.USAGE else "engineer"
    return CliError(code.name, code.name, details, action, exit_code)
