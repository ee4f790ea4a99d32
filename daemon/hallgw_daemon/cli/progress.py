"""The "waiting for card..." display of ``hallctl read-id``.

On a terminal it is one spinner line on stderr whose text follows the call's
progress events; piped, each event is a line on stderr; with ``--json`` it is
silent so that scripts read only the result.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from rich.console import Console
from rich.status import Status
from rich.text import Text

from hallgw_api.v1 import device_pb2

from . import render


class ReadProgress:
    """Shows the header, then each progress event of the call, until the call returns."""

    def __init__(self, console: Console, header: str, *, quiet: bool = False) -> None:
        self._console = console
        self._header = header
        self._quiet = quiet
        self._status: Status | None = None

    def __enter__(self) -> Self:
        if self._quiet:
            return self
        if self._console.is_terminal:
            self._status = self._console.status(Text(self._header))
            self._status.start()
        else:
            self._console.print(Text(self._header), soft_wrap=True)
        return self

    def update(self, event: device_pb2.DeviceEvent) -> None:
        """Show one event of the call (called from the thread reading the event stream)."""
        if self._quiet:
            return
        if self._status is not None:
            word, details = render.event_details(event)
            self._status.update(Text(f"{word}: ").append_text(details))
        else:
            # The header already named the request.
            self._console.print(render.event_line(event, show_request=False), soft_wrap=True)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._status is not None:
            self._status.stop()
