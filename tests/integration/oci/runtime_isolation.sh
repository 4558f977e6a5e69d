#!/bin/sh
# What the process inside a container gets (OCI runtime spec, config.md and
# config-linux.md): namespaces, mounts, the process attributes, capabilities,
# rlimits and seccomp. Each check runs a short container attached with `run`.
. "$(dirname "$0")/lib.sh"

# --- namespaces (config-linux.md "Namespaces") ---
sh_c ns 'hostname; echo pid=$$; grep -c : /proc/net/dev; cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d " "'
expect_eq "uts: hostname from config" vessel-test "$(out ns | sed -n 1p)"
expect_eq "pid: the process is pid 1" pid=1 "$(out ns | sed -n 2p)"
expect_eq "network: only lo" "1 lo" "$(out ns | sed -n '3,$p' | tr '\n' ' ' | sed 's/ $//')"
sh_c nsid 'for n in ipc mnt net pid uts; do readlink /proc/self/ns/$n; done'
host_ns=$(for n in ipc mnt net pid uts; do readlink /proc/self/ns/$n; done)
same=$(printf '%s\n%s\n' "$host_ns" "$(out nsid)" | sort | uniq -d)
expect_eq "ipc/mnt/net/pid/uts namespaces all differ from the host's" "" "$same"
check "nsid container printed its namespaces" test "$(out nsid | wc -l)" -eq 5

# Joining an existing namespace by path: the host's network namespace.
sh_c nsjoin 'readlink /proc/self/ns/net' \
	'.linux.namespaces = [.linux.namespaces[] | if .type == "network" then .path = "/proc/1/ns/net" else . end]'
expect_eq "network namespace joined by path" "$(readlink /proc/1/ns/net)" "$(out nsjoin)"

# User namespace with mappings: root inside, uid 100000 outside.
usr_filter='.linux.namespaces += [{"type":"user"}]
 | .linux.uidMappings = [{"containerID":0,"hostID":100000,"size":65536}]
 | .linux.gidMappings = [{"containerID":0,"hostID":100000,"size":65536}]
 | .mounts = [.mounts[] | select(.type != "cgroup")]'
id=$(cid userns)
pid=$(start_bg userns 'id -u; cat /proc/self/uid_map /proc/self/gid_map; sleep 300' "$usr_filter")
check "user namespace container starts (state root is 0700)" test -n "$pid"
[ -n "$pid" ] || echo "# $(tail -n1 "$WORK/userns.err")"
sleep 0.3
o=$(out userns)
expect_eq "user: uid 0 inside" 0 "$(printf '%s\n' "$o" | sed -n 1p)"
expect_eq "user: uid_map as configured" "0 100000 65536" "$(printf '%s\n' "$o" | sed -n 2p | tr -s ' ' | sed 's/^ //')"
expect_eq "user: gid_map as configured" "0 100000 65536" "$(printf '%s\n' "$o" | sed -n 3p | tr -s ' ' | sed 's/^ //')"
expect_eq "user: uid 100000 seen from the host" 100000 "$(awk '/^Uid:/ {print $2}' /proc/"$pid"/status 2>/dev/null)"
expect_eq "user: gid 100000 seen from the host" 100000 "$(awk '/^Gid:/ {print $2}' /proc/"$pid"/status 2>/dev/null)"
rt delete -f "$id" >/dev/null 2>&1

# --- mounts (config.md "Mounts", "Root") ---
mkdir -p "$WORK/share"
echo shared-content >"$WORK/share/file"
mnt_filter='.mounts += [
  {"destination":"/mnt/t","type":"tmpfs","source":"tmpfs","options":["size=1m","mode=700"]},
  {"destination":"/mnt/ro","type":"bind","source":$share,"options":["rbind","ro"]},
  {"destination":"/mnt/rw","type":"bind","source":$share,"options":["bind"]}]'
