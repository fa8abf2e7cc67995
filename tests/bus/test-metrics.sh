#!/usr/bin/env bash
# Prometheus textfile metrics (daemon/metrics.c) read back through the real
# node_exporter (Debian's prometheus-node-exporter, textfile collector only,
# on a loopback port): the state before, a postponement, a forced migration
# and the state after; node_exporter must find no format error; switched off,
# the file goes away.
# shellcheck disable=SC2119 # lib.sh helpers with optional arguments
set -u
# shellcheck source=tests/bus/lib.sh
. "$(dirname "$0")/lib.sh"

exporter=$(command -v prometheus-node-exporter || command -v node_exporter) ||
        { echo "prometheus-node-exporter missing (tools/install-deps)"; exit 1; }
text="$AVM_TESTENV_DIR/textfile"
mkdir -p "$text"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$exporter" --web.listen-address="127.0.0.1:$port" --collector.disable-defaults --collector.textfile \
        --collector.textfile.directory="$text" >"$AVM_TESTENV_DIR/exporter.log" 2>&1 </dev/null &
exporter_pid=$!
echo "$exporter_pid" >"$AVM_TESTENV_DIR/exporter.pid" # avm-testenv's cleanup kills it

# shellcheck disable=SC2317 # called through check
scrape() { curl -sf "http://127.0.0.1:$port/metrics"; }
# wait_metric LINE: until a scrape has exactly this line (10 s).
# shellcheck disable=SC2317 # called through check
wait_metric() {
        for _ in $(seq 1 100); do
                scrape 2>/dev/null | grep -qxF "$1" && return 0
                sleep 0.1
        done
        echo "no metric line '$1' in:" >&2
        scrape | grep avmigrate >&2
        return 1
}
# shellcheck disable=SC2317 # called through check
has_metric() { scrape | grep -qxF "$1"; }

check "off by default: no file" [ ! -e "$text/avmigrate.prom" ]
# Stop-first handover: a real gap to compare.
set_config "[Manager]
AllowOverlap=no
PrometheusTextfile=yes
PrometheusTextfileDirectory=$text"

check "pending, as node_exporter sees it" wait_metric 'avmigrate_state{state="pending"} 1'
check "the other states are 0" has_metric 'avmigrate_state{state="completed"} 0'
check "protected 1" has_metric 'avmigrate_protected 1'
check "deferrals left 3" has_metric 'avmigrate_deferrals_left 3'
check "no job result before the first job" not contains "$(scrape)" 'avmigrate_job_result'
check "HELP and TYPE lines" contains "$(scrape)" '^# TYPE avmigrate_last_gap_seconds gauge$'

mcall Postpone t 3600000000 >/dev/null
check "a postponement counts" wait_metric 'avmigrate_deferrals_used 1'
check "... and leaves 2" has_metric 'avmigrate_deferrals_left 2'

start_job 1 force b true >/dev/null
wait_finished
check "completed" wait_metric 'avmigrate_state{state="completed"} 1'
check "job result completed" has_metric 'avmigrate_job_result{result="completed"} 1'
check "job result failed 0" has_metric 'avmigrate_job_result{result="failed"} 0'
check "last job id 1" has_metric 'avmigrate_last_job_id 1'
check "protected after" has_metric 'avmigrate_protected 1'
gap_usec=$(prop ProtectionGapUSec)
gap=$(scrape | sed -n 's/^avmigrate_last_gap_seconds //p')
# node_exporter prints the value its own way (0.25, 0, 1.5e-05): compared as numbers.
check "there was a gap" [ "$gap_usec" -gt 0 ]
check "last gap ${gap:-none} s = ProtectionGapUSec $gap_usec µs" \
        python3 -c "import sys; sys.exit(abs(float('${gap:-nan}') * 1e6 - $gap_usec) > 1)"
finished=$(scrape | sed -n 's/^avmigrate_last_job_finished_timestamp_seconds //p')
check "finished timestamp is now" python3 -c "import sys, time; sys.exit(abs(time.time() - float('${finished:-0}')) > 120)"
check "node_exporter found no format error" has_metric 'node_textfile_scrape_error 0'
check "no temporary file left" [ "$(ls "$text")" = avmigrate.prom ]
check "file mode 0644 (node_exporter's own user reads it)" [ "$(stat -c %a "$text/avmigrate.prom")" = 644 ]

set_config "[Manager]
PrometheusTextfile=no
PrometheusTextfileDirectory=$text"
for _ in $(seq 1 50); do [ -e "$text/avmigrate.prom" ] || break; sleep 0.1; done
check "switched off: the file is gone" [ ! -e "$text/avmigrate.prom" ]
check "... and so are the metrics" not contains "$(scrape)" 'avmigrate_state'

kill "$exporter_pid" 2>/dev/null
wait "$exporter_pid" 2>/dev/null
finish
