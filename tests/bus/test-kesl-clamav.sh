#!/usr/bin/env bash
# Simulated Kaspersky (KESL simulator, real fanotify blocker) → real ClamAV
# (clamd + clamonacc with a signature database generated at run time).
# Both are blocking fanotify scanners, so AllowOverlap=auto hands over
# stop-first: the report must show a measured gap > 0 and EICAR blocked on
# access before, during (outside the gap) and after. Root only.
#
# The outside witness (tests/fixtures/avm-witness) runs as the unprivileged
# user of the scenario and reads an EICAR file in that user's Downloads —
# a file no probe touches — every 5 ms; every moment it could read it must
# lie inside a gap window the daemon reported (tests/bus/witness.py).
# Argument "kill-in-gap": the daemon is killed with SIGKILL inside the
# handover gap and started again (as systemd would), and the same holds.
# Argument "no-prevention": the replacement passes on demand but never blocks
# on access (clamonacc with prevention off, tests/fixtures/no-prevention):
# the handover fails, the old product protects again, and the gap the
# witness saw is reported (non-zero) and lies inside the windows.
# shellcheck disable=SC2119 # lib.sh helpers with optional arguments
set -u
here=$(dirname "$0")
# shellcheck source=tests/bus/lib.sh
. "$here/lib.sh"

if [ "$(id -u)" != 0 ]; then
        echo "SKIP: needs root (fanotify)"
        exit 77
fi
for p in /usr/sbin/clamd /usr/sbin/clamonacc; do
        [ -x "$p" ] || { echo "SKIP: $p is not installed"; exit 77; }
done

pkgdb="$AVM_TESTENV_DIR/state/test-packages"
clamav_state="$AVM_TESTENV_DIR/state/plugins/clamav"
sim_field() { "$KC_AVM_SIM" kesl show | python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
# shellcheck disable=SC2317 # called through check
pid_is() { # pid_is PIDFILE COMM: the pidfile names a live process called COMM
        local pid
        pid=$(cat "$1" 2>/dev/null) || return 1
        [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] &&
                ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null
}
# shellcheck disable=SC2317 # called through check
clean_file_readable() {
        local f="$KC_HOME/clean-$$.txt"
        echo "just a clean file" >"$f" && cat "$f" >/dev/null
        local rc=$?
        rm -f "$f"
        return "$rc"
}

# shellcheck source=tests/bus/scenario-kesl-clamav.sh
if ! . "$here/scenario-kesl-clamav.sh"; then
        not_ok "scenario set up"
        finish
fi
ok "scenario set up (simulated KESL protecting, ClamAV test database, daemon restarted)"
mode=${1:-normal}
if [ "$mode" = no-prevention ]; then
        # The verification is meant to time out here: not after a minute.
        printf '[Manager]\nVerifyTimeoutSec=15\n[Product clamav]\nClamonacc=%s\n' "$(cd "$here/../fixtures/no-prevention" && pwd)/clamonacc" \
                >"$AVM_TESTENV_DIR/conf/avmigrate.conf.d/70-no-prevention.conf"
        avm-testenv daemon-stop && avm-testenv daemon-start
fi

# ---- the outside witness ----
witness_file="$KC_HOME/Downloads/eicar-witness.com"
witness_log="$AVM_TESTENV_DIR/witness.log"
# A file left by an earlier run holds EICAR already: opening it to rewrite
# it would be denied by the protection; unlinking is not an open.
rm -f "$witness_file"
"$KC_AVM_SIM" eicar "$witness_file" && chown "$KC_USER:" "$witness_file" && chmod 0600 "$witness_file"
trap 'rm -f "$witness_file"; kc_cleanup' EXIT
: >"$witness_log" && chown "$KC_USER:" "$witness_log" # the witness writes it as the user
setpriv --reuid="$(id -u "$KC_USER")" --regid="$(id -g "$KC_USER")" --clear-groups \
        "$AVM_BUILD_DIR/tests/fixtures/avm-witness" --file "$witness_file" --log "$witness_log" --interval-ms 5 &
witness_pid=$!
sleep 0.5
check "witness: EICAR in the user's Downloads denied to the user before" [ "$(tail -n 1 "$witness_log" | cut -d' ' -f4)" = denied ]

# ---- before ----
check "before: Discouraged/Replacement = kaspersky-kesl/clamav" [ "$(prop Discouraged)/$(prop Replacement)" = kaspersky-kesl/clamav ]
check "before: State pending" [ "$(prop State)" = pending ]
check "before: Protected" [ "$(prop Protected)" = true ]
check "before: simulated KESL protecting" [ "$(sim_field protecting)" = True ]
check "before: EICAR blocked on access in the user's home" [ "$(kc_probe_read)" = blocked ]
check "before: a clean file reads in the user's home" clean_file_readable
check "before: clamav-daemon not installed" [ ! -e "$pkgdb/clamav-daemon" ]
check "before: clamonacc not running" not pid_is "$clamav_state/clamonacc.pid" clamonacc

# ---- the migration ----
t0=$(date +%s.%N)
out=$(start_job)
check "Start returns job 1" contains "$out" '^to 1 '
if [ "$mode" = kill-in-gap ]; then
        for _ in $(seq 1 1200); do [ -e "$AVM_TESTENV_DIR/state/gap.json" ] && break; sleep 0.01; done
        check "kill-in-gap: gap.json written before the old product stops" [ -e "$AVM_TESTENV_DIR/state/gap.json" ]
        avm-testenv daemon-kill
        avm-testenv daemon-start
        check "kill-in-gap: the daemon restored protection before answering (Protected)" [ "$(prop Protected)" = true ]
        check "kill-in-gap: ... and EICAR is denied on access" [ "$(kc_probe_read)" = blocked ]
fi
for _ in $(seq 1 1200); do # 120 s: clamd start-up may be slow on a loaded machine
        case "$(prop State 2>/dev/null)" in running | paused | pending | "") sleep 0.1 ;; *) break ;; esac
