"""Every SAM status a reader can answer maps to a clear, documented error."""

import pytest

from hallgw_daemon.api.errors import STATUS_OF_REASON
from hallgw_daemon.core.model import Action
from hallgw_daemon.drivers.idcard import STATUS_ERRORS, status_error
from hallgw_protocols.idcard_sam import Response, Status

FAILURES = [s for s in Status if s not in (Status.OK, Status.FIND_CARD_OK)]


def test_every_failure_status_has_an_entry() -> None:
    assert set(STATUS_ERRORS) == set(FAILURES)


@pytest.mark.parametrize("status", FAILURES, ids=lambda s: s.name)
def test_status_maps_to_a_documented_reason_with_a_message(status: Status) -> None:
    err = status_error(Response(sw3=status), "idr-01")
    assert err.reason in STATUS_OF_REASON
    assert f"SAM status {status:02X}" in err.message
    assert err.device_id == "idr-01"
    assert err.action in set(Action) - {Action.NONE}


def test_specific_mappings() -> None:
    assert status_error(Response(sw3=Status.READ_FAILED), "d").reason == "CARD_READ_FAILED"
    assert status_error(Response(sw3=Status.FIND_CARD_FAILED), "d").reason == "NO_CARD"
    fault = status_error(Response(sw3=Status.SELF_TEST_FAILED), "d")
    assert (fault.reason, fault.action) == ("SAM_FAULT", Action.RESET)
    assert status_error(Response(sw3=Status.NOT_AUTHORISED), "d").action is Action.ENGINEER
    assert status_error(Response(sw3=Status.UNKNOWN_CARD_TYPE), "d").reason == "UNSUPPORTED_CARD"


def test_unknown_status_is_a_protocol_error() -> None:
    err = status_error(Response(sw3=0x5A, sw1=0x6A, sw2=0x82), "d")
    assert err.reason == "DEVICE_PROTOCOL_ERROR"
    assert "0x5A" in err.message
