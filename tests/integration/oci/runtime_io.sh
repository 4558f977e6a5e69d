#!/bin/sh
# The runtime's dealings with the outside: hooks (config.md "POSIX-platform
# Hooks"), the console socket (runc's --console-socket protocol: the pty
# master sent with SCM_RIGHTS), --log/--log-format json, file descriptors
# (none leaked; --preserve-fds passes exactly N more).
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
[ -x $PY ] || PY=python3

# --- hooks ---
mkdir -p "$WORK/hooks"
hooks='.hooks = {
  "createRuntime": [{"path":"/bin/sh","args":["sh","-c","cat > \($d)/createRuntime.json"]}],
  "createContainer": [{"path":"/bin/sh","args":["sh","-c","readlink /proc/self/ns/mnt > \($d)/createContainer"]}],
  "startContainer": [{"path":"/bin/sh","args":["sh","-c","readlink /proc/self/ns/pid > /shared/startContainer"]}],
  "poststart": [{"path":"/bin/sh","args":["sh","-c","cat > \($d)/poststart.json"]}],
  "poststop": [{"path":"/bin/sh","args":["sh","-c","cat > \($d)/poststop.json"], "env":["HOOKVAR=x"]}]}
 | .mounts += [{"destination":"/shared","type":"bind","source":$d,"options":["rbind","rw"]}]
 | .process.args = ["sleep","300"]'
id=$(cid hooks)
b=$(bundle hooks "$hooks" --arg d "$WORK/hooks")
rt create --bundle "$b" "$id" </dev/null >/dev/null 2>"$WORK/hooks.err"
check "create with hooks" test "$(state_field "$id" status)" = created
check "createRuntime ran at create with the state on stdin" \
	jqf --arg id "$id" '.id == $id and .pid > 0 and .bundle != null' "$WORK/hooks/createRuntime.json"
cpid=$(state_field "$id" pid)
expect_eq "createContainer ran in the container's mount namespace" "$(readlink /proc/"$cpid"/ns/mnt)" "$(cat "$WORK/hooks/createContainer" 2>&1)"
check "startContainer not run before start" test ! -e "$WORK/hooks/startContainer"
# runc 1.1 runs poststart at create (fixed in runc 1.2); the spec says after
# start (config.md "Poststart").
check "poststart not run before start" test ! -e "$WORK/hooks/poststart.json"
rt start "$id" >/dev/null 2>&1
sleep 0.3
expect_eq "startContainer ran in the container's pid namespace" "$(readlink /proc/"$cpid"/ns/pid)" "$(cat "$WORK/hooks/startContainer" 2>&1)"
check "poststart ran after start with the state" \
	jqf --arg id "$id" '.id == $id and .pid > 0' "$WORK/hooks/poststart.json"
check "poststop not run before delete" test ! -e "$WORK/hooks/poststop.json"
rt kill "$id" KILL >/dev/null 2>&1
wait_status "$id" stopped
rt delete "$id" >/dev/null 2>&1
check "poststop ran at delete with the state" \
	jqf --arg id "$id" '.id == $id' "$WORK/hooks/poststop.json"

b=$(bundle hookfail '.process.args = ["true"] | .hooks = {"createRuntime":[{"path":"/bin/false"}]}')
rt run --bundle "$b" "$(cid hookfail)" </dev/null >/dev/null 2>&1
check "a failing createRuntime hook fails the run" test $? -ne 0
check "... and leaves no state" test ! -e "$ROOT/$(cid hookfail)"
expect_eq "... and no cgroups" "" "$(cg_traces hookfail)"

