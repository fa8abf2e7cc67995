#!/usr/bin/env bash
# Functions here run through check and trap, which shellcheck cannot follow.
# shellcheck disable=SC2317
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tests/agent/test-notify.sh LANG: avmigrate-notify against a real
# notification server. Runs inside tests/bus/avm-testenv (the built avmigrated
# on a private system bus, test-old protecting, test-new approved) and starts
# its own session: Xvfb, a private session dbus-daemon and dunst on it. Then:
#
#   planned   the agent shows it, with a Postpone action; dunstctl action
#             invokes it and DeferralsLeft goes down in the daemon
#   restart   kill -9 and restart of the daemon while idle: the agent stays,
#             repeats nothing
#   failed    an install failure rolls back: "still protected", the contact
#             from notify.conf
#   running   a second job, the daemon killed and restarted inside a step:
#             the same notification goes from running to completed
#
# all in LANG (en_US.UTF-8 or nl_NL.UTF-8), checking the text dunst received
# (dunstctl history) in that language. Screenshots of the notifications (xwd
# under Xvfb, converted to PNG with netpbm) go to $AVM_AGENT_ARTIFACTS
# (default BUILD/tests/agent/artifacts). A missing tool fails the test.
set -u
# shellcheck source-path=SCRIPTDIR source=../bus/lib.sh
. "$(dirname "$0")/../bus/lib.sh"

lang=${1:?usage: test-notify.sh en_US.UTF-8|nl_NL.UTF-8}
short=${lang%%_*}
build=$AVM_BUILD_DIR
agent="$build/agent/avmigrate-notify"
artifacts=${AVM_AGENT_ARTIFACTS:-$build/tests/agent/artifacts}
dir=$AVM_TESTENV_DIR
mkdir -p "$artifacts"

fail() { # a failure the rest of the test cannot go on from
        echo "not ok - $*"
        [ -f "$dir/agent.log" ] && { echo "--- agent log ---"; cat "$dir/agent.log"; }
        exit 1
}

# ---- what the test needs: missing means failed, never skipped ----
for t in Xvfb dunst dunstctl dbus-daemon xwd xwdtopnm pnmcrop pnmtopng jq busctl; do
        command -v "$t" >/dev/null || fail "$t is not installed (tools/install-deps installs it)"
done
[ -x "$agent" ] || fail "$agent is not built"
[ -f "$build/po/nl/LC_MESSAGES/avmigrate.mo" ] || fail "the Dutch catalog is not built"
locale -a | grep -qix "${lang/UTF-8/utf8}" || fail "locale $lang is not generated (tools/install-deps generates it)"

# ---- the session: Xvfb, a session bus, dunst ----
pids=()
cleanup_session() {
        local p
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
        for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
}
trap cleanup_session EXIT

exec 5>"$dir/xvfb.display"
Xvfb -displayfd 5 -screen 0 640x240x24 -nolisten tcp >"$dir/xvfb.log" 2>&1 &
pids+=($!)
exec 5>&-
for _ in $(seq 1 100); do [ -s "$dir/xvfb.display" ] && break; sleep 0.05; done
[ -s "$dir/xvfb.display" ] || fail "Xvfb did not start: $(cat "$dir/xvfb.log")"
DISPLAY=":$(tr -dc 0-9 <"$dir/xvfb.display")"
export DISPLAY

dbus-daemon --session --nofork --nopidfile --address="unix:path=$dir/session.sock" >"$dir/session-bus.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [ -S "$dir/session.sock" ] && break; sleep 0.05; done
[ -S "$dir/session.sock" ] || fail "the session dbus-daemon did not start"
export DBUS_SESSION_BUS_ADDRESS="unix:path=$dir/session.sock"

cat >"$dir/dunstrc" <<'EOF'
[global]
    monitor = 0
    follow = none
    width = 500
    height = 300
    origin = top-left
    offset = 10x10
    notification_limit = 0
    indicate_hidden = yes
    padding = 10
    horizontal_padding = 12
    frame_width = 2
    gap_size = 0
    separator_color = frame
    font = DejaVu Sans 10
    line_height = 0
    markup = full
    format = "<b>%s</b>\n%b"
    alignment = left
    word_wrap = yes
    ellipsize = end
    ignore_newline = no
    show_indicators = yes
    icon_position = off
    sticky_history = yes
    history_length = 50
    always_run_script = true
    mouse_left_click = do_action, close_current
