/* Live migration of a VM's RAM and state between two processes over TCP
 * (docs/migration.md).
 *
 * The engine knows nothing about machines: it moves a RAM region and asks
 * the caller, through small ops tables, to pause/resume the VM, to write
 * its non-RAM state into the stream, and (on the destination) to load
 * state sections and start the VM. The stream is the snapshot format in
 * streaming mode (vm/state/snap.h, SNAP_F_STREAM): a "mig-setup" section,
 * "ram-batch" sections, then (VM stopped) the caller's state sections, the
 * last pages and "end"; postcopy sends the state, "mig-postcopy" (pages to
 * discard) and "mig-start", then pushes the remaining pages. The
 * destination answers on the same socket with 16-byte return-path
 * messages (running, page request, done).
 *
 *   precopy:  round 0 sends every populated non-zero page, then rounds of
 *             the pages written meanwhile (vm/migrate/dirty.h) until the
 *             rest fits in max_downtime_ms at the measured bandwidth (or
 *             the round limit); vCPUs are throttled (a pause/resume duty
 *             cycle) when rounds stop shrinking. Then: pause, last pages,
 *             state, end; the destination verifies the whole stream, starts
 *             and acknowledges. Any failure before that acknowledgement
 *             resumes the source as if nothing happened.
 *   disks:    with "disks": "copy" (migrate_params.disks), before the RAM:
 *             "mig-disk-setup" and the disks' contents in "mig-disk-chunk"
 *             sections (a full pass, then rounds of the granules written
 *             meanwhile: vm/block dirty tracking); the precopy rounds
 *             carry the granules written since, and the stop the last
 *             ones. The destination writes them into its own images and
 *             flushes them before it starts.
 *   postcopy: (optionally up to precopy_rounds precopy rounds), pause,
 *             state; the destination starts at once with its RAM
 *             registered with userfaultfd (missing mode) and asks for pages
 *             its vCPUs touch, while the source pushes the rest. A failure
 *             after the switch loses the VM: neither side has all of its
 *             state. A running precopy can be switched to postcopy
 *             (migrate_status_request_postcopy): after its current round.
 */
#ifndef VESSEL_VM_MIGRATE_MIGRATE_H
#define VESSEL_VM_MIGRATE_MIGRATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "vm/block/block.h"
#include "vm/state/snap.h"

enum migrate_mode { MIGRATE_PRECOPY, MIGRATE_POSTCOPY };
enum migrate_state { MIGRATE_NONE, MIGRATE_ACTIVE, MIGRATE_COMPLETED, MIGRATE_FAILED };

#define MIGRATE_DEFAULT_DOWNTIME_MS 20
#define MIGRATE_DEFAULT_MAX_ROUNDS 30
#define MIGRATE_MAX_DISKS 16

/* Progress and result of one migration (a plain copy; see migrate_status). */
struct migrate_progress {
	enum migrate_state state;
	enum migrate_mode mode;
	const char *phase;	  /* "setup", "disk", "precopy", "stop-and-copy", "postcopy", "done" (static) */
	unsigned round;		  /* precopy rounds started (round 0 = the first full pass) */
	uint64_t bytes;		  /* stream bytes sent / received */
	uint64_t pages;		  /* pages sent / received, repeats included */
	uint64_t dirty_pages;	  /* pages left to send as last measured */
	uint64_t bandwidth_bps;	  /* bytes per second, last round */
	unsigned throttle_pct;	  /* auto-converge: share of time the vCPUs are held */
	uint64_t total_ms;	  /* start to done (when done) */
	uint64_t downtime_us;	  /* source paused to destination running */
	uint64_t stop_to_sent_us; /* source paused to its last byte of the switch sent
				   * (what QEMU reports as downtime) */
	uint64_t page_requests;	  /* postcopy: pages the destination asked for */
	bool disk_copy;		  /* "disks": "copy": disk contents are streamed */
	uint64_t disk_bytes;	  /* guest disk bytes sent / received (zero ranges included) */
	uint64_t disk_remaining;  /* disk bytes left to send as last measured */
	bool vm_lost;		  /* failed after a postcopy switch */
	bool postcopy_requested;  /* a switch to postcopy was asked for */
	bool cancel_requested;	  /* a cancel was asked for */
	char error[256];	  /* the error chain when failed */
};

/* A progress record shared between the migration thread and readers
 * (the API); every access takes its lock. */
struct migrate_status {
	pthread_mutex_t lock;
	struct migrate_progress p;
};

void migrate_status_init(struct migrate_status *st);
void migrate_status_destroy(struct migrate_status *st);
/* Copies the current progress into *out. */
void migrate_status_get(struct migrate_status *st, struct migrate_progress *out);
/* Name of a state/mode for APIs: "none", "active", ...; "precopy"... */
const char *migrate_state_name(enum migrate_state s);
const char *migrate_mode_name(enum migrate_mode m);
/* Parses "precopy" / "postcopy"; -1 otherwise. */
int migrate_mode_parse(const char *s, enum migrate_mode *out);
/* Asks the migration running with st to switch to postcopy after its
 * current precopy round (QEMU's migrate-start-postcopy). 0 if asked (or
 * asked already); -1 with *err (EALREADY) when no migration is active or
 * it is past its precopy rounds (stopping, or in postcopy already). A
 * precopy that finishes its stop-and-copy first completes as precopy. The
 * destination must be able to run postcopy (userfaultfd); if it cannot,
 * it refuses the switch and the source resumes the VM. Thread-safe. */
