"""``hallctl kiosks`` and ``hallctl ledger`` against a real gRPC server that serves a fake hall."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime

import grpc
import pytest
from rich.console import Console
from typer.testing import CliRunner, Result

from hallgw_api.v1 import device_pb2, kiosk_pb2
from hallgw_daemon.cli import render, views
from hallgw_daemon.cli.client import MAX_ISSUANCES
from hallgw_daemon.cli.errors import EXIT_CODES_HELP, KNOWN_REASONS, ExitCode
from hallgw_daemon.cli.main import app

from .hallctl_fake import BUSINESS_REF, FakeGateway, FakeHall, GatewayError, add_kiosks, kiosk, make_hall

Invoke = Callable[..., Result]


@pytest.fixture
def hall() -> FakeHall:
    return add_kiosks(make_hall())


@pytest.fixture
def hallctl(runner: CliRunner, gateway: FakeGateway) -> Invoke:
    def invoke(*args: str) -> Result:
        return runner.invoke(app, ["--target", gateway.target, *args])

    return invoke


def lines_of(result: Result) -> list[str]:
    """stdout's lines without the padding the tables put at their ends."""
    return [line.rstrip() for line in result.stdout.splitlines()]


def row(result: Result, first: str) -> str:
    """The table row that starts with ``first``."""
    found = [line for line in lines_of(result) if re.match(rf"{re.escape(first)} +[^\[ ]", line)]
    assert len(found) == 1, result.stdout
    return found[0]


# --- kiosks ------------------------------------------------------------------------


def test_kiosks_lists_only_kiosks_with_states_identity_and_consumables(hallctl: Invoke, hall: FakeHall) -> None:
    result = hallctl("kiosks")
    assert result.exit_code == 0, result.output
    assert hall.list_calls[-1].kinds == [device_pb2.DEVICE_KIND_KIOSK]
    assert "idr-07" not in result.stdout
    assert re.search(
        r"kio-01 +area-self +endorsement +SZ-KIOSK-3 +enabled +online +in_service +closed +"
        r"paper 80%, ribbon 60%, cards 120$",
        row(result, "kio-01"),
    )
    assert re.search(r"kio-03 +area-collect +collection .* open +slots 12/12$", row(result, "kio-03"))
    assert re.search(r"kio-04 .*record_query .*offline +out_of_service +closed +paper 55%$", row(result, "kio-04"))


def test_kiosks_summary_counts_states_and_low_consumables(hallctl: Invoke) -> None:
    result = hallctl("kiosks")
    assert result.exit_code == 0, result.output
    assert "4 kiosks: 3 online, 1 offline; low consumables: paper 1, ribbon 1, cards 1, slots full 1" in result.stdout
    assert "kio-02 [area-self]: low paper 8%, ribbon 12%, cards 4" in lines_of(result)
    assert "kio-03 [area-collect]: low slots 12/12" in lines_of(result)
    assert not any(line.startswith("kio-01 [") for line in lines_of(result))


def test_kiosks_summary_says_none_when_nothing_is_low(hallctl: Invoke) -> None:
    result = hallctl("kiosks", "--station", "area-24h")
    assert result.exit_code == 0, result.output
    assert "1 kiosk: 0 online, 1 offline; low consumables: none" in result.stdout


def test_kiosks_station_filter_is_sent(hallctl: Invoke, hall: FakeHall) -> None:
    result = hallctl("kiosks", "--station", "area-self", "-s", "area-collect")
    assert result.exit_code == 0, result.output
    assert list(hall.list_calls[-1].station_ids) == ["area-self", "area-collect"]
    assert "kio-04" not in result.stdout
    assert "3 kiosks" in result.stdout


