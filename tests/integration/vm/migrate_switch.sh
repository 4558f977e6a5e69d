#!/bin/sh
# Switching a live migration to postcopy through the control API, with a
# firmware guest that rewrites 32 MiB of its 64 MiB as fast as it can
# (dirty_fw.c: no kernel to boot, so the test takes seconds) and prints a
# counter kept in its RAM. The migrations go through a proxy that passes
# 32 MiB/s (a slow link: each round takes about a second, and the guest
# rewrites its 32 MiB far faster, so precopy never converges here):
#   A -> B: a precopy, which does not converge, switched by `vessel vm migrate-postcopy` (POST
#           /vm/migration/postcopy) once it ran two rounds; meanwhile GET /vm
#           shows "operation": "migrating";
#   B -> C: "mode": "postcopy" with "precopy_rounds": 2 (two rounds, then
#           the switch);
#   A -> X: a precopy cancelled by `vessel vm migrate-cancel` (POST
#           /vm/migration/cancel) while its rounds run: the migration fails
#           with 409 "migration cancelled", A runs on, X exits with an error;
#   409s:   the switch and the cancel with no migration running;
#   GET /vm on a destination: "operation": "incoming", "operation_phase"
#           "waiting", then "receiving".
# Checks: every answer follows docs/openapi.json; both migrations end as
# postcopy; each source exits 0; the counter continues on each destination
# without a gap or a reset.
# Exit status 0 pass, 1 fail, 77 skip (no cross compiler, no python3).
set -eu
VESSEL=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
SPEC=$top/docs/openapi.json
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
. "$here/lib.sh"
vm_test_init mswitch
FAIL_LOGS="$tmp/*.progress"
# api SOCK WANT METHOD PATH [BODY]: one request, checked against the spec;
# the answer's body in $ANSWER
api() {
	sock=$1 want=$2
	shift 2
	out=$(timeout 60 python3 "$here/openapi_check.py" "$SPEC" "$tmp/$sock.sock" "$@" 2>"$tmp/check.err") ||
		fail "$1 $2 on $sock: the answer does not follow the spec: $(cat "$tmp/check.err")"
	[ "${out%% *}" = "$want" ] || fail "$1 $2 on $sock: status ${out%% *}, expected $want (${out#* })"
	ANSWER=${out#* }
}
field() { printf '%s' "$ANSWER" | python3 -c "import json,sys; v=json.load(sys.stdin); print(v.get(sys.argv[1], ''))" "$1"; }

st=0
sh "$here/build_dirty_fw.sh" "$tmp/fw.bin" || st=$?
[ $st = 0 ] || { [ $st = 77 ] && exit 77; fail "cannot build the firmware guest"; }

"$VESSEL" vm run --bios "$tmp/fw.bin" --memory 64M --api-socket "$tmp/A.sock" </dev/null >"$tmp/A.out" 2>"$tmp/A.err" &
pid_A=$!
pids="$pids $!"
wait_counter "$tmp/A.out" 3 60 || fail "the guest on A does not count"

# start_dest NAME PORT
start_dest() {
	"$VESSEL" vm run --incoming "tcp:127.0.0.1:$2" --bios "$tmp/fw.bin" --memory 64M --api-socket "$tmp/$1.sock" </dev/null \
		>"$tmp/$1.out" 2>"$tmp/$1.err" &
	eval "pid_$1=$!"
	pids="$pids $!"
	i=0
	until grep -q "waiting for the migration" "$tmp/$1.err" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 300 ] || fail "$1 does not listen"
		sleep 0.1
	done
}

# slow_link PORT: a proxy to 127.0.0.1:PORT that passes 32 MiB/s each way;
# its own port in $tmp/link.port
slow_link() {
	rm -f "$tmp/link.port"
	python3 - "$1" "$tmp/link.port" <<'PY' &
import socket, sys, threading, time
RATE = 32 << 20
dst = int(sys.argv[1])
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(1)
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(ls.getsockname()[1]))
import os
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
a, _ = ls.accept()
b = socket.create_connection(("127.0.0.1", dst))
for s in (a, b):
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
def pump(src, dst):
    t0, sent = time.monotonic(), 0
    while True:
        d = src.recv(65536)
        if not d:
            break
        dst.sendall(d)
        sent += len(d)
        ahead = sent / RATE - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass
t = threading.Thread(target=pump, args=(b, a), daemon=True)
t.start()
pump(a, b)
t.join()
PY
	pids="$pids $!"
	i=0
	until [ -f "$tmp/link.port" ]; do
		i=$((i + 1))
		[ $i -le 100 ] || fail "the proxy did not start"
		sleep 0.1
	done
}

# nothing to switch
api A 409 POST /vm/migration/postcopy
case $ANSWER in *"no migration is running"*) ;; *) fail "409 without a migration: $ANSWER" ;; esac
if "$VESSEL" vm migrate-postcopy --api-socket "$tmp/A.sock" 2>"$tmp/cli.err"; then fail "migrate-postcopy without a migration"; fi
grep -q "no migration is running.*(HTTP 409)" "$tmp/cli.err" || fail "migrate-postcopy error: $(cat "$tmp/cli.err")"

# ---- A -> X: cancelled through the API while its rounds run: A runs on ----
port=$(free_port)
start_dest X "$port"
slow_link "$port"
timeout 120 "$VESSEL" vm migrate --api-socket "$tmp/A.sock" --to "tcp:127.0.0.1:$(cat "$tmp/link.port")" --wait \
	>"$tmp/AX.hop" 2>"$tmp/AX.progress" &
mig=$!
pids="$pids $mig"
i=0
until curl -s --unix-socket "$tmp/A.sock" http://vm/vm/migration | grep -q '"status":"active","mode":"precopy","phase":"precopy"'; do
	i=$((i + 1))
	[ $i -le 600 ] || fail "the migration to X did not start its rounds"
	sleep 0.05
done
"$VESSEL" vm migrate-cancel --api-socket "$tmp/A.sock" >"$tmp/cancel.out" 2>&1 || fail "vm migrate-cancel: $(cat "$tmp/cancel.out")"
st=0
wait_exit $mig 60 || st=$?
[ $st = 1 ] && grep -q "migration cancelled.*(HTTP 409)" "$tmp/AX.progress" ||
	fail "a cancelled migration: exit $st, $(cat "$tmp/AX.progress")"
echo "cancelled: $(tail -1 "$tmp/AX.progress")"
api A 200 GET /vm/migration
[ "$(field status)" = failed ] && [ "$(field cancel_requested)" = True ] || fail "GET /vm/migration after the cancel: $ANSWER"
api A 200 GET /vm
[ "$(field state)" = running ] && [ "$(field operation)" = none ] || fail "GET /vm after the cancel: $ANSWER"
st=0
wait_exit $pid_X 30 || st=$?
[ $st != 0 ] && [ $st != 124 ] || fail "the destination of a cancelled migration exited $st"
api A 409 POST /vm/migration/cancel
before=$(last_counter "$tmp/A.out")
wait_counter "$tmp/A.out" $((before + 3)) 30 || fail "A stopped counting after the cancel"

# ---- A -> B: precopy that does not converge, switched through the API ----
port=$(free_port)
start_dest B "$port"
api B 200 GET /vm
[ "$(field state)" = paused ] && [ "$(field operation)" = incoming ] && [ "$(field operation_phase)" = waiting ] ||
	fail "GET /vm on a destination before the migration: $ANSWER"
slow_link "$port"
before=$(last_counter "$tmp/A.out")
timeout 120 "$VESSEL" vm migrate --api-socket "$tmp/A.sock" --to "tcp:127.0.0.1:$(cat "$tmp/link.port")" --wait \
	>"$tmp/AB.hop" 2>"$tmp/AB.progress" &
mig=$!
pids="$pids $mig"
# (polled with curl: python's start-up is slow on a loaded machine)
i=0
while :; do
	ANSWER=$(curl -s --unix-socket "$tmp/A.sock" http://vm/vm/migration)
	case $ANSWER in
	*'"status":"active"'*'"iterations":'[2-9]*) break ;;
	*'"status":"active"'* | *'"status":"none"'*) ;;
	*'"cancel_requested":true'*) ;; # the cancelled one, until this one starts
	*) fail "the precopy ended by itself: $ANSWER" ;;
	esac
	i=$((i + 1))
	[ $i -le 1200 ] || fail "the precopy did not reach round 2"
	sleep 0.05
