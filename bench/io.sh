#!/bin/sh
# Paravirtual I/O benchmark: `vessel vm run` against qemu-system-riscv64
# -M virt (TCG) on the same guest (the pulled Debian kernel + initramfs,
# `vessel image pull debian`), the same fresh disk images and the same
# user-mode network (libslirp in both), runs alternating, medians and the
# ratio vessel/QEMU (above 1: vessel is faster).
#   disk: dd in the guest with O_DIRECT (no guest page cache), 1 MiB blocks,
#         sequential write then read of DISK_MB MiB, on a raw file and on a
#         fresh qcow2 (every write allocates clusters); host default caching
#         in both (QEMU cache=writeback, vessel's page-cache I/O);
#   net:  guest <- host: busybox wget of a NET_MB MiB file from a python3
#         http.server on the host's loopback (reached as 10.0.2.2);
#         guest -> host: NET_MB/2 MiB piped into busybox nc to a host sink;
#         the same over TAP (a tap device with the host at 192.168.77.1)
#         when run as root: the whole benchmark then runs in a private
#         network namespace (unshare -n), so nothing touches the host's
#         network.
# Times come from the guest's /proc/uptime (10 ms resolution: 256 MiB disk
# transfers take 0.3-2 s, so disk figures carry a few % of rounding).
#
#   bench/io.sh [N]        N rounds (default 2), each boots both VMMs (twice with TAP)
#   VESSEL=... QEMU=... DISK_MB=256 NET_MB=32 bench/io.sh   (DISK_MB <= 256)
set -eu
N=${1:-${N:-2}}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
: "${VESSEL:=$top/build/vessel}"
: "${QEMU:=$(command -v qemu-system-riscv64 || true)}"
DISK_MB=${DISK_MB:-256}
NET_MB=${NET_MB:-32}
TIMEOUT=${TIMEOUT:-600}

die() {
	echo "io.sh: $*" >&2
	exit 1
}
[ -x "$VESSEL" ] || die "no $VESSEL (build first: make)"
[ -n "$QEMU" ] && [ -x "$QEMU" ] || die "qemu-system-riscv64 not found (package qemu-system-misc)"
command -v python3 >/dev/null || die "python3 missing"

if [ -z "${VESSEL_IOBENCH_NETNS:-}" ]; then
	pull_log=$(mktemp "${TMPDIR:-/tmp}/vessel-iobench-pull.XXXXXX")
	"$VESSEL" image pull debian >"$pull_log" 2>&1 || { cat "$pull_log"; rm -f "$pull_log"; die "vessel image pull debian failed"; }
	rm -f "$pull_log"
	# As root, the rest runs in a private network namespace (for TAP).
	if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && unshare -n true 2>/dev/null; then
		VESSEL_IOBENCH_NETNS=1 exec unshare -n sh "$0" "$@"
	fi
fi
TAP=0
if [ -n "${VESSEL_IOBENCH_NETNS:-}" ]; then
	ip link set lo up
	TAP=1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/vessel-iobench.XXXXXX")
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

dir=${XDG_CACHE_HOME:-$HOME/.cache}/vessel/images/debian
kernel=$dir/Image
initrd=$dir/initrd.img

# host side: an HTTP server with the download, a TCP sink for the upload
mkdir "$work/www"
head -c $((NET_MB << 20)) /dev/urandom >"$work/www/b"
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
http_port=$(free_port)
sink_port=$(free_port)
bind=127.0.0.1
[ "$TAP" = 0 ] || bind=0.0.0.0 # the private namespace's: loopback and the tap
python3 -m http.server "$http_port" --bind "$bind" --directory "$work/www" >/dev/null 2>&1 &
pids="$pids $!"
python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[2], int(sys.argv[1])))
s.listen(4)
while True:
    c, _ = s.accept()
    while c.recv(1 << 16):
        pass
    c.close()
' "$sink_port" "$bind" &
pids="$pids $!"
i=0
until curl -s -o /dev/null "http://127.0.0.1:$http_port/"; do
	i=$((i + 1))
	[ $i -lt 100 ] || die "the host HTTP server did not start"
	sleep 0.1
