"""The ledger: the exactly-once journal of side-effecting kiosk commands, and its audit trail.

One SQLite file in WAL mode is the daemon's one durable store. It holds one row per
request id of ``IssueEndorsement``, ``ReleaseCertificate`` and ``PrintTravelRecord``,
and an append-only audit trail. It never holds photos, fingerprints or identity
fields: an applicant is the business system's opaque ``business_ref``, and a
command's parameters are kept only as the SHA-256 of their canonical JSON
(``params_digest``), enough to refuse a request id reused for another request.

Theory of operation
-------------------

Each request id gets one ``command_id`` the first time it is seen. That id, not
the caller's, goes to the kiosk, and it never changes, so a kiosk that deduplicates
by command id can be asked about it and can ignore a repeat. Each state change is
one SQLite transaction, written together with its audit event.

======================  ==============================  =========================================
from                    call                            to
======================  ==============================  =========================================
(no row)                ``begin`` (status NEW)          PENDING: intent recorded, command id made
PENDING                 ``mark_sent`` (before writing)  SENT: the command may be at the kiosk
SENT                    ``mark_sent`` (a resend)        SENT, one more attempt
PENDING                 ``finish(NotDone)``             NOT_DONE: it never left, nothing issued
PENDING or SENT         ``finish(Done)``                DONE, with the kiosk's operation serial
                                                        and time
SENT                    ``finish(NotDone)``             NOT_DONE: the kiosk says it did not issue
DONE or NOT_DONE        ``finish`` (same outcome)       unchanged (idempotent)
DONE or NOT_DONE        ``finish`` (other outcome)      unchanged; conflict audited and raised
DONE or NOT_DONE        ``mark_sent``                   refused (``LedgerStateError``)
DONE or NOT_DONE        ``prune`` (finished earlier)    deleted, with its audit events
======================  ==============================  =========================================

``begin`` with a request id already known returns that entry: FINAL (return the
outcome), IN_FLIGHT (this run is working on it: join it, never send again) or
IN_DOUBT. The same id with another kiosk, operation, business reference or
parameters raises ``ReusedRequestIdError`` and nothing is sent.

In doubt
--------

An entry is in doubt when it is unresolved (PENDING or SENT) and nobody here can
say whether the kiosk issued: the run that began it is gone (the ledger counts
runs: ``Entry.in_doubt`` is true for an unresolved entry last touched by an
earlier session), or, within a run, the link to the kiosk dropped while the
command was out (the daemon knows that; the ledger's state is the same). A
PENDING entry is in doubt as well after a restart, because the previous run may
have died between the write to the kiosk and ``mark_sent`` returning. Only the
kiosk can settle it. The daemon therefore, at start-up and whenever a kiosk comes
back, before that kiosk takes new work:

1. reads ``unresolved(kiosk_id)``, oldest first;
2. asks the kiosk for the outcome of each ``command_id``;
3. records ``finish(Done(...))`` or ``finish(NotDone(...))`` from the kiosk's
   answer; when the kiosk never received the command, either records NOT_DONE
   (reason ``NOT_DELIVERED``) or sends it again with the same command id after
   ``mark_sent``;
4. only then lets the kiosk's lane take new commands.

Until then a caller retrying such a request id hears "in doubt", never a second
issuance.

Durability
----------

``journal_mode=WAL`` (readers such as ``hallctl ledger`` never block the writer),
``synchronous=FULL``: in WAL mode FULL syncs the log at every commit, so a
transaction that returned survives power loss, not just a crash of the process.
NORMAL would sync only at checkpoints, and a power cut could roll back the last
intents. That is not acceptable here: once ``mark_sent`` has returned, the command
may be at the kiosk, and an intent lost after that means a retry mints a new command
id and the kiosk issues twice. The cost is one fsync per state change (three per
issuance), small next to a kiosk printing a sticker. ``foreign_keys=ON`` (audit
rows belong to their entry), ``busy_timeout`` (another process, such as a backup,
holding the lock makes a call wait, not fail), a ``schema_version`` table with
migrations applied at open in one transaction, and ``PRAGMA integrity_check`` at
open: a damaged file stops start-up with ``LedgerCorruptError`` naming the file,
because running on it could forget an issuance and repeat it.

Triggers in the file back the rules up: a final entry never changes, an entry keeps
its request and command ids, and audit rows are never updated.

Use ``Ledger`` (``facade.py``) from asyncio: each statement runs on one dedicated
thread, never on the event loop. ``Journal`` (``journal.py``) is the synchronous
core, for tools and tests.
"""

from hallgw_daemon.ledger.facade import Ledger
from hallgw_daemon.ledger.journal import SCHEMA_VERSION, Journal
from hallgw_daemon.ledger.model import (
    AuditEvent,
    Begin,
    BeginStatus,
    Done,
    Entry,
    LedgerClosedError,
    LedgerCorruptError,
    LedgerError,
    LedgerStateError,
    NotDone,
    Operation,
    Outcome,
    OutcomeConflictError,
    ReusedRequestIdError,
    State,
    UnknownRequestError,
    params_digest,
)

__all__ = [
    "SCHEMA_VERSION",
    "AuditEvent",
    "Begin",
    "BeginStatus",
    "Done",
    "Entry",
    "Journal",
    "Ledger",
    "LedgerClosedError",
    "LedgerCorruptError",
    "LedgerError",
    "LedgerStateError",
    "NotDone",
    "Operation",
    "Outcome",
    "OutcomeConflictError",
    "ReusedRequestIdError",
    "State",
    "UnknownRequestError",
    "params_digest",
]
