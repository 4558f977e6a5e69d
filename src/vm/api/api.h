/* Per-VM control API: HTTP/1.1 + JSON on a Unix socket (docs/api.md,
 * docs/openapi.json).
 *
 * The server knows nothing about the VM: each request is validated here
 * (method, path, JSON body, field types) and then handed to the VM's owner
 * through a `struct vm_api_ops` table. Requests are served by the server's own
 * threads (one per connection, src/vm/api/server.c), never by vCPU threads; a callback may block
 * (a migration takes seconds) without stopping other requests, e.g.
 * GET /vm/migration while POST /vm/migrate runs. Callbacks may therefore be
 * called concurrently from several threads: the owner serializes them.
 *
 * A callback fails by returning -1 (or NULL) with a struct verr; its errnum
 * picks the HTTP status:
 *   EINVAL                           400 (bad request values)
 *   EALREADY, EBUSY, EAGAIN, EEXIST, 409 (wrong state: resume while running,
 *   ECANCELED                            a migration already in progress,
 *                                        one cancelled by another request)
 *   ENOTSUP                          501 (not available in this VM/build)
 *   anything else                    500
 * and the body is {"error": "<message chain>"}.
 */
#ifndef VESSEL_VM_API_API_H
#define VESSEL_VM_API_API_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "base/err.h"

/* Largest request body accepted (413 beyond). */
#define VM_API_MAX_BODY (64 * 1024)
/* POST /vm/shutdown: seconds before a guest that ignores the request is
 * stopped by force, by default and at most. */
#define VM_API_SHUTDOWN_DEFAULT_S 10
#define VM_API_SHUTDOWN_MAX_S 3600
/* POST /vm/migrate: most precopy rounds before a postcopy switch (the
 * migration engine's round limit). */
#define VM_API_MAX_PRECOPY_ROUNDS 30

/* A validated POST /vm/migrate request (strings borrowed for the call). */
struct vm_api_migrate_req {
	const char *to;		  /* "tcp:HOST:PORT" */
	const char *mode;	  /* "precopy" or "postcopy" */
	uint64_t max_downtime_ms; /* 0 = the owner's default */
	const char *disks;	  /* "shared" (default) or "copy" */
	unsigned precopy_rounds;  /* postcopy: precopy rounds first (0..VM_API_MAX_PRECOPY_ROUNDS) */
};

/* Callbacks left NULL answer 501 (not available). */
struct vm_api_ops {
	/* GET /vm: a new JSON object with at least "state" ("running" |
	 * "paused" | "shutting-down" | "migrated"), "operation" ("none" |
	 * "migrating", with "operation_phase" unless none), "cpus", "memory"
	 * (bytes) and "uptime_ms"; more fields (per-device counters) are
	 * welcome.
	 * The server takes ownership of the returned reference. */
	json_t *(*get_info)(void *opaque, struct verr **err);
	/* POST /vm/pause and /vm/resume: 0 once done; EALREADY if already in
	 * that state. */
	int (*pause)(void *opaque, struct verr **err);
	int (*resume)(void *opaque, struct verr **err);
	/* POST /vm/shutdown {"timeout_s"?: 0..3600, default 10}: asks the
	 * guest to power off, forcing it after timeout_ms (0: at once);
	 * returns once the request is under way. */
	int (*shutdown)(void *opaque, uint64_t timeout_ms, struct verr **err);
	/* POST /vm/snapshot: writes the snapshot to path (borrowed); the VM is
	 * paused for it and resumed unless stay_paused. *result gets a new
	 * object with at least "bytes" and "ms" (server takes ownership). */
	int (*snapshot)(void *opaque, const char *path, bool stay_paused, json_t **result, struct verr **err);
	/* GET /vm/snapshot: the current or last snapshot: at least "status"
	 * ("none" | "active" | "completed" | "failed"), "phase", "bytes" and
	 * "total_bytes" (server takes ownership). */
	json_t *(*snapshot_status)(void *opaque, struct verr **err);
	/* POST /vm/migrate: runs the migration to completion; *result gets
	 * at least "total_ms", "downtime_ms", "iterations", "bytes". */
	int (*migrate)(void *opaque, const struct vm_api_migrate_req *req, json_t **result,
		       struct verr **err);
	/* GET /vm/migration: progress of the current or last migration: at
	 * least "status" ("none" | "active" | "completed" | "failed"). */
	json_t *(*migration_status)(void *opaque, struct verr **err);
	/* POST /vm/migration/postcopy: asks the running precopy to switch to
	 * postcopy after its current round; 0 once asked (the switch happens
	 * later: GET /vm/migration shows it), EALREADY when no precopy runs. */
	int (*migrate_postcopy)(void *opaque, struct verr **err);
	/* POST /vm/migration/cancel: asks the running migration to stop and
	 * the VM to run on here; 0 once asked (POST /vm/migrate then fails
	 * with ECANCELED), EALREADY when none runs or it is past the point of
	 * no return. */
	int (*migrate_cancel)(void *opaque, struct verr **err);
	/* Optional: called once a 200 answer to POST /vm/migrate has been
	 * sent (or its client went away). The VM runs elsewhere now; the owner
	 * ends this one here, not in migrate, so the answer is not lost. */
	void (*migrated)(void *opaque);
};

struct vm_api;

/* Starts serving on a new Unix socket at socket_path (mode 0600). A stale
 * socket file (nobody listening) is replaced; a socket someone listens on,
 * or a path that is not a socket, is an error. ops and opaque are borrowed
 * until vm_api_stop returns. On success *out is the running server. */
int vm_api_start(const char *socket_path, const struct vm_api_ops *ops, void *opaque, struct vm_api **out,
		 struct verr **err);

/* Connection threads alive (served or lingering after a refusal): at most
 * 16, beyond which new connections are answered 503. For tests that need
 * the earlier connections gone. Thread-safe. */
unsigned vm_api_connections(struct vm_api *a);

/* Stops the server: waits for running requests to finish, closes the
 * socket and removes its file. Accepts NULL. */
void vm_api_stop(struct vm_api *a);

/* Client (for the CLI): sends one request and waits for the answer.
 * method "GET"/"POST", path like "/vm/pause", body may be NULL (borrowed).
 * On success returns 0 with the HTTP status in *status and the parsed JSON
 * body in *reply (NULL if the body is empty; caller json_decref()s it);
 * -1 with *err if the socket cannot be reached or the answer is not HTTP. */
int vm_api_call(const char *socket_path, const char *method, const char *path, json_t *body, long *status,
		json_t **reply, struct verr **err);

#endif
