# Shared helpers for the bus-tier tests; sourced inside avm-testenv.
# shellcheck shell=bash

DEST=org.avmigrate.Migrate1
OBJ=/org/avmigrate/Migrate1
IFACE=org.avmigrate.Migrate1.Manager
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok - $*"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $*"; }
check() { # check DESCRIPTION COMMAND...
        local d=$1; shift
        if "$@"; then ok "$d"; else not_ok "$d"; fi
}
finish() {
        echo "$passed passed, $failed failed"
        if [ "$failed" -ne 0 ]; then
                echo "--- daemon log (tail) ---"
                tail -n 40 "$AVM_TESTENV_DIR/daemon.log"
                exit 1
        fi
        exit 0
}

mcall() { busctl call "$DEST" "$OBJ" "$IFACE" "$@"; }
prop() { # prop NAME -> value without the type
        busctl get-property "$DEST" "$OBJ" "$IFACE" "$1" | cut -d' ' -f2- | sed 's/^"\(.*\)"$/\1/'
}
start_job() { mcall Start 'a{sv}' "${@:-0}"; }

# wait_state_not S... : waits until State is none of the given states (30 s).
wait_state_not() {
        local s
        for _ in $(seq 1 600); do
                s=$(prop State 2>/dev/null) || s=""
                case " $* " in *" $s "*) ;; *) [ -n "$s" ] && return 0 ;; esac
                sleep 0.05
        done
        echo "timeout waiting for State to leave: $* (now $s)" >&2
        return 1
}
wait_finished() { wait_state_not running paused; }
wait_step() { # wait_step STEP: until Step == STEP (30 s)
        for _ in $(seq 1 600); do
                [ "$(prop Step 2>/dev/null)" = "$1" ] && return 0
                sleep 0.05
        done
        echo "timeout waiting for step $1" >&2
        return 1
}

old() { echo "$AVM_PRODUCTS/test-old/$1"; }
new() { echo "$AVM_PRODUCTS/test-new/$1"; }
protecting() { [ -e "$AVM_PRODUCTS/$1/installed" ] && [ -e "$AVM_PRODUCTS/$1/realtime" ] && [ ! -e "$AVM_PRODUCTS/$1/refuse-protect" ]; }
installed() { [ -e "$AVM_PRODUCTS/$1/installed" ]; }
some_product_protecting() { protecting test-old || protecting test-new; }
report_json() { busctl call "$DEST" "$OBJ" "$IFACE" GetReport t "${1:-0}" --json=short | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0])'; }
report_field() { # report_field PYEXPR  (r = report dict)
        report_json 0 | python3 -c "import json,sys; r=json.load(sys.stdin); print($1)"
}
count_ops() { # count_ops PRODUCT "op state"
        [ -f "$AVM_PRODUCTS/$1/ops.log" ] || { echo 0; return; }
        grep -c "^$2\$" "$AVM_PRODUCTS/$1/ops.log" || true
}
set_config() { # set_config TEXT: writes a drop-in and restarts the daemon
        printf '%s\n' "$1" >"$AVM_TESTENV_DIR/conf/avmigrate.conf.d/50-test.conf"
        avm-testenv daemon-stop
        avm-testenv daemon-start
}
not() { ! "$@"; }
daemon_alive() { kill -0 "$(avm-testenv daemon-pid)" 2>/dev/null; }
# refused_to_start RC: the exit code of `timeout N avmigrated` says it failed
# on its own (not 0), and did not hang until timeout killed it (124).
refused_to_start() { [ "$1" -ne 0 ] && [ "$1" -ne 124 ]; }
one_of() { # one_of VALUE CHOICE...: VALUE is one of the CHOICEs
        local v=$1 c
        shift
        for c in "$@"; do [ "$v" = "$c" ] && return 0; done
        return 1
}
contains() { grep -q -- "$2" <<<"$1"; } # contains TEXT PATTERN
