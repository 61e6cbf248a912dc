#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# storecheck.sh [--gc] [--tagged] [--ref FILE] ROOT: check that the strata layer store ROOT
# is consistent (Documentation/store.rst), as it is on disk, with busybox
# tools and the helper's read-only commands.  Used by the crash test
# (selftests/guest/crash.sh) after every power cut, before any helper
# changed the store.
#
#   - the store holds only lock, tmp/, layers/, images/, containers/ and
#     tags.json; the listings (image, layer, container ls --json) load
#     every record without an error;
#   - each layers/HEX has a layer.json naming sha256:HEX, and a diff/
#     directory whose content is the layer's: "strata layer diff" of it
#     has the sha256 HEX (layers the helper made: commit, layer create),
#     or the normal-form digest FILE gives for HEX (lines "HEX SHA256",
#     for layers imported from foreign tars, whose normal form differs);
#   - each images/HEX.json names sha256:HEX and lists only layers that are
#     in the store (an image is there whole or not at all);
#   - each tag in tags.json points at an image that is there;
#   - each containers/NAME has container.json naming NAME, an image that
#     is there, its current top directory and work/.
#   - images/HEX.pending (an intent, see userspace/image.h) well-formed;
#   - with --gc (just after a "strata gc"): every layer is used by an
#     image, and no intent is left;
#   - with --tagged: every image has a tag (for stores whose images are
#     all imported or committed with one).
#
# tmp/ may hold what a killed helper left; it is counted, not judged
# (the next command that takes the store lock exclusively empties it).
# Prints "BAD what: why" per problem, then
#   STORE layers=N images=N pending=N tags=N containers=N tmp=N
# Exit status 1 when anything is BAD.
set -u

ref='' gcd='' tagged=''
while [ $# -gt 1 ]; do
	case $1 in
	--ref) ref=${2:?--ref needs a file}; shift 2 ;;
	--gc) gcd=1; shift ;;
	--tagged) tagged=1; shift ;;
	*) break ;;
	esac
done
root=${1:?usage: storecheck.sh [--gc] [--tagged] [--ref FILE] ROOT}
S="strata --root $root"
bad=0
BAD() { echo "BAD $*"; bad=$((bad + 1)); }
flat() { tr -d ' \n\t' <"$1" 2>/dev/null; } # pretty JSON on one line
hex64() { echo "$1" | grep -qxE '[0-9a-f]{64}'; }
tmpf=/tmp/storecheck.$$
trap 'rm -f "$tmpf" "$tmpf.err"' EXIT

[ -d "$root" ] || { echo "BAD $root: no store"; exit 1; }
for e in $(ls -A "$root"); do
	case $e in
	lock|tmp|layers|images|containers|tags.json) ;;
	*) BAD "$root/$e: unknown entry" ;;
	esac
done
for l in image layer container; do
	if ! $S $l ls --json >/dev/null 2>"$tmpf.err" || [ -s "$tmpf.err" ]; then
		BAD "$l ls: $(head -n 3 "$tmpf.err" | tr '\n' ' ')"
	fi
done

nl=0
for h in $(ls -A "$root/layers" 2>/dev/null); do
	nl=$((nl + 1))
	d=$root/layers/$h
	hex64 "$h" || { BAD "layers/$h: not a layer name"; continue; }
	j=$(flat "$d/layer.json")
	case $j in
	"{\"diff_id\":\"sha256:$h\",\"size\":"*"}") ;;
	*) BAD "layers/$h/layer.json: '$j'"; continue ;;
	esac
	[ -d "$d/diff" ] || { BAD "layers/$h: no diff/"; continue; }
	if ! $S layer diff "sha256:$h" >"$tmpf" 2>"$tmpf.err"; then
		BAD "layers/$h: layer diff failed: $(head -n 1 "$tmpf.err")"
		continue
	fi
	got=$(sha256sum "$tmpf" | cut -d' ' -f1)
	want=$h
	[ -z "$ref" ] || [ "$got" = "$h" ] ||
		want=$(awk -v h="$h" '$1 == h { print $2 }' "$ref" 2>/dev/null)
	if [ "$got" != "$want" ]; then
		BAD "layers/$h: content has digest $got, want ${want:-$h (or a reference)}"
	elif [ "$got" = "$h" ]; then
		# Made by the helper: the recorded size is the tar's.
		sz=$(wc -c <"$tmpf")
		case $j in *"\"size\":$sz}") ;; *) BAD "layers/$h: size is not $sz: '$j'" ;; esac
	fi
