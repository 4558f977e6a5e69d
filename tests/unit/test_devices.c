/* Unit tests of the virt board's devices (PLIC, ACLINT, NS16550A, goldfish
 * RTC, syscon) and of the built-in SBI, against fake harts: this file
 * defines the hart functions the devices call, so the real CPU is not
 * linked in. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vm/cpu/cpu.h"
#include "vm/dev/aclint.h"
#include "vm/dev/goldfish_rtc.h"
#include "vm/dev/plic.h"
#include "vm/dev/syscon.h"
#include "vm/dev/uart16550.h"
#include "vm/machine/sbi.h"

/* ---- fake harts ---- */

struct hart {
	unsigned id;
	uint64_t mip;
	uint64_t mtimecmp;
	uint64_t x[32];
	int state;
	unsigned kicks, flushes, stop_self;
	uint64_t start_pc, start_opaque;
};

static uint64_t fake_mtime;

uint64_t cpu_mtime(const struct cpu_shared *sh)
{
	return fake_mtime;
}
void hart_set_irq(struct hart *h, uint64_t bit, bool level)
{
	if (level)
		h->mip |= bit;
	else
		h->mip &= ~bit;
}
void hart_set_mtimecmp(struct hart *h, uint64_t v)
{
	h->mtimecmp = v;
}
uint64_t hart_get_mtimecmp(const struct hart *h)
{
	return h->mtimecmp;
}
void hart_kick(struct hart *h)
{
	h->kicks++;
}
void hart_request_tlb_flush(struct hart *h)
{
	h->flushes++;
}
void hart_request_ifence(struct hart *h)
{
	h->flushes++; /* a remote fence.i includes the TLB flush */
}
int hart_start(struct hart *h, uint64_t pc, uint64_t opaque)
{
	if (h->state != HART_STOPPED)
		return -1;
	h->state = HART_STARTED;
	h->start_pc = pc;
	h->start_opaque = opaque;
	return 0;
}
void hart_stop_self(struct hart *h)
{
	h->stop_self++;
}
int hart_get_state(const struct hart *h)
{
	return h->state;
}
uint64_t hart_get_reg(const struct hart *h, unsigned r)
{
	return h->x[r];
}
void hart_set_reg(struct hart *h, unsigned r, uint64_t v)
{
	h->x[r] = v;
}
unsigned hart_get_id(const struct hart *h)
{
	return h->id;
}
uint64_t hart_get_pc(const struct hart *h)
{
	return 0;
}

#define NHARTS 2
static struct hart fharts[NHARTS];
static struct hart *fhart_ptrs[NHARTS] = { &fharts[0], &fharts[1] };
static struct cpu_shared fsh;

static void reset_fakes(void)
{
	memset(fharts, 0, sizeof(fharts));
	for (unsigned i = 0; i < NHARTS; i++) {
		fharts[i].id = i;
		fharts[i].mtimecmp = UINT64_MAX;
		fharts[i].state = HART_STOPPED;
	}
	memset(&fsh, 0, sizeof(fsh));
	fsh.harts = fhart_ptrs;
	fsh.nr_harts = NHARTS;
	fake_mtime = 0;
}

static uint64_t rd(const struct dev_ops *ops, void *dev, uint64_t off, unsigned size)
{
	uint64_t v = 0xdeadbeef;
	assert_int_equal(ops->read(dev, off, size, &v), 0);
	return v;
}

static void wr(const struct dev_ops *ops, void *dev, uint64_t off, unsigned size, uint64_t v)
{
	assert_int_equal(ops->write(dev, off, size, v), 0);
}

/* ---- PLIC ---- */

static void plic_to_fake(void *opaque, unsigned ctx, bool level)
{
	hart_set_irq(&fharts[ctx / 2], (ctx & 1) ? MIP_SEIP : MIP_MEIP, level);
}

static void plic_setup(struct plic *p)
{
	reset_fakes();
	plic_init(p, 2 * NHARTS);
	for (unsigned c = 0; c < 2 * NHARTS; c++)
		p->out[c] = (struct irq_line){ .set = plic_to_fake, .n = c };
}

