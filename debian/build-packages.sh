#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# debian/build-packages.sh OUTDIR [COMMIT]
#
# Builds the avmigrate Debian packages from a clean checkout of COMMIT
# (default HEAD) of this repository, never from the working tree, so
# uncommitted changes and build directories do not leak into the packages.
# Copies the resulting .deb files to OUTDIR and prints their absolute paths,
# one per line, on stdout; the build log goes to stderr.
#
# Needs: git, dpkg-dev and the Build-Depends of debian/control
# (apt-get build-dep can't read them from here; `mk-build-deps` or the list
# in debian/control). Set DEB_BUILD_OPTIONS=nocheck to skip the unit tests.
# Exit status: 0 built, 1 build failed, 2 usage.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
        echo "usage: $0 OUTDIR [COMMIT]" >&2
        exit 2
fi
outdir=$1
commit=${2:-HEAD}
repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
rev=$(git -C "$repo" rev-parse --verify "$commit^{commit}")

mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)

tmp=$(mktemp -d /tmp/avmigrate-deb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# git archive: a plain export of the commit (no .git, no worktree metadata
# to clean up in the repository afterwards).
mkdir "$tmp/src"
git -C "$repo" archive --format=tar "$rev" | tar -x -C "$tmp/src"

# dpkg-checkbuilddeps first: a missing Build-Depends gives one clear line.
(cd "$tmp/src" && dpkg-checkbuilddeps) >&2 || {
        echo "$0: missing build dependencies (see above)" >&2
        exit 1
}
if ! (cd "$tmp/src" && dpkg-buildpackage -us -uc -b) >&2; then
        echo "$0: dpkg-buildpackage failed" >&2
        exit 1
fi

shopt -s nullglob
debs=("$tmp"/*.deb)
if [ ${#debs[@]} -eq 0 ]; then
        echo "$0: no .deb produced" >&2
        exit 1
fi
for d in "${debs[@]}"; do
        # debug symbols (-dbgsym) only with AVM_DEB_DBGSYM=1
        case $d in *-dbgsym_*) [ "${AVM_DEB_DBGSYM:-0}" = 1 ] || continue ;; esac
        cp -f "$d" "$outdir/"
        echo "$outdir/$(basename "$d")"
done
