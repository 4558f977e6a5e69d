#!/bin/sh
# Lifecycle of a container driven directly through the runtime's runc-style
# command line: create/start/state/kill/delete, the state JSON (OCI runtime
# spec "State" and "Query State"), `run` with exit-code propagation, duplicate
# and invalid IDs, ps/list, exec, and that delete removes every trace.
. "$(dirname "$0")/lib.sh"

# --- version / features ---
v=$(timeout 10 "$RUNTIME" --version 2>&1)
expect_match "--version: first line has 'version'" 'version [0-9]' "$(printf '%s\n' "$v" | head -n1)"
expect_match "--version: a 'spec: 1.x' line" '^spec: 1\.' "$v"
f=$(timeout 10 "$RUNTIME" features 2>/dev/null)
check "features is JSON with ociVersionMin/Max" jq_ok "$f" '.ociVersionMin and .ociVersionMax'

# --- create / state created ---
id=$(cid life)
b=$(bundle life '.process.args = ["sleep","300"]')
if rt create --bundle "$b" --pid-file "$WORK/life.pid" "$id" </dev/null >"$WORK/life.out" 2>"$WORK/life.err"; then
	ok "create"
else
	ko "create" "$(cat "$WORK/life.err")"
fi
st=$(rt state "$id" 2>"$WORK/state.err")
expect_eq "state after create: status created" created "$(printf '%s' "$st" | jq -r .status)"
expect_eq "state: id" "$id" "$(printf '%s' "$st" | jq -r .id)"
expect_eq "state: bundle" "$b" "$(printf '%s' "$st" | jq -r .bundle)"
expect_match "state: ociVersion 1.x" '^1\.' "$(printf '%s' "$st" | jq -r .ociVersion)"
pid=$(printf '%s' "$st" | jq -r .pid)
expect_eq "state: pid equals --pid-file" "$(cat "$WORK/life.pid" 2>/dev/null)" "$pid"
check "state: pid is a live process" alive "$pid"
check "state dir exists under --root" test -d "$ROOT/$id"
check "cgroup directories created" test -n "$(cg_traces life)"
check "container init is in its memory cgroup" grep -qx "$pid" "$(cg_dir memory life)/cgroup.procs"

# --- second create with the same ID fails, the first is untouched ---
if rt create --bundle "$b" "$id" </dev/null >/dev/null 2>"$WORK/dup.err"; then
	ko "second create with the same ID fails"
else
	ok "second create with the same ID fails"
fi
expect_eq "first container still created after duplicate attempt" created "$(state_field "$id" status)"

# --- invalid IDs ---
for bad in "../evil" "a/b" "" "."; do
	if rt create --bundle "$b" "$bad" </dev/null >/dev/null 2>&1; then
		ko "invalid ID '$bad' refused"
		rt delete --force "$bad" >/dev/null 2>&1
	else
		ok "invalid ID '$bad' refused"
	fi
done
check "no directory escaped --root for '../evil'" test ! -e "$WORK/evil"

# --- start / running ---
check "start" rt start "$id"
check "state after start: running" wait_status "$id" running
expect_match "init runs the process args" 'sleep' "$(tr '\0' ' ' </proc/"${pid:-none}"/cmdline 2>/dev/null)"

# --- ps / list ---
ps_t=$(rt ps "$id" 2>&1)
expect_match "ps (table) has a PID header" 'PID' "$ps_t"
expect_match "ps (table) lists the init pid" "(^|[^0-9])$pid([^0-9]|\$)" "$ps_t"
ps_j=$(rt ps --format json "$id" 2>/dev/null)
check "ps --format json is an array containing the init pid" jq_ok "$ps_j" "index($pid) != null"
ls_t=$(rt list 2>&1)
expect_match "list (table) shows the ID as running" "$id +$pid +running" "$ls_t"
ls_j=$(rt list --format json 2>/dev/null)
expect_eq "list --format json: status/pid/bundle" "running $pid $b" \
	"$(printf '%s' "$ls_j" | jq -r ".[] | select(.id == \"$id\") | \"\(.status) \(.pid) \(.bundle)\"")"

# --- exec ---
expect_eq "exec sees the container's hostname" vessel-test "$(rt exec "$id" hostname 2>&1)"
expect_eq "exec is in the same pid namespace" "$(readlink /proc/"$pid"/ns/pid)" \
	"$(rt exec "$id" readlink /proc/self/ns/pid 2>&1)"