#define PLIC_ENABLE(ctx) (0x2000 + 0x80 * (ctx))
#define PLIC_THRESHOLD(ctx) (0x200000 + 0x1000 * (ctx))
#define PLIC_CLAIM(ctx) (0x200004 + 0x1000 * (ctx))

static void test_plic_claim_complete(void **state)
{
	struct plic p;
	plic_setup(&p);
	wr(&plic_ops, &p, 4 * 10, 4, 1); /* priority of source 10 */
	wr(&plic_ops, &p, PLIC_ENABLE(1), 4, 1u << 10);
	plic_set_irq(&p, 10, true);
	assert_true(fharts[0].mip & MIP_SEIP);
	assert_false(fharts[0].mip & MIP_MEIP); /* M context has it disabled */
	assert_int_equal(rd(&plic_ops, &p, 0x1000, 4), 1u << 10);
	assert_int_equal(rd(&plic_ops, &p, PLIC_CLAIM(1), 4), 10);
	/* claimed: no longer pending, line drops although the source is high */
	assert_false(fharts[0].mip & MIP_SEIP);
	assert_int_equal(rd(&plic_ops, &p, 0x1000, 4), 0);
	assert_int_equal(rd(&plic_ops, &p, PLIC_CLAIM(1), 4), 0);
	/* completion while the level is still high: pending again */
	wr(&plic_ops, &p, PLIC_CLAIM(1), 4, 10);
	assert_true(fharts[0].mip & MIP_SEIP);
	assert_int_equal(rd(&plic_ops, &p, PLIC_CLAIM(1), 4), 10);
	plic_set_irq(&p, 10, false);
	wr(&plic_ops, &p, PLIC_CLAIM(1), 4, 10);
	assert_false(fharts[0].mip & MIP_SEIP);
	assert_int_equal(rd(&plic_ops, &p, 0x1000, 4), 0);
}

static void test_plic_priority_threshold(void **state)
{
	struct plic p;
	plic_setup(&p);
	wr(&plic_ops, &p, 4 * 3, 4, 2);
	wr(&plic_ops, &p, 4 * 5, 4, 6);
	wr(&plic_ops, &p, 4 * 7, 4, 6);
	wr(&plic_ops, &p, PLIC_ENABLE(3), 4, (1u << 3) | (1u << 5) | (1u << 7));
	plic_set_irq(&p, 3, true);
	plic_set_irq(&p, 7, true);
	plic_set_irq(&p, 5, true);
	assert_true(fharts[1].mip & MIP_SEIP);
	assert_false(fharts[0].mip & MIP_SEIP);
	/* priority 7 is the maximum: writes are masked */
	wr(&plic_ops, &p, 4 * 3, 4, 0xff);
	assert_int_equal(rd(&plic_ops, &p, 4 * 3, 4), 7);
	wr(&plic_ops, &p, 4 * 3, 4, 2);
	/* threshold 6 masks everything (must be strictly greater) */
	wr(&plic_ops, &p, PLIC_THRESHOLD(3), 4, 6);
	assert_false(fharts[1].mip & MIP_SEIP);
	wr(&plic_ops, &p, PLIC_THRESHOLD(3), 4, 5);
	assert_true(fharts[1].mip & MIP_SEIP);
	/* equal priorities: lowest id first, then the next, then the low one */
	assert_int_equal(rd(&plic_ops, &p, PLIC_CLAIM(3), 4), 5);
	assert_int_equal(rd(&plic_ops, &p, PLIC_CLAIM(3), 4), 7);
	/* source 3 (priority 2) is below the threshold: line low */
	assert_false(fharts[1].mip & MIP_SEIP);
	wr(&plic_ops, &p, PLIC_THRESHOLD(3), 4, 0);
	assert_true(fharts[1].mip & MIP_SEIP);
	assert_int_equal(rd(&plic_ops, &p, PLIC_CLAIM(3), 4), 3);
	/* priority 0 never interrupts */
	wr(&plic_ops, &p, 4 * 9, 4, 0);
	wr(&plic_ops, &p, PLIC_ENABLE(0), 4, 1u << 9);
	plic_set_irq(&p, 9, true);
	assert_false(fharts[0].mip & MIP_MEIP);
	assert_int_equal(rd(&plic_ops, &p, PLIC_CLAIM(0), 4), 0);
}

