#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# module_test.sh: strata.ko loads, serves a small union and unloads cleanly,
# several times in a row (in the spirit of kselftest's module.sh).  Runs in
# the test guest as root under busybox sh; prints TAP.  The guest init has
# already loaded strata.ko; this test leaves it loaded again at the end.
#
#   - rmmod / insmod cycles: the filesystem type appears and disappears
#   - a union of two read-only tmpfs branches: mount, read from both
#     branches, the top one wins, rmmod is refused while mounted, umount
#   - the same small union on every branch filesystem in STRATA_TEST_FS
#   - after the last umount the module's refcount is 0 and rmmod works

ko=${STRATA_KO:-/strata/strata.ko}
root=${STRATA_TEST_ROOT:-/mnt}
fslist=${STRATA_TEST_FS:-}
cycles=3

if [ ! -f "$ko" ]; then
	echo "1..0 # SKIP $ko not found"
	exit 4
fi

nfs=0
for fs in $fslist; do nfs=$((nfs + 1)); done
echo "TAP version 13"
echo "1..$((1 + 4 * cycles + 7 + nfs + 4))"

# result, check, expect and the counters n and failed.
. "$(dirname "$0")/tap.sh"
loaded() { [ -d /sys/module/strata ]; }
registered() { grep -qw strata /proc/filesystems; }
unregistered() { ! registered; }
unloaded() { ! loaded; }
mounted() { grep -q " $1 " /proc/mounts; }
unmounted() { ! mounted "$1"; }
content() { # FILE EXPECTED
	got=$(cat "$1" 2>&1)
	[ "$got" = "$2" ] && return 0
	echo "# $1: expected '$2', got '$got'"
	return 1
}
insmod_ko() { insmod "$ko" && loaded; }
rmmod_ko() { rmmod strata && unloaded; }

# Start from an unloaded module, whoever loaded it.
if loaded; then
	check "rmmod of the module loaded at boot" rmmod_ko
else
	result 0 "module not loaded at start"
fi

i=1
while [ $i -le $cycles ]; do
	check "cycle $i: insmod" insmod_ko
	check "cycle $i: filesystem type strata registered" registered
	check "cycle $i: rmmod" rmmod_ko
	check "cycle $i: filesystem type strata gone" unregistered
	i=$((i + 1))
done

# A two-branch read-only union: BASE/a over BASE/b, mounted on BASE/x.
make_branches() { # BASE
	mkdir -p "$1/a" "$1/b" "$1/x" &&
	echo top >"$1/a/top.txt" &&
	echo a >"$1/a/both.txt" &&
	echo bottom >"$1/b/bottom.txt" &&
	echo b >"$1/b/both.txt"
}
mount_union() { # BASE
	mount -t strata -o "br=$1/a=ro:$1/b=ro" none "$1/x"
}
union_works() { # BASE: mount, read from both branches, umount
	mount_union "$1" || return 1
	content "$1/x/top.txt" top && content "$1/x/bottom.txt" bottom &&
		content "$1/x/both.txt" a
	r=$?
	umount "$1/x" || r=1
	return $r
}

base=$(mktemp -d /tmp/module_test.XXXXXX)
make_branches "$base"
insmod_ko || echo "# insmod $ko failed"
check "mount -t strata -o br=$base/a=ro:$base/b=ro" mount_union "$base"
check "read a file of the top branch" content "$base/x/top.txt" top
check "read a file of the lower branch" content "$base/x/bottom.txt" bottom
check "the top branch hides its lower namesake" content "$base/x/both.txt" a
check "mountinfo lists the union as strata" \
	sh -c "grep ' $base/x ' /proc/self/mountinfo | grep -q ' - strata '"
check "rmmod refused while mounted" sh -c "! rmmod strata 2>/dev/null"
check "umount" sh -c "umount '$base/x' && ! grep -q ' $base/x ' /proc/mounts"
mounted "$base/x" && umount -l "$base/x"
rm -rf "$base"

for fs in $fslist; do
	b=$root/$fs/module_test.$$
	rm -rf "$b"
	make_branches "$b"
	check "union of two read-only branches on $fs" union_works "$b"
	mounted "$b/x" && umount -l "$b/x"
	rm -rf "$b"
done

check "module refcount is 0 after the last umount" \
	content /sys/module/strata/refcnt 0
check "rmmod after umount" rmmod_ko
check "filesystem type strata gone" unregistered
# Later tests expect the module loaded, as the guest init left it.
check "insmod again" insmod_ko

[ "$failed" -eq 0 ]
