"""What the privacy tests watch: the frame traces of devices, and telemetry until it has reported their calls."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import grpc

from hallgw_api.v1 import device_service_pb2
from support.broker import Message
from support.hall import Hall, by_device


def device_metrics_after_reads(devices: tuple[str, ...]) -> Callable[[list[Message]], bool]:
    """Until a metrics report of each device counts calls (published after them: the data of those calls is out)."""

    def done(messages: list[Message]) -> bool:
        seen = set()
        for m in messages:
            if m.topic.endswith("/metrics") and "/device/" in m.topic:
                body = json.loads(m.payload)
                if body.get("commands_ok") or body.get("commands_failed"):
                    seen.add(m.topic.split("/device/")[1].split("/")[0])
        return set(devices) <= seen

    return done


class Traces:
    """Frame traces of some devices, collected in the background."""

    def __init__(self, hall: Hall, devices: tuple[str, ...]) -> None:
        self.frames: list[device_service_pb2.TraceFramesResponse] = []
        self.calls = [
            hall.devices.TraceFrames(device_service_pb2.TraceFramesRequest(device=by_device(d))) for d in devices
        ]
        self.tasks = [asyncio.ensure_future(self._drain(c)) for c in self.calls]

    async def _drain(self, call: object) -> None:
        try:
            async for frame in call:  # type: ignore[attr-defined]
                self.frames.append(frame)
        except (grpc.aio.AioRpcError, asyncio.CancelledError):
            return

    def stop(self) -> None:
        for call in self.calls:
            call.cancel()

    async def stopped(self) -> None:
        """Stop, and wait until every frame received is in :attr:`frames`."""
        self.stop()
        await asyncio.gather(*self.tasks)

    def text(self) -> bytes:
        return b"".join(f.summary.encode() + f.error.encode() + bytes(f.data) for f in self.frames)