[avmigrate]
    appname = avmigrate
    script = @RECORD@
[urgency_low]
    background = "#f4f4f4"
    foreground = "#222222"
    frame_color = "#888888"
    timeout = 0
[urgency_normal]
    background = "#ffffff"
    foreground = "#1a1a1a"
    frame_color = "#154273"
    timeout = 0
[urgency_critical]
    background = "#fff4e5"
    foreground = "#1a1a1a"
    frame_color = "#d52b1e"
    timeout = 0
EOF
# dunst runs this script for every notification it shows, with what it
# received in DUNST_* variables: the urgency is checked there.
cat >"$dir/record.sh" <<'EOF'
#!/bin/sh
printf '%s|%s|%s\n' "$DUNST_ID" "$DUNST_URGENCY" "$DUNST_SUMMARY" >>"${0%/*}/received.log"
EOF
chmod +x "$dir/record.sh"
sed -i "s|@RECORD@|$dir/record.sh|" "$dir/dunstrc"
dunst -config "$dir/dunstrc" >"$dir/dunst.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
        busctl --user status org.freedesktop.Notifications >/dev/null 2>&1 && break
        sleep 0.05
done
busctl --user status org.freedesktop.Notifications >/dev/null 2>&1 || fail "dunst did not take its name: $(cat "$dir/dunst.log")"

# ---- the daemon and the agent's configuration ----
set_config "[Manager]
MaxDeferrals=2"
cat >"$dir/conf/notify.conf" <<'EOF'
[Notify]
Contact=the IT service desk (phone 070 123 4567)
Contact[nl]=de servicedesk ICT (telefoon 070 123 4567)
PostponeSec=3600
EOF

start_agent() {
        env LANG="$lang" LC_ALL="$lang" LANGUAGE= AVMIGRATE_LOCALE_DIR="$build/po" AVMIGRATE_LOG_LEVEL=debug \
                CONFIGURATION_DIRECTORY="$dir/conf" "$agent" >>"$dir/agent.log" 2>&1 &
        agent_pid=$!
        pids+=("$agent_pid")
}

# ---- reading what dunst shows and received ----
displayed() { dunstctl count displayed; }
wait_displayed() { # wait_displayed N: until N notifications are on screen (15 s)
        for _ in $(seq 1 300); do
                [ "$(displayed)" = "$1" ] && return 0
                sleep 0.05
        done
        echo "dunst shows $(displayed) notifications, expected $1" >&2
        return 1
}
# last FIELD: summary, body, appname or id of the newest notification
# in dunst's history (displayed ones get there when closed or acted upon).
last() {
        dunstctl history | jq -er --arg f "$1" '.data[0] | max_by(.id.data) | .[$f].data'
}
urgency_of() { # urgency_of SUMMARY: as dunst received it (its script's DUNST_URGENCY)
        grep -F "|$1" "$dir/received.log" | tail -n 1 | cut -d'|' -f2
}
history_count() { dunstctl history | jq -r '.data[0] | length'; }
close_and_read() { # closes what is shown and checks it reached the history
        local before
        before=$(history_count)
        dunstctl close
        for _ in $(seq 1 100); do
                [ "$(history_count)" -gt "$before" ] && return 0
                sleep 0.05
        done
        return 1
}
screenshot() { # screenshot NAME: the Xvfb screen as NAME-LANG.png
        local f="$artifacts/$1-$short.png"
        sleep 0.3 # dunst draws after it maps its window
        if xwd -root -silent -display "$DISPLAY" | xwdtopnm 2>/dev/null | pnmcrop -black 2>/dev/null | pnmtopng >"$f" 2>/dev/null && [ -s "$f" ]; then
                ok "screenshot $f"
        else
                not_ok "screenshot $f"
        fi
}
agent_alive() { kill -0 "$agent_pid" 2>/dev/null; }