@pytest.mark.parametrize("position", ["global", "command"])
def test_kiosks_json(hallctl: Invoke, position: str) -> None:
    args = ["--json", "kiosks"] if position == "global" else ["kiosks", "--json"]
    result = hallctl(*args)
    assert result.exit_code == 0, result.output
    listed = {k["device_id"]: k for k in json.loads(result.stdout)["kiosks"]}
    assert sorted(listed) == ["kio-01", "kio-02", "kio-03", "kio-04"]
    low = listed["kio-02"]
    assert low["consumables"] == {"card_stock": 4, "paper_pct": 8, "ribbon_pct": 12}
    assert low["low"] == ["paper", "ribbon", "cards"]
    assert (low["kiosk_kind"], low["model"], low["firmware"], low["mode"], low["door"]) == (
        "endorsement",
        "SZ-KIOSK-3",
        "4.2.1",
        "in_service",
        "closed",
    )
    assert listed["kio-03"]["low"] == ["slots"]
    assert listed["kio-04"]["oper_state"] == "offline"
    assert listed["kio-01"]["low"] == []
    assert listed["kio-01"]["oper_state_since"].endswith("Z")


def test_low_levels_are_highlighted() -> None:
    hall = add_kiosks(FakeHall())
    console = Console(record=True, width=200, force_terminal=True, color_system="truecolor")
    console.print(render.kiosks_view(list(hall.devices.values()), console))
    # The low levels are bold red; a kiosk with none low has no red at all.
    styled = console.export_text(styles=True)
    assert re.search(r"\x1b\[1;31mpaper 8%", styled)
    assert re.search(r"\x1b\[1;31mslots 12/12", styled)
    kio01 = next(line for line in styled.splitlines() if "kio-01" in line)
    assert "31m" not in kio01.split("closed")[-1]


@pytest.mark.parametrize(
    ("consumables", "low"),
    [
        ({"paper_pct": 15, "ribbon_pct": 15, "card_stock": 10}, []),
        ({"paper_pct": 14}, ["paper"]),
        ({"ribbon_pct": 0}, ["ribbon"]),
        ({"card_stock": 9}, ["cards"]),
        ({"slots_total": 12, "slots_occupied": 11}, []),
        ({"slots_total": 12, "slots_occupied": 12}, ["slots"]),
        ({"slots_total": 0, "slots_occupied": 0}, []),
        ({}, []),
    ],
)
def test_low_thresholds(consumables: dict[str, int], low: list[str]) -> None:
    assert views.low_consumables(consumables) == low


def test_consumables_text_order_and_unknown_keys() -> None:
    text = render.consumables_text({"toner_pct": 40, "slots_occupied": 3, "slots_total": 12, "paper_pct": 80})
    assert text.plain == "paper 80%, slots 3/12, toner_pct 40"
    assert render.consumables_text({}).plain == "-"


def test_narrow_terminal_keeps_ids_states_and_consumables(runner: CliRunner, gateway: FakeGateway) -> None:
    narrow = CliRunner(env={**runner.env, "COLUMNS": "80"})
    result = narrow.invoke(app, ["--target", gateway.target, "kiosks"])
    assert result.exit_code == 0, result.output
    assert all(len(line) <= 80 for line in lines_of(result))
    assert "MODEL" not in result.stdout
    assert re.search(r"kio-01 +area-self +online +paper 80%, ribbon 60%, cards 120 +-$", row(result, "kio-01"))
    assert re.search(r"kio-03 .*slots 12/12 +door open$", row(result, "kio-03"))
    assert re.search(r"kio-04 .*offline .*out_of_service$", row(result, "kio-04"))


def test_350_kiosks_in_one_call(runner: CliRunner) -> None:
    now = datetime.now(UTC)
    hall = FakeHall()
    for n in range(350):
        levels = {"paper_pct": 5 if n % 50 == 0 else 70, "ribbon_pct": 60, "card_stock": 200}
        hall.add(kiosk(f"kio-{n:03d}", f"area-{n // 20:02d}", "endorsement", levels, now))
    server = FakeGateway(hall)
    server.start()
    try:
        started = time.monotonic()
        result = runner.invoke(app, ["--target", server.target, "kiosks"])
        took = time.monotonic() - started
    finally:
        server.stop()
    assert result.exit_code == 0, result.output
    assert len(hall.list_calls) == 1
    assert took < 5.0
    assert "350 kiosks: 350 online, 0 offline; low consumables: paper 7" in result.stdout
    assert sum(1 for line in lines_of(result) if re.match(r"kio-\d{3} +area-", line)) == 350


