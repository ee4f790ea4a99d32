"""What every simulated device shares about faults: argument parsing and wire faults.

Faults are asked for by name with a few arguments (from the control port or
tests); each device maps names to handlers. The helpers here parse the
arguments the same way for every device, so the control protocol is uniform.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Final

MAX_GARBAGE: Final = 65536
MAX_DELAY_MS: Final = 600_000
MAX_CORRUPT: Final = 1_000_000

FaultArg = str | int | bool


class FaultError(ValueError):
    """A fault request that names an unknown fault or carries bad arguments."""


@dataclasses.dataclass(slots=True)
class WireFaults:
    """Faults that act on how responses travel, not on what they say."""

    silence: bool = False
    """Commands are swallowed: nothing is answered."""
    corrupt: int = 0
    """How many of the next responses get one byte flipped (their checksum fails)."""
    garbage: int = 0
    """Random bytes to send before the next response (once)."""
    delay_ms: int = 0
    """Extra latency before every response."""


def switch_arg(name: str, args: Sequence[FaultArg], *, default: bool | None = None) -> bool:
    """The on/off argument of fault ``name`` (``default`` when none is given and one is allowed)."""
    if not args and default is not None:
        return default
    if len(args) != 1:
        raise FaultError(f"{name} takes one argument: on or off")
    value = args[0]
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("on", "off"):
        return value.lower() == "on"
    raise FaultError(f"{name} takes on or off, got {value!r}")


def count_arg(name: str, args: Sequence[FaultArg], maximum: int) -> int:
    """The one number argument of fault ``name``, within 0..maximum."""
    if len(args) != 1:
        raise FaultError(f"{name} takes one number")
    value = args[0]
    if isinstance(value, bool):
        raise FaultError(f"{name} takes a number, got {value!r}")
    try:
        number = int(value)
    except ValueError:
        raise FaultError(f"{name} takes a number, got {value!r}") from None
    if not 0 <= number <= maximum:
        raise FaultError(f"{name} must be between 0 and {maximum}, got {number}")
    return number


def no_args(name: str, args: Sequence[FaultArg]) -> None:
    """Fault ``name`` takes no argument."""
    if args:
        raise FaultError(f"{name} takes no arguments")
