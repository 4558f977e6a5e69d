/* Traps (privileged spec 3.1.15-3.1.16, 3.3, 4.1): ecall from M/S/U with
 * the right causes, ebreak and c.ebreak (mtval = pc or 0), illegal
 * instructions, misaligned loads/stores (emulated transparently or trapping
 * with mtval = address), access faults outside any device, mepc/mstatus
 * (MPP, MPIE) on entry, delegation of exceptions to S-mode with medeleg
 * (scause, sepc, stval, sstatus.SPP, sret), privileged instructions and CSRs
 * from lower modes, and mcounteren/scounteren gating of the counters. */
#include "rt.h"

static volatile uint64_t m_cause, m_tval, m_epc, m_status, m_count;
static volatile uint64_t s_cause, s_tval, s_epc, s_status, s_count;

static int on_mtrap(struct trap_frame *f)
{
	m_cause = f->mcause;
	m_tval = f->mtval;
	m_epc = f->x[0];
	m_status = f->mstatus;
	m_count++;
	f->x[0] += rt_insn_len(f->x[0]);
	return 1;
}

extern char rt_lower_return[];

static int on_strap(struct trap_frame *f)
{
	/* rt_run_in's return ecall from U, delegated here: redo it from S,
	 * whose ecalls go to M */
	if (f->mcause == CAUSE_ECALL_U && f->x[17] == RT_ECALL_RETURN) {
		f->x[0] = (uint64_t)rt_lower_return;
		f->mstatus |= 1 << 8; /* SPP = S */
		return 1;
	}
	s_cause = f->mcause;
	s_tval = f->mtval;
	s_epc = f->x[0];
	s_status = f->mstatus;
	s_count++;
	f->x[0] += rt_insn_len(f->x[0]);
	return 1;
}

static volatile uint64_t probe_addr;

static long s_ecall(long arg)
{
	register long a0 __asm__("a0") = arg;
	register long a7 __asm__("a7") = 1;
	__asm__ volatile("ecall" : "+r"(a0) : "r"(a7) : "memory");
	return a0;
}

static long s_ebreak(long arg)
{
	__asm__ volatile("ebreak" ::: "memory");
	return arg + 1;
}

static long lower_csr_read_mstatus(long arg)
{
	uint64_t v = 0;
	__asm__ volatile("csrr %0, mstatus" : "=r"(v)::"memory");
	return (long)v;
}

static long lower_mret(long arg)
{
	__asm__ volatile("mret" ::: "memory");
	return 0;
}

static long lower_sret(long arg)
{
	__asm__ volatile("sret" ::: "memory");
	return 0;
}

static long lower_rdcycle(long arg)
{
	uint64_t v = 0;
	__asm__ volatile("rdcycle %0" : "=r"(v)::"memory");
	return (long)v;
}

static long lower_rdtime(long arg)
{
	uint64_t v = 0;
	__asm__ volatile("rdtime %0" : "=r"(v)::"memory");
	return (long)v;
}

static long s_read_sstatus(long arg)
{
	return (long)csr_read(sstatus);
}

