#!/bin/sh
# Live migration benchmark: `vessel vm migrate` against QEMU 7.2's
# `migrate tcp:` (HMP monitor, TCG, -M virt), same kernel + initramfs,
# 1 hart, 256 MiB, on loopback. A chain of N migrations per case
# (A -> B -> C ...), medians of the total time and the downtime (source
# paused to destination running) each side reports:
#   idle:  a guest sitting at its shell prompt;
#   dirty: a guest rewriting a 64 MiB buffer for ever
#          (tests/integration/vm/migrate_dirty.c).
# Both sides get the same limits: max downtime 20 ms; QEMU's bandwidth cap
# is lifted (max-bandwidth 10G), since vessel has none.
# Downtime: vessel measures source paused -> destination running (its
# "running" message back); QEMU 7.2 reports source paused -> its last byte
# sent, which leaves out the destination's load and start. vessel's figure
# for that same span is shown as "src-side".
# vessel also runs postcopy (QEMU's needs a capability handshake on both
# ends; not compared).
#   disk:  the idle guest with a 64 MiB qcow2 disk full of data, moved with
#          `--disks copy` into a fresh image at each hop; QEMU 7.2: block
#          migration (`migrate -b`, deprecated in 8.1, gone in 9.1) into a
#          fresh image on its destination.
#
#   bench/migrate.sh [N]        (default 3)
#   VESSEL=path/to/vessel QEMU=path/to/qemu-system-riscv64 bench/migrate.sh
set -eu
N=${1:-${N:-3}}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
: "${VESSEL:=$top/build/vessel}"
: "${QEMU:=$(command -v qemu-system-riscv64 || true)}"
DOWNTIME_MS=${DOWNTIME_MS:-20}
QEMU_TIMEOUT_S=${QEMU_TIMEOUT_S:-120} # per QEMU migration; past it: cancelled, reported as not finished
die() {
	echo "migrate.sh: $*" >&2
	exit 1
}
[ -x "$VESSEL" ] || die "no $VESSEL (build first: make)"
command -v riscv64-linux-gnu-gcc >/dev/null || die "riscv64-linux-gnu-gcc missing (gcc-riscv64-linux-gnu)"
eval "$("$top/scripts/fetch-guest.sh" --quiet)"
work=$(mktemp -d "${TMPDIR:-/tmp}/vessel-migbench.XXXXXX")
pids=""
cleanup() {
	for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT INT TERM
riscv64-linux-gnu-gcc -O2 -static -nostdlib -ffreestanding -fno-stack-protector -fno-pic -no-pie \
	-o "$work/dirty" "$top/tests/integration/vm/migrate_dirty.c"
initrd=$("$top/scripts/mkinitramfs.sh" -o "$work/initrd.gz" --add "$work/dirty:/bin/dirty")
dirty_cmd=$(printf '/bin/dirty 64\n' | base64 -w0)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { # FILE PATTERN SECONDS
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le $(($3 * 10)) ] || return 1
		sleep 0.1
	done
}
median() { sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]; else print "-"}'; }

# ---- vessel ----
# disk case: a 64 MiB qcow2 full of data; fresh_disk FILE: an empty one
fresh_disk() { qemu-img create -q -f qcow2 "$1" 64M; }
if command -v qemu-img >/dev/null; then
	head -c 64M /dev/urandom >"$work/data.raw"
	qemu-img convert -O qcow2 "$work/data.raw" "$work/data.qcow2"
	rm -f "$work/data.raw"
