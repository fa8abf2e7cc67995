#!/usr/bin/env bash
# The desktop's side of a fleet rollout, against real components: the built
# avmigrated on a private bus (avm-testenv) polls a manifest from nginx over
# TLS with a PKI made at run time (tests/fleet/make-pki).
#   - a manifest whose wave is ahead: State scheduled, ScheduledAt = the
#     phase start, a readiness census with both its blockers (disk space and
#     an uncoverable scope root), read back by avmigrate-fleet summary
#     through systemd-journal-remote (bus-scope-first-blocker: a Start
#     stops at the first)
#   - tampered, expired, lower serial, wrong CA, wrong EKU, oversize: Refresh
#     fails with the reason, LastError and the journal say it, the state and
#     the kept serial do not change, nothing is installed
#   - the same manifest again: 304 (If-None-Match)
#   - kept across a restart without the server
#   - the manifest's windows and deadline in ScheduledAt
#   - paused inside the wave: no start; the user's postponement holds it
#     back until the deadline, then the migration runs, with the manifest's
#     artifact downloaded over TLS and installed
#   - past the deadline, an artifact that is truncated (by the server, or
#     shorter than the manifest's size), has the wrong SHA-256 or stalls
#     (DownloadStallTimeoutSec=): no job, nothing installed, LastError and the
#     journal say why, no partial download of a wrong hash kept; each new
#     manifest is tried at once, not 15 minutes after the last failure
#   - Refresh from a caller polkit refuses: refused
set -u
# shellcheck source=tests/bus/lib.sh
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
command -v nginx >/dev/null || { echo "nginx missing (tools/run-tests installs it)"; exit 1; }

td=$AVM_TESTENV_DIR
pki=$td/pki
www=$td/www
nginx_pid='' stall_pid=''
# shellcheck disable=SC2317 # called by the EXIT trap
stop_servers() {
        # Only what this script started, by pid.
        for pid in $nginx_pid $stall_pid; do
                kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
        done
}
trap stop_servers EXIT

"$here/../fleet/make-pki" "$pki" >/dev/null
mkdir -p "$www" "$td/nginx"
chmod -R a+rX "$pki" "$www"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
{ "$here/../fleet/nginx-prelude" "$td/nginx"; cat <<CONF
        default_type application/octet-stream;
        server {
                listen 127.0.0.1:$port ssl;
                ssl_certificate $pki/server.pem;
                ssl_certificate_key $pki/server.key;
                root $www;
        }
}
CONF
} >"$td/nginx/nginx.conf"
nginx -p "$td/nginx" -e "$td/nginx/error.log" -c "$td/nginx/nginx.conf" -g 'daemon off;' &
nginx_pid=$!
url=https://127.0.0.1:$port/manifest.json
# The misbehaving server for the artifact's network faults (/stall, /truncated).
sport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 "$here/../fleet/stall-server" "$sport" "$pki/server.pem" "$pki/server.key" >"$td/stall.log" 2>&1 &
stall_pid=$!

iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
now=$(date +%s)
n=0
# publish SIGNER JSON: the manifest and its detached signature, signed by
# the openssl CLI (so the wrong signers are possible); distinct mtimes make
# distinct ETags.
publish() {
        printf '%s\n' "$2" >"$www/manifest.json"
        openssl cms -sign -binary -in "$www/manifest.json" -signer "$pki/$1.pem" -inkey "$pki/$1.key" -outform DER \
                -out "$www/manifest.json.p7s"
        n=$((n + 1))
        touch -d "@$((2000000000 + n))" "$www/manifest.json"
        chmod a+r "$www"/*
}
# manifest SERIAL PHASE-START [EXTRA-JSON-FIELDS]
manifest() {
        printf '{"version": 1, "serial": %s, "expires": "%s", "from": "test-old", "to": "test-new", "artifact": %s,
 "phases": [{"start": "2026-01-01T00:00:00Z", "percentage": 0}, {"start": "%s", "percentage": 100}],
 "salt": "rollout-test"%s}' "$1" "${EXPIRES:-2099-01-01T00:00:00Z}" "${ARTIFACT:-\"repository\"}" "$(iso "$2")" "${3:-}"
}
refresh() { mcall Refresh 2>&1; }
kept_serial() { cat "$td/state/fleet/serial"; }
log_has() { grep -q -- "$1" "$td/daemon.log"; }
# shellcheck disable=SC2317 # called through check
wait_state() { # wait_state S: until State is S (10 s)
        for _ in $(seq 1 100); do [ "$(prop State)" = "$1" ] && return 0; sleep 0.1; done; return 1; }

# 1. The wave is an hour ahead; preflight would fail on disk space, and on a
# scope root the replacement cannot cover that the old product protects: the
# census lists both (a real start stops at the first).
wave_at=$((now + 3600))
printf '%s\n%s\n' "$td/scope/home" "$td/scope/tmp" >"$(old scope)"
echo "$td/scope/tmp" >"$(new uncoverable)"
publish signer "$(manifest 5 "$wave_at")"
set_config "[Manager]
ManifestURL=$url
TrustedCA=$pki/ca.pem
ManifestServerCA=$pki/ca.pem
MinDiskSpaceMB=100000000"
check "a manifest whose wave is ahead: State scheduled" wait_state scheduled
check "ScheduledAt is the phase start" [ "$(prop ScheduledAt)" = "${wave_at}000000" ]
check "the serial is kept" [ "$(kept_serial)" = 5 ]
check "avmigratectl status shows when" contains "$("$AVMIGRATECTL" status)" "Scheduled.*(in 5[89]min\|(in 1h"
for _ in $(seq 1 100); do log_has "Readiness census" && break; sleep 0.1; done
census=$(grep "Readiness census" "$td/daemon.log" | tail -n 1)
echo "census: $census"
check "census: MESSAGE_ID for avmigrate-fleet summary" contains "$census" "MESSAGE_ID=8df63d31d9074706a0027fedecea2ca7"
check "census: both blockers" contains "$census" "AVMIGRATE_BLOCKERS=disk-space,scope\b"
check "census: both reasons" contains "$census" "blocked by disk-space,scope (only [0-9]* MB free .*; test-new cannot protect $td/scope/tmp"
check "census: state and serial" contains "$census" "AVMIGRATE_STATE=scheduled.*AVMIGRATE_MANIFEST_SERIAL=5\|AVMIGRATE_MANIFEST_SERIAL=5.*AVMIGRATE_STATE=scheduled"
check "census: a wave 1..100" contains "$census" "AVMIGRATE_WAVE=\([1-9]\|[1-9][0-9]\|100\)\b"
# What the central journal would get, read by the admin's view: the fields
# must be the ones avmigrate-fleet summary counts.
remote=/lib/systemd/systemd-journal-remote
[ -x "$remote" ] || remote=/usr/lib/systemd/systemd-journal-remote
python3 - "$census" >"$td/census.export" <<'PY'
import re, sys
line = sys.argv[1]
msg, fields = re.match(r".*?: (.*) \[(MESSAGE_ID=.*)\]$", line).groups()
print("__REALTIME_TIMESTAMP=1764000000000000\n__MONOTONIC_TIMESTAMP=1\n_BOOT_ID=" + "1" * 32)
print("_MACHINE_ID=" + open("/etc/machine-id").read().strip() + "\nMESSAGE=" + msg)
print("\n".join(fields.split(" ")) + "\n")
PY
mkdir -p "$td/journal"
"$remote" -o "$td/journal/remote.journal" - <"$td/census.export" 2>/dev/null
wave=$(sed -n 's/.*AVMIGRATE_WAVE=\([0-9]*\).*/\1/p' <<<"$census")
summary=$("$AVM_BUILD_DIR/fleet/avmigrate-fleet" summary --journal-dir "$td/journal" --json)
echo "summary: $summary"
check "census: avmigrate-fleet summary counts its wave, state and each blocker" python3 -c '
import json, sys
g = json.loads(sys.argv[1])
sys.exit(0 if (g["waves"], g["states"], g["blockers"]) == ({sys.argv[2]: 1}, {"scheduled": 1}, {"disk-space": 1, "scope": 1}) else 1)' "$summary" "$wave"
check "census: nothing installed" not installed test-new
check "census: no job" [ "$(prop Job)" = "/" ]
rm -f "$(old scope)" "$(new uncoverable)"

# 2. Bad manifests: each refused with its reason, nothing changes.
bad() { # bad DESCRIPTION ERROR-NAME REASON
        local out
        out=$(refresh)
        echo "$1: $out"
        check "$1: Refresh fails with the reason" contains "$out" "$3"
        check "$1: LastError has the error and the reason" contains "$(prop LastError)" "$2: fleet manifest not used: .*$3"
        check "$1: still scheduled at the same time" [ "$(prop State) $(prop ScheduledAt)" = "scheduled ${wave_at}000000" ]
        check "$1: the kept serial is unchanged" [ "$(kept_serial)" = 5 ]
        check "$1: nothing installed" not installed test-new
}
publish signer "$(manifest 6 "$now")"
sed -i 's/"salt"/"salt" /' "$www/manifest.json"
bad tampered SignatureInvalid "signature does not verify"
check "tampered: the journal event says why" log_has "not used: signature does not verify.*MESSAGE_ID=5a3f0c1e7d2b4f6a9e1c3b5d7f9a0b28"
EXPIRES=2020-01-01T00:00:00Z publish signer "$(EXPIRES=2020-01-01T00:00:00Z manifest 6 "$now")"
bad expired SignatureInvalid "expired at 2020-01-01"
publish signer "$(manifest 4 "$now")"
bad "lower serial" SignatureInvalid "serial 4 is lower than the last accepted 5"
publish other "$(manifest 6 "$now")"
bad "wrong CA" SignatureInvalid "unable to get local issuer certificate"
publish tls "$(manifest 6 "$now")"
bad "wrong EKU" SignatureInvalid "lacks the code-signing extended key usage"
publish signer "$(manifest 6 "$now" ", \"x\": \"$(head -c 300000 /dev/zero | tr '\0' a)\"")"
bad oversize DownloadFailed "more than the 262144 bytes allowed"

