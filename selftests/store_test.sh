#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# store_test.sh: the helper's layer store end to end, in the test guest as
# root under busybox sh; prints TAP.
#
#   - image import of an OCI layout (plain and gzip layers), ls/tag/rm,
#     --json; a corrupted blob is refused and leaves nothing behind
#   - strata mount IMAGE TARGET: whiteouts and overrides from the layers,
#     copy-up into the container top, umount keeps the container,
#     commit to a new image, mount that
#   - layer diff: .wh. entries, the digest of the export is the layer's,
#     and importing the exports again adds no layer (round trip)
#   - diff and commit of an unmounted container with directories renamed
#     in the union (read through a detached union): renamed trees whole,
#     .wh. for the old names, and the same view once imported or mounted
#   - layer diff of a container mounted in another mount namespace is
#     refused by the kernel (EBUSY) without touching its work directory
#   - rm of what is in use is refused; gc removes what is not
#   - a helper killed mid-import leaves no half layer
#   - an image of 1000 layers mounts
#   - the TARGET BRANCH... form of strata mount still works

S=${STRATA:-strata}
mkoci=${STRATA_MKOCI:-/strata/mkoci.sh}
base=${STRATA_TEST_ROOT:-/mnt}/tmpfs
[ -d "$base" ] || base=${TMPDIR:-/tmp}

if ! command -v "$S" >/dev/null 2>&1; then
	echo "1..0 # SKIP the strata helper is not installed"
	exit 4
fi
if [ ! -x "$mkoci" ]; then
	echo "1..0 # SKIP $mkoci is missing"
	exit 4
fi
S=$(command -v "$S")

echo "TAP version 13"
echo "1..123"

# result, check, expect and the counters n and failed.
. "$(dirname "$0")/tap.sh"
nlayers() { ls "$STRATA_ROOT/layers" | wc -l; }
# view DIR: every entry below DIR with its mode, owner and content.
view() {
	(cd "$1" && find . | sort | while read -r p; do
		if [ -L "$p" ]; then
			c="-> $(readlink "$p")"
		elif [ -f "$p" ]; then
			c=$(md5sum <"$p" | cut -c1-32)
		else
			c=
		fi
		echo "$p $(stat -c '%A %u:%g' "$p") $c"
	done)
}
# image_layers ID: the layers of image ID (sha256:HEX), bottom first.
image_layers() {
	tr -d ' \n' <"$STRATA_ROOT/images/${1#sha256:}.json" |
		sed 's/.*"layers":\[\([^]]*\)\].*/\1/' | tr -d '"' | tr , ' '
}
# docker_save DIR TAG TAR...: a docker save layout in DIR of the layer
# tars (in DIR, bottom first); their diff-ids go to $ids.
docker_save() {
	d=$1 tag=$2 ids='' tars=''
	shift 2
	for t in "$@"; do
		ids="$ids${ids:+,}\"sha256:$(sha256sum "$d/$t" | cut -d' ' -f1)\""
		tars="$tars${tars:+,}\"$t\""
	done
	printf '{"rootfs":{"type":"layers","diff_ids":[%s]}}' "$ids" >"$d/config.json"
	printf '[{"Config":"config.json","RepoTags":["%s"],"Layers":[%s]}]' \
		"$tag" "$tars" >"$d/manifest.json"
}

dir=$(mktemp -d "$base/store_test.XXXXXX")
export STRATA_ROOT=$dir/store
m=$dir/mnt
mkdir -p "$m" "$dir/L1/etc" "$dir/L1/data" "$dir/L2/etc" "$dir/L3/data" \
	"$dir/L1/tree/sub/deep"
echo deep >"$dir/L1/tree/sub/deep/f"
echo top >"$dir/L1/tree/t"
chmod 640 "$dir/L1/tree/t"
echo base >"$dir/L1/etc/motd"
echo one >"$dir/L1/etc/gone"
echo old >"$dir/L1/data/x"
echo two >"$dir/L2/etc/motd"
: >"$dir/L2/etc/.wh.gone"
: >"$dir/L3/data/.wh..wh..opq"
echo new >"$dir/L3/data/y"
ln -s motd "$dir/L3/data/link"
"$mkoci" "$dir/oci" demo:1 "$dir/L1" "$dir/L2" "$dir/L3"

