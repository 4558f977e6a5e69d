#!/bin/sh
# Snapshots of a Linux guest, one boot (Debian's kernel + the project's
# initramfs) with a disk, user networking and the control API. The guest
# prints "T: n" every second from a `sleep 1` loop (timer driven: between
# ticks every hart sleeps in WFI) and runs commands typed on its console.
#   pause/resume: no tick while paused, the next one is n+1 (no jump);
#   snapshot of the IDLE guest, then of a BUSY one (a CPU-bound counter);
#   clean shutdown through the API (SysRq s/u/o: the kernel powers off);
#   restore of the idle snapshot: ticks continue from where they were (no
#     reset) and keep firing (restored timers, no WFI sleep forever), and
#     the console still runs commands;
#   restore of the busy snapshot: its counter continues; forced shutdown;
#   two clones side by side: own qcow2 overlays (backing = the disk), own
#     MACs, both keep ticking;
#   a changed disk: restore refused (clear error), --force-disks overrides.
# Exit status 0 pass, 1 fail, 77 skip (no guest artifacts).
set -u
VESSEL=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
guest=$("$top/scripts/fetch-guest.sh" --quiet) || { echo "SKIP: cannot fetch the guest"; exit 77; }
eval "$guest"
initrd=$("$top/scripts/mkinitramfs.sh") || exit 1
T=$(mktemp -d "${TMPDIR:-/tmp}/vessel-snapshot.XXXXXX")
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	exec 3>&- 4>&- 5>&- 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT INT TERM
fails=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; fails=$((fails + 1)); }
die() { bad "$1"; echo "FAIL"; exit 1; }

