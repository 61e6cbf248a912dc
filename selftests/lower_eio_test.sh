#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# lower_eio_test.sh: a lower branch whose disk fails, in the test guest as
# root under busybox sh; prints TAP.
#
# The lower branch is an ext2 filesystem (mounted read-only, as image
# layers are) on a device-mapper device over a loop device, read-only
# below the filesystem too, so that ext4 cannot record its errors in the
# superblock and the device's checksum stays a fair witness.  With files of
# the union open and the page cache dropped, the device's table is swapped
# for the "error" target, so every read of the lower filesystem fails:
#
#   - reads through the union fail with EIO and return no data
#   - copy-up (append, open for writing, rename) of a file whose data
#     cannot be read
#     fails with EIO and leaves the rw branch as it was: no partial copy,
#     an empty work directory; so does creating a name that cannot be
#     looked up below
#   - lookups and readdir in an unreadable directory fail with EIO (never
#     ENOENT for a name that exists); a union over the failing branch
#     unmounts, and mounting it again fails with EIO (its root directory
#     cannot be read) and leaves nothing mounted
#   - once the device works again, the same mount shows exactly what it
#     showed before (nothing negative was cached), the lower filesystem
#     and its whole device are byte-identical, copy-up works
#   - dm-flakey (one second up, one down): every read returns the right
#     data or EIO, never other bytes, and a copy-up is all or nothing
#
# Skips when the kernel has no device-mapper or dmsetup is missing.

base=${TMPDIR:-/tmp}
getdents=$(dirname "$0")/getdents
export DM_DISABLE_UDEV=1
dm() { dmsetup --noudevsync "$@"; }

if [ ! -x "$getdents" ]; then
	echo "1..0 # SKIP $getdents is missing"
	exit 4
fi
if ! command -v dmsetup >/dev/null 2>&1; then
	echo "1..0 # SKIP dmsetup is not in the guest"
	exit 4
fi
if ! dm version >/dev/null 2>&1; then
	echo "1..0 # SKIP no device-mapper in this kernel (dm-mod)"
	exit 4
fi
have_flakey=
dm targets 2>/dev/null | grep -q '^flakey' && have_flakey=1

echo "TAP version 13"
echo "1..32"

# result, check, expect, same and the counters n and failed.
. "$(dirname "$0")/tap.sh"
EIO="Input/output error"
# eio DESCRIPTION COMMAND...: COMMAND fails with EIO (busybox prints
# strerror, whatever its exit code).
eio() {
	desc=$1
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ] && printf '%s\n' "$out" | grep -qF "$EIO"; then
		result 0 "$desc"
	else
		result 1 "$desc"
		echo "# rc=$rc, wanted EIO; output:"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
}

# Names, types, modes, sizes, owners, times, link targets and contents of
# a tree; with "notimes" no times (the rw branch's work directory changes
# its times with every copy-up attempt).
tree_sum() { # DIR [notimes]
	(cd "$1" && find . | LC_ALL=C sort | while IFS= read -r f; do
		if [ "${2:-}" = notimes ]; then
			stat -c '%n %F %a %s %u %g' "$f"
		else
			stat -c '%n %F %a %s %u %g %Y' "$f"
		fi
		if [ -L "$f" ]; then
			readlink "$f"
		elif [ -f "$f" ]; then
			sha256sum <"$f"
		fi
	done) 2>&1
}
# drop_caches alone keeps the buffers last used on each CPU (the per-CPU
# buffer_head LRUs hold references); BLKFLSBUF empties those first.
quiet_stat() { stat "$@" >/dev/null; }
drop_caches() {
	sync
	blockdev --flushbufs "$dev"
	echo 3 >/proc/sys/vm/drop_caches
}

