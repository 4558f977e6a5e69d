#!/bin/sh
# Crash safety of qcow2 disks: kill -9 the VMM in the middle of heavy guest
# writes, then the image must be consistent and keep what the guest flushed.
#   1. a fresh qcow2 (vessel image create, 256 MiB: every write allocates
#      clusters, so refcounts and L2 tables change all the time) on the
#      pulled Debian image; the guest writes 1 MiB blocks to /dev/vda, each
#      one `dd conv=fsync` (a virtio-blk flush) and reported on the console
#      once the flush completed, while a second writer streams unflushed
#      blocks to the upper half of the disk;
#   2. the VMM is killed with SIGKILL after some blocks were reported;
#   3. `qemu-img check`: no corruption (exit 0, or 3 = leaked clusters only);
#      every reported block reads back from the image exactly (qemu-img
#      convert to raw);
#   4. the image still opens and boots: a second VM reads the blocks back
#      (same SHA-256 as the host computes), writes one more block, powers off
#      cleanly; qemu-img check again;
#   5. the same on an ext4 root disk made by `vessel image pull --disk`: the
#      guest writes and syncs 1 MiB files, kill -9; qemu-img check; the disk
#      boots again (journal replay), every synced file is intact, and after
#      a clean poweroff qemu-img check and e2fsck -fn accept it.
# Usage: crash.sh VESSEL. Exit 0 pass, 1 fail, 77 skip (image not pullable).
set -eu
VESSEL=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
BOOT_TIMEOUT=${VESSEL_BOOT_TIMEOUT:-240}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vessel-crash-test.XXXXXX")
vm_pid=""
cleanup() {
	[ -z "$vm_pid" ] || kill -9 "$vm_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

if ! "$VESSEL" image pull debian >"$tmp/pull" 2>&1; then
	cat "$tmp/pull"
	if grep -q "Could not resolve\|Couldn't connect\|Failed to connect" "$tmp/pull"; then
		echo "SKIP: Debian's archive is not reachable" >&2
		exit 77
	fi
	fail "vessel image pull debian"
fi
disk=$tmp/d.qcow2
"$VESSEL" image create "$disk" 256M >/dev/null
block() { # the content of 1 MiB block $1
	yes "vessel block $1" | head -c 1048576
}

echo "== 1. heavy guest writes, flushed block by block"
# blocks 0..N-1 flushed one by one; blocks 128.. streamed without flushes
cmd=$(printf '%s\n' \
	'( j=128; while [ $j -lt 256 ]; do yes "stream $j" | head -c 1048576 | dd of=/dev/vda bs=1M seek=$j 2>/dev/null; j=$((j + 1)); done ) &' \
	'i=0' \
	'while [ $i -lt 128 ]; do' \
	'	yes "vessel block $i" | head -c 1048576 | dd of=/dev/vda bs=1M seek=$i conv=fsync 2>/dev/null || echo "R: dd $i failed"' \
	'	echo "R: flushed $i"' \
	'	i=$((i + 1))' \
	'done' \
	'wait' | base64 -w0)
"$VESSEL" vm run --image debian --memory 256M --disk "$disk" \
	--append "console=ttyS0 quiet vessel.cmd=$cmd" </dev/null >"$tmp/run1" 2>&1 &
vm_pid=$!
# kill once 12 blocks were flushed, while both writers are busy
t0=$(date +%s)
until grep -q '^R: flushed 11' "$tmp/run1"; do
	if ! kill -0 "$vm_pid" 2>/dev/null; then
		tr -d '\r' <"$tmp/run1" | tail -n 20
		fail "the VM ended before the kill"
	fi
	[ $(($(date +%s) - t0)) -lt "$BOOT_TIMEOUT" ] || { tail -n 20 "$tmp/run1"; fail "no progress in ${BOOT_TIMEOUT}s"; }
	sleep 0.2
done
sleep 1
echo "== 2. kill -9 the VMM"
kill -9 "$vm_pid"
wait "$vm_pid" 2>/dev/null || true
vm_pid=""
grep -q 'R: dd .* failed' "$tmp/run1" && fail "a guest write failed"
last=$(tr -d '\r' <"$tmp/run1" | sed -n 's/^R: flushed //p' | tail -n 1)
echo "killed after block $last was flushed"

echo "== 3. the image after the crash"
set +e
qemu-img check -f qcow2 "$disk" >"$tmp/check1" 2>&1
rc=$?
set -e
cat "$tmp/check1"
[ "$rc" = 0 ] || [ "$rc" = 3 ] || fail "qemu-img check exit status $rc (2 = corruption)"
grep -q "corrupt\|^ERROR" "$tmp/check1" && fail "qemu-img check reports errors"
qemu-img convert -f qcow2 -O raw "$disk" "$tmp/d.raw"
i=0
while [ "$i" -le "$last" ]; do
	[ "$(dd if="$tmp/d.raw" bs=1M skip="$i" count=1 2>/dev/null | sha256sum)" = "$(block "$i" | sha256sum)" ] ||
		fail "flushed block $i is not in the image"
	i=$((i + 1))
done
echo "blocks 0..$last read back from the image"
want=$(i=0; while [ "$i" -le "$last" ]; do block "$i"; i=$((i + 1)); done | sha256sum | cut -d' ' -f1)
rm -f "$tmp/d.raw"

echo "== 4. the image opens and boots again"
n=$((last + 1))
cmd=$(printf '%s\n' \
	"echo \"R: sum \$(dd if=/dev/vda bs=1M count=$n 2>/dev/null | sha256sum | cut -d' ' -f1)\"" \
	'yes "after the crash" | head -c 1048576 | dd of=/dev/vda bs=1M seek=127 conv=fsync 2>/dev/null' \
	'echo "R: wrote $?"' | base64 -w0)
set +e
timeout "$BOOT_TIMEOUT" "$VESSEL" vm run --image debian --memory 256M --disk "$disk" \
	--append "console=ttyS0 quiet vessel.cmd=$cmd" </dev/null >"$tmp/run2" 2>&1
rc=$?
set -e
tr -d '\r' <"$tmp/run2" | grep '^R:\|^vessel-guest\|rror' || true
[ "$rc" = 0 ] || fail "second boot: exit status $rc"
tr -d '\r' <"$tmp/run2" | grep -q "^R: sum $want\$" || fail "the guest reads other data than was flushed"
tr -d '\r' <"$tmp/run2" | grep -q '^R: wrote 0$' || fail "the guest could not write after the crash"
set +e
qemu-img check -f qcow2 "$disk" >"$tmp/check2" 2>&1
rc=$?
set -e
cat "$tmp/check2"
[ "$rc" = 0 ] || [ "$rc" = 3 ] || fail "qemu-img check after the second boot: exit status $rc"
qemu-img convert -f qcow2 -O raw "$disk" "$tmp/d.raw"
[ "$(dd if="$tmp/d.raw" bs=1M skip=127 count=1 2>/dev/null | sha256sum)" = \
	"$(yes "after the crash" | head -c 1048576 | sha256sum)" ] || fail "the write after the crash is not in the image"
rm -f "$tmp/d.raw"

echo "== 5. the same on an ext4 root disk: files written and synced, kill -9"
# a private cache (the user's manifest keeps its own disk record); the
# packages come from the user's cache, so only the indexes are fetched
ucache=${XDG_CACHE_HOME:-$HOME/.cache}/vessel/images/debian
mkdir -p "$tmp/cache/vessel/images/debian"
cp -r "$ucache/debs" "$tmp/cache/vessel/images/debian/"
root=$tmp/root.qcow2
XDG_CACHE_HOME=$tmp/cache "$VESSEL" image pull debian --disk 128M --output "$root" >"$tmp/pull2" 2>&1 ||
	{ cat "$tmp/pull2"; fail "pull --disk"; }
cmd=$(printf '%s\n' \
	'i=0' \
	'while [ $i -lt 64 ]; do' \
	'	yes "file $i" | head -c 1048576 >/root/f$i && sync && echo "R: synced $i"' \
	'	i=$((i + 1))' \
	'done' | base64 -w0)
XDG_CACHE_HOME=$tmp/cache "$VESSEL" vm run --image debian --memory 256M --disk "$root" \
	--append "console=ttyS0 quiet root=/dev/vda vessel.cmd=$cmd" </dev/null >"$tmp/run3" 2>&1 &
vm_pid=$!
t0=$(date +%s)
until grep -q '^R: synced 5' "$tmp/run3"; do
	kill -0 "$vm_pid" 2>/dev/null || { tr -d '\r' <"$tmp/run3" | tail -n 20; fail "the VM ended before the kill"; }
	[ $(($(date +%s) - t0)) -lt "$BOOT_TIMEOUT" ] || { tail -n 20 "$tmp/run3"; fail "no progress in ${BOOT_TIMEOUT}s"; }
	sleep 0.2
done
sleep 0.5
kill -9 "$vm_pid"
wait "$vm_pid" 2>/dev/null || true
vm_pid=""
last=$(tr -d '\r' <"$tmp/run3" | sed -n 's/^R: synced //p' | tail -n 1)
echo "killed after file $last was synced"
set +e
qemu-img check -f qcow2 "$root" >"$tmp/check3" 2>&1
rc=$?
set -e
cat "$tmp/check3"
[ "$rc" = 0 ] || [ "$rc" = 3 ] || fail "root disk: qemu-img check exit status $rc (2 = corruption)"
# boots from it (ext4 replays its journal), finds every synced file intact
cmd=$(printf '%s\n' \
	"i=0; ok=0; while [ \$i -le $last ]; do [ \"\$(sha256sum </root/f\$i)\" = \"\$(yes \"file \$i\" | head -c 1048576 | sha256sum)\" ] && ok=\$((ok + 1)); i=\$((i + 1)); done" \
	'echo "R: intact $ok"' | base64 -w0)
set +e
XDG_CACHE_HOME=$tmp/cache timeout "$BOOT_TIMEOUT" "$VESSEL" vm run --image debian --memory 256M --disk "$root" \
	--append "console=ttyS0 quiet root=/dev/vda vessel.cmd=$cmd" </dev/null >"$tmp/run4" 2>&1
rc=$?
set -e
tr -d '\r' <"$tmp/run4" | grep '^R:\|^vessel-guest\|EXT4-fs error' || true
[ "$rc" = 0 ] || fail "boot after the crash: exit status $rc"
tr -d '\r' <"$tmp/run4" | grep -q "^R: intact $((last + 1))\$" || fail "synced files lost or damaged"
qemu-img check -f qcow2 "$root" >/dev/null 2>&1 || [ $? = 3 ] || fail "root disk: qemu-img check after the reboot"
qemu-img convert -f qcow2 -O raw "$root" "$tmp/d.raw"
e2fsck -fn "$tmp/d.raw" >"$tmp/fsck" 2>&1 || { cat "$tmp/fsck"; fail "e2fsck after the clean poweroff"; }
echo "PASS"
