#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# control_test.sh: the control channel end to end through the helper
# (strata status, strata monitor, strata version), in the test guest as
# root under busybox sh; prints TAP.
#
#   - status: --json output (keys, balance), the table for a mount point,
#     a path inside a union, errors with their exit codes and messages
#   - monitor: mount, copy-up and umount lines, --json lines, a clean stop
#     on SIGTERM and SIGINT, the refusal for an unprivileged user
#   - module unload with a monitor listening: rmmod works, the monitor
#     reports it and follows the module when it is loaded again (by the
#     helper through libkmod), and the kernel log stays clean
#
# The module is loaded again at the end, as the guest init left it.

S=${STRATA:-strata}
ko=${STRATA_KO:-/strata/strata.ko}
base=${STRATA_TEST_ROOT:-/mnt}/tmpfs
[ -d "$base" ] || base=${TMPDIR:-/tmp}

if ! command -v "$S" >/dev/null 2>&1; then
	echo "1..0 # SKIP the strata helper is not installed"
	exit 4
fi
if [ ! -d /sys/module/strata ]; then
	echo "1..0 # SKIP the strata module is not loaded"
	exit 4
fi
S=$(command -v "$S")

echo "TAP version 13"
echo "1..46"

# result, check, expect and the counters n and failed.
. "$(dirname "$0")/tap.sh"
has() { # FILE TEXT: FILE contains the fixed string TEXT
	grep -qF -- "$2" "$1" && return 0
	echo "# $1 lacks: $2"
	sed 's/^/#   /' "$1"
	return 1
}
# wait_for FILE PATTERN: up to 10 s for an extended regex to show up
wait_for() {
	i=0
	while [ $i -lt 100 ]; do
		grep -qE -- "$2" "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "# $1: no line matching '$2' after 10 s"
	sed 's/^/#   /' "$1"
	return 1
}
# as_nobody COMMAND...: run with uid/gid 65534 (busybox su, no capabilities)
as_nobody() {
	cmd=
	for a in "$@"; do cmd="$cmd '$a'"; done
	su -s /bin/sh nobody -c "$cmd"
}

dir=$(mktemp -d "$base/control.XXXXXX")
chmod 755 "$dir"
up=$dir/up low=$dir/low m=$dir/m m2=$dir/m2 probe=$dir/probe
mkdir -p "$up" "$low/d" "$m" "$m2" "$probe"
printf 'data\n' >"$low/f"
printf 'x\n' >"$low/d/x"
printf 'y\n' >"$low/g"

cleanup() {
	for p in "$m" "$m2" "$probe" "$dir/big/m"; do
		grep -q " $p " /proc/mounts && umount "$p" 2>/dev/null
	done
	[ -z "$mon" ] || kill "$mon" 2>/dev/null
	[ -z "$modprobe_path" ] || echo "$modprobe_path" >/proc/sys/kernel/modprobe
	[ -d /sys/module/strata ] || insmod "$ko"
	rm -rf "$dir"
}
mon= modprobe_path=
trap cleanup EXIT

# start_monitor LOG [OPTIONS]: a monitor in the background, $mon its pid;
# returns once it reports a probe union's mount, so it is surely listening.
start_monitor() {
	log=$1
	shift
	"$S" monitor "$@" >"$log" 2>"$log.err" &
	mon=$!
	i=0
	while [ $i -lt 50 ]; do
		mount -t strata -o "br=$low=ro" none "$probe" && umount "$probe"
		grep -q 'mount' "$log" && return 0
		kill -0 "$mon" 2>/dev/null || break
		sleep 0.2
		i=$((i + 1))
	done
	echo "# monitor did not start:"
	sed 's/^/#   /' "$log" "$log.err"
	return 1
}
# stop_monitor SIGNAL: stop $mon, return its exit status
stop_monitor() {
	kill "-$1" "$mon"
	wait "$mon"
	rc=$?
	mon=
	return $rc
}
union_id() { # MOUNTPOINT: the union's id, from status
	"$S" status "$1" | sed -n 's/^union \([0-9]*\) on .*/\1/p'
}

