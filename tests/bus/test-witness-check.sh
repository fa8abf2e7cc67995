#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# test-witness-check.sh: witness.py on synthetic witness logs and reports.
# The check must pass when every readable window lies inside the reported
# gap windows and fail, with a reason, when one does not.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
w="$here/witness.py"
tmp=$(mktemp -d /tmp/avm-witness-check.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
nok() { fail=$((fail + 1)); echo "FAIL $*"; }

# line MONO OUTCOME: a witness line (boottime = mono + 7 s, realtime fixed offset)
line() { echo "$1 $(($1 + 7000000)) $(($1 + 1796000000000000)) $2"; }
# report FILE GAP_USEC START-END...: a report JSON (END 0 = open)
report() {
        local f=$1 total=$2 sep="" g
        shift 2
        {
                printf '{"id": 1, "gaps": ['
                for g in "$@"; do
                        printf '%s{"step": "handover", "start_mono": %s, "end_mono": %s, "usec": %s}' \
                                "$sep" "${g%-*}" "${g#*-}" $((${g#*-} > 0 ? ${g#*-} - ${g%-*} : 0))
                        sep=", "
                done
                printf '], "summary": {"gap_usec": %s}}\n' "$total"
        } >"$f"
}
# expect CODE DESCRIPTION LOG REPORT [REGEX] [ARGS...]
expect() {
        local want=$1 what=$2 log=$3 rep=$4 re=${5:-}
        shift 4
        [ $# -gt 0 ] && shift
        out=$(python3 "$w" check "$log" "$rep" "$@" 2>&1)
        rc=$?
        if [ "$rc" -ne "$want" ]; then
                nok "$what: exit $rc, want $want: $out"
        elif [ -n "$re" ] && ! grep -qE -- "$re" <<<"$out"; then
                nok "$what: no /$re/ in: $out"
        else
                ok "$what (exit $rc)"
        fi
}

# A migration: denied, readable from 10.000 s to 10.300 s, denied again.
{
        line 9000000 denied
        line 10000000 readable
        line 10300000 denied
        line 11000000 denied
        echo "SUMMARY samples=400 readable=60 denied=340 errors=0 readable_usec=300000 windows=10000000-10300000"
} >"$tmp/one.log"

report "$tmp/exact.json" 310000 9995000-10305000
expect 0 "window inside the reported gap" "$tmp/one.log" "$tmp/exact.json" "^witness: OK"

report "$tmp/tol.json" 300000 10005000-10294000
expect 0 "window within one interval + 2 ms of the gap" "$tmp/one.log" "$tmp/tol.json" "^witness: OK"

report "$tmp/late.json" 300000 10008000-10310000
expect 1 "window starting 8 ms before the gap (tolerance 7 ms)" "$tmp/one.log" "$tmp/late.json" \
        "VIOLATION: readable window 10000000-10300000 .* outside every reported gap window"
expect 0 "... passes with --interval-ms 10 (tolerance 12 ms)" "$tmp/one.log" "$tmp/late.json" "OK" --interval-ms 10

report "$tmp/early.json" 300000 9990000-10290000
expect 1 "window ending 10 ms after the gap closed" "$tmp/one.log" "$tmp/early.json" "outside every reported gap"

report "$tmp/none.json" 0
expect 1 "readable window but no gap reported (the failed-handover bug)" "$tmp/one.log" "$tmp/none.json" \
        "reported: none"
expect 1 "... and the readable time exceeds the reported total" "$tmp/one.log" "$tmp/none.json" \
        "saw 300000 µs readable, more than the reported total gap 0 µs"

report "$tmp/open.json" 5000 9990000-0
expect 0 "window inside a gap still open (end_mono 0)" "$tmp/one.log" "$tmp/open.json" "OK"

report "$tmp/small.json" 100000 9995000-10305000
expect 1 "gap windows cover it but gap_usec is too small" "$tmp/one.log" "$tmp/small.json" \
        "more than the reported total gap 100000"

# A readable sample outside any window, after a correct handover window.
{
        line 9000000 denied
        line 10000000 readable
        line 10300000 denied
        line 20000000 readable
        line 20005000 denied
        echo "SUMMARY samples=900 readable=61 denied=839 errors=0 readable_usec=305000 windows=10000000-10300000,20000000-20005000"
} >"$tmp/stray.log"
report "$tmp/stray.json" 310000 9995000-10305000
expect 1 "a readable sample outside every gap window" "$tmp/stray.log" "$tmp/stray.json" \
        "VIOLATION: readable window 20000000-20005000 \(5000 µs\) lies outside"

# Kill -9 inside the gap: two overlapping windows reported, one readable run across both.
{
        line 9000000 denied
        line 10000000 readable
        line 50000000 denied
        echo "SUMMARY samples=9000 readable=8000 denied=1000 errors=0 readable_usec=40000000 windows=10000000-50000000"
} >"$tmp/kill.log"
report "$tmp/kill.json" 40010000 9995000-30000000 29000000-50005000
expect 0 "one readable run across two overlapping gap windows" "$tmp/kill.log" "$tmp/kill.json" "OK"
report "$tmp/kill-hole.json" 40010000 9995000-30000000 30100000-50005000
expect 1 "a 100 ms hole between the reported windows" "$tmp/kill.log" "$tmp/kill-hole.json" "outside every reported gap"

# Never readable: nothing to explain, whatever the report says.
{
        line 9000000 denied
        line 10000000 denied
        echo "SUMMARY samples=200 readable=0 denied=200 errors=0 readable_usec=0 windows="
} >"$tmp/denied.log"
expect 0 "never readable, no gap" "$tmp/denied.log" "$tmp/none.json" "OK: 0 readable"

# A run still readable when the witness stopped ends at the exit time.
{
        line 9000000 denied
        line 10000000 readable
        line 11000000 readable
        echo "SUMMARY samples=300 readable=250 denied=50 errors=0 readable_usec=1500000 windows=10000000-11500000"
} >"$tmp/end.log"
report "$tmp/end-open.json" 2000000 9999000-0
expect 0 "open readable run inside an open gap" "$tmp/end.log" "$tmp/end-open.json" "OK"
report "$tmp/end-closed.json" 1100000 9999000-11100000
expect 1 "open readable run past a closed gap" "$tmp/end.log" "$tmp/end-closed.json" "10000000-11500000"

# The witness's own failures are violations, not passes.
head -n 3 "$tmp/one.log" >"$tmp/nosummary.log"
expect 1 "no SUMMARY (witness killed)" "$tmp/nosummary.log" "$tmp/exact.json" "no SUMMARY line"
{
        line 9000000 denied
        line 9500000 error:ENOENT
        line 10000000 denied
        echo "SUMMARY samples=200 readable=0 denied=100 errors=100 readable_usec=0 windows="
} >"$tmp/err.log"
expect 1 "an error sample" "$tmp/err.log" "$tmp/none.json" "could not read its file .*error:ENOENT"
{
        line 9000000 denied
        line 10000000 readable
        line 10300000 denied
        echo "SUMMARY samples=400 readable=60 denied=340 errors=0 readable_usec=0 windows="
} >"$tmp/inconsistent.log"
expect 1 "SUMMARY windows disagree with the lines" "$tmp/inconsistent.log" "$tmp/exact.json" "inconsistent"

# Unreadable input: exit 2 with a reason.
echo "hello world" >"$tmp/garbage.log"
expect 2 "a log that is not a witness log" "$tmp/garbage.log" "$tmp/exact.json" "not a witness line"
echo "{" >"$tmp/bad.json"
expect 2 "a report that is not JSON" "$tmp/one.log" "$tmp/bad.json" "not JSON"
echo '{"gaps": []}' >"$tmp/nototal.json"
expect 2 "a report without gap_usec" "$tmp/one.log" "$tmp/nototal.json" "no gap_usec"
out=$(python3 "$w" windows "$tmp/stray.log")
if [ "$out" = $'10000000-10300000 300000\n20000000-20005000 5000' ]; then ok "windows lists the readable windows"; else
        nok "windows: $out"; fi

# A real avm-witness log, when the binary is at hand: parses and checks.
if [ -n "${AVM_WITNESS:-}" ] && [ -x "$AVM_WITNESS" ]; then
        # shellcheck disable=SC2016 # python, not shell
        python3 -c 'import sys; s="X5O!P%@AP[4\\PZX54(P^)7CC)7}$"+"EICAR-STANDARD-ANTIVIRUS-"+"TEST-FILE!$H+H*"; open(sys.argv[1],"w").write(s)' \
                "$tmp/eicar.com"
        "$AVM_WITNESS" --file "$tmp/eicar.com" --log "$tmp/real.log" --interval-ms 2 &
        wpid=$!
        sleep 0.3
        kill -TERM $wpid
        wait $wpid
        start=$(awk 'NR == 1 { print $1 }' "$tmp/real.log")
        report "$tmp/real.json" 10000000 "$((start - 1000))-0"
        expect 0 "a real avm-witness log (always readable) inside an open gap" "$tmp/real.log" "$tmp/real.json" \
                "OK: 1 readable window" --interval-ms 2
        report "$tmp/real-none.json" 0
        expect 1 "a real avm-witness log (always readable) without a gap" "$tmp/real.log" "$tmp/real-none.json" \
                "outside every reported gap"
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
