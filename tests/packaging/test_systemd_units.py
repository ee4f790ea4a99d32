"""The files in systemd/ are valid for the systemd they target and the unit stays hardened.

systemd-analyze only warns (exit 0) on unknown keys and bad values, so any output on stderr
counts as a failure. No systemd needs to run as PID 1: verify, security --offline,
sysusers and tmpfiles all work on an alternate root.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

SYSTEMD = Path(__file__).resolve().parents[2] / "systemd"
UNIT = SYSTEMD / "hallgwd.service"
#: Overall exposure (0-100, as `systemd-analyze security --threshold`) the unit must not exceed.
#: The unit scores 1.5 ("OK"); the margin allows one small relaxation, a real weakening fails.
EXPOSURE_THRESHOLD = 20


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: run scripts/bootstrap.sh (it installs the Debian package systemd)")
    return path


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def unit_copy(tmp_path: Path) -> Path:
    """The unit with ExecStart pointed at a binary that exists here (verify checks it)."""
    text = UNIT.read_text(encoding="utf-8")
    assert "ExecStart=/usr/bin/hallgwd --config /etc/hallgw/hallgw.toml\n" in text
    stand_in = shutil.which("true")
    assert stand_in is not None
    copy = tmp_path / UNIT.name
    copy.write_text(text.replace("ExecStart=/usr/bin/hallgwd ", f"ExecStart={stand_in} "), encoding="utf-8")
    return copy


def test_unit_verifies_without_any_warning(unit_copy: Path) -> None:
    result = _run(_tool("systemd-analyze"), "verify", "--man=no", "--recursive-errors=no", str(unit_copy))
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", f"systemd-analyze verify complained:\n{result.stderr}"


def test_unit_exposure_stays_low(unit_copy: Path) -> None:
    result = _run(
        _tool("systemd-analyze"), "security", "--offline=yes", f"--threshold={EXPOSURE_THRESHOLD}", str(unit_copy)
    )
    overall = re.search(r"Overall exposure level for \S+: ([\d.]+)", result.stdout)
    assert overall, result.stdout + result.stderr
    assert result.returncode == 0, (
        f"exposure {overall.group(1)} is above {EXPOSURE_THRESHOLD / 10}: the unit lost hardening\n{result.stdout}"
    )


def test_unit_keeps_its_contract_with_the_daemon() -> None:
    """Settings the daemon and the operations guide rely on."""
    settings = [line for line in UNIT.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    for expected in (
        "Type=notify",
        "NotifyAccess=main",
        "WatchdogSec=30s",
        "User=hallgw",
        "KillSignal=SIGTERM",
        "TimeoutStopSec=15",
        "StateDirectory=hallgw",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "SupplementaryGroups=dialout",
        "DeviceAllow=char-ttyUSB rw",
        "DeviceAllow=char-ttyACM rw",
        "DeviceAllow=char-usb_device rw",
    ):
        assert expected in settings


def test_sysusers_creates_the_user_in_dialout(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    result = _run(_tool("systemd-sysusers"), f"--root={tmp_path}", str(SYSTEMD / "hallgw.sysusers"))
    assert result.returncode == 0, result.stderr
    passwd = (tmp_path / "etc" / "passwd").read_text(encoding="utf-8")
    group = (tmp_path / "etc" / "group").read_text(encoding="utf-8")
    assert re.search(r"^hallgw:x:\d+:\d+:[^:]*:/var/lib/hallgw:", passwd, re.MULTILINE), passwd
    assert re.search(r"^dialout:x:\d+:(.*,)?hallgw(,.*)?$", group, re.MULTILINE), group


def test_tmpfiles_creates_config_and_state_dirs(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    users = _run(_tool("systemd-sysusers"), f"--root={tmp_path}", str(SYSTEMD / "hallgw.sysusers"))
    assert users.returncode == 0, users.stderr
    result = _run(_tool("systemd-tmpfiles"), f"--root={tmp_path}", "--create", str(SYSTEMD / "hallgw.tmpfiles"))
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr
    for path in ("etc/hallgw", "var/lib/hallgw"):
        mode = (tmp_path / path).stat().st_mode & 0o777
        assert mode == 0o750, f"/{path} has mode {mode:o}"


# One udev key: NAME or NAME{attr}, an operator, a double-quoted value.
_UDEV_PAIR = re.compile(r'\s*[A-Z_]+(\{[^}]+\})?\s*(==|!=|\+=|-=|:=|=)\s*"[^"]*"\s*')


def test_udev_rules_parse() -> None:
    """A light syntax check (udevadm verify arrives only with systemd 254)."""
    rules = [
        (number, line)
        for number, line in enumerate((SYSTEMD / "70-hallgw.rules").read_text(encoding="utf-8").splitlines(), 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert rules
    for number, line in rules:
        pairs = line.split('",')
        pairs = [p + '"' for p in pairs[:-1]] + pairs[-1:]
        bad = [p for p in pairs if not _UDEV_PAIR.fullmatch(p)]
        assert not bad, f"70-hallgw.rules:{number}: cannot parse {bad}"
        assert "==" in line, f"70-hallgw.rules:{number}: a rule without a match applies to every device"
        assert "SUBSYSTEM==" in line, f"70-hallgw.rules:{number}: match a SUBSYSTEM"