done

# The guest: finds the raw disk (256 MiB) and the qcow2 (384 MiB) by size
# (the two VMMs enumerate virtio-mmio slots in opposite orders), then
# prints "R: NAME SECONDS" per transfer.
up_mb=$((NET_MB / 2))
# (the kernel's command line holds 1024 bytes on riscv: keep this short;
# the host computes the durations from "R: NAME START END")
script=$(
	cat <<EOF
t(){ cut -d' ' -f1 /proc/uptime;}
for d in /sys/block/vd*;do case \$(cat \$d/size) in 524288)r=\${d##*/};;786432)q=\${d##*/};;esac;done
for k in r q;do eval v=/dev/\\\$\$k
a=\$(t);dd if=/dev/zero of=\$v bs=1M count=$DISK_MB oflag=direct 2>/dev/null||echo R: error;echo R: \$k-write \$a \$(t)
a=\$(t);dd if=\$v of=/dev/null bs=1M count=$DISK_MB iflag=direct 2>/dev/null||echo R: error;echo R: \$k-read \$a \$(t)
done
ip l set eth0 up;ip a add 10.0.2.15/24 dev eth0
a=\$(t);wget -qO/dev/null http://10.0.2.2:$http_port/b||echo R: error;echo R: net-down \$a \$(t)
a=\$(t);head -c $((up_mb << 20)) /dev/zero|nc 10.0.2.2 $sink_port||echo R: error;echo R: net-up \$a \$(t)
EOF
)
cmd=$(printf '%s\n' "$script" | base64 -w0)
append="console=ttyS0 quiet vessel.cmd=$cmd"

run() { # ENGINE ROUND: appends "engine test seconds" lines to $work/results
	eng=$1
	raw=$work/$eng-$2.raw
	qcow=$work/$eng-$2.qcow2
	rm -f "$raw" "$qcow"
	truncate -s 256M "$raw"
	"$VESSEL" image create "$qcow" 384M >/dev/null
	out=$work/$eng-$2.out
	set +e
	if [ "$eng" = vessel ]; then
		timeout "$TIMEOUT" "$VESSEL" vm run --kernel "$kernel" --initrd "$initrd" --memory 256M \
			--disk "$raw,format=raw" --disk "$qcow,format=qcow2" --net user --append "$append" \
			</dev/null >"$out" 2>&1
	else
		timeout "$TIMEOUT" "$QEMU" -M virt -m 256M -nographic -bios default -no-reboot \
			-kernel "$kernel" -initrd "$initrd" -append "$append" \
			-drive file="$raw",format=raw,if=none,id=d0 -device virtio-blk-device,drive=d0 \
			-drive file="$qcow",format=qcow2,if=none,id=d1 -device virtio-blk-device,drive=d1 \
			-netdev user,id=n0 -device virtio-net-device,netdev=n0 </dev/null >"$out" 2>&1
	fi
	rc=$?
	set -e
	rm -f "$raw" "$qcow"
	record "$eng" "$2" "$out" "$rc" 6
}

record() { # ENGINE ROUND OUTPUT STATUS NLINES: checks a run, keeps its times
	tr -d '\r' <"$3" >"$3.txt"
	if [ "$4" != 0 ] || grep -q '^R: error' "$3.txt" || [ "$(grep -c '^R: ' "$3.txt")" != "$5" ]; then
		tail -n 20 "$3.txt" >&2
		die "$1 run $2 failed (exit status $4)"
	fi
	sed -n "s/^R: \([a-z-]*\) \([0-9.]*\) \([0-9.]*\)\$/$1 \1 \2 \3/p" "$3.txt" |
		awk '{ printf "%s %s %.2f\n", $1, $2, $4 - $3 }' >>"$work/results"
}

