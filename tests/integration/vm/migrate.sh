#!/bin/sh
# Live migration end to end (docs/migration.md), between `vessel vm run`
# processes on this host. A guest keeps a counter in memory, prints it on
# its console, writes it to its qcow2 disk (fsync'd) and, every 0.3 s,
# sends a numbered line over ONE TCP connection it opened through user
# networking (libslirp) to a server on the host, which answers each line
# on that connection; the guest prints the answers. The connection must
# survive every move (our patched libslirp plus the host socket handed
# over between the processes, docs/migration.md). It is moved while it
# runs:
#   idle guest:       precopy A->B, postcopy B->C;
#   failures on C:    a destination that dies mid-precopy, a proxy that
#                     corrupts the stream, one that truncates it: the
#                     destination exits non-zero with an error, C runs on;
#   dirtying guest:   (a program rewriting a 64 MiB buffer) precopy D->E
#                     (auto-converge), postcopy E->F.
# Checks: the counter continues on each destination without a gap or a
# reset; the host server saw exactly one connection, never closed before
# the guest powered off, and received lines 1, 2, 3, ... with none lost or
# repeated, up to after the last move; the guest printed the server's
# answers 1, 2, 3, ... the same way and never had to reconnect; qemu-img
# check is clean and the disk holds every record written.
# Exit status 0 pass, 1 fail, 77 skip (no guest artifacts, no tools).
set -eu
VESSEL=$1
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
for t in qemu-img riscv64-linux-gnu-gcc python3; do
	command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
guest=$("$top/scripts/fetch-guest.sh" --quiet) || { echo "SKIP: cannot fetch the guest"; exit 77; }
eval "$guest"
. "$here/lib.sh"
vm_test_init migrate
helper="python3 $here/migrate_helper.py"

riscv64-linux-gnu-gcc -O2 -static -nostdlib -ffreestanding -fno-stack-protector -fno-pic -no-pie \
	-o "$tmp/dirty" "$here/migrate_dirty.c"
initrd=$("$top/scripts/mkinitramfs.sh" -o "$tmp/initrd.gz" --add "$tmp/dirty:/bin/dirty")
MEM=256M


# start_source NAME DISK LOGPORT APPEND_EXTRA
# The guest's script travels on the kernel command line (base64, at most
# about 1000 characters there): no comments inside. Its TCP client sends
# numbered lines with the counter to the host and echoes the host's
# answers to the console (one echo per line: no torn lines); a dropped
# connection shows as "N: reconnect" (the test fails on it).
start_source() {
	cat >"$tmp/$1.guest" <<GUEST
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
if grep -q vessel.dirty /proc/cmdline; then /bin/dirty 64 & fi
echo 0 >/tmp/count
(while :; do
	(s=0; while :; do s=\$((s + 1)); echo "T: \$s \$(cat /tmp/count)"; sleep 0.3; done) |
		nc 10.0.2.2 $3 2>/dev/null | while read -r l; do echo "\$l"; done
	echo "N: reconnect"
	sleep 0.5
done) &
i=0
while [ \$i -lt 1000000 ]; do
	i=\$((i + 1))
	echo "C: \$i"
	echo \$i >/tmp/count
	printf '%08d\n' \$i | dd of=/dev/vda bs=9 seek=\$i conv=notrunc,fsync 2>/dev/null
	sleep 0.1
done
GUEST
	cmd=$(base64 -w0 <"$tmp/$1.guest")
	"$VESSEL" vm run --memory $MEM --kernel "$VESSEL_GUEST_KERNEL" --initrd "$initrd" --disk "$2" --net user \
		--api-socket "$tmp/$1.sock" --append "console=ttyS0 vessel.cmd=$cmd $4" </dev/null \
		>"$tmp/$1.out" 2>"$tmp/$1.err" &
	eval "pid_$1=$!"
	pids="$pids $!"
}

# start_dest NAME DISK PORT
start_dest() {
	"$VESSEL" vm run --incoming "tcp:127.0.0.1:$3" --memory $MEM --disk "$2" --net user \
		--api-socket "$tmp/$1.sock" </dev/null >"$tmp/$1.out" 2>"$tmp/$1.err" &
	eval "pid_$1=$!"
	pids="$pids $!"
	wait_for "$tmp/$1.err" "waiting for the migration" 30 || fail "$1 did not listen"
}

