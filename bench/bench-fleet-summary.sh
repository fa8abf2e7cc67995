#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench-fleet-summary.sh [BUILD] [N]: `avmigrate-fleet summary --reports` over
# N (default 100,000) simulated desktops' reports (tests/fleet/make-reports),
# as ratios against baselines over the same files in the same run: `cat` of
# every file (the I/O floor) and `wc -l` (a trivial pass over every byte).
# Each figure is the best of 3 interleaved rounds, after one warm-up so the
# page cache holds the files for all. Not a test: it prints figures and never fails on them.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath "${1:-$top/build}")
n=${2:-100000}
fleet=$build/fleet/avmigrate-fleet
[ -x "$fleet" ] || { echo "build $fleet first" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "generating $n reports..."
"$top/tests/fleet/make-reports" "$tmp/r" "$n" 1
du -sh "$tmp/r" | sed 's/^/size: /'

ms() { # ms CMD...: wall time of one run, in ms
        local t0 t1
        t0=$(date +%s%N)
        "$@" >/dev/null
        t1=$(date +%s%N)
        echo $(((t1 - t0) / 1000000))
}
cat_all() { find "$tmp/r" -name '*.json' -print0 | xargs -0 cat; }
wc_all() { find "$tmp/r" -name '*.json' -print0 | xargs -0 wc -l; }

cat_all >/dev/null # warm the page cache
# Rounds interleaved (cat, wc, summary, summary --json, cat, ...) so that
# the machine's noise hits all alike; each figure is its best round.
c=999999999 w=999999999 s=999999999 j=999999999
for _ in 1 2 3; do
        t=$(ms cat_all) && [ "$t" -lt "$c" ] && c=$t
        t=$(ms wc_all) && [ "$t" -lt "$w" ] && w=$t
        t=$(ms "$fleet" summary --reports "$tmp/r") && [ "$t" -lt "$s" ] && s=$t
        t=$(ms "$fleet" summary --reports "$tmp/r" --json) && [ "$t" -lt "$j" ] && j=$t
done
rss=$( { /usr/bin/time -f %M "$fleet" summary --reports "$tmp/r" >/dev/null; } 2>&1 || echo "?")
echo "cat:            ${c} ms"
echo "wc -l:          ${w} ms"
echo "summary:        ${s} ms  = $(python3 -c "print(f'{$s / max($c, 1):.2f}')") × cat, $(python3 -c "print(f'{$s / max($w, 1):.2f}')") × wc"
echo "summary --json: ${j} ms  = $(python3 -c "print(f'{$j / max($c, 1):.2f}')") × cat"
echo "summary max RSS: ${rss} KiB for $n machines"
