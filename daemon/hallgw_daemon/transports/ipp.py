"""A CUPS print queue as a transport: ``ipp://HOST[:PORT]/printers/QUEUE``.

Theory of operation
-------------------
An :class:`IppQueue` is one queue of one CUPS server, reached through pycups
(libcups). libcups blocks, so every call runs on the queue's own one-thread
executor, never on the event loop; the thread's first act is to point libcups
at the queue's server with ``cups.setServer``/``cups.setPort``. Those are not
process-wide: libcups keeps its server, port and user in per-thread globals, so
two queues on two CUPS servers each keep their own thread and never see each
other's settings (a test runs two private servers side by side to show it).
``cups.Connection(host=..., port=...)`` alone is not enough: libcups builds the
printer URI of Create-Job from the thread's server, and a private server on
another port then answers "The printer or class does not exist". The
connection is made lazily on that thread and dropped after a transport error,
so the next call reconnects.

Every call is bounded by a timeout. A call the server does not answer in time
leaves its thread blocked in libcups, so the queue counts as lost
(:class:`IppTimeoutError`): the supervisor opens a fresh one, with a fresh
thread, after its backoff. A server that refuses the connection or has lost the
queue makes any call raise :class:`IppGoneError`; both are
:class:`~hallgw_daemon.transports.errors.LinkClosedError`, so the supervisor
treats them like any lost link. :meth:`IppQueue.wait_closed` polls the queue
every ``POLL_INTERVAL`` seconds (off the loop, as every call) and returns the
reason once it is gone; it also returns at once after :meth:`IppQueue.close`.

The state of a queue (:class:`QueueState`) is CUPS's printer-state (idle,
processing, stopped), printer-state-reasons (``media-empty-error``,
``cover-open``, ``paused``...), printer-is-accepting-jobs and the state message.
A job (:class:`JobState`) goes through the IPP job states (RFC 8011 §5.3.7):
pending, pending-held, processing, processing-stopped, then one of canceled,
aborted, completed. *Completed* means the printer (or its backend) took the
whole job, not that the paper came out well.

:meth:`IppQueue.submit` streams the PDF from memory with Create-Job and
Send-Document, so the document (which holds personal data) never sits in a
temporary file of ours. If the caller goes away while the job is being created,
the job is canceled once its id is known: a form must not print after its
request was abandoned.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import enum
import functools
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar
from urllib.parse import unquote, urlsplit

import cups

from hallgw_daemon.transports.errors import LinkClosedError, LinkOpenError
from hallgw_daemon.transports.link import LinkUrl

__all__ = [
    "CALL_TIMEOUT",
    "POLL_INTERVAL",
    "IppGoneError",
    "IppOpenError",
    "IppQueue",
    "IppRequestError",
    "IppTimeoutError",
    "JobState",
    "JobStatus",
    "PrinterStatus",
    "QueueState",
    "open_ipp",
]

POLL_INTERVAL: Final = 3.0
"""Seconds between the liveness polls of :meth:`IppQueue.wait_closed`."""
CALL_TIMEOUT: Final = 10.0
"""Default bound of one IPP request (CUPS answers in milliseconds; a busy server in well under this)."""
_HTTP_CONTINUE: Final = 100  # writeRequestData's "go on" status (pycups has no constant for it)
_GONE_STATUSES: Final = frozenset({cups.IPP_NOT_FOUND, cups.IPP_SERVICE_UNAVAILABLE})
_PRINTER_ATTRIBUTES: Final = [
    "printer-name",
    "printer-state",
    "printer-state-reasons",
    "printer-state-message",
    "printer-is-accepting-jobs",
    "printer-make-and-model",
]
_JOB_ATTRIBUTES: Final = ["job-state", "job-state-reasons", "job-printer-state-message"]

T = TypeVar("T")


class IppOpenError(LinkOpenError):
    """The queue could not be opened: the server does not answer or has no such queue."""


class IppGoneError(LinkClosedError):
    """The server went away, or the queue was deleted; the queue object is finished."""


class IppTimeoutError(IppGoneError, TimeoutError):
    """The server did not answer a request in time; the queue object is finished."""


class IppRequestError(RuntimeError):
    """The server refused a request (``status`` is the IPP status code, e.g. not accepting jobs)."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


