/* virtio-mmio transport, version 2 (virtio 1.2 §4.2.2), and the interface a
 * virtio device implements to sit behind it. The device does not know its
 * transport beyond the functions here.
 *
 * Locking: every function runs with the board's device lock held (the
 * lock that serializes MMIO), including the device callbacks. A device that
 * completes requests on its own thread takes that lock (virtio_mmio_lock())
 * around virtio_mmio_push/notify.
 */
#ifndef VESSEL_VM_VIRTIO_MMIO_H
#define VESSEL_VM_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vm/dev/dev.h"
#include "vm/virtio/virtqueue.h"

#define VIRTIO_MMIO_WINDOW 0x1000
#define VIRTIO_MAX_QUEUES 8

/* Feature bits (virtio 1.2 §6) */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

/* Device status bits (§2.1) */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

struct virtio_mmio;

struct virtio_device_ops {
	const char *name;
	uint32_t device_id;   /* §5: 2 block, 1 net, 3 console, 4 entropy */
	unsigned num_queues;  /* <= VIRTIO_MAX_QUEUES */
	uint32_t config_len;  /* bytes of device-specific config space */
	/* off + len <= config_len is guaranteed by the transport. */
	void (*config_read)(void *dev, uint32_t off, void *buf, uint32_t len);
	void (*config_write)(void *dev, uint32_t off, const void *buf, uint32_t len); /* may be NULL */
	/* The driver made buffers available on queue q (DRIVER_OK, queue ready). */
	void (*queue_notify)(void *dev, unsigned q);
	/* The driver or the machine reset the device: forget all queue work. */
	void (*reset)(void *dev);
};

/* Guest-visible transport state: plain data, saved and restored as is. */
struct virtio_mmio_state {
	uint32_t status;
	uint32_t dev_features_sel;
	uint32_t drv_features_sel;
	uint32_t queue_sel;
	uint32_t interrupt_status;
	uint32_t config_generation;
	uint64_t drv_features;
	struct virtq vq[VIRTIO_MAX_QUEUES];
};

/* Creates a transport for a device. features: the device's own feature bits
 * (VERSION_1, INDIRECT_DESC and EVENT_IDX are added). mem is borrowed for the
 * transport's lifetime; lock is the board's device lock. Free with
 * virtio_mmio_destroy(). */
struct virtio_mmio *virtio_mmio_create(const struct virtio_device_ops *ops, void *dev, uint64_t features,
				       const struct guest_mem *mem, struct irq_line irq,
				       pthread_mutex_t *lock);
void virtio_mmio_destroy(struct virtio_mmio *t);

/* The MMIO window's ops (struct dev_region.dev = the transport). */
extern const struct dev_ops virtio_mmio_dev_ops;

/* For device code: next request of queue q (1), none (0). A malformed ring
 * puts the device in NEEDS_RESET and returns 0. */
int virtio_mmio_pop(struct virtio_mmio *t, unsigned q, struct virtq_elem *e);
void virtio_mmio_push(struct virtio_mmio *t, unsigned q, uint16_t head, uint32_t len);
/* Interrupts the driver for queue q if it asked for it. */
void virtio_mmio_notify(struct virtio_mmio *t, unsigned q);
/* Marks the device broken (NEEDS_RESET) and tells the driver. */
void virtio_mmio_set_needs_reset(struct virtio_mmio *t);
/* Negotiated features (valid after FEATURES_OK). */
uint64_t virtio_mmio_features(const struct virtio_mmio *t);
/* Bumped by the device when its config space changes on its own. */
void virtio_mmio_config_changed(struct virtio_mmio *t);
/* A counter that changes at every device reset: completions of requests
 * issued before a reset must be dropped. */
uint32_t virtio_mmio_generation(const struct virtio_mmio *t);
pthread_mutex_t *virtio_mmio_lock(struct virtio_mmio *t);

#endif
