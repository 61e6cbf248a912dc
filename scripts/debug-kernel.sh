#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh [--key | --cached]: build the debug kernel of
# `make check-debug` (KASAN, lockdep, kmemleak, list and fault-injection
# debugging, see scripts/debug-kernel.config) from Debian's linux-source-6.12
# and print its cache directory:
#
#   DIR/linux/        the configured and built tree: KDIR for strata.ko
#   DIR/bzImage       the kernel the guest boots
#   DIR/modroot/      INSTALL_MOD_PATH (modules.builtin etc. for mkinitramfs)
#   DIR/kver          its release, e.g. 6.12.117-strata-debug
#   DIR/build.log, DIR/build-seconds (wall time from the first start,
#                 extraction included; more if a build was resumed)
#
# DIR is ${STRATA_DEBUG_CACHE:-/var/cache/strata-debug-kernel}/KEY, outside
# the clone so every clone and CI run shares it; KEY hashes the tarball
# (path, size, mtime), the config fragment, the recipe version below and
# the compiler, so any of them changing builds a new kernel.  A build that
# was cut off goes on where it stopped.  The build runs under nice, with
# STRATA_DEBUG_JOBS (default 2) jobs.  Kernels of other keys that no run
# has used for 30 days are removed after a build.
#
#   --key      print KEY and exit
#   --cached   print DIR if that kernel is built, else fail; never build
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
tarball=${KSRC_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
fragment=$top/scripts/debug-kernel.config
cache=${STRATA_DEBUG_CACHE:-/var/cache/strata-debug-kernel}
jobs=${STRATA_DEBUG_JOBS:-2}
# Bump when the build steps below change what ends up in DIR.
recipe=1

[ -r "$tarball" ] || { echo "debug-kernel: $tarball not found (run scripts/deps.sh)" >&2; exit 1; }
key=$({
	stat -L -c '%n %s %Y' "$tarball"
	cat "$fragment"
	echo "recipe $recipe"
	gcc --version | head -n 1
} | sha256sum | cut -c1-16)
dir=$cache/$key
done_stamp=$dir/.done

case ${1:-} in
--key) echo "$key"; exit 0 ;;
--cached)
	[ -f "$done_stamp" ] || exit 1
	touch "$done_stamp"
	echo "$dir"
	exit 0 ;;
'') ;;
*) echo "usage: $0 [--key | --cached]" >&2; exit 2 ;;
esac

# Each use refreshes the stamp's time, which the pruning below goes by.
if [ -f "$done_stamp" ]; then
	touch "$done_stamp"
	echo "$dir"
	exit 0
fi

mkdir -p "$dir"
exec 9>"$dir/.lock"
if ! flock -n 9; then
	echo "debug-kernel: another build of $key is running, waiting" >&2
	flock 9
fi
if [ -f "$done_stamp" ]; then
	echo "$dir"
	exit 0
fi

src=$dir/linux
log=$dir/build.log
[ -f "$dir/started" ] || date +%s >"$dir/started"
{
	if [ ! -f "$src/.extracted" ]; then
		echo "debug-kernel: extracting $tarball"
		rm -rf "$src"
		mkdir -p "$src"
		tar -xJf "$tarball" -C "$src" --strip-components=1
		touch "$src/.extracted"
	fi
	if [ ! -f "$src/.configured" ]; then
		make -C "$src" -s x86_64_defconfig
		(cd "$src" && scripts/kconfig/merge_config.sh -m .config "$fragment")
		make -C "$src" -s olddefconfig
		touch "$src/.configured"
	fi
} >>"$log" 2>&1 || { echo "debug-kernel: setup failed, see $log" >&2; tail -n 20 "$log" >&2; exit 1; }

# merge_config.sh only warns when a symbol did not get the value asked for
# (a dependency missing, a name that changed): make that an error, the
# kernel would lack what the tests rely on.
bad=$(grep -E '^(CONFIG_[A-Z0-9_]+=.*|# CONFIG_[A-Z0-9_]+ is not set)' "$fragment" |
while read -r line; do
	case $line in
	'# '*) sym=${line#\# }; sym=${sym%% *}; want=n ;;
	*) sym=${line%%=*}; want=${line#*=} ;;
	esac
	got=$(grep -E "^$sym=|^# $sym is not set" "$src/.config" | head -n 1 || true)
	case $got in
	''|'# '*) got=n ;;
	*) got=${got#*=} ;;
	esac
	[ "$got" = "$want" ] || echo "$sym: asked for $want, got $got"
done)
if [ -n "$bad" ]; then
	echo "debug-kernel: scripts/debug-kernel.config does not apply to this source:" >&2
	echo "$bad" | sed 's/^/    /' >&2
	exit 1
fi

echo "debug-kernel: building $key in $src (log: $log)" >&2
if ! nice -n 10 make -C "$src" -j"$jobs" bzImage modules >>"$log" 2>&1; then
	echo "debug-kernel: build failed, see $log" >&2
	grep -E ' error|Error [0-9]' "$log" | tail -n 20 >&2
	exit 1
fi
kver=$(make -C "$src" -s kernelrelease)
rm -rf "$dir/modroot"
make -C "$src" -s INSTALL_MOD_PATH="$dir/modroot" modules_install >>"$log" 2>&1
cp "$src/arch/x86/boot/bzImage" "$dir/bzImage"
# Objects of the kernel proper are not needed to build modules against
# the tree; scripts/ and tools/ (modpost, objtool) keep theirs.
find "$src" \( -path "$src/scripts" -o -path "$src/tools" \) -prune -o \
	-name '*.o' -type f -print0 | xargs -0 rm -f
rm -f "$src/vmlinux.o"
echo "$kver" >"$dir/kver"
secs=$(($(date +%s) - $(cat "$dir/started")))
echo "$secs" >"$dir/build-seconds"
touch "$done_stamp"
find "$cache" -mindepth 2 -maxdepth 2 -name .done -mtime +30 -printf '%h\0' |
	xargs -0 -r rm -rf
echo "debug-kernel: built $kver in ${secs}s, $(du -sh "$dir" | cut -f1) in $dir" >&2
echo "$dir"
