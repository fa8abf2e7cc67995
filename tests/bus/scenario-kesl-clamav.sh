# shellcheck shell=bash
# Scenario "simulated Kaspersky → real ClamAV", sourced inside avm-testenv:
#
#   tests/bus/avm-testenv --build build bash -c '. tests/bus/scenario-kesl-clamav.sh && $AVMIGRATECTL start --wait'
#
# Sets up, in $AVM_TESTENV_DIR:
#   clamav/db/avm-test.ndb  the EICAR signature, generated now (clamav-testdb.sh)
#   clamav/clamd.conf       tests/fixtures/clamd-test.conf.in for ClamdMode=exec
#   sim/kesl/               the simulated KESL (avm-sim), installed, File_Threat_Protection
#                           started: a real fanotify blocker on the probe directory
#   root/opt/kaspersky/kesl/bin/kesl-control   the simulator at the vendor path
#   the protection scope    /home/$KC_USER (a real unprivileged user, created if
#                           missing, whose home holds Downloads/) and scope/tmp:
#                           ProtectedPaths= of the daemon, the simulated KESL's
#                           File Threat Protection scope (its blocker marks the
#                           whole mount and filters by these paths)
#   state/test-packages/    the test package backend's database: "kesl" installed, with
#                           a kesl.postrm that uninstalls the simulator (as purging the
#                           real package removes the product)
#   conf/avmigrate.conf.d/60-kesl-clamav.conf   Discouraged=kaspersky-kesl, Approved=clamav
#   plugins/                kaspersky-kesl.so and clamav.so only (the test-old/test-new
#                           plugins are removed so that only this pair is detected)
# exports AVM_SIM_STATE, AVM_PROBE_DIR, AVM_BLOCKER (the daemon inherits them),
# KC_USER, KC_HOME, KC_SCOPE (space-separated roots),
# restarts the daemon and checks that EICAR is blocked on access before the migration.
# clamd and clamonacc are not started here: the clamav plugin starts them
# (ClamdMode=exec at install, ClamonaccMode=exec at the handover).
#
# Returns non-zero (never exits) when something cannot be set up. Defines
# kc_eicar FILE, kc_probe_read (→ "blocked" / "readable" / "error: ..."),
# kc_on_access_blocked and kc_cleanup, and adds kc_cleanup to the EXIT trap
# (clamonacc, clamd and the simulated blocker are stopped; the shell's
# previous EXIT trap still runs afterwards).
# Needs root (fanotify), clamd and clamonacc.

kc_log() { echo "scenario: $*" >&2; }

# The 68-byte EICAR test string, assembled from pieces (never stored whole).
kc_eicar() {
        # shellcheck disable=SC2016 # literal $ in the test string
        local p1='X5O!P%@AP[4\PZX54(P^)7CC)7}$' p2='EICAR-STANDARD-ANTIVIRUS-' p3='TEST-FILE!$H+H*'
        printf '%s%s%s' "$p1" "$p2" "$p3" >"$1"
}

# Writes a fresh EICAR file into a scope root (the user's home) and reads it. Prints
# "blocked" (EPERM: "Operation not permitted"), "readable", or "error: ...".
kc_probe_read() {
        local f err
        f="$KC_HOME/kc-probe-$$-$RANDOM.com"
        rm -f "$f"
        if ! err=$(kc_eicar "$f" 2>&1); then
                rm -f "$f"
                case "$err" in *"Operation not permitted"*) echo blocked ;; *) echo "error: $err" ;; esac
                return 0
        fi
        if err=$(cat "$f" 2>&1 >/dev/null); then
                echo readable
        else
                case "$err" in *"Operation not permitted"*) echo blocked ;; *) echo "error: $err" ;; esac
        fi
        rm -f "$f"
}
kc_on_access_blocked() { [ "$(kc_probe_read)" = blocked ]; }

# Stops a process named by a pidfile: SIGTERM, SIGKILL after $2 tenths of a second.
kc_stop_pidfile() {
        local pid i
        [ -f "$1" ] || return 0
        pid=$(cat "$1" 2>/dev/null) || return 0
        case "$pid" in '' | *[!0-9]*) return 0 ;; esac
        kill -TERM "$pid" 2>/dev/null || return 0
        for ((i = 0; i < ${2:-50}; i++)); do
                kill -0 "$pid" 2>/dev/null || return 0
                sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
}

