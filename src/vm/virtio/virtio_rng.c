/* virtio-rng (virtio 1.2 §5.4): one request queue whose writable buffers the
 * device fills with entropy from the host (getrandom(2), never blocking once
 * the host pool is initialized). */
#include <stdlib.h>
#include <sys/random.h>

#include "base/util.h"
#include "vm/virtio/virtio_devices.h"

#define RNG_MAX_PER_REQUEST 65536 /* bound the time spent under the board lock */

struct virtio_rng {
	struct virtio_mmio *t;
	struct virtq_elem elem;
};

static void rng_config_read(void *dev, uint32_t off, void *buf, uint32_t len)
{
	(void)dev;
	(void)off;
	(void)buf;
	(void)len; /* no config space */
}

static void rng_notify(void *dev, unsigned q)
{
	struct virtio_rng *r = dev;
	while (virtio_mmio_pop(r->t, q, &r->elem) == 1) {
		size_t done = 0;
		for (unsigned i = 0; i < r->elem.in_num && done < RNG_MAX_PER_REQUEST; i++) {
			size_t want = r->elem.in[i].iov_len;
			if (want > RNG_MAX_PER_REQUEST - done)
				want = RNG_MAX_PER_REQUEST - done;
			ssize_t n = getrandom(r->elem.in[i].iov_base, want, 0);
			if (n <= 0)
				break;
			done += (size_t)n;
			if ((size_t)n < want)
				break;
		}
		virtio_mmio_push(r->t, q, r->elem.head, (uint32_t)done);
	}
	virtio_mmio_notify(r->t, q);
}

static void rng_reset(void *dev)
{
	(void)dev;
}

static const struct virtio_device_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = 4,
	.num_queues = 1,
	.config_len = 0,
	.config_read = rng_config_read,
	.queue_notify = rng_notify,
	.reset = rng_reset,
};

struct virtio_rng *virtio_rng_create(const struct guest_mem *mem, struct irq_line irq, pthread_mutex_t *lock)
{
	struct virtio_rng *r = xcalloc(1, sizeof(*r));
	r->t = virtio_mmio_create(&rng_ops, r, 0, mem, irq, lock);
	return r;
}

struct virtio_mmio *virtio_rng_transport(struct virtio_rng *r)
{
	return r->t;
}

void virtio_rng_destroy(struct virtio_rng *r)
{
	if (!r)
		return;
	virtio_mmio_destroy(r->t);
	free(r);
}
