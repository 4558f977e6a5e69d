#include "vm/dev/aclint.h"

#include <errno.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"

static struct log_ratelimit aclint_rl;

void aclint_init(struct aclint *a, struct cpu_shared *sh)
{
	memset(a, 0, sizeof(*a));
	a->sh = sh;
	a->s.nr_harts = sh->nr_harts < ACLINT_MAX_HARTS ? sh->nr_harts : ACLINT_MAX_HARTS;
	for (unsigned i = 0; i < a->s.nr_harts; i++)
		a->s.mtimecmp[i] = UINT64_MAX;
}

/* Reads `size` bytes at byte offset `sub` of a 64-bit register. */
static uint64_t part_read(uint64_t reg, uint64_t sub, unsigned size)
{
	uint64_t v = reg >> (8 * sub);
	return size == 8 ? v : v & ((1ull << (8 * size)) - 1);
}

static uint64_t part_write(uint64_t reg, uint64_t sub, unsigned size, uint64_t val)
{
	if (size == 8)
		return val;
	uint64_t mask = ((1ull << (8 * size)) - 1) << (8 * sub);
	return (reg & ~mask) | ((val << (8 * sub)) & mask);
}

static int aclint_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
	struct aclint *a = dev;
	if (off < ACLINT_MTIMECMP_OFF) {
		unsigned hart = (unsigned)(off / 4);
		if (size > 4 || hart >= a->s.nr_harts)
			goto zero;
		*val = part_read(a->s.msip[hart], off % 4, size);
		return 0;
	}
	if (off >= ACLINT_MTIMECMP_OFF && off < ACLINT_MTIME_OFF) {
		unsigned hart = (unsigned)((off - ACLINT_MTIMECMP_OFF) / 8);
		if (hart >= a->s.nr_harts)
			goto zero;
		*val = part_read(hart_get_mtimecmp(a->sh->harts[hart]), off % 8, size);
		return 0;
	}
	if (off >= ACLINT_MTIME_OFF && off < ACLINT_MTIME_OFF + 8) {
		*val = part_read(cpu_mtime(a->sh), off - ACLINT_MTIME_OFF, size);
		return 0;
	}
zero:
	/* Reserved space reads as zero, like QEMU. */
	*val = 0;
	return 0;
}

static int aclint_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
	struct aclint *a = dev;
	if (off < ACLINT_MTIMECMP_OFF) {
		unsigned hart = (unsigned)(off / 4);
		if (hart >= a->s.nr_harts || size > 4)
			goto ignored;
		/* Only bit 0 of msip is writable (ACLINT spec, MSWI). */
		uint32_t v = (uint32_t)part_write(a->s.msip[hart], off % 4, size, val) & 1;
		a->s.msip[hart] = v;
		hart_set_irq(a->sh->harts[hart], MIP_MSIP, v != 0);
		return 0;
	}
	if (off >= ACLINT_MTIMECMP_OFF && off < ACLINT_MTIME_OFF) {
		unsigned hart = (unsigned)((off - ACLINT_MTIMECMP_OFF) / 8);
		if (hart >= a->s.nr_harts)
			goto ignored;
		struct hart *h = a->sh->harts[hart];
		uint64_t v = part_write(hart_get_mtimecmp(h), off % 8, size, val);
		a->s.mtimecmp[hart] = v;
		hart_set_mtimecmp(h, v);
		return 0;
	}
	if (off >= ACLINT_MTIME_OFF && off < ACLINT_MTIME_OFF + 8) {
		/* Writing mtime moves the machine's time base. */
		uint64_t now = cpu_mtime(a->sh);
		uint64_t v = part_write(now, off - ACLINT_MTIME_OFF, size, val);
		a->sh->time_base_ns += (int64_t)(now - v) * 100;
		for (unsigned i = 0; i < a->s.nr_harts; i++)
			hart_kick(a->sh->harts[i]);
		return 0;
	}
ignored:
	log_ratelimited(&aclint_rl, LOG_DEBUG, "aclint: ignored write at +0x%llx", (unsigned long long)off);
	return 0;
}

static void aclint_reset(void *dev)
{
	struct aclint *a = dev;
	for (unsigned i = 0; i < a->s.nr_harts; i++) {
		a->s.msip[i] = 0;
		a->s.mtimecmp[i] = UINT64_MAX;
		hart_set_irq(a->sh->harts[i], MIP_MSIP, false);
		hart_set_mtimecmp(a->sh->harts[i], UINT64_MAX);
	}
}

static size_t aclint_save(const void *dev, void *buf, size_t len)
{
	const struct aclint *a = dev;
	struct aclint_state s = a->s;
	for (unsigned i = 0; i < s.nr_harts; i++)
		s.mtimecmp[i] = hart_get_mtimecmp(a->sh->harts[i]);
	s.mtime = cpu_mtime(a->sh);
	if (len >= sizeof(s))
		memcpy(buf, &s, sizeof(s));
	return sizeof(s);
}

static int aclint_load(void *dev, const void *buf, size_t len)
{
	struct aclint *a = dev;
	struct aclint_state s;
	if (len != sizeof(s))
		return -EINVAL;
	memcpy(&s, buf, sizeof(s));
	if (s.nr_harts != a->s.nr_harts)
		return -EINVAL;
	for (unsigned i = 0; i < s.nr_harts; i++)
		if (s.msip[i] > 1)
			return -EINVAL;
	/* 2^56 ticks at 10 MHz are 228 years: anything larger is not a
	 * saved clock, and would overflow the time base arithmetic */
	if (s.mtime >= ACLINT_MAX_MTIME)
		return -EINVAL;
	/* Re-arm against the restored time base: mtime continues from the
	 * saved value, then every timer is set again. */
	uint64_t now = cpu_mtime(a->sh);
	a->sh->time_base_ns += ((int64_t)now - (int64_t)s.mtime) * 100;
	a->s = s;
	for (unsigned i = 0; i < s.nr_harts; i++) {
		hart_set_irq(a->sh->harts[i], MIP_MSIP, s.msip[i] != 0);
		hart_set_mtimecmp(a->sh->harts[i], s.mtimecmp[i]);
	}
	return 0;
}

const struct dev_ops aclint_ops = {
	.name = "aclint",
	.read = aclint_read,
	.write = aclint_write,
	.reset = aclint_reset,
	.save = aclint_save,
	.load = aclint_load,
};
