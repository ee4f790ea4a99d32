"""One realistic example of every message type: for the schemas, the docs, the tests and simulators.

The references are made up and opaque, as the protocol requires: no names, no
ID or permit numbers.
"""

from __future__ import annotations

from typing import Final

from hallgw_protocols.kiosk.messages import (
    Accepted,
    Action,
    CommandKind,
    Completion,
    Consumables,
    ConsumablesAnswer,
    Destination,
    Done,
    Door,
    Duplicate,
    EndorsementType,
    GetConsumables,
    Heartbeat,
    InProgress,
    IssueEndorsement,
    KioskKind,
    Message,
    MessageType,
    Mode,
    NotDone,
    Online,
    OutcomeAnswer,
    Ping,
    Pong,
    PrintTravelRecord,
    Progress,
    QueryOutcome,
    Reason,
    Rejected,
    ReleaseCertificate,
    Slots,
    Stage,
    State,
    Status,
)

_T0 = "2025-03-14T09:41:17.002Z"
_T1 = "2025-03-14T09:41:17.015Z"
_T2 = "2025-03-14T09:41:31.480Z"
_CMD = "req-7f3a9c1e-0001"

EXAMPLES: Final[dict[MessageType, tuple[Message, ...]]] = {
    MessageType.ISSUE_ENDORSEMENT: (
        IssueEndorsement(
            time=_T0,
            command_id=_CMD,
            business_ref="APP-2025-0314-004711",
            destination=Destination.HONG_KONG,
            endorsement_type=EndorsementType.INDIVIDUAL_TOURISM,
            entries=1,
            valid_days=90,
            stay_days=7,
        ),
        IssueEndorsement(
            time=_T0,
            command_id="req-7f3a9c1e-0002",
            business_ref="APP-2025-0314-004712",
            destination=Destination.MACAO,
            endorsement_type=EndorsementType.BUSINESS,
            entries=None,
            valid_days=365,
            stay_days=14,
        ),
    ),
    MessageType.RELEASE_CERTIFICATE: (
        ReleaseCertificate(
            time=_T0, command_id="req-5b21-0007", business_ref="DOC-88213", slot="B-17", pickup_ref=None
        ),
        ReleaseCertificate(
            time=_T0, command_id="req-5b21-0008", business_ref="DOC-88214", slot=None, pickup_ref="PU-3f9e2a"
        ),
    ),
    MessageType.PRINT_TRAVEL_RECORD: (
        PrintTravelRecord(
            time=_T0, command_id="req-91c0-0003", business_ref="QRY-2025-118", record_ref="REC-77a1c0", copies=1
        ),
    ),
    MessageType.QUERY_OUTCOME: (QueryOutcome(time=_T2, command_id=_CMD),),
    MessageType.GET_CONSUMABLES: (GetConsumables(time=_T0),),
    MessageType.PING: (Ping(time=_T0),),
    MessageType.ACCEPTED: (Accepted(time=_T1, command_id=_CMD),),
    MessageType.REJECTED: (
        Rejected(
            time=_T1,
            command_id=_CMD,
            reason=Reason.RIBBON_OUT,
            action=Action.STAFF,
            message="printer ribbon out: replace the ribbon",
        ),
        Rejected(
            time=_T1,
            command_id=None,
            reason=Reason.UNSUPPORTED_VERSION,
            action=Action.ENGINEER,
            message="schema_version 2.0: only major version 1 is spoken here",
        ),
    ),
    MessageType.DUPLICATE: (
        Duplicate(time=_T1, command_id=_CMD, outcome=InProgress(stage=Stage.PRINTING)),
        Duplicate(time=_T2, command_id=_CMD, outcome=Done(serial="KS12-20250314-000481", completed_at=_T2)),
    ),
    MessageType.PROGRESS: (
        Progress(time=_T1, command_id=_CMD, seq=1, stage=Stage.CARD_INSERTED, message="permit inserted"),
        Progress(time=_T1, command_id=_CMD, seq=3, stage=Stage.WAITING_FOR_PICKUP, message="take your permit"),
    ),
    MessageType.COMPLETION: (
        Completion(
            time=_T2,
            command_id=_CMD,
            command=CommandKind.ISSUE_ENDORSEMENT,
            outcome=Done(serial="KS12-20250314-000481", completed_at=_T2),
        ),
        Completion(
            time=_T2,
            command_id="req-91c0-0003",
            command=CommandKind.PRINT_TRAVEL_RECORD,
            outcome=NotDone(reason=Reason.PAPER_OUT, action=Action.STAFF, message="paper out: load paper"),
        ),
    ),
    MessageType.OUTCOME: (
        OutcomeAnswer(
            time=_T2,
            command_id=_CMD,
            command=CommandKind.ISSUE_ENDORSEMENT,
            outcome=Done(serial="KS12-20250314-000481", completed_at=_T2),
        ),
        OutcomeAnswer(
            time=_T2,
            command_id="req-7f3a9c1e-0009",
            command=None,
            outcome=NotDone(
                reason=Reason.NOT_RECEIVED,
                action=Action.RETRY,
                message="the kiosk never received this command; it can no longer run",
            ),
        ),
    ),
    MessageType.CONSUMABLES: (
        ConsumablesAnswer(
            time=_T1,
            consumables=Consumables(paper_pct=64, ribbon_pct=None, card_stock=None),
            slots=Slots(total=120, occupied=37),
        ),
    ),
    MessageType.PONG: (Pong(time=_T1),),
    MessageType.STATE: (
        State(
            time=_T0,
            kind=KioskKind.ENDORSEMENT,
            model="SE-3000",
            firmware="4.2.1",
            mode=Mode.IN_SERVICE,
            door=Door.CLOSED,
            consumables=Consumables(paper_pct=82, ribbon_pct=47, card_stock=None),
            slots=None,
            command_window=1000,
            active_command=None,
        ),
    ),
    MessageType.HEARTBEAT: (Heartbeat(time=_T0, seq=1842, uptime_s=18420, interval_s=10, commands_total=48113),),
    MessageType.STATUS: (
        Status(time=_T0, status=Online.ONLINE, session=57, reason=""),
        Status(time=_T0, status=Online.OFFLINE, session=57, reason="connection lost"),
    ),
}
