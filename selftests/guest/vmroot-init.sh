#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vmroot-init.sh: `make demo-vmroot`, stage 2, run as /sbin/init of a root
# filesystem that is a strata union (a tmpfs rw top over a read-only
# busybox base).  Shows it, changes it, checks that the base is untouched,
# and powers off.  Output goes to the results channel like any demo.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin:/strata/bin
exec 3>/dev/ttyS1
stty -F /dev/ttyS1 raw -echo 2>/dev/null
mount -t tmpfs -o mode=1777 tmpfs /tmp
rc=0

step() { echo; echo "\$ $*"; sh -c "$*" || { echo "FAILED: $*"; rc=1; }; }

{
	echo "vmroot: PID 1 is running from a strata root filesystem"
	step 'grep " / " /proc/mounts'
	step 'strata status'
	step 'cat /etc/motd'
	step 'echo "changed in the VM" >/etc/motd && cat /etc/motd'
	step 'mkdir -p /var/log && echo booted >/var/log/boot.log && ls -l /var/log'
	step 'rm /etc/hostname 2>/dev/null; adduser -D -H vmuser 2>/dev/null || echo "vmuser:x:1001:1001::/:/bin/sh" >>/etc/passwd; grep vmuser /etc/passwd'
	echo
	echo "The base layer is untouched (the union's changes are in its tmpfs top):"
	step 'cat /media/base/etc/motd'
	step '! grep -q vmuser /media/base/etc/passwd'
	step 'test ! -e /media/base/var/log/boot.log'
	step 'grep -q "strata vmroot base layer" /media/base/etc/motd'
	step 'strata status | tail -n 1'
	echo "$rc" >/tmp/.rc
} 2>&1 | tee /dev/console >&3
rc=$(cat /tmp/.rc 2>/dev/null || echo 1)

if dmesg | grep -qE 'WARNING:|BUG:|Oops'; then
	echo "vmroot: the kernel log is not clean" | tee /dev/console >&3
	rc=1
fi
echo "### EXIT rc=$rc" >&3
echo "### DMESG" >&3
dmesg >&3
echo "### DONE" >&3
sync
poweroff -f
