/* Container lifecycle (runtime-spec runtime.md "Operations"): create, start,
 * state, kill, delete, exec, pause/resume, update, ps, list. Each call takes
 * the runtime options and returns errors as struct verr; nothing here
 * prints or exits. The create->start handshake follows runc: the
 * container's init blocks opening ROOT/ID/exec.fifo for writing until
 * `start` opens it for reading. */
#ifndef VESSEL_OCI_CONTAINER_H
#define VESSEL_OCI_CONTAINER_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "base/err.h"
#include "oci/spec.h"

struct oci_runtime {
	const char *root;    /* state root (--root) */
	bool systemd_cgroup; /* --systemd-cgroup: cgroupsPath is slice:prefix:name */
	bool rootless;
};

struct oci_create_opts {
	const char *id;
	const char *bundle;	    /* NULL = current directory */
	const char *pid_file;	    /* may be NULL */
	const char *console_socket; /* path, may be NULL */
	int console_fd;		    /* or an already connected socket, else -1 */
	int preserve_fds;	    /* fds 3..3+N-1 pass to the container */
	int listen_fds; /* of those, systemd socket-activation fds: LISTEN_FDS/LISTEN_PID=1 are set */
	bool no_pivot, no_new_keyring;
};

/* Creates the container and leaves its init waiting for start. *pid gets
 * the init's pid. */
int oci_container_create(const struct oci_runtime *rt, const struct oci_create_opts *o, pid_t *pid,
			 struct verr **err);

/* Starts a created container (lets its init execve) and runs poststart hooks. */
int oci_container_start(const struct oci_runtime *rt, const char *id, struct verr **err);

/* The OCI state JSON of a container (new reference). */
int oci_container_state(const struct oci_runtime *rt, const char *id, json_t **out, struct verr **err);

/* Sends sig to the init (or with all, to every process of the container). */
int oci_container_kill(const struct oci_runtime *rt, const char *id, int sig, bool all, struct verr **err);

/* Deletes a stopped (or created) container: poststop hooks, cgroups, state.
 * force kills a running one first. */
int oci_container_delete(const struct oci_runtime *rt, const char *id, bool force, struct verr **err);

struct oci_exec_opts {
	const char *id;
	struct oci_process *process; /* borrowed; filled by the caller */
	const char *pid_file;
	const char *console_socket;
	int console_fd;
	int preserve_fds;
	bool ignore_paused; /* exec into a paused container (the process starts frozen) */
};

/* Runs a new process in a running container; *pid gets its pid. The
 * process has exec'd when this returns 0. */
int oci_container_exec(const struct oci_runtime *rt, const struct oci_exec_opts *o, pid_t *pid,
		       struct verr **err);

/* The process spec of the container (for exec defaults), new reference. */
int oci_container_config(const struct oci_runtime *rt, const char *id, json_t **out, struct verr **err);

/* Freezes (pause) or thaws (resume). */
int oci_container_pause(const struct oci_runtime *rt, const char *id, bool pause, struct verr **err);

/* Applies a linux.resources object to a live container. */
int oci_container_update(const struct oci_runtime *rt, const char *id, json_t *resources, struct verr **err);

/* pids of the container's processes (caller frees). */
int oci_container_pids(const struct oci_runtime *rt, const char *id, pid_t **pids, size_t *n,
		       struct verr **err);

/* Every container under the root as an array of OCI state objects (new
 * reference); containers whose state cannot be read are skipped. */
int oci_container_list(const struct oci_runtime *rt, json_t **out, struct verr **err);

#endif
