/* The last steps in a container process before execve (runtime-spec
 * config.md "Process", config-linux.md): rlimits, oomScoreAdj, LSM labels,
 * user and groups, capabilities, umask, cwd, noNewPrivileges, seccomp. */
#ifndef VESSEL_OCI_PROCESS_H
#define VESSEL_OCI_PROCESS_H

#include "base/err.h"
#include "oci/spec.h"

struct oci_seccomp;

/* Resolves p->args[0] with the PATH of p->env (inside the current root).
 * Returns a new string (caller frees) or NULL with *err set. */
char *oci_process_lookup(const struct oci_process *p, struct verr **err);

/* Refuses an apparmorProfile or selinuxLabel the host cannot enforce
 * (checked on the host before anything starts). */
int oci_process_check_lsm(const struct oci_process *p, struct verr **err);

/* Applies rlimits and oomScoreAdj (while still privileged). */
int oci_process_limits(const struct oci_process *p, struct verr **err);

/* Applies user, groups, capabilities, umask, cwd (verified after chdir, see
 * CVE-2024-21626), noNewPrivileges and seccomp (may be NULL), in that order
 * (seccomp first when noNewPrivileges is off, as it then needs
 * CAP_SYS_ADMIN). */
int oci_process_identity(const struct oci_process *p, struct oci_seccomp *seccomp, struct verr **err);

/* Marks every fd >= 3 + preserve_fds close-on-exec, then execve(path).
 * Returns only on failure. */
int oci_process_exec(const struct oci_process *p, const char *path, int preserve_fds, struct verr **err);

#endif
