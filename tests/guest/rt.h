/* Runtime of the bare-metal guest test programs (tests/guest/): UART output,
 * exit through the virt board's test device, checks, and a trap hook.
 *
 * A program defines `int test_main(void)`; returning 0 exits with 0x5555
 * (pass). CHECK failures print "FAIL file:line: what" on the UART and exit
 * with (line << 16) | 0x3333, which QEMU and `vessel vm run` turn into the
 * exit status `line` (modulo 256 in the shell). */
#ifndef VESSEL_GUEST_RT_H
#define VESSEL_GUEST_RT_H

#include <stdint.h>

#define UART_BASE 0x10000000ul
#define TEST_BASE 0x00100000ul
#define CLINT_BASE 0x02000000ul
#define CLINT_MSIP(h) (CLINT_BASE + 4ul * (h))
#define CLINT_MTIMECMP(h) (CLINT_BASE + 0x4000ul + 8ul * (h))
#define CLINT_MTIME (CLINT_BASE + 0xbff8ul)

/* Registers saved by the trap entry (start.S); x[0] holds mepc on entry and
 * is written back to mepc on return, so a handler can skip an instruction. */
struct trap_frame {
	uint64_t x[32]; /* x[0] = mepc */
	uint64_t mcause, mtval, mstatus;
};

/* A trap handler returns 1 if it handled the trap (execution resumes at
 * frame->x[0]), 0 to fail the test with the trap's details. */
typedef int (*trap_handler_fn)(struct trap_frame *f);
extern volatile trap_handler_fn rt_trap_handler;
/* Same for traps taken in S-mode through strap_entry (see rt_setup_strap);
 * the frame's mcause/mtval/mstatus hold scause/stval/sstatus. */
extern volatile trap_handler_fn rt_strap_handler;

/* Points stvec at the runtime's S-mode trap entry and sscratch at its stack. */
void rt_setup_strap(void);

/* Runs fn(arg) in privilege mode (PRIV_U or PRIV_S) and returns its result;
 * M-mode traps during it go to rt_trap_handler as usual. */
#define PRIV_U 0
#define PRIV_S 1
#define RT_ECALL_RETURN 0x5e55e1
long rt_run_in(unsigned mode, long (*fn)(long), long arg);

/* Makes harts 1..nharts-1 (at most 3) call fn(hartid) on their own stacks. */
extern void (*volatile rt_secondary_fn)(unsigned hartid);
void rt_start_secondaries(void (*fn)(unsigned hartid), unsigned nharts);

/* Length (2 or 4) of the instruction at pc (identity-mapped). */
unsigned rt_insn_len(uint64_t pc);

void rt_putc(char c);
void rt_puts(const char *s);
void rt_puthex(uint64_t v);
void rt_putdec(int64_t v);
__attribute__((noreturn)) void rt_exit(unsigned code);
__attribute__((noreturn)) void rt_fail(const char *file, int line, const char *what);
int test_main(void);

void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);

#define CHECK(cond)                                                    \
	do {                                                           \
		if (!(cond))                                           \
			rt_fail(__FILE__, __LINE__, #cond);            \
	} while (0)

/* CHECK_EQ prints both values on failure. */
#define CHECK_EQ(a, b)                                                 \
	do {                                                           \
		uint64_t _a = (uint64_t)(a), _b = (uint64_t)(b);       \
		if (_a != _b) {                                        \
			rt_puts("  got ");                             \
			rt_puthex(_a);                                 \
			rt_puts(" want ");                             \
			rt_puthex(_b);                                 \
			rt_puts("\n");                                 \
			rt_fail(__FILE__, __LINE__, #a " == " #b);     \
		}                                                      \
	} while (0)

#define csr_read(csr)                                                  \
	({                                                             \
		uint64_t _v;                                           \
		__asm__ volatile("csrr %0, " #csr : "=r"(_v));         \
		_v;                                                    \
	})
#define csr_write(csr, v) __asm__ volatile("csrw " #csr ", %0" ::"rK"((uint64_t)(v)) : "memory")
#define csr_set(csr, v) __asm__ volatile("csrs " #csr ", %0" ::"rK"((uint64_t)(v)) : "memory")
#define csr_clear(csr, v) __asm__ volatile("csrc " #csr ", %0" ::"rK"((uint64_t)(v)) : "memory")

static inline void mmio_write32(uint64_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
static inline uint32_t mmio_read32(uint64_t a) { return *(volatile uint32_t *)a; }
static inline void mmio_write64(uint64_t a, uint64_t v) { *(volatile uint64_t *)a = v; }
static inline uint64_t mmio_read64(uint64_t a) { return *(volatile uint64_t *)a; }

/* mcause values (privileged spec 3.1.15). */
#define CAUSE_MISALIGNED_FETCH 0
#define CAUSE_FETCH_ACCESS 1
#define CAUSE_ILLEGAL 2
#define CAUSE_BREAKPOINT 3
#define CAUSE_MISALIGNED_LOAD 4
#define CAUSE_LOAD_ACCESS 5
#define CAUSE_MISALIGNED_STORE 6
#define CAUSE_STORE_ACCESS 7
#define CAUSE_ECALL_U 8
#define CAUSE_ECALL_S 9
#define CAUSE_ECALL_M 11
#define CAUSE_FETCH_PAGE 12
#define CAUSE_LOAD_PAGE 13
#define CAUSE_STORE_PAGE 15
#define CAUSE_INTR (1ull << 63)

#endif
