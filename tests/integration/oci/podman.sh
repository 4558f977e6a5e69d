#!/bin/sh
# podman (Debian's 4.3, with conmon) driving the runtime under test through
# `--runtime $RUNTIME`, with a private configuration and storage written by
# scripts/podman-setup.sh, on a busybox image imported from a tarball (no
# registry access).
. "$(dirname "$0")/lib.sh"

command -v podman >/dev/null || skip_all "needs podman"
command -v script >/dev/null || skip_all "needs script (bsdutils)"

eval "$(sh "$SRC_ROOT/scripts/podman-setup.sh" "$WORK/podman" "$RUNTIME")"
P="pt$$"
IMG=localhost/vessel-busybox:test

pm() { timeout -k 5 90 podman --runtime "$RUNTIME" "$@"; }
pmq() { pm "$@" >/dev/null 2>&1; }
# pm_tty ARGS...: podman with a terminal on its stdin/stdout (script(1)).
pm_tty() {
	_c="podman --runtime '$RUNTIME'"
	for _a in "$@"; do _c="$_c '$_a'"; done
	timeout -k 5 90 script -qec "$_c" /dev/null </dev/null | tr -d '\r'
}
trap 'pm rm -af -t 0 >/dev/null 2>&1; cleanup' EXIT

# host_cg CONTROLLER CONTAINER: the container's v1 cgroup directory.
host_cg() {
	_pid=$(podman inspect -f '{{.State.Pid}}' "$2" 2>/dev/null)
	_rel=$(awk -F: -v c="$1" '$2 ~ "(^|,)" c "(,|$)" {print $3}' /proc/"$_pid"/cgroup 2>/dev/null)
	echo "/sys/fs/cgroup/$1$_rel"
}
status_of() { podman inspect -f '{{.State.Status}}' "$1" 2>/dev/null; }

tar -C "$ROOTFS" -cf "$WORK/busybox.tar" .
pm import --change 'CMD ["/bin/sh"]' --change 'ENV PATH=/bin' "$WORK/busybox.tar" "$IMG" >/dev/null 2>"$WORK/import.err"
check "podman import of a busybox tarball" podman image exists "$IMG"

# --- run: output, exit codes ---
expect_eq "run: output" "hello" "$(pm run --rm "$IMG" echo hello 2>&1)"
pm run --rm "$IMG" sh -c 'exit 3' >/dev/null 2>&1
expect_eq "run: exit code 3" 3 "$?"
pm run --rm "$IMG" /no/such/binary >/dev/null 2>"$WORK/nobin.err"
rc=$?
check "run of a missing binary fails (exit $rc, podman uses 127)" test $rc -eq 127 -o $rc -eq 126
expect_match "... with the runtime's error shown by podman" 'no such file|not found|/no/such/binary' "$(cat "$WORK/nobin.err")"
expect_eq "run -i: stdin piped" "piped-input" "$(echo piped-input | pm run -i --rm "$IMG" cat 2>&1)"
expect_eq "run -t: a tty is allocated" /dev/pts/0 "$(pm_tty run -t --rm "$IMG" tty | tail -n1)"
expect_eq "run --user 1000:1000" "1000 1000" "$(pm run --rm --user 1000:1000 "$IMG" sh -c 'echo $(id -u) $(id -g)' 2>&1)"
expect_eq "run --read-only: root not writable" refused "$(pm run --rm --read-only "$IMG" sh -c 'touch /x 2>/dev/null && echo written || echo refused' 2>&1)"
expect_eq "run --cap-drop CHOWN: chown refused" refused "$(pm run --rm --cap-drop CHOWN "$IMG" sh -c 'touch /tmp/f; chown 1 /tmp/f 2>/dev/null && echo chowned || echo refused' 2>&1)"
capeff=$(pm run --rm --cap-drop ALL --cap-add KILL "$IMG" sh -c 'grep CapEff /proc/self/status' 2>&1 | awk '{print $2}')
expect_eq "run --cap-drop ALL --cap-add KILL: CapEff" 0000000000000020 "$capeff"
expect_eq "run --uidmap: uid_map inside" "0 100000 65536" \
	"$(pm run --rm --uidmap 0:100000:65536 --gidmap 0:100000:65536 "$IMG" cat /proc/self/uid_map 2>&1 | tr -s ' ' | sed 's/^ //')"
