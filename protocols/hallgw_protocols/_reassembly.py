"""The reassembly buffer every framed serial codec shares.

Bytes from the wire wait here until a whole frame is there. The buffer never
grows past its cap (the oldest bytes go), hunts for the protocol's
start-of-frame marker (dropping what comes before it, but keeping a tail that
may be the start of a marker split across reads), and counts every byte it
drops, so a codec reports link quality without bookkeeping of its own.
"""

from __future__ import annotations

from hallgw_protocols._common import LocalProtocolError


class ReassemblyBuffer:
    """See module docstring."""

    def __init__(self, *, marker: bytes, cap: int) -> None:
        if not marker:
            raise LocalProtocolError("a start-of-frame marker is needed")
        self.marker = marker
        self.cap = cap
        self._buf = bytearray()
        self.discarded = 0
        """Bytes dropped so far: overflow, resynchronisation, skipped frames."""

    def __len__(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> None:
        """Append bytes from the wire; past the cap, the oldest are dropped."""
        self._buf += data
        overflow = len(self._buf) - self.cap
        if overflow > 0:
            self.drop(overflow)

    def hunt(self) -> bool:
        """Drop what precedes the first marker; True when a marker now starts the buffer."""
        start = self._buf.find(self.marker)
        if start >= 0:
            self.drop(start)
            return True
        longest = min(len(self.marker) - 1, len(self._buf))
        keep = next((k for k in range(longest, 0, -1) if self._buf.endswith(self.marker[:k])), 0)
        self.drop(len(self._buf) - keep)
        return False

    def peek(self, count: int) -> bytes:
        """The first ``count`` bytes (fewer when fewer are buffered), left in place."""
        return bytes(self._buf[:count])

    def take(self, count: int) -> bytes:
        """Remove and return the first ``count`` bytes: a frame that was used."""
        frame = bytes(self._buf[:count])
        del self._buf[:count]
        return frame

    def drop(self, count: int) -> None:
        """Discard the first ``count`` bytes, counting them."""
        if count > 0:
            count = min(count, len(self._buf))
            del self._buf[:count]
            self.discarded += count

    def clear(self) -> None:
        """Discard everything buffered, counting it."""
        self.drop(len(self._buf))
