/* Container state kept under the runtime root (--root, default
 * /run/vessel-runtime): one directory per container holding state.json
 * (written atomically), the exec.fifo of the create->start handshake while
 * the container is "created", and a lock (flock on the directory). */
#ifndef VESSEL_OCI_STATE_H
#define VESSEL_OCI_STATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/err.h"

#define OCI_SPEC_VERSION "1.2.0"
#define OCI_DEFAULT_ROOT "/run/vessel-runtime"
#define OCI_EXEC_FIFO	 "exec.fifo"

enum oci_status { OCI_CREATING, OCI_CREATED, OCI_RUNNING, OCI_PAUSED, OCI_STOPPED };

struct oci_state {
	char *id;
	pid_t pid;	    /* container init in the runtime's pid namespace */
	uint64_t pid_start; /* its start time (/proc/PID/stat field 22), to detect pid reuse */
	char *bundle;	    /* absolute */
	char *rootfs;	    /* absolute */
	char *created;	    /* RFC 3339 */
	char *owner;
	bool systemd_cgroup;
	json_t *config; /* the container's config.json (owned reference) */
	json_t *cgroup; /* oci_cgroup_to_json() (owned reference) or NULL */
};

/* Checks a container ID: 1-1024 characters from [A-Za-z0-9_+.-], not "." or
 * ".." (the set runc accepts). */
int oci_id_validate(const char *id, struct verr **err);

/* The container's state directory ROOT/ID (caller frees). */
char *oci_state_dir(const char *root, const char *id);

/* Creates ROOT (0700) if needed, then ROOT/ID; fails with a clear message
 * if the container already exists. */
int oci_state_create_dir(const char *root, const char *id, struct verr **err);

/* Takes an exclusive lock on ROOT/ID; *fd holds it until closed. Fails with
 * "container does not exist" when there is no such container. */
int oci_state_lock(const char *root, const char *id, int *fd, struct verr **err);

/* Writes ROOT/ID/state.json atomically. */
int oci_state_save(const char *root, const struct oci_state *st, struct verr **err);

/* Reads ROOT/ID/state.json into a new state (free with oci_state_free). */
int oci_state_load(const char *root, const char *id, struct oci_state **out, struct verr **err);

void oci_state_free(struct oci_state *st);

/* Current status: stopped when the init process is gone (or its pid was
 * reused), created while exec.fifo exists, paused when frozen is true,
 * running otherwise. */
enum oci_status oci_state_status(const char *root, const struct oci_state *st, bool frozen);
const char *oci_status_name(enum oci_status s);

/* The OCI state JSON (runtime-spec runtime.md "State"), new reference. */
json_t *oci_state_to_oci_json(const struct oci_state *st, enum oci_status status);

/* Start time of a process (field 22 of /proc/PID/stat), or 0 if gone. */
uint64_t oci_proc_start_time(pid_t pid);

/* Removes a directory tree (no following of symlinks, stays on one file
 * system). Returns 0 or -errno. */
int oci_rmtree(const char *path);

/* Current time as RFC 3339 with nanoseconds, UTC (caller frees). */
char *oci_time_rfc3339(void);

#endif
