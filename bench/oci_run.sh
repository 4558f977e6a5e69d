#!/bin/sh
# Container start-up benchmark: `RUNTIME run` of /bin/true (busybox), N times
# for vessel-runtime, runc and crun, alternating, all under the same
# conditions: inside `unshare -m` with /sys/fs/cgroup/unified unmounted (crun
# 1.8 refuses this hybrid host otherwise). Prints, per runtime, the median,
# p10/p90 wall time, the median and max peak RSS (/usr/bin/time %M, KiB), and
# the ratios to crun and runc; plus a bare `unshare -fpmiun chroot` baseline.
#
#   sudo bench/oci_run.sh [N]          (default N=50)
#   VESSEL=/path/to/vessel-runtime bench/oci_run.sh
set -eu
N=${1:-${N:-50}}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
: "${VESSEL:=$src/build/vessel-runtime}"

if [ -z "${OCI_BENCH_INNER:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "oci_run.sh: needs root" >&2; exit 1; }
	# A private mount namespace: the umount below does not touch the host.
	exec unshare -m --propagation private env OCI_BENCH_INNER=1 VESSEL="$VESSEL" sh "$0" "$N"
fi
if mountpoint -q /sys/fs/cgroup/unified 2>/dev/null; then
	umount /sys/fs/cgroup/unified
fi

work=$(mktemp -d /tmp/vessel-bench-XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
mkdir -p "$rootfs/bin" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev" "$rootfs/tmp"
cp /bin/busybox "$rootfs/bin/busybox"
for a in sh true; do ln -s busybox "$rootfs/bin/$a"; done

runtimes=""
for r in "$VESSEL" "$(command -v runc || true)" "$(command -v crun || true)"; do
	[ -n "$r" ] && [ -x "$r" ] && runtimes="$runtimes $r"
done

# One config for all (from `runc spec`, so every runtime does the same work):
# non-terminal, /bin/true, cgroups under /vesselbench.
(cd "$work" && runc spec)
i=0
for r in $runtimes; do
	i=$((i + 1))
	mkdir -p "$work/b$i" "$work/root$i"
	jq --arg root "$rootfs" --arg cg "/vesselbench/r$i" \
		'.process.terminal = false | .process.args = ["/bin/true"] | .root.path = $root
		 | .linux.cgroupsPath = $cg' "$work/config.json" >"$work/b$i/config.json"
	: >"$work/t$i"
	: >"$work/m$i"
done
: >"$work/t0"
: >"$work/m0"

now_us() { echo $(($(date +%s%N) / 1000)); }

# One run of runtime number $1 ($2 = path); appends µs and KiB.
one() {
	t0=$(now_us)
	if ! /usr/bin/time -f %M -o "$work/rss" "$2" --root "$work/root$1" run --bundle "$work/b$1" "bench$1-$k" \
		</dev/null >/dev/null 2>"$work/err"; then
		echo "oci_run.sh: $2 failed: $(cat "$work/err")" >&2
		"$2" --root "$work/root$1" delete -f "bench$1-$k" >/dev/null 2>&1 || true
		return 1
	fi
	t1=$(now_us)
	echo $((t1 - t0)) >>"$work/t$1"
	tail -n1 "$work/rss" >>"$work/m$1"
}

k=0
while [ $k -lt "$N" ]; do
	i=0
	for r in $runtimes; do
		i=$((i + 1))
		one $i "$r" || true
	done
	t0=$(now_us)
	/usr/bin/time -f %M -o "$work/rss" unshare -fpmiun chroot "$rootfs" /bin/true
	t1=$(now_us)
	echo $((t1 - t0)) >>"$work/t0"
	tail -n1 "$work/rss" >>"$work/m0"
	k=$((k + 1))
done

# pct FILE P: the P-th percentile (nearest rank) of the numbers in FILE.
pct() {
	n=$(wc -l <"$1")
	[ "$n" -gt 0 ] || { echo 0; return; }
	r=$(((n * $2 + 99) / 100))
	[ $r -lt 1 ] && r=1
	sort -n "$1" | sed -n "${r}p"
}
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }'; }

crun_med=0
runc_med=0
i=0
for r in $runtimes; do
	i=$((i + 1))
	case "$(basename "$r")" in
	crun) crun_med=$(pct "$work/t$i" 50) ;;
	runc) runc_med=$(pct "$work/t$i" 50) ;;
	esac
done

echo "oci_run: $N x 'run /bin/true', alternating, in unshare -m without cgroup2 ($(uname -r), $(nproc) CPUs)"
printf '%-16s %6s %10s %10s %10s %12s %12s %9s %9s\n' runtime ok median_ms p10_ms p90_ms rss_med_KiB rss_max_KiB vs_crun vs_runc
i=0
for r in $runtimes; do
	i=$((i + 1))
	med=$(pct "$work/t$i" 50)
	if [ ! -s "$work/t$i" ]; then
		printf '%-16s %6s   (every run failed: %s)\n' "$(basename "$r")" 0 "$(head -c 200 "$work/err" | tr '\n' ' ')"
		continue
	fi
	printf '%-16s %6s %10s %10s %10s %12s %12s %9s %9s\n' "$(basename "$r")" "$(wc -l <"$work/t$i")" \
		"$(ms "$med")" "$(ms "$(pct "$work/t$i" 10)")" "$(ms "$(pct "$work/t$i" 90)")" \
		"$(pct "$work/m$i" 50)" "$(pct "$work/m$i" 100)" "$(ratio "$med" "$crun_med")" "$(ratio "$med" "$runc_med")"
done
med=$(pct "$work/t0" 50)
printf '%-16s %6s %10s %10s %10s %12s %12s %9s %9s\n' "unshare+chroot" "$(wc -l <"$work/t0")" \
	"$(ms "$med")" "$(ms "$(pct "$work/t0" 10)")" "$(ms "$(pct "$work/t0" 90)")" \
	"$(pct "$work/m0" 50)" "$(pct "$work/m0" 100)" "$(ratio "$med" "$crun_med")" "$(ratio "$med" "$runc_med")"
for d in /sys/fs/cgroup/*/vesselbench; do
	[ -d "$d" ] && find "$d" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
	[ -d "$d" ] && rmdir "$d" 2>/dev/null
done
exit 0
