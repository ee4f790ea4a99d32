#!/usr/bin/env bash
# Static checks of the whole tree (make check): lint, format, types, import contracts,
# the gRPC API (buf lint, buf breaking against main) and generated-code drift.
#
# Every step runs even when an earlier one fails, so one run shows every problem; the
# summary at the end lists each step's result and time, and the exit status is 1 when
# any step failed. Expects `make setup` (scripts/bootstrap.sh) to have run.
set -euo pipefail

cd "$(dirname "$0")/.."
bin=.venv/bin
buf=node_modules/.bin/buf
packages=(proto/hallgw_api protocols/hallgw_protocols daemon/hallgw_daemon simulators/hallgw_simulators)

results=()
failed=0

# step NAME COMMAND...: runs one check, records its result and wall time.
step() {
    local name=$1; shift
    printf '\n=== %s\n' "$name"
    local start=$EPOCHREALTIME rc=0
    "$@" || rc=$?
    local secs
    secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
    if [ $rc -eq 0 ]; then
        results+=("$(printf 'ok    %5ss  %s' "$secs" "$name")")
    else
        results+=("$(printf 'FAIL  %5ss  %s (exit %s)' "$secs" "$name" "$rc")")
        failed=1
    fi
}

# The API as it stands on main, extracted from git so that this works in a worktree, a
# shallow clone or a detached checkout alike. Skips (successfully) where main has no API.
buf_breaking() {
    local ref
    for ref in main origin/main; do
        if git rev-parse --verify --quiet "$ref^{commit}" >/dev/null; then
            break
        fi
        ref=
    done
    if [ -z "$ref" ]; then
        echo "skipped: no branch main in this repository"
        return 0
    fi
    if [ -z "$(git ls-tree -r --name-only "$ref" -- proto/hallgw_api/v1 | grep '\.proto$' || true)" ]; then
        echo "skipped: $ref has no proto/hallgw_api/v1/*.proto yet"
        return 0
    fi
    local against rc=0
    against=$(mktemp -d)
    git archive "$ref" proto | tar -x -C "$against"
    # Judge main's files by today's rules: main's own buf.yaml may predate them.
    cp buf.yaml "$against/"
    echo "against $ref ($(git rev-parse --short "$ref"))"
    "$buf" breaking --against "$against" || rc=$?
    rm -rf "$against"
    return $rc
}

step "ruff check" "$bin/ruff" check .
step "ruff format --check" "$bin/ruff" format --check .
step "mypy --strict" "$bin/mypy" --strict "${packages[@]}" tests
step "import contracts (lint-imports)" "$bin/lint-imports" --no-cache --no-logo
step "buf lint" "$buf" lint
step "buf breaking (against main)" buf_breaking
step "generated gRPC code matches the .proto (drift test)" \
    "$bin/python" -m pytest -q -p no:cacheprovider tests/packaging/test_proto_drift.py

printf '\n=== summary\n'
printf '%s\n' "${results[@]}"
if [ $failed -ne 0 ]; then
    echo "make check: FAILED" >&2
    exit 1
fi
echo "make check: all passed"
