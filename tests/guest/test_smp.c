/* SMP: four harts (run with --cpus 4) hammer shared counters with AMOADD,
 * with an LR/SC loop, and with a spinlock built from AMOSWAP.AQ/.RL around a
 * plain read-modify-write; the totals must be exact. Harts are woken by
 * CLINT msip IPIs (rt_start_secondaries); with fewer harts the program
 * fails after 20 s of mtime. */
#include "rt.h"

#define NHARTS 4
#define ITERS 20000

static volatile uint64_t amo_counter, lrsc_counter, locked_counter;
static volatile uint32_t lock;
static volatile uint64_t done;

static void spin_lock(void)
{
	uint32_t one = 1, old;
	do {
		__asm__ volatile("amoswap.w.aq %0, %1, (%2)" : "=r"(old) : "r"(one), "r"(&lock) : "memory");
	} while (old);
}

static void spin_unlock(void)
{
	__asm__ volatile("amoswap.w.rl zero, zero, (%0)" ::"r"(&lock) : "memory");
}

static void work(unsigned hartid)
{
	for (int i = 0; i < ITERS; i++) {
		__asm__ volatile("amoadd.d zero, %0, (%1)" ::"r"(1ull), "r"(&amo_counter) : "memory");
		uint64_t tmp, fail;
		__asm__ volatile("1: lr.d %0, (%2)\n addi %0, %0, 1\n sc.d %1, %0, (%2)\n bnez %1, 1b"
			: "=&r"(tmp), "=&r"(fail) : "r"(&lrsc_counter) : "memory");
		spin_lock();
		uint64_t v = locked_counter;
		locked_counter = v + 1;
		spin_unlock();
	}
	__atomic_fetch_add(&done, 1, __ATOMIC_RELEASE);
	(void)hartid;
}

int test_main(void)
{
	rt_start_secondaries(work, NHARTS);
	work(0);
	/* wait for the others, boundedly (mtime is 10 MHz: 20 s) */
	uint64_t deadline = mmio_read64(CLINT_MTIME) + 200000000ull;
	while (__atomic_load_n(&done, __ATOMIC_ACQUIRE) < NHARTS && mmio_read64(CLINT_MTIME) < deadline)
		;
	uint64_t n = done;
	rt_puts("harts finished: ");
	rt_putdec((int64_t)n);
	rt_puts("\n");
	CHECK_EQ(n, NHARTS);
	CHECK_EQ(amo_counter, (uint64_t)NHARTS * ITERS);
	CHECK_EQ(lrsc_counter, (uint64_t)NHARTS * ITERS);
	CHECK_EQ(locked_counter, (uint64_t)NHARTS * ITERS);
	return 0;
}