# wait_for FILE PATTERN SECONDS
wait_for() {
	i=0
	while [ $i -lt $(($3 * 10)) ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
last() { grep -a "^$2: [0-9]*" "$1" | tr -d '\r' | tail -1 | sed "s/^$2: //"; } # FILE PREFIX
api() { "$VESSEL" vm "$@"; }

cat >"$T/guest.sh" <<'GUEST'
busy() { j=0; while :; do j=$((j+1)); [ $((j % 3000)) = 0 ] && echo "B: $j"; done; }
( i=0; while :; do i=$((i+1)); echo "T: $i"; sleep 1; done ) &
echo "R: ready"
while read -r line; do eval "$line"; done
GUEST
cmd=$(base64 -w0 <"$T/guest.sh")
head -c 4194304 /dev/zero >"$T/disk.raw"
mkfifo "$T/in"
exec 3<>"$T/in"
"$VESSEL" vm run --kernel "$VESSEL_GUEST_KERNEL" --initrd "$initrd" --append "console=ttyS0 vessel.cmd=$cmd" \
	--disk "$T/disk.raw,format=raw" --net user --name snaptest --api-socket "$T/api.sock" \
	<"$T/in" >"$T/out" 2>&1 &
vm=$!
pids="$pids $vm"
wait_for "$T/out" "^T: 2" "${VESSEL_BOOT_TIMEOUT:-400}" || die "guest did not boot ($(tail -3 "$T/out"))"
ok "guest booted and ticks"

# pause / resume
api pause --api-socket "$T/api.sock" || bad "pause"
n=$(last "$T/out" T)
sleep 3
[ "$(last "$T/out" T)" = "$n" ] && ok "no tick while paused (T: $n)" || bad "ticks while paused: $n -> $(last "$T/out" T)"
api status --api-socket "$T/api.sock" | grep -q "state:   paused" && ok "status: paused" || bad "status not paused"
api resume --api-socket "$T/api.sock" || bad "resume"
wait_for "$T/out" "^T: $((n + 1))" 10 && ok "ticks continue after resume" || bad "no tick after resume"
sleep 1.2
grep -aq "^T: $((n + 3))" "$T/out" && bad "time jumped after the pause (T: $((n + 3)) came at once)" ||
	ok "guest time did not jump across the pause"

# idle snapshot (the VM keeps running, also while the file is written:
# the snapshot's tick is between the ones seen before and after)
idle_n0=$(last "$T/out" T)
api snapshot --api-socket "$T/api.sock" "$T/idle.snap" >"$T/snap1" || die "idle snapshot: $(cat "$T/snap1")"
idle_n=$(last "$T/out" T)
ok "idle snapshot at T: $idle_n0..$idle_n: $(cat "$T/snap1")"
# busy snapshot: a CPU-bound counter runs
echo "busy &" >&3
wait_for "$T/out" "^B: " 60 || bad "busy counter did not start"
# (staying paused, so the counter read now is the snapshot's)
api snapshot --paused --api-socket "$T/api.sock" "$T/busy.snap" >"$T/snap2" || die "busy snapshot: $(cat "$T/snap2")"
sleep 0.3
busy_n=$(last "$T/out" B)
api resume --api-socket "$T/api.sock" || bad "resume after snapshot --paused"
ok "busy snapshot at B: $busy_n: $(cat "$T/snap2")"

# clean shutdown through the guest
api shutdown --api-socket "$T/api.sock" --timeout 60 || bad "shutdown request"
i=0
while kill -0 $vm 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
wait $vm
rc=$?
[ $rc = 0 ] && grep -aq "reboot: Power down" "$T/out" && ! grep -aq "did not power off" "$T/out" &&
	ok "clean shutdown (guest powered off, exit 0)" || bad "shutdown: exit $rc, $(tail -3 "$T/out")"
exec 3>&-

# restore the idle snapshot: same ticker, continuing, with a live console
mkfifo "$T/in2"
exec 4<>"$T/in2"
"$VESSEL" vm run -v --restore "$T/idle.snap" --api-socket "$T/api2.sock" <"$T/in2" >"$T/out2" 2>"$T/err2" &
r=$!
pids="$pids $r"
wait_for "$T/out2" "^T: " 20 || bad "restored idle guest prints no tick ($(tail -2 "$T/err2"))"
first=$(grep -a "^T: " "$T/out2" | head -1 | tr -d '\r' | sed 's/^T: //')
[ "${first:-0}" -gt 1 ] && [ "$first" -ge "$idle_n0" ] && [ "$first" -le $((idle_n + 1)) ] &&
	ok "restored idle guest continues at T: $first (snapshot between $idle_n0 and $idle_n)" ||
	bad "idle restore: first tick $first, snapshot between $idle_n0 and $idle_n"
sleep 4
now=$(last "$T/out2" T)
[ "${now:-0}" -ge $((first + 3)) ] && ok "timers keep firing after restore (T: $first -> $now in 4 s)" ||
	bad "timers after restore: T: $first -> $now"
echo 'echo "R: console $((6*7))"' >&4
wait_for "$T/out2" "R: console 42" 20 && ok "console works after restore" || bad "console after restore"
grep -q "restore: guest running" "$T/err2" && ok "$(grep -o "restore: guest running.*" "$T/err2")" || bad "no restore figure"
api shutdown --api-socket "$T/api2.sock" --timeout 0 >/dev/null
wait $r
exec 4>&-

# restore the busy snapshot: its counter continues; forced shutdown
"$VESSEL" vm run --restore "$T/busy.snap" --api-socket "$T/api3.sock" </dev/null >"$T/out3" 2>&1 &
r=$!
pids="$pids $r"
wait_for "$T/out3" "^B: " 30 || bad "restored busy guest prints nothing"
b1=$(grep -a "^B: " "$T/out3" | head -1 | tr -d '\r' | sed 's/^B: //')
# (+6000 if the snapshot caught the guest in the middle of writing a line)
[ "${b1:-0}" -eq $((busy_n + 3000)) ] || [ "${b1:-0}" -eq $((busy_n + 6000)) ] && ok "busy counter continues at B: $b1 (snapshot at $busy_n)" ||
	bad "busy restore: first B: $b1, snapshot at $busy_n"
api shutdown --api-socket "$T/api3.sock" --timeout 0 >/dev/null && wait $r && ok "forced shutdown (timeout 0)" || bad "forced shutdown"

# two clones side by side
(cd "$T" && "$VESSEL" vm clone "$T/idle.snap" c1 --api-socket "$T/c1.sock" </dev/null >"$T/c1.out" 2>&1) &
c1=$!
(cd "$T" && "$VESSEL" vm clone "$T/idle.snap" c2 --api-socket "$T/c2.sock" </dev/null >"$T/c2.out" 2>&1) &
c2=$!
pids="$pids $c1 $c2"
wait_for "$T/c1.out" "^T: " 20 && wait_for "$T/c2.out" "^T: " 20 || bad "clones do not run ($(tail -2 "$T/c1.out"))"
sleep 3
[ -f "$T/c1-vda.qcow2" ] && [ -f "$T/c2-vda.qcow2" ] && ok "clones have their own overlays" || bad "overlays: $(ls "$T")"
qemu-img info -U "$T/c1-vda.qcow2" 2>/dev/null | grep -q "backing file: $T/disk.raw" && ok "overlay backing file is the snapshot's disk" ||
	{ command -v qemu-img >/dev/null && bad "overlay backing: $(qemu-img info -U "$T/c1-vda.qcow2" 2>&1)"; }
m1=$(api status --json --api-socket "$T/c1.sock" | python3 -c 'import json,sys; print(json.load(sys.stdin)["devices"]["net0"]["mac"])')
m2=$(api status --json --api-socket "$T/c2.sock" | python3 -c 'import json,sys; print(json.load(sys.stdin)["devices"]["net0"]["mac"])')
[ -n "$m1" ] && [ "$m1" != "$m2" ] && ok "clones have their own MACs ($m1, $m2)" || bad "MACs: $m1 $m2"
[ "$(last "$T/c1.out" T)" -ge $((idle_n0 + 2)) ] && [ "$(last "$T/c2.out" T)" -ge $((idle_n0 + 2)) ] &&
	ok "both clones tick side by side" || bad "clone ticks: $(last "$T/c1.out" T) $(last "$T/c2.out" T)"
api shutdown --api-socket "$T/c1.sock" --timeout 0 >/dev/null
api shutdown --api-socket "$T/c2.sock" --timeout 0 >/dev/null
wait $c1 $c2

# a changed disk is refused
printf 'x' | dd of="$T/disk.raw" bs=1 seek=100 conv=notrunc 2>/dev/null
timeout 30 "$VESSEL" vm run --restore "$T/idle.snap" </dev/null >"$T/out4" 2>&1
[ $? = 1 ] && grep -q "is not the image the snapshot was taken with.*modified" "$T/out4" &&
	ok "changed disk refused: $(tail -1 "$T/out4" | cut -c1-150)..." || bad "changed disk: $(tail -2 "$T/out4")"
"$VESSEL" vm run --restore "$T/idle.snap" --force-disks --api-socket "$T/api5.sock" </dev/null >"$T/out5" 2>&1 &
r=$!
pids="$pids $r"
wait_for "$T/out5" "^T: " 20 && ok "--force-disks restores anyway" || bad "--force-disks: $(tail -2 "$T/out5")"
api shutdown --api-socket "$T/api5.sock" --timeout 0 >/dev/null
wait $r

[ $fails = 0 ] && echo "PASS" || echo "FAIL: $fails"
[ $fails = 0 ]