# --- import
expect "image import of an OCI layout" 0 "sha256:" $S image import "$dir/oci"
check "three layers stored" same "$(nlayers)" 3
# Concurrent helpers: the store lock serialises them, nothing doubles.
mkdir -p "$dir/cc"
"$mkoci" "$dir/occ" cc:0 "$dir/L1" >/dev/null
for i in 1 2 3 4; do
	{ $S image import --tag "cc:$i" "$dir/occ" >"$dir/cc/$i" 2>&1; echo $? >>"$dir/cc/$i"; } &
done
$S gc >"$dir/cc/gc" 2>&1 &
wait
check "four concurrent imports and a gc all succeed" \
	sh -c "for i in 1 2 3 4; do tail -n 1 '$dir/cc/'\$i | grep -qx 0 || exit 1; done"
check "... and still three layers" same "$(nlayers)" 3
expect "... every tag resolves" 0 "cc:4" $S image ls
expect "image rm of it" 0 "" $S image rm cc:1
check "... takes all its tags" sh -c "! $S image ls | grep -q cc:"
expect "image ls shows the tag" 0 "demo:1" $S image ls
expect "image ls --json" 0 '"tags": [' $S image ls --json
expect "layer ls --json" 0 '"size":' $S layer ls --json
expect "importing again adds nothing" 0 "sha256:" $S image import "$dir/oci"
check "still three layers" same "$(nlayers)" 3
expect "image tag" 0 "" $S image tag demo:1 other
expect "tag resolves" 0 "other:latest" $S image ls

cp -a "$dir/oci" "$dir/bad"
blob=$(ls "$dir/bad/blobs/sha256" | while read -r b; do
	[ "$(wc -c <"$dir/bad/blobs/sha256/$b")" -gt 1000 ] && echo "$b"; done | head -n 1)
printf 'X' | dd of="$dir/bad/blobs/sha256/$blob" bs=1 seek=600 conv=notrunc 2>/dev/null
rm -rf "$STRATA_ROOT/layers/"*
expect "a corrupted blob is refused, naming it" 1 "$blob: digest mismatch" \
	$S image import --tag bad "$dir/bad"
check "nothing of it stays in the store" same "$(nlayers)$(ls "$STRATA_ROOT/tmp")" 0
expect "import again after the failure" 0 "" $S image import "$dir/oci"

# --- hostile layer
mkdir -p "$dir/evil/blobs/sha256"
ln -s ../../../../etc "$dir/L3/escape"
"$mkoci" "$dir/evil" evil:1 "$dir/L3" >/dev/null
rm "$dir/L3/escape"
expect "a link leaving the layer is refused, naming the entry" 1 \
	"entry ./escape: symbolic link leaves the layer" $S image import "$dir/evil"

# --- mount
expect "mount IMAGE TARGET" 0 "" $S mount --name c1 demo:1 "$m"
check "the upper layer wins" same "$(cat "$m/etc/motd")" two
check "a .wh. whiteout hides" test ! -e "$m/etc/gone"
check "an opaque directory hides" same "$(ls "$m/data" | tr '\n' ' ')" "link y "
expect "container ls" 0 "$m" $S container ls
echo changed >"$m/etc/motd"
rm "$m/data/y"
echo fresh >"$m/new"
check "copy-up lands in the container top" \
	same "$(cat "$STRATA_ROOT/containers/c1/rw/etc/motd")" changed
check "layers are untouched" same "$(cat "$m/etc/motd")" changed
expect "image rm of a mounted image is refused" 1 "in use by container c1" \
	$S image rm demo:1
lid=$(ls "$STRATA_ROOT/layers" | head -n 1)
expect "layer rm of a used layer is refused" 1 "in use by image" $S layer rm "$lid"
expect "commit of a mounted container" 0 "sha256:" $S commit --tag demo:2 "$m"
check "the container still works after commit" touch "$m/after-commit"
check "writes after the commit land in a fresh top" \
	test -f "$STRATA_ROOT/containers/c1/rw.1/after-commit"
check "the committed top is a layer of the live union now" \
	sh -c "$S status '$m' | grep -q ' rr .*containers/c1/rw$'"
check "the view did not change" same "$(cat "$m/etc/motd")" changed
expect "umount keeps the container" 0 "" $S umount "$m"
check "the container is still in the store" test -d "$STRATA_ROOT/containers/c1/rw.1"
check "its committed top went at umount" test ! -e "$STRATA_ROOT/containers/c1/rw"
expect "remount continues it, on the committed image" 0 "" \
	$S mount --name c1 demo:2 "$m"
