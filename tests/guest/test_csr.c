/* CSRs (privileged spec chapter 3, Zicsr, Zicntr): misa (RV64, IMAFDC, S,
 * U), identity CSRs exist (OpenSBI reads them), mhartid, read-write scratch
 * registers keep all bits, WARL fields (mepc bit 0, mtvec mode, satp with
 * an unsupported mode), writes to read-only CSRs and accesses to
 * nonexistent CSRs raise illegal-instruction, counters count, CSRRS/CSRRC
 * with x0 do not write, and the fcsr/frm/fflags aliases. */
#include "rt.h"

static volatile uint64_t trap_cause, trap_tval, trap_count;

static int on_trap(struct trap_frame *f)
{
	trap_cause = f->mcause;
	trap_tval = f->mtval;
	trap_count++;
	f->x[0] += rt_insn_len(f->x[0]);
	return 1;
}

/* The instruction bits of a CSR access, as mtval may report them. */
static uint32_t insn_at(uint64_t pc) { return *(volatile uint32_t *)pc; }

#define EXPECT_ILLEGAL(asmstr)                                                 \
	do {                                                                   \
		uint64_t _pc;                                                  \
		trap_count = 0;                                                \
		__asm__ volatile("la %0, 1f\n 1: " asmstr : "=&r"(_pc)::"memory"); \
		CHECK_EQ(trap_count, 1);                                       \
		CHECK_EQ(trap_cause, CAUSE_ILLEGAL);                           \
		/* mtval is 0 or the faulting instruction (3.1.16) */          \
		CHECK(trap_tval == 0 || trap_tval == insn_at(_pc));            \
	} while (0)

