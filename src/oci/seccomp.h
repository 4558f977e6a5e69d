/* linux.seccomp (OCI runtime spec, config-linux.md "Seccomp") compiled with
 * libseccomp into a BPF program that a post-fork child can load without
 * allocating. */
#ifndef VESSEL_OCI_SECCOMP_H
#define VESSEL_OCI_SECCOMP_H

#include <jansson.h>

#include "base/err.h"

struct oci_seccomp; /* opaque compiled filter */

/* Compiles linux.seccomp (borrowed) into a BPF filter with libseccomp:
 * defaultAction, defaultErrnoRet, architectures, flags, syscalls[] with names,
 * action, errnoRet, args (index, value, valueTwo, op: SCMP_CMP_*). Unknown
 * syscall names are skipped (as runc does); unknown actions/ops/arches are
 * errors. Returns an opaque compiled filter. */
int oci_seccomp_compile(json_t *seccomp, struct oci_seccomp **out, struct verr **err);

/* Loads it into the calling thread (called in the container process just
 * before execve, after setting no_new_privs if asked). Async-signal-safe
 * enough for a post-fork child: no allocation. */
int oci_seccomp_load(struct oci_seccomp *f, struct verr **err);

/* Frees f; accepts NULL. */
void oci_seccomp_free(struct oci_seccomp *f);

/* For `features`: the actions, operators, architectures and flags we support
 * (new reference). */
json_t *oci_seccomp_features(void);

#endif