expect_eq "run --hostname" vessel-pod "$(pm run --rm --hostname vessel-pod "$IMG" hostname 2>&1)"
expect_eq "run -e" "v1" "$(pm run --rm -e VAR=v1 "$IMG" sh -c 'echo $VAR' 2>&1)"

# --- detached container: logs, exec, pause/unpause, limits, stop ---
c=$P-d
pm run -d --name "$c" --memory 64m --pids-limit 50 "$IMG" sh -c 'echo started; trap "exit 0" TERM; while :; do sleep 0.2; done' >/dev/null 2>"$WORK/d.err"
check "run -d" test "$(status_of "$c")" = running
sleep 0.5
expect_match "logs" '^started$' "$(pm logs "$c" 2>&1)"
expect_eq "--memory 64m in the memory cgroup" 67108864 "$(cat "$(host_cg memory "$c")/memory.limit_in_bytes" 2>&1)"
expect_eq "--pids-limit 50 in the pids cgroup" 50 "$(cat "$(host_cg pids "$c")/pids.max" 2>&1)"
expect_eq "exec" "$(podman inspect -f '{{.Config.Hostname}}' "$c")" "$(pm exec "$c" hostname 2>&1)"
pm exec "$c" sh -c 'exit 5' >/dev/null 2>&1
expect_eq "exec: exit code 5" 5 "$?"
expect_eq "exec -i" "exec-in" "$(echo exec-in | pm exec -i "$c" cat 2>&1)"
expect_match "exec -t: a tty is allocated" '^/dev/pts/[0-9]+$' "$(pm_tty exec -t "$c" tty | tail -n1)"
expect_eq "exec --user" 1000 "$(pm exec --user 1000 "$c" id -u 2>&1)"
check "pause" pmq pause "$c"
expect_eq "paused" paused "$(status_of "$c")"
expect_eq "freezer FROZEN" FROZEN "$(cat "$(host_cg freezer "$c")/freezer.state" 2>&1)"
check "unpause" pmq unpause "$c"
expect_eq "running again" running "$(status_of "$c")"
expect_eq "update --memory (podman update)" 134217728 \
	"$(pm update --memory 128m "$c" >/dev/null 2>&1; cat "$(host_cg memory "$c")/memory.limit_in_bytes" 2>&1)"
check "top (ps through the runtime)" sh -c "podman --runtime '$RUNTIME' top '$c' 2>/dev/null | grep -q sleep"
t0=$(date +%s)
check "stop (SIGTERM handled)" pmq stop -t 10 "$c"
t1=$(date +%s)
expect_eq "stopped: exited" exited "$(status_of "$c")"
check "stop took less than the 10 s grace period ($((t1 - t0)) s)" test $((t1 - t0)) -lt 10
expect_eq "exit code after stop" 0 "$(podman inspect -f '{{.State.ExitCode}}' "$c" 2>&1)"
check "start again" pmq start "$c"
expect_eq "restarted: running" running "$(status_of "$c")"

# --- kill, rm -f ---
check "kill" pmq kill "$c"
sleep 0.5
expect_eq "killed: exited" exited "$(status_of "$c")"
expect_eq "exit code after SIGKILL" 137 "$(podman inspect -f '{{.State.ExitCode}}' "$c" 2>&1)"
c2=$P-f
pm run -d --name "$c2" "$IMG" sleep 300 >/dev/null 2>&1
cgm=$(host_cg memory "$c2")
check "rm -f of a running container" pmq rm -f -t 0 "$c2"
check "it is gone" not podman container exists "$c2"
check "its cgroup is gone" test ! -d "$cgm"
check "rm of the stopped one" pmq rm "$c"
expect_eq "no containers left" "" "$(podman ps -aq 2>&1)"

finish