static void test_plic_bad_accesses(void **state)
{
	struct plic p;
	plic_setup(&p);
	uint64_t v;
	assert_int_equal(plic_ops.read(&p, 0, 8, &v), -1);
	assert_int_equal(plic_ops.write(&p, 0x200000 + 0x1000 * 20, 4, 1), -1); /* no such context */
	/* source 0 and out-of-range sources are ignored */
	wr(&plic_ops, &p, 0, 4, 7);
	assert_int_equal(rd(&plic_ops, &p, 0, 4), 0);
	plic_set_irq(&p, 0, true);
	plic_set_irq(&p, 1000, true);
	wr(&plic_ops, &p, 0x1000, 4, 0xffffffff); /* pending is read-only */
	assert_int_equal(rd(&plic_ops, &p, 0x1000, 4), 0);
	wr(&plic_ops, &p, PLIC_CLAIM(1), 4, 9999); /* bogus completion */
	/* save -> load round trip, and a corrupt state is refused */
	wr(&plic_ops, &p, 4 * 2, 4, 3);
	uint8_t buf[sizeof(struct plic_state)];
	assert_int_equal(plic_ops.save(&p, buf, sizeof(buf)), sizeof(buf));
	struct plic q;
	plic_setup(&q);
	assert_int_equal(plic_ops.load(&q, buf, sizeof(buf)), 0);
	assert_int_equal(rd(&plic_ops, &q, 4 * 2, 4), 3);
	assert_int_equal(plic_ops.load(&q, buf, sizeof(buf) - 1), -EINVAL);
	((struct plic_state *)buf)->priority[4] = 99;
	assert_int_equal(plic_ops.load(&q, buf, sizeof(buf)), -EINVAL);
}

/* ---- ACLINT ---- */

static void test_aclint(void **state)
{
	reset_fakes();
	struct aclint a;
	aclint_init(&a, &fsh);
	wr(&aclint_ops, &a, 4, 4, 1); /* msip hart 1 */
	assert_true(fharts[1].mip & MIP_MSIP);
	assert_false(fharts[0].mip & MIP_MSIP);
	assert_int_equal(rd(&aclint_ops, &a, 4, 4), 1);
	wr(&aclint_ops, &a, 4, 4, 0xfffffffe); /* only bit 0 is writable */
	assert_false(fharts[1].mip & MIP_MSIP);
	assert_int_equal(rd(&aclint_ops, &a, 4, 4), 0);
	/* mtimecmp, 64-bit and as two halves */
	wr(&aclint_ops, &a, 0x4000 + 8, 8, 0x123456789abcull);
	assert_int_equal(fharts[1].mtimecmp, 0x123456789abcull);
	wr(&aclint_ops, &a, 0x4000, 4, 0x11111111);
	wr(&aclint_ops, &a, 0x4004, 4, 0x2);
	assert_int_equal(fharts[0].mtimecmp, 0x211111111ull);
	assert_int_equal(rd(&aclint_ops, &a, 0x4004, 4), 2);
	/* mtime */
	fake_mtime = 0xaabbccdd11223344ull;
	assert_int_equal(rd(&aclint_ops, &a, 0xbff8, 8), 0xaabbccdd11223344ull);
	assert_int_equal(rd(&aclint_ops, &a, 0xbffc, 4), 0xaabbccdd);
	/* harts that do not exist: ignored, read zero */
	wr(&aclint_ops, &a, 4 * 5, 4, 1);
	assert_int_equal(rd(&aclint_ops, &a, 4 * 5, 4), 0);
	assert_int_equal(rd(&aclint_ops, &a, 0x4000 + 8 * 7, 8), 0);
	/* save -> load round trip: msip and mtimecmp re-driven into the harts,
	 * mtime continues from the saved value */
	wr(&aclint_ops, &a, 0, 4, 1);
	wr(&aclint_ops, &a, 0x4008, 8, 4242);
	fake_mtime = 1000;
	uint8_t buf[sizeof(struct aclint_state)];
	assert_int_equal(aclint_ops.save(&a, buf, sizeof(buf)), sizeof(buf));
	aclint_ops.reset(&a);
	assert_int_equal(fharts[0].mtimecmp, UINT64_MAX);
	assert_false(fharts[0].mip & MIP_MSIP);
	fake_mtime = 5000;
	fsh.time_base_ns = 0;
	assert_int_equal(aclint_ops.load(&a, buf, sizeof(buf)), 0);
	assert_true(fharts[0].mip & MIP_MSIP);
	assert_int_equal(fharts[1].mtimecmp, 4242);
	assert_int_equal(fsh.time_base_ns, 4000 * 100);
	((struct aclint_state *)buf)->msip[0] = 2;
	assert_int_equal(aclint_ops.load(&a, buf, sizeof(buf)), -EINVAL);
}

