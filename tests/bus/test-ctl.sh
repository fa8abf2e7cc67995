#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# avmigratectl against the real avmigrated on a private bus.
#
# Run inside the test environment, which starts the bus and the daemon with
# the test products test-old (discouraged, installed, protecting) and
# test-new (approved, not installed) and exports DBUS_SYSTEM_BUS_ADDRESS:
#
#   tests/bus/avm-testenv --build BUILD \
#           env AVMIGRATECTL=BUILD/ctl/avmigratectl bash tests/bus/test-ctl.sh

set -u

CTL=${AVMIGRATECTL:-}
if [[ -z $CTL || ! -x $CTL ]]; then
        echo "AVMIGRATECTL must point to the built avmigratectl (got '${CTL}')" >&2
        exit 1
fi
if [[ -z ${DBUS_SYSTEM_BUS_ADDRESS:-} ]]; then
        echo "DBUS_SYSTEM_BUS_ADDRESS is not set: run me inside tests/bus/avm-testenv" >&2
        exit 1
fi
PYTHON=${PYTHON:-python3}

passed=0
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass() {
        echo "PASS: $1"
        passed=$((passed + 1))
}

fail() {
        echo "FAIL: $1"
        failed=$((failed + 1))
        if [[ -s $tmp/out ]]; then
                echo "--- stdout:"
                head -c 4000 "$tmp/out"
                echo
        fi
        if [[ -s $tmp/err ]]; then
                echo "--- stderr:"
                head -c 4000 "$tmp/err"
                echo
        fi
}

# ctl ARGS...: run avmigratectl, output in $tmp/out and $tmp/err, status in $rc.
# The timeout keeps a hung call from hanging the suite.
ctl() {
        echo "+ avmigratectl $*" >&2
        timeout 120 "$CTL" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
        rc=$?
}

# json_check EXPR: evaluate the Python expression EXPR with `d` bound to the
# JSON document in $tmp/out; true when it parses and EXPR is truthy.
json_check() {
        "$PYTHON" -c '
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    print("not JSON: %s" % e, file=sys.stderr)
    sys.exit(2)
sys.exit(0 if eval("(" + sys.argv[2] + "\n)") else 1)
' "$tmp/out" "$1"
}

# --- status
ctl status --json
if [[ $rc -eq 0 ]] && json_check 'isinstance(d, dict) and isinstance(d.get("State"), str) and d["State"] != ""'; then
        pass "status --json is JSON with State"
else
        fail "status --json (rc=$rc)"
fi

ctl status
if [[ $rc -eq 0 ]] && grep -q 'State:' "$tmp/out"; then
        pass "status prints State"
else
        fail "status (rc=$rc)"
fi

# default verb is status
ctl
if [[ $rc -eq 0 ]] && grep -q 'State:' "$tmp/out"; then
        pass "no verb means status"
else
        fail "no verb (rc=$rc)"
fi

# --- products
ctl products --json
if [[ $rc -eq 0 ]] && json_check '
isinstance(d, list)
and {"test-old", "test-new"} <= {p.get("id") for p in d}
and all(isinstance(p.get("installed"), bool) for p in d)
and [p for p in d if p["id"] == "test-old"][0]["installed"]
and not [p for p in d if p["id"] == "test-new"][0]["installed"]'; then
        pass "products --json lists test-old (installed) and test-new (not installed)"
else
        fail "products --json (rc=$rc)"
fi

ctl products
if [[ $rc -eq 0 ]] && grep -q '^test-old ' "$tmp/out" && grep -q '^test-new ' "$tmp/out"; then
        pass "products table"
else
        fail "products (rc=$rc)"
fi

# --- plan
ctl plan --json
if [[ $rc -eq 0 ]] && json_check 'isinstance(d, list) and len(d) > 0 and all(s.get("step") for s in d)'; then
        pass "plan --json is a non-empty array of steps"
else
        fail "plan --json (rc=$rc)"
fi

# --- argument errors, before anything changes
ctl no-such-verb
if [[ $rc -ne 0 ]] && grep -qi 'unknown command' "$tmp/err"; then
        pass "unknown verb fails"
else
        fail "unknown verb (rc=$rc)"
fi

ctl --json no-such-verb
if [[ $rc -ne 0 ]] && json_check '"error" in d and d["error"]["name"]'; then
        pass "unknown verb with --json gives an error object"
else
        fail "unknown verb with --json (rc=$rc)"
fi

ctl --no-such-option status
if [[ $rc -ne 0 ]]; then
        pass "unknown option fails"
else
        fail "unknown option (rc=$rc)"
fi

ctl postpone soon
if [[ $rc -ne 0 ]]; then
        pass "postpone with a bad duration fails"
else
        fail "postpone soon (rc=$rc)"
fi

ctl --version
if [[ $rc -eq 0 ]] && grep -q '^avmigratectl ' "$tmp/out"; then
        pass "--version"
else
        fail "--version (rc=$rc)"
fi

# --- the migration itself
ctl start --wait --json
if [[ $rc -eq 0 ]] && json_check 'isinstance(d, dict) and d.get("result") in ("completed", "done")'; then
        pass "start --wait --json completes and reports result completed"
else
        fail "start --wait --json (rc=$rc)"
fi

ctl products --json
if [[ $rc -eq 0 ]] && json_check '
[p for p in d if p["id"] == "test-new"][0]["installed"]
and not [p for p in d if p["id"] == "test-old"][0]["installed"]'; then
        pass "after the migration test-new is installed and test-old is not"
else
        fail "products after migration (rc=$rc)"
fi

ctl report --json
if [[ $rc -eq 0 ]] && json_check 'isinstance(d, (dict, list))'; then
        pass "report --json (last job) is JSON"
else
        fail "report --json (rc=$rc)"
fi

ctl history --json
if [[ $rc -eq 0 ]] && json_check 'isinstance(d, list) and len(d) >= 1'; then
        pass "history --json lists the migration"
else
        fail "history --json (rc=$rc)"
fi

# --- nothing left to do
ctl start
if [[ $rc -eq 2 ]]; then
        pass "second start exits 2 (nothing to do)"
else
        fail "second start: expected exit 2, got $rc"
fi

ctl start --json
if [[ $rc -eq 2 ]] && json_check 'd["error"]["name"] == "org.avmigrate.Migrate1.Error.NothingToDo" and "message" in d["error"]'; then
        pass "second start --json gives a NothingToDo error object"
else
        fail "second start --json (rc=$rc)"
fi

ctl plan --json
if [[ $rc -eq 2 ]] && json_check 'd == []'; then
        pass "plan --json is empty and exits 2 after the migration"
else
        fail "plan --json after migration: expected [] and exit 2, got $rc"
fi

ctl status --json
if [[ $rc -eq 0 ]] && json_check 'd.get("State") in ("completed", "idle") and d.get("Protected") is True'; then
        pass "status after the migration: completed or idle, protected"
else
        fail "status --json after migration (rc=$rc)"
fi

echo
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
