#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# run-fuzzer.sh TARGET SEEDDIR SECONDS [LIBFUZZER-OPTION...]
#
# Runs the libFuzzer binary TARGET for SECONDS on a temporary copy of the
# seed corpus SEEDDIR (libFuzzer adds new inputs to its first corpus
# directory; the source tree stays untouched). A crash, leak, sanitizer
# report or timeout fails the run; the reproducer is kept in
# $FUZZ_ARTIFACT_DIR (default: the current directory) as
# <target>-crash-<sha1>, and the command to replay it is printed.
set -eu

if [ $# -lt 3 ]; then
        echo "usage: $0 TARGET SEEDDIR SECONDS [LIBFUZZER-OPTION...]" >&2
        exit 2
fi
target=$1
seeds=$2
seconds=$3
shift 3
name=$(basename "$target")
artifacts=${FUZZ_ARTIFACT_DIR:-$PWD}

corpus=$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX")
trap 'rm -rf "$corpus"' EXIT INT TERM
if [ -d "$seeds" ]; then
        cp -R "$seeds"/. "$corpus"/
fi

set +e
"$target" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$artifacts/$name-" "$@" "$corpus"
rc=$?
set -e
if [ $rc -ne 0 ]; then
        echo "$name failed (exit status $rc); replay the reproducer named above with:" >&2
        echo "  $target $artifacts/$name-<crash|leak|timeout|oom>-<sha1>" >&2
fi
exit $rc
