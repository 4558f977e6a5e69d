/* The interpreter: fetch through the TLB, expansion of compressed
 * instructions (unprivileged spec ch. "C" Standard Extension, RVC opcode
 * map) into their 32-bit equivalents, and one switch over the RV64G base
 * opcodes. Loads and stores take an inline fast path through the software
 * TLB and fall back to mmu.c. */
#include "base/util.h"
#include "vm/cpu/hart.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))

static ALWAYS_INLINE int64_t sext(uint64_t v, unsigned bits)
{
	return (int64_t)(v << (64 - bits)) >> (64 - bits);
}

/* --- memory fast paths --- */

/* The tag compare also checks alignment: a misaligned address keeps low bits
 * that no tag has, and goes to the slow path. */
static ALWAYS_INLINE int mem_load(struct hart *h, uint64_t a, unsigned size, uint64_t *v)
{
	const struct tlb_entry *e = &h->tlb[h->dpriv][(a >> 12) & (TLB_SIZE - 1)];
	if (LIKELY(e->tag_r == (a & (~0xfffull | (size - 1))))) {
		const void *p = (const void *)(e->addend + (uintptr_t)a);
		switch (size) {
		case 1: *v = *(const uint8_t *)p; break;
		case 2: *v = *(const uint16_t *)p; break;
		case 4: *v = *(const uint32_t *)p; break;
		default: *v = *(const uint64_t *)p; break;
		}
		return 0;
	}
	return mmu_load_slow(h, a, size, v);
}

static ALWAYS_INLINE int mem_store(struct hart *h, uint64_t a, unsigned size, uint64_t v)
{
	const struct tlb_entry *e = &h->tlb[h->dpriv][(a >> 12) & (TLB_SIZE - 1)];
	if (LIKELY(e->tag_w == (a & (~0xfffull | (size - 1))))) {
		void *p = (void *)(e->addend + (uintptr_t)a);
		switch (size) {
		case 1: *(uint8_t *)p = (uint8_t)v; break;
		case 2: *(uint16_t *)p = (uint16_t)v; break;
		case 4: *(uint32_t *)p = (uint32_t)v; break;
		default: *(uint64_t *)p = v; break;
		}
		return 0;
	}
	return mmu_store_slow(h, a, size, v);
}

/* --- RVC expansion --- */

