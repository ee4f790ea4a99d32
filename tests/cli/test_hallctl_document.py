"""``hallctl document read`` against a real gRPC server that serves a fake hall."""

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

from hallgw_api.v1 import device_pb2, document_pb2
from hallgw_daemon.cli.main import app, normalise_mrz

from .hallctl_fake import (
    FACE_JPEG,
    PASSPORT_BIRTH,
    PASSPORT_GIVEN,
    PASSPORT_LINES,
    PASSPORT_NUMBER,
    PASSPORT_PERSONAL,
    PASSPORT_SURNAME,
    FakeGateway,
    FakeHall,
    GatewayError,
    add_documents_and_fingerprints,
    make_hall,
)

Invoke = Callable[..., Result]
SECRETS = (PASSPORT_SURNAME, PASSPORT_GIVEN, PASSPORT_NUMBER, PASSPORT_BIRTH, PASSPORT_PERSONAL, *PASSPORT_LINES)
# Parts of the MRZ that give the traveller away even when cut out of a line.
FRAGMENTS = ("MUSTERMANN", "ERIKA", "C01X00T47", "6408125", "ZE184226")


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


def assert_nothing_personal(output: str) -> None:
    for secret in (*SECRETS, *FRAGMENTS):
        assert secret not in output


# --- the result ------------------------------------------------------------------


def test_table_masks_personal_data_and_shows_the_checks(hallctl: Invoke) -> None:
    result = hallctl("document", "read", "dr-03")
    assert result.exit_code == 0, result.output
    out = lines_of(result)
    assert re.search(r"Format\s+TD3\n", out)
    assert re.search(r"Document code\s+P\n", out)
    assert re.search(r"Issuing state\s+D\n", out)
    assert re.search(r"Nationality\s+D\n", out)
    assert re.search(r"Sex\s+F\n", out)
    assert re.search(r"Document number\s+C01\*{4}47\n", out)
    assert re.search(r"Surname\s+M\*{9}\n", out)
    assert re.search(r"Given names\s+E\*{10}\n", out)
    assert re.search(r"Date of birth\s+64\*{4}\n", out)
    assert re.search(r"Date of expiry\s+310101\n", out)
    assert re.search(r"Optional data\s+ZE1\*{4}6B\n", out)
    assert re.search(r"MRZ lines\s+\*\*\*\n\s+\*\*\*\n", out)
    assert "Optional data 2" not in out  # TD3 has no second optional data
    assert re.search(r"MRZ source\s+mrz_reader\n", out)
    assert re.search(r"Chip MRZ\s+matches the printed MRZ\n", out)
    assert re.search(r"Data groups\s+DG1 DG2 DG14\n", out)
    assert re.search(r"LDS version\s+1\.7\n", out)
    assert re.search(r"Hashes\s+all data group hashes match EF\.SOD\n\s+DG1 match, DG2 match\n", out)
    assert re.search(r"Signature\s+verified: document signer certificate issued by CSCA Germany, both valid", out)
    assert re.search(r"Face image\s+not requested \(--face-out FILE writes it\)", out)
    assert re.search(r"Reader\s+dr-03\n", out)
    assert "personal data masked; --show-pii shows it" in out
    assert_nothing_personal(result.output)


def test_show_pii(hallctl: Invoke) -> None:
    result = hallctl("document", "read", "dr-03", "--show-pii")
    assert result.exit_code == 0, result.output
    out = lines_of(result)
    for secret in SECRETS:
        assert secret in out
    assert re.search(rf"Date of birth\s+{PASSPORT_BIRTH}\n", out)
    assert f"{PASSPORT_LINES[0]}\n" in out
    assert "masked" not in out


