/* Hart lifecycle, traps and interrupts (privileged spec 3.1.6.1, 3.1.8,
 * 3.1.9 "mip and mie", 3.3.1 "ECALL/EBREAK", 3.3.2 "xRET", 3.3.3 "WFI"),
 * timers, sleeping and the run loop. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "base/util.h"
#include "vm/cpu/hart.h"

/* Instructions executed between two checks of timers, interrupts and
 * requests from other threads (~tens of microseconds). */
#define SLICE_INSNS 2048
/* Longest sleep without re-checking sh->stop, in case nobody kicks us. */
#define MAX_SLEEP_NS 100000000ll

uint64_t cpu_mtime(const struct cpu_shared *sh)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t ns = (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec - sh->time_base_ns;
	return ns > 0 ? (uint64_t)ns / 100 : 0;
}

void hart_update_dpriv(struct hart *h)
{
	if (h->priv == PRIV_M && (h->mstatus & MSTATUS_MPRV))
		h->dpriv = (h->mstatus & MSTATUS_MPP) >> MSTATUS_MPP_SHIFT;
	else
		h->dpriv = h->priv;
}

static void reset_csrs(struct hart *h)
{
	memset(h->x, 0, sizeof(h->x));
	memset(&h->fp, 0, sizeof(h->fp));
	h->priv = PRIV_M;
	h->mstatus = MSTATUS_UXL & (2ull << 32);
	h->mstatus |= MSTATUS_SXL & (2ull << 34);
	h->medeleg = h->mideleg = h->mie = 0;
	atomic_store(&h->mip, 0);
	h->mtvec = h->stvec = h->mscratch = h->sscratch = h->mepc = h->sepc = 0;
	h->mcause = h->scause = h->mtval = h->stval = h->satp = 0;
	h->mcounteren = h->scounteren = h->mcountinhibit = h->menvcfg = h->senvcfg = 0;
	h->stimecmp = ~0ull;
	h->cycle_offset = 0;
	h->instret = 0;
	memset(h->pmpcfg, 0, sizeof(h->pmpcfg));
	memset(h->pmpaddr, 0, sizeof(h->pmpaddr));
	atomic_store(&h->mtimecmp, ~0ull);
	h->lr_valid = false;
	h->wfi = false;
	h->dead = false;
	h->brk = true;
	hart_update_dpriv(h);
	mmu_flush_all(h);
	icache_flush(h);
}

struct hart *hart_create(struct cpu_shared *sh, unsigned hartid)
{
	hart_exec_init();
	struct hart *h = aligned_alloc(64, (sizeof(struct hart) + 63) & ~(size_t)63);
	if (!h)
		abort();
	memset(h, 0, sizeof(*h));
	h->sh = sh;
	h->hartid = hartid;
	h->ram_hva = sh->ram_hva;
	h->ram_base_gpa = sh->ram_base_gpa;
	h->ram_size = sh->ram_size;
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->cond, &ca);
	pthread_cond_init(&h->ack_cond, &ca);
	pthread_condattr_destroy(&ca);
	if (icache_init(h) < 0)
		abort(); /* like any small allocation failing */
	reset_csrs(h);
	atomic_store(&h->hsm_state, HART_STOPPED);
	return h;
}

void hart_destroy(struct hart *h)
{
	if (!h)
		return;
	icache_fini(h);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->cond);
	pthread_cond_destroy(&h->ack_cond);
	free(h);
}

void hart_reset(struct hart *h, uint64_t reset_pc, uint64_t a1)
{
	/* the board may have replaced the RAM mapping since hart_create */
	h->ram_hva = h->sh->ram_hva;
	h->ram_base_gpa = h->sh->ram_base_gpa;
	h->ram_size = h->sh->ram_size;
	reset_csrs(h);
	h->pc = reset_pc;
	h->x[10] = h->hartid;
	h->x[11] = a1;
	atomic_store(&h->hsm_state, HART_STARTED);
	hart_kick(h);
}