int test_main(void)
{
	rt_trap_handler = on_trap;

	uint64_t misa = csr_read(misa);
	CHECK_EQ(misa >> 62, 2); /* MXL = 64 */
	for (const char *e = "IMAFDCSU"; *e; e++)
		CHECK(misa & (1ull << (*e - 'A')));
	CHECK_EQ(csr_read(mhartid), 0);
	(void)csr_read(mvendorid);
	(void)csr_read(marchid);
	(void)csr_read(mimpid);
	CHECK_EQ(trap_count, 0);

	/* scratch registers hold any value */
	uint64_t saved = csr_read(mscratch);
	csr_write(mscratch, 0xa5a5a5a55a5a5a5aull);
	CHECK_EQ(csr_read(mscratch), 0xa5a5a5a55a5a5a5aull);
	uint64_t old;
	__asm__ volatile("csrrw %0, mscratch, %1" : "=r"(old) : "r"(~0ull));
	CHECK_EQ(old, 0xa5a5a5a55a5a5a5aull);
	CHECK_EQ(csr_read(mscratch), ~0ull);
	csr_clear(mscratch, 0xff);
	CHECK_EQ(csr_read(mscratch), ~0xffull);
	csr_set(mscratch, 0x1);
	CHECK_EQ(csr_read(mscratch), ~0xfeull);
	__asm__ volatile("csrrci %0, mscratch, 0x1f" : "=r"(old));
	CHECK_EQ(old, ~0xfeull);
	CHECK_EQ(csr_read(mscratch), ~0xffull);
	csr_write(mscratch, saved);
	csr_write(sscratch, 0x123456789abcdef0ull);
	CHECK_EQ(csr_read(sscratch), 0x123456789abcdef0ull);

	/* mepc: bit 0 is always zero (3.1.14; IALIGN=16 with C). QEMU 7.2
	 * keeps the bit in the CSR and clears it only when it jumps (mret), so
	 * accept that too; bit 1 must stay. */
	saved = csr_read(mepc);
	csr_write(mepc, 0x80001233ull);
	CHECK(csr_read(mepc) == 0x80001232ull || csr_read(mepc) == 0x80001233ull);
	csr_write(mepc, saved);

	/* mtvec: mode 0 and 1 are legal; base is 4-byte aligned */
	saved = csr_read(mtvec);
	csr_write(mtvec, 0x80004001ull);
	CHECK_EQ(csr_read(mtvec), 0x80004001ull);
	csr_write(mtvec, saved);
	CHECK_EQ(csr_read(mtvec), saved);

	/* satp: writing an unsupported MODE has no effect at all (4.1.11) */
	csr_write(satp, 0);
	csr_write(satp, (1ull << 60) | 0x1234);
	CHECK_EQ(csr_read(satp), 0);
	/* Sv39 (8) is supported; in M-mode it changes nothing but the CSR */
	csr_write(satp, (8ull << 60) | 0x80123ull);
	CHECK_EQ(csr_read(satp), (8ull << 60) | 0x80123ull);
	csr_write(satp, 0);

	/* sstatus is a view of mstatus */
	csr_set(mstatus, 1ull << 18); /* SUM */
	CHECK(csr_read(sstatus) & (1ull << 18));
	csr_clear(sstatus, 1ull << 18);
	CHECK(!(csr_read(mstatus) & (1ull << 18)));
	/* mstatus.UXL/SXL read 2 (64-bit) on RV64 */
	CHECK_EQ((csr_read(mstatus) >> 32) & 0xf, 0xa);
	/* sie is mie masked by what S can see: MTIE is not visible */
	csr_write(mideleg, 0x222);
	csr_write(mie, 0x80 | 0x20);
	CHECK_EQ(csr_read(sie), 0x20);
	csr_write(mie, 0);
	csr_write(mideleg, 0);

	/* read-only CSRs: writes trap, reads do not */
	EXPECT_ILLEGAL("csrw mhartid, zero");
	EXPECT_ILLEGAL("csrw mvendorid, zero");
	EXPECT_ILLEGAL("csrw cycle, zero");
	EXPECT_ILLEGAL("csrrs zero, time, t0"); /* t0 != x0: a write */
	trap_count = 0;
	__asm__ volatile("csrrs %0, time, zero" : "=r"(old)); /* rs1 = x0: no write */
	__asm__ volatile("csrrc %0, mhartid, zero" : "=r"(old));
	__asm__ volatile("csrrsi %0, cycle, 0" : "=r"(old));
	CHECK_EQ(trap_count, 0);
	/* nonexistent CSRs */
	EXPECT_ILLEGAL("csrr t0, 0x7ff");
	EXPECT_ILLEGAL("csrr t0, 0x1ff");

	/* counters move: instret by at least the instructions run */
	uint64_t i0 = csr_read(instret), c0 = csr_read(cycle);
	for (volatile int i = 0; i < 1000; i++)
		;
	uint64_t i1 = csr_read(instret), c1 = csr_read(cycle);
	CHECK(i1 - i0 >= 1000);
	CHECK(c1 > c0);
	CHECK(csr_read(minstret) >= i1);
	/* time follows mtime (10 MHz) and advances */
	uint64_t t0 = csr_read(time), m0 = mmio_read64(CLINT_MTIME);
	CHECK(m0 >= t0);
	uint64_t t1 = t0;
	for (int i = 0; i < 10000000 && t1 == t0; i++)
		t1 = csr_read(time);
	CHECK(t1 > t0);
	/* mcycle is writable in M-mode */
	csr_write(mcycle, 0);
	CHECK(csr_read(mcycle) < 1000000);

	/* floating-point CSRs: frm and fflags are fields of fcsr */
	csr_write(fcsr, 0);
	csr_write(frm, 3);
	csr_write(fflags, 0x15);
	CHECK_EQ(csr_read(fcsr), (3 << 5) | 0x15);
	csr_write(fcsr, 0xfff);
	CHECK_EQ(csr_read(fcsr), 0xff); /* bits 8+ are reserved, read 0 */
	CHECK_EQ(csr_read(frm), 7);
	CHECK_EQ(csr_read(fflags), 0x1f);
	csr_write(fcsr, 0);
	/* with mstatus.FS = Off, FP CSRs and instructions trap */
	csr_clear(mstatus, 3ull << 13);
	EXPECT_ILLEGAL("csrr t0, fcsr");
	EXPECT_ILLEGAL("fmv.d.x ft0, zero");
	csr_set(mstatus, 1ull << 13);
	/* an FP write makes FS Dirty (3) and sets SD (bit 63) */
	__asm__ volatile("fmv.d.x ft0, zero");
	CHECK_EQ((csr_read(mstatus) >> 13) & 3, 3);
	CHECK(csr_read(mstatus) >> 63);
	return 0;
}