static uint32_t enc_r(unsigned f7, unsigned rs2, unsigned rs1, unsigned f3, unsigned rd, unsigned op)
{
	return (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
}

static uint32_t enc_i(int32_t imm, unsigned rs1, unsigned f3, unsigned rd, unsigned op)
{
	return ((uint32_t)(imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
}

static uint32_t enc_s(int32_t imm, unsigned rs2, unsigned rs1, unsigned f3, unsigned op)
{
	uint32_t u = (uint32_t)imm;
	return (((u >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((u & 31) << 7) | op;
}

static uint32_t enc_b(int32_t imm, unsigned rs2, unsigned rs1, unsigned f3)
{
	uint32_t u = (uint32_t)imm;
	return (((u >> 12) & 1) << 31) | (((u >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) |
	       (f3 << 12) | (((u >> 1) & 0xf) << 8) | (((u >> 11) & 1) << 7) | 0x63;
}

static uint32_t enc_j(int32_t imm, unsigned rd)
{
	uint32_t u = (uint32_t)imm;
	return (((u >> 20) & 1) << 31) | (((u >> 1) & 0x3ff) << 21) | (((u >> 11) & 1) << 20) |
	       (((u >> 12) & 0xff) << 12) | (rd << 7) | 0x6f;
}

#define CB(c, hi, lo) (((c) >> (lo)) & ((1u << ((hi) - (lo) + 1)) - 1))

/* Returns the 32-bit instruction equivalent to compressed c, or 0 if c is
 * illegal or reserved. */
static uint32_t rvc_expand(uint32_t c)
{
	unsigned f3 = c >> 13;
	unsigned rd = CB(c, 11, 7), rs2 = CB(c, 6, 2);
	unsigned rdp = CB(c, 4, 2) + 8, rs1p = CB(c, 9, 7) + 8;
	int32_t imm6 = (int32_t)sext((CB(c, 12, 12) << 5) | CB(c, 6, 2), 6);
	switch (c & 3) {
	case 0:
		switch (f3) {
		case 0: { /* C.ADDI4SPN */
			uint32_t imm = (CB(c, 12, 11) << 4) | (CB(c, 10, 7) << 6) | (CB(c, 6, 6) << 2) |
				       (CB(c, 5, 5) << 3);
			if (!imm)
				return 0;
			return enc_i((int32_t)imm, 2, 0, rdp, 0x13);
		}
		case 1: /* C.FLD */
		case 3: { /* C.LD */
			uint32_t imm = (CB(c, 12, 10) << 3) | (CB(c, 6, 5) << 6);
			return enc_i((int32_t)imm, rs1p, 3, rdp, f3 == 1 ? 0x07 : 0x03);
		}
		case 2: { /* C.LW */
			uint32_t imm = (CB(c, 12, 10) << 3) | (CB(c, 6, 6) << 2) | (CB(c, 5, 5) << 6);
			return enc_i((int32_t)imm, rs1p, 2, rdp, 0x03);
		}
		case 5: /* C.FSD */
		case 7: { /* C.SD */
			uint32_t imm = (CB(c, 12, 10) << 3) | (CB(c, 6, 5) << 6);
			return enc_s((int32_t)imm, rdp, rs1p, 3, f3 == 5 ? 0x27 : 0x23);
		}
		case 6: { /* C.SW */
			uint32_t imm = (CB(c, 12, 10) << 3) | (CB(c, 6, 6) << 2) | (CB(c, 5, 5) << 6);
			return enc_s((int32_t)imm, rdp, rs1p, 2, 0x23);
		}
		default:
			return 0;
		}
	case 1:
		switch (f3) {
		case 0: /* C.ADDI (C.NOP) */
			return enc_i(imm6, rd, 0, rd, 0x13);
		case 1: /* C.ADDIW */
			if (!rd)
				return 0;
			return enc_i(imm6, rd, 0, rd, 0x1b);
		case 2: /* C.LI */
			return enc_i(imm6, 0, 0, rd, 0x13);
		case 3:
			if (rd == 2) { /* C.ADDI16SP */
				uint32_t u = (CB(c, 12, 12) << 9) | (CB(c, 6, 6) << 4) | (CB(c, 5, 5) << 6) |
					     (CB(c, 4, 3) << 7) | (CB(c, 2, 2) << 5);
				if (!u)
					return 0;
				return enc_i((int32_t)sext(u, 10), 2, 0, 2, 0x13);
			} else { /* C.LUI */
				if (!imm6)
					return 0;
				return ((uint32_t)imm6 << 12) | (rd << 7) | 0x37;
			}
		case 4: {
			unsigned f2 = CB(c, 11, 10);
			unsigned shamt = (CB(c, 12, 12) << 5) | CB(c, 6, 2);
			switch (f2) {
			case 0: /* C.SRLI */
				return enc_i((int32_t)shamt, rs1p, 5, rs1p, 0x13);
			case 1: /* C.SRAI */
				return enc_i((int32_t)(shamt | 0x400), rs1p, 5, rs1p, 0x13);
			case 2: /* C.ANDI */
				return enc_i(imm6, rs1p, 7, rs1p, 0x13);
			default: {
				unsigned op2 = CB(c, 6, 5);
				if (!CB(c, 12, 12)) {
					static const unsigned f3s[] = { 0, 4, 6, 7 };
					return enc_r(op2 == 0 ? 0x20 : 0, rdp, rs1p, f3s[op2], rs1p, 0x33);
				}
				if (op2 == 0) /* C.SUBW */
					return enc_r(0x20, rdp, rs1p, 0, rs1p, 0x3b);
				if (op2 == 1) /* C.ADDW */
					return enc_r(0, rdp, rs1p, 0, rs1p, 0x3b);
				return 0;
			}
			}
		}
		case 5: { /* C.J */
			uint32_t u = (CB(c, 12, 12) << 11) | (CB(c, 11, 11) << 4) | (CB(c, 10, 9) << 8) |
				     (CB(c, 8, 8) << 10) | (CB(c, 7, 7) << 6) | (CB(c, 6, 6) << 7) |
				     (CB(c, 5, 3) << 1) | (CB(c, 2, 2) << 5);
			return enc_j((int32_t)sext(u, 12), 0);
		}
		default: { /* C.BEQZ, C.BNEZ */
			uint32_t u = (CB(c, 12, 12) << 8) | (CB(c, 11, 10) << 3) | (CB(c, 6, 5) << 6) |
				     (CB(c, 4, 3) << 1) | (CB(c, 2, 2) << 5);
			return enc_b((int32_t)sext(u, 9), 0, rs1p, f3 == 6 ? 0 : 1);
		}
		}
	case 2:
		switch (f3) {
		case 0: { /* C.SLLI */
			unsigned shamt = (CB(c, 12, 12) << 5) | CB(c, 6, 2);
			return enc_i((int32_t)shamt, rd, 1, rd, 0x13);
		}
		case 1: /* C.FLDSP */
		case 3: { /* C.LDSP */
			uint32_t imm = (CB(c, 12, 12) << 5) | (CB(c, 6, 5) << 3) | (CB(c, 4, 2) << 6);
			if (f3 == 3 && !rd)
				return 0;
			return enc_i((int32_t)imm, 2, 3, rd, f3 == 1 ? 0x07 : 0x03);
		}
		case 2: { /* C.LWSP */
			uint32_t imm = (CB(c, 12, 12) << 5) | (CB(c, 6, 4) << 2) | (CB(c, 3, 2) << 6);
			if (!rd)
				return 0;
			return enc_i((int32_t)imm, 2, 2, rd, 0x03);
		}
		case 4:
			if (!CB(c, 12, 12)) {
				if (!rs2) { /* C.JR */
					if (!rd)
						return 0;
					return enc_i(0, rd, 0, 0, 0x67);
				}
				return enc_r(0, rs2, 0, 0, rd, 0x33); /* C.MV */
			}
			if (!rs2) {
				if (!rd)
					return 0x00100073; /* C.EBREAK */
				return enc_i(0, rd, 0, 1, 0x67); /* C.JALR */
			}
			return enc_r(0, rs2, rd, 0, rd, 0x33); /* C.ADD */
		case 5: /* C.FSDSP */
		case 7: { /* C.SDSP */
			uint32_t imm = (CB(c, 12, 10) << 3) | (CB(c, 9, 7) << 6);
			return enc_s((int32_t)imm, rs2, 2, 3, f3 == 5 ? 0x27 : 0x23);
		}
		default: { /* C.SWSP */
			uint32_t imm = (CB(c, 12, 9) << 2) | (CB(c, 8, 7) << 6);
			return enc_s((int32_t)imm, rs2, 2, 2, 0x23);
		}
		}
	default:
		return 0;
	}
}

/* Every 16-bit encoding expanded once (256 KiB, built on first use): a
 * table load is much cheaper than the expansion's branches. */
static uint32_t rvc_table[1u << 16];
static pthread_once_t rvc_once = PTHREAD_ONCE_INIT;

static void rvc_table_init(void)
{
	for (uint32_t c = 0; c < (1u << 16); c++)
		rvc_table[c] = (c & 3) == 3 ? 0 : rvc_expand(c);
}

void hart_exec_init(void)
{
	pthread_once(&rvc_once, rvc_table_init);
}

/* --- system instructions --- */

static int exec_system(struct hart *h, uint32_t insn, uint64_t *npc)
{
	unsigned f3 = (insn >> 12) & 7, rd = (insn >> 7) & 31, rs1 = (insn >> 15) & 31;
	uint64_t *x = h->x;
	if (f3 == 0) {
		if (rd != 0)
			return hart_illegal(h);
		if ((insn >> 25) == 0x09) { /* SFENCE.VMA */
			if (h->priv == PRIV_U || (h->priv == PRIV_S && (h->mstatus & MSTATUS_TVM)))
				return hart_illegal(h);
			if (rs1)
				mmu_flush_page(h, x[rs1]);
			else
				mmu_flush_paged(h);
			return 0;
		}
		switch (insn) {
		case 0x00000073: /* ECALL */
			if (h->priv == PRIV_S && h->sh->sbi_builtin) {
				h->sh->ops->sbi_call(h->sh->opaque, h);
				h->x[0] = 0;
				h->brk = true; /* HSM, timer and IPI calls change our state */
				return 0;
			}
			return hart_exception(h, EXC_ECALL_U + h->priv, 0);
		case 0x00100073: /* EBREAK */
			return hart_exception(h, EXC_BREAKPOINT, h->pc);
		case 0x10200073: { /* SRET */
			if (h->priv == PRIV_U || (h->priv == PRIV_S && (h->mstatus & MSTATUS_TSR)))
				return hart_illegal(h);
			uint64_t s = h->mstatus;
			h->priv = (s & MSTATUS_SPP) ? PRIV_S : PRIV_U;
			s = (s & ~MSTATUS_SIE) | ((s & MSTATUS_SPIE) ? MSTATUS_SIE : 0);
			s |= MSTATUS_SPIE;
			s &= ~(MSTATUS_SPP | MSTATUS_MPRV);
			h->mstatus = s;
			*npc = h->sepc;
			h->lr_valid = false;
			hart_update_dpriv(h);
			h->brk = true;
			return 0;
		}
		case 0x30200073: { /* MRET */
			if (h->priv != PRIV_M)
				return hart_illegal(h);
			uint64_t s = h->mstatus;
			unsigned mpp = (s & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT;
			h->priv = mpp;
			s = (s & ~MSTATUS_MIE) | ((s & MSTATUS_MPIE) ? MSTATUS_MIE : 0);
			s |= MSTATUS_MPIE;
			s &= ~MSTATUS_MPP;
			if (mpp != PRIV_M)
				s &= ~MSTATUS_MPRV;
			h->mstatus = s;
			*npc = h->mepc;
			h->lr_valid = false;
			hart_update_dpriv(h);
			h->brk = true;
			return 0;
		}
		case 0x10500073: /* WFI */
			if (h->priv == PRIV_U || (h->priv == PRIV_S && (h->mstatus & MSTATUS_TW)))
				return hart_illegal(h);
			h->wfi = true;
			h->brk = true;
			return 0;
		default:
			return hart_illegal(h);
		}
	}
	if (f3 == 4)
		return hart_illegal(h);
	unsigned csr = insn >> 20;
	uint64_t src = (f3 & 4) ? rs1 : x[rs1];
	uint64_t old = 0;
	unsigned op = f3 & 3;
	if (op == 1) { /* CSRRW(I): no read when rd = x0 */
		if (rd && csr_read(h, csr, &old))
			return hart_illegal(h);
		if (csr_write(h, csr, src))
			return hart_illegal(h);
	} else {
		if (csr_read(h, csr, &old))
			return hart_illegal(h);
		if (rs1) { /* CSRRS/C with x0 or uimm 0 do not write */
			uint64_t nv = op == 2 ? (old | src) : (old & ~src);
			if (csr_write(h, csr, nv))
				return hart_illegal(h);
		}
	}
	x[rd] = old;
	return 0;
}

/* --- atomics --- */

#define AMO_CASE(T, ST, fop)                                                     \
	do {                                                                     \
		T *p = (T *)hp;                                                  \
		T v = (T)x[rs2];                                                 \
		res = (uint64_t)(int64_t)(ST)__atomic_##fop(p, v, __ATOMIC_SEQ_CST); \
	} while (0)

#define AMO_CAS(T, ST, cond)                                                           \
	do {                                                                           \
		T *p = (T *)hp;                                                        \
		T v = (T)x[rs2];                                                       \
		T o = __atomic_load_n(p, __ATOMIC_RELAXED);                           \
		T n;                                                                   \
		do {                                                                   \
			n = (cond) ? v : o;                                            \
		} while (!__atomic_compare_exchange_n(p, &o, n, false, __ATOMIC_SEQ_CST, \
						      __ATOMIC_RELAXED));              \
		res = (uint64_t)(int64_t)(ST)o;                                        \
	} while (0)

static int exec_amo(struct hart *h, uint32_t insn)
{
	unsigned f3 = (insn >> 12) & 7, rd = (insn >> 7) & 31, rs1 = (insn >> 15) & 31,
		 rs2 = (insn >> 20) & 31, f5 = insn >> 27;
	uint64_t *x = h->x;
	if (f3 != 2 && f3 != 3)
		return hart_illegal(h);
	unsigned size = f3 == 2 ? 4 : 8;
	uint64_t addr = x[rs1];
	uint64_t res;
	if (f5 == 0x02) { /* LR */
		if (rs2)
			return hart_illegal(h);
		void *hp = mmu_atomic_hva(h, addr, size, true);
		if (!hp)
			return -1;
		if (size == 4)
			res = (uint64_t)(int64_t)(int32_t)__atomic_load_n((uint32_t *)hp, __ATOMIC_SEQ_CST);
		else
			res = __atomic_load_n((uint64_t *)hp, __ATOMIC_SEQ_CST);
		h->lr_valid = true;
		h->lr_addr = addr;
		h->lr_size = (uint8_t)size;
		h->lr_val = res;
		x[rd] = res;
		return 0;
	}
	void *hp = mmu_atomic_hva(h, addr, size, false);
	if (!hp)
		return -1;
	/* after the write below: a page holding decoded code (icache.c) */
	uint64_t hp_gpa = h->ram_base_gpa + (uint64_t)((uint8_t *)hp - h->ram_hva);
	bool watched = icache_page_watched(h, hp_gpa);
	if (f5 == 0x03) { /* SC: succeeds if the reserved word still holds the
			   * value LR saw (compare-and-swap) */
		bool ok = false;
		if (h->lr_valid && h->lr_addr == addr && h->lr_size == size) {
			if (size == 4) {
				uint32_t exp = (uint32_t)h->lr_val;
				ok = __atomic_compare_exchange_n((uint32_t *)hp, &exp, (uint32_t)x[rs2], false,
								 __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
			} else {
				uint64_t exp = h->lr_val;
				ok = __atomic_compare_exchange_n((uint64_t *)hp, &exp, x[rs2], false,
								 __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
			}
		}
		h->lr_valid = false;
		x[rd] = ok ? 0 : 1;
		if (ok && (watched || icache_page_watched(h, hp_gpa)))
			icache_note_store(h, hp_gpa, size);
		return 0;
	}
	if (size == 4) {
		switch (f5) {
		case 0x01: AMO_CASE(uint32_t, int32_t, exchange_n); break;
		case 0x00: AMO_CASE(uint32_t, int32_t, fetch_add); break;
		case 0x04: AMO_CASE(uint32_t, int32_t, fetch_xor); break;
		case 0x0c: AMO_CASE(uint32_t, int32_t, fetch_and); break;
		case 0x08: AMO_CASE(uint32_t, int32_t, fetch_or); break;
		case 0x10: AMO_CAS(uint32_t, int32_t, (int32_t)v < (int32_t)o); break;
		case 0x14: AMO_CAS(uint32_t, int32_t, (int32_t)v > (int32_t)o); break;
		case 0x18: AMO_CAS(uint32_t, int32_t, v < o); break;
		case 0x1c: AMO_CAS(uint32_t, int32_t, v > o); break;
		default: return hart_illegal(h);
		}
	} else {
		switch (f5) {
		case 0x01: AMO_CASE(uint64_t, int64_t, exchange_n); break;
		case 0x00: AMO_CASE(uint64_t, int64_t, fetch_add); break;
		case 0x04: AMO_CASE(uint64_t, int64_t, fetch_xor); break;
		case 0x0c: AMO_CASE(uint64_t, int64_t, fetch_and); break;
		case 0x08: AMO_CASE(uint64_t, int64_t, fetch_or); break;
		case 0x10: AMO_CAS(uint64_t, int64_t, (int64_t)v < (int64_t)o); break;
		case 0x14: AMO_CAS(uint64_t, int64_t, (int64_t)v > (int64_t)o); break;
		case 0x18: AMO_CAS(uint64_t, int64_t, v < o); break;
		case 0x1c: AMO_CAS(uint64_t, int64_t, v > o); break;
		default: return hart_illegal(h);
		}
	}
	x[rd] = res;
	if (watched || icache_page_watched(h, hp_gpa))
		icache_note_store(h, hp_gpa, size);
	return 0;
}

/* --- M extension helpers (unprivileged spec, "M" ch., division table) --- */

static ALWAYS_INLINE uint64_t div64(int64_t a, int64_t b)
{
	if (b == 0)
		return ~0ull;
	if (a == INT64_MIN && b == -1)
		return (uint64_t)a;
	return (uint64_t)(a / b);
}

static ALWAYS_INLINE uint64_t rem64(int64_t a, int64_t b)
{
	if (b == 0)
		return (uint64_t)a;
	if (a == INT64_MIN && b == -1)
		return 0;
	return (uint64_t)(a % b);
}

static ALWAYS_INLINE int32_t div32(int32_t a, int32_t b)
{
	if (b == 0)
		return -1;
	if (a == INT32_MIN && b == -1)
		return a;
	return a / b;
}

static ALWAYS_INLINE int32_t rem32(int32_t a, int32_t b)
{
	if (b == 0)
		return a;
	if (a == INT32_MIN && b == -1)
		return 0;
	return a % b;
}

static bool fs_off(const struct hart *h)
{
	return (h->mstatus & MSTATUS_FS) == 0;
}

/* --- the interpreter --- */

/* Executes the instruction `raw` found at h->pc (== pc): the generic path,
 * for what the decoded handlers below do not cover (system, atomics,
 * floating point, illegal encodings, the last instruction of a page and
 * instructions that cross a page). */
static __attribute__((noinline)) void exec_insn(struct hart *h, uint32_t raw, uint64_t pc)
{
	uint64_t *x = h->x;
	uint64_t npc;
	uint32_t insn = raw;
	if ((raw & 3) != 3) {
		insn = rvc_table[raw & 0xffff];
		if (!insn) {
			h->insn_bits = raw & 0xffff;
			hart_illegal(h);
			return;
		}
		npc = pc + 2;
	} else {
		npc = pc + 4;
	}
	/* Fields are extracted where a case needs them, not all up front. */
#define rd ((insn >> 7) & 31)
#define rs1 ((insn >> 15) & 31)
#define rs2 ((insn >> 20) & 31)
#define f3 ((insn >> 12) & 7)
#define f7 (insn >> 25)
#define imm_i ((int64_t)(int32_t)insn >> 20)
	switch ((insn >> 2) & 31) { /* opcode[6:2]; [1:0] are 11 */
	case 13: /* 0x37 */ /* LUI */
		x[rd] = (uint64_t)(int64_t)(int32_t)(insn & 0xfffff000);
		break;
	case 5: /* 0x17 */ /* AUIPC */
		x[rd] = pc + (uint64_t)(int64_t)(int32_t)(insn & 0xfffff000);
		break;
	case 27: /* 0x6f */ { /* JAL */
		int64_t imm = sext(((insn >> 31) << 20) | (((insn >> 12) & 0xff) << 12) |
					   (((insn >> 20) & 1) << 11) | (((insn >> 21) & 0x3ff) << 1),
				   21);
		x[rd] = npc;
		npc = pc + (uint64_t)imm;
		break;
	}
	case 25: /* 0x67 */ { /* JALR */
		if (f3)
			goto illegal;
		uint64_t t = (x[rs1] + (uint64_t)imm_i) & ~1ull;
		x[rd] = npc;
		npc = t;
		break;
	}
	case 24: /* 0x63 */ { /* BRANCH */
		int64_t imm = sext(((insn >> 31) << 12) | (((insn >> 7) & 1) << 11) |
					   (((insn >> 25) & 0x3f) << 5) | (((insn >> 8) & 0xf) << 1),
				   13);
		uint64_t a = x[rs1], b = x[rs2];
		bool take;
		switch (f3) {
		case 0: take = a == b; break;
		case 1: take = a != b; break;
		case 4: take = (int64_t)a < (int64_t)b; break;
		case 5: take = (int64_t)a >= (int64_t)b; break;
		case 6: take = a < b; break;
		case 7: take = a >= b; break;
		default: goto illegal;
		}
		if (take)
			npc = pc + (uint64_t)imm;
		break;
	}
	case 0: /* 0x03 */ { /* LOAD */
		uint64_t a = x[rs1] + (uint64_t)imm_i, v;
		switch (f3) {
		case 0:
			if (mem_load(h, a, 1, &v))
				return;
			v = (uint64_t)(int64_t)(int8_t)v;
			break;
		case 1:
			if (mem_load(h, a, 2, &v))
				return;
			v = (uint64_t)(int64_t)(int16_t)v;
			break;
		case 2:
			if (mem_load(h, a, 4, &v))
				return;
			v = (uint64_t)(int64_t)(int32_t)v;
			break;
		case 3:
			if (mem_load(h, a, 8, &v))
				return;
			break;
		case 4:
			if (mem_load(h, a, 1, &v))
				return;
			break;
		case 5:
			if (mem_load(h, a, 2, &v))
				return;
			break;
		case 6:
			if (mem_load(h, a, 4, &v))
				return;
			break;
		default:
			goto illegal;
		}
		x[rd] = v;
		break;
	}
	case 8: /* 0x23 */ { /* STORE */
		int64_t imm = ((int64_t)(int32_t)insn >> 25) * 32 + ((insn >> 7) & 31);
		uint64_t a = x[rs1] + (uint64_t)imm;
		if (f3 > 3)
			goto illegal;
		if (mem_store(h, a, 1u << f3, x[rs2]))
			return;
		break;
	}
	case 4: /* 0x13 */ { /* OP-IMM */
		uint64_t a = x[rs1];
		unsigned sh = (insn >> 20) & 63;
		switch (f3) {
		case 0: x[rd] = a + (uint64_t)imm_i; break;
		case 2: x[rd] = (int64_t)a < imm_i; break;
		case 3: x[rd] = a < (uint64_t)imm_i; break;
		case 4: x[rd] = a ^ (uint64_t)imm_i; break;
		case 6: x[rd] = a | (uint64_t)imm_i; break;
		case 7: x[rd] = a & (uint64_t)imm_i; break;
		case 1:
			if ((insn >> 26) != 0)
				goto illegal;
			x[rd] = a << sh;
			break;
		default:
			if ((insn >> 26) == 0)
				x[rd] = a >> sh;
			else if ((insn >> 26) == 0x10)
				x[rd] = (uint64_t)((int64_t)a >> sh);
			else
				goto illegal;
			break;
		}
		break;
	}
	case 6: /* 0x1b */ { /* OP-IMM-32 */
		uint32_t a = (uint32_t)x[rs1];
		unsigned sh = (insn >> 20) & 31;
		switch (f3) {
		case 0: x[rd] = (uint64_t)(int64_t)(int32_t)(a + (uint32_t)imm_i); break;
		case 1:
			if (f7)
				goto illegal;
			x[rd] = (uint64_t)(int64_t)(int32_t)(a << sh);
			break;
		case 5:
			if (f7 == 0)
				x[rd] = (uint64_t)(int64_t)(int32_t)(a >> sh);
			else if (f7 == 0x20)
				x[rd] = (uint64_t)(int64_t)((int32_t)a >> sh);
			else
				goto illegal;
			break;
		default:
			goto illegal;
		}
		break;
	}
	case 12: /* 0x33 */ { /* OP */
		uint64_t a = x[rs1], b = x[rs2];
		if (f7 == 0) {
			switch (f3) {
			case 0: x[rd] = a + b; break;
			case 1: x[rd] = a << (b & 63); break;
			case 2: x[rd] = (int64_t)a < (int64_t)b; break;
			case 3: x[rd] = a < b; break;
			case 4: x[rd] = a ^ b; break;
			case 5: x[rd] = a >> (b & 63); break;
			case 6: x[rd] = a | b; break;
			default: x[rd] = a & b; break;
			}
		} else if (f7 == 0x20) {
			if (f3 == 0)
				x[rd] = a - b;
			else if (f3 == 5)
				x[rd] = (uint64_t)((int64_t)a >> (b & 63));
			else
				goto illegal;
		} else if (f7 == 1) {
			switch (f3) {
			case 0: x[rd] = a * b; break;
			case 1: x[rd] = (uint64_t)(((__int128)(int64_t)a * (__int128)(int64_t)b) >> 64); break;
			case 2: x[rd] = (uint64_t)(((__int128)(int64_t)a * (__int128)b) >> 64); break;
			case 3: x[rd] = (uint64_t)(((unsigned __int128)a * b) >> 64); break;
			case 4: x[rd] = div64((int64_t)a, (int64_t)b); break;
			case 5: x[rd] = b ? a / b : ~0ull; break;
			case 6: x[rd] = rem64((int64_t)a, (int64_t)b); break;
			default: x[rd] = b ? a % b : a; break;
			}
		} else {
			goto illegal;
		}
		break;
	}
	case 14: /* 0x3b */ { /* OP-32 */
		uint32_t a = (uint32_t)x[rs1], b = (uint32_t)x[rs2];
		int32_t r;
		if (f7 == 0) {
			switch (f3) {
			case 0: r = (int32_t)(a + b); break;
			case 1: r = (int32_t)(a << (b & 31)); break;
			case 5: r = (int32_t)(a >> (b & 31)); break;
			default: goto illegal;
			}
		} else if (f7 == 0x20) {
			if (f3 == 0)
				r = (int32_t)(a - b);
			else if (f3 == 5)
				r = (int32_t)a >> (b & 31);
			else
				goto illegal;
		} else if (f7 == 1) {
			switch (f3) {
			case 0: r = (int32_t)(a * b); break;
			case 4: r = div32((int32_t)a, (int32_t)b); break;
			case 5: r = (int32_t)(b ? a / b : ~0u); break;
			case 6: r = rem32((int32_t)a, (int32_t)b); break;
			case 7: r = (int32_t)(b ? a % b : a); break;
			default: goto illegal;
			}
		} else {
			goto illegal;
		}
		x[rd] = (uint64_t)(int64_t)r;
		break;
	}
	case 3: /* 0x0f */ /* MISC-MEM */
		if (f3 == 0) {
			__atomic_thread_fence(__ATOMIC_SEQ_CST); /* FENCE (FENCE.TSO, PAUSE) */
		} else if (f3 == 1) { /* FENCE.I: see icache_fence */
			icache_fence(h);
		} else {
			goto illegal;
		}
		break;
	case 28: /* 0x73 */ /* SYSTEM */
		h->insn_bits = (raw & 3) == 3 ? raw : (raw & 0xffff);
		if (exec_system(h, insn, &npc))
			return;
		break;
	case 11: /* 0x2f */ /* AMO */
		h->insn_bits = raw; /* AMOs have no compressed form */
		if (exec_amo(h, insn))
			return;
		break;
	case 1: /* 0x07 */ { /* LOAD-FP */
		uint64_t a = x[rs1] + (uint64_t)imm_i, v;
		if (fs_off(h) || (f3 != 2 && f3 != 3))
			goto illegal;
		if (f3 == 2) {
			if (mem_load(h, a, 4, &v))
				return;
			v |= 0xffffffff00000000ull; /* NaN boxing */
		} else if (mem_load(h, a, 8, &v)) {
			return;
		}
		h->fp.f[rd] = v;
		hart_fs_dirty(h);
		break;
	}
	case 9: /* 0x27 */ { /* STORE-FP */
		int64_t imm = ((int64_t)(int32_t)insn >> 25) * 32 + ((insn >> 7) & 31);
		uint64_t a = x[rs1] + (uint64_t)imm;
		if (fs_off(h) || (f3 != 2 && f3 != 3))
			goto illegal;
		if (mem_store(h, a, f3 == 2 ? 4 : 8, h->fp.f[rs2]))
			return;
		break;
	}
	case 16: /* 0x43 */
	case 17: /* 0x47 */
	case 18: /* 0x4b */
	case 19: /* 0x4f */
	case 20: /* 0x53 */
		if (fs_off(h) || fpu_exec(&h->fp, x, insn))
			goto illegal;
		hart_fs_dirty(h);
		break;
	default:
		goto illegal;
	}
	x[0] = 0;
	h->pc = npc;
	h->instret++;
	return;
illegal:
	x[0] = 0;
	h->insn_bits = (raw & 3) == 3 ? raw : (raw & 0xffff);
	hart_illegal(h);
}
#undef rd
#undef rs1
#undef rs2
#undef f3
#undef f7
#undef imm_i


/* --- the decoded-instruction interpreter --- */

/* PAUSEs between two yields of the host CPU (see L(pause)) */
#define PAUSE_YIELD 64

/* Handler indexes of struct dinsn.op. */
enum {
	OP_DECODE = 0, /* slot not decoded yet */
	OP_GENERIC,    /* exec_insn() with the raw bits in imm */
	OP_CROSS,      /* 32-bit instruction across the end of the page: fetched each time */
	OP_FENCE,
	OP_PAUSE,
	OP_LUI, OP_AUIPC, OP_JAL, OP_JALR,
	OP_BEQ, OP_BNE, OP_BLT, OP_BGE, OP_BLTU, OP_BGEU,
	OP_LB, OP_LH, OP_LW, OP_LD, OP_LBU, OP_LHU, OP_LWU,
	OP_SB, OP_SH, OP_SW, OP_SD,
	OP_ADDI, OP_SLTI, OP_SLTIU, OP_XORI, OP_ORI, OP_ANDI, OP_SLLI, OP_SRLI, OP_SRAI,
	OP_ADDIW, OP_SLLIW, OP_SRLIW, OP_SRAIW,
	OP_ADD, OP_SUB, OP_SLL, OP_SLT, OP_SLTU, OP_XOR, OP_SRL, OP_SRA, OP_OR, OP_AND,
	OP_MUL, OP_MULH, OP_MULHSU, OP_MULHU, OP_DIV, OP_DIVU, OP_REM, OP_REMU,
	OP_ADDW, OP_SUBW, OP_SLLW, OP_SRLW, OP_SRAW, OP_MULW, OP_DIVW, OP_DIVUW, OP_REMW, OP_REMUW,
	OP_COUNT
};

/* Decodes `raw` (16 or 32 bits, as found at page offset `off`) into *d. */
static void decode(struct dinsn *d, uint32_t raw, unsigned off)
{
	uint32_t insn = raw;
	unsigned len = 4;
	if ((raw & 3) != 3) {
		raw &= 0xffff;
		insn = rvc_table[raw];
		len = 2;
	}
	d->len = (uint8_t)len;
	d->rd = (insn >> 7) & 31;
	if (!d->rd)
		d->rd = 32; /* the sink; branches and stores put rs2 here below */
	d->rs1 = (insn >> 15) & 31;
	unsigned rs2 = (insn >> 20) & 31, f3 = (insn >> 12) & 7, f7 = insn >> 25;
	int32_t imm_i = (int32_t)insn >> 20;
	int op = -1;
	/* The last instruction of the page goes through the generic path, so
	 * that sequential execution never runs off the block. */
	if (!insn || off + len >= 4096)
		goto generic;
	switch ((insn >> 2) & 31) {
	case 3: /* MISC-MEM: FENCE (FENCE.TSO, PAUSE); FENCE.I goes generic */
		if (insn == 0x0100000f) /* PAUSE (Zihintpause: FENCE w, 0) */
			op = OP_PAUSE;
		else if (f3 == 0)
			op = OP_FENCE;
		break;
	case 13: /* LUI */
		op = OP_LUI;
		d->imm = (int32_t)(insn & 0xfffff000);
		break;
	case 5: /* AUIPC */
		op = OP_AUIPC;
		d->imm = (int32_t)(insn & 0xfffff000);
		break;
	case 27: /* JAL */
		op = OP_JAL;
		d->imm = (int32_t)sext(((insn >> 31) << 20) | (((insn >> 12) & 0xff) << 12) |
					       (((insn >> 20) & 1) << 11) | (((insn >> 21) & 0x3ff) << 1),
				       21);
		break;
	case 25: /* JALR */
		if (f3)
			break;
		op = OP_JALR;
		d->imm = imm_i;
		break;
	case 24: { /* BRANCH: rs2 in rd */
		static const int ops[8] = { OP_BEQ, OP_BNE, -1, -1, OP_BLT, OP_BGE, OP_BLTU, OP_BGEU };
		op = ops[f3];
		d->rd = (uint8_t)rs2;
		d->imm = (int32_t)sext(((insn >> 31) << 12) | (((insn >> 7) & 1) << 11) |
					       (((insn >> 25) & 0x3f) << 5) | (((insn >> 8) & 0xf) << 1),
				       13);
		break;
	}
	case 0: { /* LOAD */
		static const int ops[8] = { OP_LB, OP_LH, OP_LW, OP_LD, OP_LBU, OP_LHU, OP_LWU, -1 };
		op = ops[f3];
		d->imm = imm_i;
		break;
	}
	case 8: { /* STORE: rs2 in rd */
		static const int ops[8] = { OP_SB, OP_SH, OP_SW, OP_SD, -1, -1, -1, -1 };
		op = ops[f3];
		d->rd = (uint8_t)rs2;
		d->imm = (int32_t)(((int64_t)(int32_t)insn >> 25) * 32 + ((insn >> 7) & 31));
		break;
	}
	case 4: /* OP-IMM */
		d->imm = imm_i;
		switch (f3) {
		case 0: op = OP_ADDI; break;
		case 2: op = OP_SLTI; break;
		case 3: op = OP_SLTIU; break;
		case 4: op = OP_XORI; break;
		case 6: op = OP_ORI; break;
		case 7: op = OP_ANDI; break;
		case 1:
			if ((insn >> 26) == 0)
				op = OP_SLLI;
			d->imm = (insn >> 20) & 63;
			break;
		default:
			if ((insn >> 26) == 0)
				op = OP_SRLI;
			else if ((insn >> 26) == 0x10)
				op = OP_SRAI;
			d->imm = (insn >> 20) & 63;
			break;
		}
		break;
	case 6: /* OP-IMM-32 */
		d->imm = imm_i;
		if (f3 == 0) {
			op = OP_ADDIW;
		} else if (f3 == 1) {
			if (f7 == 0)
				op = OP_SLLIW;
			d->imm = (insn >> 20) & 31;
		} else if (f3 == 5) {
			if (f7 == 0)
				op = OP_SRLIW;
			else if (f7 == 0x20)
				op = OP_SRAIW;
			d->imm = (insn >> 20) & 31;
		}
		break;
	case 12: { /* OP: rs2 in imm */
		static const int base[8] = { OP_ADD, OP_SLL, OP_SLT, OP_SLTU, OP_XOR, OP_SRL, OP_OR, OP_AND };
		static const int mext[8] = { OP_MUL, OP_MULH, OP_MULHSU, OP_MULHU,
					     OP_DIV, OP_DIVU, OP_REM, OP_REMU };
		d->imm = (int32_t)rs2;
		if (f7 == 0)
			op = base[f3];
		else if (f7 == 1)
			op = mext[f3];
		else if (f7 == 0x20 && f3 == 0)
			op = OP_SUB;
		else if (f7 == 0x20 && f3 == 5)
			op = OP_SRA;
		break;
	}
	case 14: { /* OP-32: rs2 in imm */
		static const int base[8] = { OP_ADDW, OP_SLLW, -1, -1, -1, OP_SRLW, -1, -1 };
		static const int mext[8] = { OP_MULW, -1, -1, -1, OP_DIVW, OP_DIVUW, OP_REMW, OP_REMUW };
		d->imm = (int32_t)rs2;
		if (f7 == 0)
			op = base[f3];
		else if (f7 == 1)
			op = mext[f3];
		else if (f7 == 0x20 && f3 == 0)
			op = OP_SUBW;
		else if (f7 == 0x20 && f3 == 5)
			op = OP_SRAW;
		break;
	}
	default:
		break;
	}
	if (op >= 0) {
		d->op = (uint8_t)(2 * op + (len == 2));
		return;
	}
generic:
	d->op = 2 * OP_GENERIC;
	d->imm = (int32_t)raw;
}

/* Executes up to n instructions from the decoded-instruction cache.
 *
 * `slots` is the block of the page pc is in (virtual page `vpage`); while
 * execution stays in the page, the next slot is found without the TLB.
 * Leaving the page (a jump, a trap, the generic path at the page's end)
 * goes back to `enter`, which translates pc and finds the block; so does
 * anything that may change the translation or the privilege (it sets
 * h->brk and ends the slice). Retired instructions are counted in `cnt`;
 * `synced` of them are already in h->instret. */
/* Without cross-jumping, GCC keeps one indirect jump per handler (merged
 * into one, every dispatch would share a single branch-predictor entry).
 * Clang has no such attribute (the fuzzers are built with it). */
#if defined(__GNUC__) && !defined(__clang__)
#define EXEC_NO_CROSSJUMP __attribute__((optimize("no-crossjumping", "no-gcse")))
#else
#define EXEC_NO_CROSSJUMP
#endif
EXEC_NO_CROSSJUMP void hart_exec_slice(struct hart *h, unsigned n)
{
	/* slot op = 2 * OP_x + (compressed ? 1 : 0) */
	static const void *const labels[2 * OP_COUNT] = {
		[2 * OP_DECODE] = &&op_decode, [2 * OP_DECODE + 1] = &&op_decode,
		[2 * OP_GENERIC] = &&op_generic, [2 * OP_GENERIC + 1] = &&op_generic,
		[2 * OP_CROSS] = &&op_cross, [2 * OP_CROSS + 1] = &&op_cross,
#define OP_LABELS(OP, name) [2 * OP] = &&op_##name##_4, [2 * OP + 1] = &&op_##name##_2
		OP_LABELS(OP_FENCE, fence),
		OP_LABELS(OP_PAUSE, pause),
		OP_LABELS(OP_LUI, lui),
		OP_LABELS(OP_AUIPC, auipc),
		OP_LABELS(OP_JAL, jal),
		OP_LABELS(OP_JALR, jalr),
		OP_LABELS(OP_BEQ, beq),
		OP_LABELS(OP_BNE, bne),
		OP_LABELS(OP_BLT, blt),
		OP_LABELS(OP_BGE, bge),
		OP_LABELS(OP_BLTU, bltu),
		OP_LABELS(OP_BGEU, bgeu),
		OP_LABELS(OP_LB, lb),
		OP_LABELS(OP_LH, lh),
		OP_LABELS(OP_LW, lw),
		OP_LABELS(OP_LD, ld),
		OP_LABELS(OP_LBU, lbu),
		OP_LABELS(OP_LHU, lhu),
		OP_LABELS(OP_LWU, lwu),
		OP_LABELS(OP_SB, sb),
		OP_LABELS(OP_SH, sh),
		OP_LABELS(OP_SW, sw),
		OP_LABELS(OP_SD, sd),
		OP_LABELS(OP_ADDI, addi),
		OP_LABELS(OP_SLTI, slti),
		OP_LABELS(OP_SLTIU, sltiu),
		OP_LABELS(OP_XORI, xori),
		OP_LABELS(OP_ORI, ori),
		OP_LABELS(OP_ANDI, andi),
		OP_LABELS(OP_SLLI, slli),
		OP_LABELS(OP_SRLI, srli),
		OP_LABELS(OP_SRAI, srai),
		OP_LABELS(OP_ADDIW, addiw),
		OP_LABELS(OP_SLLIW, slliw),
		OP_LABELS(OP_SRLIW, srliw),
		OP_LABELS(OP_SRAIW, sraiw),
		OP_LABELS(OP_ADD, add),
		OP_LABELS(OP_SUB, sub),
		OP_LABELS(OP_SLL, sll),
		OP_LABELS(OP_SLT, slt),
		OP_LABELS(OP_SLTU, sltu),
		OP_LABELS(OP_XOR, xor),
		OP_LABELS(OP_SRL, srl),
		OP_LABELS(OP_SRA, sra),
		OP_LABELS(OP_OR, or),
		OP_LABELS(OP_AND, and),
		OP_LABELS(OP_MUL, mul),
		OP_LABELS(OP_MULH, mulh),
		OP_LABELS(OP_MULHSU, mulhsu),
		OP_LABELS(OP_MULHU, mulhu),
		OP_LABELS(OP_DIV, div),
		OP_LABELS(OP_DIVU, divu),
		OP_LABELS(OP_REM, rem),
		OP_LABELS(OP_REMU, remu),
		OP_LABELS(OP_ADDW, addw),
		OP_LABELS(OP_SUBW, subw),
		OP_LABELS(OP_SLLW, sllw),
		OP_LABELS(OP_SRLW, srlw),
		OP_LABELS(OP_SRAW, sraw),
		OP_LABELS(OP_MULW, mulw),
		OP_LABELS(OP_DIVW, divw),
		OP_LABELS(OP_DIVUW, divuw),
		OP_LABELS(OP_REMW, remw),
		OP_LABELS(OP_REMUW, remuw),
#undef OP_LABELS
	};
	uint64_t *x = h->xs;
	uint64_t pc = h->pc;          /* valid at `enter`; else computed from d */
	uint64_t vpage = TLB_INVALID; /* virtual page of `slots` */
	struct dinsn *slots = NULL;
	const uint8_t *page_hva = NULL;
	/* the block used before, for calls and returns between two pages */
	uint64_t prev_vpage = TLB_INVALID;
	struct dinsn *prev_slots = NULL;
	const uint8_t *prev_hva = NULL;
	const struct tlb_entry *tlbd = h->tlb[h->dpriv];
	struct dinsn *d;
	/* instructions left in the slice; n - left retired, `synced` of them
	 * already added to h->instret */
	unsigned left = n, synced = 0;
	/* the handler table in a register rather than reloaded per dispatch */
	const void *const *lt = labels;
	__asm__("" : "+r"(lt));

#define DISPATCH() goto *lt[d->op]
/* the pc of the slot d */
#define PC() (vpage + (uint64_t)((uintptr_t)d - (uintptr_t)slots) / 4)
#define LEN() (STEP >> 2)
/* sequential successor */
#define NEXT()                                                   \
	do {                                                     \
		d = (struct dinsn *)((uintptr_t)d + STEP);       \
		if (UNLIKELY(--left == 0))                        \
			goto out;                                \
		DISPATCH();                                      \
	} while (0)
/* relative control transfer by `off` bytes */
#define JUMP_REL(off)                                                              \
	do {                                                                       \
		int64_t off_ = (off);                                              \
		uint64_t i_ = (uint64_t)(d - slots) + (uint64_t)(off_ >> 1);       \
		if (LIKELY(i_ < ICACHE_SLOTS)) {                                   \
			d = slots + i_;                                            \
			if (UNLIKELY(--left == 0))                                  \
				goto out;                                          \
			DISPATCH();                                                \
		}                                                                  \
		pc = PC() + (uint64_t)off_;                                        \
		left--;                                                             \
		goto enter;                                                        \
	} while (0)
/* absolute control transfer to t */
#define JUMP_ABS(t)                                                \
	do {                                                       \
		pc = (t);                                          \
		if (LIKELY((pc & ~0xfffull) == vpage)) {           \
			d = slots + ((pc & 0xfff) >> 1);           \
			if (UNLIKELY(--left == 0))                  \
				goto out_pc;                       \
			DISPATCH();                                \
		}                                                  \
		left--;                                             \
		goto enter;                                        \
	} while (0)
#define SYNC()                              \
	do {                                \
		h->pc = PC();               \
		h->instret += n - left - synced; \
		synced = n - left;               \
	} while (0)
#define RS1 x[d->rs1]
#define RS2R x[d->imm] /* R-type */
#define RS2S x[d->rd]  /* S- and B-type */
#define IMM ((uint64_t)(int64_t)d->imm)

enter:
	if (UNLIKELY(h->brk || left == 0))
		goto out_pc;
	if (LIKELY((pc & ~0xfffull) == vpage)) {
		d = slots + ((pc & 0xfff) >> 1);
		DISPATCH();
	}
	if ((pc & ~0xfffull) == prev_vpage) {
		uint64_t tv = vpage;
		struct dinsn *ts = slots;
		const uint8_t *th = page_hva;
		vpage = prev_vpage;
		slots = prev_slots;
		page_hva = prev_hva;
		prev_vpage = tv;
		prev_slots = ts;
		prev_hva = th;
		d = slots + ((pc & 0xfff) >> 1);
		DISPATCH();
	}
	{
		const struct tlb_entry *e = &h->tlb[h->priv][(pc >> 12) & (TLB_SIZE - 1)];
		uint64_t vp = pc & ~0xfffull;
		if (UNLIKELY(e->tag_x != vp)) {
			h->pc = pc;
			h->instret += n - left - synced;
			synced = n - left;
			if (mmu_fetch_page(h, pc))
				goto out_trapped;
		}
		prev_vpage = vpage;
		prev_slots = slots;
		prev_hva = page_hva;
		page_hva = (const uint8_t *)(e->addend + (uintptr_t)vp);
		slots = icache_block(h, (uint64_t)(page_hva - h->ram_hva) >> 12, page_hva);
		vpage = vp;
		if (slots == prev_slots) /* the previous block was recycled */
			prev_vpage = TLB_INVALID;
		tlbd = h->tlb[h->dpriv];
		d = slots + ((pc & 0xfff) >> 1);
		DISPATCH();
	}

op_decode: {
	unsigned off = (unsigned)((uintptr_t)d - (uintptr_t)slots) / 4;
	uint32_t raw = *(const uint16_t *)(page_hva + off);
	if ((raw & 3) == 3) {
		if (off == 0xffe) {
			d->op = 2 * OP_CROSS;
			goto op_cross;
		}
		raw |= (uint32_t)*(const uint16_t *)(page_hva + off + 2) << 16;
	}
	decode(d, raw, off);
	DISPATCH();
}
op_generic:
	SYNC();
	exec_insn(h, (uint32_t)d->imm, h->pc);
	/* exec_insn counted the instruction itself if it retired */
	left--;
	synced++;
	pc = h->pc;
	tlbd = h->tlb[h->dpriv];
	goto enter;
op_cross: {
	uint32_t raw;
	SYNC();
	left--;
	synced++;
	pc = h->pc;
	const struct tlb_entry *e2 = &h->tlb[h->priv][((pc + 2) >> 12) & (TLB_SIZE - 1)];
	if (e2->tag_x == ((pc + 2) & ~0xfffull)) {
		/* both pages in the TLB (this one is: we are executing it) */
		raw = *(const uint16_t *)(page_hva + 0xffe) |
		      (uint32_t)*(const uint16_t *)(e2->addend + (uintptr_t)(pc + 2)) << 16;
	} else if (mmu_fetch_slow(h, &raw)) {
		goto out_trapped;
	}
	exec_insn(h, raw, pc);
	pc = h->pc;
	/* the TLB may have dropped this page's entry for the second half */
	vpage = prev_vpage = TLB_INVALID;
	goto enter;
}

#define BRANCH(cond)                  \
	do {                          \
		if (cond)             \
			JUMP_REL(d->imm); \
		NEXT();               \
	} while (0)
#define LOAD(T, ST, size)                                                                 \
	do {                                                                              \
		uint64_t a_ = RS1 + IMM;                                                  \
		const struct tlb_entry *e_ = &tlbd[(a_ >> 12) & (TLB_SIZE - 1)];          \
		if (LIKELY(e_->tag_r == (a_ & (~0xfffull | ((size) - 1))))) {             \
			x[d->rd] = (uint64_t)(ST) * (const T *)(e_->addend + (uintptr_t)a_); \
			NEXT();                                                           \
		}                                                                         \
		uint64_t v_;                                                              \
		SYNC();                                                                   \
		if (mmu_load_slow(h, a_, (size), &v_))                                    \
			goto out_trapped;                                                 \
		x[d->rd] = (uint64_t)(ST)(T)v_;                                           \
		if (UNLIKELY(h->brk)) {                                                   \
			d = (struct dinsn *)((uintptr_t)d + STEP);                     \
			left--;                                                            \
			goto out;                                                         \
		}                                                                         \
		NEXT();                                                                   \
	} while (0)
#define STORE(T, size)                                                                  \
	do {                                                                            \
		uint64_t a_ = RS1 + IMM;                                                \
		const struct tlb_entry *e_ = &tlbd[(a_ >> 12) & (TLB_SIZE - 1)];        \
		if (LIKELY(e_->tag_w == (a_ & (~0xfffull | ((size) - 1))))) {           \
			*(T *)(e_->addend + (uintptr_t)a_) = (T)RS2S;                   \
			NEXT();                                                         \
		}                                                                       \
		SYNC();                                                                 \
		if (mmu_store_slow(h, a_, (size), RS2S))                                \
			goto out_trapped;                                               \
		if (UNLIKELY(h->brk)) {                                                 \
			d = (struct dinsn *)((uintptr_t)d + STEP);                   \
			left--;                                                          \
			goto out;                                                       \
		}                                                                       \
		NEXT();                                                                 \
	} while (0)
#define W(v) ((uint64_t)(int64_t)(int32_t)(v))

#define STEP 16
#define L(name) op_##name##_4
#include "vm/cpu/exec_ops.inc"
#undef STEP
#undef L
#define STEP 8
#define L(name) op_##name##_2
#include "vm/cpu/exec_ops.inc"
#undef STEP
#undef L
out:
	SYNC();
	return;
out_pc:
	h->pc = pc;
	h->instret += n - left - synced;
	return;
out_trapped:
	/* h->pc is the trap's target; the faulting instruction did not retire */
	h->instret += n - left - synced;
#undef DISPATCH
#undef NEXT
#undef JUMP_REL
#undef JUMP_ABS
#undef PC
#undef LEN
#undef SYNC
#undef RS1
#undef RS2R
#undef RS2S
#undef IMM
#undef BRANCH
#undef LOAD
#undef STORE
#undef W
}