expect_eq "exec: pid 1 is the container init" "sleep 300" "$(rt exec "$id" sh -c 'tr "\0" " " </proc/1/cmdline' 2>&1 | sed 's/ $//')"
rt exec "$id" sh -c 'exit 7' >/dev/null 2>&1
expect_eq "exec propagates the exit code" 7 "$?"
printf '%s' '{"args":["sh","-c","echo from-process-file $FOO"],"cwd":"/","env":["FOO=bar","PATH=/bin"],"user":{"uid":0,"gid":0}}' >"$WORK/proc.json"
expect_eq "exec --process FILE" "from-process-file bar" "$(rt exec --process "$WORK/proc.json" "$id" 2>&1)"
rt exec -d --pid-file "$WORK/exec.pid" "$id" sleep 200 </dev/null >/dev/null 2>&1
epid=$(cat "$WORK/exec.pid" 2>/dev/null)
check "exec --detach --pid-file: process runs in the container cgroup" \
	sh -c "[ -n '$epid' ] && grep -qx '$epid' '$(cg_dir memory life)/cgroup.procs'"

# --- kill / stopped ---
check "kill (signal by name)" rt kill "$id" SIGKILL
check "state after kill: stopped" wait_status "$id" stopped
check "init is gone" gone "$pid"
check "kill of a stopped container fails" not rt kill "$id" KILL 2>/dev/null

# --- delete removes every trace ---
check "delete" rt delete "$id"
check "state dir removed" test ! -e "$ROOT/$id"
expect_eq "cgroup directories removed" "" "$(cg_traces life)"
check "state of a deleted container fails" not rt state "$id" >/dev/null 2>&1
expect_eq "no mounts left under the bundle or state dir" "" "$(grep -E "$WORK|$ROOT" /proc/mounts)"

# --- delete --force of a running container ---
id2=$(cid force)
start_bg force 'sleep 300' >/dev/null
p2=$(state_field "$id2" pid)
check "delete --force of a running container" rt delete --force "$id2"
sleep 0.2
check "its processes are gone" gone "$p2"
expect_eq "its cgroups are gone" "" "$(cg_traces force)"

# --- kill --all ---
id3=$(cid killall)
start_bg killall 'sleep 300 & sleep 301 & wait' >/dev/null
sleep 0.3
check "kill --all (signal by number)" rt kill --all "$id3" 9
check "all processes killed" wait_status "$id3" stopped
sleep 0.2
expect_eq "cgroup empty after kill --all" "" "$(cat "$(cg_dir memory killall)/cgroup.procs" 2>/dev/null)"
rt delete "$id3" >/dev/null 2>&1

# --- run: attached, output and exit code ---
sh_c run0 'echo hello from $(hostname)'
expect_eq "run: exit 0" 0 "$?"
expect_eq "run: output" "hello from vessel-test" "$(out run0)"
sh_c run3 'exit 3'
expect_eq "run: exit code 3 propagated" 3 "$?"
b=$(bundle runsig '.process.args = ["sleep","300"]')
rt run --bundle "$b" "$(cid runsig)" </dev/null >/dev/null 2>&1 &
runpid=$!
wait_status "$(cid runsig)" running
rt kill "$(cid runsig)" KILL
wait $runpid
expect_eq "run: init killed by SIGKILL gives 137" 137 "$?"
check "run: container deleted after it exits" test ! -e "$ROOT/$(cid run3)"
run_c runbad '.process.args = ["/nonexistent"]'
rc=$?
check "run of a missing executable fails" test "$rc" -ne 0
expect_match "run of a missing executable says so" 'nonexistent|no such file|not found' "$(cat "$WORK/runbad.err")"
check "no state left after the failed run" test ! -e "$ROOT/$(cid runbad)"

# A process that exits at once races the runtime's start-up handshake.
b=$(bundle quick '.process.args = ["true"]')
nfail=0
i=0
while [ $i -lt 30 ]; do
	rt run --bundle "$b" "$(cid quick)-$i" </dev/null >/dev/null 2>>"$WORK/quick.err" || nfail=$((nfail + 1))
	i=$((i + 1))
done
expect_eq "30 runs of /bin/true all exit 0" 0 "$nfail"
[ $nfail -gt 0 ] && echo "# first error: $(head -n1 "$WORK/quick.err")"

# `vessel runtime ...` is the same runtime as `vessel-runtime ...`.
if [ "$(basename "$RUNTIME")" = vessel-runtime ] && [ -x "$(dirname "$RUNTIME")/vessel" ]; then
	b=$(bundle sub '.process.args = ["sh","-c","exit 4"]')
	timeout 30 "$(dirname "$RUNTIME")/vessel" runtime --root "$ROOT" run --bundle "$b" "$(cid sub)" </dev/null >/dev/null 2>&1
	expect_eq "'vessel runtime run' works like vessel-runtime (exit 4)" 4 "$?"
fi

# --- run --detach ---
b=$(bundle det '.process.args = ["sleep","300"]')
rt run -d --bundle "$b" "$(cid det)" </dev/null >/dev/null 2>&1
check "run --detach leaves it running" wait_status "$(cid det)" running
rt delete -f "$(cid det)" >/dev/null 2>&1

finish
