#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test-fleet-fetch.sh TEST-PROGRAM AVMIGRATE-FLEET: real servers for
# fleet/fetch.c. A run-time PKI (make-pki); nginx (Debian's) as an
# unprivileged-port HTTPS server on 127.0.0.1 with a generated nginx.conf,
# its pid and logs in a temporary directory, serving a manifest signed with
# avmigrate-fleet and a 3 MiB artifact (ranges, ETags, an mTLS-only
# location); stall-server for stalls and truncation. Everything is stopped
# and removed on exit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
prog=$(realpath "$1")
fleet=$(realpath "$2")
command -v nginx >/dev/null || { echo "nginx missing (tools/install-deps)"; exit 1; }

tmp=$(mktemp -d)
nginx_pid='' stall_pid=''
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
        # Only what this script started, by pid.
        for pid in $nginx_pid $stall_pid; do
                kill "$pid" 2>/dev/null || true
                wait "$pid" 2>/dev/null || true
        done
        rm -rf "$tmp"
}
trap cleanup EXIT
# nginx's workers drop to nobody when started as root: they must read these.
chmod 755 "$tmp"

"$here/make-pki" "$tmp/pki"
mkdir -p "$tmp/www/private" "$tmp/nginx"
cat >"$tmp/www/manifest.json" <<'JSON'
{ "version": 1, "serial": 5, "expires": "2099-01-01T00:00:00Z",
  "from": "kaspersky-kesl", "to": "clamav", "artifact": "repository",
  "phases": [ { "start": "2026-01-01T00:00:00Z", "percentage": 10 } ],
  "salt": "fetch-test" }
JSON
"$fleet" sign --key "$tmp/pki/signer.key" --cert "$tmp/pki/signer.pem" "$tmp/www/manifest.json" >/dev/null
cp "$tmp/www/manifest.json" "$tmp/www/private/"
head -c $((3 * 1024 * 1024)) /dev/urandom >"$tmp/www/artifact.bin"
chmod -R a+rX "$tmp/www" "$tmp/pki"

free_port() {
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port=$(free_port)
stall_port=$(free_port)

{ "$here/nginx-prelude" "$tmp/nginx"; cat <<CONF
        types { application/json json; }
        default_type application/octet-stream;
        server {
                listen 127.0.0.1:$port ssl;
                ssl_certificate $tmp/pki/server.pem;
                ssl_certificate_key $tmp/pki/server.key;
                ssl_client_certificate $tmp/pki/ca.pem;
                ssl_verify_client optional;
                root $tmp/www;
                location /private/ {
                        if (\$ssl_client_verify != SUCCESS) { return 403; }
                }
        }
}
CONF
} >"$tmp/nginx/nginx.conf"
nginx -p "$tmp/nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf" -g 'daemon off;' &
nginx_pid=$!
python3 "$here/stall-server" "$stall_port" "$tmp/pki/server.pem" "$tmp/pki/server.key" >"$tmp/stall.log" &
stall_pid=$!

for _ in $(seq 50); do
        if curl -sf --cacert "$tmp/pki/ca.pem" -o /dev/null "https://127.0.0.1:$port/manifest.json" 2>/dev/null &&
                grep -q ready "$tmp/stall.log"; then
                break
        fi
        sleep 0.1
done

rc=0
"$prog" "$tmp/pki" "$tmp/www" "https://127.0.0.1:$port" "https://127.0.0.1:$stall_port" || rc=$?
if [ $rc != 0 ]; then
        echo "--- nginx error.log"; tail -20 "$tmp/nginx/error.log"
        echo "--- nginx access.log"; cat "$tmp/nginx/access.log"
fi
exit $rc