# TAP: the host end of the tap gets 192.168.77.1 once the VMM created it
tap_script=$(
	cat <<EOF
t(){ cut -d' ' -f1 /proc/uptime;}
ip l set eth0 up;ip a add 192.168.77.2/24 dev eth0
i=0;until ping -c1 -W1 192.168.77.1 >/dev/null 2>&1||[ \$i -gt 30 ];do i=\$((i+1));done
a=\$(t);wget -qO/dev/null http://192.168.77.1:$http_port/b||echo R: error;echo R: tap-down \$a \$(t)
a=\$(t);head -c $((up_mb << 20)) /dev/zero|nc 192.168.77.1 $sink_port||echo R: error;echo R: tap-up \$a \$(t)
EOF
)
tap_append="console=ttyS0 quiet vessel.cmd=$(printf '%s\n' "$tap_script" | base64 -w0)"

run_tap() { # ENGINE ROUND
	eng=$1
	tap=${eng}tap0
	(
		i=0
		until ip link show "$tap" >/dev/null 2>&1; do
			i=$((i + 1))
			[ "$i" -lt 600 ] || exit 1
			sleep 0.1
		done
		ip addr add 192.168.77.1/24 dev "$tap"
		ip link set "$tap" up
	) &
	cfg=$!
	out=$work/$eng-tap-$2.out
	set +e
	if [ "$eng" = vessel ]; then
		timeout "$TIMEOUT" "$VESSEL" vm run --kernel "$kernel" --initrd "$initrd" --memory 256M \
			--net "tap:$tap" --append "$tap_append" </dev/null >"$out" 2>&1
	else
		timeout "$TIMEOUT" "$QEMU" -M virt -m 256M -nographic -bios default -no-reboot \
			-kernel "$kernel" -initrd "$initrd" -append "$tap_append" \
			-netdev tap,id=n0,ifname="$tap",script=no,downscript=no \
			-device virtio-net-device,netdev=n0 </dev/null >"$out" 2>&1
	fi
	rc=$?
	set -e
	kill "$cfg" 2>/dev/null || true
	wait "$cfg" 2>/dev/null || true
	ip link del "$tap" 2>/dev/null || true
	record "$eng" "$2" "$out" "$rc" 2
}

echo "guest: $(sed -n 's/^kernel_package=//p' "$dir/manifest"), 256 MiB, 1 hart; disk $DISK_MB MiB O_DIRECT, net $NET_MB MiB down / $up_mb MiB up"
echo "vessel: $VESSEL"
echo "qemu:   $($QEMU --version | head -n 1)"
r=1
while [ "$r" -le "$N" ]; do
	if [ $((r % 2)) = 1 ]; then
		run vessel "$r"
		run qemu "$r"
		[ "$TAP" = 0 ] || { run_tap vessel "$r"; run_tap qemu "$r"; }
	else
		run qemu "$r"
		run vessel "$r"
		[ "$TAP" = 0 ] || { run_tap qemu "$r"; run_tap vessel "$r"; }
	fi
	echo "round $r of $N done"
	r=$((r + 1))
done

median() { # ENGINE TEST
	awk -v e="$1" -v t="$2" '$1 == e && $2 == t { print $3 }' "$work/results" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
printf '\n%-22s %12s %12s %8s\n' "guest MB/s (median)" vessel qemu ratio
tests="r-write r-read q-write q-read net-down net-up"
[ "$TAP" = 0 ] || tests="$tests tap-down tap-up"
for t in $tests; do
	case $t in
	net-down | tap-down) mb=$NET_MB ;;
	net-up | tap-up) mb=$up_mb ;;
	*) mb=$DISK_MB ;;
	esac
	v=$(median vessel "$t")
	q=$(median qemu "$t")
	awk -v t="$t" -v mb="$mb" -v v="$v" -v q="$q" 'BEGIN {
		bytes = mb * 1048576
		vr = v > 0 ? bytes / v / 1e6 : 0
		qr = q > 0 ? bytes / q / 1e6 : 0
		name = t
		sub(/^r-/, "raw ", name)
		sub(/^q-/, "qcow2 ", name)
		sub(/^net-/, "user net ", name)
		sub(/^tap-/, "tap net ", name)
		printf "%-22s %12.1f %12.1f %8.2f\n", name, vr, qr, (qr > 0 ? vr / qr : 0)
	}'
done
