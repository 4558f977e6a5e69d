/* Save and load of a hart's architectural state (snapshots, migration).
 *
 * The encoding is explicit little-endian (not a memcpy of struct hart), so
 * the layout of the interpreter's struct can change without breaking saved
 * states. A loaded state is validated field by field as a guest could never
 * have produced it otherwise: a reserved privilege level, an unsupported
 * satp mode, reserved mstatus bits and the like are refused, never trusted.
 */
#include <errno.h>

#include "base/util.h"
#include "vm/cpu/hart.h"
#include "vm/state/stream.h"

#define S_INTS (MIP_SSIP | MIP_STIP | MIP_SEIP)
#define M_INTS (MIP_MSIP | MIP_MTIP | MIP_MEIP)
#define MSTATUS_LOADABLE                                                                           \
	(MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP | MSTATUS_MPP |         \
	 MSTATUS_FS | MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW |           \
	 MSTATUS_TSR | MSTATUS_UXL | MSTATUS_SXL | MSTATUS_SD)
#define SATP_MASK ((0xfull << 60) | (0xffffull << 44) | ((1ull << 44) - 1))

void hart_save_state(const struct hart *h, struct state_buf *b)
{
	struct hart *hh = (struct hart *)h; /* atomics are read through non-const */
	state_put_u32(b, h->hartid);
	for (unsigned i = 0; i < 32; i++)
		state_put_u64(b, h->x[i]);
	state_put_u64(b, h->pc);
	for (unsigned i = 0; i < 32; i++)
		state_put_u64(b, h->fp.f[i]);
	state_put_u8(b, h->fp.frm);
	state_put_u8(b, h->fp.fflags);
	state_put_u8(b, (uint8_t)h->priv);
	state_put_u8(b, h->wfi);
	state_put_u8(b, h->dead);
	state_put_u8(b, (uint8_t)atomic_load(&hh->hsm_state));
	state_put_u64(b, h->mstatus);
	state_put_u64(b, h->medeleg);
	state_put_u64(b, h->mideleg);
	state_put_u64(b, h->mie);
	state_put_u64(b, atomic_load(&hh->mip));
	const uint64_t csrs[] = { h->mtvec,	 h->stvec,	h->mscratch,	  h->sscratch, h->mepc,
				  h->sepc,	 h->mcause,	h->scause,	  h->mtval,    h->stval,
				  h->satp,	 h->mcounteren, h->scounteren,	  h->mcountinhibit,
				  h->menvcfg,	 h->senvcfg,	h->stimecmp,	  h->cycle_offset,
				  h->instret,	 atomic_load(&hh->mtimecmp),	  h->start_pc, h->start_opaque };
	for (unsigned i = 0; i < ARRAY_SIZE(csrs); i++)
		state_put_u64(b, csrs[i]);
	state_put_bytes(b, h->pmpcfg, sizeof(h->pmpcfg));
	for (unsigned i = 0; i < 64; i++)
		state_put_u64(b, h->pmpaddr[i]);
}

static int bad(struct verr **err, const char *what, uint64_t v)
{
	return verr_set(err, EINVAL, "invalid hart state: %s (0x%llx)", what, (unsigned long long)v);
}