done
t1=$(date +%s.%N)
echo "# migration took $(python3 -c "print('%.1f' % ($t1 - $t0))") s"

# ---- after ----
sleep 0.5
kill -TERM "$witness_pid"
wait "$witness_pid"
if [ "$mode" = no-prevention ]; then
        report="$AVM_TESTENV_DIR/report.json"
        report_json >"$report"
        rq() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($1)" "$report"; }
        check "no-prevention: State rolled-back" [ "$(prop State)" = rolled-back ]
        check "no-prevention: LastError says EICAR could be read in the scope" contains "$(prop LastError)" "EICAR test file could be read"
        check "no-prevention: simulated KESL protects again" [ "$(sim_field protecting)" = True ]
        check "no-prevention: EICAR blocked in the user's home again" [ "$(kc_probe_read)" = blocked ]
        check "no-prevention: ProtectionGapUSec > 0" [ "$(prop ProtectionGapUSec)" -gt 0 ]
        check "no-prevention: report gap_usec > 0, every window closed" \
                [ "$(rq 'r["gap_usec"] > 0 and all(g["end_mono"] > g["start_mono"] for g in r["gaps"])')" = True ]
        check "no-prevention: the readable roots are in the report" \
                [ "$(rq 'any(p["event"]=="probe-on-access-root" and p["result"]=="readable" and p["product"]=="clamav" for p in r["probes"])')" = True ]
        if ! wout=$(python3 "$here/witness.py" check "$witness_log" "$report" --interval-ms 5); then
                printf '# %s\n' "$wout"
        fi
        check "witness: every readable moment inside a reported window" \
                python3 "$here/witness.py" check "$witness_log" "$report" --interval-ms 5
        check "witness: it did see the file readable (the replacement really did not block)" \
                [ "$(grep '^SUMMARY' "$witness_log" | sed 's/.* readable=\([0-9]*\) .*/\1/')" -gt 0 ]
        echo "# gap $(rq 'r["gap_usec"]') µs; $(grep '^SUMMARY' "$witness_log" | cut -c1-120)"
        finish