# Expected text in each language (what po/nl.po says).
if [ "$short" = nl ]; then
        T_PLANNED="Uw antivirusprogramma wordt binnenkort vervangen"
        T_TWO_LEFT="nog 2 keer uitstellen"
        T_ONE_LEFT="nog 1 keer uitstellen"
        T_POSTPONED="Uitgesteld tot"
        T_RUNNING="Uw antivirusprogramma wordt nu vervangen"
        T_KEEP_ON="aan laten staan"
        T_FAILED="Uw antivirusprogramma kon niet worden vervangen"
        T_STILL="nog steeds beveiligd door Test Old Antivirus"
        T_CONTACT="de servicedesk ICT (telefoon 070 123 4567)"
        T_DONE="Uw antivirusprogramma is vervangen"
        T_NOW="nu beveiligd door Test New Antivirus"
else
        T_PLANNED="Your antivirus program will be replaced"
        T_TWO_LEFT="postpone it 2 more times"
        T_ONE_LEFT="postpone it 1 more time"
        T_POSTPONED="Postponed until"
        T_RUNNING="Your antivirus program is being replaced"
        T_KEEP_ON="keep your computer switched on"
        T_FAILED="Your antivirus program could not be replaced"
        T_STILL="still protected by Test Old Antivirus"
        T_CONTACT="the IT service desk (phone 070 123 4567)"
        T_DONE="Your antivirus program has been replaced"
        T_NOW="now protected by Test New Antivirus"
fi

# ==== planned, with the Postpone action ====
start_agent
check "planned: one notification shown" wait_displayed 1
screenshot planned
check "  ... read back" close_and_read
check "dunst received the planned summary" [ "$(last summary)" = "$T_PLANNED" ]
body=$(last body)
check "planned body names both products" contains "$body" "Test Old Antivirus.*Test New Antivirus"
check "planned body counts the postponements" contains "$body" "$T_TWO_LEFT"
check "planned: normal urgency" [ "$(urgency_of "$T_PLANNED")" = NORMAL ]
check "planned: app name avmigrate" [ "$(last appname)" = avmigrate ]
check "planned: server has actions, so no CLI hint" not contains "$body" "avmigratectl postpone"
sleep 0.5
check "a dismissed notification is not repeated" [ "$(displayed)" = 0 ]

# A new session (the agent restarted) is told again; this time the user
# clicks Postpone.
kill "$agent_pid"
wait "$agent_pid" 2>/dev/null
start_agent
check "new agent: planned shown again" wait_displayed 1
check "planned: daemon has 2 postponements" [ "$(prop DeferralsLeft)" = 2 ]
dunstctl action 0 # one action: dunst invokes it (ActionInvoked "postpone")
for _ in $(seq 1 200); do [ "$(prop DeferralsLeft)" = 1 ] && break; sleep 0.05; done
if [ "$(prop DeferralsLeft)" = 1 ]; then
        ok "Postpone action reached the daemon (DeferralsLeft 2 → 1)"
else
        fail "Postpone action reached the daemon (DeferralsLeft still $(prop DeferralsLeft))"
fi
err=$(start_job 2>&1)
check "the daemon holds the postponement (Start refused)" contains "$err" "postponed"
for _ in $(seq 1 100); do grep -q "Postponed by 3600 s" "$dir/agent.log" && break; sleep 0.05; done
sleep 0.3
check "after postponing: the same notification, updated" [ "$(displayed)" = 1 ]
check "  ... read back" close_and_read
body=$(last body)
check "updated body: postponed until" contains "$body" "$T_POSTPONED"
check "updated body: one postponement left" contains "$body" "$T_ONE_LEFT"

# ==== daemon restart while idle: the agent stays and repeats nothing ====
n0=$(history_count)
avm-testenv daemon-kill
sleep 0.3
check "agent survives the daemon's death" agent_alive
avm-testenv daemon-start
sleep 1
check "agent alive after the daemon came back" agent_alive
check "nothing repeated after the restart" [ "$(displayed)/$(history_count)" = "0/$n0" ]
check "agent saw the daemon return" grep -q "avmigrated is on the bus" "$dir/agent.log"

