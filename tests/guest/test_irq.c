/* Interrupts (privileged spec 3.1.9, 3.3.3; ACLINT): the machine timer
 * (CLINT mtimecmp vs mtime) and software interrupt (msip) show in mip, trap
 * only when enabled in mie and mstatus.MIE, with mcause = interrupt bit |
 * code, vectored mtvec dispatch to base + 4 * code, WFI waking on a pending
 * enabled interrupt even with mstatus.MIE = 0, and a supervisor timer
 * interrupt (STIP, set by M) delegated to S with mideleg. */
#include "rt.h"

#define MIP_MSIP (1ull << 3)
#define MIP_STIP_BIT (1ull << 5)
#define MIP_MTIP (1ull << 7)

static volatile uint64_t m_cause, m_count, s_cause, s_count, vec_seen;

static int on_mtrap(struct trap_frame *f)
{
	m_cause = f->mcause;
	m_count++;
	if (f->mcause == (CAUSE_INTR | 7))
		mmio_write64(CLINT_MTIMECMP(0), ~0ull); /* clears MTIP */
	else if (f->mcause == (CAUSE_INTR | 3))
		mmio_write32(CLINT_MSIP(0), 0);
	else if (f->mcause == CAUSE_ECALL_S) {
		f->x[0] += 4;
		csr_set(mip, MIP_STIP_BIT); /* M hands a timer tick to S */
	} else
		return 0;
	return 1;
}

static int on_strap(struct trap_frame *f)
{
	s_cause = f->mcause;
	s_count++;
	/* only M can clear STIP: S masks it in sie instead */
	csr_clear(sie, MIP_STIP_BIT);
	return 1;
}

static void wait_count(volatile uint64_t *c, uint64_t want)
{
	uint64_t deadline = mmio_read64(CLINT_MTIME) + 20000000ull; /* 2 s */
	while (*c < want && mmio_read64(CLINT_MTIME) < deadline)
		;
}

/* Vector table: every entry jumps to a stub that copies mcause into stval
 * (unused here) and enters the common trap entry. Only entry 3 (MSI) is
 * reached; if the hart ignored the mode and jumped to the base, entry 0
 * would run the same stub, so the check below is that mtvec with mode 1
 * works at all and that the base entry is 256-byte aligned. Direct-mode
 * behaviour is what every other test uses. */
extern char irq_vectors[];
__asm__(".align 8\n"
	"irq_vectors:\n"
	".rept 16\n"
	"  j 1f\n"
	".endr\n"
	"1: csrw sscratch, t0\n"
	"  csrr t0, mcause\n"
	"  csrw stval, t0\n"
	"  csrr t0, sscratch\n"
	"  j trap_entry\n");

static long s_wait_timer(long arg)
{
	/* S: ask M for a tick, then wait for the delegated STI */
	__asm__ volatile("ecall" ::: "memory");
	uint64_t spins = 0;
	while (s_count == (uint64_t)arg && spins < 100000000)
		spins++;
	return (long)s_count;
}

int test_main(void)
{
	rt_trap_handler = on_mtrap;

	/* pending shows in mip without trapping while disabled */
	mmio_write64(CLINT_MTIMECMP(0), 0);
	CHECK(csr_read(mip) & MIP_MTIP);
	CHECK_EQ(m_count, 0);
	mmio_write64(CLINT_MTIMECMP(0), ~0ull);
	CHECK(!(csr_read(mip) & MIP_MTIP));

	/* timer interrupt 1 ms ahead */
	csr_write(mie, MIP_MTIP);
	uint64_t now = mmio_read64(CLINT_MTIME);
	mmio_write64(CLINT_MTIMECMP(0), now + 10000);
	csr_set(mstatus, 1 << 3);
	wait_count(&m_count, 1);
	csr_clear(mstatus, 1 << 3);
	CHECK_EQ(m_count, 1);
	CHECK_EQ(m_cause, CAUSE_INTR | 7);
	CHECK(mmio_read64(CLINT_MTIME) >= now + 10000);

	/* WFI with MIE = 0 wakes when an enabled interrupt is pending */
	now = mmio_read64(CLINT_MTIME);
	mmio_write64(CLINT_MTIMECMP(0), now + 20000);
	for (int i = 0; i < 1000 && !(csr_read(mip) & MIP_MTIP); i++)
		__asm__ volatile("wfi");
	CHECK(csr_read(mip) & MIP_MTIP);
	CHECK(mmio_read64(CLINT_MTIME) >= now + 20000);
	CHECK_EQ(m_count, 1);
	mmio_write64(CLINT_MTIMECMP(0), ~0ull);

	/* software interrupt through msip */
	csr_write(mie, MIP_MSIP);
	mmio_write32(CLINT_MSIP(0), 1);
	CHECK(csr_read(mip) & MIP_MSIP);
	CHECK_EQ(mmio_read32(CLINT_MSIP(0)), 1);
	csr_set(mstatus, 1 << 3);
	wait_count(&m_count, 2);
	csr_clear(mstatus, 1 << 3);
	CHECK_EQ(m_count, 2);
	CHECK_EQ(m_cause, CAUSE_INTR | 3);
	CHECK_EQ(mmio_read32(CLINT_MSIP(0)), 0);
	CHECK(!(csr_read(mip) & MIP_MSIP));

	/* vectored mode: an interrupt enters at base + 4 * code */
	uint64_t saved_tvec = csr_read(mtvec);
	csr_write(mtvec, (uint64_t)irq_vectors | 1);
	csr_write(stval, 0);
	mmio_write32(CLINT_MSIP(0), 1);
	csr_set(mstatus, 1 << 3);
	wait_count(&m_count, 3);
	csr_clear(mstatus, 1 << 3);
	csr_write(mtvec, saved_tvec);
	CHECK_EQ(m_count, 3);
	CHECK_EQ(csr_read(stval), CAUSE_INTR | 3);

	/* supervisor timer interrupt, delegated: M sets mip.STIP on request
	 * (as an SBI would), S takes it through stvec with scause = 5 */
	rt_setup_strap();
	rt_strap_handler = on_strap;
	csr_write(mideleg, MIP_STIP_BIT);
	csr_write(mie, MIP_STIP_BIT);
	csr_set(mstatus, 1 << 1); /* sstatus.SIE: S takes its interrupts */
	s_count = 0;
	long got = rt_run_in(PRIV_S, s_wait_timer, 0);
	CHECK(got >= 1);
	CHECK_EQ(s_cause, CAUSE_INTR | 5);
	csr_clear(mip, MIP_STIP_BIT);
	csr_write(mie, 0);
	csr_write(mideleg, 0);
	return 0;
}