# hop SRC DST DISK MODE: migrate SRC to a new destination DST
hop() {
	port=$(free_port)
	start_dest "$2" "$3" "$port"
	before=$(last_counter "$tmp/$1.out")
	timeout 120 "$VESSEL" vm migrate --api-socket "$tmp/$1.sock" --to "tcp:127.0.0.1:$port" --mode "$4" \
		--wait >"$tmp/$1-$2.hop" 2>"$tmp/$1-$2.progress" || fail "migrate $1 -> $2 ($4): $(cat "$tmp/$1-$2.hop")"
	echo "$1 -> $2: $(cat "$tmp/$1-$2.hop")"
	eval "p=\$pid_$1"
	st=0
	wait_exit "$p" 30 || st=$?
	[ "$st" = 0 ] || fail "source $1 exited $st after the migration"
	grep -q "migrated ($4)" "$tmp/$1.err" || fail "source $1 did not report the migration"
	wait_counter "$tmp/$2.out" $((before + 3)) 60 || fail "the counter does not continue on $2"
	moved_at=$(last_counter "$tmp/$2.out")
}

# check_guest DISK LOG FILES...: console continuity, TCP, disk
check_guest() {
	disk=$1
	log=$2
	shift 2
	cat "$@" | tr -d '\r' >"$tmp/console"
	python3 - "$tmp/console" "$log" "$moved_at" <<'PY' || fail "continuity or the TCP connection (see above)"
import re, sys
cons = [int(x) for x in re.findall(r"^C: (\d+)$", open(sys.argv[1]).read(), re.M)]
if not cons or cons != list(range(1, len(cons) + 1)):
    bad = next((i for i in range(1, len(cons)) if cons[i] != cons[i - 1] + 1), None)
    sys.exit("console counter not consecutive: %s" % cons[max(0, (bad or 0) - 3):(bad or 0) + 3])
con = open(sys.argv[1]).read()
if re.search(r"^N: reconnect", con, re.M):
    sys.exit("the guest's TCP connection to the host broke (it reconnected)")
log = [l for l in open(sys.argv[2]).read().split("\n") if l]
conns = [l for l in log if l.startswith("conn ")]
if conns != ["conn 1"]:
    sys.exit("the host server saw %d connections, not one" % len(conns))
closed = [i for i, l in enumerate(log) if l.startswith("closed ")]
if closed and closed[0] != len(log) - 1:
    sys.exit("the host saw the connection close before the guest powered off: %s" % log[closed[0] - 2:closed[0] + 2])
# "T: SEQ COUNT"; COUNT is empty when the guest read /tmp/count while its
# counter loop was rewriting it
tcp = [(int(f[1]), int(f[2]) if len(f) > 2 else 0) for f in (l.split() for l in log if l.startswith("T: "))]
seqs = [t[0] for t in tcp]
if seqs != list(range(1, len(seqs) + 1)):
    bad = next((i for i in range(len(seqs)) if seqs[i] != i + 1), 0)
    sys.exit("lines the host received are not 1, 2, 3, ... (lost or repeated): %s" % seqs[max(0, bad - 3):bad + 3])
moved_at = int(sys.argv[3])
after = [s for s, c in tcp if c > moved_at]
if not after:
    sys.exit("no line reached the host over TCP after the last move (at %d): %s" % (moved_at, tcp[-3:]))
echo = [int(x) for x in re.findall(r"^E: (\d+)$", con, re.M)]
if echo != list(range(1, len(echo) + 1)):
    bad = next((i for i in range(len(echo)) if echo[i] != i + 1), 0)
    sys.exit("answers the guest received are not 1, 2, 3, ...: %s" % echo[max(0, bad - 3):bad + 3])
if not echo or echo[-1] < after[0]:
    sys.exit("no answer reached the guest after the last move (line %d): last %s" % (after[0], echo[-1:]))
print("console: %d consecutive counters; TCP: one connection, lines 1..%d in order, answers 1..%d; "
      "line %d was sent after the last move (at %d)" % (len(cons), len(seqs), len(echo), after[0], moved_at))
PY
	n=$(last_counter "$tmp/console")
	qemu-img check -q "$disk" || fail "qemu-img check $disk"
	qemu-img convert -O raw "$disk" "$tmp/disk.raw"
	python3 - "$tmp/disk.raw" "$n" <<'PY' || fail "disk contents"
import sys
d = open(sys.argv[1], "rb").read()
n = int(sys.argv[2])
# the last record may have been cut by the power-off
for i in range(1, n - 1):
    rec = d[9 * i:9 * i + 9]
    if rec != b"%08d\n" % i:
        sys.exit("record %d on disk is %r" % (i, rec))
print("disk: records 1..%d intact" % (n - 2))
PY
}

shutdown_vm() {
	"$VESSEL" vm shutdown --api-socket "$tmp/$1.sock" --timeout 30 >/dev/null 2>&1 || true
	eval "p=\$pid_$1"
	wait_exit "$p" 60 || [ $? != 124 ] || fail "$1 did not power off"
}

