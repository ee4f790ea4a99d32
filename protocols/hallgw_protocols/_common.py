"""Pieces every codec shares: roles, the NEED_DATA sentinel and the error classes."""

from __future__ import annotations

import enum
from typing import Final


class Role(enum.Enum):
    """Which end of the link a codec speaks for."""

    HOST = "host"
    """The gateway side: sends commands, receives responses."""
    DEVICE = "device"
    """The device side (used by simulators): receives commands, sends responses."""


class NeedData(enum.Enum):
    """Type of :data:`NEED_DATA`, so ``next_event`` results can be narrowed."""

    NEED_DATA = "NEED_DATA"


NEED_DATA: Final = NeedData.NEED_DATA
"""Returned by ``next_event`` when the buffer holds no complete frame yet."""


class ProtocolError(Exception):
    """Base class of every error a codec raises."""


class LocalProtocolError(ProtocolError):
    """We misused the codec: sent an event this role or state does not allow."""


class RemoteProtocolError(ProtocolError):
    """The peer sent bytes that break the protocol.

    The codec has already dropped the offending bytes when it raises this, so
    the caller may count the error and keep calling ``next_event``.
    """

    def __init__(self, message: str, *, discarded: int = 0) -> None:
        super().__init__(message)
        self.discarded = discarded
        """How many bytes were dropped to get past the fault."""
