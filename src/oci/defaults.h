/* Documents the runtime writes: the default config.json of `spec` and the
 * `features` document (runtime-spec features.md). */
#ifndef VESSEL_OCI_DEFAULTS_H
#define VESSEL_OCI_DEFAULTS_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

/* A default config.json like runc's (new reference). rootless adds a user
 * namespace mapping uid/gid to root and drops what an unprivileged user
 * cannot do (network namespace, sysfs mount, cgroup mount). */
json_t *oci_default_spec(bool rootless, uid_t uid, gid_t gid);

/* The features document (new reference). */
json_t *oci_features(void);

#endif