/* ---- UART ---- */

static uint8_t tx_buf[256];
static size_t tx_len;
static unsigned rx_space_calls;
static bool uart_irq;

static void uart_tx(void *o, uint8_t c)
{
	if (tx_len < sizeof(tx_buf))
		tx_buf[tx_len++] = c;
}
static void uart_space(void *o)
{
	rx_space_calls++;
}
static void uart_irq_set(void *o, unsigned n, bool level)
{
	uart_irq = level;
}

static void uart_setup(struct uart16550 *u)
{
	uart16550_init(u);
	u->tx = uart_tx;
	u->rx_space = uart_space;
	u->irq = (struct irq_line){ .set = uart_irq_set, .n = UART_IRQ };
	tx_len = 0;
	rx_space_calls = 0;
	uart_irq = false;
}

static void test_uart_tx_thre(void **state)
{
	struct uart16550 u;
	uart_setup(&u);
	const struct dev_ops *o = &uart16550_ops;
	assert_int_equal(rd(o, &u, 5, 1) & 0x60, 0x60); /* THRE | TEMT */
	assert_int_equal(rd(o, &u, 2, 1), 0x01);        /* no interrupt */
	wr(o, &u, 0, 1, 'A');
	wr(o, &u, 0, 1, 'B');
	assert_int_equal(tx_len, 2);
	assert_memory_equal(tx_buf, "AB", 2);
	assert_false(uart_irq);
	/* Enabling THRI with an empty THR raises it at once (Linux's test) */
	wr(o, &u, 1, 1, 0x02);
	assert_true(uart_irq);
	assert_int_equal(rd(o, &u, 2, 1), 0x02);
	/* reading IIR cleared it */
	assert_false(uart_irq);
	assert_int_equal(rd(o, &u, 2, 1), 0x01);
	wr(o, &u, 0, 1, 'C');
	assert_true(uart_irq);
	wr(o, &u, 1, 1, 0);
	assert_false(uart_irq);
	/* divisor latch does not transmit */
	wr(o, &u, 3, 1, 0x83);
	wr(o, &u, 0, 1, 0x01);
	wr(o, &u, 1, 1, 0x00);
	assert_int_equal(rd(o, &u, 0, 1), 0x01);
	wr(o, &u, 3, 1, 0x03);
	assert_int_equal(tx_len, 3);
	assert_int_equal(rd(o, &u, 3, 1), 0x03);
	wr(o, &u, 7, 1, 0x5a);
	assert_int_equal(rd(o, &u, 7, 1), 0x5a);
	uint64_t v;
	assert_int_equal(o->read(&u, 0, 8, &v), -1);
}

