/* Fuzzes the guest image loader (ELF, RISC-V Linux Image, raw) with hostile
 * files: nothing may be written outside the RAM window, and any input is
 * either loaded inside it or refused with an error. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/err.h"
#include "vm/machine/loader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_SIZE (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	static int fd = -1;
	static char path[64];
	if (!ram) {
		ram = malloc(RAM_SIZE);
		fd = memfd_create("fuzz-image", 0);
		if (!ram || fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	struct vm_ram r = { ram, 0x80000000, RAM_SIZE };
	struct vm_image img;
	struct verr *err = NULL;
	/* the kernel window of a small machine: [0x80000000, 0x800c0000) */
	if (vm_load_image(&r, path, 0x80020000, 0x80000000, 0x800c0000, &img, &err) == 0) {
		if (img.start_gpa < 0x80000000 || img.end_gpa > 0x800c0000 || img.start_gpa > img.end_gpa)
			abort();
	} else if (!err) {
		abort();
	}
	verr_clear(&err);
	if (vm_load_blob_high(&r, path, 0x80010000, 0x80080000, 4096, &img, &err) == 0) {
		if (img.start_gpa < 0x80010000 || img.end_gpa > 0x80080000)
			abort();
	}
	verr_clear(&err);
	return 0;
}
