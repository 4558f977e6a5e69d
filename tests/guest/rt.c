/* Runtime of the bare-metal guest test programs; see rt.h. */
#include "rt.h"

volatile trap_handler_fn rt_trap_handler;
volatile trap_handler_fn rt_strap_handler;

void rt_trap(struct trap_frame *f);
void rt_strap(struct trap_frame *f);
void rt_run_in_resume(void);
void rt_main(void);

void rt_putc(char c)
{
	volatile uint8_t *uart = (volatile uint8_t *)UART_BASE;
	/* Wait (boundedly) for THR empty: LSR bit 5 (16550 datasheet). */
	for (int i = 0; i < 100000 && !(uart[5] & 0x20); i++)
		;
	uart[0] = (uint8_t)c;
}

void rt_puts(const char *s)
{
	while (*s) {
		if (*s == '\n')
			rt_putc('\r');
		rt_putc(*s++);
	}
}

void rt_puthex(uint64_t v)
{
	rt_puts("0x");
	for (int i = 60; i >= 0; i -= 4)
		rt_putc("0123456789abcdef"[(v >> i) & 15]);
}

void rt_putdec(int64_t v)
{
	char buf[24];
	int n = 0;
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	if (v < 0)
		rt_putc('-');
	do {
		buf[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	while (n)
		rt_putc(buf[--n]);
}

void rt_exit(unsigned code)
{
	/* QEMU virt test device: 0x5555 = pass, (code << 16) | 0x3333 = fail
	 * with exit status `code`. A status whose low byte is 0 would read as
	 * success in a shell, so such codes get their low byte set. */
	if (code == 0) {
		mmio_write32(TEST_BASE, 0x5555);
	} else {
		code &= 0xffff;
		if ((code & 0xff) == 0)
			code |= 0xff;
		mmio_write32(TEST_BASE, (code << 16) | 0x3333);
	}
	for (;;)
		__asm__ volatile("wfi");
}

void rt_fail(const char *file, int line, const char *what)
{
	rt_puts("FAIL ");
	rt_puts(file);
	rt_putc(':');
	rt_putdec(line);
	rt_puts(": ");
	rt_puts(what);
	rt_puts("\n");
	rt_exit((unsigned)line);
}

void rt_trap(struct trap_frame *f)
{
	/* Return from rt_run_in: ecall from U or S with the magic a7. */
	if ((f->mcause == CAUSE_ECALL_U || f->mcause == CAUSE_ECALL_S) && f->x[17] == RT_ECALL_RETURN) {
		f->x[0] = (uint64_t)rt_run_in_resume;
		f->mstatus |= 3ull << 11; /* MPP = M */
		return;
	}
	trap_handler_fn h = rt_trap_handler;
	if (h && h(f))
		return;
	rt_puts("FAIL unexpected trap: mcause=");
	rt_puthex(f->mcause);
	rt_puts(" mepc=");
	rt_puthex(f->x[0]);
	rt_puts(" mtval=");
	rt_puthex(f->mtval);
	rt_puts("\n");
	rt_exit(254);
}

void rt_strap(struct trap_frame *f)
{
	trap_handler_fn h = rt_strap_handler;
	if (h && h(f))
		return;
	rt_puts("FAIL unexpected S-mode trap: scause=");
	rt_puthex(f->mcause);
	rt_puts(" sepc=");
	rt_puthex(f->x[0]);
	rt_puts(" stval=");
	rt_puthex(f->mtval);
	rt_puts("\n");
	rt_exit(252);
}

void rt_setup_strap(void)
{
	extern char strap_entry[], __stack_top[];
	csr_write(stvec, (uint64_t)strap_entry);
	csr_write(sscratch, (uint64_t)__stack_top - 128 * 1024);
}

void rt_start_secondaries(void (*fn)(unsigned hartid), unsigned nharts)
{
	__atomic_store_n(&rt_secondary_fn, fn, __ATOMIC_RELEASE);
	for (unsigned h = 1; h < nharts && h < 4; h++)
		mmio_write32(CLINT_MSIP(h), 1);
}

unsigned rt_insn_len(uint64_t pc)
{
	return (*(volatile uint16_t *)pc & 3) == 3 ? 4 : 2;
}

void rt_main(void)
{
	int r = test_main();
	if (r == 0)
		rt_puts("PASS\n");
	else
		rt_puts("FAIL test_main returned non-zero\n");
	rt_exit(r == 0 ? 0 : 253);
}

void *memset(void *d, int c, unsigned long n)
{
	volatile uint8_t *p = d;
	while (n--)
		*p++ = (uint8_t)c;
	return d;
}

void *memcpy(void *d, const void *s, unsigned long n)
{
	volatile uint8_t *p = d;
	const uint8_t *q = s;
	while (n--)
		*p++ = *q++;
	return d;
}