class PrinterStatus(enum.IntEnum):
    """IPP printer-state."""

    IDLE = 3
    PROCESSING = 4
    STOPPED = 5


class JobStatus(enum.IntEnum):
    """IPP job-state (RFC 8011 §5.3.7)."""

    PENDING = 3
    HELD = 4
    PROCESSING = 5
    STOPPED = 6
    CANCELED = 7
    ABORTED = 8
    COMPLETED = 9

    @property
    def terminal(self) -> bool:
        """The job is over: canceled, aborted or completed."""
        return self >= JobStatus.CANCELED

    @property
    def keyword(self) -> str:
        """The IPP keyword (``pending-held``, ``processing-stopped``...)."""
        return _JOB_KEYWORDS[self]


_JOB_KEYWORDS: Final = {
    JobStatus.PENDING: "pending",
    JobStatus.HELD: "pending-held",
    JobStatus.PROCESSING: "processing",
    JobStatus.STOPPED: "processing-stopped",
    JobStatus.CANCELED: "canceled",
    JobStatus.ABORTED: "aborted",
    JobStatus.COMPLETED: "completed",
}


def _keywords(value: object) -> tuple[str, ...]:
    """A 1setOf keyword as pycups gives it (a str when one value, a list otherwise), without ``none``."""
    items = [value] if isinstance(value, str) else list(value) if isinstance(value, list | tuple) else []
    return tuple(str(v) for v in items if v and v != "none")


def has_reason(reasons: tuple[str, ...], keyword: str) -> bool:
    """Whether ``keyword`` is among ``reasons`` as is or as ``-error``; ``-warning`` and ``-report`` do not count."""
    return keyword in reasons or f"{keyword}-error" in reasons


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class QueueState:
    """A queue as CUPS reports it."""

    queue: str
    state: PrinterStatus
    reasons: tuple[str, ...] = ()
    accepting: bool = True
    message: str = ""
    make_model: str = ""

    def has(self, keyword: str) -> bool:
        """Whether printer-state-reasons holds ``keyword`` (bare or ``-error``)."""
        return has_reason(self.reasons, keyword)

    @property
    def stopped(self) -> bool:
        """The queue is stopped (disabled, paused) or refuses new jobs."""
        return self.state is PrinterStatus.STOPPED or not self.accepting or "paused" in self.reasons

    def describe(self) -> str:
        """``idle``, ``stopped (paused, media-empty-error)``, ``processing, not accepting jobs``..."""
        text = self.state.name.lower()
        if self.reasons:
            text += f" ({', '.join(self.reasons)})"
        if not self.accepting:
            text += ", not accepting jobs"
        return text

    @classmethod
    def from_attributes(cls, queue: str, attrs: Mapping[str, Any]) -> QueueState:
        """From a Get-Printer-Attributes answer; an unknown printer-state counts as stopped."""
        try:
            state = PrinterStatus(int(attrs.get("printer-state", PrinterStatus.STOPPED)))
        except ValueError:
            state = PrinterStatus.STOPPED
        return cls(
            queue=queue,
            state=state,
            reasons=_keywords(attrs.get("printer-state-reasons")),
            accepting=bool(attrs.get("printer-is-accepting-jobs", False)),
            message=str(attrs.get("printer-state-message", "")),
            make_model=str(attrs.get("printer-make-and-model", "")),
        )


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class JobState:
    """A job as CUPS reports it: its state, job-state-reasons and the printer's message about it."""

    job_id: int
    state: JobStatus
    reasons: tuple[str, ...] = ()
    message: str = ""

    @classmethod
    def from_attributes(cls, job_id: int, attrs: Mapping[str, Any]) -> JobState:
        try:
            state = JobStatus(int(attrs.get("job-state", 0)))
        except ValueError:
            state = JobStatus.PENDING  # an unknown state: keep following the job
        return cls(
            job_id=job_id,
            state=state,
            reasons=_keywords(attrs.get("job-state-reasons")),
            message=str(attrs.get("job-printer-state-message", "")),
        )


