#!/bin/sh
# VM benchmark: `vessel vm run` against qemu-system-riscv64 -M virt (TCG),
# alternating runs under the same conditions, medians and ratios:
#   1. boot: Debian's riscv64 kernel + the project's initramfs, same firmware
#      (Debian's OpenSBI fw_dynamic.bin), 1 hart, 256 MiB, from process start
#      to the marker line "vessel-guest: ready" on the console (the guest
#      then powers off at once through the vessel.cmd hook);
#   2. CPU: a bare-metal CPU-bound program (bench/vm_cpu_guest.c: list walk,
#      matrix multiply, CRC-32, string scan, in S-mode under Sv39), wall time
#      of the whole process and guest time by mtime;
#   3. memory and idle CPU of an idle 256 MiB guest sitting at the shell
#      prompt: total RSS, RSS of the guest-RAM mapping (from
#      /proc/PID/smaps: the 256 MiB mapping), the rest = the VMM's own
#      overhead, and the host CPU it burns while idle (5 s of utime+stime).
#
#   bench/vm_boot.sh [N]          N runs of each (default 3)
#   VESSEL=path/to/vessel QEMU=path/to/qemu-system-riscv64 bench/vm_boot.sh
set -eu
N=${1:-${N:-3}}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
: "${VESSEL:=$top/build/vessel}"
: "${QEMU:=$(command -v qemu-system-riscv64 || true)}"
OPENSBI=${OPENSBI:-/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin}
ROUNDS=${ROUNDS:-400}
TIMEOUT=${TIMEOUT:-900}

die() {
	echo "vm_boot.sh: $*" >&2
	exit 1
}
[ -x "$VESSEL" ] || die "no $VESSEL (build first: make)"
[ -n "$QEMU" ] && [ -x "$QEMU" ] || die "qemu-system-riscv64 not found (package qemu-system-misc)"
[ -r "$OPENSBI" ] || die "$OPENSBI missing (package opensbi)"
command -v riscv64-linux-gnu-gcc >/dev/null || die "riscv64-linux-gnu-gcc missing (gcc-riscv64-linux-gnu)"

eval "$("$top/scripts/fetch-guest.sh" --quiet)"
work=$(mktemp -d "${TMPDIR:-/tmp}/vessel-vmbench.XXXXXX")
vm_pid=""
cleanup() {
	[ -z "$vm_pid" ] || kill "$vm_pid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
initrd=$("$top/scripts/mkinitramfs.sh" -o "$work/initramfs.cpio.gz")
hook=$(printf 'true\n' | base64 -w0)

# The CPU-bound guest program, with the runtime of the guest tests.
g=$top/tests/guest
riscv64-linux-gnu-gcc -march=rv64gc -mabi=lp64d -mcmodel=medany -nostdlib -nostartfiles \
	-ffreestanding -fno-builtin -fno-stack-protector -fno-pic -static -O2 -I"$g" \
	-DROUNDS="$ROUNDS" -Wl,-T,"$g/link.ld" -Wl,--build-id=none -Wl,--no-warn-rwx-segments \
	"$g/start.S" "$g/rt.c" "$here/vm_cpu_guest.c" -o "$work/cpu.elf"
riscv64-linux-gnu-objcopy -O binary "$work/cpu.elf" "$work/cpu.bin"

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# run_boot NAME CMD...: appends "ms_to_marker" to $work/boot.NAME
run_boot() {
	name=$1
	shift
	rm -f "$work/mark"
	t0=$(now_ms)
	timeout "$TIMEOUT" "$@" </dev/null 2>&1 |
		while IFS= read -r line; do
			case $line in
			*"vessel-guest: ready"*) now_ms >"$work/mark" ;;
			esac
		done
	[ -s "$work/mark" ] || die "$name: no marker line (boot failed)"
	echo $(($(cat "$work/mark") - t0)) >>"$work/boot.$name"
}

# run_cpu NAME CMD...: appends "wall_ms guest_ms" to $work/cpu.NAME
run_cpu() {
	name=$1
	shift
	t0=$(now_ms)
	timeout "$TIMEOUT" "$@" </dev/null >"$work/cpu.out" 2>&1 || die "$name: CPU program failed: $(tail -3 "$work/cpu.out")"
	t1=$(now_ms)
	sum=$(tr -d '\r' <"$work/cpu.out" | sed -n 's/^vm_cpu checksum \([^ ]*\) guest_ms \([0-9]*\)$/\1 \2/p')
	[ -n "$sum" ] || die "$name: CPU program printed no checksum"
	echo "${sum% *}" >>"$work/cpu.sums"
	echo "$((t1 - t0)) ${sum#* }" >>"$work/cpu.$name"
}