run_c mounts ".process.args = [\"sh\",\"-c\",\$s] | $mnt_filter" --arg share "$WORK/share" --arg s '
	echo "tmpfs=$(grep " /mnt/t " /proc/mounts)"
	echo "mode=$(stat -c %a /mnt/t)"
	echo "bind=$(cat /mnt/ro/file)"
	touch /mnt/ro/new2 2>/dev/null && echo ro=writable || echo ro=refused
	touch /mnt/rw/new 2>/dev/null && echo rw=ok || echo rw=refused
	touch /rootfile 2>/dev/null && echo root=writable || echo root=refused
	echo "keys=$(cat /proc/keys /proc/timer_list 2>/dev/null | wc -c)"
	echo "fw=$(ls /sys/firmware 2>/dev/null | wc -l)"
	echo "acpi=$(ls /proc/acpi 2>/dev/null | wc -l)"
	echo 1 >/proc/sys/vm/drop_caches 2>/dev/null && echo procsys=writable || echo procsys=refused
	grep " /proc/sys " /proc/mounts | grep -q "[ ,]ro[ ,]" && echo procsysmnt=ro'
o=$(out mounts)
expect_match "tmpfs mounted with size=1m" 'tmpfs /mnt/t tmpfs .*size=1024k' "$(kv tmpfs "$o")"
expect_eq "tmpfs mode=700" 700 "$(kv mode "$o")"
expect_eq "bind mount content" shared-content "$(kv bind "$o")"
expect_eq "ro bind refuses writes" refused "$(kv ro "$o")"
expect_eq "rw bind accepts writes" ok "$(kv rw "$o")"
check "rw bind write reached the host" test -e "$WORK/share/new"
check "ro bind write did not" test ! -e "$WORK/share/new2"
expect_eq "readonly root refuses writes" refused "$(kv root "$o")"
expect_eq "maskedPaths: /proc/keys and /proc/timer_list read empty" 0 "$(kv keys "$o")"
expect_eq "maskedPaths: /sys/firmware empty" 0 "$(kv fw "$o")"
expect_eq "maskedPaths: /proc/acpi empty" 0 "$(kv acpi "$o")"
expect_eq "readonlyPaths: /proc/sys not writable" refused "$(kv procsys "$o")"
expect_eq "readonlyPaths: /proc/sys mounted ro" ro "$(kv procsysmnt "$o")"
check "ro-bind host file untouched" test "$(cat "$WORK/share/file")" = shared-content

sh_c rwroot 'touch /rw-root-test && echo root-rw; rm -f /rw-root-test' '.root.readonly = false'
expect_eq "root.readonly=false gives a writable root" root-rw "$(out rwroot)"
sh_c devs 'for d in null zero full random urandom tty; do test -c /dev/$d && echo $d; done | tr "\n" " "; ls -l /dev/fd/ >/dev/null && echo fd'
expect_eq "default devices present" "null zero full random urandom tty fd" "$(out devs)"
sh_c nodev 'find /dev -type b | wc -l'
expect_eq "no block devices in /dev" 0 "$(out nodev)"

# --- process (config.md "Process") ---
run_c proc '.process.args = ["sh","-c","id -u; id -g; id -G; umask; pwd; echo $FOO"]
  | .process.user = {"uid":1000,"gid":1000,"additionalGids":[10,20],"umask":23}
  | .process.cwd = "/home/user" | .process.env += ["FOO=bar baz"]'
o=$(out proc)
expect_eq "user.uid" 1000 "$(printf '%s\n' "$o" | sed -n 1p)"
expect_eq "user.gid" 1000 "$(printf '%s\n' "$o" | sed -n 2p)"
expect_eq "user.additionalGids" "1000 10 20" "$(printf '%s\n' "$o" | sed -n 3p)"
expect_eq "user.umask (23 = 0027)" 0027 "$(printf '%s\n' "$o" | sed -n 4p)"
expect_eq "cwd" /home/user "$(printf '%s\n' "$o" | sed -n 5p)"
expect_eq "env" "bar baz" "$(printf '%s\n' "$o" | sed -n 6p)"
sh_c nnp 'grep NoNewPrivs /proc/self/status | tr -d "\t "' '.process.noNewPrivileges = true'
expect_eq "noNewPrivileges" NoNewPrivs:1 "$(out nnp)"
sh_c oom 'cat /proc/self/oom_score_adj' '.process.oomScoreAdj = 123'
expect_eq "oomScoreAdj" 123 "$(out oom)"

