/* Fuzzes the qcow2 loader and its read/write paths with an arbitrary image:
 * the input is the image file. Every request must fail cleanly or succeed;
 * nothing may read or write outside the buffers, loop forever or leak. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/util.h"
#include "vm/block/block.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz.qcow2", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write_full(fd, data, size) < 0) {
		close(fd);
		return 0;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct block *b = NULL;
	struct verr *e = NULL;
	if (block_open(path, BLOCK_FMT_QCOW2, false, &b, &e) == 0) {
		static uint8_t buf[1 << 17];
		/* reads and writes at a few places picked from the input */
		uint64_t offs[4] = { 0, b->size / 2, b->size > 4096 ? b->size - 4096 : 0, 0 };
		if (size >= 8)
			memcpy(&offs[3], data + size - 8, 8);
		for (unsigned i = 0; i < 4; i++) {
			uint64_t off = offs[i] % (b->size + 1);
			size_t len = b->size - off < sizeof(buf) ? (size_t)(b->size - off) : sizeof(buf);
			if (block_read(b, off, buf, len) < 0)
				continue;
			if (block_write(b, off, buf, len < 3000 ? len : 3000) < 0)
				continue;
			if (block_write_zeroes(b, off, len, i & 1) < 0)
				continue;
			if (block_discard(b, off, len) < 0)
				continue;
		}
		uint64_t alloc;
		if (b->size < (1ull << 34))
			(void)b->ops->allocated(b, &alloc);
		block_close(b);
	} else {
		verr_free(e);
	}
	close(fd);
	return 0;
}
