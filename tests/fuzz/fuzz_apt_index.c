/* Fuzzes the parsers of src/image/ that read what a Debian mirror serves:
 * the first byte picks Release, Packages, a Depends value or a kernel
 * module's .modinfo (ELF); the rest is the input. Every input must parse or
 * fail with an error; nothing may read past the buffer, loop or leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/util.h"
#include "image/apt_index.h"
#include "image/image_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t sel = data[0] % 4;
	data++;
	size--;
	/* An exact-size copy, so ASan catches any read past the end. */
	char *text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	struct verr *e = NULL;
	switch (sel) {
	case 0: {
		struct apt_release *r = NULL;
		if (apt_release_parse(text, size, &r, &e) == 0) {
			for (size_t i = 0; i < r->n_files; i++)
				if (apt_release_find(r, r->files[i].path) == NULL)
					abort();
			apt_release_free(r);
		}
		break;
	}
	case 1: {
		struct apt_packages *p = NULL;
		if (apt_packages_parse(text, size, &p, &e) == 0) {
			for (size_t i = 0; i < p->n; i++) {
				char **deps = NULL;
				if (!apt_packages_find(p, p->pkgs[i].name))
					abort();
				if (p->pkgs[i].depends &&
				    apt_depends_first(p->pkgs[i].depends, &deps, &e) >= 0)
					apt_strv_free(deps);
				verr_clear(&e);
			}
			apt_packages_free(p);
		}
		break;
	}
	case 2: {
		char *s = xmalloc(size + 1);
		memcpy(s, data, size);
		s[size] = '\0';
		char **deps = NULL;
		if (apt_depends_first(s, &deps, &e) >= 0)
			apt_strv_free(deps);
		free(s);
		break;
	}
	default: {
		char *deps = NULL;
		if (kmod_depends(text, size, &deps, &e) == 0)
			free(deps);
		break;
	}
	}
	verr_free(e);
	free(text);
	return 0;
}
