#!/bin/sh
# Differential test of src/vm/cpu/fpu.c against QEMU's RISC-V FPU: runs
# COUNT random F/D instructions (seed SEED) under qemu-riscv64 with fpvec and
# replays them through fpu_exec with fpcheck. Needs gcc-riscv64-linux-gnu and
# qemu-user (Debian packages). Usage: diff_qemu.sh [COUNT] [SEED]
# Exit status 0 when every result and fflags value matched.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
count=${1:-100000}
seed=${2:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
riscv64-linux-gnu-gcc -static -O2 -Wall -Wextra -Werror -o "$tmp/fpvec" "$here/fpvec.c"
cc -O2 -Wall -Wextra -Werror -I"$root/src" -o "$tmp/fpcheck" "$here/fpcheck.c" \
	"$root/src/vm/cpu/fpu.c" -lm
qemu-riscv64 "$tmp/fpvec" "$count" "$seed" > "$tmp/vectors.txt"
"$tmp/fpcheck" < "$tmp/vectors.txt"
