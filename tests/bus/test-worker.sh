#!/usr/bin/env bash
# avmigrate-worker: the exec'd helper that runs every plugin operation.
#   help       --help/--version; run from a shell for one detection; bad input
#   stale      a stale worker record never gets a stranger killed
#   boundary   what the vendor tools see: default SIGPIPE, a minimal
#              environment (PassEnvironment= passes more), nothing of the daemon
#   artifact, artifact-bad   a local artifact: verified, copied, installed;
#              a wrong hash, and a copy changed before install, are refused
# shellcheck disable=SC2119 # lib.sh helpers with optional arguments
set -u
# shellcheck source=tests/bus/lib.sh
. "$(dirname "$0")/lib.sh"

worker="$AVM_BUILD_DIR/daemon/avmigrate-worker"
d=$AVM_TESTENV_DIR

run_worker() { # run_worker ARGS... : as the daemon would, from a shell
        STATE_DIRECTORY="$d/state" CONFIGURATION_DIRECTORY="$d/conf" AVMIGRATE_DATA_DIR="$d/data" \
                AVMIGRATE_PLUGIN_DIR="$d/plugins" "$worker" "$@"
}

case_help() {
        local out rc
        out=$("$worker" --help)
        check "--help names the commands" contains "$out" 'sample ID'
        check "--version" contains "$("$worker" --version)" '^avmigrate-worker [0-9]'
        out=$(run_worker detect)
        check "detect from a shell prints DATA with the products" \
                contains "$out" '^DATA={"products":\[.*"id":"test-old".*"installed":true'
        check "detect from a shell ends with ERRNO=0" [ "$(tail -n 1 <<<"$out")" = ERRNO=0 ]
        out=$(run_worker bogus 2>/dev/null)
        rc=$?
        check "an unknown command fails with a reason" [ $rc = 1 ] && contains "$out" "^ERRMSG=unknown command 'bogus'"
        run_worker --fd=abc detect >/dev/null 2>&1
        check "an invalid --fd is refused (exit 2)" [ $? = 2 ]
        out=$(run_worker step 2>/dev/null)
        check "step without a job says so" contains "$out" '^ERRMSG=there is no job'
        printf '{"id":' >"$d/bad-job.json"
        out=$(run_worker --job "$d/bad-job.json" step 2>/dev/null)
        check "a corrupt job file is refused, not run" contains "$out" '^ERRMSG=cannot read the job: not valid JSON'
        check "... and left where it is" [ -f "$d/bad-job.json" ]
        check "the daemon exports no symbols of its own (it loads no plugins)" \
                [ -z "$(nm -D --defined-only "$AVMIGRATED" | awk '$2 ~ /^[TDBR]$/ && $3 !~ /@/ && $3 !~ /^_/')" ]
        # The daemon's one dlopen() is libcurl's, on its first fetch
        # (daemon/curl-lazy.c): it never maps a plugin, whatever it did.
        check "the daemon maps no plugin (detection ran: $(prop State))" \
                not grep -q '/plugins/\|avmigrate-plugin\|libavm-' "/proc/$(avm-testenv daemon-pid)/maps"
        check "the daemon maps no libcurl before a fetch" not grep -q 'libcurl' "/proc/$(avm-testenv daemon-pid)/maps"
        # (__*: the toolchain's own, e.g. a sanitizer's; @: libc's copy relocations)
        check "the worker exports the plugin ABI (avm_*) and nothing else" \
                [ -z "$(nm -D --defined-only "$worker" | awk '$2 ~ /^[TDBR]$/ && $3 !~ /@/ && $3 !~ /^(avm_|__)/')" ]
        check "... the ABI is there" contains "$(nm -D --defined-only "$worker")" ' avm_host_run$'
}

