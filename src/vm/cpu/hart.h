/* Private definition of the hart and the helpers shared by the files of
 * src/vm/cpu (interpreter, CSRs, MMU, traps). Only src/vm/cpu and the board's
 * SBI code (which reads h->x[]) include it; everything else uses cpu.h. */
#ifndef VESSEL_VM_CPU_HART_H
#define VESSEL_VM_CPU_HART_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "vm/cpu/cpu.h"
#include "vm/cpu/fpu.h"

/* Exception causes (privileged spec, table "mcause values"). */
enum {
	EXC_INSN_MISALIGNED = 0,
	EXC_INSN_ACCESS = 1,
	EXC_ILLEGAL_INSN = 2,
	EXC_BREAKPOINT = 3,
	EXC_LOAD_MISALIGNED = 4,
	EXC_LOAD_ACCESS = 5,
	EXC_STORE_MISALIGNED = 6,
	EXC_STORE_ACCESS = 7,
	EXC_ECALL_U = 8,
	EXC_ECALL_S = 9,
	EXC_ECALL_M = 11,
	EXC_INSN_PAGE_FAULT = 12,
	EXC_LOAD_PAGE_FAULT = 13,
	EXC_STORE_PAGE_FAULT = 15,
};

/* Interrupt causes. */
enum { IRQ_S_SOFT = 1, IRQ_M_SOFT = 3, IRQ_S_TIMER = 5, IRQ_M_TIMER = 7, IRQ_S_EXT = 9, IRQ_M_EXT = 11 };

/* mstatus fields */
#define MSTATUS_SIE (1ull << 1)
#define MSTATUS_MIE (1ull << 3)
#define MSTATUS_SPIE (1ull << 5)
#define MSTATUS_MPIE (1ull << 7)
#define MSTATUS_SPP (1ull << 8)
#define MSTATUS_MPP_SHIFT 11
#define MSTATUS_MPP (3ull << 11)
#define MSTATUS_FS_SHIFT 13
#define MSTATUS_FS (3ull << 13)
#define MSTATUS_XS (3ull << 15)
#define MSTATUS_MPRV (1ull << 17)
#define MSTATUS_SUM (1ull << 18)
#define MSTATUS_MXR (1ull << 19)
#define MSTATUS_TVM (1ull << 20)
#define MSTATUS_TW (1ull << 21)
#define MSTATUS_TSR (1ull << 22)
#define MSTATUS_UXL (3ull << 32)
#define MSTATUS_SXL (3ull << 34)
#define MSTATUS_SD (1ull << 63)

#define MENVCFG_STCE (1ull << 63)

/* Access types for translation. */
enum { ACC_R = 0, ACC_W = 1, ACC_X = 2 };

#define TLB_BITS 8
#define TLB_SIZE (1u << TLB_BITS)
#define TLB_INVALID (~0ull)

/* One direct-mapped software TLB entry: a guest-virtual 4 KiB page that maps
 * to RAM. A tag equals the page's gva when that access type is allowed for the
 * privilege level owning the TLB set (SUM/MXR/A/D were checked at fill time;
 * changing them flushes). hva = gva + addend. */
struct tlb_entry {
	uint64_t tag_r;
	uint64_t tag_w;
	uint64_t tag_x;
	uintptr_t addend;
};

/* --- the decoded-instruction cache (icache.c, exec.c) ---
 *
 * Each hart decodes guest instructions once into struct dinsn slots, one
 * slot per 2-byte offset of a 4 KiB guest-PHYSICAL page (a block), and then
 * executes from the slots. Blocks live in a fixed per-hart pool, found
 * through a direct-mapped table by RAM page number; see docs/vm.md for the
 * invalidation rules (writes, fence.i, remote fence.i). */
#define ICACHE_SLOTS 2048 /* 4 KiB / 2 */
#define ICACHE_BLOCKS 256 /* per hart: 256 x 16 KiB = 4 MiB at most, trimmed when idle */
#define ICACHE_MAP 4096   /* direct-mapped index, by RAM page number */
#define ICACHE_NONE (~0ull)

/* One pre-decoded instruction. `op` indexes the interpreter's handlers
 * (exec.c), one per instruction and length; 0 means "not decoded yet". Formats without an rs2 keep the
 * immediate in imm; R-type keeps rs2 in imm; S- and B-type keep rs2 in rd.
 * A destination x0 is decoded as 32 (struct hart's xs[32], a sink).
 * Instructions executed by the generic path keep their raw bits in imm. */
