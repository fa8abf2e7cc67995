#!/usr/bin/env bash
# test-vendors.sh VENDOR VARIANT: a migration through a vendor plugin against
# its simulator, which replays the real output samples of plugins/<id>/tests
# (tests/fixtures/README.md). Root only (the simulators protect with a real
# fanotify blocker).
#
#   eset   v12 | odscan-threat   eset-eea → test-new (eea.service played by eset-systemctl)
#   mdatp  json | table          test-old → microsoft-mdatp (install, passive, on-demand EICAR
#                                through scan custom + threat list, onboarding check, real-time on)
#   mdatp  from-onboarded        microsoft-mdatp → test-new (real-time off, offboarding warning)
#   kesl   12 | 10 | ru          kaspersky-kesl → test-new (KESL 10: the real Checkmk app-info, no
#                                --json; ru: KESL 10 printing Russian labels although the plugin
#                                asks for LANG=C)
#   sophos 2022 | 2021           sophos-spl → test-new (soapd's on_access_status; the 2021
#                                variant also plays a wdctl without isrunning)
# shellcheck disable=SC2119 # lib.sh helpers with optional arguments
set -u
here=$(dirname "$0")
# shellcheck source=tests/bus/lib.sh
. "$here/lib.sh"

vendor=${1:?vendor}
variant=${2:?variant}
if [ "$(id -u)" != 0 ]; then
        echo "SKIP: needs root (fanotify)"
        exit 77
fi
[ -x "$AVM_BUILD_DIR/tests/fixtures/avm-blocker" ] || { echo "SKIP: avm-blocker not built"; exit 77; }

src=$(cd "$here/../.." && pwd)
fixtures="$src/tests/fixtures"
sim="$fixtures/avm-sim"
d=$AVM_TESTENV_DIR
root="$d/root"
pkgdb="$d/state/test-packages"
export AVM_SIM_STATE="$d/sim"
export AVM_PROBE_DIR="$d/state/probe"
export AVM_BLOCKER="$AVM_BUILD_DIR/tests/fixtures/avm-blocker"
export AVM_SIM_SAMPLES="$src"
scope="$d/scope/home:$d/scope/tmp:$AVM_PROBE_DIR"
mkdir -p "$AVM_PROBE_DIR" "$pkgdb" "$d/scope/home" "$d/scope/tmp"
trap '"$sim" stop-all >/dev/null 2>&1' EXIT
"$sim" link-tree "$root"

