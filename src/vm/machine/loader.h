/* Loading guest images (kernel, firmware, initrd) into guest RAM.
 *
 * Files are untrusted: every size and address is checked against the RAM
 * window before a byte is copied; data goes straight from the file into
 * guest RAM (no host buffer sized by the file).
 */
#ifndef VESSEL_VM_MACHINE_LOADER_H
#define VESSEL_VM_MACHINE_LOADER_H

#include <stdint.h>

#include "base/err.h"

/* A guest RAM window: the RAM mapping and the part an image may occupy. */
struct vm_ram {
	uint8_t *hva;
	uint64_t base_gpa, size;
};

struct vm_image {
	uint64_t entry_gpa;
	uint64_t start_gpa, end_gpa; /* lowest and highest+1 byte used (incl. bss) */
	const char *kind;            /* "elf", "linux-image", "raw" (static) */
};

/* Loads a kernel or firmware: an ELF64 RISC-V executable (PT_LOAD segments
 * at their physical addresses), a RISC-V Linux Image (at load_gpa; its
 * image_size must fit), or else a raw binary at load_gpa. Everything must
 * lie inside [load_min_gpa, limit_gpa) and in RAM. Returns 0 and fills
 * *out, or -1 and *err. */
int vm_load_image(const struct vm_ram *ram, const char *path, uint64_t load_gpa, uint64_t load_min_gpa,
		  uint64_t limit_gpa, struct vm_image *out, struct verr **err);

/* Loads a file as is, ending at or below top_gpa, start aligned down to
 * `align` (a power of two), not below min_gpa. For the initrd. */
int vm_load_blob_high(const struct vm_ram *ram, const char *path, uint64_t min_gpa, uint64_t top_gpa,
		      uint64_t align, struct vm_image *out, struct verr **err);

#endif
