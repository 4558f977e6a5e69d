#include "vm/virtio/virtio_mmio.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"

#define VIRTIO_MMIO_MAGIC 0x74726976u  /* "virt" */
#define VIRTIO_MMIO_VENDOR 0x4c535356u /* "VSSL" */

/* Register offsets (§4.2.2) */
enum {
	REG_MAGIC = 0x000, REG_VERSION = 0x004, REG_DEVICE_ID = 0x008, REG_VENDOR_ID = 0x00c,
	REG_DEV_FEATURES = 0x010, REG_DEV_FEATURES_SEL = 0x014,
	REG_DRV_FEATURES = 0x020, REG_DRV_FEATURES_SEL = 0x024,
	REG_QUEUE_SEL = 0x030, REG_QUEUE_NUM_MAX = 0x034, REG_QUEUE_NUM = 0x038,
	REG_QUEUE_READY = 0x044, REG_QUEUE_NOTIFY = 0x050,
	REG_INTERRUPT_STATUS = 0x060, REG_INTERRUPT_ACK = 0x064, REG_STATUS = 0x070,
	REG_QUEUE_DESC_LOW = 0x080, REG_QUEUE_DESC_HIGH = 0x084,
	REG_QUEUE_DRIVER_LOW = 0x090, REG_QUEUE_DRIVER_HIGH = 0x094,
	REG_QUEUE_DEVICE_LOW = 0x0a0, REG_QUEUE_DEVICE_HIGH = 0x0a4,
	REG_SHM_SEL = 0x0ac, REG_SHM_LEN_LOW = 0x0b0, REG_SHM_LEN_HIGH = 0x0b4,
	REG_SHM_BASE_LOW = 0x0b8, REG_SHM_BASE_HIGH = 0x0bc,
	REG_QUEUE_RESET = 0x0c0, REG_CONFIG_GENERATION = 0x0fc, REG_CONFIG = 0x100,
};

#define INT_USED_BUFFER 1u
#define INT_CONFIG_CHANGE 2u

struct virtio_mmio {
	struct virtio_mmio_state st;
	const struct virtio_device_ops *ops;
	void *dev;
	uint64_t dev_features;
	const struct guest_mem *mem;
	struct irq_line irq;
	pthread_mutex_t *lock;
	uint32_t generation;
	struct log_ratelimit rl;
};

static void update_irq(struct virtio_mmio *t)
{
	irq_line_set(&t->irq, t->st.interrupt_status != 0);
}

struct virtio_mmio *virtio_mmio_create(const struct virtio_device_ops *ops, void *dev, uint64_t features,
				       const struct guest_mem *mem, struct irq_line irq,
				       pthread_mutex_t *lock)
{
	struct virtio_mmio *t = xcalloc(1, sizeof(*t));
	t->ops = ops;
	t->dev = dev;
	t->dev_features = features | (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_INDIRECT_DESC) |
			  (1ull << VIRTIO_F_EVENT_IDX);
	t->mem = mem;
	t->irq = irq;
	t->lock = lock;
	return t;
}

void virtio_mmio_destroy(struct virtio_mmio *t)
{
	free(t);
}

static void do_reset(struct virtio_mmio *t)
{
	t->ops->reset(t->dev);
	memset(&t->st, 0, sizeof(t->st));
	t->generation++;
	update_irq(t);
}

