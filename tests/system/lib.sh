# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/system/lib.sh: Debian 12 root (debootstrap, cached) and a
# systemd-nspawn --boot container around it. Sourced by tests/system/run and
# tests/system/fresh-machine-check. Needs root, systemd-nspawn (systemd-container),
# debootstrap.
#
# The host need not run systemd: nspawn runs with --register=no --keep-unit
# (no machined, no scope), and commands enter the container with nsenter(1)
# into the namespaces of its PID 1 (machinectl shell needs machined).

SYS_SUITE=bookworm
SYS_MACHINE=${SYS_MACHINE:-avmsys$$}
SYS_NSPAWN_PID=
SYS_LEADER=
SYS_ROOT=

sys_log() { printf '# %s %s\n' "$(date +%T)" "$*" >&2; }
sys_die() { sys_log "ERROR: $*"; exit 1; }

# The Debian mirror of this machine's apt sources (deb822 .sources first,
# then one-line sources.list): the URI of an entry serving $SYS_SUITE, main.
sys_mirror() {
        local f uri
        for f in /etc/apt/sources.list.d/*.sources; do
                [ -f "$f" ] || continue
                uri=$(awk -v suite="$SYS_SUITE" '
                        function flush() { if (!done && t ~ /(^| )deb( |$)/ && s ~ "(^| )" suite "( |$)" && c ~ /(^| )main( |$)/ && u != "") { print u; done=1; exit } t=u=s=c="" }
                        /^[ \t]*$/ { flush(); next }
                        /^[ \t]*#/ { next }
                        tolower($1) == "types:" { $1=""; t=$0 }
                        tolower($1) == "uris:" { u=$2 }
                        tolower($1) == "suites:" { $1=""; s=$0 }
                        tolower($1) == "components:" { $1=""; c=$0 }
                        END { flush() }' "$f")
                [ -n "$uri" ] && { echo "${uri%/}"; return 0; }
        done
        for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
                [ -f "$f" ] || continue
                uri=$(awk -v suite="$SYS_SUITE" '$1 == "deb" { i=2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                        if ($(i+1) == suite) { for (k=i+2; k<=NF; k++) if ($k == "main") { print $i; exit } } }' "$f")
                [ -n "$uri" ] && { echo "${uri%/}"; return 0; }
        done
        return 1
}

# sys_cached_root CACHE KEYTEXT BUILDFN: prints the path of a cached root
# built by BUILDFN DIR MIRROR (once per KEYTEXT, under a lock).
sys_cached_root() {
        local cache=$1 keytext=$2 build=$3 key dir mirror
        key=$(printf '%s' "$keytext" | sha256sum | cut -c1-16)
        dir="$cache/root-$key"
        mkdir -p "$cache"
        exec 9>"$cache/.lock"
        flock 9
        if [ ! -e "$dir/.complete" ]; then
                mirror=$(sys_mirror) || { flock -u 9; sys_die "no $SYS_SUITE main entry in this machine's apt sources"; }
                rm -rf "$dir" "$dir.tmp"
                sys_log "building the Debian 12 root $dir from $mirror (cache miss)"
                if ! "$build" "$dir.tmp" "$mirror" >"$cache/build-$key.log" 2>&1; then
                        tail -n 30 "$cache/build-$key.log" >&2
                        rm -rf "$dir.tmp"
                        flock -u 9
                        sys_die "building the root failed (log: $cache/build-$key.log)"
                fi
                printf '%s\n' "$keytext" >"$dir.tmp/.complete"
                mv "$dir.tmp" "$dir"
        else
                sys_log "reusing cached root $dir"
        fi
        flock -u 9
        exec 9>&-
        echo "$dir"
}

# sys_debootstrap DIR MIRROR INCLUDES
sys_debootstrap() {
        debootstrap --variant=minbase --include="$3" "$SYS_SUITE" "$1" "$2"
}

# sys_chroot DIR CMD...: for root building only (before any boot).
sys_chroot() {
        local d=$1
        shift
        mount --bind /proc "$d/proc" && mount --bind /dev "$d/dev" && mount --bind /sys "$d/sys" || return 1
        local rc=0
        chroot "$d" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@" || rc=$?
        umount "$d/sys" "$d/dev" "$d/proc"
        return $rc
}

# sys_boot ROOT: boots ROOT with systemd as PID 1, waits until it is up.
sys_boot() {
        local i st
        SYS_ROOT=$1
        : >"$SYS_WORK/nspawn.log"
        # shellcheck disable=SC2086 # SYS_NSPAWN_EXTRA: extra options, split into words
        systemd-nspawn --boot --directory="$SYS_ROOT" --machine="$SYS_MACHINE" --register=no --keep-unit \
                --console=passive --capability=all --system-call-filter='fanotify_init fanotify_mark' \
                --resolv-conf=replace-host ${SYS_NSPAWN_EXTRA:-} >>"$SYS_WORK/nspawn.log" 2>&1 </dev/null &
        SYS_NSPAWN_PID=$!
        SYS_LEADER=
        for ((i = 0; i < 300; i++)); do
                SYS_LEADER=$(pgrep -P "$SYS_NSPAWN_PID" 2>/dev/null | head -n 1)
                if [ -n "$SYS_LEADER" ] && [ "$(cat "/proc/$SYS_LEADER/comm" 2>/dev/null)" = systemd ]; then
                        break
                fi
                kill -0 "$SYS_NSPAWN_PID" 2>/dev/null || { cat "$SYS_WORK/nspawn.log" >&2; return 1; }
                SYS_LEADER=
                sleep 0.1
        done
        [ -n "$SYS_LEADER" ] || { sys_log "container did not start"; return 1; }
        sys_save_pids
        for ((i = 0; i < 120; i++)); do
                st=$(cx systemctl is-system-running 2>/dev/null)
                case "$st" in running | degraded) return 0 ;; esac
                sleep 0.5
        done
        sys_log "container not up after 60 s (state: $st)"
        return 1
}

# cx CMD...: runs CMD inside the booted container (as root, clean environment).
cx() {
        [ -n "$SYS_LEADER" ] || return 125
        nsenter --target "$SYS_LEADER" --mount --uts --ipc --net --pid --cgroup --root --wd=/ -- \
                /usr/bin/env -i -C / PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root "$@"
}
# cxsh SCRIPT: bash -c SCRIPT inside the container.
cxsh() { cx /bin/bash -c "$1"; }

# The container's pids survive a test case that runs in a subshell and reboots.
sys_save_pids() { echo "${SYS_NSPAWN_PID:-} ${SYS_LEADER:-}" >"$SYS_WORK/container.pids"; }
sys_load_pids() { [ -f "$SYS_WORK/container.pids" ] && read -r SYS_NSPAWN_PID SYS_LEADER <"$SYS_WORK/container.pids"; return 0; }

sys_wait_nspawn_exit() { # SECONDS
        local i
        for ((i = 0; i < $1 * 10; i++)); do
                kill -0 "$SYS_NSPAWN_PID" 2>/dev/null || { wait "$SYS_NSPAWN_PID" 2>/dev/null; SYS_NSPAWN_PID=; SYS_LEADER=; sys_save_pids; return 0; }
                sleep 0.1
        done
        return 1
}

# Orderly shutdown (systemctl poweroff inside), SIGKILL after 90 s.
sys_poweroff() {
        [ -n "$SYS_NSPAWN_PID" ] || return 0
        cx systemctl poweroff >/dev/null 2>&1 || true
        sys_wait_nspawn_exit 90 && return 0
        sys_powercut
}

# Power loss: every process of the container is stopped (SIGSTOP) first,
# then SIGKILL to its PID 1 takes down the whole PID namespace; nspawn then
# exits and unmounts. Without the stop, PID 1 dies a moment before the rest
# and the daemon, still running, sees systemd vanish from the bus — no real
# power cut does that. Builtins only ([ -ef ] compares the pid namespaces),
# so the stop takes a few milliseconds.
sys_powercut() {
        local p
        [ -n "$SYS_NSPAWN_PID" ] || return 0
        if [ -n "$SYS_LEADER" ] && [ -e "/proc/$SYS_LEADER/ns/pid" ]; then
                for p in /proc/[0-9]*; do
                        [ "${p#/proc/}" != "$SYS_LEADER" ] && [ "$p/ns/pid" -ef "/proc/$SYS_LEADER/ns/pid" ] &&
                                kill -STOP "${p#/proc/}" 2>/dev/null
                done
                kill -KILL "$SYS_LEADER" 2>/dev/null
        fi
        sys_wait_nspawn_exit 30 && return 0
        kill -KILL "$SYS_NSPAWN_PID" 2>/dev/null
        sys_wait_nspawn_exit 10
}

# Cleanup for the EXIT trap: no container, no mounts left behind.
sys_cleanup() {
        sys_load_pids
        sys_powercut 2>/dev/null
        if [ -n "$SYS_ROOT" ] && [ -d "$SYS_ROOT" ]; then
                findmnt -rn -o TARGET | grep -F "$SYS_ROOT" | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
        fi
        return 0
}