# The start time (field 22 of /proc/PID/stat) and boot id: a worker record.
identity() {
        local stat
        stat=$(cat "/proc/$1/stat")
        stat=${stat##*) }
        echo "$1 $(cut -d' ' -f20 <<<"$stat") $(tr -d - </proc/sys/kernel/random/boot_id)"
}

case_stale() {
        local stranger genuine
        setsid sleep 300 &
        stranger=$!
        # A record in the old format (a bare pid), then one whose start time
        # is not the stranger's (its pid was reused): neither is ours.
        echo "$stranger" >"$d/state/worker-step.pid"
        echo "$stranger 1 $(tr -d - </proc/sys/kernel/random/boot_id)" >"$d/state/worker-monitor.pid"
        echo "$stranger" >"$d/state/worker-detect.run"
        avm-testenv daemon-stop
        local t0=$SECONDS
        avm-testenv daemon-start
        check "start-up does not wait for a stranger named in a stale .run file" [ $((SECONDS - t0)) -lt 20 ]
        sleep 0.3
        check "a process named by a stale record but not ours survives" kill -0 "$stranger"
        check "stale records are removed" [ ! -e "$d/state/worker-step.pid" ] && [ ! -e "$d/state/worker-monitor.pid" ]
        kill "$stranger" 2>/dev/null
        # A record that proves its process (same boot, same start time) is
        # a worker left over: killed with its process group.
        setsid sleep 300 &
        genuine=$!
        sleep 0.2
        identity "$genuine" >"$d/state/worker-step.pid"
        avm-testenv daemon-stop
        avm-testenv daemon-start
        sleep 0.3
        check "a proven leftover worker is killed at start-up" not kill -0 "$genuine"
        check "the daemon logged it" contains "$(cat "$d/daemon.log")" "Killed worker process group $genuine"
}

case_boundary() {
        local v
        install -m 0644 "$(find "$AVM_BUILD_DIR/plugins" -name generic.so -type f | head -n 1)" "$d/plugins/generic.so"
        mkdir -p "$d/conf/products.d"
        cat >"$d/probe.sh" <<'X'
#!/bin/sh
# What a vendor tool run by a plugin sees: its ignored signals, the daemon's
# secret, a passed variable, how many sockets it holds (the daemon's bus
# connection, the worker's protocol socket), NOTIFY_SOCKET.
ign=$(sed -n 's/^SigIgn:[[:space:]]*//p' "/proc/$$/status")
fds=$(for f in /proc/$$/fd/*; do readlink "$f"; done | grep -c '^socket:')
echo "version $ign/${AVM_SECRET:-none}/${AVM_PASSED:-none}/$fds/${NOTIFY_SOCKET:-nonotify}"
X
        chmod 0755 "$d/probe.sh"
        cat >"$d/conf/products.d/probe.conf" <<X
[Product]
Name=Boundary probe

[Detect]
Command=$d/probe.sh
VersionRegex=^version (.*)\$
X
        set_config "[Manager]
PassEnvironment=AVM_PASSED

[Product generic]
Product=probe"
        # The daemon has these in its environment; only AVM_PASSED is passed on.
        v=$(busctl get-property "$DEST" "$OBJ" "$IFACE" Products | grep -o '"generic" "[^"]*" "[^"]*"')
        echo "# generic: $v"
        check "a vendor tool starts with no signal ignored (SIGPIPE is not inherited)" contains "$v" '"0000000000000000/'
        check "the daemon's environment does not leak to vendor tools" contains "$v" '/none/'
        check "PassEnvironment= passes a variable" contains "$v" '/yes/'
        check "no NOTIFY_SOCKET for vendor tools" contains "$v" '/nonotify"'
        check "vendor tools inherit no socket (not the bus, not the worker protocol)" contains "$v" '/0/nonotify"'
        # A products.d file names commands run as root: one others may write is refused.
        chmod 0666 "$d/conf/products.d/probe.conf"
        avm-testenv daemon-stop
        avm-testenv daemon-start
        v=$(busctl get-property "$DEST" "$OBJ" "$IFACE" Products | grep -o '"generic" "[^"]*" "[^"]*"')
        check "a products.d file writable by others is not used" [ "$v" = '"generic" "Product described in products.d" ""' ]
        check "... and the log says why" contains "$(cat "$d/daemon.log")" 'Refusing product description .*probe.conf: writable by group or others'
}

# The fetch step verifies [Product] Artifact= and keeps a root-only copy;
# install installs exactly that copy (the test product takes the file's
# first line as its version), re-checked first.
artifact_config() { # artifact_config SHA256 [MiB]: the artifact padded to MiB after its first line
        mkdir -p "$d/art"
        { printf '3.0-from-artifact\n'; head -c "$((${2:-0} * 1048576))" /dev/zero; } >"$d/art/test-new_3.0.pkg"
        set_config "[Product test-new]
Artifact=$d/art/test-new_3.0.pkg
ArtifactSHA256=${1:-$(sha256sum "$d/art/test-new_3.0.pkg" | cut -d' ' -f1)}"
}
version_of() { busctl get-property "$DEST" "$OBJ" "$IFACE" Products | grep -o "\"$1\" \"[^\"]*\" \"[^\"]*\"" | cut -d'"' -f6; }
# shellcheck disable=SC2317 # called through check
pause_at() { # pause_at STEP: pauses the running job just before STEP
        for _ in $(seq 1 20); do
                mcall Pause >/dev/null
                wait_state_not running || return 1
                [ "$(prop Step)" = "$1" ] && return 0
                mcall Resume >/dev/null
        done
        return 1
}

case_artifact() {
        artifact_config "$(printf '3.0-from-artifact\n' | sha256sum | cut -d' ' -f1)"
        start_job >/dev/null
        wait_finished
        check "job completed" [ "$(prop State)" = completed ]
        # The version comes with the detection that follows the job.
        for _ in $(seq 1 100); do [ "$(version_of test-new)" = 3.0-from-artifact ] && break; sleep 0.1; done
        check "the artifact is what was installed" [ "$(version_of test-new)" = 3.0-from-artifact ]
        check "report: artifact verified at fetch and used at install" \
                [ "$(report_field '[e["event"] for e in r["timeline"] if e["event"].startswith("artifact-")]')" = "['artifact-verified', 'artifact-used']" ]
        check "the verified copy is removed after the job" [ -z "$(find "$d/state/artifacts" -type f 2>/dev/null)" ]
        check "the admin's file is left alone" [ -f "$d/art/test-new_3.0.pkg" ]
}

case_artifact_bad() {
        local copy
        artifact_config 0000000000000000000000000000000000000000000000000000000000000000
        start_job >/dev/null
        wait_finished
        check "a wrong SHA-256 fails the job at fetch" [ "$(report_field 'r["steps"][1]["result"]')" = failed ]
        check "... saying why" contains "$(prop LastError)" 'has SHA-256 .*expected 0000'
        check "... and nothing was installed" not installed test-new
        check "... the old product still protects" protecting test-old
        check "... no copy is kept" [ -z "$(find "$d/state/artifacts" -type f 2>/dev/null)" ]

        # The copy changes between fetch and install: install refuses it.
        # pause_at needs its Pause to arrive while fetch runs: 32 MiB to copy
        # and hash make fetch last long enough whatever a worker's start costs
        # (a few ms since issue 13).
        artifact_config "" 32
        start_job >/dev/null
        check "job paused before install" pause_at install
        copy=$(find "$d/state/artifacts" -type f | head -n 1)
        check "the verified copy is root-only" [ "$(stat -c %a "$(dirname "$(dirname "$copy")")")" = 700 ]
        printf '6.6-tampered\n' >"$copy"
        mcall Resume >/dev/null
        wait_finished
        check "a changed copy is refused at install" contains "$(report_field 'r["steps"][2]["error"]')" 'changed since it was verified'
        check "... the job rolled back" [ "$(prop State)" = rolled-back ]
        check "... the tampered file was never installed" [ "$(version_of test-new)" != 6.6-tampered ]
        check "... the old product protects" protecting test-old
}

export AVM_SECRET=leak AVM_PASSED=yes NOTIFY_SOCKET=/run/nonexistent-notify
case "${1:-help}" in
help) case_help ;;
stale) case_stale ;;
boundary) case_boundary ;;
artifact) case_artifact ;;
artifact-bad) case_artifact_bad ;;
*) echo "unknown case $1"; exit 2 ;;
esac
finish