# 3. The good one again, then 304.
publish signer "$(manifest 5 "$wave_at")"
check "the same serial again is accepted" [ -z "$(refresh)" ]
check "... and LastError is cleared" [ -z "$(prop LastError)" ]
check "a second poll: Refresh succeeds" [ -z "$(refresh)" ]
check "a second poll: nginx answered 304" [ "$(grep 'GET /manifest.json ' "$td/nginx/access.log" | tail -n 1 | awk '{print $9}')" = 304 ]

# 4. Enough disk now (a restart: the kept manifest holds without a poll).
set_config "[Manager]
ManifestURL=https://127.0.0.1:1/unreachable.json
TrustedCA=$pki/ca.pem
ManifestServerCA=$pki/ca.pem"
check "after a restart without the server: the kept manifest still schedules" wait_state scheduled
check "... with its ScheduledAt" [ "$(prop ScheduledAt)" = "${wave_at}000000" ]
set_config "[Manager]
ManifestURL=$url
TrustedCA=$pki/ca.pem
ManifestServerCA=$pki/ca.pem
DownloadStallTimeoutSec=2"

# 5. Windows, postponement and the deadline, on a wave still ahead.
# next_local HOUR T: the first HOUR:00 local time at or after T (inside the
# window HOUR:00-HOUR:59 already: T).
next_local() {
        python3 -c 'import datetime as d, sys
h, t = int(sys.argv[1]), int(sys.argv[2])
x = d.datetime.fromtimestamp(t)
if x.hour == h: print(t); sys.exit()
y = x.replace(hour=h, minute=0, second=0, microsecond=0)
if y <= x: y += d.timedelta(days=1)
print(int(y.timestamp()))' "$1" "$2"
}
win_at=$(next_local 3 "$wave_at")
publish signer "$(manifest 6 "$wave_at" ', "windows": ["03:00-04:00"]')"
check "windows: accepted" [ -z "$(refresh)" ]
check "windows: ScheduledAt is the first window after the phase start" [ "$(prop ScheduledAt)" = "${win_at}000000" ]
deadline=$((wave_at + 60))
expect=$win_at
[ "$win_at" -gt "$deadline" ] && expect=$deadline
publish signer "$(manifest 7 "$wave_at" ", \"windows\": [\"03:00-04:00\"], \"deadline\": \"$(iso "$deadline")\"")"
check "deadline: accepted" [ -z "$(refresh)" ]
check "deadline: the window holds back until the deadline at most" [ "$(prop ScheduledAt)" = "${expect}000000" ]

# 6. The wave has started but the rollout is paused: no start.
past=$(($(date +%s) - 60))
publish signer "$(manifest 8 "$past" ', "paused": true')"
check "paused: accepted" [ -z "$(refresh)" ]
check "paused: nothing scheduled" [ "$(prop State) $(prop ScheduledAt)" = "pending 0" ]
sleep 2
check "paused inside the wave: no job" [ "$(prop Job)" = "/" ]
check "paused: nothing installed" not installed test-new