void hart_enter_supervisor(struct hart *h, uint64_t pc, uint64_t opaque)
{
	h->ram_hva = h->sh->ram_hva;
	h->ram_base_gpa = h->sh->ram_base_gpa;
	h->ram_size = h->sh->ram_size;
	/* interrupt lines driven by devices keep their level */
	uint64_t lines = atomic_load(&h->mip) & (MIP_MEIP | MIP_SEIP | MIP_MSIP);
	reset_csrs(h);
	atomic_store(&h->mip, lines);
	/* What OpenSBI leaves behind: S-level interrupts and the exceptions the
	 * kernel handles delegated, counters readable, Sstc enabled. */
	h->mideleg = MIP_SSIP | MIP_STIP | MIP_SEIP;
	h->medeleg = 0xb3ffull & ~((1ull << EXC_ECALL_S) | (1ull << EXC_ECALL_M));
	h->mcounteren = 7;
	/* OpenSBI also opens cycle/time/instret to U-mode (scounteren = 7):
	 * Linux relies on it for the vDSO's rdtime when there is no SBI PMU. */
	h->scounteren = 7;
	h->menvcfg = MENVCFG_STCE;
	h->priv = PRIV_S;
	hart_update_dpriv(h);
	h->pc = pc;
	h->x[10] = h->hartid;
	h->x[11] = opaque;
	atomic_store(&h->hsm_state, HART_STARTED);
}

int hart_exception(struct hart *h, uint64_t cause, uint64_t tval)
{
	h->lr_valid = false;
	h->brk = true;
	uint64_t epc = h->pc;
	if (h->priv <= PRIV_S && ((h->medeleg >> cause) & 1)) {
		h->scause = cause;
		h->sepc = epc;
		h->stval = tval;
		uint64_t s = h->mstatus & ~(MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE);
		if (h->mstatus & MSTATUS_SIE)
			s |= MSTATUS_SPIE;
		if (h->priv == PRIV_S)
			s |= MSTATUS_SPP;
		h->mstatus = s;
		h->priv = PRIV_S;
		h->pc = h->stvec & ~3ull;
	} else {
		if (h->sh->sbi_builtin) {
			/* no M-mode firmware to handle it */
			h->mcause = cause;
			h->mepc = epc;
			h->mtval = tval;
			h->dead = true;
			h->sh->ops->fatal(h->sh->opaque, h, "exception not delegated to S-mode with built-in SBI");
			hart_update_dpriv(h);
			return -1;
		}
		h->mcause = cause;
		h->mepc = epc;
		h->mtval = tval;
		/* The M-mode trap handler itself cannot be fetched: every further
		 * step would trap to the same place, forever. No architectural
		 * state can get the hart out, so the guest cannot continue. */
		if (h->priv == PRIV_M && (cause == EXC_INSN_ACCESS || cause == EXC_INSN_MISALIGNED) &&
		    epc == (h->mtvec & ~3ull)) {
			h->dead = true;
			h->sh->ops->fatal(h->sh->opaque, h, "the M-mode trap handler (mtvec) cannot be fetched");
			hart_update_dpriv(h);
			return -1;
		}
		uint64_t s = h->mstatus & ~(MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE);
		if (h->mstatus & MSTATUS_MIE)
			s |= MSTATUS_MPIE;
		s |= (uint64_t)h->priv << MSTATUS_MPP_SHIFT;
		h->mstatus = s;
		h->priv = PRIV_M;
		h->pc = h->mtvec & ~3ull;
	}
	hart_update_dpriv(h);
	return -1;
}

int hart_illegal(struct hart *h)
{
	return hart_exception(h, EXC_ILLEGAL_INSN, h->insn_bits);
}

