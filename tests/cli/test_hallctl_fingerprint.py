"""``hallctl fingerprint capture`` against a real gRPC server that serves a fake hall."""

from __future__ import annotations

import json
import re
import stat
import uuid
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest
from typer.testing import CliRunner, Result

from hallgw_api.v1 import device_pb2, fingerprint_pb2
from hallgw_daemon.cli.errors import details_text, error_details
from hallgw_daemon.cli.main import app
from hallgw_daemon.cli.names import finger_choices, parse_finger

from .hallctl_fake import (
    FINGERPRINT_PNG,
    FakeGateway,
    FakeHall,
    GatewayError,
    add_documents_and_fingerprints,
    make_hall,
)

Invoke = Callable[..., Result]

QUALITY_TOO_LOW = GatewayError(
    grpc.StatusCode.FAILED_PRECONDITION,
    "QUALITY_TOO_LOW",
    "every attempt scored below 60",
    "RETRY",
    details={"best_quality": "48", "best_attempt": "2", "hints": "press_harder,hold_still"},
)


@pytest.fixture
def hall() -> FakeHall:
    return add_documents_and_fingerprints(make_hall())


@pytest.fixture
def hallctl(runner: CliRunner, gateway: FakeGateway) -> Invoke:
    def invoke(*args: str) -> Result:
        return runner.invoke(app, ["--target", gateway.target, *args])

    return invoke


def lines_of(result: Result) -> str:
    """stdout without the padding the table puts at the end of its lines."""
    return "".join(line.rstrip() + "\n" for line in result.stdout.splitlines())


# --- the result ------------------------------------------------------------------


def test_table_shows_the_quality_and_its_components(hallctl: Invoke) -> None:
    result = hallctl("fingerprint", "capture", "fps-05", "--finger", "right-index")
    assert result.exit_code == 0, result.output
    out = lines_of(result)
    assert re.search(r"Finger\s+right_index \(2\)\n", out)
    assert re.search(r"Attempt\s+2\n", out)
    assert re.search(r"Quality\s+82/100\n", out)
    assert re.search(r"  foreground\s+0\.93 \(raw 0\.87\)\n", out)
    assert re.search(r"  contrast\s+0\.81 \(raw 96\)\n", out)
    assert re.search(r"  coherence\s+0\.77 \(raw 0\.84\)\n", out)
    assert re.search(r"  moisture\s+0\.90 \(raw 141\)\n", out)
    assert re.search(r"Hints\s+hold_still: hold your finger still\n", out)
    assert re.search(r"Image\s+PNG 256×288, 500 dpi, 10000 bytes\n", out)
    assert re.search(r"Scanner\s+fps-05\n", out)


def test_json(hallctl: Invoke) -> None:
    result = hallctl("--json", "fingerprint", "capture", "--station", "window-05", "-f", "7", "--request-id", "fp-1")
    assert result.exit_code == 0, result.output
    capture = json.loads(result.stdout)
    assert capture == {
        "device_id": "fps-05",
        "request_id": "fp-1",
        "finger": "left_index",
        "finger_code": 7,
        "attempt": 2,
        "quality": {
            "score": 82,
            "foreground": {"value": 0.93, "raw": 0.87},
            "contrast": {"value": 0.81, "raw": 96.0},
            "coherence": {"value": 0.77, "raw": 0.84},
            "moisture": {"value": 0.9, "raw": 141.0},
            "hints": [{"code": "hold_still", "text": "hold your finger still"}],
        },
        "image": {"format": "png", "width": 256, "height": 288, "resolution_dpi": 500, "size": 10000},
    }
    assert result.stderr == ""


def test_the_image_is_never_printed(hallctl: Invoke, tmp_path: Path) -> None:
    for args in (["fingerprint", "capture", "fps-05"], ["--json", "fingerprint", "capture", "fps-05"]):
        result = hallctl(*args)
        assert result.exit_code == 0, result.output
        assert "PNG\r\n" not in result.output
        assert FINGERPRINT_PNG.hex()[:16] not in result.output
        assert len(result.output) < 4000


def test_no_hints(hallctl: Invoke, hall: FakeHall) -> None:
    del hall.captures["fps-05"].quality.hints[:]
    del hall.captures["fps-05"].quality.hint_texts[:]
    result = hallctl("fingerprint", "capture", "fps-05")
    assert result.exit_code == 0, result.output
    assert re.search(r"Hints\s+none\n", lines_of(result))
    assert re.search(r"Finger\s+unspecified \(0\)\n", lines_of(result))


# --- progress and request ----------------------------------------------------------


