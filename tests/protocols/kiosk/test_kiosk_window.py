"""The kiosk's command window: admission, duplicates, reuse, fencing, eviction and storage."""

from __future__ import annotations

import json

import pytest

from hallgw_protocols.kiosk import (
    Action,
    Admission,
    CommandKind,
    CommandWindow,
    Done,
    FinalOutcomeChanged,
    InProgress,
    IssueEndorsement,
    NotDone,
    PrintTravelRecord,
    Reason,
    ReleaseCertificate,
    Stage,
    WindowStoreError,
    command_digest,
)
from hallgw_protocols.kiosk.examples import EXAMPLES
from hallgw_protocols.kiosk.messages import MessageType

T = "2025-03-14T09:41:17.002Z"
DONE = Done(serial="KS12-1", completed_at=T)
PAPER = NotDone(reason=Reason.PAPER_OUT, action=Action.STAFF, message="paper out")


def cmd(command_id: str, copies: int = 1) -> PrintTravelRecord:
    return PrintTravelRecord(time=T, command_id=command_id, business_ref="Q-1", record_ref="R-1", copies=copies)


def test_new_then_duplicate() -> None:
    w = CommandWindow(10)
    first = w.admit(cmd("c1"))
    assert first.admission is Admission.NEW
    assert first.entry.outcome == InProgress(stage=Stage.ACCEPTED)
    assert first.entry.command is CommandKind.PRINT_TRAVEL_RECORD
    assert first.entry.digest == command_digest(cmd("c1"))
    again = w.admit(cmd("c1"))
    assert again.admission is Admission.DUPLICATE
    assert again.entry == first.entry
    assert len(w) == 1


def test_duplicate_returns_the_first_final_outcome() -> None:
    w = CommandWindow(10)
    w.admit(cmd("c1"))
    w.remember("c1", InProgress(stage=Stage.PRINTING))
    w.remember("c1", DONE)
    repeat = PrintTravelRecord(
        time="2026-01-01T00:00:00Z", command_id="c1", business_ref="Q-1", record_ref="R-1", copies=1
    )
    result = w.admit(repeat)  # a later retry: another time, same parameters
    assert result.admission is Admission.DUPLICATE
    assert result.entry.outcome == DONE
    assert result.entry.final


def test_reused_id_with_other_parameters() -> None:
    w = CommandWindow(10)
    w.admit(cmd("c1"))
    result = w.admit(cmd("c1", copies=2))
    assert result.admission is Admission.REUSED
    assert result.entry.digest == command_digest(cmd("c1"))  # the first command's, unchanged
    other_kind = ReleaseCertificate(time=T, command_id="c1", business_ref="Q-1", slot="A1", pickup_ref=None)
    assert w.admit(other_kind).admission is Admission.REUSED


def test_final_outcome_never_changes() -> None:
    w = CommandWindow(10)
    w.admit(cmd("c1"))
    w.remember("c1", DONE)
    w.remember("c1", DONE)  # the same again is fine (a repeated write after a crash)
    with pytest.raises(FinalOutcomeChanged):
        w.remember("c1", PAPER)
    with pytest.raises(FinalOutcomeChanged):
        w.remember("c1", InProgress(stage=Stage.PRINTING))
    entry = w.lookup("c1")
    assert entry is not None
    assert entry.outcome == DONE


def test_progress_updates_keep_first_seen_order() -> None:
    w = CommandWindow(10)
    for cid in ("a", "b", "c"):
        w.admit(cmd(cid))
    w.remember("a", InProgress(stage=Stage.PRINTING))
    assert [e.command_id for e in w.entries()] == ["a", "b", "c"]


def test_fence_spends_an_unknown_id() -> None:
    w = CommandWindow(10)
    entry = w.fence("lost-1")
    assert entry.command is None
    assert entry.digest is None
    assert entry.outcome == NotDone(reason=Reason.NOT_RECEIVED, action=Action.RETRY, message=entry.outcome.message)  # type: ignore[union-attr]
    # The command arrives late (it was queued in the broker): it must not run.
    late = w.admit(cmd("lost-1"))
    assert late.admission is Admission.DUPLICATE
    assert late.entry.outcome == entry.outcome


def test_fence_of_a_known_id_answers_it() -> None:
    w = CommandWindow(10)
    w.admit(cmd("c1"))
    assert w.fence("c1").outcome == InProgress(stage=Stage.ACCEPTED)
    w.remember("c1", DONE)
    assert w.fence("c1").outcome == DONE


def test_eviction_forgets_the_oldest_finished_first() -> None:
    w = CommandWindow(3)
    for cid in ("a", "b", "c"):
        w.admit(cmd(cid))
        w.remember(cid, DONE)
    w.admit(cmd("d"))
    assert [e.command_id for e in w.entries()] == ["b", "c", "d"]
    assert "a" not in w
    assert w.lookup("a") is None
    assert w.evicted == 1