check "its changes are back" test -f "$m/after-commit"
check "... and the committed ones" same "$(cat "$m/etc/motd")" changed
expect "umount --rm" 0 "" $S umount --rm "$m"
check "the container is gone" test ! -e "$STRATA_ROOT/containers/c1"

expect "mount --readonly" 0 "" $S mount --readonly --name ro1 demo:1 "$m"
check "a read-only container refuses writes" sh -c "! touch '$m/x' 2>/dev/null"
expect "commit of a read-only container" 0 "sha256:" $S commit --tag ro:1 ro1
check "... leaves it read-only" sh -c "! touch '$m/x' 2>/dev/null"
expect "umount --rm of it" 0 "" $S umount --rm "$m"
expect "image rm of its commit" 0 "" $S image rm ro:1
expect "mount of a missing image names it" 1 "nosuch:1: no such image" \
	$S mount --name c9 nosuch:1 "$m"
check "... and leaves no container" test ! -e "$STRATA_ROOT/containers/c9"
expect "mount the committed image" 0 "" $S mount --name c2 demo:2 "$m"
check "committed change visible" same "$(cat "$m/etc/motd")" changed
check "committed delete visible" test ! -e "$m/data/y"
check "committed file visible" same "$(cat "$m/new")" fresh
# A directory with lower contents renamed in the union: exported whole.
mv "$m/data" "$m/data2"
# A chmod of a layer's file copies no data; the commit exports the data.
chmod 600 "$m/etc/motd"
expect "live commit with a renamed directory" 0 "sha256:" $S commit --tag demo:3 c2
check "the renamed directory keeps its contents after the commit" \
	test -L "$m/data2/link"
mv "$m/data2" "$m/data3"
# Renamed, a directory in it renamed too, then renamed again.
mv "$m/tree" "$m/tree2"
mv "$m/tree2/sub" "$m/tree2/sub2"
echo added >"$m/tree2/sub2/added"
mv "$m/tree2" "$m/tree3"
view "$m" >"$dir/view.c2"
check "the container's view is listed, renamed trees included" \
	grep -q '^./tree3/sub2/deep/f -rw-r--r-- 0:0 [0-9a-f]' "$dir/view.c2"
expect "umount, keeping the container" 0 "" $S umount "$m"
mounts="$(grep -c ' - strata ' /proc/self/mountinfo) $($S status 2>&1)"
check "layer diff of it unmounted, with renamed directories" \
	sh -c "$S layer diff c2 >'$dir/c2.tar'"
check "... leaves no union mounted" \
	same "$(grep -c ' - strata ' /proc/self/mountinfo) $($S status 2>&1)" "$mounts"
tar -tf "$dir/c2.tar" | sort >"$dir/c2.list"
check "... renamed trees whole at their new names" sh -c "grep -qx data3/link '$dir/c2.list' && grep -qx tree3/sub2/deep/f '$dir/c2.list' && grep -qx tree3/sub2/added '$dir/c2.list' && grep -qx tree3/t '$dir/c2.list'"
check "... opaque there" grep -qx 'tree3/.wh..wh..opq' "$dir/c2.list"
check "... a .wh. entry for each old name" \
	sh -c "grep -qx .wh.data2 '$dir/c2.list' && grep -qx .wh.tree '$dir/c2.list'"
check "... and nothing at the intermediate names" \
	sh -c "! grep -q -e '^tree2' -e 'sub/' '$dir/c2.list'"
# That diff over the container's image layers, imported as an image.
img=$(sed -n 's/.*"image": *"\(sha256:[0-9a-f]*\)".*/\1/p' \
	"$STRATA_ROOT/containers/c2/container.json")
mkdir -p "$dir/rn"
set --
for l in $(image_layers "$img"); do
	$S layer diff "$l" >"$dir/rn/${l#sha256:}.tar"
	set -- "$@" "${l#sha256:}.tar"
done
cp "$dir/c2.tar" "$dir/rn/top.tar"
docker_save "$dir/rn" rn:1 "$@" top.tar
expect "import of the diff over the same layers" 0 "sha256:" $S image import "$dir/rn"
expect "mount it" 0 "" $S mount rn:1 "$m"
check "... the container's view, contents and modes" \
	same "$(view "$m")" "$(cat "$dir/view.c2")"
