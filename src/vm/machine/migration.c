/* The machine's side of live migration (see migration.h). */
#include "vm/machine/migration.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"
#include "vm/machine/machine_int.h"
#include "vm/machine/vmstate.h"

/* An incoming migration, as GET /vm shows it. */
enum incoming_phase { INCOMING_NONE, INCOMING_WAITING, INCOMING_RECEIVING, INCOMING_RUNNING };

struct machine_migration {
	bool active; /* under m->lock */
	struct migrate_status st;
	_Atomic int incoming; /* enum incoming_phase */
};

static struct machine_migration *migration_of(struct machine *m)
{
	pthread_mutex_lock(&m->lock);
	if (!m->migration) {
		m->migration = xcalloc(1, sizeof(*m->migration));
		migrate_status_init(&m->migration->st);
	}
	struct machine_migration *mg = m->migration;
	pthread_mutex_unlock(&m->lock);
	return mg;
}

void machine_migration_free(struct machine *m)
{
	if (m->migration) {
		migrate_status_destroy(&m->migration->st);
		free(m->migration);
		m->migration = NULL;
	}
}

/* ---- the source: callbacks on the owner thread ---- */

struct src_ctx {
	struct machine *m;
	bool was_paused;     /* paused by the user before: leave it that way */
	bool copy_disks;     /* "disks": "copy": the destination has its own images */
	bool disks_released; /* the last stop let go of the disk locks */
};

struct owner_args {
	struct src_ctx *c;
	struct snap_writer *w;
	struct verr **err;
};

/* m->busy keeps the API's pause/resume/snapshot away during a migration;
 * the migration's own pause and resume step around it. */
static int owner_pause(struct machine *m, void *arg)
{
	struct owner_args *a = arg;
	if (a->c->was_paused || m->paused)
		return 0;
	m->busy--;
	int r = machine_pause(m, a->err);
	m->busy++;
	return r;
}

/* The last stop, in one owner action (the downtime runs): pause (which
 * completes in-flight disk requests); with shared storage, what the guest
 * wrote goes to disk and the destination may take the images (it reopens
 * them); with copied disks this process keeps its images and their locks;
 * then the state. */
static int owner_stop(struct machine *m, void *arg)
{
	struct owner_args *a = arg;
	uint64_t t0 = now_ns();
	if (owner_pause(m, arg) < 0)
		return -1;
	uint64_t t1 = now_ns();
	for (unsigned i = 0; i < VM_MAX_DISKS && !a->c->copy_disks; i++) {
		if (!m->disks[i])
			continue;
		if (block_unlock(m->disks[i], a->err) < 0) {
			for (unsigned j = 0; j < i; j++)
				if (m->disks[j] && block_relock(m->disks[j], NULL) < 0)
					log_error("migration: cannot take back the lock of '%s'", m->disks[j]->path);
			return -1;
		}
	}
	a->c->disks_released = !a->c->copy_disks;
	uint64_t t2 = now_ns();
	/* the guest's TCP connections go along (net.h), unlike in a snapshot */
	net_backend_set_migration(m->net, true);
	int r = machine_save_state(m, a->w, a->err);
	net_backend_set_migration(m->net, false);
	log_debug("migration: stop: pause %.2f ms, disks %.2f ms, state %.2f ms", (double)(t1 - t0) / 1e6,
		  (double)(t2 - t1) / 1e6, (double)(now_ns() - t2) / 1e6);
	return r;
}

static int owner_resume(struct machine *m, void *arg)
{
	struct owner_args *a = arg;
	if (a->c->disks_released) {
		/* A destination that took a disk runs the VM: never resume
		 * here too. */
		for (unsigned i = 0; i < VM_MAX_DISKS; i++)
			if (m->disks[i] && block_relock(m->disks[i], a->err) < 0)
				return verr_wrap(a->err, "the destination may run the VM: not resuming it here");
		a->c->disks_released = false;
	}
	if (a->c->was_paused || !m->paused)
		return 0;
	m->busy--;
	int r = machine_resume(m, a->err);
	m->busy++;
	return r;
}

static int call_owner(struct src_ctx *c, int (*fn)(struct machine *, void *), struct snap_writer *w,
		      struct verr **err)
{
	struct owner_args a = { c, w, err };
	int r = machine_call(c->m, fn, &a);
	if (r == -ESHUTDOWN)
		return verr_set(err, ESHUTDOWN, "the VM has stopped");
	return r < 0 ? -1 : 0;
}

static int src_pause(void *opaque, struct verr **err)
{
	return call_owner(opaque, owner_pause, NULL, err);
}

static int src_resume(void *opaque, struct verr **err)
{
	return call_owner(opaque, owner_resume, NULL, err);
}