static void take_interrupt(struct hart *h, unsigned cause)
{
	h->lr_valid = false;
	h->brk = true;
	h->wfi = false;
	if ((h->mideleg >> cause) & 1) {
		h->scause = (1ull << 63) | cause;
		h->sepc = h->pc;
		h->stval = 0;
		uint64_t s = h->mstatus & ~(MSTATUS_SPP | MSTATUS_SPIE | MSTATUS_SIE);
		if (h->mstatus & MSTATUS_SIE)
			s |= MSTATUS_SPIE;
		if (h->priv == PRIV_S)
			s |= MSTATUS_SPP;
		h->mstatus = s;
		h->priv = PRIV_S;
		h->pc = (h->stvec & ~3ull) + ((h->stvec & 1) ? 4ull * cause : 0);
	} else {
		h->mcause = (1ull << 63) | cause;
		h->mepc = h->pc;
		h->mtval = 0;
		uint64_t s = h->mstatus & ~(MSTATUS_MPP | MSTATUS_MPIE | MSTATUS_MIE);
		if (h->mstatus & MSTATUS_MIE)
			s |= MSTATUS_MPIE;
		s |= (uint64_t)h->priv << MSTATUS_MPP_SHIFT;
		h->mstatus = s;
		h->priv = PRIV_M;
		h->pc = (h->mtvec & ~3ull) + ((h->mtvec & 1) ? 4ull * cause : 0);
	}
	hart_update_dpriv(h);
}

/* Picks the highest-priority pending and enabled interrupt (privileged spec
 * 3.1.9: MEI, MSI, MTI, SEI, SSI, STI), or -1. */
static int pending_interrupt(const struct hart *h)
{
	uint64_t pend = atomic_load_explicit(&h->mip, memory_order_relaxed) & h->mie;
	if (!pend)
		return -1;
	uint64_t m = pend & ~h->mideleg;
	uint64_t s = pend & h->mideleg;
	if (!(h->priv < PRIV_M || (h->mstatus & MSTATUS_MIE)))
		m = 0;
	if (!(h->priv < PRIV_S || (h->priv == PRIV_S && (h->mstatus & MSTATUS_SIE))))
		s = 0;
	uint64_t sel = m ? m : s;
	if (!sel)
		return -1;
	static const unsigned order[] = { IRQ_M_EXT, IRQ_M_SOFT, IRQ_M_TIMER,
					  IRQ_S_EXT, IRQ_S_SOFT, IRQ_S_TIMER };
	for (unsigned i = 0; i < ARRAY_SIZE(order); i++)
		if ((sel >> order[i]) & 1)
			return (int)order[i];
	return -1;
}

static void set_mip_level(struct hart *h, uint64_t bit, bool level)
{
	if (level)
		atomic_fetch_or(&h->mip, bit);
	else
		atomic_fetch_and(&h->mip, ~bit);
}

void hart_update_timers(struct hart *h, uint64_t now)
{
	bool mt = now >= atomic_load(&h->mtimecmp);
	bool st = (h->menvcfg & MENVCFG_STCE) && now >= h->stimecmp;
	if (h->sh->sbi_builtin) {
		/* the built-in SBI forwards the M timer as STIP */
		set_mip_level(h, MIP_STIP, mt || st);
	} else {
		set_mip_level(h, MIP_MTIP, mt);
		if (h->menvcfg & MENVCFG_STCE)
			set_mip_level(h, MIP_STIP, st);
	}
}

/* Earliest timer deadline in mtime ticks that could wake the hart: only
 * timers whose interrupt is enabled in mie count (a compare value in the
 * past with its interrupt disabled must not turn WFI into a busy loop). */
static uint64_t next_deadline(const struct hart *h)
{
	uint64_t d = ~0ull;
	uint64_t mt_bit = h->sh->sbi_builtin ? MIP_STIP : MIP_MTIP;
	if (h->mie & mt_bit)
		d = atomic_load(&h->mtimecmp);
	if ((h->menvcfg & MENVCFG_STCE) && (h->mie & MIP_STIP) && h->stimecmp < d)
		d = h->stimecmp;
	return d;
}

