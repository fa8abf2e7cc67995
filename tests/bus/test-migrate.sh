#!/usr/bin/env bash
# A full migration test-old → test-new, the plan, properties, report and history.
# shellcheck disable=SC2119 # lib.sh helpers with optional arguments
set -u
# shellcheck source=tests/bus/lib.sh
. "$(dirname "$0")/lib.sh"

check "State is pending before" [ "$(prop State)" = pending ]
check "Protected before" [ "$(prop Protected)" = true ]
check "Discouraged/Replacement resolved" [ "$(prop Discouraged)/$(prop Replacement)" = test-old/test-new ]
plan=$(mcall GetPlan)
check "GetPlan lists the eight steps" contains "$plan" '^a(sss) 8 "preflight"' 

# Signals are recorded by a monitor for the order check.
busctl monitor --json=short "$DEST" >"$AVM_TESTENV_DIR/monitor.json" 2>/dev/null &
mon=$!
sleep 0.3

out=$(start_job)
check "Start returns id and path" contains "$out" '^to 1 "/org/avmigrate/Migrate1/job/1"' 
check "Job object is on the bus" busctl get-property "$DEST" /org/avmigrate/Migrate1/job/1 org.avmigrate.Migrate1.Job From >/dev/null
wait_finished
sleep 0.5
kill "$mon" 2>/dev/null; wait "$mon" 2>/dev/null

check "State completed" [ "$(prop State)" = completed ]
check "Protected after" [ "$(prop Protected)" = true ]
check "Progress 100" [ "$(prop Progress)" = 100 ]
check "old product removed" not installed test-old
check "new product protecting" protecting test-new
check "LastError empty" [ -z "$(prop LastError)" ]
check "report: completed" [ "$(report_field 'r["result"]')" = completed ]
check "report: all steps done or skipped" [ "$(report_field 'all(s["result"] in ("done","skipped") for s in r["steps"])')" = True ]
check "report: has continuity samples" [ "$(report_field 'r["summary"]["samples"] > 0')" = True ]
check "report: never unprotected outside the gap" [ "$(report_field 'r["summary"]["unprotected_outside_gap"]')" = 0 ]
check "report: on-demand EICAR probe recorded" [ "$(report_field 'any(p["event"]=="probe-on-demand-detected" for p in r["probes"])')" = True ]
check "history has the job" contains "$(mcall GetHistory)" '\\"id\\":1' 
check "history.jsonl written" [ -s "$AVM_TESTENV_DIR/state/history.jsonl" ]
check "job.json removed after the end" [ ! -e "$AVM_TESTENV_DIR/state/job.json" ]
check "install applied once" [ "$(count_ops test-new 'install end')" = 1 ]
check "uninstall applied once" [ "$(count_ops test-old 'uninstall end')" = 1 ]

# Signal order: StepStarted/StepFinished pairs in step order, then JobRemoved.
order=$(python3 - "$AVM_TESTENV_DIR/monitor.json" <<'PY'
import json, sys
seq = []
for line in open(sys.argv[1]):
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("type") == "signal" and m.get("interface") == "org.avmigrate.Migrate1.Manager":
        d = m["payload"]["data"]
        seq.append(m["member"] + ("" if m["member"] == "JobRemoved" else ":" + d[1]))
print(" ".join(seq))
PY
)
steps="preflight fetch install verify-replacement handover remove verify-final report"
expected=""
for s in $steps; do expected="$expected StepStarted:$s StepFinished:$s"; done
expected="${expected# } JobRemoved"
check "signal order StepStarted → StepFinished → JobRemoved" [ "$order" = "$expected" ]
[ "$order" = "$expected" ] || echo "  got: $order"
check "PropertiesChanged emitted for State" grep -q '"State"' "$AVM_TESTENV_DIR/monitor.json"

# Nothing left to do now.
err=$(start_job 2>&1)
check "second Start → NothingToDo" contains "$err" 'No discouraged product' 
check "Refresh without ManifestURL= → NotSupported" contains "$(mcall Refresh 2>&1)" 'No fleet manifest is configured (ManifestURL= is empty)'
"$AVMIGRATECTL" refresh 2>/dev/null
check "avmigratectl refresh without ManifestURL=: nothing to do (2), what avmigrate-refresh.service accepts" [ $? = 2 ]
finish
