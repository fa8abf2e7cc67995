#!/usr/bin/env bash
# Failure injected at each step: the job ends rolled-back or failed (or
# not-started for preflight) and some product protects the machine.
# Usage: test-failures.sh CASE   (each case runs in its own avm-testenv)
# shellcheck disable=SC2119 # lib.sh helpers with optional arguments
set -u
# shellcheck source=tests/bus/lib.sh
. "$(dirname "$0")/lib.sh"

case_name=$1
expect_state=rolled-back
expect_protector=test-old
expect_new_installed=no

case "$case_name" in
preflight)
        echo 1 >"$(new fail-detect)"
        expect_state=failed ;;
fetch)
        head -c 4096 /dev/zero >"$AVM_TESTENV_DIR/artifact.bin"
        set_config "[Product test-new]
Artifact=$AVM_TESTENV_DIR/artifact.bin
ArtifactSHA256=0000000000000000000000000000000000000000000000000000000000000000"
        expect_state=failed ;;
install)
        touch "$(new fail-install)" ;;
verify-replacement)
        touch "$(new blind)" ;;
handover)
        touch "$(new refuse-protect)" ;;
handover-stop-first)
        set_config "[Manager]
AllowOverlap=no"
        touch "$(new refuse-protect)" ;;
remove)
        touch "$(old fail-uninstall)"
        expect_state=failed expect_protector=test-new expect_new_installed=yes ;;
verify-final)
        # verify-replacement's scan passes, verify-final's fails.
        echo 1 >"$(new pass-scan_file)"
        touch "$(new fail-scan_file)"
        expect_state=failed expect_protector=test-new expect_new_installed=yes ;;
*)
        echo "unknown case $case_name" >&2; exit 2 ;;
esac

start_job >/dev/null
wait_finished
state=$(prop State)
check "$case_name: State $expect_state" [ "$state" = "$expect_state" ]
[ "$state" = "$expect_state" ] || echo "  got $state"
check "$case_name: Protected=true" [ "$(prop Protected)" = true ]
check "$case_name: $expect_protector protects" protecting "$expect_protector"
check "$case_name: LastError set" [ -n "$(prop LastError)" ]
if [ "$expect_new_installed" = no ]; then
        check "$case_name: replacement not left installed" not installed test-new
else
        check "$case_name: replacement kept" installed test-new
fi
check "$case_name: report never unprotected outside a gap" [ "$(report_field 'r["summary"]["unprotected_outside_gap"]')" = 0 ]
check "$case_name: report names the failed step" [ "$(report_field 'any(s["result"]=="failed" for s in r["steps"])')" = True ]
check "$case_name: no job left in job.json" [ ! -e "$AVM_TESTENV_DIR/state/job.json" ]
finish
