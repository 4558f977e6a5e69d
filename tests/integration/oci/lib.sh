# Shared helpers for the OCI runtime end-to-end tests (sourced, POSIX sh).
#
# The runtime under test is a parameter: RUNTIME=/path/to/vessel-runtime (the
# meson test sets it to the build directory's symlink); RUNTIME=runc runs the
# same checks against the reference runtime. Every runtime call is bounded by
# `timeout`. Exit status: 0 all checks passed, 1 some failed, 77 skipped
# (meson's skip code) when the host cannot run containers.

set -u

OCI_DIR=$(cd "$(dirname "$0")" && pwd)
SRC_ROOT=$(cd "$OCI_DIR/../../.." && pwd)
: "${RUNTIME:=$SRC_ROOT/build/vessel-runtime}"
# Seconds allowed to any single runtime command.
: "${RT_TIMEOUT:=30}"

case "$RUNTIME" in
*/*) RUNTIME=$(cd "$(dirname "$RUNTIME")" && pwd)/$(basename "$RUNTIME") ;;
*) RUNTIME=$(command -v "$RUNTIME" || echo "$RUNTIME") ;;
esac

PASSED=0
FAILED=0
FAILED_NAMES=""

skip_all() {
	echo "SKIP: $*"
	exit 77
}

[ "$(id -u)" = 0 ] || skip_all "needs root"
[ -x "$RUNTIME" ] || skip_all "runtime $RUNTIME not found"
[ -x /bin/busybox ] || skip_all "needs /bin/busybox (busybox-static)"
command -v jq >/dev/null || skip_all "needs jq"

WORK=$(mktemp -d /tmp/vessel-oci-XXXXXX)
# Containers with a user namespace run as an unprivileged host uid: they must
# be able to traverse to their rootfs.
chmod 755 "$WORK"
ROOT=$WORK/state
# 0700 like the runtimes' default roots (/run/runc): a container process
# running as a mapped user must not need access to it.
mkdir -m 700 "$ROOT"
# Unique per test process so that parallel tests never collide on IDs or on
# cgroup paths.
TAG="vt$$"
CG_PARENT=vesseltest

ok() {
	PASSED=$((PASSED + 1))
	echo "ok   - $*"
}

ko() {
	FAILED=$((FAILED + 1))
	FAILED_NAMES="$FAILED_NAMES
  $1"
	echo "FAIL - $*"
}

# check DESCRIPTION COMMAND...: passes when COMMAND succeeds.
check() {
	_d=$1
	shift
	if "$@"; then ok "$_d"; else ko "$_d"; fi
}

# not COMMAND...: succeeds when COMMAND fails.
not() { ! "$@"; }

# alive PID: PID is set and names a live process.
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# gone PID: the process does not exist any more (or is a zombie nobody
# reaped yet: the host's init may be slow to reap re-parented processes).
gone() {
	[ -n "$1" ] || return 1
	[ ! -e "/proc/$1" ] || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

# jqf [JQ-OPTIONS] FILTER FILE: succeeds when FILTER is true of FILE.
jqf() { jq -e "$@" >/dev/null 2>&1; }

# jq_ok JSON-TEXT FILTER: succeeds when FILTER is true of the JSON text.
jq_ok() { printf '%s' "$1" | jq -e "$2" >/dev/null 2>&1; }

# kv KEY TEXT: the value of the first "KEY=value" line of TEXT.
kv() { printf '%s\n' "$2" | sed -n "s/^$1=//p" | head -n1; }

# expect_eq DESCRIPTION EXPECTED ACTUAL
expect_eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		ko "$1" "(expected '$2', got '$3')"
	fi
}

# expect_match DESCRIPTION EXTENDED-REGEX TEXT
expect_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then
		ok "$1"
	else
		ko "$1" "(no match for /$2/ in: $(printf '%s' "$3" | head -c 400))"
	fi
}

# rt ARGS...: the runtime under test with the private state root.
rt() {
	timeout -k 5 "$RT_TIMEOUT" "$RUNTIME" --root "$ROOT" "$@"
}

# A busybox root filesystem shared (read-only by default) by the bundles.
make_rootfs() {
	_r=$1
	mkdir -p "$_r/bin" "$_r/proc" "$_r/sys" "$_r/dev" "$_r/tmp" "$_r/etc" \
		"$_r/mnt" "$_r/root" "$_r/shared" "$_r/home/user"
	cp /bin/busybox "$_r/bin/busybox"
	for _a in $(/bin/busybox --list); do
		[ "$_a" = busybox ] || ln -sf busybox "$_r/bin/$_a"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$_r/etc/passwd"
	printf 'root:x:0:\nuser:x:1000:\ng10:x:10:\ng20:x:20:\nnogroup:x:65534:\n' >"$_r/etc/group"
	chmod 1777 "$_r/tmp"
}

ROOTFS=$WORK/rootfs
make_rootfs "$ROOTFS"

# The base config.json comes from the runtime's own `spec` command.
mkdir -p "$WORK/spec"
if ! (cd "$WORK/spec" && timeout 10 "$RUNTIME" spec) >"$WORK/spec/out" 2>&1 ||
	! jq -e . "$WORK/spec/config.json" >/dev/null 2>&1; then
	echo "FAIL - '$RUNTIME spec' did not write a valid config.json: $(cat "$WORK/spec/out")"
	rm -rf "$WORK"
	exit 1
fi

# bundle NAME [JQ-FILTER [JQ-ARGS...]]: makes $WORK/NAME/config.json from the
# spec, non-terminal, rootfs shared, cgroup under /vesseltest/<id>, hostname
# "vessel-test", then the filter; prints the bundle directory. The container
# ID to use with it is "$TAG-NAME" (see cid).
bundle() {
	_n=$1
	shift
	_f=${1:-.}
	[ $# -gt 0 ] && shift
	_b=$WORK/b-$_n
	mkdir -p "$_b"
	jq --arg root "$ROOTFS" --arg cg "/$CG_PARENT/$TAG-$_n" "$@" \
		".process.terminal = false | .root.path = \$root | .linux.cgroupsPath = \$cg
		 | .hostname = \"vessel-test\" | $_f" \
		"$WORK/spec/config.json" >"$_b/config.json" || {
		echo "bad jq filter: $_f" >&2
		return 1
	}
	echo "$_b"
}

cid() { echo "$TAG-$1"; }

# Sets process.args from the remaining arguments as a jq filter fragment.
# args_sh 'SCRIPT' => .process.args = ["sh","-c",SCRIPT]
args_sh() {
	jq -cn --arg s "$1" '["sh","-c",$s]'
}

# run_c NAME [JQ-FILTER]: runs a bundle attached (`run`), stdout to
# $WORK/NAME.out, stderr to $WORK/NAME.err; returns the container's status.
run_c() {
	_n=$1
	shift
	_b=$(bundle "$_n" "$@") || return 125
	rt run --bundle "$_b" "$(cid "$_n")" </dev/null >"$WORK/$_n.out" 2>"$WORK/$_n.err"
}

# out NAME: what the container NAME printed.
out() { cat "$WORK/$1.out"; }

# sh_c NAME SCRIPT [EXTRA-JQ-FILTER]: run_c with process.args = sh -c SCRIPT.
sh_c() {
	_n=$1
	_s=$2
	_x=${3:-.}
	run_c "$_n" ".process.args = [\"sh\",\"-c\",\$s] | $_x" --arg s "$_s"
}

# start_bg NAME SCRIPT [FILTER [JQ-ARGS...]]: create + start a detached
# container running sh -c SCRIPT; its host pid is printed.
start_bg() {
	_n=$1
	_s=$2
	_x=${3:-.}
	shift 2
	[ $# -gt 0 ] && shift
	_b=$(bundle "$_n" ".process.args = [\"sh\",\"-c\",\$s] | $_x" --arg s "$_s" "$@") || return 1
	rt create --bundle "$_b" --pid-file "$WORK/$_n.pid" "$(cid "$_n")" \
		</dev/null >"$WORK/$_n.out" 2>"$WORK/$_n.err" || return 1
	rt start "$(cid "$_n")" </dev/null >>"$WORK/$_n.out" 2>>"$WORK/$_n.err" || return 1
	cat "$WORK/$_n.pid"
}

# state_field ID FIELD: one field of `state`.
state_field() {
	rt state "$1" 2>/dev/null | jq -r ".$2"
}

# wait_status ID STATUS [TENTHS]: polls `state` until the status is reached.
wait_status() {
	_i=0
	while [ $_i -lt "${3:-50}" ]; do
		[ "$(state_field "$1" status)" = "$2" ] && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# cg_dir CONTROLLER NAME: the v1 cgroup directory of container NAME.
cg_dir() { echo "/sys/fs/cgroup/$1/$CG_PARENT/$(cid "$2")"; }

# cg_traces NAME: lists every cgroup directory left for container NAME.
cg_traces() {
	for _c in /sys/fs/cgroup/*/; do
		[ -d "$_c$CG_PARENT/$(cid "$1")" ] && echo "$_c$CG_PARENT/$(cid "$1")"
	done
	return 0
}

