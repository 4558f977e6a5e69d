#!/bin/sh
# The whole test suite: a normal build with every suite (unit, guest programs,
# Linux boot, container runtime), then the same code under AddressSanitizer +
# UndefinedBehaviorSanitizer for the suites that exercise parsing and devices,
# then a bounded libFuzzer run of every harness.
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh

step() { printf '\n=== %s ===\n' "$*"; }

step "build (release)"
[ -f build/build.ninja ] || meson setup build
meson setup --reconfigure build >/dev/null
ninja -C build

step "tests (release build)"
meson test -C build --print-errorlogs --num-processes 2

step "build (ASan + UBSan)"
[ -f build-asan/build.ninja ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
meson setup --reconfigure build-asan >/dev/null
ninja -C build-asan

step "tests (ASan + UBSan)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	meson test -C build-asan --print-errorlogs --num-processes 2 --suite sanitize

if [ -x tests/fuzz/run.sh ]; then
	step "fuzzing (bounded)"
	tests/fuzz/run.sh
fi
step "all tests passed"
