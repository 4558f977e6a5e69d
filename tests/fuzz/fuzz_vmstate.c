/* Fuzzes the machine state loader (src/vm/machine/vmstate.c and the CPU and
 * device loaders behind it) through a machine created for incoming state,
 * as a restore or a migration destination would.
 *
 * Input: a list of records { u8 kind; u16 len (LE); len bytes } handed to
 * machine_load_section as sections (kind picks the name: machine, cpu0,
 * cpu1, dev.*, virtio0, vdev0, net, an unknown one), then
 * machine_load_finish. The snapshot framing and its CRCs are fuzzed by
 * fuzz_stream; here every byte reaches the section loaders. Every input
 * must be accepted or refused cleanly: no out-of-bounds access, no
 * undefined behaviour (e.g. a bool holding 2), no leak, no hang. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "vm/machine/machine.h"
#include "vm/machine/vmstate.h"
#include "vm/state/snap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {
	"machine", "cpu0", "cpu1", "dev.syscon", "dev.rtc", "dev.aclint", "dev.plic", "dev.uart",
	"virtio0", "vdev0", "net", "cpu2", "virtio1", "vdev1", "dev.other", "other",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	if (!init) {
		log_level_current = LOG_ERROR - 1; /* quiet */
		init = true;
	}
	struct machine_config cfg = { .ram_size = 16 << 20, .nr_cpus = 2, .console_in_fd = -1,
				      .console_out_fd = -1, .rng = true };
	struct verr *err = NULL;
	struct machine *m = machine_create_incoming(&cfg, &err);
	if (!m)
		abort();
	size_t off = 0;
	while (off + 3 <= size) {
		struct snap_section sec = { .version = 1, .flags = SNAP_SEC_REQUIRED };
		unsigned kind = data[off] % (sizeof(names) / sizeof(names[0]));
		size_t len = (size_t)data[off + 1] | (size_t)data[off + 2] << 8;
		off += 3;
		if (len > size - off)
			len = size - off;
		snprintf(sec.name, sizeof(sec.name), "%s", names[kind]);
		sec.len = len;
		/* a copy of exactly len bytes, so ASan sees reads past the end */
		uint8_t *p = malloc(len ? len : 1);
		memcpy(p, data + off, len);
		sec.data = p;
		off += len;
		int r = machine_load_section(m, &sec, &err);
		free(p);
		if (r < 0)
			break;
	}
	if (!err)
		machine_load_finish(m, &err);
	verr_free(err);
	machine_destroy(m);
	return 0;
}