struct dinsn {
	uint8_t op;
	uint8_t len; /* 2 or 4 */
	uint8_t rd;
	uint8_t rs1;
	int32_t imm;
};

struct icache_meta {
	uint64_t page;      /* RAM page number ((gpa - base) >> 12) or ICACHE_NONE */
	const uint8_t *hva; /* host address of the page */
	uint64_t epoch;     /* == hart's icache_epoch while valid */
	bool used;          /* entered since the clock hand last passed */
	bool dirty;         /* slots may be non-zero (else: never written since trim) */
};

struct hart {
	union {
		uint64_t x[32];
		/* x[] plus a sink: decoded instructions with rd = x0 write xs[32] */
		uint64_t xs[33];
	};
	uint64_t pc;
	struct fpu_state fp;
	unsigned priv;  /* PRIV_U/S/M */
	unsigned dpriv; /* effective privilege of loads/stores (MPRV) */
	bool brk;       /* leave the current execution slice */
	bool wfi;       /* sleeping in WFI */
	bool dead;      /* unrecoverable: wait for sh->stop */

	struct cpu_shared *sh;
	unsigned hartid;
	uint8_t *ram_hva;
	uint64_t ram_base_gpa;
	uint64_t ram_size;

	/* CSRs */
	uint64_t mstatus;
	uint64_t medeleg, mideleg, mie;
	_Atomic uint64_t mip;
	uint64_t mtvec, stvec, mscratch, sscratch, mepc, sepc;
	uint64_t mcause, scause, mtval, stval, satp;
	uint64_t mcounteren, scounteren, mcountinhibit, menvcfg, senvcfg;
	uint64_t stimecmp;
	uint64_t cycle_offset; /* mcycle = instret + cycle_offset */
	uint64_t instret;
	uint8_t pmpcfg[64];
	uint64_t pmpaddr[64];
	_Atomic uint64_t mtimecmp;

	/* LR/SC reservation */
	bool lr_valid;
	uint8_t lr_size;
	uint64_t lr_addr;
	uint64_t lr_val;

	/* the instruction being executed (for illegal-instruction tval) */
	uint32_t insn_bits;

	/* cross-thread requests */
	atomic_int hsm_state;
	/* remote TLB flushes: requesters bump flush_gen and wait for flush_ack
	 * while the hart is inside its execution loop (in_exec) */
	_Atomic uint64_t flush_gen;
	_Atomic uint64_t flush_ack;
	atomic_bool in_exec;
	atomic_bool kicked;
	uint64_t start_pc, start_opaque;
	bool tlb_super; /* some TLB entry comes from a superpage */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_cond_t ack_cond;      /* flush_ack advanced (with lock) */
	atomic_int flush_waiters;     /* threads sleeping on ack_cond */
	unsigned pauses;              /* PAUSE instructions executed */
	bool yield;                   /* yield the host CPU after this slice */

	/* requests for a fence.i from other harts (SBI remote fence.i) */
	_Atomic uint64_t ifence_gen;
	uint64_t ifence_ack;

	/* decoded-instruction cache (icache.c) */
	uint8_t code_bit;             /* this hart's bit in sh->code_pages */
	_Atomic uint64_t q_watch;     /* sh->watch_seq seen at the last slice start */
	uint64_t clean_seq;           /* sh->watch_seq after which a fence.i flushed */
	uint64_t icache_epoch;        /* bumped by fence.i: every block is stale */
	unsigned icache_hand;         /* next victim of the pool */
	uint64_t icache_trim_mtime;   /* mtime of the last icache_trim */
	struct dinsn (*icache_slots)[ICACHE_SLOTS]; /* ICACHE_BLOCKS blocks, lazily backed */
	struct icache_meta icache_meta[ICACHE_BLOCKS];
	uint16_t icache_map[ICACHE_MAP]; /* block index + 1, or 0 */

	struct tlb_entry tlb[4][TLB_SIZE]; /* indexed by privilege (0 U, 1 S, 3 M) */
};

/* --- traps (hart.c) --- */

/* Takes an exception at h->pc: updates the trap CSRs, privilege and pc.
 * Always returns -1 so faulting paths can `return hart_exception(...)`. */
int hart_exception(struct hart *h, uint64_t cause, uint64_t tval);
/* Illegal instruction with tval = the current instruction's bits. */
int hart_illegal(struct hart *h);
/* Recomputes dpriv after a change of priv or mstatus.MPRV/MPP. */
void hart_update_dpriv(struct hart *h);
/* Recomputes the timer-driven mip bits (MTIP, STIP) from mtime. */
void hart_update_timers(struct hart *h, uint64_t now);
/* Executes up to n instructions or until h->brk (exec.c). */
void hart_exec_slice(struct hart *h, unsigned n);
/* One-time set-up of the interpreter's tables; thread-safe, idempotent. */
void hart_exec_init(void);