static int src_stop(void *opaque, struct snap_writer *w, struct verr **err)
{
	return call_owner(opaque, owner_stop, w, err);
}

static const struct migrate_source_ops src_ops = {
	.pause = src_pause,
	.resume = src_resume,
	.stop = src_stop,
};

static int owner_begin(struct machine *m, void *arg)
{
	struct src_ctx *c = arg;
	c->was_paused = m->paused;
	m->busy++;
	return 0;
}

static int owner_end(struct machine *m, void *arg)
{
	(void)arg;
	m->busy--;
	return 0;
}

int machine_migrate(struct machine *m, const struct migrate_params *p, struct migrate_progress *out,
		    struct verr **err)
{
	struct machine_migration *mg = migration_of(m);
	pthread_mutex_lock(&m->lock);
	bool busy = mg->active;
	mg->active = !busy;
	pthread_mutex_unlock(&m->lock);
	if (busy)
		return verr_set(err, EBUSY, "a migration is already in progress");
	struct src_ctx c = { .m = m, .copy_disks = p->disks && p->ndisks };
	int r;
	if (machine_call(m, owner_begin, &c) < 0) {
		r = verr_set(err, ESHUTDOWN, "the VM has stopped");
	} else {
		uint64_t size;
		void *ram = machine_ram(m, &size);
		r = migrate_source_run(ram, size, &src_ops, &c, p, &mg->st, err);
		if (machine_call(m, owner_end, NULL) < 0)
			log_debug("migration: the VM stopped meanwhile");
	}
	if (out)
		migrate_status_get(&mg->st, out);
	pthread_mutex_lock(&m->lock);
	mg->active = false;
	pthread_mutex_unlock(&m->lock);
	return r;
}

void machine_migration_progress(struct machine *m, struct migrate_progress *out)
{
	migrate_status_get(&migration_of(m)->st, out);
}

/* Microseconds as milliseconds with two decimals. */
static double round_ms(uint64_t us)
{
	return (double)((us + 5) / 10) / 100.0;
}

json_t *migrate_progress_json(const struct migrate_progress *p)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:I, s:I, s:I, s:I, s:i, s:I, s:I, s:I}", "status",
			      migrate_state_name(p->state), "mode", migrate_mode_name(p->mode), "phase",
			      p->phase ? p->phase : "none", "iterations", (int)p->round, "bytes", (json_int_t)p->bytes,
			      "pages", (json_int_t)p->pages, "remaining_pages", (json_int_t)p->dirty_pages,
			      "bandwidth_bps", (json_int_t)p->bandwidth_bps, "throttle_percent", (int)p->throttle_pct,
			      "page_requests", (json_int_t)p->page_requests, "total_ms", (json_int_t)p->total_ms,
			      "downtime_ms", (json_int_t)0);
	if (o) {
		json_object_set_new(o, "downtime_ms", json_real(round_ms(p->downtime_us)));
		json_object_set_new(o, "source_downtime_ms", json_real(round_ms(p->stop_to_sent_us)));
	}
	if (o && p->postcopy_requested)
		json_object_set_new(o, "postcopy_requested", json_true());
	if (o && p->cancel_requested)
		json_object_set_new(o, "cancel_requested", json_true());
	if (o) {
		json_object_set_new(o, "disks", json_string(p->disk_copy ? "copy" : "shared"));
		json_object_set_new(o, "disk_bytes", json_integer((json_int_t)p->disk_bytes));
		json_object_set_new(o, "disk_remaining_bytes", json_integer((json_int_t)p->disk_remaining));
	}
	if (o && p->state == MIGRATE_FAILED) {
		json_object_set_new(o, "error", json_string(p->error));
		json_object_set_new(o, "vm_lost", json_boolean(p->vm_lost));
	}
	return o;
}

int machine_api_migrate(void *opaque, const struct vm_api_migrate_req *req, json_t **result, struct verr **err)
{
	struct machine *m = opaque;
	struct migrate_params p = { .to = req->to, .max_downtime_ms = req->max_downtime_ms,
				    .precopy_rounds = req->precopy_rounds };
	if (migrate_mode_parse(req->mode, &p.mode) < 0)
		return verr_set(err, EINVAL, "mode '%s' is not precopy or postcopy", req->mode);
	if (req->disks && strcmp(req->disks, "copy") == 0) {
		p.disks = m->disks;
		p.ndisks = m->cfg.nr_disks;
	} else if (req->disks && strcmp(req->disks, "shared") != 0) {
		return verr_set(err, EINVAL, "disks '%s' is not shared or copy", req->disks);
	}
	struct migrate_progress pr;
	if (machine_migrate(m, &p, &pr, err) < 0) {
		if (pr.vm_lost) {
			log_error("migration failed after the postcopy switch: the VM cannot continue");
			machine_request_quit(m, 1);
		}
		return -1;
	}
	*result = json_pack("{s:I, s:f, s:f, s:i, s:I, s:I, s:s, s:s, s:I}", "total_ms", (json_int_t)pr.total_ms,
			    "downtime_ms", round_ms(pr.downtime_us), "source_downtime_ms", round_ms(pr.stop_to_sent_us),
			    "iterations", (int)pr.round, "bytes", (json_int_t)pr.bytes, "pages", (json_int_t)pr.pages,
			    "mode", migrate_mode_name(pr.mode), "disks", pr.disk_copy ? "copy" : "shared", "disk_bytes",
			    (json_int_t)pr.disk_bytes);
	return *result ? 0 : verr_set(err, ENOMEM, "build the answer");
}

