#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# store_full_test.sh: the helper's commit and import into a layer store that
# runs out of room, in the test guest as root under busybox sh; prints TAP.
#
# Twice: a store on a small tmpfs (ENOSPC), and a store in an ext4 project
# quota directory (EDQUOT; the helper runs without CAP_SYS_RESOURCE, which
# lets VFS quotas be exceeded).  XFS would report a full project as ENOSPC.
# Each time:
#   - a live commit of a mounted container with more data than fits is
#     refused before the top is frozen (exit 1, "not enough room"); the
#     container keeps all its data and stays writable, and the store is as
#     before (storecheck.sh, no intent, tmp/ empty, gc finds nothing);
#   - after room is made, the same commit succeeds and has the data;
#   - a commit of a container that is not mounted fails with the system's
#     error naming the file, changes nothing, and succeeds with room;
#   - image import and layer import of a tarball bigger than the room fail
#     the same way, keep nothing, and succeed once there is room.

S=${STRATA:-strata}
mkoci=${STRATA_MKOCI:-/strata/mkoci.sh}
storecheck=${STRATA_STORECHECK:-/strata/storecheck.sh}
here=$(cd "$(dirname "$0")" && pwd)
qctl=$here/quotactl
base=${STRATA_TEST_ROOT:-/mnt}/tmpfs
[ -d "$base" ] || base=${TMPDIR:-/tmp}

for need in "$S" "$mkoci" "$storecheck" "$qctl"; do
	if ! command -v "$need" >/dev/null 2>&1; then
		echo "1..0 # SKIP $need is missing"
		exit 4
	fi
done
S=$(command -v "$S")

echo "TAP version 13"
echo "1..70"

. "$here/tap.sh"
same() { [ "$1" = "$2" ]; }
skip() { # COUNT REASON
	i=0
	while [ "$i" -lt "$1" ]; do
		n=$((n + 1))
		i=$((i + 1))
		echo "ok $n # SKIP $2"
	done
}

dir=$(mktemp -d "$base/store_full_test.XXXXXX")
m=$dir/mnt
mkdir -p "$m" "$dir/L1" "$dir/B"
echo base >"$dir/L1/motd"
MKOCI_GZIP=0 "$mkoci" "$dir/small" small:1 "$dir/L1" >/dev/null
# 12 MiB that no compression shrinks.
dd if=/dev/urandom of="$dir/B/blob" bs=1M count=12 2>/dev/null
MKOCI_GZIP=0 "$mkoci" "$dir/big" big:1 "$dir/B" >/dev/null
tar -C "$dir/B" -cf "$dir/big.tar" .
dd if=/dev/urandom of="$dir/data" bs=1M count=8 2>/dev/null
sum=$(sha256sum <"$dir/data")

count() { ls "$1" 2>/dev/null | wc -l; }
# What a failed command must leave as it was.
state() {
	echo "layers=$(count "$STRATA_ROOT/layers")" \
	     "images=$(ls "$STRATA_ROOT/images" | grep -c '\.json$')" \
	     "pending=$(ls "$STRATA_ROOT/images" | grep -c '\.pending$')" \
	     "tags=$(tr -cd ':' <"$STRATA_ROOT/tags.json" 2>/dev/null | wc -c)" \
	     "tmp=$(count "$STRATA_ROOT/tmp")"
}
# The normal-form digest of every layer, for storecheck.sh --ref.
reference() {
	for d in "$STRATA_ROOT"/layers/*; do
		[ -d "$d" ] || continue
		h=${d##*/}
		echo "$h $($W "$S" layer diff "sha256:$h" | sha256sum | cut -d' ' -f1)"
	done >"$dir/ref"
}
consistent() { sh "$storecheck" --ref "$dir/ref" "$STRATA_ROOT" >"$dir/sc.out" 2>&1 ||
	{ sed 's/^/#   /' "$dir/sc.out"; return 1; }; }
# The output of the last expect() (tap.sh leaves it in $out) has TEXT.
# shellcheck disable=SC2154 # $out is tap.sh's
said() { printf '%s\n' "$out" | grep -qF -- "$1"; }
avail() { df -k "$1" | awk 'NR == 2 { print $4 }'; }