kc_cleanup() {
        [ -n "${AVM_TESTENV_DIR:-}" ] || return 0
        # clamonacc first: it must not outlive the clamd it asks.
        kc_stop_pidfile "$AVM_TESTENV_DIR/state/plugins/clamav/clamonacc.pid" 10
        kc_stop_pidfile "$AVM_TESTENV_DIR/state/plugins/clamav/clamd.pid" 50
        kc_stop_pidfile "$AVM_TESTENV_DIR/clamav/clamd.pid" 50
        if [ -n "${KC_AVM_SIM:-}" ] && [ -d "${AVM_SIM_STATE:-/nonexistent}" ]; then
                "$KC_AVM_SIM" stop-all >/dev/null 2>&1 || true
        fi
        return 0
}

# The command of the current EXIT trap (from "trap -p EXIT"), or nothing.
kc_exit_trap_command() {
        local prev words
        prev=$(trap -p EXIT)
        [ -n "$prev" ] || return 0
        eval "words=($prev)" # trap -- 'COMMAND' EXIT
        printf '%s' "${words[2]}"
}

kc_setup() {
        local src fixtures d probe root so p t kesl_version

        src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd) || return 1
        fixtures="$src/tests/fixtures"
        d=${AVM_TESTENV_DIR:-}
        if [ -z "$d" ] || [ -z "${AVM_BUILD_DIR:-}" ] || [ -z "${DBUS_SYSTEM_BUS_ADDRESS:-}" ]; then
                kc_log "must be sourced inside tests/bus/avm-testenv"
                return 1
        fi
        if [ "$(id -u)" != 0 ]; then
                kc_log "needs root (fanotify on-access blocking)"
                return 1
        fi
        for p in /usr/sbin/clamd /usr/sbin/clamonacc; do
                [ -x "$p" ] || { kc_log "$p is not installed"; return 1; }
        done
        [ -x "$AVM_BUILD_DIR/tests/fixtures/avm-blocker" ] || { kc_log "avm-blocker not built"; return 1; }

        KC_AVM_SIM="$fixtures/avm-sim"
        KC_PROBE_DIR="$d/state/probe"
        # A real unprivileged user: the person at the desktop whose files count.
        KC_USER=${KC_USER:-avmwitness}
        if ! id "$KC_USER" >/dev/null 2>&1; then
                useradd --system --create-home --home-dir "/home/$KC_USER" --shell /usr/sbin/nologin "$KC_USER" ||
                        { kc_log "cannot create the test user $KC_USER"; return 1; }
        fi
        KC_HOME=$(getent passwd "$KC_USER" | cut -d: -f6)
        [ -n "$KC_HOME" ] && mkdir -p "$KC_HOME/Downloads" && chown -R "$KC_USER:" "$KC_HOME" || return 1
        KC_SCOPE="$KC_HOME $d/scope/tmp"
        export KC_USER KC_HOME KC_SCOPE
        probe=$KC_PROBE_DIR
        root="$d/root"
        KC_KESL_CONTROL="$root/opt/kaspersky/kesl/bin/kesl-control"
        export AVM_SIM_STATE="$d/sim"
        export AVM_PROBE_DIR="$probe"
        export AVM_BLOCKER="$AVM_BUILD_DIR/tests/fixtures/avm-blocker"
        export KC_AVM_SIM KC_PROBE_DIR KC_KESL_CONTROL

        # Stop whatever we start, even when the caller forgets: chain our cleanup
        # in front of the caller's EXIT trap.
        t=$(kc_exit_trap_command)
        # shellcheck disable=SC2064 # the caller's command is expanded now, on purpose
        case "$t" in
        *kc_cleanup*) ;;
        '') trap 'kc_cleanup' EXIT ;;
        *) trap "kc_cleanup; $t" EXIT ;;
        esac

        # Plugins: only the pair under test.
        for p in kaspersky-kesl clamav; do
                so="$AVM_BUILD_DIR/plugins/$p/$p.so"
                [ -f "$so" ] || so=$(find "$AVM_BUILD_DIR/plugins" -name "$p.so" -type f | head -n 1)
                if [ -z "$so" ] || [ ! -f "$so" ]; then
                        kc_log "plugin $p.so not built"
                        return 1
                fi
                install -m 0644 "$so" "$d/plugins/$p.so" || return 1
        done
        rm -f "$d/plugins/test-old.so" "$d/plugins/test-new.so"

        # ClamAV: signature database generated now, clamd.conf from the template.
        mkdir -p "$d/clamav/tmp" || return 1
        sh "$fixtures/clamav-testdb.sh" "$d/clamav/db" || return 1
        sed -e "s|@TESTDIR@|$d/clamav|g" -e "s|@PROBEDIR@|$probe|g" "$fixtures/clamd-test.conf.in" >"$d/clamav/clamd.conf" || return 1

        # The probe directory both products watch (the daemon's own).
        mkdir -p "$probe" && chmod 0755 "$probe" || return 1

        # The simulated KESL at its vendor path, installed and protecting.
        "$KC_AVM_SIM" link-tree "$root" || return 1
        "$KC_AVM_SIM" kesl init --rtp on --probe-dir "$probe" --scope "${KC_SCOPE// /:}" ||
                { kc_log "simulated KESL did not start"; return 1; }
        # avm-testenv's cleanup kills every $AVM_TESTENV_DIR/*.pid: a second net for the blocker.
        ln -sfn "$AVM_SIM_STATE/kesl/blocker.pid" "$d/kesl-blocker.pid"
        kesl_version=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' \
                "$AVM_SIM_STATE/kesl/state.json") || return 1

        # Test package backend: kesl installed; purging it uninstalls the simulator
        # and removes kesl-control, as the real package's removal would.
        mkdir -p "$d/state/test-packages" || return 1
        printf '%s\n' "$kesl_version" >"$d/state/test-packages/kesl"
        cat >"$d/state/test-packages/kesl.postrm" <<EOF
