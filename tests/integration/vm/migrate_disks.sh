#!/bin/sh
# Live migration with "disks": "copy" (docs/migration.md): the destination
# has its own images and the disks' contents are streamed to them while the
# guest runs. A guest prints a counter and writes it as a numbered record to
# its disk (fsync'd) ten times a second; its disk is a qcow2 overlay over a
# raw base holding a pattern. It is moved, each time into a new image:
#   A (overlay) -> B (fresh flat raw image), precopy;
#   B -> C (fresh qcow2), postcopy;
#   failures on C: a destination image of another size (refused, with both
#   sizes named), the source's own image as the destination's (refused: it
#   is in use), a destination that dies in the middle of the copy: C runs
#   on each time.
# Checks: the counter continues on each destination without a gap;
# `qemu-img check` of the final image is clean; every record up to the last
# counter printed is on it (none lost at a switch) and the base's pattern
# (read through the backing file on A) too.
# Exit status 0 pass, 1 fail, 77 skip (no guest artifacts, no tools).
set -eu
VESSEL=$1
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
for t in qemu-img python3; do
	command -v $t >/dev/null || { echo "SKIP: $t missing"; exit 77; }
done
guest=$("$top/scripts/fetch-guest.sh" --quiet) || { echo "SKIP: cannot fetch the guest"; exit 77; }
eval "$guest"
. "$here/lib.sh"
vm_test_init migdisks
helper="python3 $here/migrate_helper.py"
initrd=$("$top/scripts/mkinitramfs.sh" -o "$tmp/initrd.gz")
MEM=256M
SIZE=32M


# start_dest NAME DISK PORT
start_dest() {
	"$VESSEL" vm run --incoming "tcp:127.0.0.1:$3" --memory $MEM --disk "$2" \
		--api-socket "$tmp/$1.sock" </dev/null >"$tmp/$1.out" 2>"$tmp/$1.err" &
	eval "pid_$1=$!"
	pids="$pids $!"
	wait_for "$tmp/$1.err" "waiting for the migration" 30 || fail "$1 did not listen"
}

# hop SRC DST DISK MODE: migrate SRC into a new destination DST with its own DISK
hop() {
	port=$(free_port)
	start_dest "$2" "$3" "$port"
	before=$(last_counter "$tmp/$1.out")
	timeout 120 "$VESSEL" vm migrate --api-socket "$tmp/$1.sock" --to "tcp:127.0.0.1:$port" --mode "$4" \
		--disks copy --wait >"$tmp/$1-$2.hop" 2>"$tmp/$1-$2.progress" ||
		fail "migrate $1 -> $2 ($4): $(cat "$tmp/$1-$2.hop")"
	echo "$1 -> $2: $(cat "$tmp/$1-$2.hop")"
	grep -q "disks copied: [0-9]* bytes" "$tmp/$1-$2.hop" || fail "no disk figures"
	eval "p=\$pid_$1"
	st=0
	wait_exit "$p" 30 || st=$?
	[ "$st" = 0 ] || fail "source $1 exited $st after the migration"
	wait_counter "$tmp/$2.out" $((before + 3)) 60 || fail "the counter does not continue on $2"
}

# expect_refused NAME DISK WANT: a destination on DISK is refused with WANT; C runs on
expect_refused() {
	port=$(free_port)
	start_dest "$1" "$2" "$port"
	before=$(last_counter "$tmp/C.out")
	if timeout 60 "$VESSEL" vm migrate --api-socket "$tmp/C.sock" --to "tcp:127.0.0.1:$port" --disks copy \
		--wait >"$tmp/$1.migrate" 2>&1; then fail "migration into $1 succeeded"; fi
	eval "p=\$pid_$1"
	st=0
	wait_exit "$p" 30 || st=$?
	[ "$st" != 124 ] && [ "$st" != 0 ] || fail "destination $1 exited $st"
	grep -q "$3" "$tmp/$1.err" || fail "destination $1: no clear error ($3): $(tail -2 "$tmp/$1.err")"
	echo "$1: destination exited $st: $(grep "incoming migration" "$tmp/$1.err" | tail -1)"
	wait_counter "$tmp/C.out" $((before + 3)) 60 || fail "C stopped counting after $1"
}