# scenario DESC ERRTEXT: FS is mounted on $fs; fill KIB leaves KIB of room
# for the helper, unfill gives it plenty.
scenario() {
	what=$1 err=$2
	export STRATA_ROOT=$fs/store

	expect "$what: import a small image" 0 "sha256:" $W "$S" image import "$dir/small"
	expect "$what: mount a container of it" 0 "" $W "$S" mount --name c1 small:1 "$m"
	cp "$dir/data" "$m/data" && echo changed >"$m/motd"
	check "$what: 8 MiB written into the container" same "$(sha256sum <"$m/data")" "$sum"
	reference
	st0=$(state)

	fill 2048
	# Checked before the top is frozen: a failed export would leave the
	# union read-only (an rr branch cannot become rw again).
	expect "$what: a live commit that does not fit is refused" 1 \
		"not enough room for the commit" $W "$S" commit --tag small:2 c1
	check "... naming the store" said "$STRATA_ROOT/tmp: "
	check "... the container keeps its data" same "$(sha256sum <"$m/data")" "$sum"
	check "... and its top too" same "$(sha256sum <"$STRATA_ROOT/containers/c1/rw/data")" "$sum"
	check "... the container is still writable" sh -c "echo w >'$m/w' && rm '$m/w'"
	check "... the store is as before" same "$(state)" "$st0"
	check "... and consistent" consistent
	expect "... gc has nothing to do" 0 "" $W "$S" gc
	check "... and prints nothing" same "$out" ""
	unfill
	expect "$what: with room the same commit succeeds" 0 "sha256:" \
		$W "$S" commit --tag small:2 c1
	expect "... umount" 0 "" $W "$S" umount --rm "$m"
	expect "... the committed image mounts" 0 "" $W "$S" mount --name c2 small:2 "$m"
	check "... with the data" same "$(sha256sum <"$m/data")" "$sum"
	check "... and the change" same "$(cat "$m/motd")" changed

	# The same container, not mounted: commit reads its top directly.
	cp "$dir/data" "$m/data2"
	expect "... umount, keeping the container" 0 "" $W "$S" umount "$m"
	reference
	st0=$(state)
	fill 2048
	expect "$what: a commit of a container not mounted fails with $err" 1 "$err" \
		$W "$S" commit c2
	check "... naming the file" said "./data2: "
	check "... the store is as before" same "$(state)" "$st0"
	check "... and consistent" consistent
	check "... the container keeps its data" \
		same "$(sha256sum <"$STRATA_ROOT/containers/c2/rw/data2")" "$sum"
	unfill
	expect "... with room it succeeds" 0 "sha256:" $W "$S" commit --tag small:3 c2
	expect "... the container is removed" 0 "" $W "$S" container rm c2

	st0=$(state)
	fill 4096
	expect "$what: image import of 12 MiB into 4 MiB fails with $err" 1 "$err" \
		$W "$S" image import "$dir/big"
	check "... naming the entry" said "entry ./blob: "
	check "... keeps nothing" same "$(state)" "$st0"
	expect "$what: layer import of 12 MiB into 4 MiB fails with $err" 1 "$err" \
		$W "$S" layer import "$dir/big.tar"
	check "... naming the entry" said "entry ./blob: "
	check "... keeps nothing" same "$(state)" "$st0"
	check "... the store is consistent" consistent
	unfill
	expect "... with room the import succeeds" 0 "sha256:" $W "$S" image import "$dir/big"
	expect "... gc" 0 "" $W "$S" gc
	reference
	check "... the store is consistent" consistent
}

# --- ENOSPC: a 40 MiB tmpfs
fs=$dir/tmpfs
mkdir -p "$fs"
mount -t tmpfs -o size=40m,mode=0755 tmpfs "$fs"
W=
fill() { dd if=/dev/zero of="$fs/filler" bs=1k count=$(($(avail "$fs") - $1)) 2>/dev/null; }
unfill() { rm -f "$fs/filler"; }
scenario tmpfs "No space left on device"
umount "$fs"

# --- EDQUOT: a project quota on ext4 (VFS quota: EDQUOT for every type)
fs=$dir/ext4
img=$dir/ext4.img
mkdir -p "$fs"
if ! { dd if=/dev/zero of="$img" bs=1 count=0 seek=$((128 << 20)) && mkfs.ext4 -q -F -b 4096 -O quota,project \
	-E nodiscard "$img" && mount -o loop,prjquota "$img" "$fs"; } >"$dir/mk.out" 2>&1; then
	skip 35 "no ext4 with project quota: $(tail -n 1 "$dir/mk.out")"
else
	mkdir "$fs/store"
	"$qctl" projid 42 "$fs/store"
	W="$qctl nores"
	fill() {
		sync
		set -- "$1" $("$qctl" usage "$fs" 42)
		"$qctl" limit "$fs" 42 $(($2 / 1024 + $1)) 0
	}
	unfill() { "$qctl" limit "$fs" 42 0 0; }
	scenario "ext4 project quota" "Disk quota exceeded"
	umount "$fs"
fi

rm -rf "$dir"
[ "$failed" -eq 0 ]
