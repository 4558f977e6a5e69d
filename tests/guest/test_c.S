/* C extension (unprivileged spec chapter 16), in assembly so every
 * instruction is the compressed form named: arithmetic (c.li, c.lui,
 * c.addi, c.addiw, c.addi16sp, c.addi4spn, c.mv, c.add, c.sub, c.subw,
 * c.addw, c.and, c.or, c.xor, c.andi, c.slli, c.srli, c.srai), loads and
 * stores (c.lw, c.ld, c.sw, c.sd, c.lwsp, c.ldsp, c.swsp, c.sdsp, c.fld,
 * c.fsd, c.fldsp, c.fsdsp), control flow (c.j, c.jr, c.jalr, c.beqz,
 * c.bnez), and 32-bit instructions at 2-byte aligned addresses, including
 * one that straddles a 4 KiB page boundary. */
#define EXPECT(reg, val) \
	li	t6, val; \
	beq	reg, t6, 1f; \
	mv	a1, reg; \
	li	a0, __LINE__; \
	j	fail; \
1:

	.text
	.globl test_main
test_main:
	addi	sp, sp, -64
	sd	ra, 56(sp)
	sd	s0, 48(sp)
	sd	s1, 40(sp)

	c.li	a0, -32
	EXPECT(a0, -32)
	c.li	a0, 31
	EXPECT(a0, 31)
	c.lui	a1, 0xfffe0		/* imm 0x20 sign-extended: -0x20 << 12 */
	EXPECT(a1, 0xfffffffffffe0000)
	c.lui	a1, 1
	EXPECT(a1, 0x1000)
	c.addi	a1, -1
	EXPECT(a1, 0xfff)
	li	a2, 0x7fffffff
	c.addiw	a2, 1
	EXPECT(a2, 0xffffffff80000000)
	c.mv	a3, a2
	EXPECT(a3, 0xffffffff80000000)
	c.add	a3, a2
	EXPECT(a3, 0xffffffff00000000)
	li	s0, 10
	li	s1, 3
	c.sub	s0, s1
	EXPECT(s0, 7)
	li	s0, 0x7fffffff
	c.addw	s0, s1
	EXPECT(s0, 0xffffffff80000002)
	li	s0, 0
	c.subw	s0, s1
	EXPECT(s0, -3)
	li	s0, 0xf0
	li	s1, 0x3c
	c.and	s0, s1
	EXPECT(s0, 0x30)
	c.or	s0, s1
	EXPECT(s0, 0x3c)
	c.xor	s0, s1
	EXPECT(s0, 0)
	li	s0, -1
	c.andi	s0, -16
	EXPECT(s0, -16)
	li	s0, 1
	c.slli	s0, 63
	EXPECT(s0, 0x8000000000000000)
	c.srai	s0, 3
	EXPECT(s0, 0xf000000000000000)
	c.srli	s0, 60
	EXPECT(s0, 15)

	/* stack-pointer forms */
	mv	t0, sp
	c.addi16sp sp, -32
	sub	t1, t0, sp
	EXPECT(t1, 32)
	c.addi16sp sp, 32
	c.addi4spn s1, sp, 8
	sub	t1, s1, sp
	EXPECT(t1, 8)
	li	a4, 0x1122334455667788
	c.sdsp	a4, 0(sp)
	c.ldsp	a5, 0(sp)
	EXPECT(a5, 0x1122334455667788)
	c.lwsp	a5, 0(sp)
	EXPECT(a5, 0x55667788)
	li	a4, 0x80000000
	c.swsp	a4, 4(sp)
	c.lwsp	a5, 4(sp)
	EXPECT(a5, 0xffffffff80000000)
	c.ld	a5, 0(s1)		/* s1 = sp + 8 */
	c.sd	a5, 8(s1)
	ld	a3, 16(sp)
	EXPECT(a3, 0)
	mv	s0, sp
	c.sd	a4, 0(s0)
	c.ld	a5, 0(s0)
	EXPECT(a5, 0x80000000)
	c.sw	a4, 0(s0)
	c.lw	a5, 0(s0)
	EXPECT(a5, 0xffffffff80000000)

	/* FP loads/stores (mstatus.FS is on) */
	li	a4, 0x400921fb54442d18	/* pi */
	sd	a4, 16(sp)
	c.fldsp	fa0, 16(sp)
	c.fsdsp	fa0, 24(sp)
	ld	a5, 24(sp)
	EXPECT(a5, 0x400921fb54442d18)
	addi	s0, sp, 16
	c.fld	fa1, 0(s0)
	c.fsd	fa1, 16(s0)
	ld	a5, 32(sp)
	EXPECT(a5, 0x400921fb54442d18)

	/* control flow */
	li	a5, 0
	c.j	2f
	li	a5, 1
2:	EXPECT(a5, 0)
	li	s0, 0
	c.beqz	s0, 3f
	li	a5, 2
3:	EXPECT(a5, 0)
	c.bnez	s0, 4f
	li	a5, 3
4:	EXPECT(a5, 3)
	la	t0, 5f
	c.jr	t0
	li	a5, 4
5:	EXPECT(a5, 3)
	la	t0, 6f
	c.jalr	t0			/* ra = address of the next (2-byte) instruction */
7:	j	8f
6:	la	t1, 7b
	beq	ra, t1, 8f
	mv	a1, ra
	li	a0, __LINE__
	j	fail
8:
	/* 32-bit instruction at an address that is 2 mod 4 */
	.balign 4
	c.nop
	addi	a5, zero, 77
	EXPECT(a5, 77)
	/* 32-bit instruction straddling a 4 KiB page boundary */
	j	9f
	.balign 4096
	.skip 4096 - 4
9:	c.nop
	lui	a5, 0x12345		/* bytes 4094..4097: crosses into the next page */
	EXPECT(a5, 0x12345000)

	li	a0, 0
	ld	ra, 56(sp)
	ld	s0, 48(sp)
	ld	s1, 40(sp)
	addi	sp, sp, 64
	ret

/* a0 = line, a1 = value seen */
fail:
	mv	s0, a0
	mv	s1, a1
	la	a0, msg_value
	call	rt_puts
	mv	a0, s1
	call	rt_puthex
	la	a0, msg_nl
	call	rt_puts
	la	a0, msg_file
	mv	a1, s0
	la	a2, msg_what
	call	rt_fail

	.section .rodata
msg_value: .asciz "  got "
msg_nl: .asciz "\n"
msg_file: .asciz "test_c.S"
msg_what: .asciz "unexpected register value"
