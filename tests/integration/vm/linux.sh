#!/bin/sh
# Linux boot integration tests: Debian's riscv64 kernel + the project's
# initramfs under `vessel vm run`, doing real work whose result the host
# checks. Fetches/builds the guest artifacts (scripts/fetch-guest.sh,
# scripts/mkinitramfs.sh) when missing.
#
# Usage: linux.sh VESSEL MODE
#   work     --cpus 2, built-in SBI: the guest runs a script from the
#            initramfs (vessel.run=): /proc/cpuinfo must show 2 harts, a
#            checksum of a busybox-generated stream and four checksums
#            computed by parallel processes must match the host's, and the
#            script's exit status must come back as the VMM's.
#   console  --bios OpenSBI fw_dynamic.bin, 1 hart: no hook; the test waits
#            for the shell prompt on the console and types commands into
#            the VMM's stdin through a FIFO, checks their output and powers
#            the guest off with `poweroff -f` (exit status 0).
# Exit status 0 pass, 1 fail, 77 skip (guest artifacts cannot be fetched).
set -eu
VESSEL=$1
MODE=$2
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
BOOT_TIMEOUT=${VESSEL_BOOT_TIMEOUT:-600}
OPENSBI=/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

if ! guest=$("$top/scripts/fetch-guest.sh" --quiet); then
	echo "SKIP: cannot fetch the guest kernel and busybox" >&2
	exit 77
fi
eval "$guest"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vessel-linux-test.XXXXXX")
vm_pid=""
cleanup() {
	[ -z "$vm_pid" ] || kill "$vm_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# The host's answer for everything the guest computes.
expected() {
	echo "R: cpus 2"
	echo "R: seq $(seq 1 30000 | sha256sum | cut -d' ' -f1)"
	for k in 1 2 3 4; do
		echo "R: par$k $(seq "$k" 4 40000 | md5sum | cut -d' ' -f1)"
	done
	echo "R: end"
}

case $MODE in
work)
	cat >"$tmp/work.sh" <<'GUEST'
echo "R: cpus $(grep -c '^processor' /proc/cpuinfo)"
echo "R: seq $(seq 1 30000 | sha256sum | cut -d' ' -f1)"
# four processes at once, on both harts
for k in 1 2 3 4; do
	(seq $k 4 40000 | md5sum | cut -d' ' -f1 >/tmp/par$k) &
done
wait
for k in 1 2 3 4; do echo "R: par$k $(cat /tmp/par$k)"; done
echo "R: end"
exit 7
GUEST
	initrd=$("$top/scripts/mkinitramfs.sh" -o "$tmp/initramfs.cpio.gz" --add "$tmp/work.sh:/test/work.sh")
	set +e
	timeout "$BOOT_TIMEOUT" "$VESSEL" vm run --kernel "$VESSEL_GUEST_KERNEL" --initrd "$initrd" \
		--memory 256M --cpus 2 --append "console=ttyS0 quiet vessel.run=/test/work.sh" \
		</dev/null >"$tmp/out" 2>&1
	rc=$?
	set -e
	tr -d '\r' <"$tmp/out" >"$tmp/console"
	tail -n 30 "$tmp/console"
	[ "$rc" != 124 ] || fail "no poweroff within ${BOOT_TIMEOUT}s"
	grep -q '^vessel-guest: ready' "$tmp/console" || fail "the guest never reached the marker line"
	grep -q '^vessel-guest: exit=7$' "$tmp/console" || fail "the guest script did not finish"
	# the script's status 7 reaches the host through the syscon test device
	[ "$rc" = 7 ] || fail "vessel exit status $rc, want 7 (the guest script's status)"
	grep '^R: ' "$tmp/console" >"$tmp/got" || true
	expected >"$tmp/want"
	if ! diff -u "$tmp/want" "$tmp/got"; then
		fail "guest results differ from the host's"
	fi
	echo "PASS: 2 harts, checksums match the host's"
	;;
console)
	[ -r "$OPENSBI" ] || fail "$OPENSBI missing (package opensbi; scripts/deps.sh)"
	initrd=$("$top/scripts/mkinitramfs.sh" -o "$tmp/initramfs.cpio.gz")
	mkfifo "$tmp/in"
	timeout "$BOOT_TIMEOUT" "$VESSEL" vm run --bios "$OPENSBI" --kernel "$VESSEL_GUEST_KERNEL" \
		--initrd "$initrd" --memory 256M --append "console=ttyS0 quiet" \
		<"$tmp/in" >"$tmp/out" 2>&1 &
	vm_pid=$!
	exec 3>"$tmp/in" # keep the FIFO open: EOF only at the end
	wait_for() { # pattern seconds
		_i=0
		while ! tr -d '\r' <"$tmp/out" | grep -q "$1"; do
			kill -0 "$vm_pid" 2>/dev/null || return 1
			_i=$((_i + 1))
			[ "$_i" -le "$2" ] || return 1
			sleep 1
		done
	}
	wait_for 'vessel# ' "$BOOT_TIMEOUT" || { tail -n 30 "$tmp/out"; fail "no shell prompt"; }
	# typed commands; each answer is checked as a whole line, which the
	# echo of the typed command cannot match
	a=$((12345 * 6789))
	printf 'echo "R: $((12345 * 6789))"\n' >&3
	printf 'echo "R: harts $(grep -c ^processor /proc/cpuinfo)"\n' >&3
	printf 'echo "R: sum $(seq 1 1000 | sha256sum | cut -c1-16)"\n' >&3
	printf 'echo R: done\n' >&3
	wait_for '^R: done' 120 || { tail -n 30 "$tmp/out"; fail "typed commands got no answer"; }
	printf 'poweroff -f\n' >&3
	set +e
	wait "$vm_pid"
	rc=$?
	set -e
	vm_pid=""
	exec 3>&-
	tr -d '\r' <"$tmp/out" >"$tmp/console"
	tail -n 20 "$tmp/console"
	grep -q 'OpenSBI' "$tmp/console" || fail "no OpenSBI banner: was the kernel started by fw_dynamic?"
	grep -qx "R: $a" "$tmp/console" || fail "arithmetic answer missing"
	grep -qx "R: harts 1" "$tmp/console" || fail "wrong hart count"
	grep -qx "R: sum $(seq 1 1000 | sha256sum | cut -c1-16)" "$tmp/console" || fail "checksum differs"
	[ "$rc" = 0 ] || fail "vessel exit status $rc after poweroff, want 0"
	echo "PASS: OpenSBI boot, console driven through stdin"
	;;
*)
	echo "usage: linux.sh VESSEL work|console" >&2
	exit 2
	;;
esac
