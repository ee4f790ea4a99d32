"""The A4 application-form printer of a pre-acceptance desk, behind a CUPS queue.

Theory of operation
-------------------
The link is an :class:`~hallgw_daemon.transports.ipp.IppQueue`
(``ipp://HOST[:PORT]/printers/QUEUE``). The device is the queue: it is ONLINE
while its CUPS server answers and the queue exists, whatever the printer's own
condition. A stopped queue, one that refuses jobs, a printer out of paper or
with its cover open is still ONLINE (an engineer can see it in ``identify``'s
state), but :meth:`FormPrinterDriver.print_form` fails at once with what staff
must do, before anything is queued:

==============================================  ==========================
queue state                                     error
==============================================  ==========================
printer-state stopped, ``paused``, not          PRINTER_STOPPED
accepting jobs
``media-empty`` / ``media-needed`` (or          PAPER_OUT
``-error``)
``cover-open`` / ``door-open`` /                COVER_OPEN
``interlock-open`` (or ``-error``)
==============================================  ==========================

(``-warning`` and ``-report`` reasons, such as ``media-low-warning``, do not stop
a print.) Otherwise the form is rendered off the loop
(:func:`~hallgw_daemon.drivers.form_pdf.render_application_form`), submitted, and
followed by reading its job state, first every 20 ms, backing off to 100 ms
(CUPS finishes a one-page job in 100-350 ms). Each change is a progress event:
``QUEUED`` once the job exists, ``PRINTING`` when CUPS starts processing it,
``COMPLETED`` when the printer has taken the whole job. The job's ending:

- *completed*: the call returns a :class:`PrintJob`;
- *processing-stopped* (a filter failed), *aborted* (the backend gave up under
  ``printer-error-policy=abort-job``), *canceled* (by staff, or the backend
  could not write): PRINT_FAILED, ``details`` holding ``job_id`` and
  ``job_state``;
- *pending* with reason ``printer-stopped`` (the queue stopped after the
  submit, e.g. ``stop-printer`` after a backend failure): PRINTER_STOPPED;
- the caller's deadline first: PRINT_FAILED with the state the job was in
  (``timed_out`` = ``true`` in ``details``).

A job this call gives up on (failed, timed out, or the caller went away) is
canceled, so that it never prints later, unattended, or twice after a retry.

The form holds personal data. The job title is always ``application form``;
nothing of the form reaches a log line, a trace, an error or its details (they
carry the job id, states and CUPS's reason keywords only). The PDF lives in
memory for the call, then in CUPS's spool until the job ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Mapping
from typing import ClassVar, Final

import cups

from hallgw_daemon.core.errors import (
    CoverOpenError,
    DeadlineExceededError,
    DeviceProtocolError,
    GatewayError,
    InternalError,
    LinkLostError,
    PaperOutError,
    PrinterStoppedError,
    PrintFailedError,
)
from hallgw_daemon.core.model import DeviceKind
from hallgw_daemon.drivers.base import Driver, DriverContext, register_driver
from hallgw_daemon.drivers.form_pdf import ApplicationForm, render_application_form
from hallgw_daemon.logging import get_logger
from hallgw_daemon.transports import Transport
from hallgw_daemon.transports.ipp import (
    IppGoneError,
    IppQueue,
    IppRequestError,
    JobState,
    JobStatus,
    QueueState,
)

__all__ = ["JOB_TITLE", "FormPrinterDriver", "PrintJob", "check_ready"]

log = get_logger(__name__)

JOB_TITLE: Final = "application form"
"""Every job's title: CUPS logs it, lists it and names output files by it, so never anything personal."""
POLL_FIRST: Final = 0.02
POLL_MAX: Final = 0.1
CANCEL_TIMEOUT: Final = 2.0
FORM_PAGES: Final = 1
PAPER_OUT_REASONS: Final = ("media-empty", "media-needed")
COVER_OPEN_REASONS: Final = ("cover-open", "door-open", "interlock-open")

