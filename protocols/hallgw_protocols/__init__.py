"""Sans-IO codecs for the devices of an exit-entry service hall.

Each protocol family lives in its own subpackage and exposes a connection object
with a role (:class:`Role.HOST` in the daemon, :class:`Role.DEVICE` in a
simulator): bytes go in with ``receive_data``, typed events come out of
``next_event`` (or :data:`NEED_DATA`), and ``send`` turns events into bytes.

Nothing here does I/O, reads a clock or logs: timeouts belong to the caller.
"""

from hallgw_protocols._common import (
    NEED_DATA,
    LocalProtocolError,
    NeedData,
    ProtocolError,
    RemoteProtocolError,
    Role,
)

__all__ = [
    "NEED_DATA",
    "LocalProtocolError",
    "NeedData",
    "ProtocolError",
    "RemoteProtocolError",
    "Role",
]
