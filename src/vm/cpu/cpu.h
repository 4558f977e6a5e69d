/* RISC-V RV64GC hart: the public contract between the CPU and the board.
 *
 * The CPU knows nothing of devices. It sees guest RAM as one host mapping
 * (struct cpu_shared) and everything else through cpu_platform_ops. One host
 * thread runs each hart (hart_run); other threads (devices, other harts, the
 * control plane) only touch a hart through the functions marked
 * "thread-safe" below.
 *
 * Address-space naming: _gpa guest physical, _gva guest virtual, _hva host.
 */
#ifndef VESSEL_VM_CPU_H
#define VESSEL_VM_CPU_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct hart;
struct state_buf;

/* Privilege levels (encoding of mstatus.MPP). */
enum { PRIV_U = 0, PRIV_S = 1, PRIV_M = 3 };

/* mip/mie bits. */
#define MIP_SSIP (1ull << 1)
#define MIP_MSIP (1ull << 3)
#define MIP_STIP (1ull << 5)
#define MIP_MTIP (1ull << 7)
#define MIP_SEIP (1ull << 9)
#define MIP_MEIP (1ull << 11)

/* What the board provides to the CPU. All callbacks may be called from any
 * hart thread concurrently; the board serializes its devices itself. */
struct cpu_platform_ops {
	/* Access to a guest-physical address outside RAM; size is 1, 2, 4 or 8
	 * and the address is naturally aligned. Return 0, or -1 for an access
	 * fault (the CPU raises it). */
	int (*mmio_read)(void *opaque, struct hart *h, uint64_t gpa, unsigned size, uint64_t *val);
	int (*mmio_write)(void *opaque, struct hart *h, uint64_t gpa, unsigned size, uint64_t val);
	/* ecall from S-mode when the board implements the SBI itself (no M-mode
	 * firmware loaded). Reads a0-a7 (h->x[10..17]), writes a0/a1. The CPU
	 * then continues after the ecall. */
	void (*sbi_call)(void *opaque, struct hart *h);
	/* Called when the guest cannot continue (e.g. M-mode trap with no
	 * handler loop detected). `why` is a static string. */
	void (*fatal)(void *opaque, struct hart *h, const char *why);
};

/* State shared by all harts of one machine. Owned by the board. */
struct cpu_shared {
	uint8_t *ram_hva;      /* host mapping of guest RAM */
	uint64_t ram_base_gpa; /* 0x80000000 on the virt board */
	uint64_t ram_size;     /* bytes */
	/* mtime = (host CLOCK_MONOTONIC ns - time_base_ns) / 100 (10 MHz).
	 * A restore moves time_base_ns so the guest's time continues. */
	int64_t time_base_ns;
	bool sbi_builtin;      /* true: the board's SBI runs in place of M-mode firmware */
	const struct cpu_platform_ops *ops;
	void *opaque;
	struct hart **harts;
	unsigned nr_harts;
	atomic_bool stop;      /* set by the board: every hart_run returns */
	/* Owned by the CPU (allocated by the first hart_create, freed with the
	 * last hart_destroy): one byte per 4 KiB page of RAM, bit (hartid % 8)
	 * set while that hart may hold pre-decoded instructions of the page.
	 * Such a page is "write-watched": no hart's TLB holds a fast write
	 * entry for it, writes take the slow path and clear the bits, and a
	 * hart re-decodes a page whose bit it finds cleared. */
	_Atomic uint8_t *code_pages;
	uint64_t code_pages_len; /* entries of code_pages */
	unsigned code_users;     /* harts sharing code_pages */
	_Atomic uint64_t watch_seq; /* pages that became watched with other harts running */
};

/* Tells the CPU that something other than a hart's store instruction (a
 * device's DMA, the loader, a restore) wrote guest RAM [gpa, gpa+len), so
 * that no hart keeps executing instructions it decoded from the old bytes:
 * every hart re-decodes such a page before it next enters it and at its
 * next execution slice (tens of microseconds) at the latest. Call it after
 * the write. Cheap when the range holds no code (one byte load per page).
 * Thread-safe; addresses outside RAM are ignored. */