int hart_load_state(struct hart *h, const void *data, size_t len, struct verr **err)
{
	struct state_cursor c;
	state_cursor_init(&c, data, len);
	uint32_t hartid = state_get_u32(&c);
	uint64_t x[32], f[32];
	for (unsigned i = 0; i < 32; i++)
		x[i] = state_get_u64(&c);
	uint64_t pc = state_get_u64(&c);
	for (unsigned i = 0; i < 32; i++)
		f[i] = state_get_u64(&c);
	uint8_t frm = state_get_u8(&c), fflags = state_get_u8(&c);
	uint8_t priv = state_get_u8(&c), wfi = state_get_u8(&c), dead = state_get_u8(&c);
	uint8_t hsm = state_get_u8(&c);
	uint64_t mstatus = state_get_u64(&c), medeleg = state_get_u64(&c), mideleg = state_get_u64(&c);
	uint64_t mie = state_get_u64(&c), mip = state_get_u64(&c);
	uint64_t v[22];
	for (unsigned i = 0; i < ARRAY_SIZE(v); i++)
		v[i] = state_get_u64(&c);
	uint8_t pmpcfg[64];
	uint64_t pmpaddr[64];
	state_get_bytes(&c, pmpcfg, sizeof(pmpcfg));
	for (unsigned i = 0; i < 64; i++)
		pmpaddr[i] = state_get_u64(&c);
	if (!state_cursor_done(&c))
		return verr_set(err, EINVAL, "invalid hart state: %zu bytes, not the expected layout", len);

	enum { MTVEC, STVEC, MSCRATCH, SSCRATCH, MEPC, SEPC, MCAUSE, SCAUSE, MTVAL, STVAL, SATP,
	       MCOUNTEREN, SCOUNTEREN, MCOUNTINHIBIT, MENVCFG, SENVCFG, STIMECMP, CYCLE_OFFSET,
	       INSTRET, MTIMECMP, START_PC, START_OPAQUE };
	if (hartid != h->hartid)
		return bad(err, "hart id does not match", hartid);
	if (x[0] != 0)
		return bad(err, "x0 is not zero", x[0]);
	if (pc & 1)
		return bad(err, "misaligned pc", pc);
	if (priv != PRIV_U && priv != PRIV_S && priv != PRIV_M)
		return bad(err, "privilege level", priv);
	if (frm > 7 || fflags > 0x1f)
		return bad(err, "fcsr", (uint64_t)frm << 5 | fflags);
	if (wfi > 1 || dead > 1)
		return bad(err, "wfi/dead flag", (uint64_t)wfi << 8 | dead);
	if (hsm > HART_STOP_PENDING)
		return bad(err, "HSM state", hsm);
	if ((mstatus & ~MSTATUS_LOADABLE) || (mstatus & MSTATUS_UXL) != (2ull << 32) ||
	    (mstatus & MSTATUS_SXL) != (2ull << 34) || ((mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT) == 2)
		return bad(err, "mstatus", mstatus);
	if (medeleg & ~0xb3ffull)
		return bad(err, "medeleg", medeleg);
	if (mideleg & ~S_INTS)
		return bad(err, "mideleg", mideleg);
	if (mie & ~(S_INTS | M_INTS))
		return bad(err, "mie", mie);
	if (mip & ~(S_INTS | M_INTS))
		return bad(err, "mip", mip);
	if ((v[MTVEC] & 3) > 1 || (v[STVEC] & 3) > 1)
		return bad(err, "trap vector mode", (v[MTVEC] & 3) > 1 ? v[MTVEC] : v[STVEC]);
	if ((v[MEPC] & 1) || (v[SEPC] & 1))
		return bad(err, "misaligned xepc", (v[MEPC] & 1) ? v[MEPC] : v[SEPC]);
	unsigned mode = (unsigned)(v[SATP] >> 60);
	if ((mode != 0 && mode != 8 && mode != 9) || (v[SATP] & ~SATP_MASK) || (mode == 0 && v[SATP]))
		return bad(err, "satp", v[SATP]);
	if (v[MENVCFG] & ~(MENVCFG_STCE | 1))
		return bad(err, "menvcfg", v[MENVCFG]);
	if (v[SENVCFG] & ~1ull)
		return bad(err, "senvcfg", v[SENVCFG]);
	if ((v[START_PC] & 1))
		return bad(err, "misaligned HSM start address", v[START_PC]);

	/* Valid: install it. The TLB and the LR reservation are host caches
	 * of this state, dropped rather than restored. */
	h->ram_hva = h->sh->ram_hva;
	h->ram_base_gpa = h->sh->ram_base_gpa;
	h->ram_size = h->sh->ram_size;
	memcpy(h->x, x, sizeof(x));
	h->pc = pc;
	memcpy(h->fp.f, f, sizeof(f));
	h->fp.frm = frm;
	h->fp.fflags = fflags;
	h->priv = priv;
	h->wfi = wfi;
	h->dead = dead;
	h->mstatus = mstatus;
	if ((mstatus & MSTATUS_FS) == MSTATUS_FS)
		h->mstatus |= MSTATUS_SD;
	else
		h->mstatus &= ~MSTATUS_SD;
	h->medeleg = medeleg;
	h->mideleg = mideleg;
	h->mie = mie;
	atomic_store(&h->mip, mip);
	h->mtvec = v[MTVEC];
	h->stvec = v[STVEC];
	h->mscratch = v[MSCRATCH];
	h->sscratch = v[SSCRATCH];
	h->mepc = v[MEPC];
	h->sepc = v[SEPC];
	h->mcause = v[MCAUSE];
	h->scause = v[SCAUSE];
	h->mtval = v[MTVAL];
	h->stval = v[STVAL];
	h->satp = v[SATP];
	h->mcounteren = v[MCOUNTEREN];
	h->scounteren = v[SCOUNTEREN];
	h->mcountinhibit = v[MCOUNTINHIBIT];
	h->menvcfg = v[MENVCFG];
	h->senvcfg = v[SENVCFG];
	h->stimecmp = v[STIMECMP];
	h->cycle_offset = v[CYCLE_OFFSET];
	h->instret = v[INSTRET];
	atomic_store(&h->mtimecmp, v[MTIMECMP]);
	h->start_pc = v[START_PC];
	h->start_opaque = v[START_OPAQUE];
	memcpy(h->pmpcfg, pmpcfg, sizeof(pmpcfg));
	memcpy(h->pmpaddr, pmpaddr, sizeof(pmpaddr));
	atomic_store(&h->hsm_state, hsm);
	h->lr_valid = false;
	h->brk = true;
	atomic_store(&h->flush_ack, atomic_load(&h->flush_gen));
	hart_update_dpriv(h);
	mmu_flush_all(h);
	icache_flush(h);
	return 0;
}