static bool wake_condition(struct hart *h)
{
	return atomic_load(&h->sh->stop) || atomic_load(&h->kicked);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* The hart running on this thread, if any (for remote flush waits). */
static __thread struct hart *current_hart;

/* Performs the TLB flushes other threads asked for. On the hart's thread. */
static void serve_flush(struct hart *h)
{
	/* before the TLB flush's ack: a remote fence.i asks for both */
	uint64_t ig = atomic_load(&h->ifence_gen);
	if (ig != h->ifence_ack) {
		icache_fence(h);
		h->ifence_ack = ig;
	}
	uint64_t g = atomic_load(&h->flush_gen);
	if (g != atomic_load_explicit(&h->flush_ack, memory_order_relaxed)) {
		mmu_flush_paged(h);
		atomic_store(&h->flush_ack, g);
		if (atomic_load(&h->flush_waiters)) {
			pthread_mutex_lock(&h->lock);
			pthread_cond_broadcast(&h->ack_cond);
			pthread_mutex_unlock(&h->lock);
		}
	}
}

enum sleep_mode { SLEEP_WFI, SLEEP_STOPPED, SLEEP_DEAD };

/* Sleeps until woken by hart_kick/hart_set_irq, the timer deadline (WFI), a
 * change of HSM state (STOPPED), or MAX_SLEEP_NS. */
static void sleep_hart(struct hart *h, enum sleep_mode mode)
{
	bool irq_wakes = mode == SLEEP_WFI;
	pthread_mutex_lock(&h->lock);
	for (;;) {
		if (wake_condition(h))
			break;
		if (irq_wakes && (atomic_load(&h->mip) & h->mie))
			break;
		if (mode == SLEEP_STOPPED && atomic_load(&h->hsm_state) != HART_STOPPED)
			break;
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		int64_t now_ns = (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
		int64_t wait_ns = MAX_SLEEP_NS;
		if (irq_wakes) {
			uint64_t now = cpu_mtime(h->sh);
			uint64_t dl = next_deadline(h);
			if (dl <= now)
				break;
			if (dl - now < (uint64_t)MAX_SLEEP_NS / 100)
				wait_ns = (int64_t)(dl - now) * 100;
		}
		int64_t until = now_ns + wait_ns;
		ts.tv_sec = until / 1000000000ll;
		ts.tv_nsec = until % 1000000000ll;
		int r = pthread_cond_timedwait(&h->cond, &h->lock, &ts);
		if (r == ETIMEDOUT)
			break;
	}
	atomic_store(&h->kicked, false);
	pthread_mutex_unlock(&h->lock);
}

void hart_kick(struct hart *h)
{
	pthread_mutex_lock(&h->lock);
	atomic_store(&h->kicked, true);
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

void hart_set_irq(struct hart *h, uint64_t mip_bit, bool level)
{
	set_mip_level(h, mip_bit, level);
	if (level)
		hart_kick(h);
}

void hart_set_mtimecmp(struct hart *h, uint64_t value)
{
	atomic_store(&h->mtimecmp, value);
	uint64_t now = cpu_mtime(h->sh);
	bool due = now >= value;
	/* mtimecmp may be written by another hart's thread (ACLINT): only
	 * touch the bits it drives. */
	if (h->sh->sbi_builtin) {
		bool st = (h->menvcfg & MENVCFG_STCE) && now >= h->stimecmp;
		set_mip_level(h, MIP_STIP, due || st);
	} else {
		set_mip_level(h, MIP_MTIP, due);
	}
	hart_kick(h);
}

uint64_t hart_get_mtimecmp(const struct hart *h)
{
	return atomic_load(&((struct hart *)h)->mtimecmp);
}

void hart_request_tlb_flush(struct hart *h)
{
	/* SBI remote fences must be complete when the call returns (Linux
	 * changes PTEs right after), so wait until the target has flushed,
	 * unless it is outside its execution loop: then it flushes before it
	 * executes again (it reads flush_gen after setting in_exec). */
	uint64_t g = atomic_fetch_add(&h->flush_gen, 1) + 1;
	struct hart *me = current_hart;
	if (h == me) {
		serve_flush(h);
		return;
	}
	hart_kick(h);
	/* While it waits, the calling hart executes nothing: others need not
	 * wait for its acks (it serves their requests below before it executes
	 * again), so two harts flushing each other cannot deadlock, and it may
	 * sleep: the target may be waiting for a host CPU (harts can outnumber
	 * host cores), and spinning would take that CPU from it. */
	if (me)
		atomic_store(&me->in_exec, false);
	unsigned spins = 0;
	while (atomic_load(&h->in_exec) && atomic_load(&h->flush_ack) < g && !atomic_load(&h->sh->stop)) {
		if (++spins <= 64) {
			cpu_relax();
			continue;
		}
		atomic_fetch_add(&h->flush_waiters, 1);
		pthread_mutex_lock(&h->lock);
		if (atomic_load(&h->in_exec) && atomic_load(&h->flush_ack) < g && !atomic_load(&h->sh->stop)) {
			/* serve_flush signals; the timeout covers a target that went to
			 * sleep without acking (it flushes before it executes again) */
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_nsec += 1000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&h->ack_cond, &h->lock, &ts);
		}
		pthread_mutex_unlock(&h->lock);
		atomic_fetch_sub(&h->flush_waiters, 1);
	}
	if (me) {
		atomic_store(&me->in_exec, true);
		serve_flush(me);
	}
}

void hart_request_ifence(struct hart *h)
{
	atomic_fetch_add(&h->ifence_gen, 1);
	hart_request_tlb_flush(h);
}

int hart_start(struct hart *h, uint64_t pc, uint64_t opaque)
{
	pthread_mutex_lock(&h->lock);
	int expected = HART_STOPPED;
	if (!atomic_compare_exchange_strong(&h->hsm_state, &expected, HART_START_PENDING)) {
		pthread_mutex_unlock(&h->lock);
		return -1;
	}
	h->start_pc = pc;
	h->start_opaque = opaque;
	pthread_cond_signal(&h->cond);
	pthread_mutex_unlock(&h->lock);
	return 0;
}

void hart_stop_self(struct hart *h)
{
	atomic_store(&h->hsm_state, HART_STOP_PENDING);
	h->brk = true;
}

int hart_get_state(const struct hart *h)
{
	return atomic_load(&((struct hart *)h)->hsm_state);
}

uint64_t hart_get_reg(const struct hart *h, unsigned reg)
{
	return reg < 32 ? h->x[reg] : 0;
}

void hart_set_reg(struct hart *h, unsigned reg, uint64_t v)
{
	if (reg > 0 && reg < 32)
		h->x[reg] = v;
}

unsigned hart_get_id(const struct hart *h)
{
	return h->hartid;
}

uint64_t hart_get_pc(const struct hart *h)
{
	return h->pc;
}

void hart_run(struct hart *h)
{
	current_hart = h;
	while (!atomic_load(&h->sh->stop)) {
		int st = atomic_load(&h->hsm_state);
		if (st == HART_STOP_PENDING) {
			atomic_store(&h->hsm_state, HART_STOPPED);
			continue;
		}
		if (st == HART_START_PENDING) {
			pthread_mutex_lock(&h->lock);
			uint64_t pc = h->start_pc, op = h->start_opaque;
			pthread_mutex_unlock(&h->lock);
			hart_enter_supervisor(h, pc, op);
			continue;
		}
		atomic_store(&h->in_exec, true);
		/* a quiescent point: our earlier stores are visible (icache.c) */
		atomic_store(&h->q_watch, atomic_load(&h->sh->watch_seq));
		serve_flush(h);
		if (st != HART_STARTED || h->dead) {
			atomic_store(&h->in_exec, false);
			sleep_hart(h, h->dead ? SLEEP_DEAD : SLEEP_STOPPED);
			continue;
		}
		atomic_store(&h->kicked, false);
		hart_update_timers(h, cpu_mtime(h->sh));
		if (h->wfi) {
			if (!(atomic_load(&h->mip) & h->mie)) {
				icache_idle(h, cpu_mtime(h->sh));
				atomic_store(&h->in_exec, false);
				sleep_hart(h, SLEEP_WFI);
				continue;
			}
			h->wfi = false;
		}
		int irq = pending_interrupt(h);
		if (irq >= 0)
			take_interrupt(h, (unsigned)irq);
		h->brk = false;
		hart_exec_slice(h, SLICE_INSNS);
		if (h->yield) {
			/* the guest spins (PAUSE) on something another thread will
			 * change: let that thread have the host CPU */
			h->yield = false;
			sched_yield();
		}
	}
	atomic_store(&h->in_exec, false);
	current_hart = NULL;
}
