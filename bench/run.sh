#!/bin/sh
# Runs every benchmark in bench/ (bench/*.sh except this file: vm_*.sh for
# the VMM against QEMU, oci_*.sh for the container runtime against runc and
# crun), one after the other, and ends with the list of those that failed.
# Arguments are passed to each benchmark (e.g. a run count).
#   make bench            (builds first)
#   bench/run.sh [N]
set -u
here=$(cd "$(dirname "$0")" && pwd)
failed=""
for b in "$here"/*.sh; do
	[ "$b" = "$here/run.sh" ] && continue
	name=$(basename "$b" .sh)
	printf '\n=== %s ===\n' "$name"
	if ! sh "$b" "$@"; then
		failed="$failed $name"
	fi
done
if [ -n "$failed" ]; then
	printf '\nbenchmarks that failed:%s\n' "$failed"
	exit 1
fi
printf '\nall benchmarks ran\n'
