/* Where pulled images live, and finding one for `vessel vm run --image`.
 * Kept apart from the puller so the VMM binary does not link libcurl and
 * libarchive (see docs/architecture.md). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "image/image.h"

int image_cache_dir(const char *name, char **out, struct verr **err)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	if (!name || !*name || strchr(name, '/') || name[0] == '.')
		return verr_set(err, 0, "invalid image name '%s'", name ? name : "");
	if (xdg && xdg[0] == '/')
		*out = xasprintf("%s/vessel/images/%s", xdg, name);
	else if (home && home[0] == '/')
		*out = xasprintf("%s/.cache/vessel/images/%s", home, name);
	else
		return verr_set(err, 0, "neither XDG_CACHE_HOME nor HOME is set to an absolute path");
	return 0;
}

int image_resolve(const char *name, char **kernel, char **initrd, struct verr **err)
{
	cleanup_free char *dir = NULL;
	if (image_cache_dir(name, &dir, err) < 0)
		return -1;
	cleanup_free char *man = xasprintf("%s/manifest", dir);
	cleanup_free char *k = xasprintf("%s/Image", dir);
	cleanup_free char *i = xasprintf("%s/initrd.img", dir);
	if (access(man, R_OK) < 0 || access(k, R_OK) < 0 || access(i, R_OK) < 0)
		return verr_set(err, 0, "image '%s' is not pulled: run 'vessel image pull %s'", name,
				name);
	*kernel = take_ptr(k);
	*initrd = take_ptr(i);
	return 0;
}
