#!/bin/sh
# The control API of a real VM (`vessel vm run --api-socket`), with a tiny
# firmware guest (wfi; j .) so no kernel boot is needed:
#   - every answer is checked against docs/openapi.json (openapi_check.py);
#   - pause/resume and their 409s, GET /vm state and counters;
#   - snapshots: to a bad path and to a full file system (tmpfs) they fail,
#     the VM keeps running and a previous file stays intact; a good one
#     restores; truncated, corrupted and newer-version files are refused
#     with a clear error;
#   - shutdown of a guest that ignores the request: forced after timeout_s;
#   - the CLI wrappers (vm status|pause|resume|snapshot|shutdown) and their
#     errors;
#   - snapshot progress: a guest with 32 MiB of data (dirty_fw.c) and the
#     writer paced to 8 MB/s by the test hook VESSEL_TEST_SNAPSHOT_BPS, so
#     the write takes about 4 s: GET /vm/snapshot shows it active with
#     growing bytes of a known total, GET /vm "operation": "snapshotting",
#     pause and a second snapshot are 409 meanwhile; then completed with
#     bytes = total = the file's size; `vessel vm snapshot` on a terminal
#     (script(1)) prints progress lines and the final figures.
# usage: api.sh VESSEL
set -u
VESSEL=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
SPEC=$top/docs/openapi.json
T=$(mktemp -d /tmp/vessel-api.XXXXXX)
pids=""
mnt=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	[ -n "$mnt" ] && umount "$mnt" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
fails=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; fails=$((fails + 1)); }

# api WANT-STATUS METHOD PATH [BODY]: one request, validated against the spec
api() {
	want=$1
	shift
	out=$(timeout 60 python3 "$here/openapi_check.py" "$SPEC" "$T/api.sock" "$@" 2>"$T/check.err")
	rc=$?
	got=${out%% *}
	ANSWER=${out#* }
	if [ $rc != 0 ]; then
		bad "$1 $2: answer does not follow the spec: $(cat "$T/check.err")"
	elif [ "$got" != "$want" ]; then
		bad "$1 $2 ${3:-}: status $got, expected $want ($ANSWER)"
	else
		ok "$1 $2 ${3:-} -> $got"
	fi
}
field() { printf '%s' "$ANSWER" | python3 -c "import json,sys; v=json.load(sys.stdin); print(eval('v'+sys.argv[1]))" "$1"; }

printf '\163\000\120\020\157\360\337\377' >"$T/wfi.bin" # 1: wfi; j 1b
start_vm() { # extra args...
	"$VESSEL" vm run --bios "$T/wfi.bin" --memory 32M --api-socket "$T/api.sock" "$@" </dev/null >"$T/vm.out" 2>&1 &
	vm_pid=$!
	pids="$pids $vm_pid"
	for _ in $(seq 1 100); do
		[ -S "$T/api.sock" ] && break
		sleep 0.1
	done
}
alive() { kill -0 "$vm_pid" 2>/dev/null; }

start_vm
api 200 GET /vm
[ "$(field "['state']")" = running ] && ok "state running" || bad "state: $ANSWER"
[ "$(field "['memory']")" = 33554432 ] && ok "memory" || bad "memory: $ANSWER"
[ "$(field "['devices']['console']['type']")" = uart16550 ] && ok "console counters" || bad "devices: $ANSWER"
api 409 POST /vm/resume
api 204 POST /vm/pause
api 409 POST /vm/pause
api 200 GET /vm
[ "$(field "['state']")" = paused ] && ok "state paused" || bad "state: $ANSWER"
api 204 POST /vm/resume
api 404 GET /vm/nothing
api 405 GET /vm/pause
api 400 POST /vm/pause '{"x":1}'
api 400 POST /vm/snapshot '{"path":""}'
api 400 POST /vm/shutdown '{"timeout_s":-5}'

# snapshots that fail leave the VM running and an older file intact
api 500 POST /vm/snapshot "{\"path\":\"$T/no/such/dir/x.snap\"}"
case $ANSWER in *"no/such/dir"*) ok "bad path: the error names it" ;; *) bad "bad path error: $ANSWER" ;; esac
api 200 GET /vm
[ "$(field "['state']")" = running ] && ok "running after a failed snapshot" || bad "state: $ANSWER"
api 200 POST /vm/snapshot "{\"path\":\"$T/good.snap\"}"
[ "$(field "['bytes']")" = "$(stat -c %s "$T/good.snap")" ] && ok "snapshot bytes = file size" || bad "bytes: $ANSWER"
mkdir "$T/small"
if mount -t tmpfs -o size=256k tmpfs "$T/small" 2>/dev/null; then
	mnt=$T/small
	echo "old contents" >"$T/small/vm.snap"
	dd if=/dev/zero of="$T/small/filler" bs=4k 2>/dev/null # fill it up
	api 500 POST /vm/snapshot "{\"path\":\"$T/small/vm.snap\"}"
	case $ANSWER in *"No space left"*) ok "disk full: the error says so" ;; *) bad "disk full error: $ANSWER" ;; esac
	[ "$(cat "$T/small/vm.snap")" = "old contents" ] && ok "disk full: previous file intact" || bad "previous file changed"
	[ "$(ls "$T/small" | wc -l)" = 2 ] && ok "disk full: no temporary file left" || bad "left: $(ls "$T/small")"
	api 200 GET /vm
	[ "$(field "['state']")" = running ] && ok "running after disk full" || bad "state: $ANSWER"
