/* SiFive test device (sifive,test1) used as syscon for poweroff/reboot, as
 * on QEMU's virt board at 0x0010_0000. A 32-bit write at offset 0:
 *   0x5555             -> power off, exit status 0
 *   0x7777             -> reset the machine
 *   (code << 16) | 0x3333 -> the guest reports failure: exit status = code
 * Anything else is ignored.
 */
#ifndef VESSEL_VM_DEV_SYSCON_H
#define VESSEL_VM_DEV_SYSCON_H

#include "vm/dev/dev.h"

#define SYSCON_BASE_GPA 0x00100000ull
#define SYSCON_SIZE 0x1000ull

enum syscon_action { SYSCON_POWEROFF, SYSCON_RESET, SYSCON_FAIL };

struct syscon {
	/* Called with the board lock held; code is the failure code (FAIL). */
	void (*request)(void *opaque, enum syscon_action action, uint32_t code);
	void *opaque;
};

extern const struct dev_ops syscon_ops;

#endif