static void test_uart_rx_fifo(void **state)
{
	struct uart16550 u;
	uart_setup(&u);
	const struct dev_ops *o = &uart16550_ops;
	/* without the FIFO the receiver holds one byte */
	assert_int_equal(uart16550_rx_push(&u, (const uint8_t *)"xy", 2), 1);
	assert_int_equal(rd(o, &u, 5, 1) & 1, 1);
	assert_int_equal(rd(o, &u, 0, 1), 'x');
	assert_int_equal(rx_space_calls, 1);
	assert_int_equal(rd(o, &u, 5, 1) & 1, 0);
	/* FIFO on: 16 bytes, in order; interrupt while data is ready */
	wr(o, &u, 2, 1, 0x07);
	wr(o, &u, 1, 1, 0x01);
	uint8_t in[20];
	for (unsigned i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)('a' + i);
	assert_int_equal(uart16550_rx_push(&u, in, sizeof(in)), UART_FIFO_LEN);
	assert_int_equal(uart16550_rx_room(&u), 0);
	assert_true(uart_irq);
	assert_int_equal(rd(o, &u, 2, 1), 0xc4);
	for (unsigned i = 0; i < UART_FIFO_LEN; i++)
		assert_int_equal(rd(o, &u, 0, 1), 'a' + i);
	assert_false(uart_irq);
	assert_int_equal(rd(o, &u, 2, 1), 0xc1);
	/* reading an empty RBR is harmless */
	assert_int_equal(rd(o, &u, 0, 1), 0);
	/* FCR clear */
	assert_int_equal(uart16550_rx_push(&u, in, 3), 3);
	wr(o, &u, 2, 1, 0x03);
	assert_int_equal(rd(o, &u, 5, 1) & 1, 0);
	/* loopback: TX comes back as RX, MSR mirrors MCR, outside input refused */
	wr(o, &u, 4, 1, 0x10 | 0x02 | 0x01);
	size_t before = tx_len;
	wr(o, &u, 0, 1, 'L');
	assert_int_equal(tx_len, before);
	assert_int_equal(rd(o, &u, 0, 1), 'L');
	assert_int_equal(rd(o, &u, 6, 1), 0x30);
	assert_int_equal(uart16550_rx_push(&u, in, 1), 0);
	wr(o, &u, 4, 1, 0);
	assert_int_equal(rd(o, &u, 6, 1), 0xb0);
	/* rx_take (SBI console) */
	assert_int_equal(uart16550_rx_push(&u, (const uint8_t *)"hi", 2), 2);
	uint8_t out[4];
	assert_int_equal(uart16550_rx_take(&u, out, sizeof(out)), 2);
	assert_memory_equal(out, "hi", 2);
	/* save/load */
	assert_int_equal(uart16550_rx_push(&u, (const uint8_t *)"Z", 1), 1);
	uint8_t buf[sizeof(struct uart_state)];
	assert_int_equal(uart16550_ops.save(&u, buf, sizeof(buf)), sizeof(buf));
	struct uart16550 w;
	uart_setup(&w);
	assert_int_equal(uart16550_ops.load(&w, buf, sizeof(buf)), 0);
	assert_int_equal(rd(o, &w, 0, 1), 'Z');
	((struct uart_state *)buf)->rx_count = 200;
	assert_int_equal(uart16550_ops.load(&w, buf, sizeof(buf)), -EINVAL);
}

/* ---- RTC ---- */

static uint64_t fake_wall_ns;
static uint64_t fake_wall(void)
{
	return fake_wall_ns;
}
static bool rtc_irq;
static void rtc_irq_set(void *o, unsigned n, bool level)
{
	rtc_irq = level;
}