def test_eviction_never_forgets_a_command_in_progress() -> None:
    w = CommandWindow(2)
    w.admit(cmd("a"))  # in progress
    w.admit(cmd("b"))
    w.remember("b", DONE)
    w.admit(cmd("c"))  # evicts b, not a
    assert [e.command_id for e in w.entries()] == ["a", "c"]
    w.admit(cmd("d"))  # nothing finished to evict: the window grows past its size
    assert len(w) == 3
    assert [e.command_id for e in w.in_progress()] == ["a", "c", "d"]
    w.remember("a", PAPER)  # once a finishes, the window shrinks back
    assert [e.command_id for e in w.entries()] == ["c", "d"]
    assert w.evicted == 2


def test_storage_round_trip() -> None:
    w = CommandWindow(5)
    w.admit(cmd("a"))
    w.remember("a", DONE)
    endorsement = EXAMPLES[MessageType.ISSUE_ENDORSEMENT][0]
    assert isinstance(endorsement, IssueEndorsement)
    w.admit(endorsement)
    w.remember(endorsement.command_id, InProgress(stage=Stage.WRITING))
    w.fence("q")
    w.admit(cmd("b"))
    w.remember("b", PAPER)
    text = w.to_json()
    back = CommandWindow.from_json(text)
    assert back.entries() == w.entries()
    assert back.size == 5
    assert back.evicted == w.evicted
    assert back.to_json() == text
    assert back.admit(endorsement).admission is Admission.DUPLICATE
    assert CommandWindow.from_json(text.encode()).entries() == w.entries()


def test_storage_keeps_the_eviction_count_and_can_shrink() -> None:
    w = CommandWindow(2)
    for cid in ("a", "b", "c"):
        w.admit(cmd(cid))
        w.remember(cid, DONE)
    assert w.evicted == 1
    smaller = CommandWindow.from_json(w.to_json(), size=1)
    assert [e.command_id for e in smaller.entries()] == ["c"]
    assert smaller.evicted == 2


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        '{"format": "other"}',
        '{"format": "hallgw-kiosk-command-window", "version": 2, "size": 5, "evicted": 0, "entries": []}',
        '{"format": "hallgw-kiosk-command-window", "version": 1, "size": "5", "evicted": 0, "entries": []}',
        '{"format": "hallgw-kiosk-command-window", "version": 1, "size": 0, "evicted": 0, "entries": []}',
        '{"format": "hallgw-kiosk-command-window", "version": 1, "size": 5, "evicted": -1, "entries": []}',
        '{"format": "hallgw-kiosk-command-window", "version": 1, "size": 5, "evicted": 0, "entries": {}}',
        '{"format": "hallgw-kiosk-command-window", "version": 1, "size": 5, "evicted": 0, "entries": [1]}',
    ],
)
def test_corrupt_store_is_refused(text: str) -> None:
    with pytest.raises(WindowStoreError):
        CommandWindow.from_json(text)


def _store_with(entry: dict[str, object]) -> str:
    return json.dumps(
        {"format": "hallgw-kiosk-command-window", "version": 1, "size": 5, "evicted": 0, "entries": [entry]}
    )


GOOD_ENTRY: dict[str, object] = {
    "command_id": "a",
    "command": "print_travel_record",
    "digest": "d",
    "outcome": DONE.to_dict(),
}


@pytest.mark.parametrize(
    "entry",
    [
        GOOD_ENTRY | {"command_id": "-a"},
        GOOD_ENTRY | {"command": "fly"},
        GOOD_ENTRY | {"digest": 5},
        GOOD_ENTRY | {"outcome": {"result": "done"}},
        GOOD_ENTRY | {"outcome": {"result": "maybe"}},
        GOOD_ENTRY | {"extra": 1},
        {k: v for k, v in GOOD_ENTRY.items() if k != "digest"},
    ],
)
def test_corrupt_entries_are_refused(entry: dict[str, object]) -> None:
    assert CommandWindow.from_json(_store_with(GOOD_ENTRY)).lookup("a") is not None
    with pytest.raises(WindowStoreError, match="entry 0"):
        CommandWindow.from_json(_store_with(entry))


def test_an_id_stored_twice_is_refused() -> None:
    text = json.dumps(
        {"format": "hallgw-kiosk-command-window", "version": 1, "size": 5, "evicted": 0, "entries": [GOOD_ENTRY] * 2}
    )
    with pytest.raises(WindowStoreError, match="twice"):
        CommandWindow.from_json(text)


@pytest.mark.parametrize("size", [0, -1, 1_000_001, True])
def test_bad_sizes(size: int) -> None:
    with pytest.raises(ValueError, match="1 to 1000000"):
        CommandWindow(size)


def test_remember_checks_the_id() -> None:
    with pytest.raises(ValueError, match="not a command id"):
        CommandWindow().remember("bad id", DONE)


def test_default_size() -> None:
    assert CommandWindow().size == 1000
