#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test-fleet-tool.sh AVMIGRATE-FLEET: the admin's tool end to end.
#   sign/check with a run-time PKI, the openssl CLI verifying our signature,
#   every refusal with its exit code and reason; phase/wave against an
#   independent Python computation; summary over a report directory checked
#   against an independent Python oracle, and over a real journal directory
#   written by systemd-journal-remote from export-format events.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fleet=$(realpath "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

ok() { passed=$((passed + 1)); }
ko() { failed=$((failed + 1)); echo "FAILED: $*" >&2; }
# expect RC PATTERN COMMAND...: exit code and a line matching PATTERN in stdout+stderr.
expect() {
        local want=$1 pattern=$2 rc=0
        shift 2
        "$@" >"$tmp/out" 2>&1 || rc=$?
        if [ "$rc" = "$want" ] && grep -qE -- "$pattern" "$tmp/out"; then
                ok
        else
                ko "$* → exit $rc (want $want), /$pattern/:"
                sed 's/^/    /' "$tmp/out" >&2
        fi
}

"$here/make-pki" "$tmp/pki"
P=$tmp/pki
m=$tmp/manifest.json
# Phases around today: certificates of the run-time PKI are valid from now on.
day() { date -u -d "$1" +%Y-%m-%dT00:00:00Z; }
d1=$(day yesterday) d2=$(day "+2 days") d3=$(day "+9 days") in3=$(date -u -d "+3 days" +%Y-%m-%dT%H:%M:%SZ)
cat >"$m" <<JSON
{
  "version": 1,
  "serial": 12,
  "expires": "2099-01-01T00:00:00Z",
  "from": "kaspersky-kesl",
  "to": "clamav",
  "artifact": "repository",
  "phases": [
    { "start": "$d1", "percentage": 1 },
    { "start": "$d2", "percentage": 10 },
    { "start": "$d3", "percentage": 100 }
  ],
  "salt": "tool-test",
  "windows": [ "Mon..Fri 18:00-23:00" ]
}
JSON

# sign, check, and the openssl CLI agrees with us.
expect 0 "Signed serial 12: $m.p7s" "$fleet" sign --key "$P/signer.key" --cert "$P/signer.pem" "$m"
expect 0 "signature and schema OK" "$fleet" check --ca "$P/ca.pem" "$m"
expect 0 "from $d1  1.00%  ← now" "$fleet" check --ca "$P/ca.pem" "$m"
expect 0 "from $d2  10.00%  ← now" "$fleet" check --ca "$P/ca.pem" --now "$in3" "$m"
expect 0 "Now: +10.00% of the fleet" "$fleet" check --ca "$P/ca.pem" --now "$in3" "$m"
expect 0 "Verification successful" openssl cms -verify -binary -inform DER -in "$m.p7s" -content "$m" \
        -CAfile "$P/ca.pem" -purpose any -out /dev/null
# check's refusals, each with its reason.
expect 1 "signature does not verify: .*unable to get local issuer" "$fleet" check --ca "$P/ca2.pem" "$m"
expect 1 "serial 12 is lower than the last accepted 13" "$fleet" check --ca "$P/ca.pem" --last-serial 13 "$m"
expect 1 "certificate has expired" "$fleet" check --ca "$P/ca.pem" --now 2099-01-01T00:00:00Z "$m"
sed 's/"expires": "2099-01-01T00:00:00Z"/"expires": "2020-01-01T00:00:00Z"/' "$m" >"$tmp/old.json"
"$fleet" sign --key "$P/signer.key" --cert "$P/signer.pem" "$tmp/old.json" >/dev/null
expect 1 "manifest expired at 2020-01-01T00:00:00Z" "$fleet" check --ca "$P/ca.pem" "$tmp/old.json"
cp "$m" "$tmp/tampered.json"
sed -i 's/"percentage": 1 }/"percentage": 2 }/' "$tmp/tampered.json"
expect 1 "signature does not verify" "$fleet" check --ca "$P/ca.pem" --sig "$m.p7s" "$tmp/tampered.json"
expect 1 "No such file" "$fleet" check --ca "$P/ca.pem" "$tmp/tampered.json"
head -c 300000 /dev/zero >"$tmp/huge.json"
expect 1 "larger than the 262144 bytes" "$fleet" check --ca "$P/ca.pem" --sig "$m.p7s" "$tmp/huge.json"
# A signature the CLI made with a TLS certificate of the right CA: refused for its EKU.
openssl cms -sign -binary -in "$m" -signer "$P/tls.pem" -inkey "$P/tls.key" -outform DER -out "$tmp/tls.p7s"
expect 1 "lacks the code-signing extended key usage" "$fleet" check --ca "$P/ca.pem" --sig "$tmp/tls.p7s" "$m"
# sign's refusals.
expect 1 "lacks the code-signing extended key usage" "$fleet" sign --key "$P/tls.key" --cert "$P/tls.pem" "$m"
sed 's/"percentage": 10 }/"percentage": 0.5 }/' "$m" >"$tmp/bad.json"
expect 1 "field phases\[1\].percentage: must not be lower than phases\[0\].percentage" \
        "$fleet" sign --key "$P/signer.key" --cert "$P/signer.pem" "$tmp/bad.json"