fi
# vessel_chain CASE MODE APPEND: N hops; appends "total downtime" lines to $work/v-CASE-MODE
# (CASE disk: with a disk, copied)
vessel_chain() {
	out=$work/v-$1-$2
	: >"$out"
	vdisk=""
	mdisk=""
	if [ "$1" = disk ]; then
		cp "$work/data.qcow2" "$work/v0.qcow2"
		vdisk="--disk $work/v0.qcow2"
		mdisk="--disks copy"
	fi
	"$VESSEL" vm run --memory 256M --kernel "$VESSEL_GUEST_KERNEL" --initrd "$initrd" --api-socket "$work/v0.sock" \
		$vdisk --append "console=ttyS0 $3" </dev/null >"$work/v0.out" 2>&1 &
	cur=$!
	pids="$pids $cur"
	wait_for "$work/v0.out" "vessel-guest: ready" 300 || die "vessel guest did not boot"
	[ "$1" != dirty ] || wait_for "$work/v0.out" "dirty: running" 30 || die "dirty program did not start"
	sleep 2
	sock=$work/v0.sock
	for h in $(seq 1 "$N"); do
		port=$(free_port)
		[ -z "$vdisk" ] || { fresh_disk "$work/v$h.qcow2"; vdisk="--disk $work/v$h.qcow2"; }
		"$VESSEL" vm run --incoming "tcp:127.0.0.1:$port" --memory 256M --api-socket "$work/v$h.sock" \
			$vdisk </dev/null >"$work/v$h.out" 2>&1 &
		next=$!
		pids="$pids $next"
		wait_for "$work/v$h.out" "waiting for the migration" 30 || die "vessel destination did not listen"
		"$VESSEL" vm migrate --api-socket "$sock" --to "tcp:127.0.0.1:$port" --mode "$2" $mdisk \
			--max-downtime-ms "$DOWNTIME_MS" --wait --json >"$work/res" 2>/dev/null ||
			die "vessel migration $h ($1, $2) failed"
		python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["total_ms"], r["downtime_ms"], r["iterations"], r["bytes"], r["source_downtime_ms"])' \
			"$work/res" >>"$out"
		wait "$cur" || true
		cur=$next
		sock=$work/v$h.sock
		sleep 1
	done
	kill "$cur" 2>/dev/null || true
	wait "$cur" 2>/dev/null || true
}

# ---- QEMU ----
hmp() { # SOCKET COMMAND -> output
	python3 - "$1" "$2" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(10)
def until_prompt():
    buf = b""
    while not buf.endswith(b"(qemu) "):
        d = s.recv(65536)
        if not d:
            break
        buf += d
    return buf
until_prompt()
s.sendall(sys.argv[2].encode() + b"\n")
sys.stdout.write(until_prompt().decode(errors="replace"))
PY
}
qemu_run() { # NAME APPEND [extra args]
	name=$1
	append=$2
	shift 2
	"$QEMU" -M virt -m 256M -smp 1 -nographic -kernel "$VESSEL_GUEST_KERNEL" -initrd "$initrd" \
		-append "console=ttyS0 $append" -monitor "unix:$work/$name.mon,server,nowait" \
		-serial "file:$work/$name.out" "$@" </dev/null >/dev/null 2>"$work/$name.err" &
	qpid=$!
	pids="$pids $qpid"
}
qdrive() { # FILE: QEMU's arguments for a virtio-blk disk on FILE
	echo "-drive file=$1,if=none,id=d0,format=qcow2 -device virtio-blk-device,drive=d0"
}
qemu_chain() { # CASE APPEND (CASE disk: with a disk, block migration)
	out=$work/q-$1
	: >"$out"
	qargs=""
	mflag=""
	if [ "$1" = disk ]; then
		cp "$work/data.qcow2" "$work/q0.qcow2"
		qargs=$(qdrive "$work/q0.qcow2")
		mflag="-b"
	fi
	# shellcheck disable=SC2086
	qemu_run q0 "$2" $qargs
	cur=$qpid
	wait_for "$work/q0.out" "vessel-guest: ready" 300 || die "QEMU guest did not boot"
	[ "$1" != dirty ] || wait_for "$work/q0.out" "dirty: running" 30 || die "dirty program did not start (QEMU)"
	sleep 2
	mon=$work/q0.mon
	for h in $(seq 1 "$N"); do
		port=$(free_port)
		[ -z "$qargs" ] || { fresh_disk "$work/q$h.qcow2"; qargs=$(qdrive "$work/q$h.qcow2"); }
		# shellcheck disable=SC2086
		qemu_run "q$h" "$2" -incoming "tcp:127.0.0.1:$port" $qargs
		next=$qpid
		sleep 1
		hmp "$mon" "migrate_set_parameter downtime-limit $DOWNTIME_MS" >/dev/null
		hmp "$mon" "migrate_set_parameter max-bandwidth 10G" >/dev/null
		hmp "$mon" "migrate -d $mflag tcp:127.0.0.1:$port" >/dev/null
		i=0
		while :; do
			hmp "$mon" "info migrate" >"$work/info"
			grep -q "Migration status: completed" "$work/info" && break
			grep -q "Migration status: failed" "$work/info" && die "QEMU migration failed: $(cat "$work/info")"
			i=$((i + 1))
			[ $i -le $((QEMU_TIMEOUT_S * 10)) ] || break
			sleep 0.1
		done
		if ! grep -q "Migration status: completed" "$work/info"; then
			# a precopy that does not converge: say so, keep the other figures
			hmp "$mon" "migrate_cancel" >/dev/null
			echo "$1" >>"$work/q-dnf"
			kill "$next" 2>/dev/null || true
			wait "$next" 2>/dev/null || true
			break
		fi
		total=$(sed -n 's/.*total time: \([0-9]*\) ms.*/\1/p' "$work/info")
		down=$(sed -n 's/^downtime: \([0-9]*\) ms.*/\1/p' "$work/info")
		iters=$(sed -n 's/^dirty sync count: \([0-9]*\).*/\1/p' "$work/info")
		echo "$total $down $iters" >>"$out"
		kill "$cur" 2>/dev/null || true
		wait "$cur" 2>/dev/null || true
		cur=$next
		mon=$work/q$h.mon
		sleep 1
	done
	kill "$cur" 2>/dev/null || true
	wait "$cur" 2>/dev/null || true
}