# the source's disk: a qcow2 overlay over a raw base with a pattern at 1..3 MiB
python3 - "$tmp/base.raw" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    f.truncate(32 << 20)
    f.seek(1 << 20)
    f.write(b"".join(b"base %08d\n" % i for i in range((2 << 20) // 14)))
PY
qemu-img create -q -f qcow2 -F raw -b "$tmp/base.raw" "$tmp/a.qcow2" $SIZE
truncate -s $SIZE "$tmp/b.raw"
"$VESSEL" image create "$tmp/c.qcow2" $SIZE >/dev/null
"$VESSEL" image create "$tmp/small.qcow2" 16M >/dev/null

cat >"$tmp/guest" <<'GUEST'
i=0
while [ $i -lt 1000000 ]; do
	i=$((i + 1))
	echo "C: $i"
	printf '%08d\n' $i | dd of=/dev/vda bs=9 seek=$i conv=notrunc,fsync 2>/dev/null
	sleep 0.1
done
GUEST
cmd=$(base64 -w0 <"$tmp/guest")
"$VESSEL" vm run --memory $MEM --kernel "$VESSEL_GUEST_KERNEL" --initrd "$initrd" --disk "$tmp/a.qcow2" \
	--api-socket "$tmp/A.sock" --append "console=ttyS0 vessel.cmd=$cmd" </dev/null >"$tmp/A.out" 2>"$tmp/A.err" &
pid_A=$!
pids="$pids $!"
wait_counter "$tmp/A.out" 5 "${VESSEL_BOOT_TIMEOUT:-300}" || fail "guest A did not start counting"

hop A B "$tmp/b.raw" precopy
hop B C "$tmp/c.qcow2" postcopy

expect_refused Xsize "$tmp/small.qcow2" "is 16777216 bytes, the source's is 33554432 bytes"
expect_refused Xsame "$tmp/c.qcow2" "needs its own image.*in use"
$helper fake-dest "$tmp/fake.port" 2000000 &
wait_for "$tmp/fake.port" . 10 || fail "fake destination"
before=$(last_counter "$tmp/C.out")
if "$VESSEL" vm migrate --api-socket "$tmp/C.sock" --to "tcp:127.0.0.1:$(cat "$tmp/fake.port")" --disks copy \
	--wait >"$tmp/f1.out" 2>&1; then fail "migrating to a dying destination succeeded"; fi
echo "dying destination: $(tail -1 "$tmp/f1.out")"
wait_counter "$tmp/C.out" $((before + 5)) 60 || fail "C stopped counting after the dying destination"
curl -s --unix-socket "$tmp/C.sock" http://vm/vm/migration >"$tmp/f1.json"
grep -q '"status": *"failed"' "$tmp/f1.json" && grep -q '"disks": *"copy"' "$tmp/f1.json" ||
	fail "GET /vm/migration after the failure: $(cat "$tmp/f1.json")"

"$VESSEL" vm shutdown --api-socket "$tmp/C.sock" --timeout 30 >/dev/null 2>&1 || true
wait_exit "$pid_C" 60 || [ $? != 124 ] || fail "C did not power off"
cat "$tmp/A.out" "$tmp/B.out" "$tmp/C.out" | tr -d '\r' >"$tmp/console"
n=$(last_counter "$tmp/console")
qemu-img check -q "$tmp/c.qcow2" || fail "qemu-img check c.qcow2"
qemu-img convert -O raw "$tmp/c.qcow2" "$tmp/final.raw"
python3 - "$tmp/console" "$tmp/final.raw" "$n" <<'PY' || fail "contents (see above)"
import re, sys
cons = [int(x) for x in re.findall(r"^C: (\d+)$", open(sys.argv[1]).read(), re.M)]
if not cons or cons != list(range(1, len(cons) + 1)):
    bad = next((i for i in range(1, len(cons)) if cons[i] != cons[i - 1] + 1), 0)
    sys.exit("console counter not consecutive: %s" % cons[max(0, bad - 3):bad + 3])
d = open(sys.argv[2], "rb").read()
n = int(sys.argv[3])
# the last record may have been cut by the power-off
for i in range(1, n - 1):
    rec = d[9 * i:9 * i + 9]
    if rec != b"%08d\n" % i:
        sys.exit("record %d on the final image is %r" % (i, rec))
base = b"".join(b"base %08d\n" % i for i in range((2 << 20) // 14))
if d[1 << 20:(1 << 20) + len(base)] != base:
    sys.exit("the backing file's data did not arrive")
print("console: %d consecutive counters; final image: records 1..%d intact, the base's data too" % (n, n - 2))
PY
echo "PASS: migration with disks=copy (precopy, postcopy, refusals, dying destination)"