# ==== a failed job: running, then rolled back, still protected, whom to contact ====
echo 8000 >"$(new delay-install)" # long enough to read the running notification
echo 5 >"$(new fail-install)"
start_job 1 force b true >/dev/null
wait_step install
check "running: one notification" wait_displayed 1
screenshot running
check "  ... read back" close_and_read
check "dunst received the running summary" [ "$(last summary)" = "$T_RUNNING" ]
check "running body: keep the computer on" contains "$(last body)" "$T_KEEP_ON"
check "running: critical urgency" [ "$(urgency_of "$T_RUNNING")" = CRITICAL ]
wait_finished
rm -f "$(new fail-install)" "$(new delay-install)"
check "job rolled back" [ "$(prop State)" = rolled-back ]
check "failed: one notification" wait_displayed 1
screenshot failed
check "  ... read back" close_and_read
check "dunst received the failure summary" [ "$(last summary)" = "$T_FAILED" ]
body=$(last body)
check "failed body: still protected by the old product" contains "$body" "$T_STILL"
check "failed body: the contact from notify.conf" contains "$body" "$T_CONTACT"

# ==== running, the daemon killed inside a step, completed ====
echo 2500 >"$(new delay-install)"
start_job 1 force b true >/dev/null
wait_step install
check "running again: one notification" wait_displayed 1
running_id=$(grep -o 'Notification [0-9]*: '"$T_RUNNING" "$dir/agent.log" | tail -n 1 | cut -d' ' -f2 | tr -d :)
avm-testenv daemon-kill
check "agent survives a daemon crash inside a step" agent_alive
check "still one notification while the daemon is away" [ "$(displayed)" = 1 ]
rm -f "$(new delay-install)"
avm-testenv daemon-start
wait_finished
check "job completed after the restart" [ "$(prop State)" = completed ]
for _ in $(seq 1 100); do grep -q "$T_DONE" "$dir/agent.log" && break; sleep 0.05; done
check "completed: still one notification (replaced in place)" wait_displayed 1
screenshot completed
done_id=$(grep -o 'Notification [0-9]*: '"$T_DONE" "$dir/agent.log" | tail -n 1 | cut -d' ' -f2 | tr -d :)
check "running notification has an id" [ -n "$running_id" ]
check "running and completed share one id ($running_id = $done_id)" [ "$running_id" = "$done_id" ]
check "  ... read back" close_and_read
check "dunst received the completed summary" [ "$(last summary)" = "$T_DONE" ]
body=$(last body)
check "completed body: protected by the new product" contains "$body" "$T_NOW"

# ==== avmigratectl speaks the session's language too; --json stays English ====
ctl() { env LANG="$lang" LC_ALL="$lang" LANGUAGE= AVMIGRATE_LOCALE_DIR="$build/po" "$AVMIGRATECTL" "$@"; }
if [ "$short" = nl ]; then
        check "avmigratectl status in Dutch" contains "$(ctl status)" "Toestand: completed"
        check "avmigratectl error in Dutch" contains "$(ctl postpone xx 2>&1)" "Ongeldige duur 'xx'"
else
        check "avmigratectl status in English" contains "$(ctl status)" "State: completed"
fi
check "avmigratectl --json error stays English" contains "$(ctl --json postpone xx 2>/dev/null)" '"message":"Invalid duration'

# ==== idle: no timers, so no wake-ups while nothing happens ====
switches() { awk '/ctxt_switches/ { n += $2 } END { print n + 0 }' /proc/"$agent_pid"/task/*/status; }
sleep 1
w0=$(switches)
sleep 3
w1=$(switches)
check "idle agent does not wake up (context switches in 3 s: $((w1 - w0)))" [ "$((w1 - w0))" = 0 ]

kill -TERM "$agent_pid"
wait "$agent_pid"
check "agent exits 0 on SIGTERM" [ $? = 0 ]
check "no sanitizer reports from the agent" not grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$dir/agent.log"
check "agent logged no warnings" not grep -qE "Could not|Cannot|Bad |refused" "$dir/agent.log"
if [ "$failed" -ne 0 ]; then
        echo "--- agent log ---"
        cat "$dir/agent.log"
        echo "--- dunst log ---"
        tail -n 20 "$dir/dunst.log"
fi
finish
