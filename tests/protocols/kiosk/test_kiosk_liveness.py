"""The gateway's liveness rules for a kiosk: status sessions, stale wills, missing heartbeats, restarts."""

from __future__ import annotations

import pytest

from hallgw_protocols.kiosk import Heartbeat, Online, Status
from hallgw_protocols.kiosk.liveness import Liveness

T = "2025-03-14T09:41:17.002Z"


def status(online: bool, session: int) -> Status:
    if online:
        return Status(time=T, status=Online.ONLINE, session=session, reason="")
    return Status(time=T, status=Online.OFFLINE, session=session, reason="connection lost")


def beat(seq: int, uptime: int, interval: int = 10) -> Heartbeat:
    return Heartbeat(time=T, seq=seq, uptime_s=uptime, interval_s=interval, commands_total=0)


def test_unknown_kiosk_is_offline() -> None:
    live = Liveness()
    assert not live.online(0.0)
    assert live.deadline() is None
    assert live.session is None


def test_online_then_will() -> None:
    live = Liveness()
    assert live.on_status(status(True, 5), now=100.0)
    assert live.online(100.0)
    assert live.on_status(status(False, 5), now=101.0)
    assert not live.online(101.0)


def test_a_stale_will_of_an_older_session_is_ignored() -> None:
    live = Liveness()
    live.on_status(status(True, 6), now=100.0)
    assert not live.on_status(status(False, 5), now=100.5)  # the previous connection's will, late
    assert live.online(100.5)
    assert live.session == 6


def test_a_will_of_a_newer_session_means_offline() -> None:
    live = Liveness()
    live.on_status(status(True, 6), now=100.0)
    assert live.on_status(status(False, 7), now=101.0)  # a session whose online we missed ended
    assert not live.online(101.0)


def test_missing_heartbeats() -> None:
    live = Liveness()
    live.on_status(status(True, 1), now=0.0)
    live.on_heartbeat(beat(0, 0, interval=5), now=1.0)
    assert live.deadline() == 16.0
    assert live.online(16.0)
    assert not live.online(16.1)
    live.on_heartbeat(beat(1, 5, interval=5), now=17.0)  # it was only late
    assert live.online(17.0)


def test_grace_before_the_first_heartbeat() -> None:
    live = Liveness(misses=2)
    live.on_status(status(True, 1), now=0.0)
    assert live.online(20.0)  # default 10 s period, two misses
    assert not live.online(20.5)


def test_restart_detection() -> None:
    live = Liveness()
    assert not live.on_heartbeat(beat(10, 100), now=0.0).restarted
    assert not live.on_heartbeat(beat(11, 110), now=10.0).restarted
    assert live.on_heartbeat(beat(0, 2), now=20.0).restarted
    assert live.on_heartbeat(beat(5, 1), now=30.0).restarted  # uptime went back, seq did not


def test_misses_must_be_positive() -> None:
    with pytest.raises(ValueError, match="misses"):
        Liveness(misses=0)
