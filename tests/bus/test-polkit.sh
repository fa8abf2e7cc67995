#!/usr/bin/env bash
# polkit bounds: checks in flight are capped per connection, per user and in
# all, so a caller flooding the daemon (or a polkit that does not answer)
# cannot hold everyone else's authorization; a caller that leaves has its
# pending checks dropped. tests/bus/avm-polkit-stub stands in for polkitd:
# it never answers for the users nobody, daemon, bin and sys, and refuses
# everyone else (games) at once. (The bus only admits users that exist.)
set -u
# shellcheck source=tests/bus/lib.sh
. "$(dirname "$0")/lib.sh"

stub="$AVM_BUILD_DIR/tests/bus/avm-polkit-stub"
as() { local uid=$1; shift; setpriv --reuid="$uid" --regid="$uid" --clear-groups "$@"; }
field() { sed -n "s/.*\b$1=\([0-9]*\).*/\1/p" <<<"$2"; } # field NAME "a=1 b=2"
now_ms() { date +%s%3N; }
holders=()
cleanup_holders() { for p in "${holders[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; holders=(); }
# hold UID N: a connection of UID with N checks pending, until cleanup_holders.
hold() { as "$1" "$stub" flood "$2" 600 >"$AVM_TESTENV_DIR/hold.$1.$RANDOM" & holders+=($!); }
# flood_until WANT UID N: floods until the output has WANT (the daemon sees
# disconnects asynchronously; 64 of them take a while under ASan), at most 15 s.
flood_until() {
        local want=$1 out; shift
        for _ in $(seq 1 30); do
                out=$(as "$1" "$stub" flood "$2" 0)
                contains "$out" "$want" && break
                sleep 0.5
        done
        echo "$out"
}

# answered_at_once DESCRIPTION PATTERN: Start from games is answered with
# PATTERN within 2 s.
answered_at_once() {
        local t0 t1 err
        t0=$(now_ms)
        err=$(as 5 busctl call --timeout=10 "$DEST" "$OBJ" "$IFACE" Start 'a{sv}' 0 2>&1)
        t1=$(now_ms)
        echo "$1: $err ($((t1 - t0)) ms)"
        check "$1" contains "$err" "$2"
        check "$1: within 2 s" [ $((t1 - t0)) -lt 2000 ]
}

"$stub" serve 65534 1 2 3 >"$AVM_TESTENV_DIR/polkit.log" 2>&1 &
stub_pid=$!
for _ in $(seq 1 100); do grep -q ready "$AVM_TESTENV_DIR/polkit.log" && break; sleep 0.05; done
check "the polkit stand-in owns its name" busctl status org.freedesktop.PolicyKit1

# One connection, 300 Start calls: 8 wait for polkit, the rest are refused at once.
out=$(as 65534 "$stub" flood 300 0)
echo "one connection: $out"
check "per connection: 8 checks in flight" [ "$(field pending "$out")" = 8 ]
check "per connection: the other 292 refused at once with LimitsExceeded" [ "$(field limits "$out")" = 292 ]

# It left: its 8 are dropped, so the next connection gets its 8 again.
out=$(flood_until "limits=0 denied=0 other=0 pending=8" 65534 8)
check "a caller that disconnected has its checks dropped" [ "$(field pending "$out")/$(field limits "$out")" = 8/0 ]

# One user on several connections: 16 in all.
hold 65534 8
hold 65534 8
sleep 1
out=$(as 65534 "$stub" flood 4 0)
echo "third connection of the same user: $out"
check "per user: 16 checks in flight" [ "$(field limits "$out")" = 4 ]

# Meanwhile another user is answered at once (the stand-in refuses it).
answered_at_once "another user is answered by polkit" "Not authorized to perform org.avmigrate.Migrate1.start"

# Everyone: 64 in all. daemon, bin and sys hold 16 each, with nobody's 16.
for u in 1 2 3; do hold $u 8; hold $u 8; done
sleep 1.5
answered_at_once "in all: 64 checks in flight, then LimitsExceeded" "Too many authorization checks in flight"
check "root is never limited (no polkit)" mcall GetPlan
err=$(mcall Postpone t 0 2>&1)
check "root's calls still answered" contains "$err" "Postponement must be"

# They all leave: every slot is free again.
cleanup_holders
out=$(flood_until "limits=0 denied=0 other=0 pending=8" 65534 8)
check "after the holders left, checks are accepted again" [ "$(field pending "$out")/$(field limits "$out")" = 8/0 ]
answered_at_once "and answered" "Not authorized to perform"
check "the daemon is still idle and fine" [ "$(prop State)" = pending ]

kill "$stub_pid" 2>/dev/null
wait "$stub_pid" 2>/dev/null
finish