done

ni=0 np=0 used=''
for f in $(ls -A "$root/images" 2>/dev/null); do
	case $f in
	*.pending)
		np=$((np + 1))
		j=$(flat "$root/images/$f")
		case $j in
		'{"op":"rm","tag":null}') ;;
		'{"op":"add","tag":"'*'"}') ;;
		*) BAD "images/$f: '$j'" ;;
		esac
		[ -z "$gcd" ] || BAD "images/$f: left after gc"
		continue ;;
	esac
	ni=$((ni + 1))
	h=${f%.json}
	[ "$h.json" = "$f" ] && hex64 "$h" || { BAD "images/$f: not an image name"; continue; }
	j=$(flat "$root/images/$f")
	case $j in
	*"\"id\":\"sha256:$h\""*) ;;
	*) BAD "images/$f: id is not sha256:$h"; continue ;;
	esac
	if [ -n "$tagged" ] && ! grep -q "\"sha256:$h\"" "$root/tags.json" 2>/dev/null; then
		BAD "images/$f: no tag"
	fi
	layers=$(echo "$j" | sed -n 's/.*"layers":\[\([^]]*\)\].*/\1/p' | tr -d '"' | tr , ' ')
	[ -n "$layers" ] || BAD "images/$f: no layers"
	for l in $layers; do
		[ -f "$root/layers/${l#sha256:}/layer.json" ] ||
			BAD "images/$f: layer $l is not in the store"
		used="$used ${l#sha256:}"
	done
done

if [ -n "$gcd" ]; then
	for h in $(ls -A "$root/layers" 2>/dev/null); do
		case " $used " in *" $h "*) ;; *) BAD "layers/$h: no image uses it after gc" ;; esac
	done
fi

nt=0
if [ -e "$root/tags.json" ]; then
	for t in $(flat "$root/tags.json" | tr -d '{}' | tr , ' '); do
		nt=$((nt + 1))
		id=$(echo "$t" | sed -n 's/^"[^"]*":"sha256:\([0-9a-f]\{64\}\)"$/\1/p')
		if [ -z "$id" ]; then
			BAD "tags.json: bad entry $t"
		elif [ ! -f "$root/images/$id.json" ]; then
			BAD "tags.json: $t: no such image"
		fi
	done
fi

nc=0
for c in $(ls -A "$root/containers" 2>/dev/null); do
	nc=$((nc + 1))
	d=$root/containers/$c
	j=$(flat "$d/container.json")
	case $j in
	*"\"name\":\"$c\""*) ;;
	*) BAD "containers/$c/container.json: '$j'"; continue ;;
	esac
	img=$(echo "$j" | sed -n 's/.*"image":"sha256:\([0-9a-f]\{64\}\)".*/\1/p')
	[ -n "$img" ] && [ -f "$root/images/$img.json" ] ||
		BAD "containers/$c: its image is not in the store: '$j'"
	top=$(echo "$j" | sed -n 's/.*"top":"\([^"]*\)".*/\1/p')
	[ -d "$d/${top:-rw}" ] || BAD "containers/$c: no top directory ${top:-rw}"
	[ -d "$d/work" ] || BAD "containers/$c: no work/"
done

echo "STORE layers=$nl images=$ni pending=$np tags=$nt containers=$nc tmp=$(ls -A "$root/tmp" 2>/dev/null | wc -l)"
[ "$bad" -eq 0 ]