#!/bin/sh
# postrm of the simulated kesl package (test package backend)
set -e
AVM_SIM_STATE='$AVM_SIM_STATE' '$KC_AVM_SIM' kesl uninstall
rm -f '$KC_KESL_CONTROL'
EOF
        chmod 0755 "$d/state/test-packages/kesl.postrm"
        rm -f "$d/state/test-packages/clamav-daemon" "$d/state/test-packages/clamav-freshclam"

        cat >"$d/conf/avmigrate.conf.d/60-kesl-clamav.conf" <<EOF
# scenario-kesl-clamav.sh: simulated Kaspersky → real ClamAV
[Manager]
Discouraged=kaspersky-kesl
Approved=clamav
AllowOverlap=auto
MonitorIntervalSec=0.2
StepTimeoutSec=120
# clamonacc guards a new directory when its inotify walk reaches it: once
# more than 15 s on a CI machine shared with three booted containers (the
# handover then rolled back, correctly, and the case failed).
VerifyTimeoutSec=60
PackageBackend=test
ProtectedPaths=$KC_SCOPE
ProtectMounts=no

[Product kaspersky-kesl]
KeslControl=$KC_KESL_CONTROL
DetectByTool=no
VerifyRemovedPath=$KC_KESL_CONTROL
KeslTimeoutSec=30
TaskSettleTimeoutSec=15

[Product clamav]
ClamdMode=exec
ClamdConfig=$d/clamav/clamd.conf
ClamonaccMode=exec
ClamdStartTimeoutSec=60
ClamonaccStartTimeoutSec=30
MaxDefinitionsAgeDays=0
EOF

        # The daemon inherits AVM_SIM_STATE, AVM_PROBE_DIR, AVM_BLOCKER from us.
        avm-testenv daemon-stop || return 1
        avm-testenv daemon-start || return 1

        # Before: EICAR in the probe directory is blocked by the simulated KESL.
        case "$(kc_probe_read)" in
        blocked) kc_log "before: EICAR blocked on access in $KC_HOME by the simulated KESL" ;;
        *)
                kc_log "before: EICAR is NOT blocked on access in $KC_HOME ($(kc_probe_read))"
                return 1
                ;;
        esac
        return 0
}

kc_setup
