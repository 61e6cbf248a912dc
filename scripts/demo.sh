#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh [--vmroot] KVER: `make demo`.  Boots a guest that runs
# selftests/guest/demo.sh (the layer store's story: an OCI image imported,
# mounted, changed, committed) and shows its output live.  With --vmroot
# (`make demo-vmroot`): a guest whose root filesystem becomes a strata
# union (selftests/guest/vmroot.sh).  The exit status is the
# guest's, or 1 if its kernel log holds a warning.  Logs: build/logs/KVER/demo/ (vmroot/).
set -euo pipefail

mode=demo
if [ "${1:-}" = --vmroot ]; then
	mode=vmroot
	shift
fi
[ $# -eq 1 ] || { echo "usage: $0 [--vmroot] KVER" >&2; exit 2; }
kver=$1
top=$(cd "$(dirname "$0")/.." && pwd)
build=${STRATA_BUILD:-$top/build} # STRATA_BUILD: for testing the harness
logs=$build/logs/$kver/$mode

echo "$mode: booting $kver in QEMU (emulated: this takes a few seconds)..."
rc=0
"$top/scripts/qemu-run.sh" --$mode --timeout 600 --idle 300 "$kver" "$logs" || rc=$?
if ! "$top/scripts/check-log.sh" "$logs/console.log" "$logs/results.log"; then
	echo "demo: the guest kernel log is not clean (see $logs/console.log)"
	[ "$rc" -ne 0 ] || rc=1
fi
echo "demo: logs in $logs; exit status $rc"
exit "$rc"
