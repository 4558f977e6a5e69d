#!/bin/sh
# End-to-end checks of `vessel vm run`: flags and their errors, images that do
# not fit, --dump-dtb, exit statuses through the test device and the built-in
# SBI, guest faults, and stdin EOF. Tiny guests are assembled on the fly with
# the riscv64 cross assembler (skipped without it).
# usage: vm_cli.sh VESSEL
set -u
VESSEL=$1
T=$(mktemp -d /tmp/vessel-vm-cli.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
ok() { echo "ok - $1"; }
bad() { echo "not ok - $1"; fails=$((fails + 1)); }

# expect STATUS GREP-PATTERN DESCRIPTION -- command...
expect() {
	want=$1 pat=$2 what=$3
	shift 4
	timeout 60 "$@" </dev/null >"$T/out" 2>&1
	got=$?
	if [ "$got" != "$want" ]; then
		bad "$what: exit $got, expected $want"; sed 's/^/    /' "$T/out" | tail -5
	elif [ -n "$pat" ] && ! grep -q -- "$pat" "$T/out"; then
		bad "$what: output lacks '$pat'"; sed 's/^/    /' "$T/out" | tail -5
	else
		ok "$what"
	fi
}

printf 'x' >"$T/k"
expect 0 "usage" "vm --help" -- "$VESSEL" vm --help
expect 2 "" "vm without command" -- "$VESSEL" vm
expect 2 "kernel" "run without --kernel" -- "$VESSEL" vm run
expect 2 "cpus" "--cpus 9" -- "$VESSEL" vm run --kernel "$T/k" --cpus 9
expect 2 "cpus" "--cpus abc" -- "$VESSEL" vm run --kernel "$T/k" --cpus abc
expect 2 "memory" "--memory 1M" -- "$VESSEL" vm run --kernel "$T/k" --memory 1M
expect 2 "memory" "--memory 64T" -- "$VESSEL" vm run --kernel "$T/k" --memory 64T
expect 1 "open 'x.img': No such file" "--disk: a missing image is a clear error" -- "$VESSEL" vm run --kernel "$T/k" --disk x.img
expect 2 "unknown option 'cache=none'" "--disk: unknown option" -- "$VESSEL" vm run --kernel "$T/k" --disk "$T/k,cache=none"
expect 2 "format 'vmdk' is not raw or qcow2" "--disk: unknown format" -- "$VESSEL" vm run --kernel "$T/k" --disk "$T/k,format=vmdk"
expect 1 "expected none, user" "--net: bad spec" -- "$VESSEL" vm run --kernel "$T/k" --net wifi
expect 2 "expected a unicast address" "--mac: bad address" -- "$VESSEL" vm run --kernel "$T/k" --mac 01:00:00:00:00:01
expect 2 "" "unknown flag" -- "$VESSEL" vm run --kernel "$T/k" --frobnicate
expect 1 "No such file" "missing kernel file" -- "$VESSEL" vm run --kernel "$T/nope"
expect 1 "initrd" "missing initrd file" -- "$VESSEL" vm run --kernel "$T/k" --initrd "$T/nope"
expect 1 "regular file" "kernel is a directory" -- "$VESSEL" vm run --kernel "$T"
head -c 20000000 /dev/zero >"$T/big"
expect 1 "do not fit" "kernel larger than RAM" -- "$VESSEL" vm run --kernel "$T/big" --memory 16M
expect 1 "do not fit" "initrd larger than RAM" -- "$VESSEL" vm run --kernel "$T/k" --initrd "$T/big" --memory 16M
expect 0 "" "--dump-dtb" -- "$VESSEL" vm run --kernel "$T/k" --cpus 3 --append "console=ttyS0" --dump-dtb "$T/v.dtb"
if [ "$(od -An -tx1 -N4 "$T/v.dtb" | tr -d ' ')" = "d00dfeed" ]; then ok "dtb magic"; else bad "dtb magic"; fi
if command -v dtc >/dev/null; then
	dtc -I dtb -O dts "$T/v.dtb" 2>/dev/null >"$T/v.dts"
	grep -q 'cpu@2' "$T/v.dts" && ! grep -q 'cpu@3' "$T/v.dts" && grep -q 'console=ttyS0' "$T/v.dts" &&
		ok "dtb has 3 cpus and bootargs" || bad "dtb contents"
fi

AS=riscv64-linux-gnu-as
LD=riscv64-linux-gnu-ld
OBJCOPY=riscv64-linux-gnu-objcopy
if ! command -v $AS >/dev/null || ! command -v $LD >/dev/null || ! command -v $OBJCOPY >/dev/null; then
	echo "# riscv64 binutils missing: guest checks skipped"
	[ $fails = 0 ]; exit $?
fi
# asm NAME: assembles stdin into $T/NAME.bin (flat; position-independent code)
asm() {
	$AS -march=rv64gc -o "$T/$1.o" - && $LD -Ttext=0x80000000 -e 0x80000000 -o "$T/$1.elf" "$T/$1.o" &&
		$OBJCOPY -O binary "$T/$1.elf" "$T/$1.bin"
}
# M-mode firmware: report failure code 7 through the test device
asm fail7 <<'A'
	li t0, 0x100000
	li t1, (7 << 16) | 0x3333
	sw t1, 0(t0)
1:	j 1b
A
expect 7 "" "syscon failure code becomes the exit status" -- "$VESSEL" vm run --bios "$T/fail7.bin"
asm pass <<'A'
	li t0, 0x100000
	li t1, 0x5555
	sw t1, 0(t0)
1:	j 1b
A
expect 0 "" "syscon poweroff exits 0" -- "$VESSEL" vm run --bios "$T/pass.bin" --cpus 2
# S-mode kernel on the built-in SBI: DBCN write, base probe, SRST shutdown
asm sbi <<'A'
	lla a1, msg
	li a0, 6
	li a2, 0
	li a6, 0
	li a7, 0x4442434E
	ecall
	li a0, 0x48534D
	li a6, 3
	li a7, 0x10
	ecall
	bnez a0, fail
	beqz a1, fail
	li a0, 0
	li a1, 0
	li a6, 0
	li a7, 0x53525354
	ecall
fail:
	li a0, 0
	li a1, 1
	li a6, 0
	li a7, 0x53525354
	ecall
1:	j 1b
msg:	.ascii "hello\n"
A
expect 0 "hello" "built-in SBI: console write and shutdown" -- "$VESSEL" vm run --kernel "$T/sbi.bin"
# A load from an unmapped address with no trap handler (mtvec = 0, itself
# unmapped): the hart must give up through ops->fatal (clear error, status 1)
# rather than spin.
asm fault <<'A'
	csrw mtvec, zero
	li t0, 0x40000000
	ld t1, 0(t0)
1:	j 1b
A
timeout 30 "$VESSEL" vm run --bios "$T/fault.bin" </dev/null >"$T/out" 2>&1
st=$?
if [ $st != 0 ] && [ $st != 124 ] && grep -q "cannot continue" "$T/out"; then ok "guest fault: clear error ($st)"
else bad "guest fault: status $st, expected a clear error"; cat "$T/out"; fi
[ $fails = 0 ]
