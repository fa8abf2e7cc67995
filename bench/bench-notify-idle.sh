#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench-notify-idle: what an idle avmigrate-notify costs a desktop session.
#
# The agent has no timers: with nothing happening on the buses it should not
# wake up at all. This starts the built agent (BUILD/agent/avmigrate-notify)
# on a private session bus of its own, connected to the system bus in
# $DBUS_SYSTEM_BUS_ADDRESS (so it runs inside tests/bus/avm-testenv, whose
# daemon is idle), lets it settle, then over BENCH_SECONDS (default 60)
# counts its wake-ups (voluntary + nonvoluntary context switches of all
# threads) and RSS, next to baselines measured in the same window:
#   - the session dbus-daemon (an idle event-loop process),
#   - a `sleep` process (the floor).
# Not a pass/fail test: prints the figures and the ratio agent/baseline.
#
#   tests/bus/avm-testenv --build build bash bench/bench-notify-idle.sh build
#
# Environment:
#   BENCH_SECONDS   length of the window (default 60)
#   BENCH_PID       measure this running agent instead (e.g. in a real
#                   session: pgrep -u "$USER" avmigrate-notify); then no
#                   private session bus is started and BASELINE_PID, if set,
#                   is the baseline
set -eu

SECONDS_WINDOW=${BENCH_SECONDS:-60}
if ! [[ $SECONDS_WINDOW =~ ^[0-9]+$ ]] || [[ $SECONDS_WINDOW -eq 0 ]]; then
        echo "BENCH_SECONDS must be a positive integer" >&2
        exit 1
fi
build=${1:-build}

switches() { # voluntary+nonvoluntary context switches of all threads of PID
        local total=0 f key v
        for f in /proc/"$1"/task/*/status; do
                while read -r key v _; do
                        case $key in
                        voluntary_ctxt_switches: | nonvoluntary_ctxt_switches:) total=$((total + v)) ;;
                        esac
                done 2>/dev/null <"$f" || true
        done
        echo "$total"
}
rss_kb() {
        local key v
        while read -r key v _; do
                [[ $key == VmRSS: ]] && { echo "$v"; return 0; }
        done </proc/"$1"/status
        echo 0
}
ratio() {
        awk -v a="$1" -v b="$2" 'BEGIN {
                if (b != 0) printf "%.2f\n", a / b
                else if (a == 0) print "n/a (neither woke up)"
                else print "n/a (baseline did not wake up)"
        }'
}
per_min() { awk -v a="$1" -v s="$SECONDS_WINDOW" 'BEGIN { printf "%.1f\n", a * 60 / s }'; }

tmp=$(mktemp -d /tmp/bench-notify.XXXXXX)
pids=()
cleanup() {
        local p
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
        rm -rf "$tmp"
}
trap cleanup EXIT

if [[ -n ${BENCH_PID:-} ]]; then
        AGENT=$BENCH_PID
        BASE=${BASELINE_PID:-}
        if [[ -z $BASE ]]; then
                echo "With BENCH_PID, set BASELINE_PID too (e.g. the session's dbus-daemon)" >&2
                exit 1
        fi
else
        agent="$build/agent/avmigrate-notify"
        [[ -x $agent ]] || { echo "$agent is not built" >&2; exit 1; }
        [[ -n ${DBUS_SYSTEM_BUS_ADDRESS:-} ]] || { echo "run inside tests/bus/avm-testenv" >&2; exit 1; }
        dbus-daemon --session --nofork --nopidfile --address="unix:path=$tmp/session.sock" >"$tmp/bus.log" 2>&1 &
        BASE=$!
        pids+=("$BASE")
        for _ in $(seq 1 100); do [[ -S $tmp/session.sock ]] && break; sleep 0.05; done
        DBUS_SESSION_BUS_ADDRESS="unix:path=$tmp/session.sock" "$agent" >"$tmp/agent.log" 2>&1 &
        AGENT=$!
        pids+=("$AGENT")
        sleep 2 # startup: connect, match rules, read the daemon's state
        kill -0 "$AGENT" 2>/dev/null || { echo "the agent exited:" >&2; cat "$tmp/agent.log" >&2; exit 1; }
fi

sleep $((SECONDS_WINDOW + 5)) &
FLOOR=$!
pids+=("$FLOOR")
sleep 0.2

a_rss0=$(rss_kb "$AGENT")
a_sw0=$(switches "$AGENT")
b_sw0=$(switches "$BASE")
f_sw0=$(switches "$FLOOR")
echo "bench-notify-idle: avmigrate-notify PID $AGENT, baseline PID $BASE ($(tr -d '\0' </proc/"$BASE"/comm))," \
        "floor PID $FLOOR (sleep); window ${SECONDS_WINDOW}s"
sleep "$SECONDS_WINDOW"
a_sw1=$(switches "$AGENT")
b_sw1=$(switches "$BASE")
f_sw1=$(switches "$FLOOR")
a_rss1=$(rss_kb "$AGENT")

a_w=$((a_sw1 - a_sw0))
b_w=$((b_sw1 - b_sw0))
f_w=$((f_sw1 - f_sw0))
printf '%-18s %10s %10s %12s %12s\n' "process" "wakeups" "per-min" "RSS-start/kB" "RSS-end/kB"
printf '%-18s %10d %10s %12d %12d\n' "avmigrate-notify" "$a_w" "$(per_min "$a_w")" "$a_rss0" "$a_rss1"
printf '%-18s %10d %10s %12s %12s\n' "baseline" "$b_w" "$(per_min "$b_w")" "-" "-"
printf '%-18s %10d %10s %12s %12s\n' "sleep" "$f_w" "$(per_min "$f_w")" "-" "-"
echo "RATIO wakeups avmigrate-notify/baseline: $(ratio "$a_w" "$b_w")"
echo "WAKEUPS avmigrate-notify: $a_w (0 is the design)"
