#!/bin/sh
# cgroups (config-linux.md "Control groups"): limits written where the kernel
# reads them, enforced (pids, memory), changed live by `update`, and
# pause/resume through the freezer. This host is hybrid (v1 controllers plus
# an empty cgroup2 at /sys/fs/cgroup/unified); on a pure v2 host the checks
# read the v2 files instead.
. "$(dirname "$0")/lib.sh"

if [ -d /sys/fs/cgroup/memory ]; then
	V1=1
else
	V1=0
fi

# cg_file CONTROLLER V1-FILE V2-FILE NAME: path of a limit file.
cg_file() {
	if [ $V1 = 1 ]; then
		echo "$(cg_dir "$1" "$4")/$2"
	else
		echo "/sys/fs/cgroup/$CG_PARENT/$(cid "$4")/$3"
	fi
}

res='.linux.resources = {
  "memory": {"limit": 67108864},
  "pids": {"limit": 32},
  "cpu": {"shares": 512, "quota": 50000, "period": 100000}}'
id=$(cid lim)
pid=$(start_bg lim 'sleep 300' "$res")
check "container with resources started" test -n "$pid"
expect_eq "memory limit written" 67108864 "$(cat "$(cg_file memory memory.limit_in_bytes memory.max lim)" 2>&1)"
expect_eq "pids limit written" 32 "$(cat "$(cg_file pids pids.max pids.max lim)" 2>&1)"
if [ $V1 = 1 ]; then
	expect_eq "cpu shares written" 512 "$(cat "$(cg_dir cpu lim)/cpu.shares" 2>&1)"
	expect_eq "cpu quota written" 50000 "$(cat "$(cg_dir cpu lim)/cpu.cfs_quota_us" 2>&1)"
	expect_eq "cpu period written" 100000 "$(cat "$(cg_dir cpu lim)/cpu.cfs_period_us" 2>&1)"
	for c in memory pids cpu freezer devices; do
		check "init is in the $c cgroup" grep -qx "$pid" "$(cg_dir $c lim)/cgroup.procs"
	done
fi

# --- update changes them live ---
printf '%s' '{"memory":{"limit":134217728},"pids":{"limit":48}}' |
	rt update --resources - "$id" >"$WORK/update.out" 2>&1
expect_eq "update --resources - exits 0" 0 "$?"
expect_eq "update: new memory limit" 134217728 "$(cat "$(cg_file memory memory.limit_in_bytes memory.max lim)" 2>&1)"
expect_eq "update: new pids limit" 48 "$(cat "$(cg_file pids pids.max pids.max lim)" 2>&1)"
[ $V1 = 1 ] && expect_eq "update: cpu shares unchanged" 512 "$(cat "$(cg_dir cpu lim)/cpu.shares" 2>&1)"
printf '%s' '{"pids":{"limit":40}}' >"$WORK/res.json"
rt update --resources "$WORK/res.json" "$id" >/dev/null 2>&1
expect_eq "update --resources FILE" 40 "$(cat "$(cg_file pids pids.max pids.max lim)" 2>&1)"
expect_eq "update: memory unchanged by a pids-only update" 134217728 "$(cat "$(cg_file memory memory.limit_in_bytes memory.max lim)" 2>&1)"

# --- pause / resume ---
# A busy loop (capped at 10% of a CPU) whose CPU time must stop moving while
# it is frozen and move again after resume.
rt delete -f "$id" >/dev/null 2>&1
id=$(cid pause)
pid=$(start_bg pause 'while :; do :; done' '.linux.resources = {"cpu": {"quota": 10000, "period": 100000}}')
cputime() { [ -n "$1" ] && awk '{print $14 + $15}' /proc/"$1"/stat 2>/dev/null; }
sleep 0.3
check "pause" rt pause "$id"
expect_eq "state after pause: paused" paused "$(state_field "$id" status)"
if [ $V1 = 1 ]; then
	expect_eq "freezer.state FROZEN" FROZEN "$(cat "$(cg_dir freezer pause)/freezer.state")"
else
	expect_eq "cgroup.freeze = 1" 1 "$(cat "/sys/fs/cgroup/$CG_PARENT/$id/cgroup.freeze")"
fi
t1=$(cputime "$pid")
sleep 0.5
t2=$(cputime "$pid")
check "a frozen process does not run (CPU ticks $t1 -> $t2)" test -n "$t1" -a "$t1" = "$t2"
check "resume" rt resume "$id"
expect_eq "state after resume: running" running "$(state_field "$id" status)"
[ $V1 = 1 ] && expect_eq "freezer.state THAWED" THAWED "$(cat "$(cg_dir freezer pause)/freezer.state")"
sleep 0.5
t3=$(cputime "$pid")
check "a resumed process runs again ($t2 -> $t3 ticks)" test "${t3:-0}" -gt "${t2:-0}"
expect_eq "exec works after resume" ok "$(rt exec "$id" echo ok 2>&1)"
check "resume of a running container fails" not rt resume "$id" >/dev/null 2>&1
rt delete -f "$id" >/dev/null 2>&1

# --- a fork bomb is stopped by pids.limit ---
id=$(cid bomb)
start_bg bomb 'i=0; while [ $i -lt 100 ]; do sleep 300 & i=$((i+1)); done; sleep 300' \
	'.linux.resources = {"pids": {"limit": 20}}' >/dev/null
sleep 1.5
n=$(wc -l <"$(cg_file pids cgroup.procs cgroup.procs bomb)" 2>/dev/null || echo 999)
check "fork bomb: at most 20 processes in the container ($n)" test "$n" -le 20
check "fork bomb: the limit was hit" grep -Eq '^max [1-9]' "$(cg_file pids pids.events pids.events bomb)"
check "fork bomb: the container is still manageable (delete --force)" rt delete -f "$id"
expect_eq "fork bomb: cgroups removed" "" "$(cg_traces bomb)"

# --- memory limit enforced: a 64 MiB buffer under a 32 MiB limit ---
sh_c mem 'dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null; echo rc=$?' \
	'.linux.resources = {"memory": {"limit": 33554432, "swap": 33554432}}'
expect_eq "memory limit: allocation killed by the OOM killer" rc=137 "$(out mem)"
sh_c memok 'dd if=/dev/zero of=/dev/null bs=8M count=1 2>/dev/null; echo rc=$?' \
	'.linux.resources = {"memory": {"limit": 33554432, "swap": 33554432}}'
expect_eq "memory limit: a smaller allocation works" rc=0 "$(out memok)"

# --- devices cgroup: the default spec denies everything not listed ---
sh_c devs 'mknod /tmp/sda b 8 0 2>/dev/null; head -c1 /tmp/sda >/dev/null 2>&1 && echo read-ok || echo read-refused; head -c1 /dev/null && echo null-ok' \
	'.mounts += [{"destination":"/tmp","type":"tmpfs","source":"tmpfs","options":["size=1m"]}]
	 | .process.capabilities.bounding += ["CAP_MKNOD"] | .process.capabilities.effective += ["CAP_MKNOD"] | .process.capabilities.permitted += ["CAP_MKNOD"]'
expect_eq "devices cgroup: a made block device cannot be read; /dev/null can" "read-refused null-ok" "$(out devs | tr '\n' ' ' | sed 's/ $//')"

finish
