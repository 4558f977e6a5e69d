#!/bin/sh
# Two VMs on one Linux bridge through --net tap: inside a network namespace
# made by this test (nothing touches the host's network), each VM gets a TAP
# interface that the test attaches to a bridge; the guests configure
# 192.168.77.1 and .2 and ping each other.
# Exit status 0 pass, 1 fail, 77 skip (no guest artifacts, no netns/TUN).
set -eu
VESSEL=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
guest=$("$top/scripts/fetch-guest.sh" --quiet) || { echo "SKIP: cannot fetch the guest"; exit 77; }
eval "$guest"
initrd=$("$top/scripts/mkinitramfs.sh")
[ -e /dev/net/tun ] || { echo "SKIP: no /dev/net/tun"; exit 77; }
ns=vessel-tap-$$
ip netns add "$ns" 2>/dev/null || { echo "SKIP: cannot create a network namespace"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vessel-tap.XXXXXX")
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	ip netns delete "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*" >&2; for f in "$tmp"/out.*; do echo "== $f"; tail -5 "$f"; done; exit 1; }
ip -n "$ns" link add br0 type bridge
ip -n "$ns" link set br0 up

guest_cmd() { # ADDR PEER
	printf '%s\n' \
		"ip link set eth0 up" \
		"ip addr add $1/24 dev eth0" \
		"i=0; until ping -c 1 -W 1 $2 >/dev/null 2>&1 || [ \$i -ge 120 ]; do i=\$((i+1)); done" \
		"echo \"R: ping $2 \$(ping -c 3 -W 2 $2 | grep -c 'bytes from')\"" \
		"sleep 5" | base64 -w0
}
for n in 1 2; do
	peer=$((3 - n))
	ip netns exec "$ns" timeout "${VESSEL_BOOT_TIMEOUT:-600}" "$VESSEL" vm run --kernel "$VESSEL_GUEST_KERNEL" \
		--initrd "$initrd" --net "tap:vtap$n" --name "vm$n" \
		--append "console=ttyS0 vessel.cmd=$(guest_cmd 192.168.77.$n 192.168.77.$peer)" \
		</dev/null >"$tmp/out.$n" 2>&1 &
	pids="$pids $!"
done
# attach each TAP interface to the bridge as soon as its VM has made it
for n in 1 2; do
	for _ in $(seq 1 100); do
		ip -n "$ns" link show "vtap$n" >/dev/null 2>&1 && break
		sleep 0.2
	done
	ip -n "$ns" link set "vtap$n" master br0 || fail "vtap$n was not created"
done
for p in $pids; do wait "$p" || fail "a VM exited with $?"; done
pids=""
grep "^R: " "$tmp"/out.* | tr -d '\r'
grep -q "R: ping 192.168.77.2 3" "$tmp/out.1" || fail "vm1 cannot ping vm2"
grep -q "R: ping 192.168.77.1 3" "$tmp/out.2" || fail "vm2 cannot ping vm1"
echo "PASS: two VMs ping each other over TAP on a bridge"
