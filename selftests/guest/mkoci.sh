#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# mkoci.sh OUT NAME:TAG LAYERDIR... : write an OCI image layout in OUT from
# plain directories, bottom layer first, with busybox tools only (tar,
# gzip, sha256sum).  Every other layer is gzip-compressed so both blob
# kinds are exercised (MKOCI_GZIP=0: none).  Used by the demo and the
# store selftest.
set -e
[ $# -ge 3 ] || { echo "usage: $0 OUT NAME:TAG LAYERDIR..." >&2; exit 2; }
out=$1 ref=$2
shift 2
mkdir -p "$out/blobs/sha256"
sha() { sha256sum "$1" | cut -d' ' -f1; }
put() { # FILE -> its digest; moves FILE into blobs/
	d=$(sha "$1")
	mv "$1" "$out/blobs/sha256/$d"
	echo "$d"
}
diffids='' layers='' n=0
for dir; do
	n=$((n + 1))
	tar -C "$dir" -cf "$out/layer.tar" .
	diffid=$(sha "$out/layer.tar")
	if [ "${MKOCI_GZIP:-1}" = 1 ] && [ $((n % 2)) -eq 0 ]; then
		gzip -n "$out/layer.tar"
		d=$(put "$out/layer.tar.gz")
		mt=application/vnd.oci.image.layer.v1.tar+gzip
	else
		d=$(put "$out/layer.tar")
		mt=application/vnd.oci.image.layer.v1.tar
	fi
	size=$(wc -c <"$out/blobs/sha256/$d")
	diffids="$diffids${diffids:+,}\"sha256:$diffid\""
	layers="$layers${layers:+,}{\"mediaType\":\"$mt\",\"digest\":\"sha256:$d\",\"size\":$size}"
done
printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":[%s]},"history":[]}' \
	"$diffids" >"$out/config.json"
csize=$(wc -c <"$out/config.json")
cd=$(put "$out/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
	"$cd" "$csize" "$layers" >"$out/manifest.json"
msize=$(wc -c <"$out/manifest.json")
md=$(put "$out/manifest.json")
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
	"$md" "$msize" "$ref" >"$out/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$out/oci-layout"