int test_main(void)
{
	uint64_t pc, v;
	rt_trap_handler = on_mtrap;

	/* ecall from M: cause 11, mepc = the ecall, MPP = M, MPIE = old MIE */
	csr_set(mstatus, 1 << 3); /* MIE on (nothing is enabled in mie) */
	__asm__ volatile("la %0, 1f\n 1: ecall" : "=r"(pc)::"memory");
	CHECK_EQ(m_cause, CAUSE_ECALL_M);
	CHECK_EQ(m_epc, pc);
	CHECK_EQ((m_status >> 11) & 3, 3);
	CHECK(m_status & (1 << 7));              /* MPIE = 1 */
	CHECK(csr_read(mstatus) & (1 << 3));     /* mret restored MIE */
	csr_clear(mstatus, 1 << 3);

	/* ebreak and c.ebreak: mtval is the pc or 0 */
	__asm__ volatile("la %0, 1f\n 1: ebreak" : "=r"(pc)::"memory");
	CHECK_EQ(m_cause, CAUSE_BREAKPOINT);
	CHECK_EQ(m_epc, pc);
	CHECK(m_tval == pc || m_tval == 0);
	__asm__ volatile("la %0, 1f\n 1: c.ebreak\n c.nop" : "=r"(pc)::"memory");
	CHECK_EQ(m_cause, CAUSE_BREAKPOINT);
	CHECK_EQ(m_epc, pc);

	/* illegal: the all-zero halfword, an all-ones word, a reserved opcode */
	m_count = 0;
	__asm__ volatile("la %0, 1f\n 1: .4byte 0xffffffff" : "=r"(pc)::"memory");
	CHECK_EQ(m_count, 1);
	CHECK_EQ(m_cause, CAUSE_ILLEGAL);
	CHECK(m_tval == 0 || m_tval == 0xffffffff);
	__asm__ volatile(".2byte 0\n c.nop" ::: "memory");
	CHECK_EQ(m_count, 2);
	CHECK_EQ(m_cause, CAUSE_ILLEGAL);
	__asm__ volatile(".4byte 0x0000007f" ::: "memory"); /* 64-bit+ encodings are not implemented */
	CHECK_EQ(m_count, 3);
	CHECK_EQ(m_cause, CAUSE_ILLEGAL);
	/* WFI with TW = 0 in M-mode is legal (may return at once) */

	/* misaligned load/store: either done correctly, or a trap naming the
	 * address (3.6.3: "may be handled ... or raise an exception") */
	static volatile uint64_t buf[2];
	buf[0] = 0x0706050403020100ull;
	buf[1] = 0x0f0e0d0c0b0a0908ull;
	m_count = 0;
	v = 0;
	uint64_t addr = (uint64_t)buf + 3;
	__asm__ volatile("ld %0, 0(%1)" : "+r"(v) : "r"(addr) : "memory");
	if (m_count) {
		CHECK_EQ(m_cause, CAUSE_MISALIGNED_LOAD);
		CHECK_EQ(m_tval, addr);
	} else {
		CHECK_EQ(v, 0x0a09080706050403ull);
	}
	m_count = 0;
	__asm__ volatile("sw %0, 0(%1)" ::"r"(0xaabbccddull), "r"(addr) : "memory");
	if (m_count) {
		CHECK_EQ(m_cause, CAUSE_MISALIGNED_STORE);
		CHECK_EQ(m_tval, addr);
	} else {
		CHECK_EQ(buf[0], 0xaabbccdd020100ull | (0x07ull << 56));
	}

	/* access fault: a physical address with nothing behind it */
	m_count = 0;
	probe_addr = 0x9000000ull;
	__asm__ volatile("ld %0, 0(%1)" : "=r"(v) : "r"(probe_addr) : "memory");
	CHECK_EQ(m_count, 1);
	CHECK_EQ(m_cause, CAUSE_LOAD_ACCESS);
	CHECK_EQ(m_tval, probe_addr);
	__asm__ volatile("sd zero, 0(%0)" ::"r"(probe_addr) : "memory");
	CHECK_EQ(m_count, 2);
	CHECK_EQ(m_cause, CAUSE_STORE_ACCESS);

	/* ecall from S and from U, not delegated: causes 9 and 8, MPP */
	m_count = 0;
	CHECK_EQ(rt_run_in(PRIV_S, s_ecall, 41), 41);
	CHECK_EQ(m_count, 1);
	CHECK_EQ(m_cause, CAUSE_ECALL_S);
	CHECK_EQ((m_status >> 11) & 3, 1);
	CHECK_EQ(rt_run_in(PRIV_U, s_ecall, 42), 42);
	CHECK_EQ(m_cause, CAUSE_ECALL_U);
	CHECK_EQ((m_status >> 11) & 3, 0);

	/* delegation: breakpoints and U ecalls go to S (stvec), not to M */
	rt_setup_strap();
	rt_strap_handler = on_strap;
	csr_write(medeleg, (1 << CAUSE_BREAKPOINT) | (1 << CAUSE_ECALL_U));
	m_count = s_count = 0;
	CHECK_EQ(rt_run_in(PRIV_S, s_ebreak, 1), 2);
	CHECK_EQ(s_count, 1);
	CHECK_EQ(m_count, 0);
	CHECK_EQ(s_cause, CAUSE_BREAKPOINT);
	CHECK(s_status & (1 << 8)); /* sstatus.SPP = S */
	CHECK_EQ(csr_read(scause), CAUSE_BREAKPOINT);
	CHECK_EQ(csr_read(sepc), s_epc + rt_insn_len(s_epc)); /* as the handler wrote it back */
	/* from U: SPP = U */
	CHECK_EQ(rt_run_in(PRIV_U, s_ebreak, 5), 6);
	CHECK_EQ(s_count, 2);
	CHECK(!(s_status & (1 << 8)));
	/* a delegated ecall from U */
	CHECK_EQ(rt_run_in(PRIV_U, s_ecall, 7), 7);
	CHECK_EQ(s_count, 3);
	CHECK_EQ(s_cause, CAUSE_ECALL_U);
	CHECK_EQ(m_count, 0);
	/* M-mode traps are never delegated: an ebreak in M goes to M */
	__asm__ volatile("ebreak" ::: "memory");
	CHECK_EQ(m_count, 1);
	CHECK_EQ(s_count, 3);
	csr_write(medeleg, 0);

	/* lower modes may not touch M CSRs or run mret; U may not run sret */
	m_count = 0;
	rt_run_in(PRIV_S, lower_csr_read_mstatus, 0);
	CHECK_EQ(m_count, 1);
	CHECK_EQ(m_cause, CAUSE_ILLEGAL);
	rt_run_in(PRIV_S, lower_mret, 0);
	CHECK_EQ(m_count, 2);
	CHECK_EQ(m_cause, CAUSE_ILLEGAL);
	rt_run_in(PRIV_U, lower_sret, 0);
	CHECK_EQ(m_count, 3);
	CHECK_EQ(m_cause, CAUSE_ILLEGAL);
	/* S may read sstatus */
	m_count = 0;
	v = (uint64_t)rt_run_in(PRIV_S, s_read_sstatus, 0);
	CHECK_EQ(m_count, 0);
	CHECK_EQ((v >> 32) & 3, 2); /* UXL = 64 */
	/* mstatus.TSR: sret in S traps */
	csr_set(mstatus, 1ull << 22);
	rt_run_in(PRIV_S, lower_sret, 0);
	CHECK_EQ(m_count, 1);
	CHECK_EQ(m_cause, CAUSE_ILLEGAL);
	csr_clear(mstatus, 1ull << 22);

	/* counter enables: cycle (bit 0) and time (bit 1) from S and U */
	csr_write(mcounteren, 0);
	m_count = 0;
	rt_run_in(PRIV_S, lower_rdcycle, 0);
	CHECK_EQ(m_count, 1);
	CHECK_EQ(m_cause, CAUSE_ILLEGAL);
	csr_write(mcounteren, 3);
	csr_write(scounteren, 0);
	m_count = 0;
	CHECK(rt_run_in(PRIV_S, lower_rdtime, 0) != 0);
	CHECK_EQ(m_count, 0);
	rt_run_in(PRIV_U, lower_rdtime, 0); /* scounteren.TM = 0 */
	CHECK_EQ(m_count, 1);
	CHECK_EQ(m_cause, CAUSE_ILLEGAL);
	csr_write(scounteren, 2);
	CHECK(rt_run_in(PRIV_U, lower_rdtime, 0) != 0);
	CHECK_EQ(m_count, 1);
	return 0;
}
