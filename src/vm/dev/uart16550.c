#include "vm/dev/uart16550.h"

#include <errno.h>
#include <string.h>

#include "base/log.h"

/* Register bits (PC16550D data sheet). */
#define IER_RDI 0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI 0x08
#define IIR_NO_INT 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_FIFO 0xc0
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04
#define LCR_DLAB 0x80
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_BI 0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

static unsigned uart_capacity(const struct uart16550 *u)
{
	return (u->s.fcr & FCR_ENABLE) ? UART_FIFO_LEN : 1;
}

size_t uart16550_rx_room(const struct uart16550 *u)
{
	unsigned cap = uart_capacity(u);
	return u->s.rx_count >= cap ? 0 : cap - u->s.rx_count;
}

static uint8_t uart_iir(const struct uart16550 *u)
{
	uint8_t fifo = (u->s.fcr & FCR_ENABLE) ? IIR_FIFO : 0;
	if ((u->s.ier & IER_RLSI) && u->s.lsr_err)
		return IIR_RLSI | fifo;
	if ((u->s.ier & IER_RDI) && u->s.rx_count)
		return IIR_RDI | fifo;
	if ((u->s.ier & IER_THRI) && u->s.thr_ipending)
		return IIR_THRI | fifo;
	return IIR_NO_INT | fifo;
}

static void uart_update(struct uart16550 *u)
{
	irq_line_set(&u->irq, !(uart_iir(u) & IIR_NO_INT));
}

static void uart_rx_byte(struct uart16550 *u, uint8_t c)
{
	if (uart16550_rx_room(u) == 0) {
		u->s.lsr_err |= LSR_OE;
		return;
	}
	u->s.rx_fifo[(u->s.rx_head + u->s.rx_count) % UART_FIFO_LEN] = c;
	u->s.rx_count++;
}

size_t uart16550_rx_push(struct uart16550 *u, const uint8_t *buf, size_t len)
{
	size_t n = 0;
	/* In loopback mode the line is disconnected from the outside. */
	if (u->s.mcr & MCR_LOOP)
		return 0;
	while (n < len && uart16550_rx_room(u) > 0)
		uart_rx_byte(u, buf[n++]);
	if (n)
		uart_update(u);
	return n;
}

bool uart16550_rx_break(struct uart16550 *u)
{
	if ((u->s.mcr & MCR_LOOP) || u->s.rx_count)
		return false;
	uart_rx_byte(u, 0);
	u->s.lsr_err |= LSR_BI;
	uart_update(u);
	return true;
}

size_t uart16550_rx_take(struct uart16550 *u, uint8_t *buf, size_t len)
{
	size_t n = 0;
	while (n < len && u->s.rx_count) {
		buf[n++] = u->s.rx_fifo[u->s.rx_head];
		u->s.rx_head = (uint8_t)((u->s.rx_head + 1) % UART_FIFO_LEN);
		u->s.rx_count--;
	}
	if (n) {
		uart_update(u);
		if (u->rx_space)
			u->rx_space(u->backend_opaque);
	}
	return n;
}

void uart16550_init(struct uart16550 *u)
{
	memset(u, 0, sizeof(*u));
	u->s.lcr = 0x03; /* 8n1 */
}

static uint8_t uart_msr(const struct uart16550 *u)
{
	if (u->s.mcr & MCR_LOOP) {
		uint8_t m = u->s.mcr;
		return (uint8_t)(((m & MCR_RTS) ? MSR_CTS : 0) | ((m & MCR_DTR) ? MSR_DSR : 0) |
				 ((m & MCR_OUT1) ? MSR_RI : 0) | ((m & MCR_OUT2) ? MSR_DCD : 0));
	}
	return MSR_DCD | MSR_DSR | MSR_CTS;
}

