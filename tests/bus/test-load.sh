#!/usr/bin/env bash
# Load: 200 concurrent clients (GetAll on the Manager, GetPlan, subscribed to
# every signal) and one stuck client (subscribed, calls sent, never reads)
# during a migration test-old -> test-new (avm-load-client). Checks that no
# signal is missed (every client got the sequence the bus monitor saw the
# daemon emit), that calls are answered with bounded latency, that the
# migration takes about as long as the same migration without clients in a
# fresh environment of the same run, and that the daemon's memory returns
# near where it was.
# shellcheck disable=SC2119 # lib.sh helpers with optional arguments
set -u
# shellcheck source=tests/bus/lib.sh
. "$(dirname "$0")/lib.sh"

client=${AVM_LOAD_CLIENT:?AVM_LOAD_CLIENT: the built avm-load-client}
clients=${AVM_LOAD_CLIENTS:-200}
stuck_calls=${AVM_LOAD_STUCK_CALLS:-100}
dir=$AVM_TESTENV_DIR
pid=$(avm-testenv daemon-pid)
now_ms() { echo $(($(date +%s%N) / 1000000)); }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"; }
asan() { grep -q 'libasan\|libclang_rt.asan' "/proc/$pid/maps"; }

# The daemon's first answers fill its caches: measure memory after them.
for _ in $(seq 1 20); do
        mcall GetPlan >/dev/null
        busctl call "$DEST" "$OBJ" org.freedesktop.DBus.Properties GetAll s "$IFACE" >/dev/null
done
rss_before=$(rss_kib)

# Baseline: the same migration with no clients, in a fresh environment of
# its own, timed the same way (Start until it ends); once before and once
# after the loaded run, the slower counts, so that other work on the
# machine during the loaded run is less likely to pass for a stall.
baseline_ms() {
        # shellcheck disable=SC2016 # expanded by the inner shell
        avm-testenv --build "$AVM_BUILD_DIR" bash -c '
                t0=$(($(date +%s%N) / 1000000))
                "$AVMIGRATECTL" start --wait >/dev/null || exit 1
                echo $(($(date +%s%N) / 1000000 - t0))'
}
base1_ms=$(baseline_ms)
check "baseline migration without clients completed" [ -n "$base1_ms" ]

busctl monitor --json=short "$DEST" >"$dir/monitor.json" 2>/dev/null &
mon=$!
"$client" -n "$clients" -p 100 -s "$stuck_calls" -t 150 >"$dir/load.out" 2>"$dir/load.err" &
cpid=$!
for _ in $(seq 1 600); do
        grep -q '^READY$' "$dir/load.out" && break
        kill -0 "$cpid" 2>/dev/null || break
        sleep 0.05
done
check "$clients clients subscribed" grep -q '^READY$' "$dir/load.out"

t0=$(now_ms)
start_job >/dev/null
wait_finished
load_ms=$(($(now_ms) - t0))
wait "$cpid"
crc=$?
sleep 0.5
kill "$mon" 2>/dev/null
wait "$mon" 2>/dev/null
cat "$dir/load.out" "$dir/load.err"

check "migration completed under load" [ "$(prop State)" = completed ]
check "every client received the same complete signal sequence, every call answered" [ "$crc" -eq 0 ]

# What the daemon emitted, as the bus monitor saw it, against what the clients got.
emitted=$(python3 - "$dir/monitor.json" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("type") != "signal" or m.get("member") not in ("StepStarted", "StepFinished", "JobRemoved"):
        continue
    d = m["payload"]["data"]
    if m["member"] == "StepStarted":
        print("signal StepStarted %d %s %d/%d" % tuple(d))
    else:
        print("signal %s %d %s %s" % (m["member"], d[0], d[1], d[2]))
PY
)
received=$(grep '^signal ' "$dir/load.out")
check "the clients' step signals are the ones the daemon emitted" [ -n "$emitted" ] && [ "$emitted" = "$received" ]
check "one StepFinished per step of the report" \
        [ "$(grep -c '^signal StepFinished' <<<"$emitted")" = "$(report_field 'sum(1 for s in r["steps"] if s["result"] != "pending")')" ]

base2_ms=$(baseline_ms)
check "second baseline migration completed" [ -n "$base2_ms" ]
base_ms=$((${base1_ms:-0} > ${base2_ms:-0} ? ${base1_ms:-0} : ${base2_ms:-0}))

unread=$(awk '/^stuck-unread-bytes/ { print $2 }' "$dir/load.out")
check "the stuck client really left data unread ($unread bytes)" [ "${unread:-0}" -ge 16384 ]
max_us=$(awk '/^latency-max-usec/ { print $2 }' "$dir/load.out")
max_ms=$((${max_us:-999999999} / 1000))
lag_us=$(awk '/^loop-lag-max-usec/ { print $2 }' "$dir/load.out")
lag_ms=$((${lag_us:-999999999} / 1000))
p99_us=$(awk '/^latency-p99-usec/ { print $2 }' "$dir/load.out")
p99_ms=$((${p99_us:-999999999} / 1000))
echo "migration: ${base1_ms} and ${base2_ms} ms without clients, ${load_ms} ms with $clients + 1 stuck; calls: p99 ${p99_ms} ms, slowest ${max_ms} ms; the clients' loop ran up to ${lag_ms} ms late"
# Bounded: no call waited for the stuck client. A stall would hold every
# reply until the bus gave up on it (its 25 s reply timeout): the slowest
# call must be well below that. The bulk of the calls (p99) within the
# whole unloaded migration + 5 s (3 s was once exceeded by 21 ms in CI,
# p99 3.8 s with the slowest call 4.6 s: a CPU starved by three booted
# containers and two compilers; a stall of 8 s stays red), plus the time
# the clients' own loop ran
# late (a starved machine: one loop serves all 200, and a reply it read late
# was not late from the daemon). Not the slowest call against that bound:
# on a 2-CPU machine shared with three booted containers one call waited
# 11.6 s (p99 3 s, the migration itself done in 1.4 s), which a stall of
# the daemon by the stuck client would not explain.
check "slowest call (${max_ms} ms) below the bus's 25 s reply timeout" [ "$max_ms" -lt 20000 ]
check "p99 latency (${p99_ms} ms) within the unloaded migration + 5 s + the clients' own lag (${lag_ms} ms)" \
        [ "$p99_ms" -le $((base_ms + 5000 + lag_ms)) ]
check "migration under load (${load_ms} ms) within 3x the unloaded one (${base_ms} ms) + 3 s" \
        [ "$load_ms" -le $((3 * base_ms + 3000)) ]

# Memory: the clients are gone; the daemon's RSS comes back near where it was.
sleep 1
mcall GetPlan >/dev/null
rss_after=$(rss_kib)
echo "daemon VmRSS: ${rss_before} KiB before, ${rss_after} KiB after"
if asan; then
        # ASan's quarantine keeps freed memory mapped; LeakSanitizer checks leaks at exit.
        ok "memory: not compared under ASan (LeakSanitizer checks at exit)"
else
        check "daemon VmRSS after (${rss_after} KiB) within 2 MiB of before (${rss_before} KiB)" \
                [ "$rss_after" -le $((rss_before + 2048)) ]
fi
check "daemon alive" daemon_alive
finish