def queue_of(url: LinkUrl) -> str:
    """The queue name of ``ipp://HOST[:PORT]/printers/QUEUE``."""
    return unquote(urlsplit(url.path).path.removeprefix("/printers/"))


class IppQueue:
    """One CUPS queue, with its own thread for libcups (see the module docstring)."""

    def __init__(self, url: LinkUrl) -> None:
        self.url = url
        self.queue = queue_of(url)
        self.server = f"{url.host}:{url.port}"
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1,
            thread_name_prefix=f"ipp-{self.queue}",
            initializer=_point_libcups_at,
            initargs=(url.host, url.port),
        )
        self._conn: cups.Connection | None = None  # only touched on the executor's thread
        self._gone: str | None = None
        self._closed = asyncio.Event()
        self.last_state: QueueState | None = None
        """The state the last successful :meth:`queue_state` read."""

    def __repr__(self) -> str:
        return f"IppQueue({self.url.display()})"

    @property
    def gone(self) -> str | None:
        """Why the queue is finished (closed, server gone, no answer), or None while usable."""
        return self._gone

    # --- calls on the queue's thread -----------------------------------------

    def _connection(self) -> cups.Connection:
        if self._conn is None:
            self._conn = cups.Connection()
        return self._conn

    def _run(self, fn: Callable[[cups.Connection], T]) -> T:
        """On the thread: ``fn(connection)``, with transport failures as IppGoneError."""
        try:
            return fn(self._connection())
        except cups.IPPError as err:
            status, message = err.args if len(err.args) == 2 else (0, str(err))
            if status in _GONE_STATUSES:
                self._conn = None
                what = "no such queue" if status == cups.IPP_NOT_FOUND else f"server unavailable ({message})"
                raise IppGoneError(f"{self.url.display()}: {what}") from None
            raise IppRequestError(
                f"{self.url.display()}: {message} (IPP status 0x{status:04x})", status=status
            ) from None
        except (cups.HTTPError, RuntimeError) as err:  # RuntimeError: "failed to connect to server"
            self._conn = None
            raise IppGoneError(f"{self.url.display()}: {err}") from None

    def _drop_connection(self) -> None:
        self._conn = None

    async def _call(self, fn: Callable[[cups.Connection], T], *, timeout: float) -> T:
        if self._gone is not None:
            raise IppGoneError(f"{self.url.display()}: {self._gone}")
        future = asyncio.get_running_loop().run_in_executor(self._executor, self._run, fn)
        return await self._await(future, timeout)

    async def _await(self, future: asyncio.Future[T], timeout: float) -> T:
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            reason = f"no answer within {timeout:g} s"
            self._lose(reason)
            raise IppTimeoutError(f"{self.url.display()}: {reason}") from None
        except IppGoneError as err:
            self._lose(str(err))
            raise

    def _lose(self, reason: str) -> None:
        if self._gone is None:
            self._gone = reason
        self._closed.set()
        self._executor.shutdown(wait=False, cancel_futures=True)

    # --- the transport's operations ------------------------------------------

    async def queue_state(self, *, timeout: float = CALL_TIMEOUT) -> QueueState:
        """The queue's state, as CUPS has it now."""
        queue = self.queue
        attrs = await self._call(
            lambda c: c.getPrinterAttributes(queue, requested_attributes=_PRINTER_ATTRIBUTES), timeout=timeout
        )
        self.last_state = QueueState.from_attributes(queue, attrs)
        return self.last_state

    async def submit(self, pdf: bytes, *, title: str, timeout: float = CALL_TIMEOUT) -> int:
        """Queue ``pdf`` as a job titled ``title`` (never personal data: CUPS logs and shows it); its job id.

        Raises IppRequestError when the queue refuses the job (not accepting jobs).
        """
        if self._gone is not None:
            raise IppGoneError(f"{self.url.display()}: {self._gone}")
        queue = self.queue
        future = asyncio.get_running_loop().run_in_executor(
            self._executor, self._run, functools.partial(_submit, queue=queue, pdf=pdf, title=title)
        )
        try:
            return await self._await(asyncio.shield(future), timeout)
        except (asyncio.CancelledError, IppTimeoutError):
            future.add_done_callback(self._cancel_orphan)  # created after the caller left: must not print
            raise

    def _cancel_orphan(self, future: asyncio.Future[int]) -> None:
        if future.cancelled() or future.exception() is not None:
            return
        job_id = future.result()
        with contextlib.suppress(RuntimeError):  # the executor is shut down: the queue is lost anyway
            self._executor.submit(self._run, lambda c: c.cancelJob(job_id))

    async def job_state(self, job_id: int, *, timeout: float = CALL_TIMEOUT) -> JobState:
        """The state of job ``job_id``; IppRequestError if the server does not know it."""
        attrs = await self._call(
            lambda c: c.getJobAttributes(job_id, requested_attributes=_JOB_ATTRIBUTES), timeout=timeout
        )
        return JobState.from_attributes(job_id, attrs)

    async def cancel(self, job_id: int, *, timeout: float = CALL_TIMEOUT) -> None:
        """Cancel job ``job_id``; a job already over is left as it is."""
        try:
            await self._call(lambda c: c.cancelJob(job_id), timeout=timeout)
        except IppRequestError as err:
            if err.status != cups.IPP_NOT_POSSIBLE:  # "job is already completed/canceled/aborted"
                raise

    async def close(self) -> None:
        """Stop using the queue: later calls raise IppGoneError, :meth:`wait_closed` returns."""
        if self._gone is None:
            self._gone = "closed"
        self._closed.set()
        with contextlib.suppress(RuntimeError):  # already shut down after a loss
            self._executor.submit(self._drop_connection)
        self._executor.shutdown(wait=False, cancel_futures=False)

    async def wait_closed(self) -> str:
        """Return why, once the queue is gone (server away, queue deleted) or closed; polls the server."""
        while self._gone is None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(POLL_INTERVAL):
                    await self._closed.wait()
            if self._gone is not None:
                break
            with contextlib.suppress(IppRequestError):
                try:
                    await self.queue_state()
                except IppGoneError:
                    break
        return self._gone or "closed"


