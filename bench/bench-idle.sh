#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench-idle: what an idle avmigrated costs the desktop.
#
# Finds the process owning org.avmigrate.Migrate1 on the system bus
# ($DBUS_SYSTEM_BUS_ADDRESS is honoured, so this runs inside
# tests/bus/avm-testenv), then for BENCH_SECONDS (default 60) measures:
#   - RSS (VmRSS, at start and end),
#   - wake-ups: voluntary + nonvoluntary context switches, summed over all
#     threads (/proc/PID/task/*/status), delta over the window,
# and measures the same figures for baselines in the same run:
#   - the bus daemon (owner of org.freedesktop.DBus), an idle event-loop
#     daemon on the same machine at the same time,
#   - a `sleep` process (the floor: should be ~1 wake-up).
# Prints the figures and the ratios daemon/baseline. Not a pass/fail test.
#
# Environment:
#   BENCH_SECONDS   length of the window (default 60)
#   BENCH_PID       measure this PID instead of looking up the bus name
#   BASELINE_PID    use this PID as the baseline instead of the bus daemon
#
# Nothing talks to the daemon during the window: the PIDs are looked up
# before it starts. Threads that exit during the window and worker
# processes are not counted (an idle daemon should have neither).

set -eu

SECONDS_WINDOW=${BENCH_SECONDS:-60}
if ! [[ $SECONDS_WINDOW =~ ^[0-9]+$ ]] || [[ $SECONDS_WINDOW -eq 0 ]]; then
        echo "BENCH_SECONDS must be a positive integer" >&2
        exit 1
fi

bus_pid() {
        # busctl prints "u 1234"
        local out
        out=$(busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
                GetConnectionUnixProcessID s "$1") || return 1
        echo "${out#u }"
}

# switches PID: voluntary+nonvoluntary context switches of all threads
switches() {
        local total=0 f v
        for f in /proc/"$1"/task/*/status; do
                while read -r key v _; do
                        case $key in
                        voluntary_ctxt_switches: | nonvoluntary_ctxt_switches:)
                                total=$((total + v))
                                ;;
                        esac
                done 2>/dev/null <"$f" || true
        done
        echo "$total"
}

# rss_kb PID
rss_kb() {
        local key v
        while read -r key v _; do
                if [[ $key == VmRSS: ]]; then
                        echo "$v"
                        return 0
                fi
        done </proc/"$1"/status
        echo 0
}

threads() {
        local n=0
        for _ in /proc/"$1"/task/*; do
                n=$((n + 1))
        done
        echo "$n"
}

# ratio A B: A/B with two decimals; says so when B is 0
ratio() {
        awk -v a="$1" -v b="$2" 'BEGIN {
                if (b != 0) printf "%.2f\n", a / b
                else if (a == 0) print "n/a (neither woke up)"
                else print "n/a (baseline did not wake up)"
        }'
}

per_min() {
        awk -v a="$1" -v s="$SECONDS_WINDOW" 'BEGIN { printf "%.1f\n", a * 60 / s }'
}

DAEMON=${BENCH_PID:-$(bus_pid org.avmigrate.Migrate1)} || {
        echo "Cannot find the owner of org.avmigrate.Migrate1 (is the daemon running on \$DBUS_SYSTEM_BUS_ADDRESS?)" >&2
        exit 1
}
BASE=${BASELINE_PID:-$(bus_pid org.freedesktop.DBus)} || {
        echo "Cannot find the bus daemon's PID; set BASELINE_PID" >&2
        exit 1
}
for p in "$DAEMON" "$BASE"; do
        if [[ ! -r /proc/$p/status ]]; then
                echo "Cannot read /proc/$p/status" >&2
                exit 1
        fi
done

sleep $((SECONDS_WINDOW + 5)) &
FLOOR=$!
trap 'kill "$FLOOR" 2>/dev/null || true' EXIT
sleep 0.2

d_rss0=$(rss_kb "$DAEMON")
b_rss0=$(rss_kb "$BASE")
d_sw0=$(switches "$DAEMON")
b_sw0=$(switches "$BASE")
f_sw0=$(switches "$FLOOR")

echo "bench-idle: avmigrated PID $DAEMON ($(threads "$DAEMON") threads), baseline PID $BASE" \
        "($(tr -d '\0' </proc/"$BASE"/comm)), floor PID $FLOOR (sleep); window ${SECONDS_WINDOW}s"
sleep "$SECONDS_WINDOW"

d_sw1=$(switches "$DAEMON")
b_sw1=$(switches "$BASE")
f_sw1=$(switches "$FLOOR")
d_rss1=$(rss_kb "$DAEMON")
b_rss1=$(rss_kb "$BASE")

d_w=$((d_sw1 - d_sw0))
b_w=$((b_sw1 - b_sw0))
f_w=$((f_sw1 - f_sw0))

printf '%-12s %10s %10s %12s %12s\n' "process" "wakeups" "per-min" "RSS-start/kB" "RSS-end/kB"
printf '%-12s %10d %10s %12d %12d\n' "avmigrated" "$d_w" "$(per_min "$d_w")" "$d_rss0" "$d_rss1"
printf '%-12s %10d %10s %12d %12d\n' "baseline" "$b_w" "$(per_min "$b_w")" "$b_rss0" "$b_rss1"
printf '%-12s %10d %10s %12s %12s\n' "sleep" "$f_w" "$(per_min "$f_w")" "-" "-"
echo "RATIO wakeups avmigrated/baseline: $(ratio "$d_w" "$b_w")"
echo "RATIO RSS avmigrated/baseline: $(ratio "$d_rss1" "$b_rss1")"
echo "RSS growth over the window: $((d_rss1 - d_rss0)) kB"
