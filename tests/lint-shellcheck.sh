#!/usr/bin/env bash
# Runs shellcheck on every shell script git tracks: *.sh and every file whose
# first line is a sh or bash shebang (tools/demo, tests/bus/avm-testenv,
# tests/system/run, debian/avmigrate.postrm, ...). A finding fails the test;
# where the code is right, a narrow "# shellcheck disable=SCxxxx" with the
# reason goes on the line before it.
# Usage: lint-shellcheck.sh [SOURCE_ROOT]
set -euo pipefail
top=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top"

if ! command -v shellcheck >/dev/null; then
        echo "shellcheck is not installed (tools/install-deps installs it)" >&2
        exit 1
fi
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        echo "not a git checkout: no list of tracked files to check" >&2
        exit 77
fi

is_shell_script() {
        local first
        case "$1" in *.sh) return 0 ;; esac
        [ -f "$1" ] && [ ! -L "$1" ] || return 1
        IFS= read -r first <"$1" 2>/dev/null || return 1
        [[ "$first" =~ ^#!.*[/\ ](sh|bash|dash)([[:space:]]|$) ]]
}

scripts=()
while IFS= read -r -d '' f; do
        is_shell_script "$f" && scripts+=("$f")
done < <(git ls-files -z)

if [ ${#scripts[@]} -eq 0 ]; then
        echo "no shell scripts found" >&2
        exit 1
fi
echo "shellcheck ${#scripts[@]} scripts"
# -x: follow the files the scripts source (the "# shellcheck source=" lines
# name them relative to the top of the tree).
shellcheck -x -f gcc "${scripts[@]}"