def test_kiosks_gateway_unreachable(runner: CliRunner, closed_target: str) -> None:
    result = runner.invoke(app, ["--target", closed_target, "--timeout", "2", "kiosks"])
    assert result.exit_code == ExitCode.UNREACHABLE
    assert "GATEWAY_UNREACHABLE" in result.stderr


# --- kiosks consumables ------------------------------------------------------------------


def test_consumables_table(hallctl: Invoke, hall: FakeHall) -> None:
    result = hallctl("kiosks", "consumables", "kio-02")
    assert result.exit_code == 0, result.output
    request = hall.kiosk_calls[-1]
    assert isinstance(request, kiosk_pb2.GetConsumablesRequest)
    assert request.device.device_id == "kio-02"
    lines = lines_of(result)
    assert lines[0].split() == ["Kiosk", "kio-02"]
    assert re.match(r"Paper +8% +low$", lines[1])
    assert re.match(r"Ribbon +12% +low$", lines[2])
    assert re.match(r"Card stock +4 +low$", lines[3])
    assert re.match(r"Reported +\d{4}-\d\d-\d\dT[\d:.]+Z \(1[23]s ago\)$", lines[4])


def test_consumables_by_station_and_slots(hallctl: Invoke, hall: FakeHall) -> None:
    result = hallctl("kiosks", "consumables", "--station", "area-collect")
    assert result.exit_code == 0, result.output
    request = hall.kiosk_calls[-1]
    assert request.device.station.station_id == "area-collect"
    assert request.device.station.kind == device_pb2.DEVICE_KIND_KIOSK
    assert re.search(r"^Slots +12/12 occupied +low$", result.stdout, re.MULTILINE)
    assert "Reported  -" in lines_of(result)