expect "umount --rm it" 0 "" $S umount --rm "$m"
expect "image rm rn:1" 0 "" $S image rm rn:1
rm -rf "$dir/rn"
expect "commit of it unmounted, with the renamed directories" 0 "sha256:" \
	$S commit --tag demo:5 c2
check "... stores the same tar as its diff" \
	test -d "$STRATA_ROOT/layers/$(sha256sum "$dir/c2.tar" | cut -d' ' -f1)"
expect "container rm" 0 "" $S container rm c2
expect "mount that commit" 0 "" $S mount demo:5 "$m"
check "... the container's view, contents and modes" \
	same "$(view "$m")" "$(cat "$dir/view.c2")"
expect "umount --rm it" 0 "" $S umount --rm "$m"
expect "image rm demo:5" 0 "" $S image rm demo:5
expect "mount the image with the rename" 0 "" $S mount demo:3 "$m"
check "the renamed directory has its lower contents" test -L "$m/data2/link"
check "the old name is gone" test ! -e "$m/data"
check "a metadata-only copy was committed with its data" \
	same "$(stat -c %a "$m/etc/motd") $(cat "$m/etc/motd")" "600 changed"
expect "umount" 0 "" $S umount --rm "$m"
expect "image rm demo:3" 0 "" $S image rm demo:3
# Unmounted, a stub's data is found in the image's layers.
expect "mount for an offline commit" 0 "" $S mount --name c4 demo:2 "$m"
chmod 640 "$m/etc/motd"
expect "umount, keeping it" 0 "" $S umount "$m"
expect "commit of an unmounted container with a metadata-only copy" 0 \
	"sha256:" $S commit --tag demo:4 c4
expect "mount that commit" 0 "" $S mount --name c5 demo:4 "$m"
check "... it has the data and the new mode" \
	same "$(stat -c %a "$m/etc/motd") $(cat "$m/etc/motd")" "640 changed"
expect "umount --rm c5" 0 "" $S umount --rm "$m"
expect "container rm c4" 0 "" $S container rm c4
expect "image rm demo:4" 0 "" $S image rm demo:4
# Mounted in another mount namespace, the container looks unmounted here:
# the diff's detached union over the same rw and work directories is
# refused (EBUSY), and the live union's work directory is left alone.
rm -f "$dir/ns.up"
touch "$dir/ns.hold"
unshare -m --propagation private sh -c "$S mount --name c6 demo:2 '$m' &&
	mv '$m/tree' '$m/tree.moved' && touch '$dir/ns.up' &&
	while [ -e '$dir/ns.hold' ]; do sleep 0.1; done" &
nspid=$!
i=0
while [ ! -e "$dir/ns.up" ] && [ $i -lt 300 ] && kill -0 $nspid 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
check "c6 mounted in another mount namespace" test -e "$dir/ns.up"
echo tmp >"$STRATA_ROOT/containers/c6/work/work/#inflight"
expect "layer diff of it here is refused, naming the busy directory" 1 \
	"branch $STRATA_ROOT/containers/c6/rw: in use by another mounted union" \
	$S layer diff c6
expect "... with a hint where it is mounted" 1 "another mount namespace?" \
	$S layer diff c6
check "... the live union's work directory is untouched" \
	same "$(cat "$STRATA_ROOT/containers/c6/work/work/#inflight")" tmp
echo live >"/proc/$nspid/root$m/after"
check "... and the live union still writes" \
	same "$(cat "$STRATA_ROOT/containers/c6/rw/after")" live
rm -f "$dir/ns.hold"
wait $nspid
# The namespace's mounts go with its last process, a moment later.
i=0
until $S layer diff c6 >"$dir/c6.tar" 2>/dev/null || [ $i -ge 50 ]; do
	sleep 0.2
	i=$((i + 1))
done
check "once that namespace is gone, the diff works" \
	sh -c "tar -tf '$dir/c6.tar' | grep -x -e after -e tree.moved/t | wc -l | grep -qx 2"
expect "container rm c6" 0 "" $S container rm c6

# --- diff and round trip
# Layers the helper wrote (commit, layer create) export to their own
# digest; foreign tars are normalised once by an import of their export.
mkdir -p "$dir/rt"
for l in $(ls "$STRATA_ROOT/layers"); do
	$S layer diff "$l" >"$dir/rt/$l.tar"