void virtio_mmio_set_needs_reset(struct virtio_mmio *t)
{
	if (t->st.status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	log_ratelimited(&t->rl, LOG_WARN, "%s: malformed virtqueue from the guest; device needs reset",
			t->ops->name);
	t->st.status |= VIRTIO_STATUS_NEEDS_RESET;
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		t->st.vq[q].ready = false;
	if (t->st.status & VIRTIO_STATUS_DRIVER_OK) {
		t->st.interrupt_status |= INT_CONFIG_CHANGE;
		update_irq(t);
	}
}

static struct virtq *cur_queue(struct virtio_mmio *t)
{
	return t->st.queue_sel < t->ops->num_queues ? &t->st.vq[t->st.queue_sel] : NULL;
}

static int mmio_read(void *opaque, uint64_t off, unsigned size, uint64_t *val)
{
	struct virtio_mmio *t = opaque;
	*val = 0;
	if (off >= REG_CONFIG) {
		uint64_t c = off - REG_CONFIG;
		if (c + size <= t->ops->config_len) {
			uint64_t v = 0;
			t->ops->config_read(t->dev, (uint32_t)c, &v, size);
			*val = v;
		}
		return 0;
	}
	if (size != 4) /* §4.2.2.2: registers are 32-bit only; other widths read 0 */
		return 0;
	struct virtq *vq = cur_queue(t);
	switch (off) {
	case REG_MAGIC: *val = VIRTIO_MMIO_MAGIC; break;
	case REG_VERSION: *val = 2; break;
	case REG_DEVICE_ID: *val = t->ops->device_id; break;
	case REG_VENDOR_ID: *val = VIRTIO_MMIO_VENDOR; break;
	case REG_DEV_FEATURES:
		*val = t->st.dev_features_sel < 2 ? (uint32_t)(t->dev_features >> (32 * t->st.dev_features_sel)) : 0;
		break;
	case REG_QUEUE_NUM_MAX: *val = vq ? VIRTQ_MAX_SIZE : 0; break;
	case REG_QUEUE_NUM: *val = vq ? vq->num : 0; break;
	case REG_QUEUE_READY: *val = vq ? vq->ready : 0; break;
	case REG_INTERRUPT_STATUS: *val = t->st.interrupt_status; break;
	case REG_STATUS: *val = t->st.status; break;
	case REG_QUEUE_DESC_LOW: *val = vq ? (uint32_t)vq->desc_gpa : 0; break;
	case REG_QUEUE_DESC_HIGH: *val = vq ? (uint32_t)(vq->desc_gpa >> 32) : 0; break;
	case REG_QUEUE_DRIVER_LOW: *val = vq ? (uint32_t)vq->avail_gpa : 0; break;
	case REG_QUEUE_DRIVER_HIGH: *val = vq ? (uint32_t)(vq->avail_gpa >> 32) : 0; break;
	case REG_QUEUE_DEVICE_LOW: *val = vq ? (uint32_t)vq->used_gpa : 0; break;
	case REG_QUEUE_DEVICE_HIGH: *val = vq ? (uint32_t)(vq->used_gpa >> 32) : 0; break;
	case REG_SHM_LEN_LOW:
	case REG_SHM_LEN_HIGH: *val = 0xffffffffu; break; /* no shared memory regions */
	case REG_SHM_BASE_LOW:
	case REG_SHM_BASE_HIGH: *val = 0xffffffffu; break;
	case REG_CONFIG_GENERATION: *val = t->st.config_generation; break;
	default: break;
	}
	return 0;
}

static void set_addr(uint64_t *a, bool high, uint32_t v)
{
	*a = high ? (*a & 0xffffffffull) | (uint64_t)v << 32 : (*a & ~0xffffffffull) | v;
}

static void write_status(struct virtio_mmio *t, uint32_t v)
{
	if (v == 0) {
		do_reset(t);
		return;
	}
	if ((v & VIRTIO_STATUS_FEATURES_OK) && !(t->st.status & VIRTIO_STATUS_FEATURES_OK)) {
		/* §3.1.1: accept only a subset of what we offered, with VERSION_1
		 * (no legacy interface behind a version 2 transport) */
		uint64_t f = t->st.drv_features;
		if ((f & ~t->dev_features) || !(f & (1ull << VIRTIO_F_VERSION_1))) {
			v &= ~(uint32_t)VIRTIO_STATUS_FEATURES_OK;
		} else {
			for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++) {
				t->st.vq[q].event_idx = f & (1ull << VIRTIO_F_EVENT_IDX);
				t->st.vq[q].indirect = f & (1ull << VIRTIO_F_INDIRECT_DESC);
			}
		}
	}
	/* the device's own bit survives driver writes */
	t->st.status = v | (t->st.status & VIRTIO_STATUS_NEEDS_RESET);
}

static int mmio_write(void *opaque, uint64_t off, unsigned size, uint64_t val)
{
	struct virtio_mmio *t = opaque;
	if (off >= REG_CONFIG) {
		uint64_t c = off - REG_CONFIG;
		if (c + size <= t->ops->config_len && t->ops->config_write) {
			uint64_t v = val;
			t->ops->config_write(t->dev, (uint32_t)c, &v, size);
		}
		return 0;
	}
	if (size != 4)
		return 0;
	uint32_t v = (uint32_t)val;
	struct virtq *vq = cur_queue(t);
	bool setup = vq && !vq->ready; /* queue fields change only while not ready */
	switch (off) {
	case REG_DEV_FEATURES_SEL: t->st.dev_features_sel = v; break;
	case REG_DRV_FEATURES_SEL: t->st.drv_features_sel = v; break;
	case REG_DRV_FEATURES:
		if (t->st.drv_features_sel < 2 && !(t->st.status & VIRTIO_STATUS_FEATURES_OK))
			set_addr(&t->st.drv_features, t->st.drv_features_sel == 1, v);
		break;
	case REG_QUEUE_SEL: t->st.queue_sel = v; break;
	case REG_QUEUE_NUM:
		if (setup)
			vq->num = v <= VIRTQ_MAX_SIZE ? (uint16_t)v : 0;
		break;
	case REG_QUEUE_READY:
		if (!vq)
			break;
		if (v == 1 && !vq->ready) {
			if (virtq_check(vq, t->mem) < 0) {
				virtio_mmio_set_needs_reset(t);
				break;
			}
			vq->ready = true;
		} else if (v == 0) {
			vq->ready = false;
		}
		break;
	case REG_QUEUE_NOTIFY:
		if (v < t->ops->num_queues && t->st.vq[v].ready && (t->st.status & VIRTIO_STATUS_DRIVER_OK) &&
		    !(t->st.status & VIRTIO_STATUS_NEEDS_RESET))
			t->ops->queue_notify(t->dev, v);
		break;
	case REG_INTERRUPT_ACK:
		t->st.interrupt_status &= ~v;
		update_irq(t);
		break;
	case REG_STATUS: write_status(t, v); break;
	case REG_QUEUE_DESC_LOW:
	case REG_QUEUE_DESC_HIGH:
		if (setup)
			set_addr(&vq->desc_gpa, off == REG_QUEUE_DESC_HIGH, v);
		break;
	case REG_QUEUE_DRIVER_LOW:
	case REG_QUEUE_DRIVER_HIGH:
		if (setup)
			set_addr(&vq->avail_gpa, off == REG_QUEUE_DRIVER_HIGH, v);
		break;
	case REG_QUEUE_DEVICE_LOW:
	case REG_QUEUE_DEVICE_HIGH:
		if (setup)
			set_addr(&vq->used_gpa, off == REG_QUEUE_DEVICE_HIGH, v);
		break;
	default: break; /* read-only or unknown: ignored, as §4.2.2.1 allows */
	}
	return 0;
}

