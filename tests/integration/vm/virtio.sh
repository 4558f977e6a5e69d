#!/bin/sh
# Paravirtual I/O end to end, one boot: Debian's kernel + the project's
# initramfs under `vessel vm run` with
#   --disk a qcow2 image made by `vessel image create`: the guest writes a
#          pattern (dd, no file system) to /dev/vda and reads /dev/vdb
#          (a raw, read-only disk with data from the host); after poweroff
#          `qemu-img check` must be clean and `qemu-img convert` must give
#          exactly what the guest wrote;
#   --net user,hostfwd: DHCP from libslirp, an HTTP GET from a server on the
#          host's loopback, and a host connection through hostfwd to a
#          server in the guest;
#   virtio-rng: /dev/hwrng gives bytes.
# Exit status 0 pass, 1 fail, 77 skip (no guest artifacts, no qemu-img).
set -eu
VESSEL=$1
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
command -v qemu-img >/dev/null || { echo "SKIP: qemu-img missing"; exit 77; }
guest=$("$top/scripts/fetch-guest.sh" --quiet) || { echo "SKIP: cannot fetch the guest"; exit 77; }
eval "$guest"
initrd=$("$top/scripts/mkinitramfs.sh")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vessel-virtio.XXXXXX")
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# host side: an HTTP server with a file, a read-only data disk
echo "hello from the host $$" >"$tmp/hello.txt"
hport=$(free_port)
python3 -m http.server "$hport" --bind 127.0.0.1 --directory "$tmp" >/dev/null 2>&1 &
pids="$pids $!"
head -c 1048576 /dev/urandom >"$tmp/data.raw"
want_data=$(head -c 65536 "$tmp/data.raw" | md5sum | cut -d' ' -f1)
"$VESSEL" image create "$tmp/root.qcow2" 64M >/dev/null
fport=$(free_port)

# guest side: what it does, then it serves HTTP for the host until told to stop
cat >"$tmp/guest.sh" <<GUEST
echo "R: vdb \$(head -c 65536 /dev/vdb | md5sum | cut -d' ' -f1)"
seq 1 200000 >/tmp/pat
dd if=/tmp/pat of=/dev/vda bs=4096 conv=fsync 2>/dev/null
echo "R: wrote \$(wc -c </tmp/pat)"
echo "R: rng \$(head -c 32 /dev/hwrng | wc -c)"
ip link set eth0 up
udhcpc -i eth0 -q -n -s /bin/true >/dev/null 2>&1 || true   # lease only; addresses set below
ip addr add 10.0.2.15/24 dev eth0 2>/dev/null
ip route add default via 10.0.2.2 2>/dev/null
echo "R: http \$(wget -q -O - http://10.0.2.2:$hport/hello.txt)"
echo "R: serving"
# one HTTP answer for the host (which connects through hostfwd), then done
printf 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nserved by the guest\n' | timeout 300 nc -l -p 80 >/dev/null
GUEST
# the host reaches the guest's server through hostfwd once it listens
(
	for _ in $(seq 1 600); do
		grep -q "R: serving" "$tmp/out" 2>/dev/null && break
		sleep 1
	done
	for _ in $(seq 1 30); do
		curl -s --max-time 20 "http://127.0.0.1:$fport/" >"$tmp/fwd" 2>/dev/null && [ -s "$tmp/fwd" ] && break
		sleep 1
	done
) &
pids="$pids $!"
cmd=$(base64 -w0 <"$tmp/guest.sh")
timeout "${VESSEL_BOOT_TIMEOUT:-600}" "$VESSEL" vm run --cpus 1 --kernel "$VESSEL_GUEST_KERNEL" --initrd "$initrd" \
	--disk "$tmp/root.qcow2" --disk "$tmp/data.raw,format=raw,readonly" \
	--net "user,hostfwd=tcp:127.0.0.1:$fport-:80" \
	--append "console=ttyS0 vessel.cmd=$cmd" </dev/null >"$tmp/out" 2>&1 || fail "vessel exited $? ($(tail -5 "$tmp/out"))"
grep "^R: " "$tmp/out" | tr -d '\r'
grep -q "R: vdb $want_data" "$tmp/out" || fail "read-only data disk reads wrong"
grep -q "R: wrote $(seq 1 200000 | wc -c)" "$tmp/out" || fail "guest write"
grep -q "R: rng 32" "$tmp/out" || fail "virtio-rng gave no bytes"
grep -q "R: http hello from the host $$" "$tmp/out" || fail "guest could not fetch from the host"
grep -q "served by the guest" "$tmp/fwd" || fail "host could not reach the guest through hostfwd"
qemu-img check -q "$tmp/root.qcow2" || fail "qemu-img check"
qemu-img convert -O raw "$tmp/root.qcow2" "$tmp/root.raw"
n=$(seq 1 200000 | wc -c)
[ "$(head -c "$n" "$tmp/root.raw" | md5sum)" = "$(seq 1 200000 | md5sum)" ] || fail "disk contents differ from what the guest wrote"
echo "PASS: disk, network and rng"