sim_field() { "$sim" "$1" show | python3 -c "import json,sys; print(json.load(sys.stdin)[\"$2\"])"; }
use_plugins() { # use_plugins ID...: only these plugins are loaded
        local so
        rm -f "$d"/plugins/*.so
        for p in "$@"; do
                so=$(find "$AVM_BUILD_DIR/plugins" -name "$p.so" -type f | head -n 1)
                install -m 0644 "$so" "$d/plugins/$p.so"
        done
}
postrm() { # postrm PACKAGE VENDOR PATH: purging the package uninstalls the simulator and removes PATH
        cat >"$pkgdb/$1.postrm" <<EOF
#!/bin/sh
AVM_SIM_STATE='$AVM_SIM_STATE' '$sim' $2 uninstall && rm -rf '$3'
EOF
        chmod 0755 "$pkgdb/$1.postrm"
}
products_line() { busctl get-property "$DEST" "$OBJ" "$IFACE" Products; }
run_job() {
        start_job >/dev/null
        for _ in $(seq 1 1200); do
                case "$(prop State 2>/dev/null)" in running | paused | pending | "") sleep 0.1 ;; *) break ;; esac
        done
        report="$d/report.json"
        report_json >"$report"
}
rq() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($1)" "$report"; }
common_after() { # common_after NEW OLD
        check "State completed" [ "$(prop State)" = completed ]
        check "Protected after" [ "$(prop Protected)" = true ]
        check "LastError empty" [ -z "$(prop LastError)" ]
        check "report: never unprotected outside the gap" [ "$(rq 'r["summary"]["unprotected_outside_gap"]')" = 0 ]
        check "report: $2 stopped before or after $1 enabled" [ "$(rq 'any(e["event"]=="realtime-off" and e.get("product")=="'"$2"'" for e in r["timeline"])')" = True ]
}

case "$vendor/$variant" in
eset/v12 | eset/odscan-threat)
        key=result
        [ "$variant" = odscan-threat ] && key=threat
        "$sim" eset init --rtp on --probe-dir "$AVM_PROBE_DIR" --scope "$scope" || { not_ok "eset simulator started"; finish; }
        "$sim" eset set odscan_key=$key
        echo 12.0.13.0 >"$pkgdb/eea"
        postrm eea eset "$root/opt/eset"
        use_plugins eset-eea test-new
        cat >"$d/conf/avmigrate.conf.d/60-vendor.conf" <<EOF
[Manager]
Discouraged=eset-eea
Approved=test-new

[Product eset-eea]
Upd=$root/opt/eset/eea/bin/upd
Odscan=$root/opt/eset/eea/bin/odscan
Lslog=$root/opt/eset/eea/sbin/lslog
Lic=$root/opt/eset/eea/sbin/lic
Systemctl=$fixtures/eset-systemctl
EOF
        avm-testenv daemon-stop && avm-testenv daemon-start
        check "before: eset-eea detected, version from upd -version (GLPI sample format)" contains "$(products_line)" '"eset-eea" "ESET Endpoint Antivirus for Linux" "12.0.13.0" true true'
        check "before: State pending, Protected" [ "$(prop State)/$(prop Protected)" = pending/true ]
        run_job
        common_after test-new eset-eea
        check "eea purged" [ ! -e "$pkgdb/eea" ]
        check "simulated ESET uninstalled, no blocker left" [ "$(sim_field eset installed)/$(sim_field eset blocker_pid)" = False/None ]
        check "daemon log: the service-level consequence is stated" grep -q "on-demand scanning, updates and every other ESET module stop" "$d/daemon.log"
        ;;
mdatp/json | mdatp/table)
        # test-old → Defender: the package's postinst installs the simulator, passive (Microsoft's
        # default since 101.23062); "table" plays an older mdatp without `health --output json`.
        extra=""
        [ "$variant" = table ] && extra="--version 101.02.55"
        {
                echo "#!/bin/sh"
                echo "export AVM_SIM_STATE='$AVM_SIM_STATE' AVM_PROBE_DIR='$AVM_PROBE_DIR'"
                echo "'$sim' mdatp init --passive yes --probe-dir '$AVM_PROBE_DIR' --scope '$scope' $extra >/dev/null || exit 1"
                [ "$variant" = table ] && echo "'$sim' mdatp set json_health=no"
                echo "exit 0"
        } >"$pkgdb/mdatp.postinst"
        chmod 0755 "$pkgdb/mdatp.postinst"
        "$sim" mdatp init --not-installed
        use_plugins test-old microsoft-mdatp
        cat >"$d/conf/avmigrate.conf.d/60-vendor.conf" <<EOF
[Manager]
Discouraged=test-old
Approved=microsoft-mdatp

[Product microsoft-mdatp]
Mdatp=$root/usr/bin/mdatp
LicensedWaitSec=0
EOF
        avm-testenv daemon-stop && avm-testenv daemon-start
        run_job
        common_after microsoft-mdatp test-old
        check "mdatp installed" [ -e "$pkgdb/mdatp" ]
        check "Defender protecting (real-time, not passive)" [ "$(sim_field mdatp protecting)/$(sim_field mdatp passive)" = True/False ]
        check "report: on-demand EICAR detected by Defender with the threat list's name" [ "$(rq 'any(p["event"]=="probe-on-demand-detected" and p.get("product")=="microsoft-mdatp" and "EICAR" in p.get("detail","") for p in r["probes"])')" = True ]
        if [ "$variant" = table ]; then
                check "daemon log: health read from the table" grep -q "reading the health table" "$d/daemon.log"
        fi
        # an unlicensed Defender is not trusted: a second run would refuse; check the status detail instead
        "$sim" mdatp set licensed=no
        avm-testenv daemon-stop && avm-testenv daemon-start
        check "unlicensed Defender: real-time protection not trusted" contains "$(products_line)" '"microsoft-mdatp" "[^"]*" "[^"]*" true false'
        ;;
mdatp/from-onboarded)
        "$sim" mdatp init --rtp on --passive no --probe-dir "$AVM_PROBE_DIR" --scope "$scope" || { not_ok "mdatp simulator started"; finish; }
        echo 101.24092.0004 >"$pkgdb/mdatp"
        postrm mdatp mdatp "$root/usr/bin/mdatp"
        use_plugins microsoft-mdatp test-new
        cat >"$d/conf/avmigrate.conf.d/60-vendor.conf" <<EOF
[Manager]
Discouraged=microsoft-mdatp
Approved=test-new

[Product microsoft-mdatp]
Mdatp=$root/usr/bin/mdatp
EOF
        avm-testenv daemon-stop && avm-testenv daemon-start
        check "before: Defender detected, real-time on" contains "$(products_line)" '"microsoft-mdatp" "[^"]*" "101.24092.0004" true true'
        run_job
        common_after test-new microsoft-mdatp
        check "mdatp purged" [ ! -e "$pkgdb/mdatp" ]
        check "daemon log: removal without offboarding is stated" grep -q "removed without offboarding" "$d/daemon.log"
        ;;
sophos/2022 | sophos/2021)
        "$sim" sophos init --rtp on --probe-dir "$AVM_PROBE_DIR" --scope "$scope" || { not_ok "sophos simulator started"; finish; }
        if [ "$variant" = 2021 ]; then
                "$sim" sophos set avscanner_format=2021 wdctl_isrunning=no
        fi
        inst="$root/opt/sophos-spl"
        mkdir -p "$inst/base" "$inst/bin"
        python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import avmsim; sys.stdout.write(avmsim.sample("sophos-spl", "VERSION-ini-base.txt"))' "$fixtures" >"$inst/base/VERSION.ini"
        cat >"$inst/bin/uninstall.sh" <<EOF
#!/bin/sh
# simulated /opt/sophos-spl/bin/uninstall.sh: the product goes away
AVM_SIM_STATE='$AVM_SIM_STATE' '$sim' sophos uninstall && rm -rf '$inst'
EOF
        chmod 0755 "$inst/bin/uninstall.sh"
        use_plugins sophos-spl test-new
        cat >"$d/conf/avmigrate.conf.d/60-vendor.conf" <<EOF
[Manager]
Discouraged=sophos-spl
Approved=test-new

[Product sophos-spl]
InstallDir=$inst
Wdctl=$inst/bin/wdctl
Avscanner=$inst/plugins/av/bin/avscanner
OnAccessStatusFile=$AVM_SIM_STATE/sophos/on_access_status
EOF
        avm-testenv daemon-stop && avm-testenv daemon-start
        check "before: Sophos detected (VERSION.ini sample), on-access on" contains "$(products_line)" '"sophos-spl" "Sophos Protection for Linux" "1.2.2.999" true true'
        run_job
        common_after test-new sophos-spl
        check "Sophos uninstalled (uninstall.sh ran)" [ ! -e "$inst" ]
        check "simulated Sophos: no blocker left" [ "$(sim_field sophos blocker_pid)" = None ]
        if [ "$variant" = 2021 ]; then
                check "daemon log: wdctl without isrunning handled" grep -q "wdctl has no isrunning" "$d/daemon.log"
        fi
        ;;
kesl/12 | kesl/10 | kesl/ru)
        kc="$root/opt/kaspersky/kesl/bin/kesl-control"
        ver=12.1.0.1297
        [ "$variant" != 12 ] && ver=10.1.0.5960
        "$sim" kesl init --rtp on --version "$ver" --probe-dir "$AVM_PROBE_DIR" --scope "$scope" ||
                { not_ok "kesl simulator started"; finish; }
        # ru: KESL without --json on a host that ignores LANG=C: Russian labels, the database date
        # labelled as the certified-configuration script reads it
        [ "$variant" = ru ] && "$sim" kesl set locale=ru ru_db_label=programmy
        echo "$ver" >"$pkgdb/kesl"
        postrm kesl kesl "$kc"
        use_plugins kaspersky-kesl test-new
        cat >"$d/conf/avmigrate.conf.d/60-vendor.conf" <<EOF
[Manager]
Discouraged=kaspersky-kesl
Approved=test-new

[Product kaspersky-kesl]
KeslControl=$kc
DetectByTool=no
VerifyRemovedPath=$kc
TaskSettleTimeoutSec=15
EOF
        avm-testenv daemon-stop && avm-testenv daemon-start
        check "before: KESL $ver detected, real-time on" contains "$(products_line)" '"kaspersky-kesl" "[^"]*" "'"$ver"'" true true'
        check "before: definitions age known (database date parsed)" not grep -q "Malformed\|not understood" "$d/daemon.log"
        run_job
        common_after test-new kaspersky-kesl
        check "kesl purged" [ ! -e "$pkgdb/kesl" ]
        check "kesl-control gone" [ ! -e "$kc" ]
        check "simulated KESL: no blocker left" [ "$(sim_field kesl blocker_pid)" = None ]
        ;;
*)
        echo "unknown vendor/variant $vendor/$variant" >&2
        exit 2
        ;;
esac
finish
