/* Container cgroups on v1, v2 and hybrid hosts (cgroupfs at /sys/fs/cgroup;
 * we never talk to systemd). One struct oci_cgroup holds the paths of one
 * container's cgroup in every mounted hierarchy. */
#ifndef VESSEL_OCI_CGROUP_H
#define VESSEL_OCI_CGROUP_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "base/err.h"

enum oci_cgroup_mode { OCI_CGROUP_V1, OCI_CGROUP_V2, OCI_CGROUP_HYBRID };

struct oci_cgroup; /* opaque; the paths of one container's cgroup in every hierarchy */

/* Detects the host's cgroup layout (cgroupfs at /sys/fs/cgroup). */
int oci_cgroup_detect(enum oci_cgroup_mode *mode, struct verr **err);

/* Creates the container's cgroup(s): cgroups_path is linux.cgroupsPath
 * (absolute "/a/b", relative, or NULL => "/vessel/<id>"; with systemd_cgroup
 * the "slice:prefix:name" form is mapped to a cgroupfs path); resources is
 * linux.resources (borrowed, may be NULL) and is applied; pid (if > 0) is
 * moved in. Caller frees with oci_cgroup_free(). */
int oci_cgroup_create(const char *id, const char *cgroups_path, bool systemd_cgroup,
		      json_t *resources, pid_t pid, struct oci_cgroup **out, struct verr **err);

/* Moves pid into the cgroup (used for exec). */
int oci_cgroup_enter(struct oci_cgroup *cg, pid_t pid, struct verr **err);

/* Applies a linux.resources object (for `update`): only the fields present change. */
int oci_cgroup_update(struct oci_cgroup *cg, json_t *resources, struct verr **err);

/* Freezes (pause) or thaws (resume): freezer v1 or cgroup.freeze v2; waits
 * until the state is reached (bounded). */
int oci_cgroup_freeze(struct oci_cgroup *cg, bool frozen, struct verr **err);

/* true when frozen. */
int oci_cgroup_is_frozen(struct oci_cgroup *cg, bool *frozen, struct verr **err);

/* Lists the pids in the cgroup (recursively). Caller frees *pids with free(). */
int oci_cgroup_pids(struct oci_cgroup *cg, pid_t **pids, size_t *n, struct verr **err);

/* Sends sig to every process in the cgroup (kill --all, delete --force). */
int oci_cgroup_kill(struct oci_cgroup *cg, int sig, struct verr **err);

/* Removes the cgroup directories (after the processes are gone; retries
 * briefly on EBUSY). */
int oci_cgroup_destroy(struct oci_cgroup *cg, struct verr **err);

/* For the state file: to JSON (new reference) and back. */
json_t *oci_cgroup_to_json(const struct oci_cgroup *cg);
int oci_cgroup_from_json(json_t *j, struct oci_cgroup **out, struct verr **err);

/* Path of the unified (v2) cgroup directory if any, for the cgroup namespace /
 * mounts; NULL otherwise. Borrowed. */
const char *oci_cgroup_unified_path(const struct oci_cgroup *cg);

/* Path relative to the v1 hierarchy root / v2 root ("/vessel/<id>"), for
 * mounting cgroupfs in the container. Borrowed. */
const char *oci_cgroup_relpath(const struct oci_cgroup *cg);

/* Frees cg (does not remove the directories); accepts NULL. */
void oci_cgroup_free(struct oci_cgroup *cg);

#endif
