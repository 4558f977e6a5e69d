/* Live migration of a machine (docs/migration.md): the board's side of
 * vm/migrate (pause/resume on the owner thread, state sections, the
 * control API's POST /vm/migrate and GET /vm/migration) and the
 * destination's `vessel vm run --incoming`. */
#ifndef VESSEL_VM_MACHINE_MIGRATION_H
#define VESSEL_VM_MACHINE_MIGRATION_H

#include <jansson.h>

#include "base/err.h"
#include "vm/api/api.h"
#include "vm/machine/machine.h"
#include "vm/migrate/migrate.h"

/* Migrates m to p->to and waits for the end. Returns 0 once the
 * destination runs the VM (m stays paused; the caller ends it, e.g. with
 * machine_request_quit), -1 with *err otherwise: m runs on as before, unless
 * the progress says vm_lost (postcopy failed after the switch: m stays
 * paused and must not be resumed). EBUSY if a migration is already under
 * way. Thread-safe; never on the owner thread (it waits for it). *out (may
 * be NULL) gets the final figures. */
int machine_migrate(struct machine *m, const struct migrate_params *p, struct migrate_progress *out,
		    struct verr **err);

/* Progress of the current or last migration (state MIGRATE_NONE if none). */
void machine_migration_progress(struct machine *m, struct migrate_progress *out);

/* The progress as the API's JSON object (docs/api.md, GET /vm/migration). */
json_t *migrate_progress_json(const struct migrate_progress *p);

/* vm_api_ops callbacks (opaque = the machine): POST /vm/migrate runs the
 * migration to the end; once its answer is sent, machine_api_migrated ends
 * this VM (machine_request_quit with status 0): it lives on at the
 * destination. */
int machine_api_migrate(void *opaque, const struct vm_api_migrate_req *req, json_t **result, struct verr **err);
json_t *machine_api_migration_status(void *opaque, struct verr **err);
/* POST /vm/migration/postcopy: the running migration switches to postcopy
 * after its current precopy round (migrate_status_request_postcopy). */
int machine_api_migrate_postcopy(void *opaque, struct verr **err);
/* POST /vm/migration/cancel (migrate_status_request_cancel). */
int machine_api_migrate_cancel(void *opaque, struct verr **err);
void machine_api_migrated(void *opaque);

/* An incoming migration's phase for GET /vm: "waiting" (for the source
 * to connect), "receiving", "running" (the VM started here; a postcopy
 * still pulls pages); NULL when none runs. Thread-safe. */
const char *machine_migration_incoming_phase(struct machine *m);

/* Frees the migration state of m (machine_destroy). */
void machine_migration_free(struct machine *m);

/* The destination: m from machine_create_incoming with the source's shape
 * (memory, cpus, disks, NIC). Listens on uri ("tcp:HOST:PORT"), receives the
 * VM, starts it and runs it like machine_run (same return values). A bad,
 * truncated or interrupted stream before the start is an error (-1, *err);
 * after a postcopy start, the VM cannot continue: also -1. on_listen (may be
 * NULL) is called once the socket listens, with its actual address. */
int machine_run_incoming(struct machine *m, const char *uri, void (*on_listen)(void *opaque, const char *addr),
			 void *opaque, struct migrate_progress *out, struct verr **err);

#endif
