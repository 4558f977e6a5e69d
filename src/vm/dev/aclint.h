/* SiFive CLINT / ACLINT (MSWI + MTIMER) as on QEMU's virt board.
 *
 * msip[hart] at +0x0 + 4*hart, mtimecmp[hart] at +0x4000 + 8*hart,
 * mtime at +0xbff8, 10 MHz. mtime is derived from the host monotonic clock
 * (cpu_mtime); mtimecmp lives in each hart, which raises its own timer
 * interrupt (hart_set_mtimecmp).
 */
#ifndef VESSEL_VM_DEV_ACLINT_H
#define VESSEL_VM_DEV_ACLINT_H

#include "vm/cpu/cpu.h"
#include "vm/dev/dev.h"

#define ACLINT_BASE_GPA 0x02000000ull
#define ACLINT_SIZE 0x10000ull
#define ACLINT_MAX_HARTS 8
#define ACLINT_MTIMECMP_OFF 0x4000u
#define ACLINT_MTIME_OFF 0xbff8u
/* Largest mtime a saved state may carry (2^56 ticks, 228 years). */
#define ACLINT_MAX_MTIME (1ull << 56)

struct aclint_state {
	uint32_t nr_harts;
	uint32_t msip[ACLINT_MAX_HARTS];
	uint64_t mtimecmp[ACLINT_MAX_HARTS];
	uint64_t mtime; /* only meaningful inside a saved state */
};

struct aclint {
	struct aclint_state s;
	struct cpu_shared *sh; /* borrowed: harts and the time base */
};

extern const struct dev_ops aclint_ops;

/* Initializes the device for sh->nr_harts harts (at most ACLINT_MAX_HARTS). */
void aclint_init(struct aclint *a, struct cpu_shared *sh);

#endif
