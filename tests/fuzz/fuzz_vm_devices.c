/* Fuzzes the virt board's devices with arbitrary MMIO sequences (what a
 * hostile guest can do): PLIC, NS16550A, goldfish RTC, syscon, plus UART
 * input and PLIC input lines. No access may crash, hang or allocate. */
#include <stdint.h>
#include <string.h>

#include "vm/dev/goldfish_rtc.h"
#include "vm/dev/plic.h"
#include "vm/dev/syscon.h"
#include "vm/dev/uart16550.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned out_level;
static void out_set(void *o, unsigned n, bool level)
{
	if (level)
		out_level |= 1u << n;
	else
		out_level &= ~(1u << n);
}
static void tx(void *o, uint8_t c)
{
}
static void sys_req(void *o, enum syscon_action a, uint32_t code)
{
}
static uint64_t fixed_clock(void)
{
	return 1700000000ull * 1000000000ull;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct plic plic;
	struct uart16550 uart;
	struct goldfish_rtc rtc;
	struct syscon sys = { .request = sys_req };
	plic_init(&plic, 4);
	for (unsigned c = 0; c < 4; c++)
		plic.out[c] = (struct irq_line){ .set = out_set, .n = c };
	uart16550_init(&uart);
	uart.tx = tx;
	uart.irq = (struct irq_line){ .set = plic_set_irq, .opaque = &plic, .n = UART_IRQ };
	goldfish_rtc_init(&rtc);
	rtc.clock_ns = fixed_clock;
	rtc.irq = (struct irq_line){ .set = plic_set_irq, .opaque = &plic, .n = RTC_IRQ };
	struct {
		const struct dev_ops *ops;
		void *dev;
		uint64_t size;
	} devs[] = {
		{ &plic_ops, &plic, PLIC_SIZE },
		{ &uart16550_ops, &uart, UART_SIZE },
		{ &goldfish_rtc_ops, &rtc, RTC_SIZE },
		{ &syscon_ops, &sys, SYSCON_SIZE },
	};
	/* 14-byte commands: dev/op, size, offset (4), value (8) */
	while (size >= 14) {
		unsigned d = data[0] & 3, op = (data[0] >> 2) & 3;
		unsigned sz = 1u << (data[1] & 3);
		uint64_t off, val;
		uint32_t off32;
		memcpy(&off32, data + 2, 4);
		memcpy(&val, data + 6, 8);
		off = (off32 % devs[d].size) & ~(uint64_t)(sz - 1);
		uint64_t got;
		switch (op) {
		case 0:
			devs[d].ops->read(devs[d].dev, off, sz, &got);
			break;
		case 1:
			devs[d].ops->write(devs[d].dev, off, sz, val);
			break;
		case 2:
			plic_set_irq(&plic, (unsigned)(val % 200), (val >> 32) & 1);
			break;
		default: {
			uint8_t in[8];
			memcpy(in, &val, 8);
			uart16550_rx_push(&uart, in, data[1] & 7);
			break;
		}
		}
		data += 14;
		size -= 14;
	}
	/* save -> load round trips must be accepted */
	uint8_t buf[1024];
	for (unsigned d = 0; d < 4; d++) {
		size_t n = devs[d].ops->save(devs[d].dev, buf, sizeof(buf));
		if (n > sizeof(buf) || devs[d].ops->load(devs[d].dev, buf, n) != 0)
			__builtin_trap();
	}
	return 0;
}
