"""hallctl's commands against a real gRPC server that serves a fake hall."""

from __future__ import annotations

import json
import re
import stat
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest
from typer.testing import CliRunner, Result

from hallgw_api.v1 import device_pb2
from hallgw_daemon.cli.main import app

from .hallctl_fake import (
    ADDRESS,
    FOREIGN_NAME,
    FOREIGN_NUMBER,
    ID_NUMBER,
    NAME,
    FakeGateway,
    FakeHall,
    GatewayError,
)

Invoke = Callable[..., Result]


@pytest.fixture
def hallctl(runner: CliRunner, gateway: FakeGateway) -> Invoke:
    def invoke(*args: str) -> Result:
        return runner.invoke(app, ["--target", gateway.target, *args])

    return invoke


def in_background(work: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


# --- devices and show ------------------------------------------------------------


def test_devices_lists_every_device_with_states(hallctl: Invoke) -> None:
    result = hallctl("devices")
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line.startswith(("idr", "cam"))}
    assert sorted(rows) == ["cam-07", "idr-07", "idr-08", "idr-24", "idr-hk"]
    assert re.search(r"idr-08 .*offline .*4m 0[56]s ago .*DEVICE_OFFLINE \(action: engineer\)", rows["idr-08"])
    assert re.search(r"cam-07 .*camera .*window-07 .*maintenance .*online .*1[23]s ago", rows["cam-07"])


def test_devices_filters_by_kind_and_station(hallctl: Invoke) -> None:
    result = hallctl("devices", "--kind", "camera", "--station", "window-07", "--station", "window-08")
    assert result.exit_code == 0, result.output
    assert "cam-07" in result.stdout
    assert "idr-07" not in result.stdout
    assert "1 device" in result.stdout


@pytest.mark.parametrize("position", ["global", "command"])
def test_devices_json_before_or_after_the_command(hallctl: Invoke, hall: FakeHall, position: str) -> None:
    args = ["--json", "devices"] if position == "global" else ["devices", "--json"]
    result = hallctl(*args)
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)["devices"]
    assert [d["device_id"] for d in listed] == sorted(hall.devices)
    offline = next(d for d in listed if d["device_id"] == "idr-08")
    assert offline["oper_state"] == "offline"
    expected_since = hall.devices["idr-08"].oper_state_since.ToDatetime().isoformat(timespec="milliseconds")
    assert offline["oper_state_since"] == expected_since + "Z"
    assert offline["last_error"]["action"] == "engineer"


def test_unknown_kind_is_a_usage_error(hallctl: Invoke) -> None:
    result = hallctl("devices", "--kind", "toaster")
    assert result.exit_code == 2
    assert "unknown device kind 'toaster'" in result.stderr


@pytest.mark.parametrize("spec", ["idr-07", "window-07:idcard_reader"])
def test_show_by_id_or_station(hallctl: Invoke, spec: str) -> None:
    result = hallctl("show", spec)
    assert result.exit_code == 0, result.output
    assert "idr-07" in result.stdout
    assert "sam_id = 05.01-20101015-0011223344-3344556677" in result.stdout
    assert "41 ok, 2 failed" in result.stdout