fi
check "State completed" [ "$(prop State)" = completed ]
check "Protected after" [ "$(prop Protected)" = true ]
check "LastError empty" [ -z "$(prop LastError)" ]
check "package log: clamav-daemon installed" grep -q ' install clamav-daemon ' "$pkgdb/operations.log"
check "package log: clamav-freshclam installed" grep -q ' install clamav-freshclam ' "$pkgdb/operations.log"
check "package log: kesl purged" grep -q ' purge kesl ' "$pkgdb/operations.log"
check "package db: kesl gone" [ ! -e "$pkgdb/kesl" ]
check "package db: clamav-daemon present" [ -e "$pkgdb/clamav-daemon" ]
check "simulated KESL reports not installed" [ "$(sim_field installed)" = False ]
check "simulated KESL: no blocker left" [ "$(sim_field blocker_pid)" = None ]
check "kesl-control removed from the vendor path" [ ! -e "$KC_KESL_CONTROL" ]
check "clamd running" pid_is "$clamav_state/clamd.pid" clamd
check "clamonacc running" pid_is "$clamav_state/clamonacc.pid" clamonacc
check "after: EICAR blocked on access in the user's home (by clamonacc)" [ "$(kc_probe_read)" = blocked ]
check "after: a clean file reads in the user's home" clean_file_readable
check "clamd logged the on-access detection" grep -q 'Eicar-Test-Signature.UNOFFICIAL FOUND' "$AVM_TESTENV_DIR/clamav/clamd.log"

# ---- the report ----
report="$AVM_TESTENV_DIR/report.json"
report_json >"$report"
rq() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($1)" "$report"; }
check "report: completed" [ "$(rq 'r["result"]')" = completed ]
check "report: all steps done or skipped" [ "$(rq 'all(s["result"] in ("done","skipped") for s in r["steps"])')" = True ]
check "report: stop-first handover (no overlap)" [ "$(rq 'r["overlap"] is False and any(e["event"]=="handover-begin" and e.get("detail")=="stop-first" for e in r["timeline"])')" = True ]
[ "$mode" = normal ] && check "report: kaspersky-kesl stopped before clamav enabled" [ "$(rq '[(e["event"],e.get("product")) for e in r["timeline"] if e["event"] in ("realtime-off","realtime-on")] == [("realtime-off","kaspersky-kesl"),("realtime-on","clamav")]')" = True ]
check "report: on-demand EICAR detected by clamav" [ "$(rq 'sum(p["event"]=="probe-on-demand-detected" and p.get("product")=="clamav" and "Eicar" in p.get("detail","") for p in r["probes"]) >= 2')" = True ]
check "report: clamav verified with status+on-access-eicar in handover and verify-final" [ "$(rq 'sorted(set(p["step"] for p in r["probes"] if p["event"]=="verified" and p.get("product")=="clamav" and p.get("detail")=="status+on-access-eicar"))')" = "['handover', 'verify-final']" ]
check "report: on-access probes blocked (handover, verify-final)" [ "$(rq 'sorted(set(p["step"] for p in r["probes"] if p["event"]=="probe-on-access-blocked" and p.get("product")=="clamav"))')" = "['handover', 'verify-final']" ]
check "report: no failed probe" [ "$(rq 'any(p["event"] in ("verify-failed","probe-on-demand-missed") for p in r["probes"])')" = False ]
check "report: has continuity samples" [ "$(rq 'r["summary"]["samples"] > 0')" = True ]
check "report: unprotected_outside_gap == 0" [ "$(rq 'r["summary"]["unprotected_outside_gap"]')" = 0 ]
check "report: gap_usec > 0" [ "$(rq 'r["gap_usec"] > 0 and r["summary"]["gap_usec"] == r["gap_usec"]')" = True ]
check "report: ProtectionGapUSec is the job's total" [ "$(prop ProtectionGapUSec)" = "$(rq 'r["gap_usec"]')" ]
check "report: every gap window closed" [ "$(rq 'all(g["end_mono"] > g["start_mono"] for g in r["gaps"])')" = True ]
check "report: the scope before (KESL settings) and after (clamonacc configuration)" \
        [ "$(rq 'r["scope_report"]["before"]["known"] and r["scope_report"]["after"]["known"] and sorted(r["scope_report"]["after"]["include"]) == sorted(r["scope"])')" = True ]
