/* Paging (privileged spec 4.3-4.5): Sv39 page tables built here, used from
 * S and U mode: translation through 4 KiB pages, a 2 MiB megapage and 1 GiB
 * gigapages; A and D set by the hart on access and on write; R/W/X
 * permissions, the reserved W-without-R encoding, U pages vs SUM, MXR,
 * invalid PTEs, non-canonical addresses and misaligned superpages all give
 * page faults with stval/mtval = the virtual address; sfence.vma makes a
 * changed PTE visible; then Sv48 with a 4-level table. */
#include "rt.h"

#define PTE_V (1ull << 0)
#define PTE_R (1ull << 1)
#define PTE_W (1ull << 2)
#define PTE_X (1ull << 3)
#define PTE_U (1ull << 4)
#define PTE_G (1ull << 5)
#define PTE_A (1ull << 6)
#define PTE_D (1ull << 7)
#define PTE(pa, flags) ((((uint64_t)(pa)) >> 12) << 10 | (flags))
#define SATP_SV39 (8ull << 60)
#define SATP_SV48 (9ull << 60)
#define MSTATUS_SUM (1ull << 18)
#define MSTATUS_MXR (1ull << 19)

#define VA_BASE 0x40000000ull
#define VA_RW (VA_BASE + 0x0000)    /* -> P0, RW, A = D = 0 at first */
#define VA_ALIAS (VA_BASE + 0x1000) /* -> P0, read-only */
#define VA_USER (VA_BASE + 0x2000)  /* -> P2, RW, U */
#define VA_RO (VA_BASE + 0x3000)    /* -> P3, R */
#define VA_NONE (VA_BASE + 0x4000)  /* invalid */
#define VA_XO (VA_BASE + 0x5000)    /* -> P5, X only */
#define VA_WO (VA_BASE + 0x6000)    /* W without R: reserved */
#define VA_MEGA_BAD (VA_BASE + 0x200000)  /* megapage with a misaligned PPN */
#define VA_MEGA (VA_BASE + 0x400000)      /* megapage -> PA_MEGA */
#define PA_MEGA 0x80400000ull

extern char __free_mem[];
static uint64_t *root, *l1, *l0, *root48, *l2b;
static uint64_t p0, p1, p2, p3, p5;
static volatile uint64_t f_cause, f_tval, f_count;

static int on_trap(struct trap_frame *f)
{
	f_cause = f->mcause;
	f_tval = f->mtval;
	f_count++;
	if (f->mcause == CAUSE_FETCH_PAGE)
		f->x[0] = f->x[1]; /* the jump was a call: return to the caller */
	else if (f->mcause == CAUSE_LOAD_PAGE || f->mcause == CAUSE_STORE_PAGE)
		f->x[0] += rt_insn_len(f->x[0]);
	else
		return 0;
	return 1;
}

static long do_load(long va)
{
	uint64_t v = 0xbadbadbadull;
	__asm__ volatile("ld %0, 0(%1)" : "+r"(v) : "r"(va) : "memory");
	return (long)v;
}

static long do_store(long va)
{
	__asm__ volatile("sd %0, 0(%1)" ::"r"(0x5707e5707eull), "r"(va) : "memory");
	return 0;
}

static long do_call(long va)
{
	((void (*)(void))va)();
	return 0;
}

/* read through the RW page, change its PTE (S can write the tables through
 * the identity gigapage), fence, read again: must see the new page */