done
tar -tf "$dir/rt/$(ls "$dir/rt" | head -n 1)" >/dev/null
check "diffs are tarballs" test $? -eq 0
committed=$(for l in $(ls "$STRATA_ROOT/layers"); do
	tar -tf "$dir/rt/$l.tar" | grep -q '^data/.wh.y$' && echo "$l"; done)
check "the commit's diff holds .wh.y" test -n "$committed"
check "... and etc/motd and new" sh -c "tar -tf '$dir/rt/$committed.tar' | grep -q '^etc/motd$' && tar -tf '$dir/rt/$committed.tar' | grep -q '^new$'"
check "the committed layer's diff has its digest" \
	same "$(sha256sum "$dir/rt/$committed.tar" | cut -d' ' -f1)" "$committed"
# The committed image again, as a docker save directory of those diffs.
img=$(ls "$STRATA_ROOT/images" | while read -r f; do
	grep -q "$committed" "$STRATA_ROOT/images/$f" && echo "${f%.json}"; done | head -n 1)
set --
for l in $(image_layers "$img"); do
	set -- "$@" "${l#sha256:}.tar"
done
docker_save "$dir/rt" rt:1 "$@"
expect "import of the diffs (docker save layout)" 0 "sha256:" $S image import "$dir/rt"
ok=0
for l in $(echo "$ids" | tr -d '"' | tr , ' '); do
	same "$($S layer diff "$l" | sha256sum | cut -d' ' -f1)" "${l#sha256:}" || ok=1
done
result $ok "import -> diff -> import -> diff keeps every digest"
expect "the round-tripped image mounts" 0 "" $S mount rt:1 "$m"
check "... with the committed content" same "$(cat "$m/etc/motd")" changed
expect "umount" 0 "" $S umount --rm "$m"
expect "image rm rt" 0 "" $S image rm rt:1
tar -C "$dir/rt" -cf "$dir/rt.tar" .
expect "import of a docker save archive (tar)" 0 "sha256:" $S image import "$dir/rt.tar"
expect "image rm rt again" 0 "" $S image rm rt:1

# --- rm and gc
expect "image rm" 0 "" $S image rm demo:2
expect "gc removes the unused layer" 0 "removed layer" $S gc
expect "image rm of the base" 0 "" $S image rm other
expect "gc removes the rest" 0 "removed layer" $S gc
check "the store is empty" same "$(nlayers)" 0

# --- interrupted import
mkdir -p "$dir/big"
dd if=/dev/zero of="$dir/big/blob" bs=1M count=96 2>/dev/null
"$mkoci" "$dir/bigoci" big:1 "$dir/big" >/dev/null
rm -rf "$dir/big"
$S image import "$dir/bigoci" >/dev/null 2>&1 &
pid=$!
i=0
while [ $i -lt 600 ] && ! ls "$STRATA_ROOT/tmp/" 2>/dev/null | grep -q '^layer'; do
	sleep 0.1
	i=$((i + 1))
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
check "killed mid-import: no layer in the store" same "$(nlayers)" 0
expect "the next command cleans up" 0 "" $S gc
check "no leftovers in tmp" same "$(ls "$STRATA_ROOT/tmp" | wc -l)" 0
rm -rf "$dir/bigoci"

# --- 1000 layers
i=0
set --
while [ $i -lt 1000 ]; do
	i=$((i + 1))
	mkdir -p "$dir/many/$i"
	echo "$i" >"$dir/many/$i/f$i"
	echo "$i" >"$dir/many/$i/top"
	set -- "$@" "$dir/many/$i"
done
MKOCI_GZIP=0 "$mkoci" "$dir/manyoci" many:1 "$@"
rm -rf "$dir/many"
expect "import of a 1000-layer image" 0 "" $S image import "$dir/manyoci"
rm -rf "$dir/manyoci"
expect "mount of a 1000-layer image" 0 "" $S mount many:1 "$m"
check "the top layer wins" same "$(cat "$m/top")" 1000
check "the bottom layer shows" same "$(cat "$m/f1")" 1
expect "umount" 0 "" $S umount --rm "$m"

# --- the branch-list form still works
expect "strata mount TARGET BRANCH..." 0 "" $S mount "$m" "$dir/L2=rr" "$dir/L1=rr"
check "it is a plain union" same "$(cat "$m/etc/motd")" two
expect "strata umount of it" 0 "" $S umount "$m"

rm -rf "$dir"
[ "$n" -eq 116 ] || echo "# planned 116 results, reported $n"
[ "$failed" -eq 0 ] && exit 0
exit 1