static void test_rtc(void **state)
{
	struct goldfish_rtc r;
	goldfish_rtc_init(&r);
	/* the real clock: after 2020 */
	uint64_t lo = rd(&goldfish_rtc_ops, &r, 0, 4), hi = rd(&goldfish_rtc_ops, &r, 4, 4);
	assert_true(((hi << 32) | lo) > 1577836800ull * 1000000000ull);
	r.clock_ns = fake_wall;
	r.irq = (struct irq_line){ .set = rtc_irq_set };
	fake_wall_ns = 0x0000000500000007ull;
	assert_int_equal(rd(&goldfish_rtc_ops, &r, 0, 4), 7);
	fake_wall_ns += 0x100000000ull; /* TIME_HIGH stays latched */
	assert_int_equal(rd(&goldfish_rtc_ops, &r, 4, 4), 5);
	/* set the clock to 0x9_0000_0000 */
	wr(&goldfish_rtc_ops, &r, 4, 4, 9);
	wr(&goldfish_rtc_ops, &r, 0, 4, 0);
	fake_wall_ns += 10;
	assert_int_equal(rd(&goldfish_rtc_ops, &r, 0, 4), 10);
	assert_int_equal(rd(&goldfish_rtc_ops, &r, 4, 4), 9);
	/* alarm 100 ns later */
	wr(&goldfish_rtc_ops, &r, 0x10, 4, 1);
	wr(&goldfish_rtc_ops, &r, 0x0c, 4, 9);
	wr(&goldfish_rtc_ops, &r, 0x08, 4, 110);
	assert_int_equal(rd(&goldfish_rtc_ops, &r, 0x18, 4), 1);
	assert_false(rtc_irq);
	fake_wall_ns += 100;
	goldfish_rtc_poll(&r);
	assert_true(rtc_irq);
	assert_int_equal(rd(&goldfish_rtc_ops, &r, 0x18, 4), 0);
	wr(&goldfish_rtc_ops, &r, 0x1c, 4, 1);
	assert_false(rtc_irq);
	/* save -> load keeps the guest's clock offset and alarm */
	wr(&goldfish_rtc_ops, &r, 0x08, 4, 500);
	uint8_t buf[sizeof(struct goldfish_rtc_state)];
	assert_int_equal(goldfish_rtc_ops.save(&r, buf, sizeof(buf)), sizeof(buf));
	struct goldfish_rtc r2;
	goldfish_rtc_init(&r2);
	r2.clock_ns = fake_wall;
	r2.irq = (struct irq_line){ .set = rtc_irq_set };
	assert_int_equal(goldfish_rtc_ops.load(&r2, buf, sizeof(buf)), 0);
	assert_int_equal(rd(&goldfish_rtc_ops, &r2, 0, 4), rd(&goldfish_rtc_ops, &r, 0, 4));
	assert_int_equal(rd(&goldfish_rtc_ops, &r2, 0x18, 4), 1);
	((struct goldfish_rtc_state *)buf)->irq_enabled = 7;
	assert_int_equal(goldfish_rtc_ops.load(&r2, buf, sizeof(buf)), -EINVAL);
	uint64_t v;
	assert_int_equal(goldfish_rtc_ops.read(&r, 0, 8, &v), -1);
}

/* ---- syscon ---- */

static int sys_action = -1;
static uint32_t sys_code;
static void sys_req(void *o, enum syscon_action a, uint32_t code)
{
	sys_action = (int)a;
	sys_code = code;
}

static void test_syscon(void **state)
{
	struct syscon s = { .request = sys_req };
	wr(&syscon_ops, &s, 0, 4, 0x1234);
	assert_int_equal(sys_action, -1);
	wr(&syscon_ops, &s, 0, 4, 0x5555);
	assert_int_equal(sys_action, SYSCON_POWEROFF);
	wr(&syscon_ops, &s, 0, 4, 0x7777);
	assert_int_equal(sys_action, SYSCON_RESET);
	wr(&syscon_ops, &s, 0, 4, (42u << 16) | 0x3333);
	assert_int_equal(sys_action, SYSCON_FAIL);
	assert_int_equal(sys_code, 42);
	sys_action = -1;
	wr(&syscon_ops, &s, 8, 4, 0x5555); /* other offsets: ignored */
	assert_int_equal(sys_action, -1);
}

/* ---- SBI ---- */

static uint8_t sbi_ram_buf[4096];
static char con_out[256];
static size_t con_len;
static int reset_type = -1, reset_reason = -1;

static void con_write(void *o, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n && con_len < sizeof(con_out); i++)
		con_out[con_len++] = (char)b[i];
}
static size_t con_read(void *o, uint8_t *b, size_t n)
{
	static const char in[] = "q";
	size_t k = n < 1 ? n : 1;
	memcpy(b, in, k);
	return k;
}
static void sys_reset(void *o, uint32_t t, uint32_t r)
{
	reset_type = (int)t;
	reset_reason = (int)r;
}

static struct sbi_env sbi_setup(void)
{
	reset_fakes();
	fsh.ram_hva = sbi_ram_buf;
	fsh.ram_base_gpa = 0x80000000;
	fsh.ram_size = sizeof(sbi_ram_buf);
	con_len = 0;
	reset_type = reset_reason = -1;
	return (struct sbi_env){ .sh = &fsh, .console_write = con_write, .console_read = con_read,
				 .system_reset = sys_reset };
}

