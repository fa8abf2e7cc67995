#!/usr/bin/env bash
# Report upload (daemon/report-upload.c) to a real nginx with WebDAV PUT over
# TLS and mTLS on loopback, with a test PKI made now (tests/fleet/make-pki):
# server down → the job's report is spooled, the spool bound drops the oldest
# → server up → every spooled report delivered exactly once (nginx's access
# log); a wrong CA or a missing client certificate → stays spooled with a
# clear error; the right settings again → delivered after a restart.
# shellcheck disable=SC2119 # lib.sh helpers with optional arguments
set -u
# shellcheck source=tests/bus/lib.sh
. "$(dirname "$0")/lib.sh"

command -v nginx >/dev/null || { echo "nginx missing (tools/install-deps)"; exit 1; }
dir=$AVM_TESTENV_DIR
pki=$dir/pki
spool=$dir/state/report-spool
"$(dirname "$0")/../fleet/make-pki" "$pki"
# nginx's workers drop to nobody when started as root: they must read the
# certificates and write the reports.
chmod -R a+rX "$pki"
mkdir -p "$dir/www/mtls/reports" "$dir/nginx"
chmod 0777 "$dir/www/mtls/reports"
mid=$(cat /etc/machine-id)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="https://127.0.0.1:$port/mtls/reports"

{ "$(dirname "$0")/../fleet/nginx-prelude" "$dir/nginx"; cat <<CONF
        server {
                listen 127.0.0.1:$port ssl;
                ssl_certificate $pki/server.pem;
                ssl_certificate_key $pki/server.key;
                ssl_client_certificate $pki/ca.pem;
                ssl_verify_client optional;
                root $dir/www;
                location /mtls/ {
                        if (\$ssl_client_verify != SUCCESS) { return 403; }
                        dav_methods PUT;
                        client_max_body_size 16m;
                }
        }
}
CONF
} >"$dir/nginx/nginx.conf"
nginx_pid=''
# shellcheck disable=SC2317 # called by the EXIT trap
nginx_stop() {
        # SIGTERM, not avm-testenv's SIGKILL: the master takes its worker with it.
        [ -n "$nginx_pid" ] || return 0
        kill -TERM "$nginx_pid" 2>/dev/null
        wait "$nginx_pid" 2>/dev/null
        nginx_pid=''
}
trap nginx_stop EXIT
# shellcheck disable=SC2317 # called through check
nginx_start() {
        nginx -p "$dir/nginx" -e "$dir/nginx/error.log" -c "$dir/nginx/nginx.conf" -g 'daemon off;' \
                >"$dir/nginx/output.log" 2>&1 </dev/null &
        nginx_pid=$!
        for _ in $(seq 50); do
                curl -s --cacert "$pki/ca.pem" -o /dev/null "https://127.0.0.1:$port/" 2>/dev/null && return 0
                sleep 0.1
        done
        return 1
}
# puts NAME: how many PUTs of NAME nginx answered with 201/204.
# shellcheck disable=SC2317 # called through check
puts() { grep -cE "\"PUT /mtls/reports/$1 HTTP/[0-9.]+\" 20[14] " "$dir/nginx/access.log" 2>/dev/null || true; }
# shellcheck disable=SC2317 # called through check
spooled() { [ -f "$spool/$1" ]; }
# shellcheck disable=SC2317 # called through check
wait_unspooled() { # wait_unspooled NAME: until delivered (15 s)
        for _ in $(seq 150); do spooled "$1" || return 0; sleep 0.1; done
        return 1
}
# shellcheck disable=SC2317 # called through check
logged() { grep -qF -- "$1" "$dir/daemon.log"; }
# shellcheck disable=SC2317 # called through check
wait_logged() { for _ in $(seq 100); do logged "$1" && return 0; sleep 0.1; done; return 1; }

config="[Manager]
ReportUploadURL=$url
ReportUploadCA=$pki/ca.pem
ReportUploadClientCertificate=$pki/client.pem
ReportUploadClientKey=$pki/client.key
ReportSpoolMaxFiles=2
ReportUploadRetrySec=0.2
ReportUploadRetryMaxSec=0.8"

