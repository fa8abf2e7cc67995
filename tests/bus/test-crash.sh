#!/usr/bin/env bash
# kill -9 of avmigrated (or, with "worker", of the step's worker process)
# during a step; the job must end completed or rolled back, never
# unprotected, never a step applied twice.
# Usage: test-crash.sh STEP [stop-first|worker]
set -u
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
        avm-testenv daemon-start
fi
wait_finished
state=$(prop State)
check "$step/$mode: ends completed or rolled back" [ "$state" = completed ] || [ "$state" = rolled-back ]
echo "  state after resume: $state"
check "$step/$mode: Protected" [ "$(prop Protected)" = true ]
check "$step/$mode: a product protects" some_product_protecting
check "$step/$mode: install applied at most once" [ "$(count_ops test-new 'install end')" -le 1 ]
check "$step/$mode: uninstall applied at most once" [ "$(count_ops test-old 'uninstall end')" -le 1 ]
check "$step/$mode: report never unprotected outside a gap" [ "$(report_field 'r["summary"]["unprotected_outside_gap"]')" = 0 ]
if [ "$mode" = worker ]; then
        check "$step/$mode: the step ran again" [ "$(report_field 'any(e["event"]=="worker-died-retrying" for e in r["timeline"])')" = True ]
        check "$step/$mode: and the job completed" [ "$state" = completed ]
else
        check "$step/$mode: report shows the resume" [ "$(report_field 'any(e["event"]=="resumed-after-restart" for e in r["timeline"])')" = True ]
fi
check "$step/$mode: history has exactly one record" [ "$(grep -c . "$AVM_TESTENV_DIR/state/history.jsonl")" = 1 ]
if [ "$state" = completed ]; then
        check "$step/$mode: old product gone" not installed test-old
else
        check "$step/$mode: new product not left behind" not installed test-new
fi
finish
