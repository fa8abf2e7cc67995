#!/usr/bin/env bash
# kill -9 of avmigrated (or, with "worker", of the step's worker process)
# during a step; the job must end completed or rolled back, never
# unprotected, never a step applied twice. Each outcome is checked for what
# it means: completed, the new product protects and the old one is gone;
# rolled back, the old product protects, the new one is gone and the report
# records the rollback. With "rollback" the resumed step is made to fail
# after the restart, so that the rolled-back outcome is exercised for sure
# (without it every case happens to complete).
# Usage: test-crash.sh STEP [stop-first|worker|rollback]
# shellcheck disable=SC2119 # lib.sh helpers with optional arguments
set -u
# shellcheck source=tests/bus/lib.sh
. "$(dirname "$0")/lib.sh"

step=$1
mode=${2:-overlap}
[ "$mode" = stop-first ] && set_config "[Manager]
AllowOverlap=no"

# Make the step slow enough to be killed inside it.
case "$step" in
preflight) echo 1500 >"$(new delay-detect)" ;;
fetch)
        # A large (sparse) artifact makes the SHA-256 check take a while.
        truncate -s 1G "$AVM_TESTENV_DIR/artifact.bin"
        sum=$(sha256sum "$AVM_TESTENV_DIR/artifact.bin" | cut -d' ' -f1)
        cfg="[Product test-new]
Artifact=$AVM_TESTENV_DIR/artifact.bin
ArtifactSHA256=$sum"
        [ "$mode" = stop-first ] && cfg="$cfg
[Manager]
AllowOverlap=no"
        set_config "$cfg" ;;
install) echo 1500 >"$(new delay-install)" ;;
verify-replacement | verify-final) echo 1500 >"$(new delay-scan_file)" ;;
handover) echo 1500 >"$(new delay-realtime-on)" ;;
remove) echo 1500 >"$(old delay-uninstall)" ;;
*) echo "unknown step $step" >&2; exit 2 ;;
esac

# rollback: a failure of the step when it runs again after the restart.
# Not handover: a killed handover may be found finished on restart, and the
# job goes on to remove.
inject_resume_failure() {
        case "$1" in
        install) touch "$(new fail-install)" ;;
        verify-replacement) touch "$(new blind)" ;;
        *) echo "no rollback case for step $1" >&2; exit 2 ;;
        esac
}

start_job >/dev/null
wait_step "$step"
sleep 0.4
check "$step/$mode: daemon was inside the step" [ "$(prop Step)" = "$step" ]
if [ "$mode" = worker ]; then
        # worker-step.pid: "PID START-TIME BOOT-ID" (daemon/process-id.h)
        wpid=$(cut -d" " -f1 "$AVM_TESTENV_DIR/state/worker-step.pid")
        check "$step/$mode: a step worker runs" kill -0 "$wpid"
        rm -f "$AVM_PRODUCTS"/test-*/delay-*
        kill -KILL "$wpid"
else
        avm-testenv daemon-kill
        check "$step/$mode: job.json survives the crash" [ -s "$AVM_TESTENV_DIR/state/job.json" ]
        # Delays off so the resumed job runs at normal speed.
        rm -f "$AVM_PRODUCTS"/test-*/delay-*
        [ "$mode" = rollback ] && inject_resume_failure "$step"
        avm-testenv daemon-start
fi
wait_finished
state=$(prop State)
case "$mode" in
rollback) check "$step/$mode: ends rolled back" [ "$state" = rolled-back ] ;;
worker) check "$step/$mode: ends completed" [ "$state" = completed ] ;;
*) check "$step/$mode: ends completed or rolled back" one_of "$state" completed rolled-back ;;
esac
echo "  state after resume: $state"
check "$step/$mode: Protected" [ "$(prop Protected)" = true ]
check "$step/$mode: a product protects" some_product_protecting
check "$step/$mode: install applied at most once" [ "$(count_ops test-new 'install end')" -le 1 ]
check "$step/$mode: uninstall applied at most once" [ "$(count_ops test-old 'uninstall end')" -le 1 ]
check "$step/$mode: report never unprotected outside a gap" [ "$(report_field 'r["summary"]["unprotected_outside_gap"]')" = 0 ]
if [ "$mode" = worker ]; then
        check "$step/$mode: the step ran again" [ "$(report_field 'any(e["event"]=="worker-died-retrying" for e in r["timeline"])')" = True ]
else
        check "$step/$mode: report shows the resume" [ "$(report_field 'any(e["event"]=="resumed-after-restart" for e in r["timeline"])')" = True ]
fi
check "$step/$mode: history has exactly one record" [ "$(grep -c . "$AVM_TESTENV_DIR/state/history.jsonl")" = 1 ]
case "$state" in
completed)
        check "$step/$mode: completed: the new product protects" protecting test-new
        check "$step/$mode: completed: old product gone" not installed test-old
        check "$step/$mode: completed: report says completed" [ "$(report_field 'r["result"]')" = completed ]
        ;;
rolled-back)
        check "$step/$mode: rolled back: the old product protects" protecting test-old
        check "$step/$mode: rolled back: new product not left behind" not installed test-new
        check "$step/$mode: rolled back: report says rolled-back" [ "$(report_field 'r["result"]')" = rolled-back ]
        check "$step/$mode: rolled back: report records the rollback" \
                [ "$(report_field 'any(e["event"]=="rollback" for e in r["timeline"])')" = True ]
        ;;
esac
finish