static long do_remap(long unused)
{
	uint64_t before = *(volatile uint64_t *)VA_RW;
	l0[0] = PTE(p1, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
	__asm__ volatile("sfence.vma %0, zero" ::"r"(VA_RW) : "memory");
	uint64_t after = *(volatile uint64_t *)VA_RW;
	return before == 0x1111 && after == 0x2222;
}

static uint64_t *alloc_page(void)
{
	static uint64_t next;
	if (!next)
		next = (uint64_t)__free_mem;
	uint64_t *p = (uint64_t *)next;
	next += 4096;
	memset(p, 0, 4096);
	return p;
}

static void expect_fault(long (*fn)(long), unsigned mode, uint64_t va, uint64_t cause, int line)
{
	f_count = 0;
	f_cause = f_tval = 0;
	rt_run_in(mode, fn, (long)va);
	if (f_count != 1 || f_cause != cause || f_tval != va) {
		rt_puts("  faults ");
		rt_putdec((int64_t)f_count);
		rt_puts(" cause ");
		rt_puthex(f_cause);
		rt_puts(" tval ");
		rt_puthex(f_tval);
		rt_puts(" for va ");
		rt_puthex(va);
		rt_puts("\n");
		rt_fail(__FILE__, line, "expected one page fault");
	}
}
#define EXPECT_FAULT(fn, mode, va, cause) expect_fault(fn, mode, va, cause, __LINE__)

static void sfence_all(void) { __asm__ volatile("sfence.vma" ::: "memory"); }

int test_main(void)
{
	rt_trap_handler = on_trap;
	root = alloc_page();
	l1 = alloc_page();
	l0 = alloc_page();
	p0 = (uint64_t)alloc_page();
	p1 = (uint64_t)alloc_page();
	p2 = (uint64_t)alloc_page();
	p3 = (uint64_t)alloc_page();
	p5 = (uint64_t)alloc_page();
	*(uint64_t *)p0 = 0x1111;
	*(uint64_t *)p1 = 0x2222;
	*(uint64_t *)p2 = 0x3333;
	*(uint64_t *)p3 = 0x4444;
	*(uint32_t *)p5 = 0x00008067; /* ret */
	*(volatile uint64_t *)(PA_MEGA + 0x1238) = 0x5555aaaa;

	root[0] = PTE(0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D); /* devices */
	root[1] = PTE(l1, PTE_V);
	root[2] = PTE(0x80000000ull, PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D); /* RAM */
	l1[0] = PTE(l0, PTE_V);
	l1[1] = PTE(0x80001000ull, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
	l1[2] = PTE(PA_MEGA, PTE_V | PTE_R | PTE_A);
	l0[0] = PTE(p0, PTE_V | PTE_R | PTE_W);
	l0[1] = PTE(p0, PTE_V | PTE_R | PTE_A);
	l0[2] = PTE(p2, PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D);
	l0[3] = PTE(p3, PTE_V | PTE_R | PTE_A);
	l0[4] = 0;
	l0[5] = PTE(p5, PTE_V | PTE_X | PTE_A);
	l0[6] = PTE(p3, PTE_V | PTE_W | PTE_A | PTE_D);

	csr_write(satp, SATP_SV39 | ((uint64_t)root >> 12));
	CHECK_EQ(csr_read(satp), SATP_SV39 | ((uint64_t)root >> 12));
	sfence_all();

	/* translation; A set by a read, D only by a write */
	f_count = 0;
	CHECK_EQ(rt_run_in(PRIV_S, do_load, VA_RW), 0x1111);
	CHECK_EQ(f_count, 0);
	CHECK(l0[0] & PTE_A);
	CHECK(!(l0[0] & PTE_D));
	rt_run_in(PRIV_S, do_store, VA_RW);
	CHECK_EQ(f_count, 0);
	CHECK(l0[0] & PTE_D);
	CHECK_EQ(*(volatile uint64_t *)p0, 0x5707e5707eull);
	CHECK_EQ(rt_run_in(PRIV_S, do_load, VA_ALIAS), 0x5707e5707eull);
	*(volatile uint64_t *)p0 = 0x1111;

	/* permission faults */
	EXPECT_FAULT(do_store, PRIV_S, VA_ALIAS, CAUSE_STORE_PAGE);
	EXPECT_FAULT(do_store, PRIV_S, VA_RO, CAUSE_STORE_PAGE);
	CHECK_EQ(*(volatile uint64_t *)p3, 0x4444);
	EXPECT_FAULT(do_load, PRIV_S, VA_NONE, CAUSE_LOAD_PAGE);
	EXPECT_FAULT(do_store, PRIV_S, VA_NONE, CAUSE_STORE_PAGE);
	EXPECT_FAULT(do_load, PRIV_S, VA_WO, CAUSE_LOAD_PAGE);
	EXPECT_FAULT(do_load, PRIV_S, VA_XO, CAUSE_LOAD_PAGE);
	EXPECT_FAULT(do_call, PRIV_S, VA_RO, CAUSE_FETCH_PAGE);
	/* executable page: the call returns */
	f_count = 0;
	rt_run_in(PRIV_S, do_call, VA_XO);
	CHECK_EQ(f_count, 0);
	/* MXR makes executable pages readable */
	csr_set(mstatus, MSTATUS_MXR);
	f_count = 0;
	CHECK_EQ(rt_run_in(PRIV_S, do_load, VA_XO), 0x00008067);
	CHECK_EQ(f_count, 0);
	csr_clear(mstatus, MSTATUS_MXR);
	/* U pages from S: only with SUM */
	EXPECT_FAULT(do_load, PRIV_S, VA_USER, CAUSE_LOAD_PAGE);
	csr_set(mstatus, MSTATUS_SUM);
	f_count = 0;
	CHECK_EQ(rt_run_in(PRIV_S, do_load, VA_USER), 0x3333);
	CHECK_EQ(f_count, 0);
	csr_clear(mstatus, MSTATUS_SUM);
	/* non-canonical: bits 63..39 must equal bit 38 */
	EXPECT_FAULT(do_load, PRIV_S, 0x0000004000000000ull, CAUSE_LOAD_PAGE);
	/* superpages */
	EXPECT_FAULT(do_load, PRIV_S, VA_MEGA_BAD, CAUSE_LOAD_PAGE);
	f_count = 0;
	CHECK_EQ(rt_run_in(PRIV_S, do_load, VA_MEGA + 0x1238), 0x5555aaaa);
	CHECK_EQ(f_count, 0);

	/* U mode: runs from RAM, which needs a U mapping; then S pages fault */
	root[2] |= PTE_U;
	sfence_all();
	f_count = 0;
	CHECK_EQ(rt_run_in(PRIV_U, do_load, VA_USER), 0x3333);
	CHECK_EQ(f_count, 0);
	EXPECT_FAULT(do_load, PRIV_U, VA_RW, CAUSE_LOAD_PAGE);
	EXPECT_FAULT(do_store, PRIV_U, VA_RO, CAUSE_STORE_PAGE);
	root[2] &= ~PTE_U;
	sfence_all();
	/* S may not execute from U pages, even with SUM */
	csr_set(mstatus, MSTATUS_SUM);
	EXPECT_FAULT(do_call, PRIV_S, VA_USER, CAUSE_FETCH_PAGE);
	csr_clear(mstatus, MSTATUS_SUM);

	/* sfence.vma makes a changed PTE visible */
	l0[0] = PTE(p0, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
	sfence_all();
	f_count = 0;
	CHECK_EQ(rt_run_in(PRIV_S, do_remap, 0), 1);

	/* Sv48: one more level on top; the Sv39 root serves as the level-2
	 * table for VA[47:39] = 0, and VA 1 << 39 maps RAM as a gigapage */
	root48 = alloc_page();
	l2b = alloc_page();
	root48[0] = PTE(root, PTE_V);
	root48[1] = PTE(l2b, PTE_V);
	l2b[0] = PTE(0x80000000ull, PTE_V | PTE_R | PTE_W | PTE_A | PTE_D);
	csr_write(satp, SATP_SV48 | ((uint64_t)root48 >> 12));
	CHECK_EQ(csr_read(satp), SATP_SV48 | ((uint64_t)root48 >> 12));
	sfence_all();
	f_count = 0;
	CHECK_EQ(rt_run_in(PRIV_S, do_load, VA_USER + 0), 0xbadbadbadull); /* U page: faults */
	CHECK_EQ(f_count, 1);
	f_count = 0;
	CHECK_EQ(rt_run_in(PRIV_S, do_load, VA_MEGA + 0x1238), 0x5555aaaa);
	CHECK_EQ(rt_run_in(PRIV_S, do_load, (1ull << 39) + (PA_MEGA - 0x80000000ull) + 0x1238), 0x5555aaaa);
	CHECK_EQ(f_count, 0);
	/* Sv48 canonical: bits 63..48 equal bit 47 */
	EXPECT_FAULT(do_load, PRIV_S, 0x0000800000000000ull, CAUSE_LOAD_PAGE);

	csr_write(satp, 0);
	sfence_all();
	return 0;
}
