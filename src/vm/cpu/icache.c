/* The decoded-instruction cache: per-hart pools of blocks of pre-decoded
 * instructions, one block per 4 KiB page of guest RAM, and the write
 * watching that keeps them equal to RAM.
 *
 * Rules (the why is in docs/vm.md, "Decoded-instruction cache"):
 * - A hart sets its bit in sh->code_pages[page] before it decodes anything
 *   from the page, and uses a block only while it finds its bit still set
 *   (checked when it enters the page and at the start of every slice).
 * - When a page's byte goes from 0 to non-zero (it becomes "watched"), the
 *   hart drops every fast write entry of every hart's TLB that maps the
 *   page; a TLB fill never installs a fast write entry for a watched page
 *   (mmu.c re-checks after installing it, so the two cannot miss each
 *   other). Every store to a watched page therefore takes a slow path that
 *   calls icache_note_store(), which clears the other harts' bits and resets
 *   this hart's overlapping slots, so the next instruction sees the store.
 * - Devices and the loader call cpu_note_ram_write() (cpu.h): bits cleared.
 * - fence.i (local, or remote through hart_request_ifence) bumps the hart's
 *   epoch: every block is stale and rebuilt empty on its next use. */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "base/util.h"
#include "vm/cpu/hart.h"

#define POOL_SIZE (sizeof(((struct hart *)0)->icache_slots[0]) * ICACHE_BLOCKS)
/* blocks an idle guest keeps without a trim */
#define ICACHE_IDLE_BLOCKS 16

int icache_init(struct hart *h)
{
	struct cpu_shared *sh = h->sh;
	if (!sh->code_pages) {
		uint64_t n = (sh->ram_size + 4095) >> 12;
		/* calloc, not a private mmap like guest RAM's: the kernel would
		 * merge it into RAM's mapping. Large, so lazily backed: only
		 * the bytes of pages that hold code are touched. */
		void *p = calloc(n ? n : 1, 1);
		if (!p)
			return -ENOMEM;
		sh->code_pages = p;
		sh->code_pages_len = n;
	}
	sh->code_users++;
	/* Its own mapping, lazily backed (only slots decoded since the last
	 * trim are resident), without MAP_NORESERVE so that the kernel does not
	 * merge it with guest RAM's mapping. */
	void *b = mmap(NULL, POOL_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED) {
		icache_fini(h);
		return -ENOMEM;
	}
	h->icache_slots = b;
	for (unsigned i = 0; i < ICACHE_BLOCKS; i++)
		h->icache_meta[i].page = ICACHE_NONE;
	memset(h->icache_map, 0, sizeof(h->icache_map));
	h->code_bit = (uint8_t)(1u << (h->hartid & 7));
	h->icache_epoch = 1;
	h->icache_hand = 0;
	return 0;
}

void icache_fini(struct hart *h)
{
	struct cpu_shared *sh = h->sh;
	if (h->icache_slots)
		munmap(h->icache_slots, POOL_SIZE);
	h->icache_slots = NULL;
	if (sh->code_users && --sh->code_users == 0 && sh->code_pages) {
		free((void *)sh->code_pages);
		sh->code_pages = NULL;
		sh->code_pages_len = 0;
	}
}

/* This hart no longer holds code of `page`: when no other hart does, the
 * page is not watched any more and stores to it are fast again. */
static void unwatch(struct hart *h, uint64_t page)
{
	if (page < h->sh->code_pages_len)
		atomic_fetch_and(&h->sh->code_pages[page], (uint8_t)~h->code_bit);
}

void icache_flush(struct hart *h)
{
	h->icache_epoch++;
}

void icache_idle(struct hart *h, uint64_t now_mtime)
{
	if (now_mtime - h->icache_trim_mtime < 10000000)
		return;
	unsigned dirty = 0;
	for (unsigned i = 0; i < ICACHE_BLOCKS; i++)
		dirty += h->icache_meta[i].dirty;
	if (dirty <= ICACHE_IDLE_BLOCKS)
		return;
	h->icache_trim_mtime = now_mtime;
	/* the pages come back zero: every slot "not decoded" */
	if (madvise(h->icache_slots, POOL_SIZE, MADV_DONTNEED) < 0)
		return; /* keep the blocks: nothing was dropped */
	for (unsigned i = 0; i < ICACHE_BLOCKS; i++) {
		if (h->icache_meta[i].page != ICACHE_NONE)
			unwatch(h, h->icache_meta[i].page);
		h->icache_meta[i] = (struct icache_meta){ .page = ICACHE_NONE };
	}
	memset(h->icache_map, 0, sizeof(h->icache_map));
	h->icache_hand = 0;
}

void icache_fence(struct hart *h)
{
	/* Blocks agree with RAM except for one case: another hart's store
	 * through a fast TLB entry that had passed its tag check when the page
	 * became watched (drop_fast_writes) and landed after we decoded. Such a
	 * store has landed once that hart started a new slice (q_watch). So a
	 * fence.i flushes everything only when a page became watched since the
	 * last flush that followed every other hart's new slice; otherwise the
	 * end of the slice is enough: re-entering a page re-checks its bit. */
	struct cpu_shared *sh = h->sh;
	uint64_t s = atomic_load(&sh->watch_seq);
	if (s != h->clean_seq) {
		bool all = true;
		for (unsigned i = 0; i < sh->nr_harts; i++) {
			struct hart *t = sh->harts[i];
			if (t && t != h && atomic_load(&t->in_exec) && atomic_load(&t->q_watch) < s)
				all = false;
		}
		icache_flush(h);
		if (all)
			h->clean_seq = s;
	}
	h->brk = true;
}