def test_progress_on_stderr_with_each_message(hallctl: Invoke) -> None:
    result = hallctl("fingerprint", "capture", "fps-05", "--finger", "left-thumb", "--request-id", "fp-9")
    assert result.exit_code == 0, result.output
    err = result.stderr
    assert "capturing the left thumb finger on fps-05 (window-05): waiting up to 10s per attempt (request fp-9)" in err
    assert re.findall(r"progress (\w+: [^\n]+)", err) == [
        "PLACE_FINGER: place your finger on the sensor",
        "PRESS_HARDER: press a little harder",
        "LIFT_FINGER: lift your finger",
        "PLACE_AGAIN: place your finger again",
        "HOLD_STILL: hold your finger still",
        "CAPTURED: captured: quality 82",
    ]
    assert "Capture ok" in err


def test_request_fields_and_deadline(hallctl: Invoke, hall: FakeHall) -> None:
    result = hallctl(
        "fingerprint", "capture", "window-05:fingerprint_scanner",
        "--finger", "Right_Middle", "--min-quality", "75", "--attempts", "2", "--wait", "3",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    request, time_remaining = hall.capture_calls[-1]
    assert request.device.station.station_id == "window-05"
    assert request.device.station.kind == device_pb2.DEVICE_KIND_FINGERPRINT_SCANNER
    assert request.finger == fingerprint_pb2.FINGER_POSITION_RIGHT_MIDDLE
    assert request.min_quality == 75
    assert request.max_attempts == 2
    assert request.finger_wait.ToNanoseconds() == 3_000_000_000
    assert uuid.UUID(request.request_id)
    # Each attempt waits and uploads: 2 x (3 + 8) s, plus 5 s.
    assert time_remaining is not None
    assert 26.0 < time_remaining <= 27.1


def test_defaults_leave_the_choice_to_the_gateway(hallctl: Invoke, hall: FakeHall) -> None:
    result = hallctl("fingerprint", "capture", "--station", "window-05")
    assert result.exit_code == 0, result.output
    request, time_remaining = hall.capture_calls[-1]
    assert request.finger == fingerprint_pb2.FINGER_POSITION_UNSPECIFIED
    assert request.min_quality == 0
    assert request.max_attempts == 0
    assert request.finger_wait.ToNanoseconds() == 10_000_000_000
    # The gateway's 3 attempts: 3 x (10 + 8) s, plus 5 s (gRPC sends longer timeouts rounded up).
    assert time_remaining is not None
    assert 58.0 < time_remaining <= 61.0


@pytest.mark.parametrize(
    ("word", "position"),
    [
        ("right-thumb", fingerprint_pb2.FINGER_POSITION_RIGHT_THUMB),
        ("RIGHT_LITTLE", fingerprint_pb2.FINGER_POSITION_RIGHT_LITTLE),
        ("left-ring", fingerprint_pb2.FINGER_POSITION_LEFT_RING),
        ("1", fingerprint_pb2.FINGER_POSITION_RIGHT_THUMB),
        ("10", fingerprint_pb2.FINGER_POSITION_LEFT_LITTLE),
    ],
)
def test_finger_names_and_numbers(word: str, position: int) -> None:
    assert parse_finger(word) == position


def test_finger_choices_follow_iso_order() -> None:
    assert finger_choices() == [
        "right-thumb", "right-index", "right-middle", "right-ring", "right-little",
        "left-thumb", "left-index", "left-middle", "left-ring", "left-little",
    ]  # fmt: skip


@pytest.mark.parametrize("word", ["right-pinky", "0", "11", ""])
def test_an_unknown_finger_lists_the_valid_ones(hallctl: Invoke, hall: FakeHall, word: str) -> None:
    result = hallctl("fingerprint", "capture", "fps-05", "--finger", word)
    assert result.exit_code == 2
    assert f"unknown finger {word!r}; one of: right-thumb, right-index," in result.stderr
    assert "left-little (or their numbers 1 to 10)" in result.stderr
    assert hall.capture_calls == []


@pytest.mark.parametrize(
    "args",
    [["--min-quality", "101"], ["--min-quality", "-1"], ["--attempts", "0"], ["--attempts", "11"], ["--wait", "-1"]],
)
def test_out_of_range_options_are_usage_errors(hallctl: Invoke, hall: FakeHall, args: list[str]) -> None:
    result = hallctl("fingerprint", "capture", "fps-05", *args)
    assert result.exit_code == 2
    assert hall.capture_calls == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--request-id", "tab\there"], "--request-id must be 1 to 128 printable characters"),
        (["--out", "/nonexistent/finger.png"], "--out /nonexistent/finger.png: directory /nonexistent"),
        (["--station", "window-05"], "give either a DEVICE or --station STATION"),
    ],
)
def test_usage_errors_before_any_capture(hallctl: Invoke, hall: FakeHall, args: list[str], message: str) -> None:
    result = hallctl("fingerprint", "capture", "fps-05", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert hall.capture_calls == []


# --- the image file ----------------------------------------------------------------


def test_out_writes_the_png_privately(hallctl: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "finger.png"
    target.write_bytes(b"old")
    target.chmod(0o644)
    result = hallctl("fingerprint", "capture", "fps-05", "--out", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == FINGERPRINT_PNG
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert f"fingerprint image written to {target} (PNG, 10000 bytes)" in result.stderr


def test_out_json(hallctl: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "finger.png"
    result = hallctl("--json", "fingerprint", "capture", "fps-05", "--out", str(target))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["out"] == {
        "path": str(target), "format": "png", "width": 256, "height": 288, "resolution_dpi": 500, "size": 10000,
    }  # fmt: skip
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_no_file_without_out(hallctl: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert hallctl("fingerprint", "capture", "fps-05").exit_code == 0
    assert list(tmp_path.iterdir()) == []


def test_out_to_a_directory_is_refused_before_the_capture(hallctl: Invoke, hall: FakeHall, tmp_path: Path) -> None:
    result = hallctl("fingerprint", "capture", "fps-05", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert f"--out {tmp_path} is a directory" in result.stderr
    assert hall.capture_calls == []


# --- errors ------------------------------------------------------------------------


def test_quality_too_low_shows_the_best_score(hallctl: Invoke, hall: FakeHall) -> None:
    hall.capture_errors["fps-05"] = QUALITY_TOO_LOW
    result = hallctl("fingerprint", "capture", "fps-05", "--min-quality", "60")
    assert result.exit_code == 1, result.output
    assert (
        "hallctl: QUALITY_TOO_LOW: every attempt scored below 60 (action: retry, device fps-05); "
        "best quality 48 at attempt 2, hints: press_harder, hold_still"
    ) in result.stderr
    assert "Capture failed: QUALITY_TOO_LOW" in result.stderr
    assert result.stdout == ""


def test_quality_too_low_json_carries_the_details(hallctl: Invoke, hall: FakeHall) -> None:
    hall.capture_errors["fps-05"] = QUALITY_TOO_LOW
    result = hallctl("fingerprint", "capture", "fps-05", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "error": {
            "code": "FAILED_PRECONDITION",
            "reason": "QUALITY_TOO_LOW",
            "message": "every attempt scored below 60",
            "action": "retry",
            "device_id": "fps-05",
            "details": {"best_attempt": 2, "best_quality": 48, "hints": ["press_harder", "hold_still"]},
        }
    }


CAPTURE_ERRORS = [
    (GatewayError(grpc.StatusCode.DEADLINE_EXCEEDED, "NO_FINGER", "no finger was placed in time", "RETRY"), 1),
    (GatewayError(grpc.StatusCode.UNAVAILABLE, "DEVICE_PROTOCOL_ERROR", "bad packet checksum", "RESET"), 1),
    (GatewayError(grpc.StatusCode.RESOURCE_EXHAUSTED, "DEVICE_BUSY", "queue full", "RETRY"), 1),
    (GatewayError(grpc.StatusCode.FAILED_PRECONDITION, "DEVICE_DISABLED", "disabled: cleaning", "STAFF"), 1),
    (GatewayError(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST", "max_attempts: at most 10"), 2),
    (GatewayError(grpc.StatusCode.INTERNAL, "INTERNAL", "bug, see the log", "ENGINEER"), 4),
]


@pytest.mark.parametrize(("error", "exit_code"), CAPTURE_ERRORS, ids=[e.reason for e, _ in CAPTURE_ERRORS])
def test_errors_with_their_action_and_exit_code(
    hallctl: Invoke, hall: FakeHall, error: GatewayError, exit_code: int
) -> None:
    hall.capture_errors["fps-05"] = error
    result = hallctl("fingerprint", "capture", "fps-05")
    assert result.exit_code == exit_code, result.output
    line = f"hallctl: {error.reason}: {error.message} (action: {error.action.lower()}, device fps-05)"
    assert result.stderr.rstrip().endswith(line)


def test_show_a_fingerprint_scanner(hallctl: Invoke) -> None:
    result = hallctl("show", "window-05:fingerprint_scanner")
    assert result.exit_code == 0, result.output
    out = lines_of(result)
    assert re.search(r"Kind\s+fingerprint_scanner\n", out)
    assert re.search(
        r"Identity\s+address = 0xFFFFFFFF\n\s+baud = 57600\n\s+capacity = 300\n\s+packet_size = 128\n"
        r"\s+security_level = 3\n\s+sensor = AS608\nCommands",
        out,
    )
    shown = json.loads(hallctl("show", "fps-05", "--json").stdout)
    assert shown["identity"]["capacity"] == "300"


def test_error_details_keep_what_they_cannot_parse() -> None:
    metadata = {"action": "RETRY", "device_id": "fps-05", "best_quality": "n/a", "hints": "", "sensor": "AS608"}
    details = error_details(metadata)
    assert details == {"best_quality": "n/a", "hints": [], "sensor": "AS608"}
    assert details_text("QUALITY_TOO_LOW", details) == "best quality n/a, hints: none, sensor=AS608"
    assert details_text("NO_FINGER", {}) == ""