# 7. Unpaused, but the user postponed: ScheduledAt is the end of the postponement.
check "the user postpones for 60 s" [ -z "$(mcall Postpone t 60000000 2>&1)" ]
publish signer "$(manifest 9 "$past")"
check "unpaused: accepted" [ -z "$(refresh)" ]
at=$(prop ScheduledAt)
check "postponed: ScheduledAt is about a minute ahead" [ "$at" -gt "$((($(date +%s) + 50) * 1000000))" ]
check "postponed: no job" [ "$(prop Job)" = "/" ]

# 8. The deadline has passed, but the artifact cannot be had: each fault
# ends the attempt with its reason and changes nothing. Every manifest is a
# new serial with a new artifact: tried at once (a failure holds back only
# the same manifest, for 15 minutes).
serial=9
artifact_fault() { # artifact_fault DESCRIPTION ARTIFACT-JSON REASON
        local t0 elapsed
        serial=$((serial + 1))
        publish signer "$(ARTIFACT=$2 manifest "$serial" "$past" ", \"deadline\": \"$(iso "$past")\"")"
        t0=$(date +%s)
        check "$1: manifest $serial accepted" [ -z "$(refresh)" ]
        # Cleared when the manifest was accepted: the next error is this attempt's.
        for _ in $(seq 1 300); do [ -n "$(prop LastError)" ] && break; sleep 0.1; done
        elapsed=$(($(date +%s) - t0))
        echo "$1: after ${elapsed}s LastError: $(prop LastError)"
        check "$1: tried at once, LastError names DownloadFailed and the reason" \
                contains "$(prop LastError)" "DownloadFailed: cannot download the artifact of fleet manifest $serial: .*$3"
        check "$1: the journal says why" log_has \
                "Fleet manifest $serial: the migration did not start, the artifact could not be downloaded.*$3.*AVMIGRATE_MANIFEST_SERIAL=$serial AVMIGRATE_REASON="
        check "$1: no job" [ "$(prop Job)" = "/" ]
        check "$1: nothing installed" not installed test-new
        check "$1: retried no sooner than 15 minutes" [ "$(prop ScheduledAt)" -gt "$((($(date +%s) + 14 * 60) * 1000000))" ]
        check "$1: the old product still protects" protecting test-old
}
json_artifact() { # json_artifact URL SHA256 SIZE
        printf '{"url": "%s", "sha256": "%s", "size": %s}' "$1" "$2" "$3"
}
x1000=$(head -c 1000 /dev/zero | tr '\0' x | sha256sum | cut -d' ' -f1)
artifact_fault "truncated by the server" "$(json_artifact "https://127.0.0.1:$sport/truncated" "$x1000" 1000)" \
        "/truncated: transfer ended early after 100 bytes"
printf 'short\n' >"$www/short.pkg"
artifact_fault "shorter than the manifest's size" \
        "$(json_artifact "https://127.0.0.1:$port/short.pkg" "$(sha256sum "$www/short.pkg" | cut -d' ' -f1)" 1000)" \
        "the downloaded file is not the artifact (removed, never installed): .*/short.pkg: 6 bytes, expected 1000"
check "shorter: no partial download kept" [ -z "$(find "$td/state/fleet" -name "$(sha256sum "$www/short.pkg" | cut -d' ' -f1).part")" ]
printf 'not-the-artifact\n' >"$www/wrong.pkg"
chmod a+r "$www"/*
want=$(printf 'the-artifact-signed-for\n' | sha256sum | cut -d' ' -f1)
artifact_fault "wrong SHA-256" "$(json_artifact "https://127.0.0.1:$port/wrong.pkg" "$want" 17)" \
        "the downloaded file is not the artifact (removed, never installed): .*/wrong.pkg: SHA-256 does not match the manifest"
check "wrong SHA-256: no partial download kept" [ -z "$(find "$td/state/fleet" -name "$want.part")" ]
check "wrong SHA-256: nothing kept as the artifact" [ ! -e "$td/state/artifacts/$want" ]
t0=$(date +%s)
artifact_fault "stalled" "$(json_artifact "https://127.0.0.1:$sport/stall" "$(printf stall | sha256sum | cut -d' ' -f1)" 1000)" \
        "/stall: stalled or timed out"
