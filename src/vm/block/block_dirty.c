/* Dirty tracking of disk writes (see block.h).
 *
 * Ordering: a writer completes its write (under the image's lock, or the
 * kernel's for a raw file), then loads dirty_on; the copier stores
 * dirty_on, then reads (under the same lock). Both are seq_cst, so either
 * the copier's read comes after the write, or the writer sees dirty_on and
 * sets the bit, which the copier collects later. A bit is set after the
 * write, and collected (cleared) before the read of its granule: a write
 * that races with the read is caught in the next collection. */
#include "vm/block/block.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"

uint64_t block_dirty_granules(const struct block *b)
{
	return (b->size + BLOCK_DIRTY_GRANULE - 1) / BLOCK_DIRTY_GRANULE;
}

void block_dirty_start(struct block *b)
{
	uint64_t n = block_dirty_granules(b), words = (n + 63) / 64;
	if (!b->dirty_bm) {
		b->dirty_bm = xcalloc(words ? words : 1, sizeof(uint64_t));
		b->dirty_nbits = n;
	} else {
		for (uint64_t i = 0; i < words; i++)
			atomic_store_explicit(&b->dirty_bm[i], 0, memory_order_relaxed);
	}
	atomic_store(&b->dirty_on, true);
}

void block_dirty_stop(struct block *b)
{
	atomic_store(&b->dirty_on, false);
}

void block_dirty_mark(struct block *b, uint64_t off, uint64_t len)
{
	if (len == 0 || off >= b->size)
		return;
	uint64_t first = off / BLOCK_DIRTY_GRANULE;
	uint64_t last = (len > b->size - off ? b->size - 1 : off + len - 1) / BLOCK_DIRTY_GRANULE;
	if (last >= b->dirty_nbits)
		last = b->dirty_nbits - 1;
	for (uint64_t i = first; i <= last;) {
		uint64_t w = i / 64, lo = i % 64;
		uint64_t hi = last / 64 == w ? last % 64 : 63;
		uint64_t mask = (hi == 63 ? ~0ull : (1ull << (hi + 1)) - 1) & ~((1ull << lo) - 1);
		if ((atomic_load_explicit(&b->dirty_bm[w], memory_order_relaxed) & mask) != mask)
			atomic_fetch_or(&b->dirty_bm[w], mask);
		i = (w + 1) * 64;
	}
}

uint64_t block_dirty_collect(struct block *b, uint64_t *out)
{
	uint64_t words = (block_dirty_granules(b) + 63) / 64, n = 0;
	for (uint64_t i = 0; i < words; i++) {
		if (b->dirty_bm && atomic_load_explicit(&b->dirty_bm[i], memory_order_relaxed))
			out[i] |= atomic_exchange(&b->dirty_bm[i], 0);
		n += (uint64_t)__builtin_popcountll(out[i]);
	}
	return n;
}