check "report: every scope root blocked in verify-final" \
        [ "$(rq 'set(p["root"] for p in r["probes"] if p["event"]=="probe-on-access-root" and p["step"]=="verify-final" and p["result"]=="blocked") == set(r["scope"])')" = True ]
check "report: the user's home is a scope root" [ "$(rq '"'"$KC_HOME"'" in r["scope"]')" = True ]
if ! wout=$(python3 "$here/witness.py" check "$witness_log" "$report" --interval-ms 5); then
        printf '# %s\n' "$wout"
fi
check "witness: every readable moment lies inside a reported gap window, total within the gap" \
        python3 "$here/witness.py" check "$witness_log" "$report" --interval-ms 5
echo "# $(grep '^SUMMARY' "$witness_log" | cut -c1-200)"
check "witness: denied again at the end" [ "$(grep -v '^SUMMARY' "$witness_log" | tail -n 1 | cut -d' ' -f4)" = denied ]
if [ "$mode" = normal ]; then
        check "report: one measured gap, in the handover" [ "$(rq 'len(r["gaps"]) == 1 and r["gaps"][0]["step"] == "handover" and r["gaps"][0]["usec"] == r["gap_usec"]')" = True ]
        check "report: the handover window is split (old stopping, new starting, verification, daemon)" \
                [ "$(rq 'all(k in r["gaps"][0]["split"] for k in ("old_stopping_usec","new_starting_usec","verification_usec","daemon_usec"))')" = True ]
else
        check "kill-in-gap: restore-first ran before the job resumed" \
                [ "$(rq '[e["event"] for e in r["timeline"] if e["event"] in ("restore-first","resumed-after-restart")][:2]')" = "['restore-first', 'resumed-after-restart']" ]
fi
# before/after the gap, on the monotonic clock of the samples
check "report: samples before the handover show kaspersky-kesl protecting" [ "$(rq '(lambda g, b: len(b) > 0 and all(s["protected"] and s["products"].get("kaspersky-kesl") for s in b))(r["gaps"][0], [s for s in r["samples"] if s["mono_end"] < r["gaps"][0]["start_mono"]])')" = True ]
[ "$mode" = normal ] && check "report: samples after the handover show clamav protecting" [ "$(rq '(lambda a: all(s["protected"] and s["products"].get("clamav") for s in a))([s for s in r["samples"] if s["mono_start"] > r["gaps"][0]["end_mono"]])')" = True ]

# The daemon may also record an on-access probe of the old product before the
# handover; if it does, it must have been blocked by kaspersky-kesl.
if [ "$(rq 'any(p.get("product")=="kaspersky-kesl" for p in r["probes"])')" = True ]; then
        check "report: on-access probe of kaspersky-kesl before the handover blocked" [ "$(rq 'any(p["event"]=="probe-on-access-blocked" and p.get("product")=="kaspersky-kesl" for p in r["probes"]) and not any(p.get("product")=="kaspersky-kesl" and p["event"] in ("verify-failed","probe-on-access-missed") for p in r["probes"])')" = True ]
else
        echo "# note: the report holds no on-access probe of kaspersky-kesl; 'before' is shown by its samples"
fi

gap=$(rq 'r["gap_usec"]')
echo "# handover gap (kaspersky-kesl stopped → clamav verified on access): $gap µs ($(python3 -c "print('%.1f' % ($gap / 1000))") ms)"
echo "# samples: $(rq 'r["summary"]')"
finish
