/* Built-in SBI implementation (RISC-V SBI spec v2.0), used when no M-mode
 * firmware is loaded: the hart hands every S-mode ecall to the board, which
 * calls sbi_handle_call().
 *
 * Extensions: base, legacy 0x00-0x08 (console, timer, clear_ipi, shutdown),
 * TIME, IPI, RFENCE, HSM, SRST, DBCN. Anything else returns
 * SBI_ERR_NOT_SUPPORTED.
 */
#ifndef VESSEL_VM_MACHINE_SBI_H
#define VESSEL_VM_MACHINE_SBI_H

#include <stdint.h>

#include "vm/cpu/cpu.h"

#define SBI_SUCCESS 0
#define SBI_ERR_FAILED (-1)
#define SBI_ERR_NOT_SUPPORTED (-2)
#define SBI_ERR_INVALID_PARAM (-3)
#define SBI_ERR_DENIED (-4)
#define SBI_ERR_INVALID_ADDRESS (-5)
#define SBI_ERR_ALREADY_AVAILABLE (-6)

#define SBI_EXT_BASE 0x10
#define SBI_EXT_TIME 0x54494D45
#define SBI_EXT_IPI 0x735049
#define SBI_EXT_RFENCE 0x52464E43
#define SBI_EXT_HSM 0x48534D
#define SBI_EXT_SRST 0x53525354
#define SBI_EXT_DBCN 0x4442434E

#define SBI_SPEC_VERSION ((2u << 24) | 0u) /* 2.0 */
#define SBI_IMPL_ID 0x56455353u             /* "VESS": not a registered id */

enum sbi_reset_type { SBI_RESET_SHUTDOWN = 0, SBI_RESET_COLD = 1, SBI_RESET_WARM = 2 };

/* What the SBI needs from the board. Callbacks run on the calling hart's
 * thread. */
struct sbi_env {
	struct cpu_shared *sh; /* borrowed: harts, RAM */
	void (*console_write)(void *opaque, const uint8_t *buf, size_t len);
	/* Up to len bytes of console input; returns the count (0 if none). */
	size_t (*console_read)(void *opaque, uint8_t *buf, size_t len);
	/* SRST / legacy shutdown: type is enum sbi_reset_type, reason the SBI
	 * reset reason (0 none, 1 system failure). */
	void (*system_reset)(void *opaque, uint32_t type, uint32_t reason);
	void *opaque;
};

/* Handles the ecall the hart h just made: reads a0-a7, writes a0 (error)
 * and a1 (value), or only a0 for legacy extensions. */
void sbi_handle_call(const struct sbi_env *env, struct hart *h);

#endif
