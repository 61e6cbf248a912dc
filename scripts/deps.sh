#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything strata's build, tests and QEMU guests need on Debian 12.
# Idempotent: when every package is present it only runs dpkg-query.
set -euo pipefail

# The 6.12 LTS kernel comes from bookworm-backports.
KERNELS_APT="linux-image-6.1.0-*-amd64 linux-headers-6.1.0-*-amd64"
PKGS=(
	build-essential bc kmod pkg-config flex bison libelf-dev
	qemu-system-x86 busybox-static cpio
	libmnl-dev libkmod-dev libarchive-dev libssl-dev libjansson-dev
	python3-yaml python3-jsonschema
	e2fsprogs xfsprogs btrfs-progs sparse dmsetup stress-ng rsync git
	clang libclang-rt-14-dev
	linux-image-amd64 linux-headers-amd64
	linux-source-6.12 xz-utils
)
BPO_PKGS=(linux-image-6.12-amd64 linux-headers-6.12-amd64)

have_all() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
			grep -q '^install ok installed$' || return 1
	done
}

# Resolve the bookworm-backports metapackages to the versioned 6.12 ones.
bpo_present() {
	ls /lib/modules 2>/dev/null | grep -q '^6\.12\.' &&
		ls -d /usr/src/linux-headers-6.12.*-amd64 >/dev/null 2>&1
}

if have_all "${PKGS[@]}" && bpo_present && ls /usr/src/linux-source-6.12* >/dev/null 2>&1; then
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages; run as root to install them" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	cat >/etc/apt/sources.list.d/strata-backports.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
apt-get update -q
apt-get install -y -q --no-install-recommends "${PKGS[@]}"
apt-get install -y -q --no-install-recommends -t bookworm-backports \
	"${BPO_PKGS[@]}" linux-source-6.12
echo "deps.sh: all dependencies installed"
