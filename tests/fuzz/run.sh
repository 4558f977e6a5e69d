#!/bin/sh
# Builds every libFuzzer harness in tests/fuzz/ with clang (ASan + UBSan) and
# runs each for a bounded time (FUZZ_SECONDS, default 20) starting from its
# seed corpus in tests/fuzz/corpus/<name>/ if there is one. Exits non-zero on
# the first finding; the crashing input is left in build-fuzz/findings/.
set -eu
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-20}
# gcc with -Werror is the warnings gate; clang only has to build the fuzzers.
# fuzzer-no-link instruments the library too, so coverage guides into it.
if [ ! -f build-fuzz/build.ninja ]; then
	CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined \
		-Db_lundef=false -Dbuildtype=debugoptimized -Dwerror=false \
		-Dc_args=-fsanitize=fuzzer-no-link >/dev/null
fi
ninja -C build-fuzz >/dev/null
mkdir -p build-fuzz/findings
status=0
for src in tests/fuzz/fuzz_*.c; do
	name=$(basename "$src" .c)
	work=$(mktemp -d)
	[ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$work/"
	printf '%s: %ss ... ' "$name" "$secs"
	if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		"build-fuzz/tests/fuzz/$name" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
		-artifact_prefix="build-fuzz/findings/$name-" "$work" >"build-fuzz/$name.log" 2>&1; then
		echo "ok ($(grep -o 'Done [0-9]* runs' "build-fuzz/$name.log" || echo done))"
	else
		echo "FINDING (see build-fuzz/$name.log)"
		tail -40 "build-fuzz/$name.log"
		status=1
	fi
	rm -rf "$work"
done
exit $status
