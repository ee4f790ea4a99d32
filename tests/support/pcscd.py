"""pcscd for tests: the machine's one PC/SC daemon, with the vpcd virtual readers.

pcscd serves one fixed socket (``/run/pcscd/pcscd.comm``), so only one runs per
machine. :func:`ensure_pcscd` uses the one that is running, or starts
``pcscd --foreground`` and stops it at the end (:class:`Pcscd`). vpcd (Debian's
``vsmartcard-vpcd``) gives two readers, ``Virtual PCD 00 00`` and ``00 01``, whose
cards connect to 127.0.0.1 ports 35963 and 35964 (vpcd listens on all
interfaces; the tests only connect on loopback).

A test that takes pcscd away (the reader unplugged) calls :meth:`Pcscd.restart`,
which is only allowed when the fixture started pcscd itself.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from smartcard import scard

PCSCD: Final = shutil.which("pcscd") or "/usr/sbin/pcscd"
PID_FILE: Final = Path("/run/pcscd/pcscd.pid")
VPCD_CONFIG: Final = Path("/etc/reader.conf.d/vpcd")
READERS: Final = ("Virtual PCD 00 00", "Virtual PCD 00 01")
VPCD_PORTS: Final = (35963, 35964)
START_TIMEOUT_S: Final = 10.0


class PcscdError(RuntimeError):
    """pcscd could not be started or stopped as asked."""


def readers() -> list[str] | None:
    """pcscd's readers, or None when pcscd does not answer."""
    rc, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if rc != scard.SCARD_S_SUCCESS:
        return None
    try:
        rc, names = scard.SCardListReaders(ctx, [])
        return list(names) if rc == scard.SCARD_S_SUCCESS else []
    finally:
        scard.SCardReleaseContext(ctx)


def _running_pid() -> int | None:
    try:
        pid = int(PID_FILE.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


class Pcscd:
    """The pcscd the tests use; ``owned`` when the tests started it."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.owned = False
        self._starts = 0

    def start(self) -> None:
        if not VPCD_CONFIG.exists():
            raise PcscdError(f"{VPCD_CONFIG} is missing: install vsmartcard-vpcd (make setup)")
        if readers() is not None:
            return  # a pcscd answers (the machine's, or another test run's): use it, never stop it
        if _running_pid() is not None:
            raise PcscdError("a pcscd process is running but does not answer on /run/pcscd/pcscd.comm")
        self._starts += 1
        log = (self.log_dir / f"pcscd-{self._starts}.log").open("wb")
        # Stale files of a killed pcscd make a new one refuse to start; nobody is using them.
        with contextlib.suppress(OSError):
            Path("/run/pcscd/pcscd.comm").unlink()
        self.proc = subprocess.Popen([PCSCD, "--foreground"], stdout=log, stderr=subprocess.STDOUT)
        self.owned = True
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise PcscdError(f"pcscd exited with {self.proc.returncode}; see {log.name}")
            names = readers()
            if names is not None and set(READERS) <= set(names):
                return
            time.sleep(0.05)
        raise PcscdError(f"pcscd did not list the vpcd readers within {START_TIMEOUT_S} s")

    def stop(self) -> None:
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)

    def restart_after(self, seconds: float) -> None:
        """Stop pcscd (every reader disappears), wait, start it again."""
        if not self.owned:
            raise PcscdError("pcscd was already running: the tests do not stop a pcscd they did not start")
        self.stop()
        time.sleep(seconds)
        self.start()


@contextlib.contextmanager
def ensure_pcscd(log_dir: Path) -> Iterator[Pcscd]:
    daemon = Pcscd(log_dir)
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.stop()
