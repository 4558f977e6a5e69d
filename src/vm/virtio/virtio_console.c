/* virtio-console (virtio 1.2 §5.3), a single port (no MULTIPORT): the
 * guest's hvc0. Output goes to a callback; input is offered by the board
 * and taken as far as the guest has posted receive buffers. */
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "vm/virtio/virtio_devices.h"

#define RXQ 0
#define TXQ 1
#define CONSOLE_CONFIG_LEN 12 /* cols, rows, max_nr_ports, emerg_wr */

struct virtio_console {
	struct virtio_mmio *t;
	struct virtio_console_io io;
	uint8_t config[CONSOLE_CONFIG_LEN];
	struct virtq_elem elem;
	struct virtq_elem rx_elem;
};

static void console_config_read(void *dev, uint32_t off, void *buf, uint32_t len)
{
	struct virtio_console *c = dev;
	memcpy(buf, c->config + off, len);
}

static void console_notify(void *dev, unsigned q)
{
	struct virtio_console *c = dev;
	if (q == RXQ) {
		if (c->io.rx_ready)
			c->io.rx_ready(c->io.opaque);
		return;
	}
	while (virtio_mmio_pop(c->t, TXQ, &c->elem) == 1) {
		for (unsigned i = 0; i < c->elem.out_num; i++)
			c->io.output(c->io.opaque, c->elem.out[i].iov_base, c->elem.out[i].iov_len);
		virtio_mmio_push(c->t, TXQ, c->elem.head, 0);
	}
	virtio_mmio_notify(c->t, TXQ);
}

static void console_reset(void *dev)
{
	(void)dev; /* nothing is held across calls */
}

static const struct virtio_device_ops console_ops = {
	.name = "virtio-console",
	.device_id = 3,
	.num_queues = 2,
	.config_len = CONSOLE_CONFIG_LEN,
	.config_read = console_config_read,
	.queue_notify = console_notify,
	.reset = console_reset,
};

size_t virtio_console_input(struct virtio_console *c, const uint8_t *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		if (virtio_mmio_pop(c->t, RXQ, &c->rx_elem) != 1)
			break;
		size_t n = iov_from_buf(c->rx_elem.in, c->rx_elem.in_num, 0, buf + done, len - done);
		virtio_mmio_push(c->t, RXQ, c->rx_elem.head, (uint32_t)n);
		done += n;
		if (n == 0)
			break; /* a buffer with no writable space */
	}
	if (done)
		virtio_mmio_notify(c->t, RXQ);
	return done;
}

struct virtio_console *virtio_console_create(const struct virtio_console_io *io, const struct guest_mem *mem,
					     struct irq_line irq, pthread_mutex_t *lock)
{
	struct virtio_console *c = xcalloc(1, sizeof(*c));
	c->io = *io;
	c->config[4] = 1; /* max_nr_ports */
	c->t = virtio_mmio_create(&console_ops, c, 0, mem, irq, lock);
	return c;
}

struct virtio_mmio *virtio_console_transport(struct virtio_console *c)
{
	return c->t;
}

void virtio_console_destroy(struct virtio_console *c)
{
	if (!c)
		return;
	virtio_mmio_destroy(c->t);
	free(c);
}
