#!/bin/sh
# The whole test suite: a normal build with every suite (unit, guest programs,
# Linux boot, container runtime), then the same code under AddressSanitizer +
# UndefinedBehaviorSanitizer for the suites tagged 'sanitize', then a bounded
# libFuzzer run of every harness. Ends with one "N passed, N failed" line.
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh

step() { printf '\n=== %s ===\n' "$*"; }
status=0

step "build (release)"
[ -f build/build.ninja ] || meson setup build
meson setup --reconfigure build >/dev/null
ninja -C build

step "tests (release build)"
meson test -C build --print-errorlogs --num-processes 2 || status=1

step "build (ASan + UBSan)"
[ -f build-asan/build.ninja ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
meson setup --reconfigure build-asan >/dev/null
ninja -C build-asan

step "tests (ASan + UBSan)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	meson test -C build-asan --print-errorlogs --num-processes 2 --suite sanitize || status=1

fuzz_failed=0
if [ -x tests/fuzz/run.sh ]; then
	step "fuzzing (bounded)"
	tests/fuzz/run.sh || { status=1; fuzz_failed=1; }
fi

step "summary"
python3 - "$fuzz_failed" <<'PY'
import json, sys
passed = failed = skipped = 0
for log in ("build/meson-logs/testlog.json", "build-asan/meson-logs/testlog.json"):
    try:
        lines = open(log).read().splitlines()
    except OSError:
        continue
    for line in lines:
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
            print("failed:", json.loads(line).get("name"), r)
failed += int(sys.argv[1])
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
