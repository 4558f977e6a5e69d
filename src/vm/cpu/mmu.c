/* Address translation (Sv39/Sv48, privileged spec "Supervisor-Level ISA",
 * sections "Sv39" and "Sv48"), the software TLB and the slow paths of loads,
 * stores and fetches: misaligned accesses, MMIO and TLB refills. */
#include "vm/cpu/hart.h"

#define PTE_V (1ull << 0)
#define PTE_R (1ull << 1)
#define PTE_W (1ull << 2)
#define PTE_X (1ull << 3)
#define PTE_U (1ull << 4)
#define PTE_A (1ull << 6)
#define PTE_D (1ull << 7)
/* bits 63:54: N (Svnapot), PBMT (Svpbmt) and reserved; none implemented */
#define PTE_HIGH (0x3ffull << 54)
#define PTE_PPN(pte) (((pte) >> 10) & ((1ull << 44) - 1))

void mmu_flush_all(struct hart *h)
{
	memset(h->tlb, 0xff, sizeof(h->tlb));
	h->tlb_super = false;
	h->brk = true; /* drop the interpreter's cached fetch page */
}

void mmu_flush_paged(struct hart *h)
{
	memset(h->tlb[PRIV_U], 0xff, sizeof(h->tlb[PRIV_U]));
	memset(h->tlb[PRIV_S], 0xff, sizeof(h->tlb[PRIV_S]));
	h->tlb_super = false;
	h->brk = true;
}

void mmu_flush_page(struct hart *h, uint64_t gva)
{
	/* TLB entries are 4 KiB slices; a superpage leaves several of them, so
	 * only a flush of everything is sure to drop them all. */
	if (h->tlb_super) {
		mmu_flush_paged(h);
		return;
	}
	unsigned idx = (gva >> 12) & (TLB_SIZE - 1);
	memset(&h->tlb[PRIV_U][idx], 0xff, sizeof(struct tlb_entry));
	memset(&h->tlb[PRIV_S][idx], 0xff, sizeof(struct tlb_entry));
	h->brk = true;
}

static int fault_cause(int acc, bool page_fault)
{
	if (acc == ACC_X)
		return page_fault ? EXC_INSN_PAGE_FAULT : EXC_INSN_ACCESS;
	if (acc == ACC_R)
		return page_fault ? EXC_LOAD_PAGE_FAULT : EXC_LOAD_ACCESS;
	return page_fault ? EXC_STORE_PAGE_FAULT : EXC_STORE_ACCESS;
}

/* Does a leaf PTE allow the access? (privileged spec 4.3.2 steps 5-6) */
static bool pte_allows(const struct hart *h, uint64_t pte, int acc, unsigned priv)
{
	if (pte & PTE_U) {
		if (priv == PRIV_S && (acc == ACC_X || !(h->mstatus & MSTATUS_SUM)))
			return false;
	} else if (priv == PRIV_U) {
		return false;
	}
	switch (acc) {
	case ACC_R:
		return (pte & PTE_R) || ((h->mstatus & MSTATUS_MXR) && (pte & PTE_X));
	case ACC_W:
		return pte & PTE_W;
	default:
		return pte & PTE_X;
	}
}

/* Walks the page table. On success returns 0, *gpa, and *leaf the final PTE
 * (with A/D as stored). Otherwise returns the exception cause. */
