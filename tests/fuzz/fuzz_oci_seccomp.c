/* libFuzzer harness for the linux.seccomp compiler: arbitrary bytes are
 * parsed as JSON and, when they parse, compiled into a BPF filter (never
 * loaded). Built by tests/fuzz/run.sh with clang -fsanitize=fuzzer. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "oci/seccomp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (!j)
		return 0;
	struct oci_seccomp *f = NULL;
	struct verr *err = NULL;
	if (oci_seccomp_compile(j, &f, &err) == 0)
		oci_seccomp_free(f);
	verr_free(err);
	json_decref(j);
	return 0;
}
