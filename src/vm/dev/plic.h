/* SiFive-compatible PLIC as on QEMU's virt board (riscv,plic0).
 *
 * Layout (SiFive PLIC, as QEMU virt): source priorities at 0x0 + 4*src,
 * pending bits at 0x1000, per-context enables at 0x2000 + 0x80*ctx,
 * per-context threshold at 0x200000 + 0x1000*ctx and claim/complete at +4.
 * Two contexts per hart: 2*hart is M-mode (MEIP), 2*hart+1 is S-mode (SEIP).
 * Sources are level-triggered; source 0 does not exist.
 */
#ifndef VESSEL_VM_DEV_PLIC_H
#define VESSEL_VM_DEV_PLIC_H

#include "vm/dev/dev.h"

#define PLIC_BASE_GPA 0x0c000000ull
#define PLIC_SIZE 0x600000ull
#define PLIC_NR_SOURCES 96 /* ids 1..95 usable; riscv,ndev = 95 */
#define PLIC_MAX_CONTEXTS 16
#define PLIC_MAX_PRIORITY 7
#define PLIC_WORDS (PLIC_NR_SOURCES / 32)

struct plic_state {
	uint32_t priority[PLIC_NR_SOURCES];
	uint32_t pending[PLIC_WORDS];
	uint32_t level[PLIC_WORDS];   /* current input line levels */
	uint32_t claimed[PLIC_WORDS]; /* claimed, not yet completed */
	uint32_t enable[PLIC_MAX_CONTEXTS][PLIC_WORDS];
	uint32_t threshold[PLIC_MAX_CONTEXTS];
	uint32_t nr_contexts;
};

struct plic {
	struct plic_state s;
	struct irq_line out[PLIC_MAX_CONTEXTS]; /* context -> hart MEIP/SEIP */
};

extern const struct dev_ops plic_ops;

/* Initializes a PLIC with nr_contexts (<= PLIC_MAX_CONTEXTS) outputs; the
 * caller fills p->out[] afterwards. */
void plic_init(struct plic *p, unsigned nr_contexts);

/* Sets the level of input `src` (1..PLIC_NR_SOURCES-1); out-of-range ids are
 * ignored. Signature matches irq_line.set with opaque = the plic. */
void plic_set_irq(void *plic, unsigned src, bool level);

#endif