# Removes everything the tests may have left behind (also on interrupt).
cleanup() {
	for _d in "$ROOT"/*/; do
		[ -d "$_d" ] || continue
		_id=$(basename "$_d")
		timeout 10 "$RUNTIME" --root "$ROOT" kill "$_id" KILL >/dev/null 2>&1
		timeout 10 "$RUNTIME" --root "$ROOT" delete --force "$_id" >/dev/null 2>&1
	done
	# Runtime processes stuck past their timeout (e.g. a child that lost its
	# parent) still carry "--root $ROOT" in their command line.
	for _p in /proc/[0-9]*; do
		[ "${_p#/proc/}" = $$ ] && continue
		{ tr '\0' ' ' <"$_p/cmdline"; } 2>/dev/null | grep -q -- "--root $ROOT " &&
			kill -9 "${_p#/proc/}" 2>/dev/null
	done
	for _c in /sys/fs/cgroup/*/$CG_PARENT/$TAG-* /sys/fs/cgroup/unified/$CG_PARENT/$TAG-*; do
		[ -d "$_c" ] || continue
		[ -f "$_c/cgroup.procs" ] && for _p in $(cat "$_c/cgroup.procs"); do kill -9 "$_p" 2>/dev/null; done
		sleep 0.1
		rmdir "$_c" 2>/dev/null
	done
	# The shared parent goes when the last test using it is done (rmdir
	# refuses while another test's cgroups are below it).
	rmdir /sys/fs/cgroup/*/$CG_PARENT 2>/dev/null
	grep -o " $WORK[^ ]*" /proc/mounts 2>/dev/null | sort -r | while read -r _m; do
		umount -l "$_m" 2>/dev/null
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# finish: prints the summary and exits with the tests' status.
finish() {
	echo "# $(basename "$0") with $RUNTIME: $PASSED passed, $FAILED failed"
	if [ "$FAILED" -gt 0 ]; then
		echo "# failed:$FAILED_NAMES"
		exit 1
	fi
	exit 0
}