static int64_t call(const struct sbi_env *env, struct hart *h, uint64_t eid, uint64_t fid, uint64_t a0,
		    uint64_t a1, uint64_t a2)
{
	h->x[17] = eid;
	h->x[16] = fid;
	h->x[10] = a0;
	h->x[11] = a1;
	h->x[12] = a2;
	sbi_handle_call(env, h);
	return (int64_t)h->x[10];
}

static void test_sbi_base_time_ipi(void **state)
{
	struct sbi_env env = sbi_setup();
	struct hart *h = &fharts[0];
	assert_int_equal(call(&env, h, SBI_EXT_BASE, 0, 0, 0, 0), 0);
	assert_int_equal(h->x[11], 0x2000000);
	assert_int_equal(call(&env, h, SBI_EXT_BASE, 3, SBI_EXT_HSM, 0, 0), 0);
	assert_int_equal(h->x[11], 1);
	assert_int_equal(call(&env, h, SBI_EXT_BASE, 3, 0x504D55 /* PMU */, 0, 0), 0);
	assert_int_equal(h->x[11], 0);
	assert_int_equal(call(&env, h, 0x12345678, 0, 0, 0, 0), SBI_ERR_NOT_SUPPORTED);
	assert_int_equal(call(&env, h, SBI_EXT_BASE, 99, 0, 0, 0), SBI_ERR_NOT_SUPPORTED);
	/* TIME */
	assert_int_equal(call(&env, h, SBI_EXT_TIME, 0, 12345, 0, 0), 0);
	assert_int_equal(h->mtimecmp, 12345);
	call(&env, h, 0x00, 0, 777, 0, 0); /* legacy set_timer */
	assert_int_equal(h->mtimecmp, 777);
	/* IPI to hart 1 only, then to all; bad hart ids refused */
	assert_int_equal(call(&env, h, SBI_EXT_IPI, 0, 1, 1, 0), 0);
	assert_true(fharts[1].mip & MIP_SSIP);
	assert_false(fharts[0].mip & MIP_SSIP);
	assert_int_equal(call(&env, h, SBI_EXT_IPI, 0, 0, UINT64_MAX, 0), 0);
	assert_true(fharts[0].mip & MIP_SSIP);
	assert_int_equal(call(&env, h, SBI_EXT_IPI, 0, 0x4, 0, 0), SBI_ERR_INVALID_PARAM);
	assert_int_equal(call(&env, h, SBI_EXT_IPI, 0, 1, 5, 0), SBI_ERR_INVALID_PARAM);
	call(&env, h, 0x03, 0, 0, 0, 0); /* legacy clear_ipi */
	assert_false(fharts[0].mip & MIP_SSIP);
	/* RFENCE */
	assert_int_equal(call(&env, &fharts[1], SBI_EXT_RFENCE, 1, 3, 0, 0), 0);
	assert_int_equal(fharts[0].flushes, 1);
	assert_int_equal(fharts[1].flushes, 1);
	assert_int_equal(call(&env, h, SBI_EXT_RFENCE, 0, 2, 0, 0), 0);
	assert_int_equal(fharts[1].flushes, 2);
	assert_int_equal(call(&env, h, SBI_EXT_RFENCE, 3, 1, 0, 0), SBI_ERR_NOT_SUPPORTED);
}

