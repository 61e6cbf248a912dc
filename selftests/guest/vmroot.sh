# SPDX-License-Identifier: GPL-2.0
#
# vmroot.sh: `make demo-vmroot`, stage 1.  Sourced by the guest's /init
# (PID 1, strata_mode=vmroot): builds a read-only base layer from the
# initramfs' own busybox system on the ext4 disk, mounts it as an rr
# branch under a tmpfs rw top, and switches the root to that union.
# Stage 2 (vmroot-init.sh, the union's /sbin/init) shows it and powers off.

vmroot_fail() {
	echo "vmroot: $*" >&3
	echo "### EXIT rc=1" >&3
	finish
}

base=/mnt/ext4/vmroot-base
echo "vmroot: building a busybox base layer in $base (ext4)" >&3
rm -rf "$base"
mkdir -p "$base" || vmroot_fail "cannot create $base"
# The initramfs is the system: its programs, libraries and configuration.
tar -C / -cf - bin sbin lib lib64 usr etc root strata/bin 2>/dev/null |
	tar -C "$base" -xf - || vmroot_fail "cannot copy the system into $base"
mkdir -p "$base/proc" "$base/sys" "$base/dev" "$base/tmp" "$base/run" \
	"$base/mnt" "$base/media/base"
rm -f "$base/sbin/init"
cp /strata/vmroot-init.sh "$base/sbin/init" && chmod 755 "$base/sbin/init" ||
	vmroot_fail "cannot install $base/sbin/init"
echo "strata vmroot base layer" >"$base/etc/motd"
sync

# The base is only ever read: a read-only bind mount as an rr branch.
mkdir -p /run/vmroot/base /run/vmroot/rw /run/vmroot/root
mount --bind "$base" /run/vmroot/base &&
	mount -o remount,bind,ro /run/vmroot/base ||
	vmroot_fail "cannot bind $base read-only"
mount -t tmpfs -o mode=755 tmpfs /run/vmroot/rw &&
	mkdir /run/vmroot/rw/top ||
	vmroot_fail "cannot mount the tmpfs top"
mount -t strata -o br=/run/vmroot/rw/top=rw:/run/vmroot/base=rr \
	strata /run/vmroot/root || vmroot_fail "cannot mount the strata root"
# Stage 2 checks its writes against the base, so it sees it too.
mount --bind /run/vmroot/base /run/vmroot/root/media/base ||
	vmroot_fail "cannot show the base in the new root"
[ -x /run/vmroot/root/sbin/init ] ||
	vmroot_fail "the union shows no /sbin/init"
echo "vmroot: switching the root to the strata union" >&3
exec 3>&-
umount /dev/shm /dev/pts /tmp 2>/dev/null
for m in dev proc sys; do
	mount --move "/$m" "/run/vmroot/root/$m" || vmroot_fail "cannot move /$m"
done
exec switch_root /run/vmroot/root /sbin/init
