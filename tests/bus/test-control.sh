#!/usr/bin/env bash
# Pause/resume/cancel, Busy, InvalidArgument, Postpone, unprivileged callers,
# a corrupt state file and a malformed configuration.
set -u
# shellcheck source=tests/bus/lib.sh
. "$(dirname "$0")/lib.sh"

# --- argument validation (nothing may change) ---
err=$(start_job 1 bogus b true 2>&1)
check "unknown option key → InvalidArgument" contains "$err" "Unknown option 'bogus'"
err=$(start_job 1 force s yes 2>&1)
check "mistyped option → InvalidArgument" contains "$err" "must be a boolean"
err=$(start_job 1 replacement s no-such-product 2>&1)
check "unapproved replacement → NoReplacement" contains "$err" "not an approved product"
check "bad calls changed nothing" [ "$(prop State)" = pending ]
err=$(mcall Postpone t 0 2>&1)
check "Postpone 0 → InvalidArgument" contains "$err" "Postponement must be"

# --- unprivileged callers: read everything, change nothing ---
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
check "unprivileged: properties readable" nobody busctl get-property "$DEST" "$OBJ" "$IFACE" State Products Protected
check "unprivileged: GetPlan allowed" nobody busctl call "$DEST" "$OBJ" "$IFACE" GetPlan
err=$(nobody busctl call "$DEST" "$OBJ" "$IFACE" Start 'a{sv}' 0 2>&1)
check "unprivileged: Start refused" contains "$err" "Authorization for org.avmigrate.Migrate1.start"
err=$(nobody busctl call "$DEST" "$OBJ" "$IFACE" Cancel 2>&1)
check "unprivileged: Cancel refused" contains "$err" "org.avmigrate.Migrate1.control"
err=$(nobody busctl call "$DEST" "$OBJ" "$IFACE" Postpone t 60000000 2>&1)
check "unprivileged: Postpone refused without polkit" contains "$err" "org.avmigrate.Migrate1.postpone"
check "unprivileged calls changed nothing" [ "$(prop State)/$(prop DeferralsLeft)" = pending/3 ]

# --- postpone ---
mcall Postpone t 3600000000 >/dev/null
check "Postpone uses a deferral" [ "$(prop DeferralsLeft)" = 2 ]
err=$(start_job 2>&1)
check "Start while postponed → NotEligible" contains "$err" "postponed"
out=$(start_job 2 dry-run b true force b true)
check "dry-run with force ignores the postponement" contains "$out" '^to'
wait_finished
check "dry-run changed nothing" protecting test-old
check "dry-run installed nothing" not installed test-new
avm-testenv daemon-stop
rm -f "$AVM_TESTENV_DIR/state/manager.json"
avm-testenv daemon-start

# --- pause / resume ---
echo 1000 >"$(new delay-install)"
start_job >/dev/null
wait_step install
err=$(start_job 2>&1)
check "Start while running → Busy" contains "$err" "already running"
mcall Pause >/dev/null
wait_state_not running
check "Pause takes effect between steps" [ "$(prop State)" = paused ]
check "paused after install" [ "$(prop Step)" = verify-replacement ]
p1=$(prop Progress)
sleep 0.5
check "nothing runs while paused" [ "$(prop Step)" = verify-replacement ]
mcall Resume >/dev/null
wait_finished
check "Resume completes the job" [ "$(prop State)" = completed ]
check "Progress never went down" [ "$(prop Progress)" -ge "$p1" ]

# --- cancel rolls back ---
rm -f "$(new delay-install)"
avm-testenv daemon-stop
rm -rf "$AVM_PRODUCTS"/test-*/* "$AVM_TESTENV_DIR/state/manager.json"
echo 1.0 >"$(old installed)"; echo on >"$(old realtime)"
avm-testenv daemon-start
echo 2000 >"$(new delay-realtime-on)"
start_job >/dev/null
wait_step handover
sleep 0.3
path=$(prop Job)
busctl call "$DEST" "$path" org.avmigrate.Migrate1.Job Cancel >/dev/null
wait_finished
check "Cancel during handover rolls back" [ "$(prop State)" = rolled-back ]
check "Cancel: old product protects" protecting test-old
check "Cancel: replacement removed" not installed test-new
check "Cancel: report result cancelled" [ "$(report_field 'r["result"]')" = cancelled ]

# --- corrupt state file ---
avm-testenv daemon-stop
echo '{"version":1,"id":"not a number"' >"$AVM_TESTENV_DIR/state/job.json"
avm-testenv daemon-start
check "corrupt job.json moved aside" ls "$AVM_TESTENV_DIR"/state/job.json.corrupt-*
check "corrupt job.json reported in LastError" contains "$(prop LastError)" corrupt
state=$(prop State 2>/dev/null) || state=""
check "daemon runs on after a corrupt state file" daemon_alive
check "daemon answers after a corrupt state file, no job running" not one_of "$state" "" running

# --- malformed configuration is rejected with file and line ---
# bad_config TEXT [MODE]: the daemon run once (as avm-testenv would) on a
# drop-in holding TEXT (with MODE); sets out (its output) and rc (its exit
# status, 124 = hung).
bad_config() {
        printf '%b' "$1" >"$AVM_TESTENV_DIR/conf/avmigrate.conf.d/90-bad.conf"
        chmod "${2:-0644}" "$AVM_TESTENV_DIR/conf/avmigrate.conf.d/90-bad.conf"
        out=$(cd "$AVM_TESTENV_DIR" && STATE_DIRECTORY=$AVM_TESTENV_DIR/state CONFIGURATION_DIRECTORY=$AVM_TESTENV_DIR/conf \
                AVMIGRATE_DATA_DIR=$AVM_TESTENV_DIR/data AVMIGRATE_PLUGIN_DIR=$AVM_TESTENV_DIR/plugins \
                timeout 20 "$AVMIGRATED" 2>&1)
        rc=$?
}
avm-testenv daemon-stop
bad_config '[Manager]\nApproved=test-new\nMaxDeferrals=lots\n'
check "malformed config: daemon refuses to start (fails, does not hang)" refused_to_start "$rc"
check "malformed config: names file and line" contains "$out" "90-bad.conf:3: MaxDeferrals="
bad_config '[Manager]\nFrobnicate=yes\n'
check "unknown key: daemon refuses to start (fails, does not hang)" refused_to_start "$rc"
check "unknown key: names file and line" contains "$out" "90-bad.conf:2: unknown key 'Frobnicate'"
# Configuration decides what runs as root: a file others may write is not read.
bad_config '[Manager]\nMaxDeferrals=3\n' 0666
check "config writable by others: daemon refuses to start" refused_to_start "$rc"
check "config writable by others: says why" contains "$out" "90-bad.conf: writable by group or others (mode 0666)"
# A key of a product section is declared by its plugin, which only the
# worker loads: the first detection refuses it and the daemon exits.
bad_config '[Product test-new]\nDri=/nonexistent\n'
check "unknown product key: daemon refuses to start (fails, does not hang)" refused_to_start "$rc"
check "unknown product key: names file, line and plugin" contains "$out" "90-bad.conf:2: unknown key 'Dri' in section \\[Product test-new\\]"
rm -f "$AVM_TESTENV_DIR/conf/avmigrate.conf.d/90-bad.conf"
avm-testenv daemon-start
finish
