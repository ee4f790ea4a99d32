"""What every simulated serial device shares: its endpoint, its description and its wire faults.

A device subclass brings its model, its codec loop (``_serve``) and its own
faults; this base owns the lifecycle, the control-protocol description, fault
dispatch and the wire faults every serial device takes (silence, corrupt,
garbage, delay, unplug, replug, clear), applied in one place by :meth:`_write`.
"""

from __future__ import annotations

import abc
import asyncio
import dataclasses
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, ClassVar

from hallgw_simulators.faults import (
    MAX_CORRUPT,
    MAX_DELAY_MS,
    MAX_GARBAGE,
    FaultArg,
    FaultError,
    WireFaults,
    count_arg,
    no_args,
    switch_arg,
)
from hallgw_simulators.links import Endpoint, Link, paced_write

FaultHandler = Callable[[Any, str, Sequence[FaultArg]], Awaitable[None]]


class SerialDevice(abc.ABC):
    """Base of the simulated serial devices (see module docstring)."""

    kind: ClassVar[str]
    FAULT_HANDLERS: ClassVar[Mapping[str, FaultHandler]]
    """Fault name -> handler; each subclass lists its own faults and the wire faults below."""
    NOISE: ClassVar[bytes]
    """Bytes line noise is drawn from: never the protocol's start-of-frame byte, so a
    host that skips to the next frame start always finds the real answer."""
    HEADER_SIZE: ClassVar[int]
    """Corruption flips a byte after this many: the host still cuts the frame where it
    ends, and its checksum then fails."""

    model: Any
    """The device's state model: ``describe()`` and a ``faults`` dataclass."""

    def __init__(
        self, *, device_id: str, seed: int, endpoint: Endpoint, baud: int, station: str | None, name: str | None
    ) -> None:
        self.device_id = device_id
        self.station = station
        self.name = name
        self.baud = baud
        """Line rate for pacing what the device sends; 0 writes at once."""
        self.endpoint = endpoint
        self.wire = WireFaults()
        # Garbage and corruption come from a seeded stream: the same seed and
        # the same command sequence give the same bytes.
        self._rng = random.Random(f"hallsim/{seed}/{device_id}/wire")  # noqa: S311 - not for secrets
        self.responses_out = 0

    # -- lifecycle ---------------------------------------------------------------
    async def start(self) -> None:
        """Open the endpoint and start answering."""
        await self.endpoint.start(self._serve)

    async def stop(self) -> None:
        """Close the endpoint (removes a pty symlink)."""
        await self.endpoint.close()

    @abc.abstractmethod
    async def _serve(self, link: Link) -> None:
        """Answer one connected host until it goes away (the device's codec loop)."""

    @property
    def link_url(self) -> str:
        """The daemon's link URL for this device."""
        return self.endpoint.link_url(self.baud)

    def _fault_state(self) -> dict[str, Any]:
        return dataclasses.asdict(self.model.faults) | dataclasses.asdict(self.wire)

    def describe(self) -> dict[str, Any]:
        """State for the control protocol: where it is, the model's state and the faults."""
        return {
            "id": self.device_id,
            "kind": self.kind,
            "station": self.station,
            "transport": self.endpoint.transport,
            "link": self.link_url,
            **self.endpoint.describe(),
            "baud": self.baud,
            "plugged": self.endpoint.plugged,
            **self.model.describe(),
            "faults": self._fault_state(),
        }

    # -- faults ------------------------------------------------------------------
    async def apply_fault(self, name: str, args: Sequence[FaultArg] = ()) -> None:
        """Apply one fault by name (see the subclass's ``FAULTS``); raises :class:`FaultError`."""
        handler = self.FAULT_HANDLERS.get(name)
        if handler is None:
            raise FaultError(f"unknown fault {name!r}; known: {', '.join(self.FAULT_HANDLERS)}")
        await handler(self, name, args)

    async def _silence(self, name: str, args: Sequence[FaultArg]) -> None:
        self.wire.silence = switch_arg(name, args)

    async def _corrupt(self, name: str, args: Sequence[FaultArg]) -> None:
        self.wire.corrupt = count_arg(name, args, MAX_CORRUPT)

    async def _garbage(self, name: str, args: Sequence[FaultArg]) -> None:
        self.wire.garbage = count_arg(name, args, MAX_GARBAGE)

    async def _delay(self, name: str, args: Sequence[FaultArg]) -> None:
        self.wire.delay_ms = count_arg(name, args, MAX_DELAY_MS)

    async def _unplug(self, name: str, args: Sequence[FaultArg]) -> None:
        no_args(name, args)
        await self.endpoint.unplug()

    async def _replug(self, name: str, args: Sequence[FaultArg]) -> None:
        no_args(name, args)
        await self.endpoint.replug()

    async def _clear(self, name: str, args: Sequence[FaultArg]) -> None:
        no_args(name, args)
        self._clear_device_faults()
        self.wire = WireFaults()

    @abc.abstractmethod
    def _clear_device_faults(self) -> None:
        """Reset the model's own faults (``clear``)."""

    # -- the wire ----------------------------------------------------------------
    async def _write(
        self, link: Link, frames: list[bytes], transform: Callable[[list[bytes]], list[bytes]] | None = None
    ) -> None:
        """Send one answer (one or more frames) with the wire faults applied, at the line rate."""
        if self.wire.delay_ms:
            await asyncio.sleep(self.wire.delay_ms / 1000)
        prefix = b""
        if self.wire.garbage:
            prefix = self._noise(self.wire.garbage)
            self.wire.garbage = 0
        frames = transform(frames) if transform is not None else list(frames)
        for index, frame in enumerate(frames):
            if self.wire.corrupt:
                self.wire.corrupt -= 1
                frames[index] = self._flip_byte(frame)
        await paced_write(link, prefix + b"".join(frames), self.baud)
        self.responses_out += 1

    def _noise(self, size: int) -> bytes:
        return bytes(self._rng.choice(self.NOISE) for _ in range(size))

    def _flip_byte(self, frame: bytes) -> bytes:
        flipped = bytearray(frame)
        index = self._rng.randrange(self.HEADER_SIZE, len(frame))
        flipped[index] ^= self._rng.randrange(1, 256)
        return bytes(flipped)
