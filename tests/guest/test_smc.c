/* Self-modifying and cross-modifying code (unprivileged spec, "Zifencei"):
 * instructions written to RAM as data and then executed, the cases an
 * interpreter that caches decoded instructions must get right:
 *   - rewrite a function, fence.i, call it again: the new code runs;
 *   - rewrite it without fence.i: the spec promises nothing, but the VMM
 *     must keep running (either version is accepted);
 *   - a function that stores over its own next instruction;
 *   - a 32-bit instruction across a page boundary, its second half rewritten;
 *   - a loop that stores data into the page it runs from;
 *   - another hart rewrites code this hart has run, then this hart does
 *     fence.i (run with --cpus 2).
 * Two harts; with one the cross-hart part fails after 20 s of mtime. */
#include "rt.h"

/* Two pages of code buffer, executable (M-mode, no PMP). */
static uint32_t buf[2048] __attribute__((aligned(4096)));

#define RET 0x00008067u /* jalr x0, 0(ra) */
/* addi a0, x0, imm */
static uint32_t li_a0(int imm)
{
	return ((uint32_t)(imm & 0xfff) << 20) | (10u << 7) | 0x13u;
}

static void fence_i(void)
{
	__asm__ volatile("fence.i" ::: "memory");
}

typedef long (*fn0)(void);
typedef long (*fn2)(long, long);

static long call_at(const void *p)
{
	return ((fn0)(uintptr_t)p)();
}

static void put16(uint8_t *p, uint16_t v)
{
	*(volatile uint16_t *)p = v;
}

static volatile uint32_t stage;

static void secondary(unsigned hartid)
{
	(void)hartid;
	while (__atomic_load_n(&stage, __ATOMIC_ACQUIRE) != 1)
		;
	/* rewrite code hart 0 has executed (and decoded) */
	((volatile uint32_t *)buf)[0] = li_a0(77);
	__atomic_store_n(&stage, 2, __ATOMIC_RELEASE);
}

int test_main(void)
{
	uint8_t *b = (uint8_t *)buf;

	/* 1. write, fence.i, call; rewrite, fence.i, call */
	buf[0] = li_a0(11);
	buf[1] = RET;
	fence_i();
	CHECK_EQ(call_at(buf), 11);
	buf[0] = li_a0(12);
	fence_i();
	CHECK_EQ(call_at(buf), 12);

	/* 2. rewrite without fence.i: either version, and no crash */
	buf[0] = li_a0(13);
	long r = call_at(buf);
	rt_puts("without fence.i: ");
	rt_putdec(r);
	rt_puts("\n");
	CHECK(r == 12 || r == 13);
	fence_i();
	CHECK_EQ(call_at(buf), 13);

	/* 3. sw a1, 8(a0); fence.i; <addi a0, x0, 1>; ret -- the store
	 * replaces the addi with a1 (addi a0, x0, 2) before it runs */
	buf[16] = 0x00b52423u; /* sw a1, 8(a0) */
	buf[17] = 0x0000100fu; /* fence.i */
	buf[18] = li_a0(1);
	buf[19] = RET;
	fence_i();
	CHECK_EQ(((fn2)(uintptr_t)&buf[16])((long)(uintptr_t)&buf[16], li_a0(2)), 2);
	/* the same without the fence.i (a nop): either value */
	buf[17] = 0x00000013u; /* nop */
	buf[18] = li_a0(1);
	fence_i();
	r = ((fn2)(uintptr_t)&buf[16])((long)(uintptr_t)&buf[16], li_a0(3));
	CHECK(r == 1 || r == 3);
	fence_i();
	/* stored last time: now it must run */
	CHECK_EQ(((fn2)(uintptr_t)&buf[16])((long)(uintptr_t)&buf[16], li_a0(3)), 3);

	/* 4. addi a0, x0, 5 at offset 0xffe: its halves in two pages */
	uint32_t i5 = li_a0(5), i6 = li_a0(6);
	put16(b + 0xffe, (uint16_t)i5);
	put16(b + 0x1000, (uint16_t)(i5 >> 16));
	buf[0x1004 / 4] = RET; /* 2 bytes of padding: c.nop at 0x1002 */
	put16(b + 0x1002, 0x0001);
	fence_i();
	CHECK_EQ(call_at(b + 0xffe), 5);
	put16(b + 0x1000, (uint16_t)(i6 >> 16)); /* only the second page */
	fence_i();
	CHECK_EQ(call_at(b + 0xffe), 6);

	/* 5. a loop storing into its own page:
	 *    1: lw t0, 0(a0); addi t0, t0, 1; sw t0, 0(a0); addi a1, a1, -1;
	 *       bnez a1, 1b; ret */
	static const uint32_t loop[] = { 0x00052283u, 0x00128293u, 0x00552023u,
					 0xfff58593u, 0xfe0598e3u, RET };
	for (unsigned i = 0; i < 6; i++)
		buf[64 + i] = loop[i];
	buf[0x800 / 4] = 0; /* the counter, same page */
	fence_i();
	((fn2)(uintptr_t)&buf[64])((long)(uintptr_t)&buf[0x800 / 4], 1000);
	CHECK_EQ(buf[0x800 / 4], 1000);

	/* 6. another hart rewrites the code; then fence.i here */
	rt_start_secondaries(secondary, 2);
	buf[0] = li_a0(21);
	fence_i();
	CHECK_EQ(call_at(buf), 21);
	__atomic_store_n(&stage, 1, __ATOMIC_RELEASE);
	uint64_t deadline = mmio_read64(CLINT_MTIME) + 200000000ull;
	while (__atomic_load_n(&stage, __ATOMIC_ACQUIRE) != 2 && mmio_read64(CLINT_MTIME) < deadline)
		;
	CHECK_EQ(stage, 2);
	fence_i();
	CHECK_EQ(call_at(buf), 77);
	return 0;
}