else
	echo "ok - # SKIP disk-full test: cannot mount a tmpfs here"
fi

# the CLI wrappers
"$VESSEL" vm status --api-socket "$T/api.sock" >"$T/st" && grep -q "state:   running" "$T/st" && ok "vm status" || bad "vm status: $(cat "$T/st")"
"$VESSEL" vm status --json --api-socket "$T/api.sock" | python3 -c 'import json,sys; json.load(sys.stdin)' && ok "vm status --json" || bad "vm status --json"
"$VESSEL" vm pause --api-socket "$T/api.sock" && ok "vm pause" || bad "vm pause"
"$VESSEL" vm pause --api-socket "$T/api.sock" 2>"$T/err"
[ $? = 1 ] && grep -q "already paused.*(HTTP 409)" "$T/err" && ok "vm pause twice: server's message, exit 1" || bad "vm pause twice: $(cat "$T/err")"
(cd "$T" && "$VESSEL" vm snapshot --paused --api-socket "$T/api.sock" rel.snap) >"$T/snapout" && [ -s "$T/rel.snap" ] &&
	grep -q "stays paused" "$T/snapout" && ok "vm snapshot (relative path, stays paused)" || bad "vm snapshot: $(cat "$T/snapout")"
api 200 GET /vm
[ "$(field "['state']")" = paused ] && ok "still paused after snapshot --paused" || bad "state: $ANSWER"
"$VESSEL" vm resume --api-socket "$T/api.sock" && ok "vm resume" || bad "vm resume"
"$VESSEL" vm status --api-socket "$T/nope.sock" 2>"$T/err"
[ $? = 1 ] && grep -q "connect to API socket" "$T/err" && ok "vm status: no server" || bad "no server: $(cat "$T/err")"

# shutdown: this guest ignores SysRq, so it is stopped after timeout_s
# (5 s: time for the state check in between on a loaded machine)
t0=$(date +%s%N)
api 204 POST /vm/shutdown '{"timeout_s":5}'
api 200 GET /vm
[ "$(field "['state']")" = shutting-down ] && ok "state shutting-down" || bad "state: $ANSWER"
for _ in $(seq 1 200); do alive || break; sleep 0.1; done
wait "$vm_pid"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
[ $rc = 0 ] && ! alive && [ $ms -ge 4900 ] && [ $ms -lt 15000 ] && grep -q "did not power off in time" "$T/vm.out" &&
	ok "forced shutdown after 5 s (exit 0, ${ms} ms)" || bad "forced shutdown: rc=$rc ${ms} ms $(tail -2 "$T/vm.out")"