# libcurl averages the speed over about 5 s: 2 s gives up after ≈9 s, 30 s after ≈36.
check "stalled: given up after DownloadStallTimeoutSec=2, not the default 30 s" [ $(($(date +%s) - t0)) -lt 20 ]
out=$(mcall Postpone t 60000000 2>&1)
check "past the deadline, no job: no postponement is possible" contains "$out" "deadline has passed"

# 8b. A migration that fails (the install) rolls back; the same manifest
# does not start it again at the next poll — an admin looks first; the
# next serial (step 9) is the sign that the cause is fixed.
touch "$(new fail-install)"
serial=$((serial + 1))
publish signer "$(manifest "$serial" "$past" ", \"deadline\": \"$(iso "$past")\"")"
check "a failing migration: manifest $serial accepted" [ -z "$(refresh)" ]
for _ in $(seq 1 100); do [ "$(prop Job)" != "/" ] && break; sleep 0.1; done
wait_finished
check "a failing migration: rolled back" [ "$(prop State)" = rolled-back ]
failed_job=$(prop Job)
check "the same serial polled again: accepted" [ -z "$(refresh)" ]
sleep 2
check "the same serial: not started again, nothing scheduled" \
        [ "$(prop State) $(prop ScheduledAt) $(prop Job)" = "rolled-back 0 $failed_job" ]
check "the same serial: the old product still protects" protecting test-old
rm -f "$(new fail-install)"

# 9. A higher serial, the deadline passed: the postponement holds back no
# longer; the migration runs again, with the manifest's artifact downloaded
# over TLS.
printf '4.0-from-fleet\n' >"$www/test-new_4.0.pkg"
sum=$(sha256sum "$www/test-new_4.0.pkg" | cut -d' ' -f1)
export ARTIFACT="{\"url\": \"https://127.0.0.1:$port/test-new_4.0.pkg\", \"sha256\": \"$sum\", \"size\": 15}"
serial=$((serial + 1))
publish signer "$(manifest "$serial" "$past" ", \"deadline\": \"$(iso "$past")\"")"
unset ARTIFACT
check "past the deadline: accepted" [ -z "$(refresh)" ]
for _ in $(seq 1 100); do [ "$(prop Job)" != "/" ] && break; sleep 0.1; done
check "past the deadline: the migration started despite the postponement" [ "$(prop Job)" != "/" ]
out=$(mcall Postpone t 60000000 2>&1)
echo "Postpone past the deadline: $out"
# (the test plugins' migration may already be over by the time polkit answers)
check "... and no postponement is possible" contains "$out" "deadline has passed\|already running\|no migration to postpone"
wait_finished
check "the migration completed" [ "$(report_field 'r["result"]')" = completed ]
check "the old product is gone, the new one protects" protecting test-new
check "the manifest's artifact is what was installed" [ "$(cat "$(new installed)")" = 4.0-from-fleet ]
check "report: the download verified at fetch and used at install" \
        [ "$(report_field '[e["event"] for e in r["timeline"] if e["event"].startswith("artifact-")]')" = "['artifact-downloaded', 'artifact-verified', 'artifact-used']" ]
check "journal: the start names the serial" log_has "Fleet manifest $serial: migration test-old → test-new started.*AVMIGRATE_MANIFEST_SERIAL=$serial"
check "journal: the end names the serial" log_has "finished: completed.*AVMIGRATE_RESULT=completed.*AVMIGRATE_MANIFEST_SERIAL=$serial"
check "no partial download is left" [ -z "$(find "$td/state/fleet" -name '*.part')" ]

# 10. polkit refuses Refresh to an unprivileged caller (avm-polkit-stub refuses games at once).
"$AVM_BUILD_DIR/tests/bus/avm-polkit-stub" serve 65534 >"$td/polkit.log" 2>&1 &
stub_pid=$!
for _ in $(seq 1 100); do grep -q ready "$td/polkit.log" && break; sleep 0.05; done
out=$(setpriv --reuid=5 --regid=5 --clear-groups busctl call "$DEST" "$OBJ" "$IFACE" Refresh 2>&1)
echo "unauthorized Refresh: $out"
check "Refresh without authorization is refused" contains "$out" "Not authorized to perform org.avmigrate.Migrate1.refresh"
kill "$stub_pid" 2>/dev/null
wait "$stub_pid" 2>/dev/null
finish
