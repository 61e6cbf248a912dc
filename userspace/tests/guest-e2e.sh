#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# guest-e2e.sh: the helper against the real module, inside a test guest
# (busybox sh, root, strata.ko installed under /lib/modules with
# modules.dep).  Not part of `make -C userspace test`, which needs no VM;
# run it by hand in `make shell`, or with
#   scripts/qemu-run.sh --cmd 'sh /path/to/guest-e2e.sh' KVER
# Prints TAP-like lines and "N passed, N failed"; exit status 1 on failure.

S=${STRATA:-strata}
pass=0 fail=0
ok() { echo "ok - $*"; pass=$((pass + 1)); }
bad() { echo "not ok - $*"; fail=$((fail + 1)); }

# expect DESC RC TEXT CMD...: CMD exits RC and prints TEXT (fixed string)
expect() {
	desc=$1 want=$2 text=$3
	shift 3
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -eq "$want" ] && { [ -z "$text" ] || echo "$out" | grep -qF -- "$text"; }; then
		ok "$desc"
	else
		bad "$desc: rc=$rc, output: $out"
	fi
}
# check DESC CMD...: CMD succeeds
check() {
	desc=$1
	shift
	if "$@"; then ok "$desc"; else bad "$desc"; fi
}

base=${TMPDIR:-/tmp}
[ -d /mnt/tmpfs ] && base=/mnt/tmpfs
root=$(mktemp -d "$base/e2e.XXXXXX")
m=$root/mnt
mkdir -p "$root/l1/d" "$root/l2/d" "$root/l3" "$m"
echo top >"$root/l1/f"
echo low >"$root/l2/f"
echo x >"$root/l2/d/x"
echo y >"$root/l1/d/y"
: >"$root/l1/.wh.gone"
echo hidden >"$root/l2/gone"

expect "version shows the module" 0 "strata module " $S version

expect "top branch defaults to rw, which the module refuses" 1 \
	"strata: mount $m: branch $root/l1: writable branches are not supported yet" \
	$S mount "$m" "$root/l1" "$root/l2"
expect "read-only union mounts" 0 "" $S mount "$m" "$root/l1=ro" "$root/l2=rr"
check "top file wins" [ "$(cat "$m/f")" = top ]
check "directories merge" [ -f "$m/d/x" -a -f "$m/d/y" ]
check "whiteout hides" [ ! -e "$m/gone" ]
check "mountinfo spells br=" grep -qF "br=$root/l1=ro:$root/l2=rr" /proc/self/mountinfo
expect "umount" 0 "" $S umount "$m"
expect "umount of a non-mount" 1 "strata: umount $m: not a mount point" $S umount "$m"

expect "missing branch" 1 "strata: mount $m: branch $root/nope: does not exist" \
	$S mount "$m" "$root/l1=ro" "$root/nope=ro"
expect "branch given twice (kernel)" 1 "strata: mount $m: branch $root/l1: given twice" \
	$S mount "$m" "$root/l1=ro" "$root/l1=ro"
expect "branch inside another (kernel)" 1 "branch $root/l1/d: inside branch $root/l1" \
	$S mount "$m" "$root/l1=ro" "$root/l1/d=ro"
expect "rw below the top (kernel)" 1 "branch $root/l2: only the top branch may be rw" \
	$S mount "$m" "$root/l1=ro" "$root/l2=rw"

# A path longer than fsconfig's 256-byte strings.
long=$root/l3
i=0
while [ $i -lt 12 ]; do
	long=$long/component-with-a-rather-long-name-$i
	i=$((i + 1))
done
mkdir -p "$long"
echo deep >"$long/deep"
expect "branch path of ${#long} bytes" 0 "" $S mount "$m" "$root/l1=ro" "$long=rr"
check "long-path branch visible" [ "$(cat "$m/deep")" = deep ]
$S umount "$m"

# Thousands of branches, listed in a file.
n=4096
list=$root/layers
: >"$list"
i=0
while [ $i -lt $n ]; do
	mkdir -p "$root/many/$i"
	echo "$root/many/$i=rr" >>"$list"
	i=$((i + 1))
done
echo bottom >"$root/many/$((n - 1))/bottom"
expect "$n branches with --branches-from" 0 "" $S mount --branches-from "$list" "$m"
check "bottom of $n branches visible" [ "$(cat "$m/bottom")" = bottom ]
$S umount "$m"
# The limit is checked as branches are added, before duplicates are looked
# for, so repeating directories is enough to pass it.
i=$n
while [ $i -le 8192 ]; do echo "$root/many/$((i % n))=rr" >>"$list"; i=$((i + 1)); done
expect "more than 8192 branches" 1 "too many branches (max 8192)" \
	$S mount --branches-from "$list" "$m"

expect "--whiteout overlay --userxattr --readonly" 0 "" \
	$S mount --whiteout overlay --userxattr --readonly "$m" "$root/l1=ro" "$root/l2=ro"
check "mountinfo shows whiteout=overlay,userxattr" \
	grep -qF "br=$root/l1=ro:$root/l2=ro,whiteout=overlay,userxattr" /proc/self/mountinfo
$S umount "$m"

# Stacking: a union over a union is fine, one more level is not.
mkdir -p "$root/m1" "$root/m2"
$S mount "$root/m1" "$root/l1=ro" "$root/l2=ro"
expect "union over a union" 0 "" $S mount "$root/m2" "$root/m1=ro"
expect "stacking too deep" 1 "branch $root/m2: stacking too deep" $S mount "$m" "$root/m2=ro"
$S umount "$root/m2"
$S umount "$root/m1"

# libkmod: load by name from /lib/modules, then from a file.
if rmmod strata 2>/dev/null; then
	expect "loads strata.ko by name" 0 "" $S mount "$m" "$root/l1=ro"
	check "module is loaded" [ -d /sys/module/strata ]
	$S umount "$m"
	rmmod strata
	ko=$(find /lib/modules -name strata.ko | head -n 1)
	expect "loads strata.ko with --module" 0 "" $S mount --module "$ko" "$m" "$root/l1=ro"
	$S umount "$m"
else
	ok "# SKIP strata cannot be unloaded"
fi

rm -rf "$root"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
