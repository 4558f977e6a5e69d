#include "vm/dev/plic.h"

#include <errno.h>
#include <string.h>

#include "base/log.h"

static struct log_ratelimit plic_rl;

static bool bit_get(const uint32_t *bm, unsigned i)
{
	return (bm[i / 32] >> (i % 32)) & 1;
}

static void bit_put(uint32_t *bm, unsigned i, bool v)
{
	if (v)
		bm[i / 32] |= 1u << (i % 32);
	else
		bm[i / 32] &= ~(1u << (i % 32));
}

/* Highest-priority pending, enabled, unclaimed source of a context, or 0.
 * Ties go to the lowest id (SiFive PLIC spec, "Interrupt Priorities"). */
static unsigned plic_best(const struct plic *p, unsigned ctx, uint32_t *prio_out)
{
	unsigned best = 0;
	uint32_t best_prio = 0;
	for (unsigned w = 0; w < PLIC_WORDS; w++) {
		uint32_t cand = p->s.pending[w] & ~p->s.claimed[w] & p->s.enable[ctx][w];
		while (cand) {
			unsigned src = w * 32 + (unsigned)__builtin_ctz(cand);
			cand &= cand - 1;
			if (p->s.priority[src] > best_prio) {
				best_prio = p->s.priority[src];
				best = src;
			}
		}
	}
	*prio_out = best_prio;
	return best;
}

static void plic_update(struct plic *p)
{
	for (unsigned ctx = 0; ctx < p->s.nr_contexts; ctx++) {
		uint32_t prio;
		unsigned src = plic_best(p, ctx, &prio);
		irq_line_set(&p->out[ctx], src != 0 && prio > p->s.threshold[ctx]);
	}
}

void plic_set_irq(void *opaque, unsigned src, bool level)
{
	struct plic *p = opaque;
	if (src == 0 || src >= PLIC_NR_SOURCES)
		return;
	bit_put(p->s.level, src, level);
	if (!bit_get(p->s.claimed, src))
		bit_put(p->s.pending, src, level);
	plic_update(p);
}

void plic_init(struct plic *p, unsigned nr_contexts)
{
	memset(p, 0, sizeof(*p));
	if (nr_contexts > PLIC_MAX_CONTEXTS)
		nr_contexts = PLIC_MAX_CONTEXTS;
	p->s.nr_contexts = nr_contexts;
}

static uint32_t plic_claim(struct plic *p, unsigned ctx)
{
	uint32_t prio;
	unsigned src = plic_best(p, ctx, &prio);
	if (src) {
		bit_put(p->s.pending, src, false);
		bit_put(p->s.claimed, src, true);
	}
	plic_update(p);
	return src;
}

static void plic_complete(struct plic *p, unsigned ctx, uint32_t src)
{
	/* Completion of an id that is not enabled for the context is ignored
	 * (SiFive PLIC spec, "Interrupt Completion"). */
	if (src == 0 || src >= PLIC_NR_SOURCES || !bit_get(p->s.enable[ctx], src))
		return;
	bit_put(p->s.claimed, src, false);
	/* Level-triggered gateway: a line still high pends again. */
	if (bit_get(p->s.level, src))
		bit_put(p->s.pending, src, true);
	plic_update(p);
}