# restore: the good snapshot runs; bad files are refused with clear errors
rm -f "$T/api.sock"
start_vm_restore() { # file, extra...
	f=$1
	shift
	timeout 20 "$VESSEL" vm run --restore "$f" "$@" </dev/null >"$T/r.out" 2>&1
}
"$VESSEL" vm run --restore "$T/good.snap" --api-socket "$T/api.sock" </dev/null >"$T/vm.out" 2>&1 &
vm_pid=$!
pids="$pids $vm_pid"
for _ in $(seq 1 100); do [ -S "$T/api.sock" ] && break; sleep 0.1; done
api 200 GET /vm
[ "$(field "['state']")" = running ] && ok "restored VM runs" || bad "restored: $ANSWER"
api 204 POST /vm/shutdown '{"timeout_s":0}'
wait "$vm_pid" && ok "restored VM stopped" || bad "restored VM exit $?"

size=$(stat -c %s "$T/good.snap")
head -c $((size / 2)) "$T/good.snap" >"$T/trunc.snap"
start_vm_restore "$T/trunc.snap"
[ $? = 1 ] && grep -q "restore '$T/trunc.snap'.*trunc" "$T/r.out" && ok "truncated snapshot refused: $(tail -1 "$T/r.out")" ||
	bad "truncated: $(tail -2 "$T/r.out")"
cp "$T/good.snap" "$T/corrupt.snap"
printf '\377' | dd of="$T/corrupt.snap" bs=1 seek=200 conv=notrunc 2>/dev/null
start_vm_restore "$T/corrupt.snap"
[ $? = 1 ] && grep -qi "restore.*\(crc\|checksum\|corrupt\)" "$T/r.out" && ok "corrupted snapshot refused: $(tail -1 "$T/r.out")" ||
	bad "corrupted: $(tail -2 "$T/r.out")"
cp "$T/good.snap" "$T/newer.snap"
printf '\002' | dd of="$T/newer.snap" bs=1 seek=8 conv=notrunc 2>/dev/null # major version 2
start_vm_restore "$T/newer.snap"
[ $? = 1 ] && grep -q "newer than this build" "$T/r.out" && ok "newer-version snapshot refused: $(tail -1 "$T/r.out")" ||
	bad "newer: $(tail -2 "$T/r.out")"
start_vm_restore "$T/good.snap" --memory 64M
[ $? = 2 ] && grep -q "comes from the snapshot" "$T/r.out" && ok "--memory with --restore refused" || bad "--memory: $(tail -2 "$T/r.out")"

