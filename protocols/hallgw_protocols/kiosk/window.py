"""The kiosk's command window: the command ids it remembers, so a repeat never issues twice.

A kiosk keeps one :class:`CommandWindow` in durable storage. Before it does
anything irreversible for a command it records the id (:meth:`CommandWindow.admit`)
and writes the window to disk; it records every stage and the final outcome the
same way. A repeated id then gets ``duplicate`` with the first outcome, a query
gets the outcome as recorded, and a query for an id the kiosk never saw spends
that id (:meth:`CommandWindow.fence`) so a late copy of the command cannot run.

The window holds at least ``size`` ids and forgets the oldest *finished* ones
first, in the order they were first seen. An unfinished command is never
forgotten, so the window may exceed ``size`` by the commands in progress.
Pure: the caller stores :meth:`CommandWindow.to_json` where it likes.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import re
from typing import Any, Final

from hallgw_protocols._common import LocalProtocolError
from hallgw_protocols.kiosk.errors import KioskProtocolError
from hallgw_protocols.kiosk.messages import (
    COMMAND_ID_PATTERN,
    DEFAULT_WINDOW,
    Action,
    CommandKind,
    InProgress,
    NotDone,
    Outcome,
    Reason,
    SideEffectCommand,
    Stage,
    command_digest,
    is_final,
    outcome_from_dict,
)

STORE_FORMAT: Final = "hallgw-kiosk-command-window"
STORE_VERSION: Final = 1
NOT_RECEIVED_MESSAGE: Final = "the kiosk never received this command; it can no longer run"
_COMMAND_ID: Final = re.compile(COMMAND_ID_PATTERN)


class WindowStoreError(ValueError):
    """A stored window that cannot be loaded (corrupt, another format, another version)."""


class FinalOutcomeChanged(LocalProtocolError):
    """An attempt to change a command's final outcome: once final, an outcome never changes."""


class Admission(enum.Enum):
    NEW = "new"
    """Never seen: recorded as accepted; execute it."""
    DUPLICATE = "duplicate"
    """Seen with the same parameters: answer ``duplicate`` with the entry's outcome, run nothing."""
    REUSED = "reused"
    """Seen with other parameters: answer ``rejected`` (command_id_reused), record nothing."""


@dataclasses.dataclass(frozen=True, slots=True)
class WindowEntry:
    """What the kiosk remembers of one command id."""

    command_id: str
    command: CommandKind | None
    """None for an id spent by a query (never received)."""
    digest: str | None
    """The command's :func:`~hallgw_protocols.kiosk.messages.command_digest`; None when never received."""
    outcome: Outcome

    @property
    def final(self) -> bool:
        return is_final(self.outcome)

    def to_dict(self) -> dict[str, Any]:
        return {
            "command_id": self.command_id,
            "command": None if self.command is None else self.command.value,
            "digest": self.digest,
            "outcome": self.outcome.to_dict(),
        }


@dataclasses.dataclass(frozen=True, slots=True)
class Admit:
    """The result of :meth:`CommandWindow.admit`."""

    admission: Admission
    entry: WindowEntry
    """The recorded entry (for REUSED, the first command's, unchanged)."""


