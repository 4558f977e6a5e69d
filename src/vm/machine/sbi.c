#include "vm/machine/sbi.h"

#include <string.h>

#include "base/log.h"

enum { REG_A0 = 10, REG_A1, REG_A2, REG_A3, REG_A4, REG_A5, REG_A6, REG_A7 };

static struct log_ratelimit sbi_rl;

struct sbi_ret {
	int64_t error;
	uint64_t value;
};

static struct sbi_ret sbi_ok(uint64_t v)
{
	return (struct sbi_ret){ SBI_SUCCESS, v };
}

static struct sbi_ret sbi_err(int64_t e)
{
	return (struct sbi_ret){ e, 0 };
}

/* Checks that [gpa, gpa+len) lies in RAM; returns the host pointer or NULL. */
static uint8_t *sbi_ram(const struct cpu_shared *sh, uint64_t gpa, uint64_t len)
{
	if (gpa < sh->ram_base_gpa)
		return NULL;
	uint64_t off = gpa - sh->ram_base_gpa;
	if (off > sh->ram_size || len > sh->ram_size - off)
		return NULL;
	return sh->ram_hva + off;
}

/* Applies fn to every hart in (hart_mask, hart_mask_base) per SBI v2.0 §3.2
 * ("Hart list parameter"): base == -1 means all harts. Every id is checked
 * before anything is done. */
static int64_t sbi_for_harts(const struct sbi_env *env, uint64_t mask, uint64_t base,
			     void (*fn)(struct hart *t))
{
	const struct cpu_shared *sh = env->sh;
	if (base == UINT64_MAX) {
		for (unsigned i = 0; i < sh->nr_harts; i++)
			fn(sh->harts[i]);
		return SBI_SUCCESS;
	}
	for (unsigned b = 0; b < 64; b++)
		if (((mask >> b) & 1) && (base >= sh->nr_harts || b >= sh->nr_harts - base))
			return SBI_ERR_INVALID_PARAM;
	for (unsigned b = 0; b < 64; b++)
		if ((mask >> b) & 1)
			fn(sh->harts[base + b]);
	return SBI_SUCCESS;
}

static void sbi_ipi_one(struct hart *t)
{
	hart_set_irq(t, MIP_SSIP, true);
	hart_kick(t);
}

static void sbi_fence_one(struct hart *t)
{
	hart_request_tlb_flush(t);
	hart_kick(t);
}

static void sbi_fence_i_one(struct hart *t)
{
	hart_request_ifence(t);
	hart_kick(t);
}

static bool sbi_probe(uint64_t eid)
{
	switch (eid) {
	case 0x00 ... 0x03:
	case 0x08:
	case SBI_EXT_BASE:
	case SBI_EXT_TIME:
	case SBI_EXT_IPI:
	case SBI_EXT_RFENCE:
	case SBI_EXT_HSM:
	case SBI_EXT_SRST:
	case SBI_EXT_DBCN:
		return true;
	default:
		return false;
	}
}

static struct sbi_ret sbi_base(uint64_t fid, uint64_t a0)
{
	switch (fid) {
	case 0:
		return sbi_ok(SBI_SPEC_VERSION);
	case 1:
		return sbi_ok(SBI_IMPL_ID);
	case 2:
		return sbi_ok(1);
	case 3:
		return sbi_ok(sbi_probe(a0) ? 1 : 0);
	case 4: /* mvendorid, marchid, mimpid: 0 = not implemented */
	case 5:
	case 6:
		return sbi_ok(0);
	default:
		return sbi_err(SBI_ERR_NOT_SUPPORTED);
	}
}

static struct sbi_ret sbi_hsm(const struct sbi_env *env, struct hart *h, uint64_t fid, uint64_t a0,
			      uint64_t a1, uint64_t a2)
{
	const struct cpu_shared *sh = env->sh;
	switch (fid) {
	case 0: { /* hart_start(hartid, start_addr, opaque) */
		if (a0 >= sh->nr_harts)
			return sbi_err(SBI_ERR_INVALID_PARAM);
		if (!sbi_ram(sh, a1, 4))
			return sbi_err(SBI_ERR_INVALID_ADDRESS);
		if (hart_start(sh->harts[a0], a1, a2) < 0)
			return sbi_err(SBI_ERR_ALREADY_AVAILABLE);
		return sbi_ok(0);
	}
	case 1: /* hart_stop() */
		hart_stop_self(h);
		return sbi_ok(0);
	case 2: /* hart_get_status(hartid) */
		if (a0 >= sh->nr_harts)
			return sbi_err(SBI_ERR_INVALID_PARAM);
		return sbi_ok((uint64_t)hart_get_state(sh->harts[a0]));
	case 3: /* hart_suspend(type, resume_addr, opaque) */
		if (a0 == 0) /* default retentive: returns like WFI would */
			return sbi_ok(0);
		if (a0 < 0x10000000u || (a0 >= 0x80000000u && a0 < 0x90000000u))
			return sbi_err(SBI_ERR_NOT_SUPPORTED);
		return sbi_err(SBI_ERR_INVALID_PARAM);
	default:
		return sbi_err(SBI_ERR_NOT_SUPPORTED);
	}
}