# ---- version and status ----
expect "version names the netlink family" 0 "strata netlink family strata version 1" "$S" version
expect "status --json without arguments is a JSON array" 0 "[" "$S" status --json
expect "mount a writable union with the helper" 0 "" "$S" mount "$m" "$up=rw" "$low=ro"
id=$(union_id "$m")
check "status MOUNTPOINT shows the union's id" [ -n "$id" ]

"$S" status --json >"$dir/all.json" 2>&1
check "status --json lists the union with its mount point" has "$dir/all.json" "\"mountpoint\": \"$m\""
"$S" status --json "$m" >"$dir/one.json" 2>&1
keys_ok() {
	for k in "\"id\": $id," '"dev": "' '"readonly": false' '"whiteout": "aufs"' \
		"\"options\": \"br=$up=rw:$low=ro\"" '"branches": [' '"index": 0' \
		'"index": 1' "\"path\": \"$up\"" "\"path\": \"$low\"" '"mode": "rw"' \
		'"mode": "ro"' '"fstype": "tmpfs"' '"counters": {' '"lookups": ' \
		'"copy_ups": 0' '"copy_bytes": 0' '"whiteouts": 0' '"branch_changes": 0'; do
		has "$dir/one.json" "$k" || return 1
	done
}
check "status --json MOUNTPOINT has every key" keys_ok
balanced() { # FILE: as many { as }, [ as ], starts with [ and ends with ]
	o=$(tr -cd '{' <"$1" | wc -c) c=$(tr -cd '}' <"$1" | wc -c)
	so=$(tr -cd '[' <"$1" | wc -c) sc=$(tr -cd ']' <"$1" | wc -c)
	[ "$o" = "$c" ] && [ "$so" = "$sc" ] && [ "$(head -c 1 "$1")" = "[" ] &&
		[ "$(tail -n 1 "$1")" = "]" ]
}
check "status --json output is balanced" balanced "$dir/one.json"
check "status --json of a single union is an array of one" \
	[ "$(grep -c '^    "id": ' "$dir/one.json")" = 1 ]

"$S" status "$m" >"$dir/table" 2>&1
check "status table: head line" has "$dir/table" "union $id on $m: rw, whiteout aufs, dev "
check "status table: branch 0 is rw on tmpfs" grep -qE "^  0 +rw +tmpfs +$up\$" "$dir/table"
check "status table: branch 1 is ro on tmpfs" grep -qE "^  1 +ro +tmpfs +$low\$" "$dir/table"
check "status table: counters" has "$dir/table" "  counters: lookups "
expect "status of a directory inside the union" 0 "union $id on $m:" "$S" status "$m/d"
expect "status of a file inside the union" 0 "union $id on $m:" "$S" status "$m/f"
expect "status of all unions finds the mount point in mountinfo" 0 "union $id on $m:" "$S" status
expect "status outside strata: exit 1 with the kernel's reason" 1 \
	"strata: $dir: Invalid argument (kernel: file descriptor is not inside a strata union, attribute fd)" \
	"$S" status "$dir"
expect "status of a missing path: exit 1" 1 "strata: $dir/nope: No such file or directory" \
	"$S" status "$dir/nope"
expect "status with two paths: exit 2" 2 "strata: status: unexpected argument" "$S" status "$m" "$m"
expect "monitor with an argument: exit 2" 2 "Try 'strata monitor --help'." "$S" monitor now
expect "status as nobody works" 0 "union $id on $m:" as_nobody "$S" status "$m"
expect "monitor as nobody: exit 1, needs CAP_SYS_ADMIN" 1 \
	"strata: monitor: joining the monitor group needs CAP_SYS_ADMIN" as_nobody "$S" monitor

# ---- monitor ----
log=$dir/monitor.log
check "monitor starts" start_monitor "$log"
printf 'more\n' >>"$m/f"
check "monitor: copy-up line with path and size" \
	wait_for "$log" "^copy-up $id: /f, 5 bytes, [0-9]+\.[0-9]{3} ms\$"
mount -t strata -o "br=$up=ro:$low=rr,whiteout=overlay" none "$m2"
id2=$(union_id "$m2")
check "monitor: mount line with the options" \
	wait_for "$log" "^mount $id2: dev [0-9]+:[0-9]+, ro, whiteout overlay, br=$up=ro:$low=rr,whiteout=overlay\$"
