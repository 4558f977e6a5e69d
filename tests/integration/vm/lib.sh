# Sourced by the VM integration tests (migrate*.sh): a private temporary
# directory, the processes to kill when the test ends, and polling
# helpers. Usage, after `set -eu`:
#   . "$here/lib.sh"; vm_test_init NAME
# Sets $tmp (removed at exit unless VESSEL_KEEP_TMP is set) and $pids
# (append every background PID: they are killed at exit). `fail` prints
# the tail of each $tmp/*.err and of the files in $FAIL_LOGS.

vm_test_init() { # NAME
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/vessel-$1.XXXXXX")
	pids=""
	FAIL_LOGS=${FAIL_LOGS:-}
	trap vm_test_cleanup EXIT INT TERM
}

vm_test_cleanup() {
	for p in $pids; do kill -9 "$p" 2>/dev/null || true; done
	if [ -n "${VESSEL_KEEP_TMP:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}

fail() {
	echo "FAIL: $*" >&2
	for f in "$tmp"/*.err $FAIL_LOGS; do [ -f "$f" ] && { echo "--- $f"; tail -5 "$f"; } >&2; done
	exit 1
}

# a TCP port free on 127.0.0.1 right now
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_for FILE PATTERN SECONDS: FILE holds PATTERN (grep), else status 1
wait_for() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le $(($3 * 10)) ] || return 1
		sleep 0.1
	done
}

# wait_exit PID SECONDS: its exit status (killed after SECONDS: 124)
wait_exit() {
	i=0
	while kill -0 "$1" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt $(($2 * 10)) ]; then
			kill -9 "$1" 2>/dev/null || true
			wait "$1" 2>/dev/null || true
			return 124
		fi
		sleep 0.1
	done
	st=0
	wait "$1" || st=$?
	return $st
}

# last_counter FILE: the last "C: N" counter a guest printed in FILE
last_counter() {
	[ -f "$1" ] || return 0
	tr -d '\r' <"$1" | grep -o '^C: [0-9]*' | tail -1 | cut -d' ' -f2
}

# wait_counter FILE N SECONDS: the guest printed a counter >= N in FILE
wait_counter() {
	i=0
	while :; do
		c=$(last_counter "$1")
		[ -n "$c" ] && [ "$c" -ge "$2" ] && return 0
		i=$((i + 1))
		[ $i -le $(($3 * 10)) ] || return 1
		sleep 0.1
	done
}