ProgressFn = Callable[[str, str], None]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class PrintJob:
    """A printed form: the CUPS job id, its final state, its pages and the PDF's size in bytes."""

    job_id: int
    state: JobStatus
    pages: int
    pdf_bytes_len: int


@dataclasses.dataclass(slots=True)
class _Watch:
    """What one print call knows of its job: its id once submitted, its last state, whether it is over."""

    job_id: int | None = None
    state: JobStatus = JobStatus.PENDING
    over: bool = False


def check_ready(state: QueueState, device_id: str) -> None:
    """Raise what staff must fix before a job can print on a queue in ``state``; nothing when it can."""
    shown = f"queue {state.queue}: {state.describe()}"
    if any(state.has(r) for r in PAPER_OUT_REASONS):
        raise PaperOutError(f"the printer is out of paper: load A4 paper ({shown})", device_id=device_id)
    if any(state.has(r) for r in COVER_OPEN_REASONS):
        raise CoverOpenError(f"the printer's cover is open: close it ({shown})", device_id=device_id)
    if state.stopped:
        message = f": {state.message}" if state.message else ""
        raise PrinterStoppedError(
            f"the print queue is stopped or refuses jobs{message}: resume it (cupsenable, cupsaccept) ({shown})",
            device_id=device_id,
        )