# ---- snapshot progress (needs the riscv64 cross compiler) ----
if sh "$here/build_dirty_fw.sh" "$T/fw.bin" 2>"$T/fw.err"; then
	rm -f "$T/api.sock"
	VESSEL_TEST_SNAPSHOT_BPS=8000000 "$VESSEL" vm run --bios "$T/fw.bin" --memory 64M --api-socket "$T/api.sock" \
		</dev/null >"$T/vm.out" 2>&1 &
	vm_pid=$!
	pids="$pids $vm_pid"
	for _ in $(seq 1 100); do grep -q "C: 2" "$T/vm.out" 2>/dev/null && break; sleep 0.1; done
	api 200 GET /vm/snapshot
	[ "$(field "['status']")" = none ] && ok "no snapshot yet" || bad "GET /vm/snapshot: $ANSWER"
	curl -s --unix-socket "$T/api.sock" -X POST -d "{\"path\":\"$T/big.snap\"}" http://vm/vm/snapshot \
		>"$T/post.json" &
	post=$!
	# in progress: curl (python starts slowly on a loaded machine); the
	# answers are checked against the spec afterwards
	seen=""
	for _ in $(seq 1 200); do
		a=$(curl -s --unix-socket "$T/api.sock" http://vm/vm/snapshot)
		case $a in *'"status":"active"'*'"phase":"writing-ram"'*) seen=$a; break ;; esac
		sleep 0.05
	done
	printf '%s' "$seen" >"$T/s1.json"
	sleep 0.5
	curl -s --unix-socket "$T/api.sock" http://vm/vm/snapshot >"$T/s2.json"
	curl -s --unix-socket "$T/api.sock" http://vm/vm >"$T/vm.json"
	c1=$(curl -s -o "$T/c1.json" -w '%{http_code}' --unix-socket "$T/api.sock" -X POST \
		-d "{\"path\":\"$T/other.snap\"}" http://vm/vm/snapshot)
	c2=$(curl -s -o "$T/c2.json" -w '%{http_code}' --unix-socket "$T/api.sock" -X POST http://vm/vm/pause)
	"$VESSEL" vm status --api-socket "$T/api.sock" >"$T/status.txt"
	curl -s --unix-socket "$T/api.sock" http://vm/vm/snapshot >"$T/s3.json"
	grep -q "^doing:   snapshotting (writing-ram)" "$T/status.txt" && ok "vm status: doing snapshotting" ||
		bad "vm status during the snapshot: $(cat "$T/status.txt")"
	[ -n "$seen" ] && ok "snapshot in progress: $seen" || bad "never saw the snapshot in progress"
	python3 - "$T" <<'PY' && ok "progress grows, GET /vm snapshotting, snapshot and pause meanwhile 409" || bad "in progress (above)"
import json, sys
t = sys.argv[1]
s1, s2, s3 = (json.load(open(f"{t}/s{i}.json")) for i in (1, 2, 3))
vm = json.load(open(f"{t}/vm.json"))
assert s3["status"] == "active", f"the snapshot ended too early for the checks: {s3}"
assert 0 < s1["bytes"] < s2["bytes"] < s2["total_bytes"], (s1, s2)
assert s1["total_bytes"] == s2["total_bytes"], (s1, s2)
assert vm["state"] == "running" and vm["operation"] == "snapshotting" and vm["operation_phase"] == "writing-ram", vm
print(f"progress {s1['bytes']} then {s2['bytes']} of {s2['total_bytes']} bytes; GET /vm {vm['state']}, {vm['operation']}")
PY
	[ "$c1" = 409 ] && [ "$c2" = 409 ] || bad "meanwhile: snapshot $c1, pause $c2"
	for f in s1:GET:/vm/snapshot:200 s2:GET:/vm/snapshot:200 vm:GET:/vm:200 c1:POST:/vm/snapshot:409 c2:POST:/vm/pause:409; do
		IFS=: read -r n m p st <<EOF2
$f
EOF2
		python3 "$here/openapi_check.py" "$SPEC" --answer "$m" "$p" "$st" "$T/$n.json" 2>"$T/check.err" ||
			bad "$m $p answer in progress: $(cat "$T/check.err")"
	done
	wait $post
	size=$(stat -c %s "$T/big.snap" 2>/dev/null)
	grep -q "\"bytes\":$size," "$T/post.json" && ok "snapshot written: $(cat "$T/post.json")" ||
		bad "POST /vm/snapshot: $(cat "$T/post.json"), file $size"
	api 200 GET /vm/snapshot
	[ "$(field "['status']")" = completed ] && [ "$(field "['bytes']")" = "$size" ] && [ "$(field "['total_bytes']")" = "$size" ] &&
		ok "completed: bytes = total = file size ($size)" || bad "after: $ANSWER"
	api 200 GET /vm
	[ "$(field "['operation']")" = none ] && ok "GET /vm: operation none again" || bad "GET /vm: $ANSWER"
	if command -v script >/dev/null; then
		script -qec "'$VESSEL' vm snapshot --api-socket '$T/api.sock' '$T/tty.snap'" /dev/null >"$T/tty.out" 2>&1
		tr '\r' '\n' <"$T/tty.out" | grep -q "snapshot: writing-ram, .* of 32.0 MiB" &&
			grep -q "snapshot $T/tty.snap: [0-9]* bytes (32.0 MiB), VM paused [0-9]* ms, [0-9]* ms in all ([0-9]* MiB/s)" "$T/tty.out" &&
			ok "vm snapshot on a terminal: progress and figures" || bad "vm snapshot on a tty: $(cat "$T/tty.out")"
	else
		echo "ok - # SKIP vm snapshot on a terminal: no script(1)"
	fi
	api 204 POST /vm/shutdown '{"timeout_s":0}'
	wait "$vm_pid"
else
	echo "ok - # SKIP snapshot progress: $(tail -1 "$T/fw.err")"
fi

[ $fails = 0 ] && echo "PASS" || echo "FAIL: $fails"
[ $fails = 0 ]