/* --- decoded-instruction cache (icache.c) --- */

/* Allocates the hart's block pool (and sh->code_pages for the first hart);
 * returns 0 or -ENOMEM. icache_fini undoes it (accepts a hart that has none). */
int icache_init(struct hart *h);
void icache_fini(struct hart *h);
/* The block of the RAM page at host address page_hva (page number `page`):
 * a valid one, found or (re)built empty. Returns its slots. */
struct dinsn *icache_block(struct hart *h, uint64_t page, const uint8_t *page_hva);
/* Every block becomes stale (rebuilt on next use): reset, new RAM. */
void icache_flush(struct hart *h);
/* Called when the hart goes to sleep in WFI: at most once a second (now_mtime
 * in 10 MHz ticks), gives the memory of a pool that grew past what an idle
 * guest needs back to the host (the blocks are rebuilt on use). */
void icache_idle(struct hart *h, uint64_t now_mtime);
/* fence.i on this hart (own or remote): after it, the hart executes no
 * decoded instruction older than a store that happened before. Ends the
 * slice. */
void icache_fence(struct hart *h);
/* Called after this hart stored [gpa, gpa+len) to RAM outside the fast TLB
 * path: when the bytes lie in a code page, drops the other harts' decoded
 * copies of it and resets the slots of this hart's copy that overlap. */
void icache_note_store(struct hart *h, uint64_t gpa, uint64_t len);
static inline bool icache_page_watched(const struct hart *h, uint64_t gpa)
{
	uint64_t p = (gpa - h->ram_base_gpa) >> 12;
	return p < h->sh->code_pages_len &&
	       atomic_load_explicit(&h->sh->code_pages[p], memory_order_relaxed) != 0;
}

/* --- CSRs (csr.c) --- */

/* Reads/writes a CSR with the privilege checks of the privileged spec
 * ("CSR address mapping conventions"). Return 0, or -1 when the access is
 * illegal (no trap is taken; the caller raises it). */
int csr_read(struct hart *h, unsigned csr, uint64_t *val);
int csr_write(struct hart *h, unsigned csr, uint64_t val);
/* sstatus/mstatus SD bit refresh after FS changes. */
static inline void hart_fs_dirty(struct hart *h)
{
	h->mstatus |= MSTATUS_FS | MSTATUS_SD;
}

/* --- MMU (mmu.c) --- */

/* Drops every TLB entry of this hart. */
void mmu_flush_all(struct hart *h);
/* Drops the entries of translated (S and U) accesses: after satp, SUM, MXR
 * changes and SFENCE.VMA without an address. */
void mmu_flush_paged(struct hart *h);
/* SFENCE.VMA with an address: drops that page (or everything if superpage
 * entries may cover it). */
void mmu_flush_page(struct hart *h, uint64_t gva);
/* Slow paths: translate, fill the TLB, emulate misaligned accesses and MMIO.
 * They take the trap on a fault and return -1; 0 on success. */
int mmu_load_slow(struct hart *h, uint64_t gva, unsigned size, uint64_t *val);
int mmu_store_slow(struct hart *h, uint64_t gva, unsigned size, uint64_t val);
/* Makes sure the TLB of h->priv has an execute entry for the RAM page of
 * gva, or takes the fetch fault (page, access: not RAM) for gva. */
int mmu_fetch_page(struct hart *h, uint64_t gva);
/* Fetches the instruction at h->pc (16 or 32 bits) into *insn. */
int mmu_fetch_slow(struct hart *h, uint32_t *insn);
/* Host pointer of a naturally aligned RAM location for an LR (is_lr, load
 * permission) or SC/AMO (store permission). Returns NULL after taking the
 * trap (misaligned, page fault, access fault for MMIO). */
void *mmu_atomic_hva(struct hart *h, uint64_t gva, unsigned size, bool is_lr);
/* Guest-physical translation without side effects other than A/D updates;
 * returns 0 or the exception cause. Exposed for tests. */
int mmu_translate(struct hart *h, uint64_t gva, int acc, unsigned priv, uint64_t *gpa);

static inline bool hart_gpa_in_ram(const struct hart *h, uint64_t gpa, uint64_t len)
{
	return gpa >= h->ram_base_gpa && gpa - h->ram_base_gpa < h->ram_size &&
	       h->ram_size - (gpa - h->ram_base_gpa) >= len;
}

#endif