int migrate_status_request_postcopy(struct migrate_status *st, struct verr **err);
/* Asks the migration running with st to stop (QEMU's migrate_cancel): it
 * fails with ECANCELED at its next batch of pages or disk chunk and the VM
 * runs on here, as after any failure before the stop. 0 if asked; -1 with
 * *err (EALREADY) when no migration is active or it is past the point of no
 * return (the VM stopped for stop-and-copy or the postcopy switch: the
 * destination may be running it). Thread-safe. */
int migrate_status_request_cancel(struct migrate_status *st, struct verr **err);

/* ---- transport ---- */

/* Parses "tcp:HOST:PORT" (HOST may be empty and PORT 0 for listening: all
 * addresses, any port; "[v6addr]" allowed). Returns 0 or -1 with *err. */
int migrate_uri_parse(const char *uri, char *host, size_t host_len, char *port, size_t port_len,
		      struct verr **err);

/* Opens a listening socket for `uri`. *fd is the caller's to close. */
int migrate_listen(const char *uri, int *fd, struct verr **err);

/* Waits for one connection on listen_fd (timeout_ms < 0: forever). */
int migrate_accept(int listen_fd, int timeout_ms, int *conn_fd, struct verr **err);

/* ---- source ---- */

struct migrate_source_ops {
	/* Stops every vCPU and device (returns when they are stopped); the
	 * auto-converge throttle uses it. */
	int (*pause)(void *opaque, struct verr **err);
	/* Lets the VM run again after pause or stop (a no-op if it runs).
	 * After stop it must first take back what stop let go, and fail (the
	 * VM then stays paused) if the destination has it already. */
	int (*resume)(void *opaque, struct verr **err);
	/* The last stop (stop-and-copy, or the postcopy switch), in one step
	 * since the downtime starts here: pause the VM (if it runs), flush
	 * and let go of what the destination takes over (disk locks), and
	 * write the VM's non-RAM state as sections into w. */
	int (*stop)(void *opaque, struct snap_writer *w, struct verr **err);
};

struct migrate_params {
	const char *to;		  /* "tcp:HOST:PORT" (borrowed) */
	enum migrate_mode mode;
	uint64_t max_downtime_ms; /* 0: MIGRATE_DEFAULT_DOWNTIME_MS */
	unsigned max_rounds;	  /* 0: MIGRATE_DEFAULT_MAX_ROUNDS */
	unsigned precopy_rounds;  /* postcopy: precopy rounds before the switch (0:
				   * none; fewer if the rest fits max_downtime_ms) */
	/* "disks": "copy": stream the contents of disks[0..ndisks) (borrowed
	 * for the call, at most MIGRATE_MAX_DISKS) into the destination's own
	 * images: a full pass, then the granules written meanwhile, the last
	 * ones once the VM is stopped (ops->stop must have completed its disk
	 * requests). Read-only disks are not copied (the same image on both
	 * sides). NULL: shared storage, no disk data in the stream. */
	struct block *const *disks;
	unsigned ndisks;
};

/* Migrates the VM whose RAM is ram_hva[0..ram_size) to p->to, updating st
 * as it goes (st->p is reset at the start). Returns 0 once the destination
 * runs the VM and has all of its memory: the caller then ends the source
 * VM. Returns -1 with *err (also copied into st) on failure: the source VM
 * is running again, unless st->p.vm_lost (postcopy failed after the
 * switch), in which case it is left paused and must not be resumed.
 * Blocks SIGPIPE on the calling thread while it runs. */
int migrate_source_run(void *ram_hva, uint64_t ram_size, const struct migrate_source_ops *ops, void *opaque,
		       const struct migrate_params *p, struct migrate_status *st, struct verr **err);

/* ---- destination ---- */

struct migrate_dest_ops {
	/* A non-RAM section (CPU, device, backend state), in stream order,
	 * before the VM starts. Unknown sections: snap_section_unknown(). */
	int (*load_section)(void *opaque, const struct snap_section *sec, struct verr **err);
	/* Everything needed is loaded: start the VM. */
	int (*start)(void *opaque, struct verr **err);
	/* Optional: the stream copies disk contents ("disks": "copy"): take
	 * this VM's own images for writing now (lock them: the source keeps
	 * its own) and return them in disks[0..*n) (*n <= MIGRATE_MAX_DISKS;
	 * borrowed until migrate_dest_run returns). NULL: such streams are
	 * refused. Before start, every copied granule has arrived and the
	 * images are flushed. */
	int (*take_disks)(void *opaque, struct block **disks, unsigned *n, struct verr **err);
};

/* Receives a VM on the connected socket conn_fd (borrowed) into
 * ram_hva[0..ram_size) (private anonymous memory, whose contents are
 * discarded first; its size must match the source's). Returns 0 once the
 * VM was started and has all of its memory, with figures in *out. Returns
 * -1 with *err for a bad, truncated or interrupted stream; out->vm_lost
 * tells whether the VM had already been started (postcopy), in which case
 * it cannot continue. */
int migrate_dest_run(int conn_fd, void *ram_hva, uint64_t ram_size, const struct migrate_dest_ops *ops,
		     void *opaque, struct migrate_progress *out, struct verr **err);

#endif