def test_show_json_has_everything(hallctl: Invoke) -> None:
    result = hallctl("show", "cam-07", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["admin_state"] == "maintenance"
    assert shown["admin_reason"] == "lens cleaning"
    assert shown["link"] == "tcp://127.0.0.1:707"
    assert set(shown["counters"]) == {
        "commands_ok", "commands_failed", "link_errors", "reconnects", "probe_failures", "queue_depth",
    }  # fmt: skip


# --- admin state -------------------------------------------------------------------


def test_disable_sends_the_reason_and_prints_the_new_state(hallctl: Invoke, hall: FakeHall) -> None:
    result = hallctl("disable", "window-07:idcard_reader", "--reason", "SAM replaced")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("idr-07: admin disabled (reason: SAM replaced), oper online")
    sent = hall.admin_calls[-1]
    assert sent.admin_state == device_pb2.ADMIN_STATE_DISABLED
    assert sent.reason == "SAM replaced"
    assert sent.device.station.station_id == "window-07"
    assert uuid.UUID(sent.request_id)


def test_maintenance_then_enable(hallctl: Invoke, hall: FakeHall) -> None:
    assert hallctl("maintenance", "idr-24", "-r", "cleaning").exit_code == 0
    assert hall.devices["idr-24"].admin_state == device_pb2.ADMIN_STATE_MAINTENANCE
    result = hallctl("enable", "idr-24", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["admin_state"] == "enabled"
    assert hall.admin_calls[-1].reason == ""


@pytest.mark.parametrize("args", [["disable", "idr-07"], ["disable", "idr-07", "--reason", "  "]])
def test_disable_needs_a_reason(hallctl: Invoke, hall: FakeHall, args: list[str]) -> None:
    result = hallctl(*args)
    assert result.exit_code == 2
    assert hall.admin_calls == []


# --- read-id -----------------------------------------------------------------------


def test_read_id_masks_personal_data_everywhere(hallctl: Invoke) -> None:
    result = hallctl("read-id", "idr-07")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert re.search(r"Name\s+张\*\*", out)
    assert re.search(r"ID number\s+110\*{13}2X", out)
    assert re.search(r"Address\s+\*\*\*", out)
    assert re.search(r"Birth date\s+1949\s", out)
    assert re.search(r"Sex\s+1 male \(男\)", out)
    assert re.search(r"Nation\s+01 Han \(汉\)", out)
    assert re.search(r"Validity\s+2015-03-01 – long-term", out)
    assert re.search(r"Photo\s+WLT, 1024 bytes", out)
    assert re.search(r"Decoded photo\s+BMP, 38862 bytes", out)
    for secret in (NAME, ID_NUMBER, ADDRESS, "1949-12-31", "19491231"):
        assert secret not in result.output


def test_read_id_shows_the_calls_progress_on_stderr(hallctl: Invoke) -> None:
    result = hallctl("read-id", "idr-07")
    assert result.exit_code == 0, result.output
    err = result.stderr
    assert "reading the ID card on idr-07 (window-07): waiting up to 10s for a card" in err
    stages = re.findall(r"progress (\w+):", err)
    assert stages == ["WAITING_FOR_CARD", "CARD_FOUND", "READING"]
    assert "ReadIdCard ok" in err


def test_read_id_show_pii(hallctl: Invoke) -> None:
    result = hallctl("read-id", "idr-07", "--show-pii")
    assert result.exit_code == 0, result.output
    for secret in (NAME, ID_NUMBER, ADDRESS, "1949-12-31"):
        assert secret in result.stdout
    assert "masked" not in result.stdout


def test_read_id_json_is_masked_the_same_way(hallctl: Invoke) -> None:
    result = hallctl("--json", "read-id", "--station", "area-24h", "--request-id", "req-42")
    assert result.exit_code == 0, result.output
    card = json.loads(result.stdout)
    assert card["device_id"] == "idr-24"
    assert card["request_id"] == "req-42"
    assert card["card_type"] == "foreign_permanent_resident_2023"
    assert card["fields"]["english_name"] == "Z" + "*" * (len(FOREIGN_NAME) - 1)
    assert card["fields"]["card_number"] == "932*************17"
    assert card["fields"]["birth_date"] == "1983"
    assert card["photo"] == {"format": "wlt", "size": 1024}
    assert FOREIGN_NUMBER not in result.output
    assert FOREIGN_NAME not in result.output
    # With --json nothing but the result goes to stdout, and no progress to stderr.
    assert result.stderr == ""


def test_read_id_request_wait_and_deadline(hallctl: Invoke, hall: FakeHall) -> None:
    result = hallctl("read-id", "--station", "window-07", "--wait", "2", "--request-id", "r-7")
    assert result.exit_code == 0, result.output
    request, time_remaining = hall.read_calls[-1]
    assert request.request_id == "r-7"
    assert request.device.station.station_id == "window-07"
    assert request.device.station.kind == device_pb2.DEVICE_KIND_IDCARD_READER
    assert request.card_wait.ToNanoseconds() == 2_000_000_000
    # The deadline is the card wait plus a margin for the read itself.
    assert time_remaining is not None
    assert 6.0 < time_remaining <= 7.1


def test_read_id_wait_zero_is_sent_as_look_once(hallctl: Invoke, hall: FakeHall) -> None:
    assert hallctl("read-id", "idr-07", "--wait", "0").exit_code == 0
    request, _ = hall.read_calls[-1]
    assert request.HasField("card_wait")
    assert request.card_wait.ToNanoseconds() == 0
    assert uuid.UUID(request.request_id)


def test_photo_out_writes_the_decoded_photo_privately(hallctl: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "photo.bmp"
    result = hallctl("--json", "read-id", "idr-07", "--photo-out", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == b"BM" + b"\x00" * 38860
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(result.stdout)["photo_out"] == {
        "path": str(target), "source": "decoded_photo", "format": "bmp", "size": 38862,
    }  # fmt: skip


def test_photo_out_tightens_the_mode_of_an_existing_file(hallctl: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "photo.bmp"
    target.write_bytes(b"old")
    target.chmod(0o644)
    assert hallctl("read-id", "idr-07", "--photo-out", str(target)).exit_code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_bytes().startswith(b"BM")


def test_photo_out_falls_back_to_the_cards_own_photo(hallctl: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "photo.wlt"
    result = hallctl("read-id", "idr-24", "--photo-out", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == b"\x01" * 1024
    assert "photo written to" in result.stderr


def test_photo_out_is_checked_before_the_card_is_read(hallctl: Invoke, hall: FakeHall, tmp_path: Path) -> None:
    result = hallctl("read-id", "idr-07", "--photo-out", str(tmp_path / "missing" / "photo.bmp"))
    assert result.exit_code == 2
    assert "--photo-out" in result.stderr
    assert hall.read_calls == []


@pytest.mark.parametrize("request_id", ["x" * 129, "tab\there"])
def test_read_id_rejects_a_bad_request_id(hallctl: Invoke, hall: FakeHall, request_id: str) -> None:
    result = hallctl("read-id", "idr-07", "--request-id", request_id)
    assert result.exit_code == 2
    assert "--request-id" in result.stderr
    assert hall.read_calls == []


@pytest.mark.parametrize("args", [["read-id"], ["read-id", "idr-07", "--station", "window-07"]])
def test_read_id_needs_exactly_one_reader(hallctl: Invoke, args: list[str]) -> None:
    result = hallctl(*args)
    assert result.exit_code == 2
    assert "give either a DEVICE or --station STATION" in result.stderr


def test_no_card_is_a_device_failure(hallctl: Invoke, hall: FakeHall) -> None:
    del hall.cards["idr-07"]
    result = hallctl("read-id", "idr-07", "--wait", "0")
    assert result.exit_code == 1
    assert "hallctl: NO_CARD: no card was placed on the reader in time (action: retry, device idr-07)" in result.stderr
    assert "ReadIdCard failed: NO_CARD" in result.stderr


def test_offline_reader_json_error(hallctl: Invoke) -> None:
    result = hallctl("read-id", "idr-08", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "error": {
            "code": "UNAVAILABLE",
            "reason": "DEVICE_OFFLINE",
            "message": "the reader idr-08 is offline",
            "action": "engineer",
            "device_id": "idr-08",
        }
    }
    assert "DEVICE_OFFLINE" in result.stderr


# --- watch and trace -----------------------------------------------------------------


def test_watch_streams_events_until_the_gateway_ends(hallctl: Invoke, hall: FakeHall) -> None:
    def feed() -> None:
        assert hall.wait_for_subscribers(lambda subs: len(subs) == 1)
        reader = hall.devices["idr-07"]
        hall.publish(reader, "r-1", progress=device_pb2.CommandProgress(stage="WAITING_FOR_CARD", message="place it"))
        hall.publish(hall.devices["idr-24"], link_fault=device_pb2.LinkFault(message="garbage", discarded_bytes=3))
        hall.end_streams = True

    feeder = in_background(feed)
    result = hallctl("watch", "--device", "idr-07")
    feeder.join()
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d\.\d{3}Z idr-07 \[window-07\] progress WAITING_FOR_CARD: place it \(req r-1\)", lines[0]
    )
    assert "the gateway ended the event stream" in result.stderr


def test_watch_current_json_lines(hallctl: Invoke, hall: FakeHall) -> None:
    hall.end_streams = True
    result = hallctl("watch", "--station", "window-07", "--current", "--json")
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(e["type"], e["device_id"]) for e in events] == [("state_changed", "cam-07"), ("state_changed", "idr-07")]
    assert events[0]["state_changed"]["device"]["admin_state"] == "maintenance"


@pytest.mark.parametrize(("filters", "warned"), [([], True), (["--device", "idr-07"], False)])
def test_watch_reports_missed_events_only_when_unfiltered(
    hallctl: Invoke, hall: FakeHall, filters: list[str], warned: bool
) -> None:
    def feed() -> None:
        assert hall.wait_for_subscribers(lambda subs: len(subs) == 1)
        reader = hall.devices["idr-07"]
        hall.publish(reader, sequence=5, link_fault=device_pb2.LinkFault(message="a"))
        hall.publish(reader, sequence=9, link_fault=device_pb2.LinkFault(message="b"))
        hall.end_streams = True

    feeder = in_background(feed)
    result = hallctl("watch", *filters)
    feeder.join()
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 2
    assert ("missed 3 events" in result.stderr) is warned


def test_trace_stops_after_count(hallctl: Invoke) -> None:
    result = hallctl("trace", "idr-07", "--count", "2")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert "→ FIND_CARD (11 B) aa aa aa 96 69" in lines[0]
    assert "← status 9F card found" in lines[1]


def test_trace_json_until_the_gateway_ends(hallctl: Invoke, hall: FakeHall) -> None:
    hall.end_streams = True
    result = hallctl("trace", "idr-07", "--json")
    assert result.exit_code == 0, result.output
    frames = [json.loads(line) for line in result.stdout.splitlines()]
    assert [f["direction"] for f in frames] == ["to_device", "from_device", "from_device", "unspecified"]
    assert frames[2]["masked"] is True
    assert len(bytes.fromhex(frames[2]["data"])) == 1295
    assert frames[3]["error"] == "checksum mismatch in a 16-byte frame"


def test_trace_unknown_device(hallctl: Invoke) -> None:
    result = hallctl("trace", "idr-99")
    assert result.exit_code == 2
    assert "UNKNOWN_DEVICE" in result.stderr


# --- exit codes ----------------------------------------------------------------------

GATEWAY_ERRORS = [
    (GatewayError(grpc.StatusCode.NOT_FOUND, "UNKNOWN_DEVICE", "no such device"), 2, "none"),
    (GatewayError(grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST", "device: empty id"), 2, "none"),
    (GatewayError(grpc.StatusCode.UNAVAILABLE, "DEVICE_OFFLINE", "offline", "ENGINEER"), 1, "engineer"),
    (GatewayError(grpc.StatusCode.RESOURCE_EXHAUSTED, "DEVICE_BUSY", "queue full", "RETRY"), 1, "retry"),
    (GatewayError(grpc.StatusCode.FAILED_PRECONDITION, "SAM_FAULT", "SAM fault", "RESET"), 1, "reset"),
    # DEADLINE_EXCEEDED *with* ErrorInfo: the gateway answered, the device or the wait timed out.
    (GatewayError(grpc.StatusCode.DEADLINE_EXCEEDED, "DEVICE_TIMEOUT", "no answer", "RETRY"), 1, "retry"),
    (GatewayError(grpc.StatusCode.DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED", "too late", "RETRY"), 1, "retry"),
    (GatewayError(grpc.StatusCode.FAILED_PRECONDITION, "DEVICE_DISABLED", "disabled: SAM swap", "STAFF"), 1, "staff"),
    (GatewayError(grpc.StatusCode.INTERNAL, "INTERNAL", "bug, see the log", "ENGINEER"), 4, "engineer"),
    # A reason this build does not know: classified by status code, the gateway having answered.
    (GatewayError(grpc.StatusCode.UNAVAILABLE, "NEW_REASON", "later", "RETRY"), 1, "retry"),
    (GatewayError(grpc.StatusCode.PERMISSION_DENIED, "ROLE_MISSING", "engineer role needed"), 2, "none"),
    # No ErrorInfo at all.
    (GatewayError(grpc.StatusCode.INTERNAL, "", "boom", with_info=False), 4, "engineer"),
    (GatewayError(grpc.StatusCode.UNIMPLEMENTED, "", "not here", with_info=False), 4, "engineer"),
    (GatewayError(grpc.StatusCode.INVALID_ARGUMENT, "", "bad", with_info=False), 2, "none"),
]


@pytest.mark.parametrize(("error", "exit_code", "action"), GATEWAY_ERRORS)
def test_exit_codes_follow_the_reason(
    hallctl: Invoke, hall: FakeHall, error: GatewayError, exit_code: int, action: str
) -> None:
    hall.get_errors["idr-07"] = error
    result = hallctl("show", "idr-07", "--json")
    assert result.exit_code == exit_code, result.output
    reported = json.loads(result.stdout)["error"]
    assert reported["reason"] == (error.reason or error.code.name)
    assert reported["code"] == error.code.name
    assert reported["action"] == action
    assert reported["message"] == error.message
    assert result.stderr.startswith(f"hallctl: {reported['reason']}: {error.message} (action: {action}")


def test_unreachable_gateway_exits_3(runner: CliRunner, closed_target: str) -> None:
    result = runner.invoke(app, ["--target", closed_target, "--json", "devices"])
    assert result.exit_code == 3
    reported = json.loads(result.stdout)["error"]
    assert reported["code"] == "UNAVAILABLE"
    assert reported["reason"] == "GATEWAY_UNREACHABLE"
    assert closed_target in reported["message"]


def test_target_from_the_environment(runner: CliRunner, gateway: FakeGateway) -> None:
    result = runner.invoke(app, ["devices"], env={"HALLGW_TARGET": gateway.target})
    assert result.exit_code == 0, result.output
    assert "idr-07" in result.stdout


def test_gateway_too_slow_exits_3(hallctl: Invoke, hall: FakeHall) -> None:
    hall.stall_gets.add("idr-07")
    result = hallctl("--timeout", "0.2", "show", "idr-07")
    assert result.exit_code == 3
    assert result.stderr.startswith("hallctl: DEADLINE_EXCEEDED: the gateway at 127.0.0.1:")
    assert "(action: retry)" in result.stderr


def test_help_documents_the_exit_codes(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for line in ("0: ok", "1: the operation failed on the device", "2: usage error", "3: the gateway is unreachable",
                 "4: internal error"):  # fmt: skip
        assert line in result.stdout
