/* Fuzzes the snapshot/migration stream reader: the input is a stream. It is
 * read from memory (RAM copied and CRC-checked, ram-batch sections decoded)
 * and from a file (RAM mapped lazily). Every input must be accepted or
 * refused cleanly: no out-of-bounds access, no hang, no leak, and no
 * allocation driven by a length the input does not back with bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/util.h"
#include "vm/state/snap.h"
#include "vm/state/stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_RAM (64ull << 20)

static int count_page(void *opaque, uint64_t pfn, const void *page)
{
	uint64_t *n = opaque;
	(*n)++;
	if (page)
		*n += ((const uint8_t *)page)[SNAP_PAGE_SIZE - 1];
	return 0;
}

static void read_all(struct vstream *s, uint32_t flags)
{
	struct snap_reader *r = NULL;
	struct verr *e = NULL;
	if (snap_reader_new(s, flags, &r, &e) < 0) {
		verr_free(e);
		return;
	}
	struct snap_section sec;
	int rc;
	while ((rc = snap_reader_next(r, &sec, &e)) > 0) {
		if (sec.is_ram && sec.ram_size <= FUZZ_MAX_RAM) {
			void *ram = mmap(NULL, sec.ram_size, PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (ram == MAP_FAILED)
				break;
			int lr = (flags & SNAP_R_LAZY_RAM) ? snap_ram_map(r, ram, sec.ram_size, 64, NULL, &e)
							   : snap_ram_load(r, ram, sec.ram_size, &e);
			munmap(ram, sec.ram_size);
			if (lr < 0)
				break;
		} else if (!strcmp(sec.name, "ram-batch")) {
			uint64_t n = 0;
			if (snap_ram_batch_foreach(&sec, count_page, &n, &e) < 0)
				break;
		} else if (!strcmp(sec.name, "cpu0")) {
			if (snap_section_check_version(&sec, 2, &e) < 0)
				break;
			struct state_cursor c;
			state_cursor_init(&c, sec.data, (size_t)sec.len);
			while (!c.bad)
				(void)state_get_u64(&c);
		} else if (snap_section_unknown(&sec, &e) < 0) {
			break;
		}
	}
	verr_free(e);
	snap_reader_destroy(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vstream *s = vstream_mem_reader(data, size);
	read_all(s, 0);
	vstream_destroy(s);

	int fd = memfd_create("fuzz.snap", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write_full(fd, data, size) == 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		struct verr *e = NULL;
		if (vstream_file_reader(path, &s, &e) == 0) {
			read_all(s, SNAP_R_LAZY_RAM);
			vstream_destroy(s);
		} else {
			verr_free(e);
		}
	}
	close(fd);
	return 0;
}