class CommandWindow:
    """The command ids a kiosk remembers, with their outcomes."""

    __slots__ = ("_entries", "_evicted", "_size")

    def __init__(self, size: int = DEFAULT_WINDOW) -> None:
        if type(size) is not int or not 1 <= size <= 1_000_000:
            raise ValueError("a command window holds 1 to 1000000 ids")
        self._size = size
        self._entries: dict[str, WindowEntry] = {}
        self._evicted = 0

    @property
    def size(self) -> int:
        return self._size

    @property
    def evicted(self) -> int:
        """How many finished ids were forgotten to make room, since the window was created."""
        return self._evicted

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, command_id: object) -> bool:
        return command_id in self._entries

    def entries(self) -> tuple[WindowEntry, ...]:
        """Every entry, oldest first."""
        return tuple(self._entries.values())

    def in_progress(self) -> tuple[WindowEntry, ...]:
        """The unfinished commands, oldest first: after a restart, the kiosk establishes how each ended."""
        return tuple(e for e in self._entries.values() if not e.final)

    def lookup(self, command_id: str) -> WindowEntry | None:
        return self._entries.get(command_id)

    def admit(self, command: SideEffectCommand) -> Admit:
        """Record a command before it runs, or tell a duplicate or a reused id apart.

        A NEW command is recorded in progress (stage ``accepted``). If the kiosk
        then refuses it for a business reason, it records that refusal as the
        final outcome: ``remember(command_id, rejected.as_outcome())``.
        """
        digest = command_digest(command)
        entry = self._entries.get(command.command_id)
        if entry is None:
            entry = WindowEntry(command.command_id, command.KIND, digest, InProgress(stage=Stage.ACCEPTED))
            self._insert(entry)
            return Admit(Admission.NEW, entry)
        if entry.digest == digest:
            return Admit(Admission.DUPLICATE, entry)
        if entry.digest is None and entry.command is None:
            # Spent by a query before it arrived: it can never run; its outcome is "not received".
            return Admit(Admission.DUPLICATE, entry)
        return Admit(Admission.REUSED, entry)

    def remember(
        self,
        command_id: str,
        outcome: Outcome,
        *,
        command: CommandKind | None = None,
        digest: str | None = None,
    ) -> WindowEntry:
        """Record a stage or the final outcome of a command id (new ids need ``command`` and ``digest``).

        Raises :class:`FinalOutcomeChanged` on an attempt to change a final outcome
        (recording the same one again is allowed).
        """
        if not isinstance(command_id, str) or not _is_command_id(command_id):
            raise ValueError("not a command id")
        entry = self._entries.get(command_id)
        if entry is None:
            entry = WindowEntry(command_id, command, digest, outcome)
            self._insert(entry)
            return entry
        if entry.final:
            if outcome != entry.outcome:
                raise FinalOutcomeChanged(f"command {command_id} already has a final outcome")
            return entry
        entry = dataclasses.replace(entry, outcome=outcome)
        self._entries[command_id] = entry  # keeps its place: eviction follows first sight
        if is_final(outcome):
            self._evict()
        return entry

    def fence(self, command_id: str) -> WindowEntry:
        """Answer a query: the entry, or for an unseen id, record it as not done (not_received) and return that."""
        entry = self._entries.get(command_id)
        if entry is not None:
            return entry
        outcome = NotDone(reason=Reason.NOT_RECEIVED, action=Action.RETRY, message=NOT_RECEIVED_MESSAGE)
        return self.remember(command_id, outcome)

    def _insert(self, entry: WindowEntry) -> None:
        self._entries[entry.command_id] = entry
        self._evict()

    def _evict(self) -> None:
        excess = len(self._entries) - self._size
        if excess <= 0:
            return
        for command_id in [e.command_id for e in self._entries.values() if e.final][:excess]:
            del self._entries[command_id]
            self._evicted += 1

    # ------------------------------------------------------------------ storage

    def to_json(self) -> str:
        """The whole window as JSON text, to store durably (write it before acting on a command)."""
        return json.dumps(
            {
                "format": STORE_FORMAT,
                "version": STORE_VERSION,
                "size": self._size,
                "evicted": self._evicted,
                "entries": [e.to_dict() for e in self._entries.values()],
            },
            ensure_ascii=True,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | bytes, *, size: int | None = None) -> CommandWindow:
        """A window stored by :meth:`to_json`; ``size`` overrides the stored size (the oldest finished ids go).

        Raises :class:`WindowStoreError` for anything that is not such a window.
        """
        try:
            obj = json.loads(text)
        except (ValueError, RecursionError) as err:
            raise WindowStoreError(f"the stored command window is not JSON: {type(err).__name__}") from None
        if not isinstance(obj, dict) or obj.get("format") != STORE_FORMAT:
            raise WindowStoreError("not a stored command window")
        if obj.get("version") != STORE_VERSION:
            raise WindowStoreError(f"a stored command window of an unknown version (this is {STORE_VERSION})")
        stored_size, evicted, rows = obj.get("size"), obj.get("evicted"), obj.get("entries")
        if type(stored_size) is not int or type(evicted) is not int or evicted < 0 or not isinstance(rows, list):
            raise WindowStoreError("a stored command window needs an integer size and evicted, and a list of entries")
        try:
            window = cls(stored_size if size is None else size)
        except ValueError as err:
            raise WindowStoreError(str(err)) from None
        window._evicted = evicted
        for index, row in enumerate(rows):
            entry = _entry_from_dict(row, index)
            if entry.command_id in window._entries:
                raise WindowStoreError(f"entry {index}: command id stored twice")
            window._entries[entry.command_id] = entry
        window._evict()
        return window


def _is_command_id(value: str) -> bool:
    return _COMMAND_ID.fullmatch(value) is not None


def _entry_from_dict(row: object, index: int) -> WindowEntry:
    if not isinstance(row, dict) or set(row) != {"command_id", "command", "digest", "outcome"}:
        raise WindowStoreError(f"entry {index}: needs exactly command_id, command, digest and outcome")
    command_id, command, digest = row["command_id"], row["command"], row["digest"]
    if not isinstance(command_id, str) or not _is_command_id(command_id):
        raise WindowStoreError(f"entry {index}: not a command id")
    if digest is not None and not isinstance(digest, str):
        raise WindowStoreError(f"entry {index}: digest must be a string or null")
    try:
        kind = None if command is None else CommandKind(command)
        outcome = outcome_from_dict(row["outcome"])
    except (ValueError, KioskProtocolError) as err:
        raise WindowStoreError(f"entry {index}: {err}") from None
    return WindowEntry(command_id, kind, digest, outcome)
