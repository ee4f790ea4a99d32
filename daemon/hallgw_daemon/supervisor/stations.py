"""Stations as first-class: their roles, and the claims that tie a station to one visit.

Theory of operation
-------------------
A station (a window, a pre-acceptance desk, a photo booth, a 24-hour area) is
configured with the devices that fill its roles (one device per kind). A role
is resolved when a call names it ("the ID reader of desk-03"), so an engineer
who maps a spare reader to the station mid-visit changes nothing for the visit.

A business system claims a station for a visit (:meth:`StationRegistry.claim`):
with a lease it renews (:meth:`renew`), or for as long as it holds a stream
open (the API ends such a claim when the stream closes). While the claim lasts:

- another claim of the station fails with STATION_CLAIMED, naming the holder
  and the visit;
- every business call on the station's devices must name the visit (the
  ``x-hallgw-visit`` metadata, :data:`~hallgw_daemon.core.visits.current_visit`);
  one that does not, or names another visit, fails with STATION_CLAIMED, so a
  second client cannot read the card of someone else's applicant;
- events of the station's devices carry the visit id.

A claim ends when its holder releases it, its stream closes, its lease runs
out (checked by a timer per visit), or an engineer breaks it with a reason.
Whatever the way, every personal buffer the station's drivers hold for it is
dropped (:meth:`~hallgw_daemon.drivers.base.Driver.drop_personal_data`: a scan
waiting to be read, for example), and the end is logged with its cause. Visit
ids are random; they carry no personal data.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from typing import Final

from hallgw_daemon.config import StationConfig
from hallgw_daemon.core.errors import InvalidRequestError, StationClaimedError, UnknownVisitError
from hallgw_daemon.core.model import StationId, utcnow
from hallgw_daemon.core.visits import ClaimMode, Visit, current_visit
from hallgw_daemon.logging import get_logger

log = get_logger(__name__)

MIN_LEASE: Final = 5.0
MAX_LEASE: Final = 3600.0
DEFAULT_LEASE: Final = 120.0
"""Seconds a lease lasts when the claim does not say."""


class StationRegistry:
    """The configured stations and their claims (see the module docstring)."""

    def __init__(self, stations: Iterable[StationConfig], *, on_end: Callable[[Visit, str], None]) -> None:
        self.stations: dict[str, StationConfig] = {s.id: s for s in stations}
        self._by_station: dict[str, Visit] = {}
        self._by_id: dict[str, Visit] = {}
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._on_end = on_end

    # -- lookups -------------------------------------------------------------------------
    def station(self, station_id: str) -> StationConfig:
        try:
            return self.stations[station_id]
        except KeyError:
            raise InvalidRequestError(f"no station {station_id!r} is configured on this gateway") from None

    def visit_at(self, station_id: StationId | str | None) -> Visit | None:
        """The visit holding ``station_id`` now, if any."""
        return self._by_station.get(station_id) if station_id is not None else None

    def visit_id_at(self, station_id: StationId | None) -> str:
        """The id of the visit holding ``station_id``, or ""; what the event bus stamps on events."""
        visit = self._by_station.get(station_id) if station_id is not None else None
        return visit.visit_id if visit is not None else ""

    def visit(self, visit_id: str) -> Visit:
        try:
            return self._by_id[visit_id]
        except KeyError:
            raise UnknownVisitError(f"no visit {visit_id!r}: it was released or its lease ran out") from None

    def visits(self) -> list[Visit]:
        return sorted(self._by_id.values(), key=lambda v: v.station_id)

    # -- the claim's life ----------------------------------------------------------------
    def claim(self, station_id: str, *, holder: str, mode: ClaimMode, lease: float | None = None) -> Visit:
        """Claim a free station; STATION_CLAIMED when someone holds it."""
        self.station(station_id)
        held = self._by_station.get(station_id)
        if held is not None:
            raise self._claimed(held)
        seconds = _lease(lease) if mode is ClaimMode.LEASE else None
        now = utcnow()
        visit = Visit(
            visit_id=f"visit-{uuid.uuid4().hex[:16]}",
            station_id=StationId(station_id),
            holder=holder,
            mode=mode,
            started=now,
            expires=now + dt.timedelta(seconds=seconds) if seconds is not None else None,
        )
        self._by_station[station_id] = self._by_id[visit.visit_id] = visit
        if seconds is not None:
            self._arm(visit, seconds)
        log.info("station claimed", station_id=station_id, visit_id=visit.visit_id, holder=holder, mode=mode.value)
        return visit

    def renew(self, visit_id: str, lease: float | None = None) -> Visit:
        """Extend a leased claim by ``lease`` seconds from now."""
        visit = self.visit(visit_id)
        if visit.mode is not ClaimMode.LEASE:
            raise InvalidRequestError(f"visit {visit_id} is held by its stream: it has no lease to renew")
        seconds = _lease(lease)
        renewed = Visit(
            visit_id=visit.visit_id,
            station_id=visit.station_id,
            holder=visit.holder,
            mode=visit.mode,
            started=visit.started,
            expires=utcnow() + dt.timedelta(seconds=seconds),
        )
        self._by_station[visit.station_id] = self._by_id[visit_id] = renewed
        self._arm(renewed, seconds)
        return renewed

    def release(self, visit_id: str, *, why: str = "released by its holder") -> Visit:
        """End a visit; UNKNOWN_VISIT when it already ended."""
        visit = self.visit(visit_id)
        self._end(visit, why)
        return visit

    def break_claim(self, station_id: str, *, reason: str, engineer: str) -> Visit:
        """An engineer ends whatever visit holds ``station_id``; UNKNOWN_VISIT when the station is free."""
        self.station(station_id)
        visit = self._by_station.get(station_id)
        if visit is None:
            raise UnknownVisitError(f"station {station_id} is not claimed")
        self._end(visit, f"broken by {engineer}: {reason}")
        return visit

    def check_access(self, station_id: StationId | None) -> None:
        """Raise STATION_CLAIMED unless the station is free or the call names the visit holding it."""
        visit = self.visit_at(station_id)
        named = current_visit.get()
        if visit is None:
            if named and named not in self._by_id:
                raise UnknownVisitError(f"no visit {named!r}: it was released or its lease ran out")
            return
        if named != visit.visit_id:
            raise self._claimed(visit)

    def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    # -- internals -----------------------------------------------------------------------
    def _claimed(self, visit: Visit) -> StationClaimedError:
        return StationClaimedError(
            f"station {visit.station_id} is claimed by {visit.holder} for visit {visit.visit_id}",
            details={"holder": visit.holder, "visit_id": visit.visit_id, "station_id": visit.station_id},
        )

    def _arm(self, visit: Visit, seconds: float) -> None:
        old = self._timers.pop(visit.visit_id, None)
        if old is not None:
            old.cancel()
        loop = asyncio.get_running_loop()
        self._timers[visit.visit_id] = loop.call_later(seconds, self._expire, visit.visit_id)

    def _expire(self, visit_id: str) -> None:
        visit = self._by_id.get(visit_id)
        if visit is not None:
            self._end(visit, "its lease ran out")

    def _end(self, visit: Visit, why: str) -> None:
        timer = self._timers.pop(visit.visit_id, None)
        if timer is not None:
            timer.cancel()
        self._by_id.pop(visit.visit_id, None)
        if self._by_station.get(visit.station_id) is visit or (
            visit.station_id in self._by_station and self._by_station[visit.station_id].visit_id == visit.visit_id
        ):
            del self._by_station[visit.station_id]
        log.info("visit ended", station_id=visit.station_id, visit_id=visit.visit_id, holder=visit.holder, why=why)
        self._on_end(visit, why)


def _lease(lease: float | None) -> float:
    seconds = DEFAULT_LEASE if lease is None or lease == 0 else lease
    if not MIN_LEASE <= seconds <= MAX_LEASE:
        raise InvalidRequestError(f"a lease is {MIN_LEASE:g} to {MAX_LEASE:g} seconds, not {seconds:g}")
    return seconds
