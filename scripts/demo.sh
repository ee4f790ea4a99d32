#!/usr/bin/env bash
# Run the virtual hall and the real daemon against it (make demo).
#
# hallsim starts the simulated devices in the background and writes the daemon config that
# points at them; once its ready file appears, hallgwd runs with that config and its log is
# shown here. Ctrl-C (or SIGTERM to this script) stops both and waits for them, and so does
# either of them exiting: nothing is left running.
#
# Everything lives in run/demo/ (git-ignored); hallsim's own output goes to
# run/demo/hallsim.log. Environment: DEMO_READY_TIMEOUT (seconds, default 60).
set -euo pipefail

cd "$(dirname "$0")/.."
state=run/demo
ready=$state/ready.json
config=$state/hallgw.toml
timeout=${DEMO_READY_TIMEOUT:-60}

for tool in hallsim hallgwd; do
    [ -x ".venv/bin/$tool" ] || { echo "demo: .venv/bin/$tool is missing: run make setup (or it is not written yet)" >&2; exit 1; }
done

mkdir -p "$state"
rm -f "$ready"

# Job control gives each background job its own process group, so the whole tree under
# hallsim (broker, pcscd, socat, ...) and under hallgwd can be signalled at once, while
# the terminal's Ctrl-C reaches only this script, which then stops them in order.
set -m
sim_pid=
gwd_pid=
mqtt_pid=
pcscd_pid=
cups_pid=
cups_server=
mqtt_port=${DEMO_MQTT_PORT:-18830}
# shellcheck source=scripts/demo-cups.sh
. scripts/demo-cups.sh

stop() {
    trap - EXIT INT TERM HUP
    local pid
    # The daemon first, so it sees its devices go away as a shutdown, not as faults.
    for pid in $gwd_pid $sim_pid $mqtt_pid $pcscd_pid $cups_pid; do
        kill -TERM -- "-$pid" 2>/dev/null || true
        # Reap it, then make sure nothing of its group outlives it.
        wait "$pid" 2>/dev/null || true
        kill -KILL -- "-$pid" 2>/dev/null || true
    done
    demo_cups_stop
}
trap stop EXIT
trap 'echo; echo "demo: stopping"; exit 130' INT
trap 'echo "demo: stopping"; exit 143' TERM HUP

# pcscd for the document chip readers (vpcd slots); one per machine: use a running one.
if pgrep -x pcscd >/dev/null 2>&1; then
    echo "demo: using the running pcscd for the document readers"
elif command -v pcscd >/dev/null 2>&1; then
    rm -f /run/pcscd/pcscd.comm 2>/dev/null || true  # left by a killed pcscd; nobody is using it
    pcscd --foreground >"$state/pcscd.log" 2>&1 &
    pcscd_pid=$!
    sleep 0.3
    if kill -0 "$pcscd_pid" 2>/dev/null; then
        echo "demo: pcscd started for the document readers (log: $state/pcscd.log)"
    else
        echo "demo: pcscd did not start (see $state/pcscd.log): the document readers stay offline" >&2
        pcscd_pid=
    fi
else
    echo "demo: pcscd is not installed (make setup): the document readers stay offline" >&2
fi

# A local broker for the kiosks and for telemetry, as the hall's and the provincial ones would be.
if command -v mosquitto >/dev/null 2>&1; then
    cat >"$state/mosquitto.conf" <<CONF
listener $mqtt_port 127.0.0.1
allow_anonymous true
persistence false
log_dest stderr
set_tcp_nodelay true
max_queued_messages 0
CONF
    [ "$(id -u)" -eq 0 ] && echo "user root" >>"$state/mosquitto.conf"
    mosquitto -c "$state/mosquitto.conf" >"$state/mosquitto.log" 2>&1 &
    mqtt_pid=$!
    sleep 0.3
    if ! kill -0 "$mqtt_pid" 2>/dev/null; then
        echo "demo: mosquitto did not start (port $mqtt_port taken? set DEMO_MQTT_PORT); its log:" >&2
        tail -n 5 "$state/mosquitto.log" >&2
        mqtt_pid=
    fi
fi
[ -n "$mqtt_pid" ] || { echo "demo: the kiosks need mosquitto (make setup installs it)" >&2; exit 1; }

# A CUPS server for the pre-acceptance desks' A4 form printers (cups-pdf queues).
demo_cups_start "$state"
[ -n "$cups_server" ] || { echo "demo: the desks' form printers need cupsd (make setup installs it)" >&2; exit 1; }
echo "demo: starting the virtual hall (log: $state/hallsim.log)"
.venv/bin/hallsim run --state-dir "$state" --config-out "$config" --ready-file "$ready" \
    --broker "mqtt://127.0.0.1:$mqtt_port" --cups "$cups_server" >"$state/hallsim.log" 2>&1 &
sim_pid=$!

deadline=$((SECONDS + timeout))
until [ -s "$ready" ]; do
    if ! kill -0 "$sim_pid" 2>/dev/null; then
        rc=0
        wait "$sim_pid" || rc=$?
        sim_pid=
        echo "demo: hallsim exited (status $rc) before it was ready; its log:" >&2
        tail -n 40 "$state/hallsim.log" >&2
        exit 1
    fi
    if [ $SECONDS -ge $deadline ]; then
        echo "demo: hallsim was not ready after ${timeout}s; its log:" >&2
        tail -n 40 "$state/hallsim.log" >&2
        exit 1
    fi
    sleep 0.1
done
printf '\n[telemetry]\nbroker = "mqtt://127.0.0.1:%s"\n' "$mqtt_port" >>"$config"
echo "demo: telemetry to mqtt://127.0.0.1:$mqtt_port (hallctl telemetry tail --broker mqtt://127.0.0.1:$mqtt_port)"
echo "demo: virtual hall ready ($ready); starting hallgwd --config $config (Ctrl-C stops everything)"

# In the background too (its own group), but its output comes here and the script waits
# for it: as long as the daemon runs, the demo runs.
.venv/bin/hallgwd --config "$config" &
gwd_pid=$!

rc=0
wait -n "$gwd_pid" "$sim_pid" || rc=$?
if ! kill -0 "$gwd_pid" 2>/dev/null; then
    echo "demo: hallgwd exited (status $rc)"
else
    echo "demo: hallsim exited (status $rc); stopping hallgwd" >&2
    rc=1
fi
exit "$rc"