/* The page just became watched: no hart may keep a fast write entry to it.
 * Entries being filled concurrently re-check the page after installing
 * (mmu.c), so a fill this scan misses drops itself. */
static void drop_fast_writes(struct hart *h, const uint8_t *page_hva)
{
	struct cpu_shared *sh = h->sh;
	bool others = false;
	for (unsigned i = 0; i < sh->nr_harts; i++) {
		struct hart *t = sh->harts[i];
		if (!t)
			continue;
		for (unsigned pr = 0; pr < 4; pr++) {
			if (pr == 2)
				continue;
			struct tlb_entry *e = t->tlb[pr];
			for (unsigned j = 0; j < TLB_SIZE; j++) {
				uint64_t tag = __atomic_load_n(&e[j].tag_w, __ATOMIC_RELAXED);
				if (tag == TLB_INVALID)
					continue;
				uintptr_t add = __atomic_load_n(&e[j].addend, __ATOMIC_RELAXED);
				if ((uintptr_t)page_hva == (uintptr_t)tag + add) {
					__atomic_store_n(&e[j].tag_w, TLB_INVALID, __ATOMIC_RELAXED);
					others |= t != h;
				}
			}
		}
	}
	/* After the scan: a hart that saw the new value at a slice start has
	 * no store in flight through an entry dropped above. Only a dropped
	 * entry can have had one: a store through an entry the hart itself
	 * replaced before the scan precedes that replacement, which the scan
	 * saw (x86-TSO: stores become visible in order). */
	if (others)
		atomic_fetch_add(&sh->watch_seq, 1);
}

/* Empties block b and gives it to `page`. */
static struct dinsn *reset_block(struct hart *h, unsigned b, uint64_t page, const uint8_t *page_hva)
{
	struct icache_meta *m = &h->icache_meta[b];
	if (m->page != ICACHE_NONE && m->page != page)
		unwatch(h, m->page);
	/* The bit goes up before anything is decoded: a store to the page from
	 * now on clears it, and the hart re-checks it. */
	uint8_t old = atomic_fetch_or(&h->sh->code_pages[page], h->code_bit);
	if (!old)
		drop_fast_writes(h, page_hva);
	if (m->dirty)
		memset(h->icache_slots[b], 0, sizeof(h->icache_slots[b]));
	m->dirty = true;
	m->page = page;
	m->hva = page_hva;
	m->epoch = h->icache_epoch;
	m->used = true;
	return h->icache_slots[b];
}

struct dinsn *icache_block(struct hart *h, uint64_t page, const uint8_t *page_hva)
{
	unsigned mi = page & (ICACHE_MAP - 1);
	unsigned b = h->icache_map[mi];
	if (b) {
		b--;
		struct icache_meta *m = &h->icache_meta[b];
		if (m->page == page && m->epoch == h->icache_epoch &&
		    (atomic_load_explicit(&h->sh->code_pages[page], memory_order_acquire) & h->code_bit)) {
			m->used = true;
			return h->icache_slots[b];
		}
		/* stale, or another page with the same index: rebuilt in place */
		return reset_block(h, b, page, page_hva);
	}
	/* a free block, or one not entered since the hand last passed (clock) */
	struct icache_meta *m;
	for (;;) {
		b = h->icache_hand;
		h->icache_hand = (b + 1) % ICACHE_BLOCKS;
		m = &h->icache_meta[b];
		if (!m->used)
			break;
		m->used = false;
	}
	if (m->page != ICACHE_NONE)
		h->icache_map[m->page & (ICACHE_MAP - 1)] = 0;
	h->icache_map[mi] = (uint16_t)(b + 1);
	return reset_block(h, b, page, page_hva);
}

void icache_note_store(struct hart *h, uint64_t gpa, uint64_t len)
{
	struct cpu_shared *sh = h->sh;
	if (!len || gpa < h->ram_base_gpa)
		return;
	uint64_t off = gpa - h->ram_base_gpa;
	uint64_t end = off + len; /* len <= 8: no overflow for RAM offsets */
	/* with more than 8 harts, bits are shared: drop every copy */
	uint8_t keep = sh->nr_harts > 8 ? 0 : h->code_bit;
	for (uint64_t p = off >> 12; p <= (end - 1) >> 12 && p < sh->code_pages_len; p++) {
		uint8_t v = atomic_load_explicit(&sh->code_pages[p], memory_order_relaxed);
		if (!v)
			continue;
		if (v & ~keep)
			atomic_fetch_and(&sh->code_pages[p], keep);
		if (!(v & keep))
			continue;
		unsigned b = h->icache_map[p & (ICACHE_MAP - 1)];
		if (!b || h->icache_meta[b - 1].page != p || h->icache_meta[b - 1].epoch != h->icache_epoch) {
			/* no live copy here (evicted, or dropped by fence.i) */
			unwatch(h, p);
			continue;
		}
		/* slots whose instruction (up to 4 bytes) overlaps the bytes */
		uint64_t lo = p << 12, hi = lo + 4096;
		uint64_t s = off > lo + 3 ? off - 3 : lo;
		uint64_t e = end < hi ? end : hi;
		struct dinsn *slots = h->icache_slots[b - 1];
		for (uint64_t a = s & ~1ull; a < e; a += 2)
			slots[(a - lo) >> 1].op = 0;
	}
}