# ---- the idle guest ----
$helper server "$tmp/srv1.port" "$tmp/srv1.log" &
pids="$pids $!"
wait_for "$tmp/srv1.port" . 10 || fail "TCP server"
"$VESSEL" image create "$tmp/disk1.qcow2" 16M >/dev/null
start_source A "$tmp/disk1.qcow2" "$(cat "$tmp/srv1.port")" ""
wait_counter "$tmp/A.out" 5 "${VESSEL_BOOT_TIMEOUT:-300}" || fail "guest A did not start counting"
hop A B "$tmp/disk1.qcow2" precopy
hop B C "$tmp/disk1.qcow2" postcopy

# ---- failures: C must run on ----
# a destination that dies in the middle of precopy
$helper fake-dest "$tmp/fake.port" 2000000 &
wait_for "$tmp/fake.port" . 10 || fail "fake destination"
if "$VESSEL" vm migrate --api-socket "$tmp/C.sock" --to "tcp:127.0.0.1:$(cat "$tmp/fake.port")" --wait \
	>"$tmp/f1.out" 2>&1; then fail "migrating to a dying destination succeeded"; fi
echo "dying destination: $(tail -1 "$tmp/f1.out")"
"$VESSEL" vm status --api-socket "$tmp/C.sock" | grep -q "state: *running" || fail "C is not running after the failure"
curl -s --unix-socket "$tmp/C.sock" http://vm/vm/migration >"$tmp/f1.json"
grep -q '"status": *"failed"' "$tmp/f1.json" && grep -q '"error"' "$tmp/f1.json" ||
	fail "GET /vm/migration after the failure: $(cat "$tmp/f1.json")"
# a corrupted and a truncated stream: the real destination refuses it
for mode in corrupt truncate; do
	dport=$(free_port)
	start_dest "X$mode" "$tmp/disk1.qcow2" "$dport"
	rm -f "$tmp/proxy.port"
	$helper proxy "$tmp/proxy.port" "$dport" $mode 3000000 &
	pids="$pids $!"
	wait_for "$tmp/proxy.port" . 10 || fail "proxy"
	before=$(last_counter "$tmp/C.out")
	if "$VESSEL" vm migrate --api-socket "$tmp/C.sock" --to "tcp:127.0.0.1:$(cat "$tmp/proxy.port")" --wait \
		>"$tmp/f-$mode.out" 2>&1; then fail "a $mode stream was accepted"; fi
	eval "p=\$pid_X$mode"
	st=0
	wait_exit "$p" 30 || st=$?
	[ "$st" != 124 ] || fail "the destination of a $mode stream did not exit"
	[ "$st" != 0 ] || fail "the destination of a $mode stream exited 0"
	echo "$mode stream: destination exited $st: $(grep -v waiting "$tmp/X$mode.err" | tail -1)"
	grep -q "incoming migration" "$tmp/X$mode.err" || fail "no clear error from the destination ($mode)"
	wait_counter "$tmp/C.out" $((before + 3)) 60 || fail "C stopped counting after the $mode stream"
done
grep -q "vessel-guest: exit" "$tmp/C.out" && fail "the guest program on C ended"
moved_at=$(last_counter "$tmp/C.out")
wait_counter "$tmp/C.out" $((moved_at + 30)) 60 || fail "C stopped counting"
shutdown_vm C
check_guest "$tmp/disk1.qcow2" "$tmp/srv1.log" "$tmp/A.out" "$tmp/B.out" "$tmp/C.out"

# ---- the memory-dirtying guest ----
$helper server "$tmp/srv2.port" "$tmp/srv2.log" &
pids="$pids $!"
wait_for "$tmp/srv2.port" . 10 || fail "TCP server"
"$VESSEL" image create "$tmp/disk2.qcow2" 16M >/dev/null
start_source D "$tmp/disk2.qcow2" "$(cat "$tmp/srv2.port")" vessel.dirty
wait_counter "$tmp/D.out" 5 "${VESSEL_BOOT_TIMEOUT:-300}" || fail "guest D did not start counting"
grep -q "dirty: running" "$tmp/D.out" || fail "the dirtying program did not start"
hop D E "$tmp/disk2.qcow2" precopy
grep -q "rounds" "$tmp/D-E.hop" || fail "no figures"
hop E F "$tmp/disk2.qcow2" postcopy
wait_counter "$tmp/F.out" $((moved_at + 30)) 60 || fail "F stopped counting"
shutdown_vm F
check_guest "$tmp/disk2.qcow2" "$tmp/srv2.log" "$tmp/D.out" "$tmp/E.out" "$tmp/F.out"
echo "PASS: live migration (precopy, postcopy; idle and dirtying guest; failures)"
