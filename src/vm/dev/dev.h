/* Device model interface of the virt board.
 *
 * Every device exposes one MMIO window through a `const struct dev_ops`
 * table; the board registers its devices in an explicit array and dispatches
 * guest accesses by address range. All calls into a device happen with the
 * board's device lock held (harts call MMIO from their own threads, backends
 * from theirs), so devices need no locking of their own.
 *
 * Each device keeps its guest-visible state in one plain struct with
 * fixed-width fields (`struct <dev>_state`), separate from host resources,
 * so save/load are a copy plus validation.
 */
#ifndef VESSEL_VM_DEV_H
#define VESSEL_VM_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An interrupt line from a device to an interrupt controller (or from the
 * PLIC to a hart). `set` is called with the board lock held. */
struct irq_line {
	void (*set)(void *opaque, unsigned n, bool level);
	void *opaque;
	unsigned n;
};

static inline void irq_line_set(const struct irq_line *l, bool level)
{
	if (l->set)
		l->set(l->opaque, l->n, level);
}

struct dev_ops {
	const char *name;
	/* Guest access at offset `off` inside the window; size 1, 2, 4 or 8,
	 * naturally aligned. Return 0, or -1 for an access fault. */
	int (*read)(void *dev, uint64_t off, unsigned size, uint64_t *val);
	int (*write)(void *dev, uint64_t off, unsigned size, uint64_t val);
	/* Back to power-on state (machine reset). */
	void (*reset)(void *dev);
	/* Copies the guest-visible state into buf (if len is large enough) and
	 * returns its size in bytes. */
	size_t (*save)(const void *dev, void *buf, size_t len);
	/* Restores a state saved by `save`; returns 0 or -EINVAL when the
	 * bytes are not a valid state of this device. Re-drives irq lines. */
	int (*load)(void *dev, const void *buf, size_t len);
};

/* One device window on the bus. */
struct dev_region {
	uint64_t base_gpa;
	uint64_t size;
	const struct dev_ops *ops;
	void *dev;
};

#endif
