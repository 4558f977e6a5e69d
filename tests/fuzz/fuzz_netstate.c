/* Fuzzes the user network's state loader (net_backend_load on a libslirp
 * backend: src/vm/net/net_slirp.c and, with our patched libslirp,
 * slirp_state_load_sockets with its TCP connections and the handover
 * records behind them). fuzz_vmstate reaches the machine sections of a VM
 * without a NIC; this one gives every byte to the network's loader.
 *
 * Input: the "net" section's payload (u32 libslirp state version, then
 * libslirp's stream, then the hostfwd listener records). The backend is
 * not in migration mode, so the handover callback reads each record and
 * drops the connection, and the listener records are read and skipped
 * (the backend has no rule waiting): it never takes a file descriptor
 * from another process. Every input must be
 * accepted or refused cleanly: no out-of-bounds access, no undefined
 * behaviour, no leak (the backend and every loaded socket are freed). */
#include <stdint.h>
#include <stdlib.h>

#include "base/log.h"
#include "vm/net/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	if (!init) {
		log_level_current = LOG_ERROR - 1; /* quiet */
		init = true;
	}
	struct net_backend *nb = NULL;
	struct verr *err = NULL;
	if (net_backend_open("user", &nb, &err) < 0 || !nb)
		abort();
	net_backend_load(nb, data, size, &err);
	verr_free(err);
	net_backend_destroy(nb);
	return 0;
}