dir=$(mktemp -d "$base/lower_eio.XXXXXX")
lower=$dir/lower upper=$dir/upper m=$dir/u m2=$dir/u2
mkdir -p "$lower" "$upper" "$m" "$m2"
name=strata-eio-$$
loop=
cleanup() {
	exec 5<&- 6<&- 7<&- 8<&- 9<&-
	umount "$m2" 2>/dev/null
	umount "$m" 2>/dev/null
	umount "$lower" 2>/dev/null
	dm remove "$name" 2>/dev/null
	[ -z "$loop" ] || losetup -d "$loop" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

img=$dir/lower.img
dd if=/dev/zero of="$img" bs=1M count=16 2>/dev/null
loop=$(losetup -f) && losetup "$loop" "$img" || { echo "# losetup failed"; loop=; }
sectors=$(blockdev --getsz "$loop" 2>/dev/null)
linear="0 $sectors linear $loop 0"
dev=/dev/mapper/$name
# Without its setup the rest would only fail for the wrong reason.
setup() { # DESCRIPTION COMMAND...
	check "$@" || { echo "Bail out! $1 failed"; exit 1; }
}
mkdm() { dm create "$name" --table "$linear" && [ -b "$dev" ]; }
setup "a device-mapper device over a loop device" mkdm
set_table() { # TABLE
	dm suspend "$name" && dm reload --readonly "$name" --table "$1" &&
		dm resume "$name"
}

# The lower branch: files to read and copy up, a directory of two hundred
# names (several blocks), a symlink.  4 KiB blocks: a block per page, so
# no directory block shares a page with the buffers ext4 holds for the
# life of the mount (superblock, group descriptors), which stay cached.
mke2fs -F -b 4096 "$dev" >/dev/null 2>&1
mnt_lower() { # OPTIONS
	mount -t ext2 -o "$1,errors=continue" "$dev" "$lower" 2>/dev/null ||
		mount -t ext4 -o "$1,errors=continue" "$dev" "$lower"
}
populate() {
	mnt_lower rw || return 1
	dd if=/dev/urandom of="$lower/a" bs=64k count=4 2>/dev/null
	for f in b c e; do
		dd if=/dev/urandom of="$lower/$f" bs=16k count=4 2>/dev/null
	done
	mkdir "$lower/d"
	i=0
	while [ $i -lt 200 ]; do
		echo "$i" >"$lower/d/file-with-a-long-name-$i"
		i=$((i + 1))
	done
	mkdir "$lower/d2"
	echo x >"$lower/d2/x"
	ln -s a "$lower/l"
	chmod 640 "$lower/b"
	umount "$lower" && set_table "$linear"
}
setup "an ext2 lower branch on it, the device read-only from here on" populate

union() { # MOUNTPOINT BRANCHES
	mount -t strata -o "br=$2" none "$1"
}
mnt_lower ro
union "$m" "$upper=rw:$lower=rr"
# A directory of the rw branch only: renaming into it looks nothing up
# below, so the rename fails in the copy-up, not in a lookup.
mkdir "$m/newdir"
union_before=$(tree_sum "$m")
lower_before=$(tree_sum "$lower")
a_sum=$(sha256sum <"$lower/a")
b_sum=$(sha256sum <"$lower/b")
umount "$m"
umount "$lower"
dev_before=$(sha256sum <"$img")

# Look up the names the union will be asked about, but read neither their
# data nor the contents of d and d2.
mnt_lower ro
setup "the union mounts" union "$m" "$upper=rw:$lower=rr"
upper_before=$(tree_sum "$upper" notimes)
exec 5<"$m/a" 6<"$m/b" 7<"$m/c" 8<"$m/e" 9<"$m/d"
stat "$m/d2" >/dev/null
union "$m2" "$lower=rr"

check "the device fails: every I/O errors" set_table "0 $sectors error"
drop_caches

eio "reading a lower file through the union fails with EIO" cat "$m/a"
check "... and returns no data" same "$(cat "$m/a" 2>/dev/null | wc -c)" 0
eio "reading the open file fails with EIO" cat <&5
eio "copy-up for append fails with EIO" sh -c "echo x >>'$m/e'"
# (chmod copies no data any more: opening for writing does.)
eio "copy-up for writing fails with EIO" sh -c "exec 3<>'$m/b'"
eio "copy-up for rename fails with EIO" mv "$m/c" "$m/newdir/c"
eio "creating a name that cannot be looked up below fails with EIO" \
	sh -c ">'$m/d2/new'"
check "the rw branch is as it was: no partial copy, work directory empty" \
	same "$(tree_sum "$upper" notimes)" "$upper_before"
eio "lookup of an existing name in an unreadable directory fails with EIO" \
	stat "$m/d/file-with-a-long-name-7"
eio "readdir of an unreadable directory fails with EIO" "$getdents" "$m/d"
check "the open files still stat" quiet_stat "$m/a" "$m/b" "$m/c" "$m/e"
check "a union over the failing branch unmounts" umount "$m2"
eio "mounting it again fails with EIO" union "$m2" "$lower=rr"
check "... and leaves nothing mounted" sh -c "! grep -q ' $m2 ' /proc/mounts"
exec 5<&- 6<&- 7<&- 8<&- 9<&-

check "the device works again" set_table "$linear"
drop_caches
check "the union shows what it showed before" \
	same "$(tree_sum "$m")" "$union_before"
check "... including the name whose lookup failed" \
	quiet_stat "$m/d/file-with-a-long-name-7"
check "the rw branch is still as it was" \
	same "$(tree_sum "$upper" notimes)" "$upper_before"
check "the union unmounts" umount "$m"
check "the lower branch is unchanged" same "$(tree_sum "$lower")" "$lower_before"
umount "$lower"
check "... and so is its whole device" same "$(sha256sum <"$img")" "$dev_before"

mnt_lower ro
union "$m" "$upper=rw:$lower=rr"
check "after a remount too the union shows what it showed before" \
	same "$(tree_sum "$m")" "$union_before"
check "copy-up works again" sh -c "echo x >>'$m/e' && [ -f '$upper/e' ]"

# Intermittent failures: reads give the right bytes or EIO.
flakey_reads() {
	i=0 good=0 bad=0
	while [ $i -lt 12 ]; do
		drop_caches
		out=$(sha256sum 2>&1 <"$m/a")
		if [ "$out" = "$a_sum" ]; then
			good=$((good + 1))
		elif printf '%s\n' "$out" | grep -qF "$EIO"; then
			bad=$((bad + 1))
		else
			echo "# read $i returned neither the data nor EIO: $out"
			return 1
		fi
		i=$((i + 1))
		sleep 0.3
	done
	echo "# $good reads right, $bad EIO"
}
# Open for writing until it works: each failure leaves nothing, the
# success a full copy.
flakey_copy_up() {
	i=0
	while [ $i -lt 20 ]; do
		drop_caches
		if out=$(sh -c "exec 3<>'$m/b'" 2>&1); then
			echo "# the copy-up worked after $i EIO"
			[ "$(sha256sum <"$upper/b")" = "$b_sum" ] &&
				[ -z "$(ls -A "$upper/.wh..wh.work")" ]
			return
		fi
		printf '%s\n' "$out" | grep -qF "$EIO" || { echo "# $out"; return 1; }
		[ ! -e "$upper/b" ] && [ -z "$(ls -A "$upper/.wh..wh.work")" ] ||
			{ echo "# a failed copy-up left a copy behind"; return 1; }
		i=$((i + 1))
		sleep 0.2
	done
	echo "# the copy-up never worked"
	return 1
}
if [ -n "$have_flakey" ]; then
	check "dm-flakey: the device fails one second in two" \
		set_table "0 $sectors flakey $loop 0 1 1"
	check "dm-flakey: reads return the data or EIO" flakey_reads
	check "dm-flakey: copy-up is all or nothing" flakey_copy_up
	set_table "$linear"
else
	for t in "the device fails" "reads" "copy-up"; do
		n=$((n + 1))
		echo "ok $n dm-flakey: $t # SKIP no flakey target"
	done
fi
check "the union unmounts" umount "$m"
umount "$lower"
check "in the end the lower device is unchanged" \
	same "$(sha256sum <"$img")" "$dev_before"

exit $((failed != 0))