median() { # file column
	sort -n -k"$2","$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }'; }

echo "vm_boot: $N runs each, alternating; kernel $VESSEL_GUEST_KVER; $(nproc) host CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"
i=0
while [ "$i" -lt "$N" ]; do
	run_boot vessel "$VESSEL" vm run --bios "$OPENSBI" --kernel "$VESSEL_GUEST_KERNEL" --initrd "$initrd" \
		--memory 256M --append "console=ttyS0 quiet vessel.cmd=$hook"
	run_boot qemu "$QEMU" -M virt -m 256M -smp 1 -nographic -bios "$OPENSBI" -kernel "$VESSEL_GUEST_KERNEL" \
		-initrd "$initrd" -append "console=ttyS0 quiet vessel.cmd=$hook"
	run_cpu vessel "$VESSEL" vm run --bios "$work/cpu.bin" --memory 128M
	run_cpu qemu "$QEMU" -M virt -m 128M -smp 1 -nographic -bios "$work/cpu.bin"
	i=$((i + 1))
done
[ "$(sort -u "$work/cpu.sums" | wc -l)" = 1 ] || die "the CPU program's checksum differs between runs: $(sort -u "$work/cpu.sums" | tr '\n' ' ')"

bv=$(median "$work/boot.vessel" 1)
bq=$(median "$work/boot.qemu" 1)
cv=$(median "$work/cpu.vessel" 1)
cq=$(median "$work/cpu.qemu" 1)
gv=$(median "$work/cpu.vessel" 2)
gq=$(median "$work/cpu.qemu" 2)
printf '%-28s %12s %12s %10s\n' "" vessel qemu vessel/qemu
printf '%-28s %12s %12s %10s\n' "boot to marker (ms, median)" "$bv" "$bq" "$(ratio "$bv" "$bq")"
printf '%-28s %12s %12s %10s\n' "CPU program wall (ms)" "$cv" "$cq" "$(ratio "$cv" "$cq")"
printf '%-28s %12s %12s %10s\n' "CPU program guest (ms)" "$gv" "$gq" "$(ratio "$gv" "$gq")"

# Idle guest: boot to the shell, let it settle, then read /proc.
# measure_idle NAME CMD...: writes "rss_kib ram_rss_kib cpu_percent" to
# $work/idle.NAME
measure_idle() {
	name=$1
	shift
	rm -f "$work/in"
	mkfifo "$work/in"
	: >"$work/idle.out" # the job opens it only once the fifo has a writer
	"$@" <"$work/in" >"$work/idle.out" 2>&1 &
	vm_pid=$!
	exec 3>"$work/in"
	n=0
	until tr -d '\r' <"$work/idle.out" | grep -q 'vessel# '; do
		kill -0 "$vm_pid" 2>/dev/null || die "$name: idle guest died: $(tail -3 "$work/idle.out")"
		n=$((n + 1))
		[ "$n" -le "$TIMEOUT" ] || die "$name: no shell prompt"
		sleep 1
	done
	sleep 3
	ticks() { awk '{ print $14 + $15 }' "/proc/$vm_pid/stat"; }
	c0=$(ticks)
	sleep 5
	c1=$(ticks)
	hz=$(getconf CLK_TCK)
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$vm_pid/status")
	# the guest RAM: the (first) mapping whose size is exactly 256 MiB
	ram=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { inmap = 0 } /^Size: +262144 kB/ { if (!done) inmap = 1 } inmap && /^Rss:/ { print $2; inmap = 0; done = 1 }' "/proc/$vm_pid/smaps")
	printf 'poweroff -f\n' >&3
	exec 3>&-
	timeout 60 sh -c "while kill -0 $vm_pid 2>/dev/null; do sleep 0.2; done" || kill "$vm_pid" 2>/dev/null || true
	wait "$vm_pid" 2>/dev/null || true
	vm_pid=""
	echo "$rss ${ram:-0} $(awk -v a="$c0" -v b="$c1" -v hz="$hz" 'BEGIN { printf "%.1f", (b - a) * 100 / hz / 5 }')" >"$work/idle.$name"
}
measure_idle vessel "$VESSEL" vm run --bios "$OPENSBI" --kernel "$VESSEL_GUEST_KERNEL" \
	--initrd "$initrd" --memory 256M --append "console=ttyS0 quiet"
read -r vrss vram vcpu <"$work/idle.vessel"
measure_idle qemu "$QEMU" -M virt -m 256M -smp 1 -nographic -bios "$OPENSBI" \
	-kernel "$VESSEL_GUEST_KERNEL" -initrd "$initrd" -append "console=ttyS0 quiet"
read -r qrss qram qcpu <"$work/idle.qemu"
kib_mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
printf '%-28s %12s %12s\n' "idle 256M guest" vessel qemu
printf '%-28s %12s %12s\n' "  RSS total (MiB)" "$(kib_mib "$vrss")" "$(kib_mib "$qrss")"
printf '%-28s %12s %12s\n' "  guest RAM touched (MiB)" "$(kib_mib "$vram")" "$(kib_mib "$qram")"
printf '%-28s %12s %12s\n' "  VMM overhead (MiB)" "$(kib_mib $((vrss - vram)))" "$(kib_mib $((qrss - qram)))"
printf '%-28s %12s %12s\n' "  host CPU while idle (%)" "$vcpu" "$qcpu"