@register_driver
class FormPrinterDriver(Driver):
    """An A4 printer behind a CUPS queue (see the module docstring)."""

    kind: ClassVar[DeviceKind] = DeviceKind.FORM_PRINTER

    def __init__(self, ctx: DriverContext) -> None:
        super().__init__(ctx)
        self._queue: IppQueue | None = None

    @property
    def queue(self) -> IppQueue:
        if self._queue is None:
            raise LinkLostError("the print queue is not connected", device_id=self.ctx.device_id)
        return self._queue

    def attach(self, transport: Transport | IppQueue) -> None:
        if not isinstance(transport, IppQueue):
            raise InternalError(f"device {self.ctx.device_id}: a form printer driver got {type(transport).__name__}")
        self._queue = transport

    async def identify(self, *, timeout: float) -> Mapping[str, str]:
        state = await self._queue_state(timeout)
        return {
            "queue": state.queue,
            "server": self.queue.server,
            "make_model": state.make_model,
            "state": state.describe(),
            "accepting_jobs": "yes" if state.accepting else "no",
        }

    async def probe(self, *, timeout: float) -> None:
        """The server answers for the queue; a stopped queue is healthy here (prints fail, see above)."""
        await self._queue_state(timeout)

    async def wait_closed(self) -> str:
        return await self.queue.wait_closed()

    async def detach(self) -> None:
        queue, self._queue = self._queue, None
        if queue is not None:
            await queue.close()

    # --- printing ---------------------------------------------------------------

    async def print_form(self, form: ApplicationForm, *, until: float, progress: ProgressFn) -> PrintJob:
        """Print ``form`` and follow the job until it completes or ``until`` (loop time) passes."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        watch = _Watch()
        try:
            async with asyncio.timeout_at(until):
                pdf = await asyncio.to_thread(render_application_form, form)
                check_ready(await self._queue_state(self.ctx.command_timeout), self.ctx.device_id)
                watch.job_id = await self._submit(pdf)
                progress("QUEUED", f"the form is queued as job {watch.job_id}")
                final = await self._follow(watch, progress)
        except TimeoutError as err:
            if isinstance(err, GatewayError):  # a device timeout, not the caller's deadline
                raise
            if watch.job_id is None:
                raise DeadlineExceededError(
                    "the deadline passed before the form was queued", device_id=self.ctx.device_id
                ) from None
            raise self._timed_out(watch.job_id, watch.state) from None
        finally:
            if watch.job_id is not None and not watch.over:  # failed, timed out or abandoned: never print later
                await self._cancel_quietly(watch.job_id)
        log.info(
            "form printed",
            device_id=self.ctx.device_id,
            job_id=final.job_id,
            pdf_bytes=len(pdf),
            seconds=round(loop.time() - started, 3),
        )
        return PrintJob(job_id=final.job_id, state=final.state, pages=FORM_PAGES, pdf_bytes_len=len(pdf))

    async def _submit(self, pdf: bytes) -> int:
        queue = self.queue
        try:
            return await queue.submit(pdf, title=JOB_TITLE, timeout=self.ctx.command_timeout)
        except IppRequestError as err:
            if err.status == cups.IPP_NOT_ACCEPTING:
                raise PrinterStoppedError(
                    f"the print queue refuses jobs: resume it (cupsaccept) (queue {queue.queue})",
                    device_id=self.ctx.device_id,
                ) from None
            raise DeviceProtocolError(
                f"the print server refused the job: {err}", device_id=self.ctx.device_id
            ) from None
        except IppGoneError as err:
            raise LinkLostError(f"the print server went away: {err}", device_id=self.ctx.device_id) from None

    async def _follow(self, watch: _Watch, progress: ProgressFn) -> JobState:
        """Read the job's state until it ends; progress events on each change (see the module docstring)."""
        queue = self.queue
        job_id = watch.job_id
        assert job_id is not None  # noqa: S101 - set by the caller
        delay = POLL_FIRST
        while True:
            try:
                job = await queue.job_state(job_id, timeout=self.ctx.command_timeout)
            except IppGoneError as err:
                raise LinkLostError(f"the print server went away: {err}", device_id=self.ctx.device_id) from None
            except IppRequestError as err:
                raise DeviceProtocolError(
                    f"the print server lost job {job_id}: {err}", device_id=self.ctx.device_id
                ) from None
            if job.state is JobStatus.PROCESSING and watch.state is not JobStatus.PROCESSING:
                progress("PRINTING", "the form is printing")
            watch.state = job.state
            if job.state is JobStatus.COMPLETED:
                watch.over = True
                progress("COMPLETED", "the form has been printed")
                return job
            if job.state in (JobStatus.CANCELED, JobStatus.ABORTED):
                watch.over = True
                raise self._failed(job)
            if job.state is JobStatus.STOPPED:
                raise self._failed(job)  # canceled on the way out: a restart must not print it unattended
            if job.state is JobStatus.PENDING and "printer-stopped" in job.reasons:
                raise PrinterStoppedError(
                    f"the print queue stopped before job {job_id} printed: resume it (cupsenable)",
                    device_id=self.ctx.device_id,
                    details={"job_id": str(job_id), "job_state": job.state.keyword},
                )
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, POLL_MAX)

    def _failed(self, job: JobState) -> PrintFailedError:
        why = f" ({', '.join(job.reasons)})" if job.reasons else ""
        said = f": {job.message}" if job.message else ""
        return PrintFailedError(
            f"print job {job.job_id} ended {job.state.keyword}{why}{said}; check the printer and print again",
            device_id=self.ctx.device_id,
            details={"job_id": str(job.job_id), "job_state": job.state.keyword, "job_reasons": ",".join(job.reasons)},
        )

    def _timed_out(self, job_id: int, state: JobStatus) -> PrintFailedError:
        return PrintFailedError(
            f"print job {job_id} was still {state.keyword} at the deadline; it is canceled, print again",
            device_id=self.ctx.device_id,
            details={"job_id": str(job_id), "job_state": state.keyword, "timed_out": "true"},
        )

    async def _cancel_quietly(self, job_id: int) -> None:
        """Cancel a job this call gives up on (bounded, shielded from the caller's own cancellation)."""
        queue = self._queue
        if queue is None or queue.gone is not None:
            return
        task = asyncio.ensure_future(queue.cancel(job_id, timeout=CANCEL_TIMEOUT))
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.shield(task)
        if not task.done():  # we were cancelled while it ran: let it finish on its own
            task.add_done_callback(lambda t: t.cancelled() or t.exception())

    async def _queue_state(self, timeout: float) -> QueueState:
        try:
            return await self.queue.queue_state(timeout=timeout)
        except IppGoneError as err:
            raise LinkLostError(f"the print queue is gone: {err}", device_id=self.ctx.device_id) from None
        except IppRequestError as err:
            raise DeviceProtocolError(f"the print server refused: {err}", device_id=self.ctx.device_id) from None