# --- console socket ---
id=$(cid tty)
b=$(bundle tty '.process.terminal = true | .process.args = ["sh","-c","tty; read line; echo got:$line; stty size; test -c /dev/console && echo console:$(stat -c %t:%T /dev/console) $(stat -c %t:%T /dev/pts/0)"] | .process.consoleSize = {"height": 40, "width": 100}')
$PY "$OCI_DIR/console_recv.py" "$WORK/tty.sock" "$WORK/tty.log" "hello-tty
" &
recv=$!
i=0
while [ ! -S "$WORK/tty.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
rt run -d --console-socket "$WORK/tty.sock" --bundle "$b" "$id" </dev/null >"$WORK/tty.out" 2>"$WORK/tty.err"
expect_eq "run -d --console-socket exits 0" 0 "$?"
wait $recv
expect_eq "a terminal master fd was received" 0 "$?"
log=$(tr -d '\r' <"$WORK/tty.log" 2>/dev/null)
expect_match "the container's stdin/stdout is a pty (/dev/pts/0)" '^/dev/pts/0$' "$log"
expect_match "input written to the master reaches the container" '^got:hello-tty$' "$log"
expect_match "consoleSize applied (40 rows, 100 columns)" '^40 100$' "$log"
cons=$(printf '%s\n' "$log" | sed -n 's/^console://p')
check "/dev/console is the container's pty ($cons)" test -n "$cons" -a "${cons% *}" = "${cons#* }"
rt delete -f "$id" >/dev/null 2>&1

# exec --tty into a running container.
id=$(cid etty)
start_bg etty 'sleep 300' >/dev/null
$PY "$OCI_DIR/console_recv.py" "$WORK/etty.sock" "$WORK/etty.log" &
recv=$!
i=0
while [ ! -S "$WORK/etty.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
rt exec -t -d --console-socket "$WORK/etty.sock" "$id" sh -c 'tty; test -t 0 && echo stdin-is-tty' </dev/null >/dev/null 2>"$WORK/etty.err"
expect_eq "exec --tty --console-socket exits 0" 0 "$?"
wait $recv
expect_match "exec --tty: the process has a pty" '^/dev/pts/[0-9]+' "$(tr -d '\r' <"$WORK/etty.log" 2>/dev/null)"
expect_match "exec --tty: stdin is the pty" 'stdin-is-tty' "$(tr -d '\r' <"$WORK/etty.log" 2>/dev/null)"
rt delete -f "$id" >/dev/null 2>&1

# --- --log / --log-format json ---
rt --log "$WORK/log.json" --log-format json kill "$(cid nonexistent)" KILL >/dev/null 2>&1
check "an error on a nonexistent container fails" test $? -ne 0
check "--log-format json wrote at least one line" test -s "$WORK/log.json"
check "every log line is a JSON object with level, msg and time" \
	jqf -s 'length > 0 and all(.[]; has("level") and has("msg") and has("time"))' "$WORK/log.json"
check "the error line has level error" jqf -s 'any(.[]; .level == "error")' "$WORK/log.json"

# --- file descriptors ---
exec 7<"$WORK/spec/config.json"
sh_c fds 'ls /proc/$$/fd; true'
expect_eq "no fd leaked into the container (only 0 1 2)" "0 1 2" "$(out fds | sort -n | tr '\n' ' ' | sed 's/ $//')"
echo preserved-data >"$WORK/pfile"
b=$(bundle pfds '.process.args = ["sh","-c","ls /proc/$$/fd; cat <&3"]')
rt run --preserve-fds 1 --bundle "$b" "$(cid pfds)" </dev/null >"$WORK/pfds.out" 2>"$WORK/pfds.err" 3<"$WORK/pfile"
expect_eq "--preserve-fds 1 passes fd 3 and nothing more" "0 1 2 3 preserved-data" "$(out pfds | tr '\n' ' ' | sed 's/ $//')"
exec 7<&-
id=$(cid exfd)
start_bg exfd 'sleep 300' >/dev/null
exec 8<"$WORK/spec/config.json"
expect_eq "no fd leaked into an exec'd process" "0 1 2" "$(rt exec "$id" sh -c 'ls /proc/$$/fd; true' 2>&1 | sort -n | tr '\n' ' ' | sed 's/ $//')"
exec 8<&-
rt delete -f "$id" >/dev/null 2>&1

finish