void machine_api_migrated(void *opaque)
{
	/* The VM lives on at the destination. */
	machine_request_quit(opaque, 0);
}

int machine_api_migrate_postcopy(void *opaque, struct verr **err)
{
	if (migrate_status_request_postcopy(&migration_of(opaque)->st, err) < 0)
		return -1;
	log_info("migration: switching to postcopy after the current precopy round");
	return 0;
}

int machine_api_migrate_cancel(void *opaque, struct verr **err)
{
	if (migrate_status_request_cancel(&migration_of(opaque)->st, err) < 0)
		return -1;
	log_info("migration: cancelling");
	return 0;
}

const char *machine_migration_incoming_phase(struct machine *m)
{
	pthread_mutex_lock(&m->lock);
	struct machine_migration *mg = m->migration;
	pthread_mutex_unlock(&m->lock);
	switch (mg ? atomic_load(&mg->incoming) : INCOMING_NONE) {
	case INCOMING_WAITING: return "waiting";
	case INCOMING_RECEIVING: return "receiving";
	case INCOMING_RUNNING: return "running";
	default: return NULL;
	}
}

json_t *machine_api_migration_status(void *opaque, struct verr **err)
{
	struct migrate_progress pr;
	machine_migration_progress(opaque, &pr);
	json_t *o = migrate_progress_json(&pr);
	if (!o)
		verr_set(err, ENOMEM, "build the answer");
	return o;
}

/* ---- the destination ---- */

enum in_phase { IN_RECEIVING, IN_START, IN_STARTED, IN_ENDED };

struct incoming {
	struct machine *m;
	int conn;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum in_phase phase;
	int start_ret;
	struct verr *start_err;
	int ret;
	struct verr *err;
	struct migrate_progress prog;
};

static int in_load(void *opaque, const struct snap_section *sec, struct verr **err)
{
	struct incoming *in = opaque;
	int r = machine_load_section(in->m, sec, err);
	if (r < 0)
		return -1;
	return r == 0 ? snap_section_unknown(sec, err) : 0;
}

/* Disk i, opened without its lock (--incoming), is reopened behind its
 * device with the lock and fresh metadata (with shared storage the source
 * wrote to it since this process opened it). */
static int take_disk(struct machine *m, unsigned i, struct verr **err)
{
	struct block *old = m->disks[i], *nb = NULL;
	if (block_open(old->path, old->format, old->readonly, &nb, err) < 0)
		return -1;
	if (nb->size != old->size) {
		block_close(nb);
		return verr_set(err, EINVAL, "disk '%s' changed size during the migration", old->path);
	}
	block_close(virtio_blk_swap_disk(m->vblk[i], nb));
	m->disks[i] = nb;
	m->cfg.disks[i].migrating_in = false;
	return 0;
}

/* Shared storage: the source let go of the disks; take each over. */
static int activate_disks(struct machine *m, struct verr **err)
{
	for (unsigned i = 0; i < VM_MAX_DISKS; i++)
		if (m->disks[i] && m->cfg.disks[i].migrating_in && take_disk(m, i, err) < 0)
			return verr_wrap(err, "take over disk '%s'", m->disks[i]->path);
	return 0;
}

/* "disks": "copy" (the stream says so, before any state): these images
 * are this VM's own, the source keeps its; take them now, so that the same
 * file as the source's (one host, one path) is refused at once. */
static int in_take_disks(void *opaque, struct block **disks, unsigned *n, struct verr **err)
{
	struct incoming *in = opaque;
	struct machine *m = in->m;
	for (unsigned i = 0; i < m->cfg.nr_disks; i++) {
		if (m->cfg.disks[i].migrating_in && take_disk(m, i, err) < 0)
			return verr_wrap(err, "disk vd%c: with disks=copy the destination needs its own image", 'a' + i);
		disks[i] = m->disks[i];
	}
	*n = m->cfg.nr_disks;
	return 0;
}

/* On the receiving thread: the state is complete; the owner thread resumes
 * the VM (it never touches guest RAM itself, so a postcopy page it would
 * wait for cannot block it). */