def test_consumables_json(hallctl: Invoke) -> None:
    result = hallctl("kiosks", "consumables", "kio-01", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["device_id"] == "kio-01"
    assert shown["consumables"] == {"card_stock": 120, "paper_pct": 80, "ribbon_pct": 60}
    assert shown["low"] == []
    assert shown["reported"].endswith("Z")


def test_consumables_of_an_unknown_kiosk(hallctl: Invoke) -> None:
    result = hallctl("kiosks", "consumables", "kio-99")
    assert result.exit_code == ExitCode.USAGE
    assert "UNKNOWN_DEVICE" in result.stderr


def test_consumables_needs_a_kiosk(hallctl: Invoke, hall: FakeHall) -> None:
    result = hallctl("kiosks", "consumables")
    assert result.exit_code == ExitCode.USAGE
    assert "give either a DEVICE or --station STATION" in result.stderr
    assert hall.kiosk_calls == []


def test_show_a_kiosk_has_its_consumables(hallctl: Invoke) -> None:
    result = hallctl("show", "kio-02")
    assert result.exit_code == 0, result.output
    assert re.search(r"^Consumables +paper 8%, ribbon 12%, cards 4$", "\n".join(lines_of(result)), re.MULTILINE)
    shown = json.loads(hallctl("show", "kio-02", "--json").stdout)
    assert shown["consumables"] == {"card_stock": 4, "paper_pct": 8, "ribbon_pct": 12}


# --- ledger show --------------------------------------------------------------------------


def detail(result: Result) -> dict[str, str]:
    """The key/value rows of a detail view; rows without a key (notes) are left out."""
    rows: dict[str, str] = {}
    for line in lines_of(result):
        key, _, value = line.partition("  ")
        if key.strip():
            rows[key.strip()] = value.strip()
    return rows


def test_ledger_show_done_with_evidence(hallctl: Invoke, hall: FakeHall) -> None:
    result = hallctl("ledger", "show", "visit-9/done")
    assert result.exit_code == 0, result.output
    request = hall.kiosk_calls[-1]
    assert isinstance(request, kiosk_pb2.GetIssuanceRequest)
    assert request.request_id == "visit-9/done"
    rows = detail(result)
    assert rows["Request id"] == "visit-9/done"
    assert rows["Kiosk"] == "kio-01"
    assert rows["Command id"] == "cmd-visit-9/done"
    assert rows["Operation"] == "issue_endorsement"
    assert rows["Business ref"] == BUSINESS_REF
    assert rows["State"] == "done"
    assert rows["Serial"] == "EZ-20260517-0042"
    assert re.match(r"\d{4}-\d\d-\d\dT[\d:.]+Z \(29m 0\ds ago\)$", rows["Kiosk time"])
    assert re.match(r".*Z \(30m 0\ds ago\)$", rows["Created"])
    assert re.match(r".*Z \(29m [12]\ds ago\)$", rows["Finished"])
    assert rows["Attempts"] == "1"
    assert "Reason" not in rows


def test_ledger_show_not_done_with_reason_and_action(hallctl: Invoke) -> None:
    result = hallctl("ledger", "show", "visit-9/paper")
    assert result.exit_code == 0, result.output
    rows = detail(result)
    assert rows["State"] == "not_done"
    assert rows["Reason"] == "paper_out"
    assert rows["Action"] == "staff"
    assert "nothing was issued; a new request needs a new request id" in result.stdout
    assert "Serial" not in rows


def test_ledger_show_in_doubt_says_to_retry_with_the_same_id(hallctl: Invoke) -> None:
    result = hallctl("ledger", "show", "visit-9/doubt")
    assert result.exit_code == 0, result.output
    rows = detail(result)
    assert rows["State"] == "in_doubt"
    assert rows["Operation"] == "release_certificate"
    assert rows["Finished"] == "-"
    assert rows["Attempts"] == "3"
    assert "retry later with the same request id, never a new one" in result.stdout


def test_ledger_show_in_progress(hallctl: Invoke) -> None:
    result = hallctl("ledger", "show", "visit-9/flight")
    assert result.exit_code == 0, result.output
    rows = detail(result)
    assert rows["State"] == "in_progress"
    assert "a retry with the same request id joins it" in result.stdout


@pytest.mark.parametrize(
    ("request_id", "state", "evidence", "reason", "action"),
    [
        ("visit-9/done", "done", {"operation_serial": "EZ-20260517-0042"}, None, None),
        ("visit-9/paper", "not_done", None, "paper_out", "staff"),
        ("visit-9/doubt", "in_doubt", None, None, None),
        ("visit-9/flight", "in_progress", None, None, None),
    ],
)
def test_ledger_show_json(  # noqa: PLR0917 - pytest passes parameters by position
    hallctl: Invoke,
    request_id: str,
    state: str,
    evidence: dict[str, str] | None,
    reason: str | None,
    action: str | None,
) -> None:
    result = hallctl("ledger", "show", request_id, "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert set(shown) == {
        "request_id",
        "device_id",
        "command_id",
        "operation",
        "business_ref",
        "state",
        "evidence",
        "reason",
        "action",
        "created",
        "finished",
        "attempts",
    }
    assert shown["request_id"] == request_id
    assert shown["state"] == state
    assert shown["business_ref"] == BUSINESS_REF
    if evidence is None:
        assert shown["evidence"] is None
    else:
        assert shown["evidence"]["operation_serial"] == evidence["operation_serial"]
        assert shown["evidence"]["kiosk_time"].endswith("Z")
    assert (shown["reason"], shown["action"]) == (reason, action)
    assert (shown["finished"] is None) == (state in {"in_doubt", "in_progress"})


def test_ledger_show_unknown_request(hallctl: Invoke) -> None:
    result = hallctl("ledger", "show", "visit-0/none")
    assert result.exit_code == ExitCode.FAILED
    assert result.stdout == ""
    assert "hallctl: UNKNOWN_REQUEST: no issuance is journalled under this request id (action: none)" in result.stderr


def test_ledger_show_unknown_request_json(hallctl: Invoke) -> None:
    result = hallctl("--json", "ledger", "show", "visit-0/none")
    assert result.exit_code == ExitCode.FAILED
    assert json.loads(result.stdout) == {
        "error": {
            "code": "NOT_FOUND",
            "reason": "UNKNOWN_REQUEST",
            "message": "no issuance is journalled under this request id",
            "action": "none",
        }
    }


@pytest.mark.parametrize("request_id", ["has space", "x" * 129, "tab\there"])
def test_ledger_show_refuses_a_bad_request_id(hallctl: Invoke, hall: FakeHall, request_id: str) -> None:
    result = hallctl("ledger", "show", request_id)
    assert result.exit_code == ExitCode.USAGE
    assert "REQUEST_ID must be 1 to 128 printable characters without spaces" in result.stderr
    assert hall.kiosk_calls == []


@pytest.mark.parametrize(
    ("error", "exit_code"),
    [
        (
            GatewayError(grpc.StatusCode.UNAVAILABLE, "LEDGER_UNAVAILABLE", "the ledger cannot be opened", "ENGINEER"),
            ExitCode.INTERNAL,
        ),
        (
            GatewayError(grpc.StatusCode.INTERNAL, "LEDGER_CONFLICT", "kio-03 reported another outcome", "ENGINEER"),
            ExitCode.INTERNAL,
        ),
        (
            GatewayError(
                grpc.StatusCode.ALREADY_EXISTS,
                "REQUEST_ID_REUSED",
                "request id 'r1' was already used for a different request",
                details={"request_id": "r1", "differs": "business_ref,device"},
            ),
            ExitCode.USAGE,
        ),
        (GatewayError(grpc.StatusCode.UNAVAILABLE, "", "connection refused", with_info=False), ExitCode.UNREACHABLE),
        (GatewayError(grpc.StatusCode.UNIMPLEMENTED, "", "no KioskService", with_info=False), ExitCode.INTERNAL),
    ],
)
def test_ledger_errors_and_exit_codes(hallctl: Invoke, hall: FakeHall, error: GatewayError, exit_code: int) -> None:
    hall.kiosk_errors["GetIssuance"] = error
    hall.kiosk_errors["ListIssuances"] = error
    for args in (["ledger", "show", "visit-9/done"], ["ledger", "pending"], ["ledger", "list"]):
        result = hallctl(*args)
        assert result.exit_code == exit_code, (args, result.output)
        assert error.message in result.stderr
        if error.with_info:
            assert f"hallctl: {error.reason}: " in result.stderr


def test_request_id_reused_names_what_differs(hallctl: Invoke, hall: FakeHall) -> None:
    hall.kiosk_errors["GetIssuance"] = GatewayError(
        grpc.StatusCode.ALREADY_EXISTS,
        "REQUEST_ID_REUSED",
        "request id 'r1' was already used for a different request",
        details={"request_id": "r1", "differs": "business_ref,device"},
    )
    result = hallctl("ledger", "show", "r1")
    assert "; differs in: business_ref, device, request_id=r1" in result.stderr
    result = hallctl("--json", "ledger", "show", "r1")
    assert json.loads(result.stdout)["error"]["details"] == {"differs": ["business_ref", "device"], "request_id": "r1"}


def test_the_kiosk_reasons_are_known_and_documented() -> None:
    for reason in ("REQUEST_ID_REUSED", "UNKNOWN_REQUEST", "LEDGER_UNAVAILABLE", "LEDGER_CONFLICT"):
        assert reason in KNOWN_REASONS
    assert "UNKNOWN_REQUEST" in EXIT_CODES_HELP
    assert "LEDGER_UNAVAILABLE" in EXIT_CODES_HELP


# --- ledger pending and list ----------------------------------------------------------------


def test_ledger_pending_oldest_first(hallctl: Invoke, hall: FakeHall) -> None:
    result = hallctl("ledger", "pending")
    assert result.exit_code == 0, result.output
    request = hall.kiosk_calls[-1]
    assert isinstance(request, kiosk_pb2.ListIssuancesRequest)
    assert (request.device_id, request.include_final, request.limit) == ("", False, MAX_ISSUANCES)
    rows = [line for line in lines_of(result) if line.startswith("visit-")]
    assert [line.split()[0] for line in rows] == ["visit-9/doubt", "visit-9/flight"]
    assert re.search(
        r"visit-9/doubt +kio-03 +release_certificate +in_doubt +10m 0\ds ago +3 +APP-2026-000417 +-$", rows[0]
    )
    assert re.search(r"visit-9/flight +kio-01 +issue_endorsement +in_progress +[56]s ago +1 ", rows[1])
    assert "2 issuances: 1 in_doubt, 1 in_progress" in result.stdout


def test_ledger_pending_empty(hallctl: Invoke, hall: FakeHall) -> None:
    result = hallctl("ledger", "pending", "--kiosk", "kio-02")
    assert result.exit_code == 0, result.output
    assert hall.kiosk_calls[-1].device_id == "kio-02"
    assert result.stdout == "no issuance in flight or in doubt on kio-02\n"
    hall.issuances.clear()
    assert hallctl("ledger", "pending").stdout == "no issuance in flight or in doubt\n"


def test_ledger_pending_json(hallctl: Invoke, hall: FakeHall) -> None:
    result = hallctl("ledger", "pending", "--json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)["issuances"]
    assert [(i["request_id"], i["state"]) for i in listed] == [
        ("visit-9/doubt", "in_doubt"),
        ("visit-9/flight", "in_progress"),
    ]
    hall.issuances.clear()
    assert json.loads(hallctl("ledger", "pending", "--json").stdout) == {"issuances": []}


def test_ledger_pending_kiosk_by_station(hallctl: Invoke, hall: FakeHall) -> None:
    result = hallctl("ledger", "pending", "--kiosk", "area-collect:kiosk")
    assert result.exit_code == 0, result.output
    assert hall.kiosk_calls[-1].device_id == "kio-03"
    assert "visit-9/doubt" in result.stdout
    assert "visit-9/flight" not in result.stdout


def test_ledger_pending_unknown_kiosk(hallctl: Invoke) -> None:
    result = hallctl("ledger", "pending", "--kiosk", "kio-99")
    assert result.exit_code == ExitCode.USAGE
    assert "UNKNOWN_DEVICE" in result.stderr


def test_ledger_list_includes_final_newest_first(hallctl: Invoke, hall: FakeHall) -> None:
    result = hallctl("ledger", "list", "--limit", "50")
    assert result.exit_code == 0, result.output
    request = hall.kiosk_calls[-1]
    assert (request.device_id, request.include_final, request.limit) == ("", True, 50)
    rows = [line for line in lines_of(result) if line.startswith("visit-")]
    assert [line.split()[0] for line in rows] == ["visit-9/doubt", "visit-9/flight", "visit-9/paper", "visit-9/done"]
    assert rows[2].endswith("paper_out (action: staff)")
    assert rows[3].endswith("serial EZ-20260517-0042")
    assert "4 issuances: 1 in_doubt, 1 in_progress, 1 not_done, 1 done" in result.stdout


def test_ledger_list_defaults_and_filters(hallctl: Invoke, hall: FakeHall) -> None:
    result = hallctl("ledger", "list", "--kiosk", "kio-01", "--json")
    assert result.exit_code == 0, result.output
    request = hall.kiosk_calls[-1]
    assert (request.device_id, request.include_final, request.limit) == ("kio-01", True, 0)
    listed = json.loads(result.stdout)["issuances"]
    assert [i["request_id"] for i in listed] == ["visit-9/flight", "visit-9/done"]
    result = hallctl("ledger", "list", "--limit", "1")
    assert [line.split()[0] for line in lines_of(result) if line.startswith("visit-")] == ["visit-9/doubt"]


def test_ledger_list_empty(hallctl: Invoke, hall: FakeHall) -> None:
    hall.issuances.clear()
    result = hallctl("ledger", "list")
    assert result.exit_code == 0, result.output
    assert result.stdout == "no issuance journalled\n"


@pytest.mark.parametrize("limit", ["0", "1001"])
def test_ledger_list_limit_out_of_range(hallctl: Invoke, hall: FakeHall, limit: str) -> None:
    result = hallctl("ledger", "list", "--limit", limit)
    assert result.exit_code == ExitCode.USAGE
    assert hall.kiosk_calls == []


def test_ledger_list_narrow(runner: CliRunner, gateway: FakeGateway) -> None:
    narrow = CliRunner(env={**runner.env, "COLUMNS": "80"})
    result = narrow.invoke(app, ["--target", gateway.target, "ledger", "list"])
    assert result.exit_code == 0, result.output
    assert all(len(line) <= 80 for line in lines_of(result))
    assert "BUSINESS REF" not in result.stdout
    assert re.search(r"^visit-9/doubt +kio-03 +in_doubt ", result.stdout, re.MULTILINE)


def test_ledger_without_a_subcommand_shows_help(hallctl: Invoke) -> None:
    result = hallctl("ledger")
    assert "pending" in result.output
    assert "list" in result.output