static void mmio_reset(void *opaque)
{
	do_reset(opaque);
}

static size_t mmio_save(const void *opaque, void *buf, size_t len)
{
	const struct virtio_mmio *t = opaque;
	if (len >= sizeof(t->st))
		memcpy(buf, &t->st, sizeof(t->st));
	return sizeof(t->st);
}

static int mmio_load(void *opaque, const void *buf, size_t len)
{
	struct virtio_mmio *t = opaque;
	struct virtio_mmio_state st;
	if (len != sizeof(st))
		return -EINVAL;
	/* a bool holding anything but 0 or 1 is undefined behaviour: check
	 * the bytes before they become one */
	static const size_t bool_offs[] = { offsetof(struct virtq, ready), offsetof(struct virtq, event_idx),
					    offsetof(struct virtq, indirect),
					    offsetof(struct virtq, signalled_valid) };
	const uint8_t *raw = buf;
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		for (unsigned i = 0; i < sizeof(bool_offs) / sizeof(bool_offs[0]); i++)
			if (raw[offsetof(struct virtio_mmio_state, vq) + q * sizeof(struct virtq) + bool_offs[i]] > 1)
				return -EINVAL;
	memcpy(&st, buf, sizeof(st));
	if (st.status & ~0xffu)
		return -EINVAL;
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++) {
		if (st.vq[q].num > VIRTQ_MAX_SIZE || (st.vq[q].num & (st.vq[q].num - 1)))
			return -EINVAL;
		if (!st.vq[q].ready)
			continue;
		if (q >= t->ops->num_queues || !(st.status & VIRTIO_STATUS_FEATURES_OK) ||
		    virtq_check(&st.vq[q], t->mem) < 0)
			return -EINVAL;
	}
	if (st.drv_features & ~t->dev_features)
		return -EINVAL;
	t->st = st;
	update_irq(t);
	return 0;
}

const struct dev_ops virtio_mmio_dev_ops = {
	.name = "virtio-mmio",
	.read = mmio_read,
	.write = mmio_write,
	.reset = mmio_reset,
	.save = mmio_save,
	.load = mmio_load,
};

int virtio_mmio_pop(struct virtio_mmio *t, unsigned q, struct virtq_elem *e)
{
	if (q >= t->ops->num_queues || (t->st.status & VIRTIO_STATUS_NEEDS_RESET))
		return 0;
	int r = virtq_pop(&t->st.vq[q], t->mem, e);
	if (r < 0) {
		virtio_mmio_set_needs_reset(t);
		return 0;
	}
	return r;
}

void virtio_mmio_push(struct virtio_mmio *t, unsigned q, uint16_t head, uint32_t len)
{
	if (q < t->ops->num_queues && t->st.vq[q].ready)
		virtq_push(&t->st.vq[q], t->mem, head, len);
}

void virtio_mmio_notify(struct virtio_mmio *t, unsigned q)
{
	if (q >= t->ops->num_queues || !t->st.vq[q].ready)
		return;
	if (virtq_should_notify(&t->st.vq[q], t->mem)) {
		t->st.interrupt_status |= INT_USED_BUFFER;
		update_irq(t);
	}
}

uint64_t virtio_mmio_features(const struct virtio_mmio *t)
{
	return t->st.drv_features;
}

void virtio_mmio_config_changed(struct virtio_mmio *t)
{
	t->st.config_generation++;
	if (t->st.status & VIRTIO_STATUS_DRIVER_OK) {
		t->st.interrupt_status |= INT_CONFIG_CHANGE;
		update_irq(t);
	}
}

uint32_t virtio_mmio_generation(const struct virtio_mmio *t)
{
	return t->generation;
}

pthread_mutex_t *virtio_mmio_lock(struct virtio_mmio *t)
{
	return t->lock;
}
