"""The two ways a transport fails, shared by every transport module (``link`` re-exports them)."""

from __future__ import annotations


class LinkOpenError(OSError):
    """The link could not be opened (port missing, connection refused...)."""


class LinkClosedError(ConnectionError):
    """The link went away (device unplugged, peer closed)."""
