#!/usr/bin/env bash
# Make this checkout ready to run, test and check hallgw.
#
# Run from anywhere inside the repository; as root on a fresh Debian 12 machine it also
# installs the system packages. Idempotent and quick to re-run: every step is skipped
# when its result is already there.
#
#   1. apt: the system packages the daemon, the simulators and the tests use
#      (only as root, and only for packages that are missing);
#   2. .venv: created with the first python3 on PATH (>= 3.11), then
#      `pip install -e '.[dev]'`, redone only when what pyproject.toml says to install, the
#      interpreter or the checkout's path changed (stamp file .venv/.hallgw-stamp);
#   3. node_modules: the pinned @bufbuild/buf from package-lock.json (`npm ci`),
#      redone only when package-lock.json changed. Its postinstall script is skipped: it
#      only swaps the node launcher for the platform binary, and the launcher works as is.
#
# Environment: PYTHON=/path/to/python3.x picks another interpreter for a new .venv.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD

say() { printf 'bootstrap: %s\n' "$*"; }
die() { printf 'bootstrap: ERROR: %s\n' "$*" >&2; exit 1; }
trap 'rc=$?; [ $rc -eq 0 ] || printf "bootstrap: FAILED (exit %s) at line %s: %s\n" "$rc" "$LINENO" "$BASH_COMMAND" >&2' EXIT

# Prints the hash of its arguments' contents plus extra strings read from stdin.
fingerprint() { { cat "$@"; cat; } | sha256sum | cut -d' ' -f1; }

# ---------------------------------------------------------------------------------------
# 1. System packages
# ---------------------------------------------------------------------------------------
apt_packages=(
    socat              # serial-over-TCP bridges and pty pairs for simulated serial devices
    mosquitto          # the MQTT broker (kiosks, telemetry); tests start their own on 127.0.0.1
    mosquitto-clients  # mosquitto_sub/pub for engineers and debugging
    pcscd              # the PC/SC stack (pulls libccid and libusb)
    vsmartcard-vpcd    # pcscd's virtual reader driver: simulated smart cards plug in here
    libpcsclite-dev    # winscard.h: pyscard builds from source
    libusb-1.0-0       # pyusb's backend
    gcc                # builds pyscard
    systemd            # systemd-analyze for the unit-file tests
    git                # buf breaking compares with main
    libjpeg-turbo-progs  # djpeg: tests decode the simulated passport face (JPEG)
    libopenjp2-tools     # opj_decompress: ... and its JPEG 2000 variant
    cups                 # cupsd: the form printer's queue; tests start a private one on 127.0.0.1
    cups-client          # lpadmin, lpstat, cupsdisable: queue setup (docs/form-printer.md) and the tests
    cups-ipp-utils       # ipptool: engineers check a queue by hand
    printer-driver-cups-pdf  # the cups-pdf backend: a queue that prints to PDF files (tests, demo)
    libcups2-dev         # cups/cups.h: pycups builds from source
    poppler-utils        # pdftotext, pdffonts: tests read the printed form back
    fonts-wqy-microhei   # the form's CJK font (TrueType outlines, which reportlab can embed)
)
# venv and ensurepip are split out of Debian's python; only needed when python3 lacks them.
python_for_venv=${PYTHON:-$(command -v python3 || true)}
if [ -n "$python_for_venv" ] && ! "$python_for_venv" -c 'import ensurepip, venv' 2>/dev/null; then
    apt_packages+=(python3-venv)
fi
# npm is bundled with some nodejs builds: only ask apt when the commands are missing.
command -v node >/dev/null 2>&1 || apt_packages+=(nodejs)
command -v npm >/dev/null 2>&1 || apt_packages+=(npm)

missing=()
for pkg in "${apt_packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = installed ] || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
    say "system packages: all present"
elif [ "$(id -u)" -ne 0 ]; then
    say "system packages missing (run this script as root to install them): ${missing[*]}"
else
    say "apt-get install ${missing[*]}"
    apt_log=$(mktemp)
    if ! { DEBIAN_FRONTEND=noninteractive apt-get update -q \
           && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; } \
           >"$apt_log" 2>&1; then
        cat "$apt_log" >&2
        rm -f "$apt_log"
        die "apt-get failed"
    fi
    rm -f "$apt_log"
fi

# ---------------------------------------------------------------------------------------
# 2. Python virtual environment
# ---------------------------------------------------------------------------------------
venv=$root/.venv
if [ ! -x "$venv/bin/python" ]; then
    [ -n "$python_for_venv" ] || die "no python3 on PATH"
    "$python_for_venv" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || die "$python_for_venv is $("$python_for_venv" --version 2>&1); hallgw needs Python >= 3.11"
    say "creating .venv with $python_for_venv ($("$python_for_venv" --version 2>&1))"
    "$python_for_venv" -m venv "$venv"
fi

# What the install depends on: the interpreter, the checkout's path (the editable install
# points there) and the parts of pyproject.toml that say what to install. Tool settings
# (ruff, mypy, pytest, ...) change often and need no reinstall.
install_inputs() {
    "$venv/bin/python" - "$root" <<'PY'
import json, sys, tomllib
with open("pyproject.toml", "rb") as f:
    config = tomllib.load(f)
relevant = {
    "root": sys.argv[1],
    "python": sys.version,
    "build-system": config.get("build-system"),
    "project": config.get("project"),
    "hatch": config.get("tool", {}).get("hatch"),
}
print(json.dumps(relevant, sort_keys=True))
PY
}
stamp=$venv/.hallgw-stamp
want=$(install_inputs | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    say "python packages: up to date"
else
    say "pip install -e '.[dev]' (takes a minute on a fresh machine)"
    pip_log=$(mktemp)
    if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check -e '.[dev]' >"$pip_log" 2>&1; then
        cat "$pip_log" >&2
        rm -f "$pip_log"
        die "pip install failed"
    fi
    # Surface pip's own warnings, minus the machine's harmless notes about local indexes.
    grep -v -e "Location 'file://.*' is ignored" -e '^\s*$' "$pip_log" >&2 || true
    rm -f "$pip_log"
    printf '%s\n' "$want" >"$stamp"
fi

# ---------------------------------------------------------------------------------------
# 3. Node tools: the pinned buf
# ---------------------------------------------------------------------------------------
node_stamp=node_modules/.hallgw-stamp
want_node=$(printf '%s\n' "$(node --version)" | fingerprint package-lock.json)
if [ -x node_modules/.bin/buf ] && [ -f "$node_stamp" ] && [ "$(cat "$node_stamp")" = "$want_node" ]; then
    say "node packages: up to date"
else
    say "npm ci (buf $(sed -n 's/.*"@bufbuild\/buf": "\(.*\)".*/\1/p' package.json | head -n1))"
    npm_log=$(mktemp)
    if ! npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >"$npm_log" 2>&1; then
        cat "$npm_log" >&2
        rm -f "$npm_log"
        die "npm ci failed"
    fi
    rm -f "$npm_log"
    node_modules/.bin/buf --version >/dev/null || die "buf does not run after npm ci"
    printf '%s\n' "$want_node" >"$node_stamp"
fi

say "ready ($("$venv/bin/python" --version), buf $(node_modules/.bin/buf --version))"
