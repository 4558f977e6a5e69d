/* Entry and trap entries of the bare-metal guest test programs.
 * Runs in M-mode from 0x80000000 (a0 = hartid, as QEMU's reset vector and
 * `vessel vm run --bios` start firmware). Hart 0 runs test_main; harts 1-3
 * wait in WFI (machine software interrupt enabled) until hart 0 publishes a
 * function in rt_secondary_fn and sends them an IPI (rt_start_secondaries);
 * higher harts park for good.
 *
 * Stacks, from __stack_top down: hart 0 main (32K), hart 0 M trap (32K),
 * lower-mode stack for rt_run_in (64K), S trap stack (32K), then 32K for
 * each of harts 1-3 (its top 16K main stack, its bottom 16K trap stack). */
#define KB *1024
	.section .text.start, "ax"
	.globl _start
_start:
	.option push
	.option norelax
	la	gp, __global_pointer$
	.option pop
	csrr	s0, mhartid
	la	sp, __stack_top
	beqz	s0, 1f
	li	t0, 4
	bgeu	s0, t0, park_forever
	/* hart h (1..3): sp = top - 160K - (h-1)*32K */
	li	t0, 160 KB
	sub	sp, sp, t0
	addi	t0, s0, -1
	slli	t0, t0, 15
	sub	sp, sp, t0
	li	t0, 16 KB
	sub	t0, sp, t0
	j	2f
1:	li	t0, 32 KB
	sub	t0, sp, t0
2:	csrw	mscratch, t0
	la	t0, trap_entry
	csrw	mtvec, t0
	/* One PMP entry covering everything (NAPOT, RWX) so S and U mode may
	 * access memory: with PMP implemented and no entry matching, S/U
	 * accesses fail (privileged spec 3.7.1). */
	li	t0, -1
	csrw	pmpaddr0, t0
	li	t0, 0x1f
	csrw	pmpcfg0, t0
	/* mstatus.FS = Initial, so F/D instructions do not trap. */
	li	t0, (1 << 13)
	csrs	mstatus, t0
	csrwi	fcsr, 0
	bnez	s0, secondary_wait
	/* Clear .bss. */
	la	t0, __bss_start
	la	t1, __bss_end
1:	bgeu	t0, t1, 2f
	sd	zero, 0(t0)
	addi	t0, t0, 8
	j	1b
2:	call	rt_main
park_forever:
	wfi
	j	park_forever

secondary_wait:
	li	t0, 8 /* mie.MSIE: WFI wakes on the IPI even with mstatus.MIE = 0 */
	csrs	mie, t0
1:	la	t0, rt_secondary_fn
	ld	t1, 0(t0)
	bnez	t1, 2f
	wfi
	j	1b
2:	fence	r, rw
	li	t0, 0x02000000 /* CLINT msip[hart] = 0 */
	slli	t2, s0, 2
	add	t0, t0, t2
	sw	zero, 0(t0)
	mv	a0, s0
	jalr	t1
	j	park_forever

	.data
	.align 3
	.globl rt_secondary_fn
rt_secondary_fn: /* in .data, not .bss: harts 1-3 read it before .bss is cleared */
	.dword 0
	.text

/* Trap entries: save x1-x31 and xepc/xcause/xtval/xstatus in a struct
 * trap_frame on the trap stack (xscratch holds its top), call the C handler
 * with the frame, write xepc and xstatus back from the frame, restore and
 * return with xret. Not re-entrant. */
#define TRAP_ENTRY(name, p, handler) \
	.align 4; \
	.globl name; \