static void test_sbi_hsm_srst_dbcn(void **state)
{
	struct sbi_env env = sbi_setup();
	struct hart *h = &fharts[0];
	fharts[0].state = HART_STARTED;
	assert_int_equal(call(&env, h, SBI_EXT_HSM, 2, 1, 0, 0), 0);
	assert_int_equal(h->x[11], HART_STOPPED);
	assert_int_equal(call(&env, h, SBI_EXT_HSM, 0, 1, 0x80000100, 0x55), 0);
	assert_int_equal(fharts[1].start_pc, 0x80000100);
	assert_int_equal(fharts[1].start_opaque, 0x55);
	assert_int_equal(call(&env, h, SBI_EXT_HSM, 0, 1, 0x80000100, 0), SBI_ERR_ALREADY_AVAILABLE);
	assert_int_equal(call(&env, h, SBI_EXT_HSM, 0, 7, 0x80000100, 0), SBI_ERR_INVALID_PARAM);
	fharts[1].state = HART_STOPPED;
	assert_int_equal(call(&env, h, SBI_EXT_HSM, 0, 1, 0x1000, 0), SBI_ERR_INVALID_ADDRESS);
	assert_int_equal(call(&env, h, SBI_EXT_HSM, 2, 9, 0, 0), SBI_ERR_INVALID_PARAM);
	assert_int_equal(call(&env, h, SBI_EXT_HSM, 1, 0, 0, 0), 0);
	assert_int_equal(h->stop_self, 1);
	assert_int_equal(call(&env, h, SBI_EXT_HSM, 3, 0, 0, 0), 0);
	assert_int_equal(call(&env, h, SBI_EXT_HSM, 3, 0x20000000, 0, 0), SBI_ERR_INVALID_PARAM);
	/* SRST */
	assert_int_equal(call(&env, h, SBI_EXT_SRST, 0, 5, 0, 0), SBI_ERR_INVALID_PARAM);
	assert_int_equal(reset_type, -1);
	call(&env, h, SBI_EXT_SRST, 0, SBI_RESET_COLD, 0, 0);
	assert_int_equal(reset_type, SBI_RESET_COLD);
	call(&env, h, SBI_EXT_SRST, 0, SBI_RESET_SHUTDOWN, 1, 0);
	assert_int_equal(reset_type, SBI_RESET_SHUTDOWN);
	assert_int_equal(reset_reason, 1);
	/* DBCN: buffers are checked against RAM */
	memcpy(sbi_ram_buf + 16, "hello", 5);
	assert_int_equal(call(&env, h, SBI_EXT_DBCN, 0, 5, 0x80000010, 0), 0);
	assert_int_equal(h->x[11], 5);
	assert_int_equal(call(&env, h, SBI_EXT_DBCN, 0, 5, 0x80000ffe, 0), SBI_ERR_INVALID_PARAM);
	assert_int_equal(call(&env, h, SBI_EXT_DBCN, 0, UINT64_MAX, 0x80000010, 0), SBI_ERR_INVALID_PARAM);
	assert_int_equal(call(&env, h, SBI_EXT_DBCN, 0, 1, 0x80000010, 1), SBI_ERR_INVALID_PARAM);
	assert_int_equal(call(&env, h, SBI_EXT_DBCN, 0, 1, 0x10, 0), SBI_ERR_INVALID_PARAM);
	assert_int_equal(call(&env, h, SBI_EXT_DBCN, 2, '!', 0, 0), 0);
	call(&env, h, 0x01, 0, '?', 0, 0); /* legacy putchar */
	assert_int_equal(con_len, 7);
	assert_memory_equal(con_out, "hello!?", 7);
	assert_int_equal(call(&env, h, SBI_EXT_DBCN, 1, 4, 0x80000020, 0), 0);
	assert_int_equal(h->x[11], 1);
	assert_int_equal(sbi_ram_buf[0x20], 'q');
	assert_int_equal(call(&env, h, 0x02, 0, 0, 0, 0), 'q'); /* legacy getchar */
	call(&env, h, 0x08, 0, 0, 0, 0); /* legacy shutdown */
	assert_int_equal(reset_type, SBI_RESET_SHUTDOWN);
	assert_int_equal(reset_reason, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plic_claim_complete),
		cmocka_unit_test(test_plic_priority_threshold),
		cmocka_unit_test(test_plic_bad_accesses),
		cmocka_unit_test(test_aclint),
		cmocka_unit_test(test_uart_tx_thre),
		cmocka_unit_test(test_uart_rx_fifo),
		cmocka_unit_test(test_rtc),
		cmocka_unit_test(test_syscon),
		cmocka_unit_test(test_sbi_base_time_ipi),
		cmocka_unit_test(test_sbi_hsm_srst_dbcn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
