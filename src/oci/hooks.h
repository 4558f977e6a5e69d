/* OCI hooks (runtime-spec config.md "POSIX-platform Hooks"): each runs with
 * the container state JSON on its stdin, its args and env, and its timeout. */
#ifndef VESSEL_OCI_HOOKS_H
#define VESSEL_OCI_HOOKS_H

#include <stddef.h>

#include "base/err.h"
#include "oci/spec.h"

/* Runs hooks[0..n) in order, each to completion; stops at the first that
 * fails (non-zero exit, signal, or timeout: it is killed). state is the
 * state JSON text written to each hook's stdin. what names the hook kind in
 * errors ("prestart"). */
int oci_hooks_run(const struct oci_hook *hooks, size_t n, const char *state, const char *what,
		  struct verr **err);

#endif