# Two reports an earlier run could not deliver, the older one first, and a
# file that is no report (never sent, never deleted).
mkdir -p "$spool"
echo '{"id":901}' >"$spool/$mid-901.json"
echo '{"id":902}' >"$spool/$mid-902.json"
touch -d '-2 hours' "$spool/$mid-901.json"
touch -d '-1 hour' "$spool/$mid-902.json"
echo 'not a report' >"$spool/notes.txt"

# ---- the server is down ----
set_config "$config"
check "server down: a clear error" wait_logged "Cannot deliver the report $mid-901.json to $url/$mid-901.json"
start_job >/dev/null
wait_finished
check "job completed" [ "$(prop State)" = completed ]
check "the job's report is spooled" spooled "$mid-1.json"
check "the spooled report is the job's" [ "$(python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print(r["id"], r["result"])' "$spool/$mid-1.json")" = "1 completed" ]
check "bound of 2 files: the oldest dropped" not spooled "$mid-901.json"
check "... with a warning" logged "dropped the oldest report $mid-901.json undelivered"
check "... the newer one kept" spooled "$mid-902.json"

# ---- the server comes up ----
check "nginx up" nginx_start
check "job report delivered" wait_unspooled "$mid-1.json"
check "older report delivered" wait_unspooled "$mid-902.json"
sleep 1 # a duplicate would come now
check "job report PUT exactly once" [ "$(puts "$mid-1.json")" = 1 ]
check "older report PUT exactly once" [ "$(puts "$mid-902.json")" = 1 ]
check "the dropped one never sent" [ "$(puts "$mid-901.json")" = 0 ]
check "on the server: the job's report" [ "$(python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print(r["id"], r["result"])' "$dir/www/mtls/reports/$mid-1.json")" = "1 completed" ]
# The history record is built from the same finished job (GetReport reads it).
check "... the same report as the job's history record" python3 - "$dir/state/history.jsonl" "$dir/www/mtls/reports/$mid-1.json" <<'PY'
import json, sys
history = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
uploaded = json.load(open(sys.argv[2]))
h = next(r for r in history if r["id"] == 1)
sys.exit(not (h == uploaded or all(h[k] == uploaded[k] for k in ("id", "result", "summary", "steps", "gaps"))))
PY
check "... with this machine's id" [ "$(python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print(r["machine_id"], r["protected"])' "$dir/www/mtls/reports/$mid-1.json")" = "$mid True" ]
# The admin's view reads the upload directory as it is.
summary=$("$AVMIGRATE_FLEET" summary --reports "$dir/www/mtls/reports" --json 2>&1)
check "avmigrate-fleet summary counts this machine completed" python3 -c "import json, sys; s = json.loads(sys.argv[1]); print(s); sys.exit(not ('completed' in json.dumps(s) and s.get('machines', s.get('total')) == 1))" "$summary"
check "not a report: left alone" [ "$(cat "$spool/notes.txt")" = 'not a report' ]
check "delivery logged" logged "Report $mid-1.json delivered to $url/$mid-1.json (HTTP 201)"

# ---- the wrong CA: stays spooled ----
echo '{"id":903}' >"$spool/$mid-903.json"
set_config "${config/ReportUploadCA=$pki\/ca.pem/ReportUploadCA=$pki/ca2.pem}"
check "wrong CA: TLS verification error in the journal" wait_logged "$mid-903.json: TLS verification failed"
check "... stays spooled" spooled "$mid-903.json"

# ---- no client certificate: the server refuses ----
set_config "[Manager]
ReportUploadURL=$url
ReportUploadCA=$pki/ca.pem
ReportUploadRetrySec=0.2"
check "no client certificate: HTTP 403 in the journal" wait_logged "$mid-903.json: HTTP 403"
check "... stays spooled" spooled "$mid-903.json"
check "... nothing stored" [ ! -e "$dir/www/mtls/reports/$mid-903.json" ]

# ---- right again: delivered after the restart ----
set_config "$config"
check "delivered once the settings are right" wait_unspooled "$mid-903.json"
check "... exactly once" [ "$(puts "$mid-903.json")" = 1 ]
check "... the spooled bytes" [ "$(cat "$dir/www/mtls/reports/$mid-903.json")" = '{"id":903}' ]
finish