if [ -e "$tmp/bad.json.p7s" ]; then ko "a signature was written for a refused manifest"; else ok; fi
# The shipped example is a valid manifest.
cp "$here/../../policy/manifest.example.json" "$tmp/example.json"
expect 0 "Signed serial 1" "$fleet" sign --key "$P/signer.key" --cert "$P/signer.pem" "$tmp/example.json"
expect 0 "from 2027-01-18T00:00:00Z  5.00%  ← now" "$fleet" check --ca "$P/ca.pem" --now 2027-01-20T00:00:00Z "$tmp/example.json"
expect 2 "Usage" "$fleet" check "$m"
expect 2 "Usage" "$fleet" frobnicate

# phase/wave against an independent computation.
for id in 0123456789abcdef0123456789abcdef 3d1219c7c4c5404aaa1f6d2a48adfda4 ffffffffffffffffffffffffffffffff; do
        bucket=$(python3 -c 'import hashlib, sys
print(int.from_bytes(hashlib.sha256((sys.argv[1] + sys.argv[2]).encode()).digest()[:8], "big") % 10000)' tool-test "$id")
        wave=$(((bucket + 1 + 99) / 100))
        expect 0 "^$id: wave $wave% \(in the rollout from $(((bucket + 1) / 100)).$(printf %02d $(((bucket + 1) % 100)))% on\)" \
                "$fleet" wave --salt tool-test --machine-id "$id"
        expect 0 "in the rollout at 100.00%" "$fleet" phase --salt tool-test --percentage 100 --machine-id "$id"
        expect 1 "not yet at 0.00%" "$fleet" phase --salt tool-test --percentage 0 --machine-id "$id"
        p=$(python3 -c "print('%.2f' % ($bucket / 100))")
        expect 1 "not yet at $p%" "$fleet" phase --salt tool-test --percentage "$p" --machine-id "$id"
        p=$(python3 -c "print('%.2f' % (($bucket + 1) / 100))")
        expect 0 "in the rollout at $p%" "$fleet" phase --salt tool-test --percentage "$p" --machine-id "$id"
done
expect 1 "not 32 lowercase hex" "$fleet" wave --salt s --machine-id 0123
expect 1 "expects 0..100" "$fleet" phase --salt s --percentage 101 --machine-id 0123456789abcdef0123456789abcdef

# summary over a report directory, against the oracle; unreadable files are skipped.
"$here/make-reports" "$tmp/reports" 400 7
echo '{ not json' >"$tmp/reports/broken.json"
echo '{}' >"$tmp/reports/0123456789abcdef0123456789abcdef.json"
"$fleet" summary --reports "$tmp/reports" --json >"$tmp/summary.json"
rm "$tmp/reports/broken.json" "$tmp/reports/0123456789abcdef0123456789abcdef.json"
python3 - "$tmp/summary.json" <<'PY'
import json, sys
got = json.load(open(sys.argv[1]))
# The empty report is a machine in state unknown without a wave; the broken one is skipped.
assert got["skipped"] == 1, got["skipped"]
assert got["states"].pop("unknown") == 1
got["machines"] -= 1
got["waves"]["none"] -= 1
if not got["waves"]["none"]:
        del got["waves"]["none"]
json.dump(got, open(sys.argv[1], "w"))
PY
expect 0 "summary matches the oracle" "$here/summary-oracle" "$tmp/reports" "$tmp/summary.json"
expect 0 "^Machines: 400 " "$fleet" summary --reports "$tmp/reports"
expect 0 "Unprotected gap over [0-9]+ handovers: median" "$fleet" summary --reports "$tmp/reports"

# summary over a journal directory written by systemd-journal-remote.
remote=/lib/systemd/systemd-journal-remote
[ -x "$remote" ] || remote=/usr/lib/systemd/systemd-journal-remote
python3 - >"$tmp/events.export" <<'PY'
boot = "11111111111111111111111111111111"
t = 1764000000000000
n = 0
def ev(machine, mid, msg, **fields):
        global n
        n += 1
        print(f"__REALTIME_TIMESTAMP={t + n}\n__MONOTONIC_TIMESTAMP={n}\n_BOOT_ID={boot}\n_MACHINE_ID={machine}")
        print(f"MESSAGE_ID={mid}\nMESSAGE={msg}\nSYSLOG_IDENTIFIER=avmigrated")
        for k, v in fields.items():
                print(f"{k}={v}")
        print()
A, B, C, D, E = ("a" * 32, "b" * 32, "c" * 32, "d" * 32, "e" * 32)
S, F, H, U = ("5a3f0c1e7d2b4f6a9e1c3b5d7f9a0b2" + x for x in "1245")
Z = "8df63d31d9074706a0027fedecea2ca7"
# A: completed, gap 400 ms (from the message text, as today's daemon logs it).
ev(A, S, "Job 1 started: kaspersky-kesl → clamav.")
ev(A, H, "Job 1: protection verified again; unprotected so far 400000 µs.")
ev(A, F, "Job 1 (kaspersky-kesl → clamav) finished: completed")
# B: failed and unprotected (rollback failed), gap from the structured field.
ev(B, S, "Job 2 started: kaspersky-kesl → clamav.")
ev(B, H, "Job 2: handover", AVMIGRATE_GAP_USEC=2000000)
ev(B, U, "Job 2: rollback failed: x")
ev(B, F, "Job 2 (kaspersky-kesl → clamav) finished: failed: step install failed", AVMIGRATE_RESULT="failed")
# C: census only, wave 12, two blockers; the later census replaces the earlier.
ev(C, Z, "Readiness census", AVMIGRATE_WAVE=3, AVMIGRATE_STATE="pending", AVMIGRATE_BLOCKERS="deferred")
ev(C, Z, "Readiness census", AVMIGRATE_WAVE=12, AVMIGRATE_STATE="scheduled", AVMIGRATE_BLOCKERS="disk-space,on-battery")
# D: running; E: rolled back, then protected (gap 1 s).
ev(D, S, "Job 4 started: kaspersky-kesl → clamav.")
ev(E, S, "Job 5 started")
ev(E, U, "Job 5: unprotected")
ev(E, H, "Job 5: protection verified again; unprotected so far 1000000 µs.")
ev(E, F, "Job 5 (kaspersky-kesl → clamav) finished: rolled-back: verify failed")
# Not ours: ignored.
ev(A, "0123456789abcdef0123456789abcdef", "something else")
PY
mkdir "$tmp/journal"
"$remote" -o "$tmp/journal/remote.journal" - <"$tmp/events.export" 2>/dev/null
"$fleet" summary --journal-dir "$tmp/journal" --json >"$tmp/journal.json"
expect 0 "journal summary as expected" python3 - "$tmp/journal.json" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
want = {
        "machines": 5, "records": 14,
        "states": {"completed": 1, "failed": 1, "scheduled": 1, "running": 1, "rolled-back": 1},
        "waves": {"12": 1, "none": 4}, "blockers": {"disk-space": 1, "on-battery": 1},
        "gap": {"handovers": 3, "median_usec": 1000000, "p95_usec": 2000000, "max_usec": 2000000},
        "unprotected_count": 1, "unprotected": ["b" * 32], "failed_count": 1, "failed": ["b" * 32],
}
bad = [f"{k}: want {v}, got {g.get(k)}" for k, v in want.items() if g.get(k) != v]
print("\n".join(bad) or "journal summary as expected")
sys.exit(1 if bad else 0)
PY
expect 0 "Readiness blockers:" "$fleet" summary --journal-dir "$tmp/journal"
expect 1 "No such file" "$fleet" summary --reports "$tmp/nope"
expect 2 "Usage" "$fleet" summary --reports "$tmp/reports" --journal-dir "$tmp/journal"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
