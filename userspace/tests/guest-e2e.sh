#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# guest-e2e.sh: the helper against the real module, inside a test guest
# (busybox sh, root, strata.ko installed under /lib/modules with
# modules.dep).  Not part of `make -C userspace test`, which needs no VM.
# The guest sees only build/selftests/ of the host (as /strata/selftests),
# so copy it there (no _test suffix: check mode does not run it) and boot
#   scripts/qemu-run.sh --cmd 'sh /strata/selftests/guest-e2e.sh' KVER OUTDIR
# or run it by hand in `make shell`.
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

# Live branch changes on a writable union, followed by a monitor.  The
# steps that flip the union between writable and read-only come last and
# are bounded: a write blocked in the kernel must not stop the script.
hung=
# bexpect DESC RC TEXT CMD...: expect, but fail after 20 s still running
bexpect() {
	desc=$1 want=$2 text=$3
	shift 3
	if [ -n "$hung" ]; then
		ok "# SKIP $desc: an earlier command hung"
		return
	fi
	"$@" >"$b/.out" 2>&1 &
	pid=$!
	i=0
	while kill -0 $pid 2>/dev/null && [ $i -lt 20 ]; do
		sleep 1
		i=$((i + 1))
	done
	if kill -0 $pid 2>/dev/null; then
		hung=1
		bad "$desc: still running after 20 s; kernel stack:"
		sed 's/^/#   /' /proc/$pid/stack
		return
	fi
	wait $pid
	rc=$?
	out=$(cat "$b/.out")
	if [ "$rc" -eq "$want" ] && { [ -z "$text" ] || echo "$out" | grep -qF -- "$text"; }; then
		ok "$desc"
	else
		bad "$desc: rc=$rc, output: $out"
	fi
}
# order MNT: the union's branches as "DIR=MODE ..." from strata status
order() {
	$S status "$1" | awk '$1 ~ /^[0-9]+$/ { printf "%s=%s ", $4, $2 }'
}

b=$root/br
bm=$b/mnt
mkdir -p "$b/up" "$b/lo" "$b/new" "$b/top" "$bm"
echo lo >"$b/lo/lofile"
echo new >"$b/new/newfile"
$S monitor --json >"$b/events" 2>&1 &
mon=$!
sleep 1		# joined before the first change
expect "rw union (top defaults to rw)" 0 "" $S mount "$bm" "$b/up" "$b/lo=ro"
expect "branch add a lower directory" 0 "" $S branch add "$bm" "$b/new"
check "its file is visible" [ "$(cat "$bm/newfile" 2>/dev/null)" = new ]
st=$(order "$bm")
check "status shows it under the top: $st" [ "$st" = "$b/up=rw $b/new=ro $b/lo=ro " ]
expect "branch rm of a directory that is no branch" 1 \
	"strata: $bm: branch $b: not a branch of this union" $S branch rm "$bm" "$b"
expect "branch rm past the bottom" 1 "no branch at index 9" $S branch rm "$bm" 9
expect "branch mode to rw" 1 "cannot become rw" $S branch mode "$bm" 1 rw
expect "branch rm of the rw top" 1 "set it ro or rr first" $S branch rm "$bm" 0
expect "branch add of a missing directory" 1 \
	"strata: $bm: branch $b/nope: No such file or directory" \
	$S branch add "$bm" "$b/nope"
expect "branch add usage error" 2 "unknown mode 'xx'" \
	$S branch add --mode xx "$bm" "$b/new"
expect "branch on a directory that is no union" 1 "not inside a strata union" \
	$S branch rm "$b/up" 1
exec 3<"$bm/lofile"
expect "branch rm of a busy branch" 1 "in use" $S branch rm "$bm" "$b/lo"
exec 3<&-
expect "branch rm by directory" 0 "" $S branch rm "$bm" "$b/new"
check "its files disappear" [ ! -e "$bm/newfile" ]
expect "branch mode of a lower branch, by directory" 0 "" \
	$S branch mode "$bm" "$b/lo" rr
bexpect "branch mode 0 rr" 0 "" $S branch mode "$bm" 0 rr
bexpect "the union is read-only now" 1 "Read-only file system" touch "$bm/t1"
bexpect "branch add --top --mode rw" 0 "" \
	$S branch add --top --mode rw "$bm" "$b/top"
bexpect "writable again" 0 "" touch "$bm/t2"
bexpect "branch rm once it is idle" 0 "" $S branch rm -v "$bm" 2
if [ -z "$hung" ]; then
	check "new files land in the new top" [ -f "$b/top/t2" -a ! -e "$b/up/t2" ]
	check "and the removed branch's files disappear" [ ! -e "$bm/lofile" ]
	st=$(order "$bm")
	check "status shows the new order: $st" [ "$st" = "$b/top=rw $b/up=rr " ]
fi
if [ -z "$hung" ]; then
	$S umount "$bm"
else
	umount -l "$bm"
fi
sleep 1
kill "$mon"
wait "$mon"
grep branch- "$b/events" | sed 's/^/# /'
n=$(grep -c '"event":"branch-' "$b/events")
want=6
[ -z "$hung" ] || want=4
check "monitor saw $want branch events, saw $n" [ "$n" -eq "$want" ]
check "monitor: branch-add of new at 1" grep -q \
	'"event":"branch-add",.*"index":1,"path":"'"$b/new"'","mode":"ro"' "$b/events"
check "monitor: branch-del of new" grep -q \
	'"event":"branch-del",.*"index":1,"path":"'"$b/new"'","mode":"ro"' "$b/events"
check "monitor: branch-set of 0 to rr" grep -q \
	'"event":"branch-set",.*"index":0,"path":"'"$b/up"'","mode":"rr"' "$b/events"
[ -n "$hung" ] || check "monitor: branch-add on top" grep -q \
	'"event":"branch-add",.*"index":0,"path":"'"$b/top"'","mode":"rw"' "$b/events"

# A union mounted read-only gets a writable top, and back.
hung=
r=$root/ro
mkdir -p "$r/a" "$r/up" "$r/mnt"
echo a >"$r/a/f"
expect "read-only union for a new rw top" 0 "" $S mount "$r/mnt" "$r/a=ro"
expect "it is read-only" 1 "Read-only file system" touch "$r/mnt/t"
bexpect "branch add --top --mode rw on a read-only union" 0 "" \
	$S branch add --top --mode rw "$r/mnt" "$r/up"
bexpect "it is writable now" 0 "" touch "$r/mnt/t"
bexpect "copy-up into the new top" 0 "" sh -c "echo b >>'$r/mnt/f'"
[ -n "$hung" ] || check "written to the new top only" \
	[ "$(cat "$r/up/f")" = "a
b" -a "$(cat "$r/a/f")" = a ]
bexpect "branch mode of the new top to ro" 0 "" $S branch mode "$r/mnt" 0 ro
bexpect "read-only again" 1 "Read-only file system" touch "$r/mnt/t2"
if [ -z "$hung" ]; then $S umount "$r/mnt"; else umount -l "$r/mnt"; fi
check "no kernel warnings" sh -c '! dmesg | grep -E "WARNING:|BUG:|blocked for more than"'

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
