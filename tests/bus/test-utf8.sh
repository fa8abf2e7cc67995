#!/usr/bin/env bash
# Vendor text that is not UTF-8 (a product version "1.0\xff\xfe" as a
# plugin reported it) reaches D-Bus as valid UTF-8 with U+FFFD in place of
# the bad bytes: GetAll, the Products property, avmigratectl status, a job
# and its report all work.
# shellcheck disable=SC2119 # lib.sh helpers with optional arguments
set -u
# shellcheck source=tests/bus/lib.sh
. "$(dirname "$0")/lib.sh"

ctl="${AVMIGRATECTL:-$AVM_BUILD_DIR/ctl/avmigratectl}"
printf '1.0\xff\xfe' >"$(old installed)"
avm-testenv daemon-stop
avm-testenv daemon-start

out=$(busctl call --json=short "$DEST" "$OBJ" org.freedesktop.DBus.Properties GetAll s "$IFACE" 2>&1)
check "GetAll succeeds" contains "$out" '"Products"'
version=$(python3 -c 'import json,sys; d=json.load(sys.stdin)["data"][0]; print(ascii([p[2] for p in d["Products"]["data"] if p[0]=="test-old"][0]))' <<<"$out")
check "the version shows U+FFFD for the bad bytes" [ "$version" = "'1.0\ufffd\ufffd'" ]
check "the Products property can be read" busctl get-property "$DEST" "$OBJ" "$IFACE" Products
out=$("$ctl" status 2>&1)
check "avmigratectl status succeeds" [ $? -eq 0 ]
check "avmigratectl status shows U+FFFD" contains "$out" $'1.0\xef\xbf\xbd\xef\xbf\xbd'
out=$("$ctl" --json status 2>&1)
check "avmigratectl --json status succeeds" [ $? -eq 0 ]

start_job >/dev/null
wait_finished
check "the job completes" [ "$(prop State)" = completed ]
out=$(mcall GetReport t 0 2>&1)
check "GetReport succeeds" contains "$out" 'result'
check "GetHistory succeeds" mcall GetHistory
check "GetHistoryPage succeeds" mcall GetHistoryPage tt 0 10
finish