static int walk(struct hart *h, uint64_t gva, int acc, unsigned priv, uint64_t *gpa, uint64_t *leaf,
		int *level)
{
	unsigned mode = h->satp >> 60;
	int levels = mode == 9 ? 4 : 3;
	unsigned va_bits = 12 + 9 * levels;
	/* the address must be sign-extended from bit va_bits-1 */
	int64_t sx = (int64_t)(gva << (64 - va_bits)) >> (64 - va_bits);
	if ((uint64_t)sx != gva)
		return fault_cause(acc, true);
restart:;
	uint64_t base = (h->satp & ((1ull << 44) - 1)) << 12;
	for (int i = levels - 1; i >= 0; i--) {
		uint64_t pte_gpa = base + ((gva >> (12 + 9 * i)) & 0x1ff) * 8;
		if (!hart_gpa_in_ram(h, pte_gpa, 8))
			return fault_cause(acc, false);
		uint64_t *pte_hva = (uint64_t *)(h->ram_hva + (pte_gpa - h->ram_base_gpa));
		uint64_t pte = __atomic_load_n(pte_hva, __ATOMIC_ACQUIRE);
		if (!(pte & PTE_V) || (!(pte & PTE_R) && (pte & PTE_W)) || (pte & PTE_HIGH))
			return fault_cause(acc, true);
		if (!(pte & (PTE_R | PTE_X))) {
			/* pointer to the next level; D, A, U must be zero */
			if (i == 0 || (pte & (PTE_D | PTE_A | PTE_U)))
				return fault_cause(acc, true);
			base = PTE_PPN(pte) << 12;
			continue;
		}
		if (!pte_allows(h, pte, acc, priv))
			return fault_cause(acc, true);
		uint64_t ppn = PTE_PPN(pte);
		uint64_t lowmask = (1ull << (9 * i)) - 1;
		if (ppn & lowmask) /* misaligned superpage */
			return fault_cause(acc, true);
		uint64_t need = PTE_A | (acc == ACC_W ? PTE_D : 0);
		if ((pte & need) != need) {
			/* Svadu-style hardware update, atomically against other harts
			 * and against the guest changing the PTE under us. */
			uint64_t expect = pte;
			if (!__atomic_compare_exchange_n(pte_hva, &expect, pte | need, false,
							 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				goto restart;
			pte |= need;
			if (icache_page_watched(h, pte_gpa))
				icache_note_store(h, pte_gpa, 8);
		}
		*gpa = ((ppn | ((gva >> 12) & lowmask)) << 12) | (gva & 0xfff);
		*leaf = pte;
		*level = i;
		return 0;
	}
	return fault_cause(acc, true);
}

int mmu_translate(struct hart *h, uint64_t gva, int acc, unsigned priv, uint64_t *gpa)
{
	uint64_t leaf;
	int level;
	if (priv == PRIV_M || (h->satp >> 60) == 0) {
		*gpa = gva;
		return 0;
	}
	return walk(h, gva, acc, priv, gpa, &leaf, &level);
}

/* Translates and, when the page is RAM, fills the TLB of `priv`. Returns 0 or
 * the exception cause. */
static int translate_fill(struct hart *h, uint64_t gva, int acc, unsigned priv, uint64_t *gpa)
{
	uint64_t leaf = PTE_R | PTE_W | PTE_X | PTE_A | PTE_D;
	if (priv == PRIV_M || (h->satp >> 60) == 0) {
		*gpa = gva;
	} else {
		int level;
		int r = walk(h, gva, acc, priv, gpa, &leaf, &level);
		if (r)
			return r;
		if (level > 0)
			h->tlb_super = true;
	}
	uint64_t page_gpa = *gpa & ~0xfffull;
	if (!hart_gpa_in_ram(h, page_gpa, 4096))
		return 0;
	struct tlb_entry *e = &h->tlb[priv][(gva >> 12) & (TLB_SIZE - 1)];
	uint64_t vpage = gva & ~0xfffull;
	uintptr_t addend = (uintptr_t)(h->ram_hva + (page_gpa - h->ram_base_gpa)) - (uintptr_t)vpage;
	if (e->addend != addend || (e->tag_r != vpage && e->tag_w != vpage && e->tag_x != vpage)) {
		e->tag_r = e->tag_w = e->tag_x = TLB_INVALID;
		e->addend = addend;
	}
	if (acc == ACC_X) {
		e->tag_x = vpage;
		return 0;
	}
	if (pte_allows(h, leaf, ACC_R, priv))
		e->tag_r = vpage;
	/* Writes go through the fast path only once D is set, and never to a
	 * page holding decoded instructions (icache.c). The check after the
	 * store pairs with the one in icache.c's drop_fast_writes (set the
	 * page's bit, then scan the TLBs): one of the two sees the other. */
	if ((leaf & PTE_D) && pte_allows(h, leaf, ACC_W, priv) && !icache_page_watched(h, page_gpa)) {
		__atomic_store_n(&e->tag_w, vpage, __ATOMIC_RELAXED);
		atomic_thread_fence(memory_order_seq_cst);
		if (icache_page_watched(h, page_gpa))
			__atomic_store_n(&e->tag_w, TLB_INVALID, __ATOMIC_RELAXED);
	}
	return 0;
}

static int load_one(struct hart *h, uint64_t gva, unsigned size, uint64_t *val)
{
	uint64_t gpa;
	int r = translate_fill(h, gva, ACC_R, h->dpriv, &gpa);
	if (r)
		return hart_exception(h, r, gva);
	if (hart_gpa_in_ram(h, gpa, size)) {
		const uint8_t *p = h->ram_hva + (gpa - h->ram_base_gpa);
		switch (size) {
		case 1: *val = *p; break;
		case 2: *val = *(const uint16_t *)p; break;
		case 4: *val = *(const uint32_t *)p; break;
		default: *val = *(const uint64_t *)p; break;
		}
		return 0;
	}
	uint64_t v = 0;
	if (h->sh->ops->mmio_read(h->sh->opaque, h, gpa, size, &v) != 0)
		return hart_exception(h, EXC_LOAD_ACCESS, gva);
	*val = v;
	return 0;
}

static int store_one(struct hart *h, uint64_t gva, unsigned size, uint64_t val)
{
	uint64_t gpa;
	int r = translate_fill(h, gva, ACC_W, h->dpriv, &gpa);
	if (r)
		return hart_exception(h, r, gva);
	if (hart_gpa_in_ram(h, gpa, size)) {
		uint8_t *p = h->ram_hva + (gpa - h->ram_base_gpa);
		switch (size) {
		case 1: *p = (uint8_t)val; break;
		case 2: *(uint16_t *)p = (uint16_t)val; break;
		case 4: *(uint32_t *)p = (uint32_t)val; break;
		default: *(uint64_t *)p = val; break;
		}
		/* the store before the load of the page's bits (icache.c) */
		atomic_thread_fence(memory_order_seq_cst);
		if (icache_page_watched(h, gpa))
			icache_note_store(h, gpa, size);
		return 0;
	}
	uint64_t mask = size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
	if (h->sh->ops->mmio_write(h->sh->opaque, h, gpa, size, val & mask) != 0)
		return hart_exception(h, EXC_STORE_ACCESS, gva);
	return 0;
}

int mmu_load_slow(struct hart *h, uint64_t gva, unsigned size, uint64_t *val)
{
	if (!(gva & (size - 1)))
		return load_one(h, gva, size, val);
	/* Misaligned: emulated byte by byte (the spec allows this to be done
	 * in "hardware"); the fault tval is the byte that faulted. */
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++) {
		uint64_t b;
		if (load_one(h, gva + i, 1, &b))
			return -1;
		v |= b << (8 * i);
	}
	*val = v;
	return 0;
}

int mmu_store_slow(struct hart *h, uint64_t gva, unsigned size, uint64_t val)
{
	if (!(gva & (size - 1)))
		return store_one(h, gva, size, val);
	/* Check every byte's translation first so a fault in the second page
	 * leaves memory untouched. */
	for (unsigned i = 0; i < size; i++) {
		uint64_t gpa;
		int r = translate_fill(h, gva + i, ACC_W, h->dpriv, &gpa);
		if (r)
			return hart_exception(h, r, gva + i);
	}
	for (unsigned i = 0; i < size; i++)
		if (store_one(h, gva + i, 1, (val >> (8 * i)) & 0xff))
			return -1;
	return 0;
}

static int fetch16(struct hart *h, uint64_t gva, uint32_t *out)
{
	uint64_t gpa;
	int r = translate_fill(h, gva, ACC_X, h->priv, &gpa);
	if (r)
		return hart_exception(h, r, gva);
	if (!hart_gpa_in_ram(h, gpa, 2))
		return hart_exception(h, EXC_INSN_ACCESS, gva);
	*out = *(const uint16_t *)(h->ram_hva + (gpa - h->ram_base_gpa));
	return 0;
}

int mmu_fetch_page(struct hart *h, uint64_t gva)
{
	uint64_t gpa;
	int r = translate_fill(h, gva, ACC_X, h->priv, &gpa);
	if (r)
		return hart_exception(h, r, gva);
	if (!hart_gpa_in_ram(h, gpa, 2))
		return hart_exception(h, EXC_INSN_ACCESS, gva);
	return 0;
}

int mmu_fetch_slow(struct hart *h, uint32_t *insn)
{
	uint32_t lo, hi;
	if (fetch16(h, h->pc, &lo))
		return -1;
	if ((lo & 3) != 3) {
		*insn = lo;
		return 0;
	}
	if (fetch16(h, h->pc + 2, &hi))
		return -1;
	*insn = lo | (hi << 16);
	return 0;
}

void *mmu_atomic_hva(struct hart *h, uint64_t gva, unsigned size, bool is_lr)
{
	if (gva & (size - 1)) {
		hart_exception(h, is_lr ? EXC_LOAD_MISALIGNED : EXC_STORE_MISALIGNED, gva);
		return NULL;
	}
	int acc = is_lr ? ACC_R : ACC_W;
	struct tlb_entry *e = &h->tlb[h->dpriv][(gva >> 12) & (TLB_SIZE - 1)];
	uint64_t vpage = gva & ~0xfffull;
	if ((is_lr ? e->tag_r : e->tag_w) == vpage)
		return (void *)(uintptr_t)(e->addend + gva);
	uint64_t gpa;
	int r = translate_fill(h, gva, acc, h->dpriv, &gpa);
	if (r) {
		hart_exception(h, r, gva);
		return NULL;
	}
	if (!hart_gpa_in_ram(h, gpa, size)) {
		/* AMOs and LR/SC are not supported on MMIO: access fault */
		hart_exception(h, is_lr ? EXC_LOAD_ACCESS : EXC_STORE_ACCESS, gva);
		return NULL;
	}
	return h->ram_hva + (gpa - h->ram_base_gpa);
}