def _point_libcups_at(host: str, port: int) -> None:
    """The queue thread's initializer: libcups's server and port are per thread."""
    cups.setServer(host)
    cups.setPort(port)


def _submit(conn: cups.Connection, *, queue: str, pdf: bytes, title: str) -> int:
    """On the queue's thread: Create-Job, then the PDF from memory with Send-Document."""
    job_id = conn.createJob(queue, title, {})
    try:
        conn.startDocument(queue, job_id, title, cups.CUPS_FORMAT_PDF, True)
        status = conn.writeRequestData(pdf, len(pdf))
        if status != _HTTP_CONTINUE:
            raise cups.HTTPError(status)
        ipp_status = conn.finishDocument(queue)
        if ipp_status > cups.IPP_OK_CONFLICT:
            raise cups.IPPError(ipp_status, "the server refused the document")
    except BaseException:
        with contextlib.suppress(Exception):
            conn.cancelJob(job_id)
        raise
    return job_id


async def open_ipp(url: LinkUrl, *, timeout: float = CALL_TIMEOUT) -> IppQueue:
    """Open the queue ``url`` names and read its state; IppOpenError when the server or the queue is missing."""
    queue = IppQueue(url)
    try:
        await queue.queue_state(timeout=timeout)
    except (IppGoneError, IppRequestError) as err:
        await queue.close()
        raise IppOpenError(str(err)) from None
    return queue
