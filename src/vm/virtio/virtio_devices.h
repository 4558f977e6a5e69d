/* The virtio devices of the board: each is created over a transport and
 * returns it for the board's MMIO table. */
#ifndef VESSEL_VM_VIRTIO_DEVICES_H
#define VESSEL_VM_VIRTIO_DEVICES_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm/block/block.h"
#include "vm/net/net.h"
#include "vm/virtio/virtio_mmio.h"

/* Counters a device keeps for the control API and tests. */
struct virtio_blk_stats {
	uint64_t reads, writes, flushes, discards, write_zeroes, get_ids, errors, unsupported;
	uint64_t bytes_read, bytes_written;
};

struct virtio_blk;

/* virtio-blk (§5.2) over an open image (borrowed; the caller closes it
 * after virtio_blk_destroy). Requests run on the device's own I/O thread,
 * so a slow disk never stalls a vCPU; completions interrupt the guest.
 * serial: up to 20 bytes returned by GET_ID. Returns NULL and *err if the
 * thread cannot start. */
struct virtio_blk *virtio_blk_create(struct block *disk, const char *serial, const struct guest_mem *mem,
				     struct irq_line irq, pthread_mutex_t *lock, struct verr **err);
struct virtio_mmio *virtio_blk_transport(struct virtio_blk *b);
/* Waits until every queued request has completed (for tests and
 * snapshots). Call without the board lock held. */
void virtio_blk_drain(struct virtio_blk *b);
/* Puts a new image (same size) behind the device and returns the old one
 * (the caller closes it): a live migration's destination reopens its disks
 * once the source let go of them. Only while the VM is stopped (no request
 * in flight, drained first). */
struct block *virtio_blk_swap_disk(struct virtio_blk *b, struct block *disk);
void virtio_blk_stats(struct virtio_blk *b, struct virtio_blk_stats *out);
/* The device's config space (capacity, limits) into buf if len is large
 * enough; returns its size. */
size_t virtio_blk_config(const struct virtio_blk *b, uint8_t *buf, size_t len);
/* Stops the I/O thread (finishing the request in progress) and frees. */
void virtio_blk_destroy(struct virtio_blk *b);

struct virtio_rng;
/* virtio-rng (§5.4): fills the driver's buffers from getrandom(2). */
struct virtio_rng *virtio_rng_create(const struct guest_mem *mem, struct irq_line irq, pthread_mutex_t *lock);
struct virtio_mmio *virtio_rng_transport(struct virtio_rng *r);
void virtio_rng_destroy(struct virtio_rng *r);

struct virtio_net;
/* virtio-net (§5.1) over a backend (borrowed; started here, with this
 * device as its receiver). Destroy the backend before the device. */
struct virtio_net *virtio_net_create(struct net_backend *nb, const uint8_t mac[6], const struct guest_mem *mem,
				     struct irq_line irq, pthread_mutex_t *lock, struct verr **err);
struct virtio_mmio *virtio_net_transport(struct virtio_net *n);
void virtio_net_destroy(struct virtio_net *n);
/* While paused (a paused VM), frames from the backend are dropped instead of
 * written into guest RAM (TCP retransmits them). Board lock held. */
void virtio_net_set_paused(struct virtio_net *n, bool paused);
/* Copies the device's config space (MAC, link status) into buf if len is
 * large enough; returns its size. For snapshots: a restore checks it. */
size_t virtio_net_config(const struct virtio_net *n, uint8_t *buf, size_t len);

struct virtio_console;
struct virtio_console_io {
	/* Bytes the guest wrote to hvc0 (board lock held). */
	void (*output)(void *opaque, const uint8_t *buf, size_t len);
	/* The guest posted receive buffers: input may be offered again. */
	void (*rx_ready)(void *opaque);
	void *opaque;
};
/* virtio-console (§5.3), one port. */
struct virtio_console *virtio_console_create(const struct virtio_console_io *io, const struct guest_mem *mem,
					     struct irq_line irq, pthread_mutex_t *lock);
struct virtio_mmio *virtio_console_transport(struct virtio_console *c);
/* Offers input (board lock held); returns the bytes the guest had room for. */
size_t virtio_console_input(struct virtio_console *c, const uint8_t *buf, size_t len);
void virtio_console_destroy(struct virtio_console *c);

#endif