static int plic_read(void *dev, uint64_t off, unsigned size, uint64_t *val)
{
	struct plic *p = dev;
	if (size != 4)
		goto bad;
	if (off < 4 * PLIC_NR_SOURCES) {
		*val = p->s.priority[off / 4];
		return 0;
	}
	if (off >= 0x1000 && off < 0x1000 + 4 * PLIC_WORDS) {
		*val = p->s.pending[(off - 0x1000) / 4];
		return 0;
	}
	if (off >= 0x2000 && off < 0x1f2000) {
		unsigned ctx = (unsigned)((off - 0x2000) / 0x80), w = (unsigned)((off - 0x2000) % 0x80) / 4;
		*val = (ctx < p->s.nr_contexts && w < PLIC_WORDS) ? p->s.enable[ctx][w] : 0;
		return 0;
	}
	if (off >= 0x200000 && off < PLIC_SIZE) {
		unsigned ctx = (unsigned)((off - 0x200000) / 0x1000), reg = (unsigned)(off & 0xfff);
		if (ctx >= p->s.nr_contexts)
			goto bad;
		if (reg == 0)
			*val = p->s.threshold[ctx];
		else if (reg == 4)
			*val = plic_claim(p, ctx);
		else
			*val = 0;
		return 0;
	}
	/* Holes of the register map read as zero. */
	*val = 0;
	return 0;
bad:
	log_ratelimited(&plic_rl, LOG_WARN, "plic: bad read at +0x%llx size %u", (unsigned long long)off, size);
	return -1;
}

static int plic_write(void *dev, uint64_t off, unsigned size, uint64_t val64)
{
	struct plic *p = dev;
	uint32_t val = (uint32_t)val64;
	if (size != 4)
		goto bad;
	if (off < 4 * PLIC_NR_SOURCES) {
		if (off >= 4) /* source 0 does not exist: its priority stays 0 */
			p->s.priority[off / 4] = val & PLIC_MAX_PRIORITY;
		plic_update(p);
		return 0;
	}
	if (off >= 0x1000 && off < 0x2000)
		return 0; /* pending bits are read-only */
	if (off >= 0x2000 && off < 0x1f2000) {
		unsigned ctx = (unsigned)((off - 0x2000) / 0x80), w = (unsigned)((off - 0x2000) % 0x80) / 4;
		if (ctx < p->s.nr_contexts && w < PLIC_WORDS) {
			p->s.enable[ctx][w] = w == 0 ? (val & ~1u) : val;
			plic_update(p);
		}
		return 0;
	}
	if (off >= 0x200000 && off < PLIC_SIZE) {
		unsigned ctx = (unsigned)((off - 0x200000) / 0x1000), reg = (unsigned)(off & 0xfff);
		if (ctx >= p->s.nr_contexts)
			goto bad;
		if (reg == 0) {
			p->s.threshold[ctx] = val & PLIC_MAX_PRIORITY;
			plic_update(p);
		} else if (reg == 4) {
			plic_complete(p, ctx, val);
		}
		return 0;
	}
	return 0;
bad:
	log_ratelimited(&plic_rl, LOG_WARN, "plic: bad write at +0x%llx size %u", (unsigned long long)off, size);
	return -1;
}

static void plic_reset(void *dev)
{
	struct plic *p = dev;
	uint32_t n = p->s.nr_contexts;
	memset(&p->s, 0, sizeof(p->s));
	p->s.nr_contexts = n;
	plic_update(p);
}

static size_t plic_save(const void *dev, void *buf, size_t len)
{
	const struct plic *p = dev;
	if (len >= sizeof(p->s))
		memcpy(buf, &p->s, sizeof(p->s));
	return sizeof(p->s);
}

static int plic_load(void *dev, const void *buf, size_t len)
{
	struct plic *p = dev;
	struct plic_state s;
	if (len != sizeof(s))
		return -EINVAL;
	memcpy(&s, buf, sizeof(s));
	if (s.nr_contexts != p->s.nr_contexts)
		return -EINVAL;
	for (unsigned i = 0; i < PLIC_NR_SOURCES; i++)
		if (s.priority[i] > PLIC_MAX_PRIORITY)
			return -EINVAL;
	for (unsigned i = 0; i < PLIC_MAX_CONTEXTS; i++)
		if (s.threshold[i] > PLIC_MAX_PRIORITY)
			return -EINVAL;
	p->s = s;
	plic_update(p);
	return 0;
}

const struct dev_ops plic_ops = {
	.name = "plic",
	.read = plic_read,
	.write = plic_write,
	.reset = plic_reset,
	.save = plic_save,
	.load = plic_load,
};
