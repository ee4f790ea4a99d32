#!/usr/bin/env bash
# A private cupsd for the demo hall's A4 form printers (sourced by scripts/demo.sh).
#
# It runs from run/demo/cups with its own config (never the system's /etc/cups config) on
# 127.0.0.1:$DEMO_CUPS_PORT (default 18631), with one cups-pdf queue per pre-acceptance desk,
# hallgw_demo_desk01 .. 04. Printed forms land as PDFs in run/demo/forms/<queue>/. cups-pdf
# reads its per-queue config from /etc/cups (compiled in), so demo_cups_start writes
# /etc/cups/cups-pdf-hallgw_demo_deskNN.conf and demo_cups_stop removes them.
# Sets cups_pid and cups_server; prints a line and leaves cups_pid empty when cupsd is missing.

demo_cups_start() {
    local state=$1 port=${DEMO_CUPS_PORT:-18631} dir queue n
    cups_pid=
    cups_server=
    if ! command -v cupsd >/dev/null 2>&1 || [ ! -x /usr/lib/cups/backend/cups-pdf ]; then
        echo "demo: cupsd or cups-pdf is not installed (make setup): no form printers" >&2
        return 0
    fi
    dir=$(cd "$state" && pwd)/cups
    mkdir -p "$dir"/{etc,spool/tmp,cache,state,log} "$(cd "$state" && pwd)/forms"
    chmod 755 "$dir"
    chmod 710 "$dir/spool"
    chmod 1777 "$dir/spool/tmp"
    cat >"$dir/etc/cupsd.conf" <<CONF
# written by scripts/demo-cups.sh
LogLevel info
Listen 127.0.0.1:$port
Browsing No
WebInterface No
PreserveJobHistory Yes
<Location />
  Order allow,deny
  Allow 127.0.0.1
</Location>
<Location /admin>
  Order allow,deny
  Allow 127.0.0.1
</Location>
<Policy default>
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
CONF
    cat >"$dir/etc/cups-files.conf" <<CONF
# written by scripts/demo-cups.sh
ServerRoot $dir/etc
RequestRoot $dir/spool
TempDir $dir/spool/tmp
CacheDir $dir/cache
StateDir $dir/state
AccessLog $dir/log/access_log
ErrorLog $dir/log/error_log
PageLog $dir/log/page_log
Printcap $dir/state/printcap
SystemGroup root lpadmin
CONF
    cupsd -f -c "$dir/etc/cupsd.conf" -s "$dir/etc/cups-files.conf" >"$state/cupsd.log" 2>&1 &
    cups_pid=$!
    for n in $(seq 50); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.1
    done
    if ! kill -0 "$cups_pid" 2>/dev/null; then
        echo "demo: cupsd did not start (port $port taken? set DEMO_CUPS_PORT); see $dir/log/error_log" >&2
        cups_pid=
        return 0
    fi
    cups_server=127.0.0.1:$port
    for n in 01 02 03 04; do
        queue=hallgw_demo_desk$n
        mkdir -p "$(cd "$state" && pwd)/forms/$queue"
        printf 'Out %s\nAnonDirName %s\nGrp lpadmin\nTitlePref 1\nLabel 1\nLowerCase 0\n' \
            "$(cd "$state" && pwd)/forms/$queue" "$(cd "$state" && pwd)/forms/$queue" >"/etc/cups/cups-pdf-$queue.conf"
        lpadmin -h "$cups_server" -p "$queue" -v "cups-pdf:/$queue" \
            -P /usr/share/ppd/cups-pdf/CUPS-PDF_noopt.ppd -E 2>/dev/null
    done
    echo "demo: cupsd on $cups_server with queues hallgw_demo_desk01..04; forms land in $state/forms/"
}

demo_cups_stop() {
    rm -f /etc/cups/cups-pdf-hallgw_demo_desk0[1-4].conf
}