def test_json_is_masked_the_same_way(hallctl: Invoke) -> None:
    result = hallctl("--json", "document", "read", "--station", "window-03", "--request-id", "doc-1")
    assert result.exit_code == 0, result.output
    read = json.loads(result.stdout)
    assert read["device_id"] == "dr-03"
    assert read["request_id"] == "doc-1"
    assert read["mrz_source"] == "mrz_reader"
    assert read["mrz"] == {
        "format": "td3",
        "document_code": "P",
        "issuing_state": "D",
        "nationality": "D",
        "sex": "F",
        "document_number": "C01****47",
        "primary_identifier": "M*********",
        "secondary_identifier": "E**********",
        "date_of_birth": "64****",
        "date_of_expiry": "310101",
        "optional_data": "ZE1****6B",
        "lines": ["***", "***"],
    }
    assert read["chip_mrz"] == read["mrz"]
    assert read["chip_mrz_matches"] is True
    assert read["chip_mrz_differences"] == []
    assert read["data_groups_present"] == [1, 2, 14]
    assert read["lds_version"] == "1.7"
    assert read["passive_authentication"] == {
        "hashes_ok": True,
        "data_groups": [{"number": 1, "hash": "match"}, {"number": 2, "hash": "match"}],
        "signature": "verified",
        "signature_message": "document signer certificate issued by CSCA Germany, both valid",
    }
    assert read["face"] is None
    assert read["pii_masked"] is True
    assert_nothing_personal(result.output)
    # With --json nothing but the result goes to stdout, and no progress to stderr.
    assert result.stderr == ""


def test_json_show_pii(hallctl: Invoke) -> None:
    result = hallctl("--json", "document", "read", "dr-03", "--show-pii")
    assert result.exit_code == 0, result.output
    read = json.loads(result.stdout)
    assert read["mrz"]["primary_identifier"] == PASSPORT_SURNAME
    assert read["mrz"]["document_number"] == PASSPORT_NUMBER
    assert read["mrz"]["date_of_birth"] == PASSPORT_BIRTH
    assert read["chip_mrz"]["lines"] == list(PASSPORT_LINES)
    assert read["pii_masked"] is False


def test_a_chip_that_disagrees_with_the_printed_mrz(hallctl: Invoke, hall: FakeHall) -> None:
    document = hall.documents["dr-03"]
    document.chip_mrz_matches = False
    document.chip_mrz.document_number = "C01X00T48"
    document.chip_mrz.date_of_expiry = "290101"
    document.passive_authentication.hashes_ok = False
    document.passive_authentication.data_groups[0].hash = document_pb2.HASH_CHECK_MISMATCH
    document.passive_authentication.signature = document_pb2.SIGNATURE_STATUS_INVALID
    document.passive_authentication.signature_message = "EF.SOD's signature does not verify"
    result = hallctl("document", "read", "dr-03")
    assert result.exit_code == 0, result.output
    out = lines_of(result)
    assert re.search(r"Chip MRZ\s+differs from the printed MRZ \(Document number, Date of expiry\)", out)
    assert re.search(r"Hashes\s+a data group does not match EF\.SOD\n\s+DG1 mismatch, DG2 match\n", out)
    assert re.search(r"Signature\s+invalid: EF\.SOD's signature does not verify", out)
    assert "C01X00T48" not in result.output
    read = json.loads(hallctl("document", "read", "dr-03", "--json").stdout)
    assert read["chip_mrz_differences"] == ["Document number", "Date of expiry"]
    assert read["chip_mrz"]["document_number"] == "C01****48"


def test_td1_card_shows_its_second_optional_data_masked(hallctl: Invoke, hall: FakeHall) -> None:
    mrz = hall.documents["dr-03"].mrz
    mrz.format = document_pb2.MRZ_FORMAT_TD1
    mrz.document_code = "ID"
    mrz.optional_data_2 = "AB1234567"
    result = hallctl("document", "read", "dr-03")
    assert result.exit_code == 0, result.output
    assert re.search(r"Format\s+TD1\n", lines_of(result))
    assert re.search(r"Optional data 2\s+AB1\*{4}67\n", lines_of(result))
    assert "AB1234567" not in result.output


# --- progress and request ----------------------------------------------------------


def test_progress_of_a_read_with_the_stations_mrz_reader(hallctl: Invoke, hall: FakeHall) -> None:
    result = hallctl("document", "read", "--station", "window-03", "--request-id", "doc-7")
    assert result.exit_code == 0, result.output
    err = result.stderr
    assert (
        "reading the travel document on dr-03 (window-03): waiting up to 20s for the MRZ scan and the document "
        "(request doc-7)" in err
    )
    stages = re.findall(r"progress (\w+):", err)
    assert stages == ["WAITING_FOR_MRZ", "MRZ_READ", "WAITING_FOR_DOCUMENT", "DOCUMENT_FOUND", "READING_CHIP"]
    assert "ReadTravelDocument ok" in err
    request, _ = hall.document_calls[-1]
    assert request.device.station.station_id == "window-03"
    assert request.device.station.kind == device_pb2.DEVICE_KIND_DOCUMENT_READER
    assert request.request_id == "doc-7"
    assert request.mrz == ""
    assert request.skip_face is True


