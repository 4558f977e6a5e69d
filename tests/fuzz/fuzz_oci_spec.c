/* libFuzzer harness: config.json parsing (oci_spec_parse) and, for specs
 * that parse, the standalone process parser used by exec --process. */
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "oci/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oci_spec *s = NULL;
	struct verr *err = NULL;
	if (oci_spec_parse((const char *)data, size, &s, &err) == 0) {
		json_t *p = json_object_get(s->json, "process");
		if (p) {
			struct oci_process proc;
			struct verr *e2 = NULL;
			if (oci_process_parse(p, &proc, &e2) == 0)
				oci_process_clear(&proc);
			verr_free(e2);
		}
		oci_spec_free(s);
	}
	verr_free(err);
	return 0;
}
