/* Fuzzes the virtqueue code with arbitrary guest memory: the input is the
 * contents of a small guest RAM holding the rings and the buffers. Popping,
 * copying and pushing must stay inside guest RAM whatever the rings say,
 * and end in a bounded number of steps. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vm/virtio/virtqueue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_SIZE 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	/* exact-size allocation so ASan catches any access past guest RAM */
	uint8_t *ram = calloc(1, RAM_SIZE);
	if (!ram)
		return 0;
	memcpy(ram, data + 4, size - 4 < RAM_SIZE ? size - 4 : RAM_SIZE);
	struct guest_mem m = { .hva = ram, .base_gpa = 0x80000000ull, .size = RAM_SIZE };
	struct virtq vq = {
		.num = (uint16_t)(1u << (data[0] % 11)),
		.event_idx = data[1] & 1,
		.indirect = data[1] & 2,
		.desc_gpa = m.base_gpa + (data[2] & 0xf0) * 16ull,
		.avail_gpa = m.base_gpa + 0x4000 + (data[3] & 0xfe),
		.used_gpa = m.base_gpa + 0x8000 + (data[3] & 0xfc),
		.last_avail = (uint16_t)(data[1] >> 2),
	};
	static struct virtq_elem e;
	if (virtq_check(&vq, &m) == 0) {
		vq.ready = true;
		for (int i = 0; i < 64; i++) {
			int r = virtq_pop(&vq, &m, &e);
			if (r != 1)
				break;
			uint8_t buf[256];
			size_t got = iov_to_buf(e.out, e.out_num, 0, buf, sizeof(buf));
			size_t put = iov_from_buf(e.in, e.in_num, e.in_len > 8 ? e.in_len - 8 : 0, buf, got);
			virtq_push(&vq, &m, e.head, (uint32_t)put);
			(void)virtq_should_notify(&vq, &m);
		}
	}
	free(ram);
	return 0;
}