def test_request_fields_and_deadline(hallctl: Invoke, hall: FakeHall) -> None:
    mrz = f"{PASSPORT_LINES[0]}\\n{PASSPORT_LINES[1]}"  # a literal backslash-n, as typed in a shell
    result = hallctl("document", "read", "window-03:document_reader", "--mrz", mrz, "--wait", "4")
    assert result.exit_code == 0, result.output
    request, time_remaining = hall.document_calls[-1]
    assert request.mrz == "\n".join(PASSPORT_LINES)
    assert request.document_wait.ToNanoseconds() == 4_000_000_000
    assert uuid.UUID(request.request_id)
    # The deadline is the wait plus the time to read and check the chip.
    assert time_remaining is not None
    assert 18.0 < time_remaining <= 19.1
    # With the MRZ given there is no MRZ scan to wait for.
    assert "waiting up to 4s for the document (request" in result.stderr
    assert re.findall(r"progress (\w+):", result.stderr)[0] == "WAITING_FOR_DOCUMENT"
    assert re.search(r"MRZ source\s+request\n", lines_of(result))
    # The MRZ passed in is personal data too.
    assert_nothing_personal(result.output)


@pytest.mark.parametrize(
    "given",
    [
        "\n".join(PASSPORT_LINES),
        " ".join(PASSPORT_LINES),
        ",".join(PASSPORT_LINES),
        "  " + "\r\n".join(PASSPORT_LINES).lower() + "\n",
    ],
)
def test_mrz_separators_are_normalised(given: str) -> None:
    assert normalise_mrz(given) == "\n".join(PASSPORT_LINES)