# --- capabilities (config.md "capabilities"; CAP_CHOWN = 0, CAP_KILL = 5) ---
caps_filter='.process.capabilities = {"bounding":$c,"effective":$c,"permitted":$c,"ambient":[],"inheritable":[]}'
script='touch /tmp/f; chown 1:1 /tmp/f 2>/dev/null && echo chown-ok || echo chown-refused; grep -E "^Cap(Eff|Prm|Bnd)" /proc/self/status | tr -d "\t"'
tmp_mount='.mounts += [{"destination":"/tmp","type":"tmpfs","source":"tmpfs","options":["size=1m"]}]'
run_c capon ".process.args = [\"sh\",\"-c\",\$s] | $tmp_mount | $caps_filter" --arg s "$script" --argjson c '["CAP_CHOWN","CAP_KILL"]'
o=$(out capon)
expect_eq "with CAP_CHOWN chown works" chown-ok "$(printf '%s\n' "$o" | sed -n 1p)"
expect_eq "CapEff = CAP_CHOWN|CAP_KILL" CapEff:0000000000000021 "$(printf '%s\n' "$o" | grep CapEff)"
expect_eq "CapBnd = CAP_CHOWN|CAP_KILL" CapBnd:0000000000000021 "$(printf '%s\n' "$o" | grep CapBnd)"
run_c capoff ".process.args = [\"sh\",\"-c\",\$s] | $tmp_mount | $caps_filter" --arg s "$script" --argjson c '["CAP_KILL"]'
o=$(out capoff)
expect_eq "without CAP_CHOWN chown fails" chown-refused "$(printf '%s\n' "$o" | sed -n 1p)"
expect_eq "CapEff = CAP_KILL" CapEff:0000000000000020 "$(printf '%s\n' "$o" | grep CapEff)"
sh_c capnr 'ping -c1 -W1 127.0.0.1 >/dev/null 2>&1 && echo raw-ok || echo raw-refused' \
	'.process.capabilities.bounding -= ["CAP_NET_RAW"] | .process.capabilities.effective -= ["CAP_NET_RAW"] | .process.capabilities.permitted -= ["CAP_NET_RAW"]'
expect_eq "without CAP_NET_RAW a raw socket (ping) fails" raw-refused "$(out capnr)"

# --- rlimits (config.md "rlimits"); the host lacks CAP_SYS_RESOURCE ---
host_hard=$(ulimit -Hn)
sh_c rl 'ulimit -n; ulimit -Hn' '.process.rlimits = [{"type":"RLIMIT_NOFILE","soft":512,"hard":768}]'
expect_eq "RLIMIT_NOFILE within the hard limit" "512 768" "$(out rl | tr '\n' ' ' | sed 's/ $//')"
if grep -q '^CapBnd:' /proc/self/status && [ "$host_hard" != unlimited ] &&
	! capsh --has-p=cap_sys_resource 2>/dev/null; then
	over=$((host_hard + 1))
	run_c rlover '.process.args = ["true"] | .process.rlimits = [{"type":"RLIMIT_NOFILE","soft":$n,"hard":$n}]' --argjson n "$over"
	rc=$?
	check "RLIMIT_NOFILE above the host hard limit fails" test $rc -ne 0
	expect_match "... with a message naming the rlimit or the error" 'RLIMIT_NOFILE|rlimit|[Oo]peration not permitted' "$(cat "$WORK/rlover.err")"
	check "... and leaves no state behind" test ! -e "$ROOT/$(cid rlover)"
	expect_eq "... and no cgroup behind" "" "$(cg_traces rlover)"
else
	echo "# (skipped the rlimit-above-hard check: CAP_SYS_RESOURCE present)"
fi
run_c rlbad '.process.args = ["true"] | .process.rlimits = [{"type":"RLIMIT_BOGUS","soft":1,"hard":1}]'
check "an unknown rlimit type is an error" test $? -ne 0

# --- seccomp (config-linux.md "Seccomp") ---
sc='.linux.seccomp = {"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
  {"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":1},
  {"names":["no_such_syscall_xyz"],"action":"SCMP_ACT_ERRNO"},
  {"names":["fchmodat"],"action":"SCMP_ACT_ERRNO","errnoRet":13,
   "args":[{"index":2,"value":511,"op":"SCMP_CMP_EQ"}]},
  {"names":["chmod"],"action":"SCMP_ACT_ERRNO","errnoRet":13,
   "args":[{"index":1,"value":511,"op":"SCMP_CMP_EQ"}]}]}'