static struct sbi_ret sbi_dbcn(const struct sbi_env *env, uint64_t fid, uint64_t a0, uint64_t a1,
			       uint64_t a2)
{
	switch (fid) {
	case 0:
	case 1: {
		/* console_write/read(num_bytes, base_lo, base_hi): a guest
		 * physical buffer, checked against RAM (SBI v2.0 §12). */
		if (a2 != 0)
			return sbi_err(SBI_ERR_INVALID_PARAM);
		uint8_t *p = sbi_ram(env->sh, a1, a0);
		if (!p)
			return sbi_err(SBI_ERR_INVALID_PARAM);
		if (fid == 0) {
			env->console_write(env->opaque, p, a0);
			return sbi_ok(a0);
		}
		uint64_t n = env->console_read(env->opaque, p, a0);
		cpu_note_ram_write(env->sh, a1, n);
		return sbi_ok(n);
	}
	case 2: {
		uint8_t c = (uint8_t)a0;
		env->console_write(env->opaque, &c, 1);
		return sbi_ok(0);
	}
	default:
		return sbi_err(SBI_ERR_NOT_SUPPORTED);
	}
}

void sbi_handle_call(const struct sbi_env *env, struct hart *h)
{
	uint64_t a0 = hart_get_reg(h, REG_A0), a1 = hart_get_reg(h, REG_A1);
	uint64_t a2 = hart_get_reg(h, REG_A2);
	uint64_t fid = hart_get_reg(h, REG_A6), eid = hart_get_reg(h, REG_A7);
	struct sbi_ret r;

	switch (eid) {
	/* Legacy extensions (SBI v0.1, spec chapter 5): a0 is the only result. */
	case 0x00:
		hart_set_mtimecmp(h, a0);
		hart_set_reg(h, REG_A0, 0);
		return;
	case 0x01: {
		uint8_t c = (uint8_t)a0;
		env->console_write(env->opaque, &c, 1);
		hart_set_reg(h, REG_A0, 0);
		return;
	}
	case 0x02: {
		uint8_t c;
		hart_set_reg(h, REG_A0, env->console_read(env->opaque, &c, 1) ? c : UINT64_MAX);
		return;
	}
	case 0x03:
		hart_set_irq(h, MIP_SSIP, false);
		hart_set_reg(h, REG_A0, 0);
		return;
	case 0x08:
		env->system_reset(env->opaque, SBI_RESET_SHUTDOWN, 0);
		hart_set_reg(h, REG_A0, 0);
		return;
	case SBI_EXT_BASE:
		r = sbi_base(fid, a0);
		break;
	case SBI_EXT_TIME:
		if (fid == 0) {
			hart_set_mtimecmp(h, a0);
			r = sbi_ok(0);
		} else {
			r = sbi_err(SBI_ERR_NOT_SUPPORTED);
		}
		break;
	case SBI_EXT_IPI:
		r = fid == 0 ? sbi_err(sbi_for_harts(env, a0, a1, sbi_ipi_one)) : sbi_err(SBI_ERR_NOT_SUPPORTED);
		break;
	case SBI_EXT_RFENCE:
		/* fence.i, sfence.vma and sfence.vma.asid: a full flush of the
		 * targets is always a valid implementation of the narrower ones.
		 * The hypervisor variants (fid 3-6) need the H extension. */
		if (fid == 0) /* remote fence.i: the harts drop decoded instructions */
			r = sbi_err(sbi_for_harts(env, a0, a1, sbi_fence_i_one));
		else
			r = fid <= 2 ? sbi_err(sbi_for_harts(env, a0, a1, sbi_fence_one)) : sbi_err(SBI_ERR_NOT_SUPPORTED);
		break;
	case SBI_EXT_HSM:
		r = sbi_hsm(env, h, fid, a0, a1, a2);
		break;
	case SBI_EXT_SRST:
		if (fid != 0) {
			r = sbi_err(SBI_ERR_NOT_SUPPORTED);
		} else if (a0 > SBI_RESET_WARM || (a1 > 1 && a1 < 0xF0000000u) || a1 > UINT32_MAX) {
			r = sbi_err(SBI_ERR_INVALID_PARAM);
		} else {
			env->system_reset(env->opaque, (uint32_t)a0, (uint32_t)a1);
			r = sbi_ok(0);
		}
		break;
	case SBI_EXT_DBCN:
		r = sbi_dbcn(env, fid, a0, a1, a2);
		break;
	default:
		log_ratelimited(&sbi_rl, LOG_DEBUG, "sbi: unsupported call eid 0x%llx fid %llu",
				(unsigned long long)eid, (unsigned long long)fid);
		r = sbi_err(SBI_ERR_NOT_SUPPORTED);
		break;
	}
	hart_set_reg(h, REG_A0, (uint64_t)r.error);
	if (r.error == SBI_SUCCESS)
		hart_set_reg(h, REG_A1, r.value);
}