static int uart_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
	struct uart16550 *u = dev;
	if (size != 1 && size != 4) /* byte registers; 32-bit for reg-io-width 4 */
		return -1;
	if (off > 7) {
		*val = 0;
		return 0;
	}
	uint8_t v = 0;
	bool dlab = u->s.lcr & LCR_DLAB;
	switch (off) {
	case 0:
		if (dlab) {
			v = u->s.dll;
		} else if (u->s.rx_count) {
			v = u->s.rx_fifo[u->s.rx_head];
			u->s.rx_head = (uint8_t)((u->s.rx_head + 1) % UART_FIFO_LEN);
			u->s.rx_count--;
			uart_update(u);
			if (u->rx_space)
				u->rx_space(u->backend_opaque);
		}
		break;
	case 1:
		v = dlab ? u->s.dlm : u->s.ier;
		break;
	case 2:
		v = uart_iir(u);
		/* Reading IIR while THRE is the reported source clears it. */
		if ((v & 0x0f) == IIR_THRI) {
			u->s.thr_ipending = 0;
			uart_update(u);
		}
		break;
	case 3:
		v = u->s.lcr;
		break;
	case 4:
		v = u->s.mcr;
		break;
	case 5:
		v = (uint8_t)(LSR_THRE | LSR_TEMT | (u->s.rx_count ? LSR_DR : 0) | u->s.lsr_err);
		if (u->s.lsr_err) {
			u->s.lsr_err = 0;
			uart_update(u);
		}
		break;
	case 6:
		v = uart_msr(u);
		break;
	case 7:
		v = u->s.scr;
		break;
	default:
		break;
	}
	*val = v;
	return 0;
}

static int uart_write(void *dev, uint64_t off, unsigned size, uint64_t val64)
{
	struct uart16550 *u = dev;
	uint8_t val = (uint8_t)val64;
	if (size != 1 && size != 4)
		return -1;
	bool dlab = u->s.lcr & LCR_DLAB;
	switch (off) {
	case 0:
		if (dlab) {
			u->s.dll = val;
			break;
		}
		if (u->s.mcr & MCR_LOOP)
			uart_rx_byte(u, val);
		else if (u->tx)
			u->tx(u->backend_opaque, val);
		/* The byte left at once: THR is empty again. */
		u->s.thr_ipending = 1;
		uart_update(u);
		break;
	case 1:
		if (dlab) {
			u->s.dlm = val;
			break;
		}
		{
			uint8_t old = u->s.ier;
			u->s.ier = val & 0x0f;
			/* Enabling THRI while THR is empty raises it at once, as
			 * Linux's THRE test in serial8250_do_startup expects. */
			if ((u->s.ier & IER_THRI) && !(old & IER_THRI))
				u->s.thr_ipending = 1;
			else if (!(u->s.ier & IER_THRI))
				u->s.thr_ipending = 0;
		}
		uart_update(u);
		break;
	case 2:
		if ((val ^ u->s.fcr) & FCR_ENABLE)
			val |= FCR_CLEAR_RX | FCR_CLEAR_TX;
		if (val & FCR_CLEAR_RX) {
			u->s.rx_count = 0;
			u->s.rx_head = 0;
			if (u->rx_space)
				u->rx_space(u->backend_opaque);
		}
		u->s.fcr = val & 0xc9; /* enable, DMA mode, trigger level */
		uart_update(u);
		break;
	case 3:
		u->s.lcr = val;
		break;
	case 4:
		u->s.mcr = val & 0x1f;
		break;
	case 7:
		u->s.scr = val;
		break;
	default:
		/* LSR and MSR are read-only; the rest of the window is a hole. */
		break;
	}
	return 0;
}

static void uart_reset(void *dev)
{
	struct uart16550 *u = dev;
	memset(&u->s, 0, sizeof(u->s));
	u->s.lcr = 0x03;
	uart_update(u);
	if (u->rx_space)
		u->rx_space(u->backend_opaque);
}

static size_t uart_save(const void *dev, void *buf, size_t len)
{
	const struct uart16550 *u = dev;
	if (len >= sizeof(u->s))
		memcpy(buf, &u->s, sizeof(u->s));
	return sizeof(u->s);
}

static int uart_load(void *dev, const void *buf, size_t len)
{
	struct uart16550 *u = dev;
	struct uart_state s;
	if (len != sizeof(s))
		return -EINVAL;
	memcpy(&s, buf, sizeof(s));
	if (s.rx_head >= UART_FIFO_LEN || s.rx_count > UART_FIFO_LEN || s.thr_ipending > 1)
		return -EINVAL;
	u->s = s;
	uart_update(u);
	return 0;
}

const struct dev_ops uart16550_ops = {
	.name = "uart16550",
	.read = uart_read,
	.write = uart_write,
	.reset = uart_reset,
	.save = uart_save,
	.load = uart_load,
};