run_c sec ".process.args = [\"sh\",\"-c\",\$s] | $tmp_mount | $sc" --arg s '
	mkdir /tmp/d 2>&1; test -d /tmp/d && echo mkdir-ok || echo mkdir-refused
	touch /tmp/f; chmod 777 /tmp/f 2>&1; chmod 755 /tmp/f && echo chmod755-ok'
o=$(out sec)
expect_match "seccomp: mkdir fails with EPERM (errnoRet 1)" '[Oo]peration not permitted' "$(printf '%s\n' "$o" | sed -n 1p)"
expect_eq "seccomp: the directory was not made" mkdir-refused "$(printf '%s\n' "$o" | sed -n 2p)"
expect_match "seccomp: chmod 777 fails with EACCES (arg condition)" '[Pp]ermission denied' "$(printf '%s\n' "$o" | sed -n 3p)"
expect_eq "seccomp: chmod 755 allowed (arg condition not met)" chmod755-ok "$(printf '%s\n' "$o" | sed -n 4p)"
run_c secbad '.process.args = ["true"] | .linux.seccomp = {"defaultAction":"SCMP_ACT_BOGUS"}'
check "seccomp: an unknown action is an error" test $? -ne 0
sh_c seckill 'mkdir /x; echo rc=$?' \
	'.linux.seccomp = {"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_KILL"}]}'
expect_eq "seccomp: SCMP_ACT_KILL kills the process (SIGSYS: 128+31)" rc=159 "$(out seckill)"

# --- sysctl, domainname ---
sh_c sysctl 'cat /proc/sys/net/ipv4/ip_forward' '.linux.sysctl = {"net.ipv4.ip_forward":"1"}'
expect_eq "sysctl applied in the container's netns" 1 "$(out sysctl)"
expect_eq "... and not on the host" 0 "$(cat /proc/sys/net/ipv4/ip_forward)"
# runc 1.1 ignores "domainname" (it arrived in runc 1.2); the spec has it.
sh_c domain 'cat /proc/sys/kernel/domainname' '.domainname = "vessel.dom"'
expect_eq "domainname" vessel.dom "$(out domain)"

# --- cgroup namespace, --no-pivot, spec devices, LSM labels ---
sh_c cgns 'cat /proc/self/cgroup' \
	'if any(.linux.namespaces[]; .type == "cgroup") then . else .linux.namespaces += [{"type":"cgroup"}] end'
expect_eq "cgroup namespace: every hierarchy appears as /" "" "$(out cgns | grep -v ':/$')"
check "cgroup namespace: the container printed its cgroups" test -n "$(out cgns)"
b=$(bundle nopivot '.process.args = ["sh","-c","cat /etc/passwd | head -n1; test -e /rootfs-marker && echo host-visible || echo ok"]')
rt run --no-pivot --bundle "$b" "$(cid nopivot)" </dev/null >"$WORK/nopivot.out" 2>"$WORK/nopivot.err"
expect_eq "run --no-pivot: chrooted into the bundle rootfs" "root:x:0:0:root:/root:/bin/sh ok" "$(out nopivot | tr '\n' ' ' | sed 's/ $//')"
sh_c devspec 'stat -c "%F %t:%T %a %u:%g" /dev/vtest' \
	'.linux.devices = [{"path":"/dev/vtest","type":"c","major":1,"minor":3,"fileMode":432,"uid":0,"gid":0}]
	 | .linux.resources.devices += [{"allow":true,"type":"c","major":1,"minor":3,"access":"rwm"}]'
expect_eq "linux.devices: a char device 1:3 with mode 0660" "character special file 1:3 660 0:0" "$(out devspec)"
if [ ! -e /sys/kernel/security/apparmor ] && [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" != Y ]; then
	run_c aa '.process.args = ["true"] | .process.apparmorProfile = "vessel-test-profile"'
	rc=$?
	check "apparmorProfile on a host without AppArmor is refused" test $rc -ne 0
	expect_match "... with a message naming AppArmor" '[Aa]pp[Aa]rmor' "$(cat "$WORK/aa.err")"
fi

finish