def test_mrz_file(hallctl: Invoke, hall: FakeHall, tmp_path: Path) -> None:
    source = tmp_path / "mrz.txt"
    source.write_text("\n".join(PASSPORT_LINES) + "\n", encoding="utf-8")
    result = hallctl("document", "read", "dr-03", "--mrz-file", str(source))
    assert result.exit_code == 0, result.output
    assert hall.document_calls[-1][0].mrz == "\n".join(PASSPORT_LINES)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mrz", "X", "--mrz-file", "mrz.txt"], "give either --mrz or --mrz-file, not both"),
        (["--mrz", " , "], "--mrz is empty"),
        (["--mrz-file", "/nonexistent/mrz.txt"], "--mrz-file /nonexistent/mrz.txt: No such file or directory"),
        (["--request-id", "x" * 129], "--request-id must be 1 to 128 printable characters"),
        (["--face-out", "/nonexistent/face.jpg"], "--face-out /nonexistent/face.jpg: directory /nonexistent"),
        (["--station", "window-03"], "give either a DEVICE or --station STATION"),
    ],
)
def test_usage_errors_before_any_read(hallctl: Invoke, hall: FakeHall, args: list[str], message: str) -> None:
    result = hallctl("document", "read", "dr-03", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert hall.document_calls == []


def test_a_bad_mrz_is_not_echoed(hallctl: Invoke, hall: FakeHall) -> None:
    result = hallctl("document", "read", "dr-03", "--mrz", " ".join(PASSPORT_LINES), "--mrz-file", "mrz.txt")
    assert result.exit_code == 2
    assert_nothing_personal(result.output)
    assert hall.document_calls == []


# --- the face image ----------------------------------------------------------------


def test_face_out_writes_the_jpeg_privately(hallctl: Invoke, hall: FakeHall, tmp_path: Path) -> None:
    target = tmp_path / "face.jpg"
    target.write_bytes(b"old")
    target.chmod(0o644)
    result = hallctl("document", "read", "dr-03", "--face-out", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == FACE_JPEG
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert hall.document_calls[-1][0].skip_face is False
    assert re.search(r"Face image\s+JPEG 480×640, 20480 bytes \(on the chip: JPEG2000\)", result.stdout)
    assert f"face image written to {target} (JPEG, 20480 bytes)" in result.stderr


def test_face_out_json(hallctl: Invoke, tmp_path: Path) -> None:
    target = tmp_path / "face.jpg"
    result = hallctl("--json", "document", "read", "dr-03", "--face-out", str(target))
    assert result.exit_code == 0, result.output
    read = json.loads(result.stdout)
    face = {"format": "jpeg", "chip_format": "jpeg2000", "width": 480, "height": 640, "size": 20480}
    assert read["face"] == face
    assert read["face_out"] == {"path": str(target), **face}


def test_face_out_to_a_directory_is_refused_before_the_read(hallctl: Invoke, hall: FakeHall, tmp_path: Path) -> None:
    result = hallctl("document", "read", "dr-03", "--face-out", str(tmp_path))
    assert result.exit_code == 2
    assert f"--face-out {tmp_path} is a directory" in result.stderr
    assert hall.document_calls == []


def test_face_out_without_a_face(hallctl: Invoke, hall: FakeHall, tmp_path: Path) -> None:
    hall.documents["dr-03"].ClearField("face")
    target = tmp_path / "face.jpg"
    result = hallctl("document", "read", "dr-03", "--face-out", str(target))
    assert result.exit_code == 0, result.output
    assert not target.exists()
    assert "the document carries no face image" in result.stderr


# --- errors ------------------------------------------------------------------------

DOCUMENT_ERRORS = [
    (grpc.StatusCode.DEADLINE_EXCEEDED, "NO_DOCUMENT", "no travel document was placed before the deadline", "RETRY"),
    (grpc.StatusCode.INVALID_ARGUMENT, "MRZ_INVALID", "the MRZ fails its check digits", "RETRY"),
    (grpc.StatusCode.FAILED_PRECONDITION, "BAC_DENIED", "the chip refused Basic Access Control", "RETRY"),
    (grpc.StatusCode.ABORTED, "DOCUMENT_REMOVED", "the document left the reader during the read", "RETRY"),
    (grpc.StatusCode.ABORTED, "CHIP_READ_FAILED", "secure messaging MAC error", "RETRY"),
    (grpc.StatusCode.FAILED_PRECONDITION, "UNSUPPORTED_DOCUMENT", "no eMRTD application", "STAFF"),
    (grpc.StatusCode.FAILED_PRECONDITION, "DEVICE_DISABLED", "disabled: reader swap", "STAFF"),
    (grpc.StatusCode.UNAVAILABLE, "DEVICE_OFFLINE", "the reader dr-03 is offline", "ENGINEER"),
]


@pytest.mark.parametrize("error", DOCUMENT_ERRORS, ids=[error[1] for error in DOCUMENT_ERRORS])
def test_errors_are_device_failures_with_their_action(
    hallctl: Invoke, hall: FakeHall, error: tuple[grpc.StatusCode, str, str, str]
) -> None:
    code, reason, message, action = error
    hall.document_errors["dr-03"] = GatewayError(code, reason, message, action)
    result = hallctl("document", "read", "dr-03")
    assert result.exit_code == 1, result.output
    assert f"hallctl: {reason}: {message} (action: {action.lower()}, device dr-03)" in result.stderr
    assert f"ReadTravelDocument failed: {reason}" in result.stderr
    assert result.stdout == ""


def test_error_json(hallctl: Invoke, hall: FakeHall) -> None:
    hall.document_errors["dr-03"] = GatewayError(
        grpc.StatusCode.FAILED_PRECONDITION, "BAC_DENIED", "the chip refused Basic Access Control", "RETRY"
    )
    result = hallctl("document", "read", "dr-03", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "error": {
            "code": "FAILED_PRECONDITION",
            "reason": "BAC_DENIED",
            "message": "the chip refused Basic Access Control",
            "action": "retry",
            "device_id": "dr-03",
        }
    }


def test_unknown_reader(hallctl: Invoke) -> None:
    result = hallctl("document", "read", "dr-99")
    assert result.exit_code == 2
    assert "UNKNOWN_DEVICE" in result.stderr


def test_show_a_document_reader(hallctl: Invoke) -> None:
    result = hallctl("show", "window-03:document_reader")
    assert result.exit_code == 0, result.output
    assert re.search(r"Kind\s+document_reader\n", lines_of(result))
    assert re.search(r"Identity\s+reader = REINER SCT cyberJack RFID basis 00 00\n", lines_of(result))