umount "$m2"
check "monitor: umount line" wait_for "$log" "^umount $id2\$"
check "monitor stops on SIGTERM with status 0" stop_monitor TERM
check "monitor printed nothing on stderr" [ ! -s "$log.err" ]

jlog=$dir/monitor.json
check "monitor --json starts" start_monitor "$jlog" --json
printf 'z\n' >>"$m/d/x"
check "monitor --json: copy-up of the directory" \
	wait_for "$jlog" "^\{\"event\":\"copy-up\",\"id\":$id,\"path\":\"/d\",\"size\":0,\"duration_ns\":[0-9]+\}\$"
check "monitor --json: copy-up of the file" \
	wait_for "$jlog" "^\{\"event\":\"copy-up\",\"id\":$id,\"path\":\"/d/x\",\"size\":2,\"duration_ns\":[0-9]+\}\$"
check "monitor --json: mount events are objects" \
	wait_for "$jlog" '^\{"event":"mount","id":[0-9]+,"mountpoint":null,"dev":"[0-9]+:[0-9]+",'
check "monitor --json stops on SIGINT with status 0" stop_monitor INT

"$S" status --json "$m" >"$dir/after.json" 2>&1
check "status counts the three copy-ups and their bytes" \
	sh -c "grep -qF '\"copy_ups\": 3,' '$dir/after.json' && grep -qF '\"copy_bytes\": 7,' '$dir/after.json'"
rm "$m/g"
"$S" status --json "$m" >"$dir/after.json" 2>&1
check "status counts the whiteout of a removed lower file" has "$dir/after.json" '"whiteouts": 1,'

# ---- a union too large for one message ----
big=$dir/big
mkdir -p "$big/m"
seq 0 2999 | sed "s#^#$big/b#" | xargs mkdir
seq 0 2999 | sed "s#^\(.*\)\$#$big/b\1=ro#" >"$dir/branches"
expect "mount a union of 3000 branches with --branches-from" 0 "" \
	"$S" mount --branches-from "$dir/branches" "$big/m"
count_branches() { # WANT COMMAND...: the table lists WANT branches of $big
	want=$1
	shift
	got=$("$@" | grep -cE "^  [0-9]+ +ro +tmpfs +$big/b[0-9]+\$")
	[ "$got" = "$want" ] && return 0
	echo "# $want branches expected, $got listed"
	return 1
}
check "status MOUNTPOINT lists all 3000 branches" count_branches 3000 "$S" status "$big/m"
check "status of all unions lists all 3000 branches" count_branches 3000 "$S" status
umount "$big/m"

# ---- module unload with a listener ----
echo "control_test: unload with a listener" >/dev/kmsg
ulog=$dir/unload.log
check "monitor listens before the unload" start_monitor "$ulog"
umount "$m"
check "rmmod strata while a monitor listens" rmmod strata
check "monitor reports the unload" wait_for "$ulog" '^module unloaded$'
# Keep the kernel from loading the module by itself, to see the helper's.
modprobe_path=$(cat /proc/sys/kernel/modprobe)
echo >/proc/sys/kernel/modprobe
expect "status without the module and a bad --module: exit 1 naming the file" 1 \
	"strata: module /nonexistent/strata.ko: No such file or directory" \
	"$S" status --module /nonexistent/strata.ko
expect "status --module FILE loads the module with libkmod" 0 "" "$S" status --module "$ko"
echo "$modprobe_path" >/proc/sys/kernel/modprobe
modprobe_path=
check "monitor reports the module back" wait_for "$ulog" '^module loaded$'
mount -t strata -o "br=$low=ro" none "$m2"
id3=$(union_id "$m2")
check "monitor follows the reloaded module" wait_for "$ulog" "^mount $id3: "
umount "$m2"
check "monitor still stops cleanly" stop_monitor TERM
no_warning() {
	dmesg | sed -n '/control_test: unload with a listener/,$p' >"$dir/dmesg"
	if grep -E 'WARNING|BUG|Oops|Call Trace|refcount_t' "$dir/dmesg"; then
		return 1
	fi
	return 0
}
check "no kernel warning around the unload" no_warning

[ "$n" -eq 46 ] || echo "# planned 46 results, reported $n"
[ "$failed" -eq 0 ] && exit 0
exit 1