done
# both sides' GET /vm now (checked below: python is slow to start)
curl -s --unix-socket "$tmp/A.sock" http://vm/vm >"$tmp/A-vm.json"
curl -s --unix-socket "$tmp/B.sock" http://vm/vm >"$tmp/B-vm.json"
"$VESSEL" vm migrate-postcopy --api-socket "$tmp/A.sock" >"$tmp/switch.out" 2>"$tmp/switch.err" ||
	fail "vm migrate-postcopy: $(cat "$tmp/switch.err")"
for n in A B; do
	python3 "$here/openapi_check.py" "$SPEC" --answer GET /vm 200 "$tmp/$n-vm.json" 2>"$tmp/check.err" ||
		fail "GET /vm on $n during the precopy: $(cat "$tmp/check.err")"
done
ANSWER=$(cat "$tmp/A-vm.json")
[ "$(field operation)" = migrating ] && [ "$(field operation_phase)" = precopy ] ||
	fail "GET /vm on A during the precopy: $ANSWER"
ANSWER=$(cat "$tmp/B-vm.json")
[ "$(field operation)" = incoming ] && [ "$(field operation_phase)" = receiving ] ||
	fail "GET /vm on B while receiving: $ANSWER"
st=0
wait_exit $mig 120 || st=$?
[ $st = 0 ] || fail "vm migrate A -> B exited $st: $(cat "$tmp/AB.hop")"
echo "A -> B: $(cat "$tmp/AB.hop")"
grep -q "(postcopy)" "$tmp/AB.hop" || fail "A -> B did not end as postcopy"
wait_exit $pid_A 30 || fail "source A exited $? after the migration"
wait_counter "$tmp/B.out" $((before + 5)) 60 || fail "the counter does not continue on B"

# ---- B -> C: postcopy after two precopy rounds ----
port=$(free_port)
start_dest C "$port"
slow_link "$port"
before=$(last_counter "$tmp/B.out")
timeout 120 "$VESSEL" vm migrate --api-socket "$tmp/B.sock" --to "tcp:127.0.0.1:$(cat "$tmp/link.port")" --mode postcopy \
	--precopy-rounds 2 --wait --json >"$tmp/BC.hop" 2>"$tmp/BC.progress" ||
	fail "vm migrate B -> C: $(cat "$tmp/BC.hop")"
echo "B -> C: $(cat "$tmp/BC.hop")"
ANSWER=$(cat "$tmp/BC.hop")
[ "$(field mode)" = postcopy ] && [ "$(field iterations)" = 2 ] || fail "B -> C: not 2 rounds, then postcopy"
wait_exit $pid_B 30 || fail "source B exited $? after the migration"
wait_counter "$tmp/C.out" $((before + 5)) 60 || fail "the counter does not continue on C"
api C 200 GET /vm
[ "$(field state)" = running ] && [ "$(field operation)" = none ] || fail "GET /vm on C: $ANSWER"
api C 409 POST /vm/migration/postcopy

# the counter went on through both moves: no gap, no reset
cat "$tmp/A.out" "$tmp/B.out" "$tmp/C.out" | tr -d '\r' | grep -o '^C: [0-9]*' | cut -d' ' -f2 >"$tmp/counters"
python3 - "$tmp/counters" <<'PY' || fail "counter continuity"
import sys
c = [int(x) for x in open(sys.argv[1]).read().split()]
bad = [i for i in range(1, len(c)) if c[i] != c[i - 1] + 1]
if not c or c[0] != 1 or bad:
    sys.exit("counters not consecutive: %s" % c[max(0, bad[0] - 3):bad[0] + 3] if bad else "no counters")
print("counter: 1..%d consecutive across A, B, C" % c[-1])
PY
api C 204 POST /vm/shutdown '{"timeout_s":0}'
wait_exit $pid_C 30 || fail "C did not stop"
echo "PASS: precopy switched to postcopy through the API; postcopy after precopy rounds"
