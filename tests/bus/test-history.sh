#!/usr/bin/env bash
# The history through the daemon: a long history with bad lines is indexed
# at start and rotated, GetHistory is the newest page, GetHistoryPage pages
# back, GetReport reads one job, and the next job's id follows the highest
# id ever used (not 1, not 2^64 - 4 after a line {"id":-5}).
set -u
# shellcheck source=tests/bus/lib.sh
. "$(dirname "$0")/lib.sh"

hist="$AVM_TESTENV_DIR/state/history.jsonl"
avm-testenv daemon-stop
python3 - "$hist" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(1, 1301):
        f.write(json.dumps({"id": i, "from": "test-old", "to": "test-new", "result": "completed",
                            "timeline": [{"event": "finished", "n": k} for k in range(20)]}) + "\n")
        if i == 1000:
            f.write('{"id":-5}\n{"id":1.5}\n{"id":18446744073709551615}\nnot json\n')
    f.write('{"id":1301,"resu')  # torn by a power cut
PY
avm-testenv daemon-start

ids() { python3 -c 'import json,sys; a=json.loads(json.load(sys.stdin)["data"][0]); print(len(a), a[0]["id"] if a else "-", a[-1]["id"] if a else "-")'; }
out=$(busctl call --json=short "$DEST" "$OBJ" "$IFACE" GetHistory | ids)
check "GetHistory: the 100 newest, oldest first" [ "$out" = "100 1201 1300" ]
out=$(busctl call --json=short "$DEST" "$OBJ" "$IFACE" GetHistoryPage tt 100 50 | ids)
check "GetHistoryPage(100, 50): the 50 before them" [ "$out" = "50 1151 1200" ]
out=$(busctl call --json=short "$DEST" "$OBJ" "$IFACE" GetHistoryPage tt 990 100 | ids)
check "GetHistoryPage: the last page is short (rotated to 1000 jobs)" [ "$out" = "10 301 310" ]
out=$(busctl call --json=short "$DEST" "$OBJ" "$IFACE" GetHistoryPage tt 5000 10 | ids)
check "GetHistoryPage past the end: []" [ "$out" = "0 - -" ]
err=$(mcall GetHistoryPage tt 0 1001 2>&1)
check "GetHistoryPage limit above 1000 → InvalidArgument" contains "$err" "At most 1000"
check "rotated: the newest 1000 jobs kept (and the bad lines among them)" [ "$(wc -l <"$hist")" -eq 1004 ]
check "the highest id is kept apart" [ "$(cat "$AVM_TESTENV_DIR/state/history.last-id")" = 1300 ]

check "GetReport of a kept job" contains "$(mcall GetReport t 1250)" '\\"id\\":1250'
err=$(mcall GetReport t 5 2>&1)
check "GetReport of a rotated job → NotFound" contains "$err" "No job 5 in the history"
err=$(mcall GetReport t 9007199254740993 2>&1)
check "GetReport above 2^53 → InvalidArgument" contains "$err" "Job ids are at most"

out=$(start_job)
check "the next job gets id 1301" contains "$out" '^to 1301 '
wait_finished
out=$(busctl call --json=short "$DEST" "$OBJ" "$IFACE" GetHistory | ids)
check "it is the newest in the history" [ "$out" = "100 1202 1301" ]

# A restart with the history gone: ids still go up. (The old product back,
# so that there is something to migrate.)
avm-testenv daemon-stop
rm -f "$hist"
echo 1.0 >"$(old installed)"
echo on >"$(old realtime)"
avm-testenv daemon-start
out=$(start_job 2 dry-run b true force b true 2>&1)
check "after the history was lost, the next id is 1302" contains "$out" '^to 1302 '
wait_finished
finish
