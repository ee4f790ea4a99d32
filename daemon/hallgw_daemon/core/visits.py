"""Visits: one applicant's time at a claimed station, and the visit a call says it belongs to.

A business system claims a station for a visit (``StationService``); while the
claim lasts, calls on that station's devices must name the visit, through the
``x-hallgw-visit`` metadata of the call, which the API puts in
:data:`current_visit` for the duration of the call.
"""

from __future__ import annotations

import contextvars
import dataclasses
import datetime as dt
import enum

from hallgw_daemon.core.model import StationId

VISIT_METADATA = "x-hallgw-visit"
"""gRPC metadata key naming the visit a call belongs to."""

current_visit: contextvars.ContextVar[str] = contextvars.ContextVar("visit", default="")
"""The visit id the current call names (empty: none)."""


class ClaimMode(enum.Enum):
    """How a claim is kept: by renewing a lease, or by holding a stream open."""

    LEASE = "lease"
    STREAM = "stream"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Visit:
    """A claim of a station for one applicant's visit."""

    visit_id: str
    station_id: StationId
    holder: str
    """Who holds the claim: the caller's name and the label it gave (``acceptance-2 (counter app)``)."""
    mode: ClaimMode
    started: dt.datetime
    expires: dt.datetime | None
    """When the lease runs out unless renewed; None for a claim held by a stream."""
