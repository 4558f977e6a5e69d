#!/bin/sh
# Live migration of a guest reached through hostfwd (docs/migration.md,
# "Networking across a move"), on this host. The guest serves on :7000 (a
# busybox nc per connection answering each line); the VM forwards
# tcp:127.0.0.1:PORT to it. The host opens ONE connection through PORT
# before the first move and keeps sending numbered lines over it
# (migrate_helper.py fwd-client) while the VM moves precopy A->B and
# postcopy B->C: the destinations start although PORT is held by their
# source, and take its listening socket over. Checks: that connection is
# never broken and every answer comes back once, in order, also after
# the last move; a new connection through PORT works after each move (the
# listener moved); a destination with a rule for a port held by another
# process fails the migration naming the rule, and the source runs on.
# Exit status 0 pass, 1 fail, 77 skip (no guest artifacts, no tools).
set -eu
VESSEL=$1
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
guest=$("$top/scripts/fetch-guest.sh" --quiet) || { echo "SKIP: cannot fetch the guest"; exit 77; }
eval "$guest"
. "$here/lib.sh"
vm_test_init mighf
FAIL_LOGS="$tmp/client.log"
helper="python3 $here/migrate_helper.py"
answers() {
	n=$(grep -c '^A ' "$tmp/client.log" 2>/dev/null) || true
	echo "${n:-0}"
}
# wait_answers N SECONDS: the persistent connection got N more answers
wait_answers() {
	want=$(($(answers) + $1))
	i=0
	while [ "$(answers)" -lt "$want" ]; do
		i=$((i + 1))
		[ $i -le $(($2 * 10)) ] || return 1
		sleep 0.1
	done
}

initrd=$("$top/scripts/mkinitramfs.sh" -o "$tmp/initrd.gz")
MEM=128M
FWD=$(free_port)
NET="user,hostfwd=tcp:127.0.0.1:$FWD-:7000"
cat >"$tmp/guest.sh" <<'GUEST'
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
printf '#!/bin/sh\nwhile read -r l; do echo "A $l"; done\n' >/tmp/a
chmod +x /tmp/a
nc -ll -p 7000 -e /tmp/a &
sleep 1
echo "S: serving"
while :; do sleep 1; done
GUEST
cmd=$(base64 -w0 <"$tmp/guest.sh")
"$VESSEL" vm run --memory $MEM --kernel "$VESSEL_GUEST_KERNEL" --initrd "$initrd" --net "$NET" \
	--api-socket "$tmp/A.sock" --append "console=ttyS0 vessel.cmd=$cmd" </dev/null >"$tmp/A.out" 2>"$tmp/A.err" &
pid_A=$!
pids="$pids $!"
wait_for "$tmp/A.out" "S: serving" "${VESSEL_BOOT_TIMEOUT:-300}" || fail "the guest did not start its server"

# the connection that must survive every move
$helper fwd-client "$FWD" "$tmp/client.log" "$tmp/client.stop" &
pid_client=$!
pids="$pids $!"
wait_answers 3 30 || fail "no answers through hostfwd before the move"

# new_conn TAG: a fresh connection through the forwarded port is answered
new_conn() {
	$helper fwd-once "$FWD" "$1" || fail "a new connection through hostfwd after $1: $?"
}

# hop SRC DST MODE [EXTRA_NET]
hop() {
	port=$(free_port)
	"$VESSEL" vm run --incoming "tcp:127.0.0.1:$port" --memory $MEM --net "$NET" \
		--api-socket "$tmp/$2.sock" </dev/null >"$tmp/$2.out" 2>"$tmp/$2.err" &
	eval "pid_$2=$!"
	pids="$pids $!"
	wait_for "$tmp/$2.err" "waiting for the migration" 30 || fail "$2 did not listen (the port is held by $1)"
	timeout 120 "$VESSEL" vm migrate --api-socket "$tmp/$1.sock" --to "tcp:127.0.0.1:$port" --mode "$3" \
		--wait >"$tmp/$1-$2.hop" 2>&1 || fail "migrate $1 -> $2 ($3): $(cat "$tmp/$1-$2.hop")"
	echo "$1 -> $2: $(cat "$tmp/$1-$2.hop")"
	eval "p=\$pid_$1"
	st=0
	wait_exit "$p" 30 || st=$?
	[ "$st" = 0 ] || fail "source $1 exited $st after the migration"
	wait_answers 5 30 || fail "the connection through hostfwd stopped answering on $2"
	new_conn "hop-$1-$2"
}
hop A B precopy
hop B C postcopy

# a rule whose port another process holds: the migration fails on the
# destination, naming it, before C gives anything up
busy=$(free_port)
python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(1); time.sleep(120)' "$busy" &
pids="$pids $!"
port=$(free_port)
sleep 0.5
"$VESSEL" vm run --incoming "tcp:127.0.0.1:$port" --memory $MEM --net "$NET,hostfwd=tcp:127.0.0.1:$busy-:7001" \
	--api-socket "$tmp/X.sock" </dev/null >"$tmp/X.out" 2>"$tmp/X.err" &
pid_X=$!
pids="$pids $!"
wait_for "$tmp/X.err" "waiting for the migration" 30 || fail "X did not listen"
if timeout 120 "$VESSEL" vm migrate --api-socket "$tmp/C.sock" --to "tcp:127.0.0.1:$port" --mode postcopy \
	--wait >"$tmp/C-X.hop" 2>&1; then fail "a migration to a destination without its port succeeded"; fi
st=0
wait_exit "$pid_X" 30 || st=$?
[ "$st" != 0 ] && [ "$st" != 124 ] || fail "the destination without its port exited $st"
grep -q "hostfwd=tcp:127.0.0.1:$busy-10.0.2.15:7001: the port is in use on this host" "$tmp/X.err" ||
	fail "no error naming the rule: $(tail -2 "$tmp/X.err")"
echo "busy port: $(grep hostfwd= "$tmp/X.err" | tail -1)"
"$VESSEL" vm status --api-socket "$tmp/C.sock" | grep -q "state: *running" || fail "C is not running after the failure"
wait_answers 5 30 || fail "the connection through hostfwd stopped answering after the failed migration"
new_conn "after-failure"

touch "$tmp/client.stop"
st=0
wait_exit "$pid_client" 30 || st=$?
[ "$st" = 0 ] || fail "the persistent connection: $(tail -3 "$tmp/client.log")"
tail -1 "$tmp/client.log"
"$VESSEL" vm shutdown --api-socket "$tmp/C.sock" --timeout 30 >/dev/null 2>&1 || true
wait_exit "$pid_C" 60 || [ $? != 124 ] || fail "C did not power off"
echo "PASS: hostfwd through live migration (precopy, postcopy; busy port refused)"
