/* Device tree of the virt board, generated with libfdt in the layout of
 * QEMU's `virt` machine (only what exists here: cpus, memory, CLINT, PLIC,
 * NS16550A, goldfish RTC, sifive,test1 syscon with poweroff/reboot). */
#ifndef VESSEL_VM_MACHINE_FDT_H
#define VESSEL_VM_MACHINE_FDT_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct vm_fdt_info {
	uint64_t ram_base_gpa, ram_size;
	unsigned nr_harts;
	const char *bootargs;                 /* may be NULL */
	uint64_t initrd_start_gpa, initrd_end_gpa; /* 0, 0 when none */
	unsigned nr_virtio;                   /* virtio-mmio slots in use, from 0 */
};

/* The ISA string and extension list the device tree advertises; exactly
 * what the hart implements (canonical order, DESIGN.md pitfalls). */
extern const char vm_fdt_isa[];

/* Builds the DTB. On success *out is a malloc'd blob of *out_len bytes
 * (caller frees) and 0 is returned; on failure -1 and *err. */
int vm_fdt_build(const struct vm_fdt_info *info, void **out, size_t *out_len, struct verr **err);

#endif