static int in_start(void *opaque, struct verr **err)
{
	struct incoming *in = opaque;
	uint64_t t0 = now_ns();
	net_backend_set_migration(in->m->net, false); /* the state is loaded */
	if (machine_load_finish(in->m, err) < 0)
		return -1;
	uint64_t t1 = now_ns();
	if (activate_disks(in->m, err) < 0)
		return -1;
	uint64_t t2 = now_ns();
	pthread_mutex_lock(&in->lock);
	in->phase = IN_START;
	pthread_cond_broadcast(&in->cond);
	while (in->phase == IN_START)
		pthread_cond_wait(&in->cond, &in->lock);
	int r = in->start_ret;
	if (r < 0 && err) {
		*err = in->start_err;
		in->start_err = NULL;
	}
	pthread_mutex_unlock(&in->lock);
	log_debug("migration: load finish %.2f ms, disks %.2f ms, resume %.2f ms", (double)(t1 - t0) / 1e6,
		  (double)(t2 - t1) / 1e6, (double)(now_ns() - t2) / 1e6);
	return r;
}

static const struct migrate_dest_ops in_ops = {
	.load_section = in_load,
	.start = in_start,
	.take_disks = in_take_disks,
};

static void *in_main(void *arg)
{
	struct incoming *in = arg;
	uint64_t size;
	void *ram = machine_ram(in->m, &size);
	struct verr *e = NULL;
	/* the state takes over the source's TCP connections (net.h) */
	net_backend_set_migration(in->m->net, true);
	int r = migrate_dest_run(in->conn, ram, size, &in_ops, in, &in->prog, &e);
	atomic_store(&migration_of(in->m)->incoming, INCOMING_NONE);
	if (r < 0 && in->prog.vm_lost) {
		log_error("%s; the VM cannot continue", e->msg);
		machine_request_quit(in->m, 1);
	}
	pthread_mutex_lock(&in->lock);
	in->ret = r;
	in->err = e;
	in->phase = IN_ENDED;
	pthread_cond_broadcast(&in->cond);
	pthread_mutex_unlock(&in->lock);
	return NULL;
}

int machine_run_incoming(struct machine *m, const char *uri, void (*on_listen)(void *opaque, const char *addr),
			 void *opaque, struct migrate_progress *out, struct verr **err)
{
	int lfd = -1;
	if (migrate_listen(uri, &lfd, err) < 0)
		return -1;
	if (on_listen)
		on_listen(opaque, uri);
	struct machine_migration *mg = migration_of(m);
	atomic_store(&mg->incoming, INCOMING_WAITING);
	struct incoming in = { .m = m, .conn = -1 };
	int r = migrate_accept(lfd, -1, &in.conn, err);
	close(lfd);
	atomic_store(&mg->incoming, r < 0 ? INCOMING_NONE : INCOMING_RECEIVING);
	if (r < 0)
		return -1;
	pthread_mutex_init(&in.lock, NULL);
	pthread_cond_init(&in.cond, NULL);
	if (pthread_create(&in.thread, NULL, in_main, &in) != 0) {
		close(in.conn);
		atomic_store(&mg->incoming, INCOMING_NONE);
		return verr_set(err, EAGAIN, "start the migration thread");
	}
	pthread_mutex_lock(&in.lock);
	while (in.phase == IN_RECEIVING)
		pthread_cond_wait(&in.cond, &in.lock);
	bool start = in.phase == IN_START;
	pthread_mutex_unlock(&in.lock);
	int status = -1, sr = -1;
	struct verr *e = NULL;
	if (start) {
		sr = machine_resume(m, &e);
		/* before IN_STARTED: the receiving thread (which clears it when
		 * it ends) waits for that */
		if (sr == 0)
			atomic_store(&mg->incoming, INCOMING_RUNNING);
		pthread_mutex_lock(&in.lock);
		in.start_ret = sr;
		in.start_err = e;
		e = NULL;
		in.phase = IN_STARTED;
		pthread_cond_broadcast(&in.cond);
		pthread_mutex_unlock(&in.lock);
		if (sr == 0)
			status = machine_run(m, &e);
	}
	pthread_join(in.thread, NULL);
	close(in.conn);
	verr_free(in.start_err);
	if (out)
		*out = in.prog;
	pthread_mutex_destroy(&in.lock);
	pthread_cond_destroy(&in.cond);
	if (in.ret < 0 && (!start || sr < 0 || in.prog.vm_lost)) {
		verr_free(e);
		if (err)
			*err = in.err;
		else
			verr_free(in.err);
		return -1;
	}
	verr_free(in.err);
	if (status < 0 && e) {
		if (err)
			*err = e;
		else
			verr_free(e);
	}
	return status;
}
