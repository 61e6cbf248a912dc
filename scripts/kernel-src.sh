#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kernel-src.sh [DEST]: extract the few members of Debian's linux-source-6.12
# tarball that the build uses (kselftest harness headers, the YNL generator
# and the netlink spec schemas it validates against) into DEST, default
# <repo>/build/ksrc, and print DEST.  Nothing of the kernel tree is kept in
# the repository; this cache is rebuilt only when the tarball or the member
# list changes.  Override the tarball with KSRC_TARBALL.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$repo/build/ksrc}
tarball=${KSRC_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
top=linux-source-6.12

members=(
	"$top/tools/testing/selftests/kselftest_harness.h"
	"$top/tools/testing/selftests/kselftest.h"
	"$top/tools/net/ynl/*"
	"$top/Documentation/netlink/genetlink*.yaml"
	"$top/scripts/checkpatch.pl"
	"$top/scripts/spelling.txt"
	"$top/scripts/const_structs.checkpatch"
)

if [ ! -r "$tarball" ]; then
	echo "kernel-src.sh: $tarball not found (run scripts/deps.sh)" >&2
	exit 1
fi

# The stamp names the tarball (path, size, mtime) and the member list, so a
# new linux-source upload or an added member refreshes the cache.
stamp="$(stat -c '%n %s %Y' "$tarball") ${members[*]}"
fresh() { [ -f "$dest/.stamp" ] && [ "$(cat "$dest/.stamp")" = "$stamp" ]; }
if fresh; then
	echo "$dest"
	exit 0
fi

# Serialise parallel builds, and extract next to DEST and rename into place
# so an interrupted run never leaves a half-filled cache behind a stamp.
mkdir -p "$(dirname "$dest")"
exec 9>"$dest.lock"
flock 9
if ! fresh; then
	tmp=$(mktemp -d "$dest.tmp.XXXXXX")
	chmod 755 "$tmp"
	trap 'rm -rf "$tmp"' EXIT
	tar -xJf "$tarball" -C "$tmp" --strip-components=1 --wildcards "${members[@]}"
	for m in "${members[@]}"; do
		case $m in *'*'*) continue ;; esac
		[ -f "$tmp/${m#"$top"/}" ] ||
			{ echo "kernel-src.sh: $m missing in $tarball" >&2; exit 1; }
	done
	printf '%s\n' "$stamp" >"$tmp/.stamp"
	rm -rf "$dest"
	mv "$tmp" "$dest"
	trap - EXIT
fi
echo "$dest"