CASES=${CASES:-idle dirty disk}
[ -f "$work/data.qcow2" ] || CASES=$(echo "$CASES" | sed 's/disk//')
for c in $CASES; do
	a=""
	[ "$c" != dirty ] || a="vessel.cmd=$dirty_cmd"
	vessel_chain "$c" precopy "$a"
	[ "$c" = disk ] || vessel_chain "$c" postcopy "$a"
done
if [ -n "$QEMU" ] && [ -x "$QEMU" ]; then
	for c in $CASES; do
		a=""
		[ "$c" != dirty ] || a="vessel.cmd=$dirty_cmd"
		qemu_chain "$c" "$a"
	done
else
	echo "migrate.sh: qemu-system-riscv64 not found: vessel only" >&2
fi

col() { cut -d' ' -f"$2" <"$1" | median; }
printf '\nlive migration, 256 MiB guest, loopback TCP, median of %s (max downtime %s ms)\n' "$N" "$DOWNTIME_MS"
case " $CASES " in *" disk "*) echo "(disk: the idle guest + a 64 MiB qcow2 disk of data, copied: vessel --disks copy, QEMU migrate -b)" ;; esac
printf '%-28s %10s %14s %14s %7s\n' "case" "total ms" "downtime ms" "src-side ms" "rounds"
for c in $CASES; do
	for m in precopy postcopy; do
		f=$work/v-$c-$m
		[ -f "$f" ] || continue
		printf '%-28s %10s %14s %14s %7s\n' "vessel $c $m" "$(col "$f" 1)" "$(col "$f" 2)" "$(col "$f" 5)" \
			"$(col "$f" 3)"
	done
	f=$work/q-$c
	if grep -qx "$c" "$work/q-dnf" 2>/dev/null; then
		printf '%-28s %s\n' "qemu 7.2 $c precopy" "did not finish within ${QEMU_TIMEOUT_S} s ($(wc -l <"$f") hops done before)"
		continue
	fi
	[ -f "$f" ] && printf '%-28s %10s %14s %14s %7s\n' "qemu 7.2 $c precopy" "$(col "$f" 1)" "-" "$(col "$f" 2)" \
		"$(col "$f" 3)"
done
for c in $CASES; do
	[ -f "$work/q-$c" ] || continue
	! grep -qx "$c" "$work/q-dnf" 2>/dev/null || continue
	vd=$(col "$work/v-$c-precopy" 5)
	qd=$(col "$work/q-$c" 2)
	vt=$(col "$work/v-$c-precopy" 1)
	qt=$(col "$work/q-$c" 1)
	awk -v c="$c" -v vd="$vd" -v qd="$qd" -v vt="$vt" -v qt="$qt" 'BEGIN {
		printf "%s precopy: src-side downtime vessel/qemu = %.2f, total vessel/qemu = %.2f\n", c, (qd ? vd / qd : 0), (qt ? vt / qt : 0) }'
done