name: \
	csrrw	sp, p##scratch, sp; \
	addi	sp, sp, -288; \
	sd	x1, 8(sp); \
	sd	x3, 24(sp); \
	sd	x4, 32(sp); \
	sd	x5, 40(sp); \
	sd	x6, 48(sp); \
	sd	x7, 56(sp); \
	sd	x8, 64(sp); \
	sd	x9, 72(sp); \
	sd	x10, 80(sp); \
	sd	x11, 88(sp); \
	sd	x12, 96(sp); \
	sd	x13, 104(sp); \
	sd	x14, 112(sp); \
	sd	x15, 120(sp); \
	sd	x16, 128(sp); \
	sd	x17, 136(sp); \
	sd	x18, 144(sp); \
	sd	x19, 152(sp); \
	sd	x20, 160(sp); \
	sd	x21, 168(sp); \
	sd	x22, 176(sp); \
	sd	x23, 184(sp); \
	sd	x24, 192(sp); \
	sd	x25, 200(sp); \
	sd	x26, 208(sp); \
	sd	x27, 216(sp); \
	sd	x28, 224(sp); \
	sd	x29, 232(sp); \
	sd	x30, 240(sp); \
	sd	x31, 248(sp); \
	csrr	t0, p##scratch; \
	sd	t0, 16(sp); \
	csrr	t0, p##epc; \
	sd	t0, 0(sp); \
	csrr	t0, p##cause; \
	sd	t0, 256(sp); \
	csrr	t0, p##tval; \
	sd	t0, 264(sp); \
	csrr	t0, p##status; \
	sd	t0, 272(sp); \
	.option push; \
	.option norelax; \
	la	gp, __global_pointer$; \
	.option pop; \
	mv	a0, sp; \
	call	handler; \
	ld	t0, 0(sp); \
	csrw	p##epc, t0; \
	ld	t0, 272(sp); \
	csrw	p##status, t0; \
	ld	x1, 8(sp); \
	ld	x3, 24(sp); \
	ld	x4, 32(sp); \
	ld	x5, 40(sp); \
	ld	x6, 48(sp); \
	ld	x7, 56(sp); \
	ld	x8, 64(sp); \
	ld	x9, 72(sp); \
	ld	x10, 80(sp); \
	ld	x11, 88(sp); \
	ld	x12, 96(sp); \
	ld	x13, 104(sp); \
	ld	x14, 112(sp); \
	ld	x15, 120(sp); \
	ld	x16, 128(sp); \
	ld	x17, 136(sp); \
	ld	x18, 144(sp); \
	ld	x19, 152(sp); \
	ld	x20, 160(sp); \
	ld	x21, 168(sp); \
	ld	x22, 176(sp); \
	ld	x23, 184(sp); \
	ld	x24, 192(sp); \
	ld	x25, 200(sp); \
	ld	x26, 208(sp); \
	ld	x27, 216(sp); \
	ld	x28, 224(sp); \
	ld	x29, 232(sp); \
	ld	x30, 240(sp); \
	ld	x31, 248(sp); \
	addi	sp, sp, 288; \
	csrrw	sp, p##scratch, sp; \
	p##ret

TRAP_ENTRY(trap_entry, m, rt_trap)
/* S-mode entry, for tests that delegate traps (medeleg/mideleg): stvec =
 * strap_entry, sscratch = top of an S trap stack (rt_strap_stack_top). */
TRAP_ENTRY(strap_entry, s, rt_strap)

/* long rt_run_in(unsigned mode, long (*fn)(long), long arg): runs fn(arg) in
 * privilege `mode` (0 = U, 1 = S) with mret and returns its result. fn
 * returns into rt_lower_return, which makes an ecall with a7 = RT_ECALL_RETURN;
 * rt_trap sees it and resumes in rt_run_in_resume in M-mode. The lower mode
 * runs on the stack below the M trap stack. Not re-entrant. */
	.globl rt_run_in
rt_run_in:
	la	t0, rt_run_in_save
	sd	ra, 0(t0)
	sd	sp, 8(t0)
	sd	s0, 16(t0)
	sd	s1, 24(t0)
	sd	s2, 32(t0)
	sd	s3, 40(t0)
	sd	s4, 48(t0)
	sd	s5, 56(t0)
	sd	s6, 64(t0)
	sd	s7, 72(t0)
	sd	s8, 80(t0)
	sd	s9, 88(t0)
	sd	s10, 96(t0)
	sd	s11, 104(t0)
	/* mstatus.MPP = mode, MPIE = 0 */
	li	t0, (3 << 11) | (1 << 7)
	csrc	mstatus, t0
	slli	t1, a0, 11
	csrs	mstatus, t1
	csrw	mepc, a1
	mv	a0, a2
	la	ra, rt_lower_return
	csrr	sp, mscratch
	li	t0, 65536
	sub	sp, sp, t0
	mret
	.globl rt_lower_return
rt_lower_return:
	li	a7, 0x5e55e1
	ecall
1:	j	1b
	.globl rt_run_in_resume
rt_run_in_resume:
	la	t0, rt_run_in_save
	ld	ra, 0(t0)
	ld	sp, 8(t0)
	ld	s0, 16(t0)
	ld	s1, 24(t0)
	ld	s2, 32(t0)
	ld	s3, 40(t0)
	ld	s4, 48(t0)
	ld	s5, 56(t0)
	ld	s6, 64(t0)
	ld	s7, 72(t0)
	ld	s8, 80(t0)
	ld	s9, 88(t0)
	ld	s10, 96(t0)
	ld	s11, 104(t0)
	ret
	.bss
	.align 3
rt_run_in_save:
	.space 112
