#!/bin/sh
# Builds dirty_fw.c (a bare-metal firmware guest that rewrites 32 MiB of its
# 64 MiB and prints a counter) into a flat binary for `vessel vm run --bios`.
# usage: build_dirty_fw.sh OUT.bin; exit 77 without a riscv64 cross compiler.
set -eu
out=$1
here=$(cd "$(dirname "$0")" && pwd)
for t in riscv64-linux-gnu-gcc riscv64-linux-gnu-objcopy; do
	command -v $t >/dev/null || { echo "SKIP: $t missing" >&2; exit 77; }
done
printf 'SECTIONS { . = 0x80000000; .text : { *(.text.entry) *(.text*) } .rodata : { *(.rodata*) *(.srodata*) }
  .data : { *(.data*) *(.sdata*) } .bss : { *(.sbss*) *(.bss*) *(COMMON) } }\n' >"$out.ld"
riscv64-linux-gnu-gcc -O2 -march=rv64gc -mabi=lp64d -mcmodel=medany -nostdlib -ffreestanding -fno-pic -no-pie \
	-fno-stack-protector -Wl,--build-id=none -Wl,--no-warn-rwx-segments -T "$out.ld" -o "$out.elf" \
	"$here/dirty_fw.c"
riscv64-linux-gnu-objcopy -O binary "$out.elf" "$out"
rm -f "$out.ld" "$out.elf"