static inline void cpu_note_ram_write(struct cpu_shared *sh, uint64_t gpa, uint64_t len)
{
	if (!sh || !sh->code_pages || !len || gpa < sh->ram_base_gpa)
		return;
	/* the caller's stores before our loads of the bits (a hart sets its
	 * bit, then reads the code) */
	atomic_thread_fence(memory_order_seq_cst);
	uint64_t first = (gpa - sh->ram_base_gpa) >> 12;
	uint64_t last = (gpa - sh->ram_base_gpa + (len - 1)) >> 12;
	if (last < first) /* wrapped */
		last = UINT64_MAX;
	for (uint64_t p = first; p <= last && p < sh->code_pages_len; p++)
		if (atomic_load_explicit(&sh->code_pages[p], memory_order_relaxed))
			atomic_store(&sh->code_pages[p], 0);
}

/* Current mtime of the machine (10 MHz ticks). Thread-safe. */
uint64_t cpu_mtime(const struct cpu_shared *sh);

/* HSM states (SBI HSM extension numbering). */
enum { HART_STARTED = 0, HART_STOPPED = 1, HART_START_PENDING = 2, HART_STOP_PENDING = 3,
       HART_SUSPENDED = 4 };

/* Allocates and resets a hart. Caller frees with hart_destroy(). */
struct hart *hart_create(struct cpu_shared *sh, unsigned hartid);
void hart_destroy(struct hart *h);

/* Resets architectural state: M-mode, pc = reset_pc, a0 = hartid, a1 = a1.
 * With sh->sbi_builtin, the board calls hart_enter_supervisor() instead. */
void hart_reset(struct hart *h, uint64_t reset_pc, uint64_t a1);

/* Puts the hart in S-mode at pc with a0 = hartid, a1 = opaque, satp = 0,
 * interrupts delegated as an SBI implementation would leave them
 * (used by the built-in SBI for boot and for HSM hart_start). */
void hart_enter_supervisor(struct hart *h, uint64_t pc, uint64_t opaque);

/* Runs the hart on the calling thread until sh->stop is set. A hart in the
 * HSM STOPPED state sleeps until hart_start(); a hart in WFI sleeps until an
 * interrupt is pending or its timer is due. */
void hart_run(struct hart *h);

/* Thread-safe: raise (level=true) or lower a mip bit that a device drives
 * (MEIP, SEIP, MSIP; SSIP for IPIs sent through the built-in SBI) and wake
 * the hart if it sleeps. */
void hart_set_irq(struct hart *h, uint64_t mip_bit, bool level);

/* Thread-safe: mtimecmp of this hart (ACLINT register; also the SBI
 * set_timer value). The hart raises MTIP when mtime >= mtimecmp; with
 * sh->sbi_builtin it raises STIP instead (as M-mode firmware forwarding the
 * timer would), and setting a new value clears that STIP. */
void hart_set_mtimecmp(struct hart *h, uint64_t value);
uint64_t hart_get_mtimecmp(const struct hart *h);

/* Thread-safe: wake the hart so it re-checks interrupts, stop and requests. */
void hart_kick(struct hart *h);

/* Thread-safe: ask the hart to flush its TLB before its next instruction
 * (SBI remote fences). */
void hart_request_tlb_flush(struct hart *h);

/* Thread-safe: a fence.i on the hart (SBI remote fence.i): it drops every
 * instruction it decoded. Like hart_request_tlb_flush (which it includes),
 * done when the call returns unless the hart is outside its execution loop,
 * which then serves it before it executes again. */
void hart_request_ifence(struct hart *h);

/* Thread-safe HSM: start a STOPPED hart in S-mode at pc with a1 = opaque.
 * Returns 0, or -1 if it was not stopped. */
int hart_start(struct hart *h, uint64_t pc, uint64_t opaque);
/* Called on the hart's own thread (SBI hart_stop): the hart stops after the
 * current instruction. */
void hart_stop_self(struct hart *h);
int hart_get_state(const struct hart *h);

/* Accessors for the board's SBI code and tests. */
uint64_t hart_get_reg(const struct hart *h, unsigned reg);
void hart_set_reg(struct hart *h, unsigned reg, uint64_t v);
unsigned hart_get_id(const struct hart *h);
uint64_t hart_get_pc(const struct hart *h);

/* Snapshots and migration (hart_state.c). The hart's thread must not be
 * running. save appends the architectural state (registers, pc, privilege,
 * every CSR incl. mtimecmp/stimecmp, fcsr, WFI and HSM state; not the TLB or
 * the LR reservation) to b in an explicit little-endian layout. load
 * validates bytes from a file or a socket and installs them, or returns -1
 * with *err (EINVAL) leaving the hart unchanged. */
void hart_save_state(const struct hart *h, struct state_buf *b);
int hart_load_state(struct hart *h, const void *data, size_t len, struct verr **err);

#endif
