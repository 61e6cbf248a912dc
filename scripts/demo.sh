#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh KVER: `make demo`.  Boots a guest that runs selftests/guest/demo.sh
# (three image layers on ext4, mounted as a read-only strata union, looked
# at from a shell) and shows its output live.  The exit status is the
# guest's, or 1 if its kernel log holds a warning.  Logs: build/logs/KVER/demo/.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 KVER" >&2; exit 2; }
kver=$1
top=$(cd "$(dirname "$0")/.." && pwd)
build=${STRATA_BUILD:-$top/build} # STRATA_BUILD: for testing the harness
logs=$build/logs/$kver/demo

echo "demo: booting $kver in QEMU (emulated: this takes a few seconds)..."
rc=0
"$top/scripts/qemu-run.sh" --demo --timeout 600 --idle 300 "$kver" "$logs" || rc=$?
if ! "$top/scripts/check-log.sh" "$logs/console.log" "$logs/results.log"; then
	echo "demo: the guest kernel log is not clean (see $logs/console.log)"
	[ "$rc" -ne 0 ] || rc=1
fi
echo "demo: logs in $logs; exit status $rc"
exit "$rc"
