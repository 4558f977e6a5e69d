/* The sending side of a live migration (see migrate.h). */
#include "vm/migrate/migrate.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"
#include "vm/migrate/dirty.h"
#include "vm/migrate/migrate_int.h"
#include "vm/state/stream.h"

#define BATCH 256	  /* pages per ram-batch section in precopy (1 MiB) */
#define PUSH_BATCH 32	  /* postcopy: small batches keep page requests fast */
#define ACK_TIMEOUT_MS 60000
#define THROTTLE_PERIOD_US 10000
#define DISK_ROUNDS 10	  /* disk-only rounds before the RAM (which carry disk granules too) */

struct src {
	uint8_t *ram;
	uint64_t size, npages, nwords;
	const struct migrate_source_ops *ops;
	void *opaque;
	const struct migrate_params *p;
	struct migrate_status *st;
	uint64_t max_downtime_ms;
	unsigned max_rounds;

	int fd;
	struct vstream *vs;
	struct snap_writer *w;
	struct migrate_dirty *dirty;
	struct mig_disk_src *disks; /* "disks": "copy" */
	uint64_t *bm;	/* pages to send this round */
	uint64_t *have; /* postcopy: pages the destination holds a current copy of */

	uint64_t pfns[BATCH];
	const void *ptrs[BATCH];
	uint8_t *buf; /* BATCH private page copies */
	unsigned n;

	/* return path */
	pthread_t rp_thread;
	bool rp_started;
	atomic_bool rp_stop;
	pthread_mutex_t rp_lock;
	pthread_cond_t rp_cond;
	bool got_running, got_done, rp_failed;
	bool dest_error; /* the destination reported a failure (MIG_RP_ERROR) */
	uint64_t synced; /* last mig-sync the destination caught up with */
	uint64_t nsync;	 /* mig-sync sections sent */
	char rp_err[160];
	uint64_t t_running;
	_Atomic uint64_t *req; /* postcopy: requested pages */
	atomic_uint_fast64_t nreq;

	/* auto-converge */
	pthread_t thr;
	bool thr_started;
	atomic_uint thr_pct;
	atomic_bool thr_stop;

	bool paused;
	bool switched; /* postcopy: the destination may be running */
	uint64_t disk_bw; /* bytes/s measured by the disk passes */
	uint64_t t_start, t_pause, t_sent;
};

static bool bm_get(const uint64_t *bm, uint64_t i)
{
	return (bm[i / 64] >> (i % 64)) & 1;
}

static void st_update(struct src *s)
{
	pthread_mutex_lock(&s->st->lock);
	s->st->p.bytes = vstream_pos(s->vs);
	pthread_mutex_unlock(&s->st->lock);
}

/* ---- return path ---- */

static void rp_fail(struct src *s, const char *msg)
{
	pthread_mutex_lock(&s->rp_lock);
	if (!s->rp_failed) {
		s->rp_failed = true;
		snprintf(s->rp_err, sizeof(s->rp_err), "%s", msg);
	}
	pthread_cond_broadcast(&s->rp_cond);
	pthread_mutex_unlock(&s->rp_lock);
}

static void *rp_main(void *arg)
{
	struct src *s = arg;
	while (!atomic_load(&s->rp_stop)) {
		struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
		int r = poll(&pfd, 1, 100);
		if (r < 0 && errno != EINTR) {
			rp_fail(s, "return path: poll failed");
			return NULL;
		}
		if (r <= 0)
			continue;
		uint8_t msg[MIG_RP_SIZE];
		int rr = read_full(s->fd, msg, sizeof(msg));
		if (rr < 0) {
			rp_fail(s, rr == -EIO ? "the destination closed the connection"
					      : "the connection to the destination failed");
			return NULL;
		}
		uint32_t type = le32_get(msg + 4);
		uint64_t arg64 = le64_get(msg + 8);
		if (le32_get(msg) != MIG_RP_MAGIC) {
			rp_fail(s, "the destination sent a malformed message");
			return NULL;
		}
		pthread_mutex_lock(&s->rp_lock);
		switch (type) {
		case MIG_RP_RUNNING:
			if (!s->got_running)
				s->t_running = now_ns();
			s->got_running = true;
			break;
		case MIG_RP_DONE:
			s->got_done = true;
			break;
		case MIG_RP_SYNCED:
			s->synced = arg64;
			break;
		case MIG_RP_PAGE_REQ:
			if (arg64 < s->npages && s->req) {
				atomic_fetch_or(&s->req[arg64 / 64], 1ull << (arg64 % 64));
				atomic_fetch_add(&s->nreq, 1);
			}
			break;
		case MIG_RP_ERROR:
		default:
			s->dest_error = type == MIG_RP_ERROR;
			pthread_mutex_unlock(&s->rp_lock);
			rp_fail(s, type == MIG_RP_ERROR ? "the destination reported an error (see its log)"
							: "the destination sent an unknown message");
			return NULL;
		}
		pthread_cond_broadcast(&s->rp_cond);
		pthread_mutex_unlock(&s->rp_lock);
	}
	return NULL;
}

static int rp_check(struct src *s, struct verr **err)
{
	pthread_mutex_lock(&s->rp_lock);
	bool failed = s->rp_failed;
	char msg[sizeof(s->rp_err)];
	memcpy(msg, s->rp_err, sizeof(msg));
	pthread_mutex_unlock(&s->rp_lock);
	if (failed)
		return verr_set(err, EPIPE, "%s", msg);
	return 0;
}

/* Waits until *flag (got_running / got_done) or a failure, or timeout. */
static int rp_wait(struct src *s, bool *flag, const char *what, struct verr **err)
{
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += ACK_TIMEOUT_MS / 1000;
	pthread_mutex_lock(&s->rp_lock);
	int r = 0;
	while (!*flag && !s->rp_failed && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&s->rp_cond, &s->rp_lock, &dl);
	bool ok = *flag;
	pthread_mutex_unlock(&s->rp_lock);
	if (ok)
		return 0;
	if (rp_check(s, err) < 0)
		return verr_wrap(err, "waiting for the destination to report %s", what);
	return verr_set(err, ETIMEDOUT, "the destination did not report %s within %d s", what,
			ACK_TIMEOUT_MS / 1000);
}

/* Waits until the destination has processed everything sent so far, so a
 * backlog in socket buffers neither hides in the bandwidth figure nor
 * lengthens the downtime. */
static int sync_dest(struct src *s, struct verr **err)
{
	uint64_t seq = ++s->nsync;
	uint8_t b[8];
	le64_put(b, seq);
	if (snap_put_section(s->w, MIG_SEC_SYNC, MIG_SEC_VERSION, SNAP_SEC_REQUIRED, b, sizeof(b), err) < 0)
		return verr_wrap(err, "send pages");
	int r = vstream_flush(s->vs);
	if (r < 0)
		return verr_set(err, -r, "send pages");
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += ACK_TIMEOUT_MS / 1000;
	pthread_mutex_lock(&s->rp_lock);
	int w = 0;
	while (s->synced < seq && !s->rp_failed && w != ETIMEDOUT)
		w = pthread_cond_timedwait(&s->rp_cond, &s->rp_lock, &dl);
	bool ok = s->synced >= seq;
	pthread_mutex_unlock(&s->rp_lock);
	if (ok)
		return 0;
	if (rp_check(s, err) < 0)
		return -1;
	return verr_set(err, ETIMEDOUT, "the destination did not keep up within %d s", ACK_TIMEOUT_MS / 1000);
}

/* ---- auto-converge ---- */

unsigned mig_throttle_step(unsigned round, uint64_t dirty, uint64_t prev_dirty, unsigned pct)
{
	/* A round that did not shrink the dirty set by a fifth means the
	 * guest dirties as fast as we send: hold it longer. */
	if (round < 2 || dirty * 5 <= prev_dirty * 4)
		return pct;
	return pct == 0 ? 20 : (pct + 10 > 90 ? 90 : pct + 10);
}

static void sleep_us(unsigned us)
{
	struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Holds the vCPUs for thr_pct percent of every 10 ms. */
static void *throttle_main(void *arg)
{
	struct src *s = arg;
	while (!atomic_load(&s->thr_stop)) {
		unsigned pct = atomic_load(&s->thr_pct);
		if (pct == 0) {
			sleep_us(THROTTLE_PERIOD_US);
			continue;
		}
		struct verr *e = NULL;
		if (s->ops->pause(s->opaque, &e) < 0) {
			log_warn("migration: throttle: %s", e->msg);
			verr_free(e);
			sleep_us(THROTTLE_PERIOD_US);
			continue;
		}
		sleep_us(THROTTLE_PERIOD_US / 100 * pct);
		if (s->ops->resume(s->opaque, &e) < 0) {
			log_warn("migration: throttle: %s", e->msg);
			verr_free(e);
		}
		sleep_us(THROTTLE_PERIOD_US / 100 * (100 - pct));
	}
	return NULL;
}

static void throttle_stop(struct src *s)
{
	if (s->thr_started) {
		atomic_store(&s->thr_stop, true);
		pthread_join(s->thr, NULL);
		s->thr_started = false;
	}
}

/* ---- sending pages ---- */

/* A cancel asked for through the API (migrate_status_request_cancel) ends
 * the migration as a failure, as long as the VM was not stopped for the
 * end (after that the destination may already run it). */
static int check_cancel(struct src *s, struct verr **err)
{
	if (s->paused)
		return 0;
	pthread_mutex_lock(&s->st->lock);
	bool cancel = s->st->p.cancel_requested;
	pthread_mutex_unlock(&s->st->lock);
	return cancel ? verr_set(err, ECANCELED, "migration cancelled") : 0;
}

static int batch_flush(struct src *s, bool push, struct verr **err)
{
	if (s->n) {
		if (snap_write_ram_batch(s->w, s->pfns, s->ptrs, s->n, err) < 0)
			return verr_wrap(err, "send pages");
		pthread_mutex_lock(&s->st->lock);
		s->st->p.pages += s->n;
		pthread_mutex_unlock(&s->st->lock);
		s->n = 0;
	}
	if (push) {
		int r = vstream_flush(s->vs);
		if (r < 0)
			return verr_set(err, -r, "send pages");
	}
	st_update(s);
	if (check_cancel(s, err) < 0)
		return -1;
	return rp_check(s, err);
}

/* Queues page pfn; skip_zero: leave zero pages out (round 0: the
 * destination's memory starts zeroed). Returns 1 if queued with data, 0 if
 * skipped or sent as a zero page (the destination does not count a zero
 * page it never held data for as received). */
static int batch_add(struct src *s, uint64_t pfn, bool skip_zero, unsigned limit, struct verr **err)
{
	/* Copy first: the guest may be writing the page, and the copy is what
	 * gets checksummed and sent (a later write is caught by tracking). */
	uint8_t *slot = s->buf + (size_t)s->n * MIG_PAGE;
	memcpy(slot, s->ram + pfn * MIG_PAGE, MIG_PAGE);
	bool zero = mig_page_is_zero(slot);
	if (zero && skip_zero)
		return 0;
	s->pfns[s->n] = pfn;
	s->ptrs[s->n] = zero ? NULL : slot;
	if (++s->n >= limit && batch_flush(s, false, err) < 0)
		return -1;
	return zero ? 0 : 1;
}

/* Sends the pages set in s->bm. Returns the bytes it took, or -1. */
static int send_bitmap(struct src *s, bool skip_zero, uint64_t *sent_bm, struct verr **err)
{
	for (uint64_t wi = 0; wi < s->nwords; wi++) {
		uint64_t word = s->bm[wi];
		while (word) {
			uint64_t pfn = wi * 64 + (uint64_t)__builtin_ctzll(word);
			word &= word - 1;
			int r = batch_add(s, pfn, skip_zero, BATCH, err);
			if (r < 0)
				return -1;
			if (sent_bm)
				sent_bm[pfn / 64] |= (uint64_t)r << (pfn % 64);
		}
	}
	return batch_flush(s, false, err);
}

static uint64_t bw_or_default(uint64_t bw)
{
	/* Too little data to measure: assume 100 MB/s rather than infinity. */
	return bw < (100ull << 20) ? (100ull << 20) : bw;
}

static void set_phase(struct src *s, const char *phase, unsigned round, uint64_t dirty)
{
	pthread_mutex_lock(&s->st->lock);
	s->st->p.phase = phase;
	s->st->p.round = round;
	s->st->p.dirty_pages = dirty;
	if (s->disks)
		s->st->p.disk_remaining = mig_disk_src_remaining(s->disks);
	s->st->p.throttle_pct = atomic_load(&s->thr_pct);
	pthread_mutex_unlock(&s->st->lock);
}

/* After each disk chunk: progress, and a failed destination ends it. */
static int disk_tick(void *opaque, struct verr **err)
{
	struct src *s = opaque;
	pthread_mutex_lock(&s->st->lock);
	s->st->p.bytes = vstream_pos(s->vs);
	s->st->p.disk_bytes = mig_disk_src_sent(s->disks);
	s->st->p.disk_remaining = mig_disk_src_remaining(s->disks);
	pthread_mutex_unlock(&s->st->lock);
	if (check_cancel(s, err) < 0)
		return -1;
	return rp_check(s, err);
}

/* Disk contents before any RAM: a full pass, then rounds of the granules
 * written meanwhile until they fit the downtime budget (as RAM rounds do)
 * or DISK_ROUNDS. *bw: bytes per second measured. */
static int disk_precopy(struct src *s, uint64_t *bw, struct verr **err)
{
	for (unsigned round = 0;; round++) {
		uint64_t left = round ? mig_disk_src_collect(s->disks) : mig_disk_src_remaining(s->disks);
		uint64_t est_us = left * 1000000 / bw_or_default(*bw);
		set_phase(s, "disk", round, 0);
		log_debug("migration: disk round %u: %llu KiB to send, %.1f ms", round, (unsigned long long)(left >> 10),
			  (double)est_us / 1000);
		if (round && (est_us * 2 <= s->max_downtime_ms * 1000 || round >= DISK_ROUNDS)) {
			set_phase(s, "disk", 0, 0); /* "iterations" count RAM rounds */
			return 0;
		}
		uint64_t t0 = now_ns(), b0 = vstream_pos(s->vs);
		if (mig_disk_src_send(s->disks, s->w, disk_tick, s, err) < 0 || sync_dest(s, err) < 0)
			return -1;
		uint64_t dt = now_ns() - t0, db = vstream_pos(s->vs) - b0;
		if (dt && db > (1u << 20))
			*bw = db * 1000000000ull / dt;
	}
}

/* The last stop: the downtime starts here. Whatever happens, the VM may
 * be paused now (resume is a no-op otherwise). */
static int do_stop(struct src *s, struct verr **err)
{
	s->t_pause = now_ns();
	s->paused = true;
	if (s->ops->stop(s->opaque, s->w, err) < 0)
		return verr_wrap(err, "stop the VM and save its state");
	/* the stop completed the disk requests: the last written granules */
	if (s->disks) {
		uint64_t n = mig_disk_src_collect(s->disks);
		uint64_t t0 = now_ns();
		if (mig_disk_src_send(s->disks, s->w, disk_tick, s, err) < 0)
			return -1;
		log_debug("migration: stop: last disk granules (%llu KiB) %.2f ms", (unsigned long long)(n >> 10),
			  (double)(now_ns() - t0) / 1e6);
	}
	return 0;
}

/* Round 0: every populated non-zero page. Returns bytes/s measured. */
static int round0(struct src *s, uint64_t *sent_bm, uint64_t *bw, struct verr **err)
{
	int64_t n = migrate_dirty_populated(s->dirty, s->bm, err);
	if (n < 0)
		return -1;
	set_phase(s, "precopy", 0, (uint64_t)n);
	uint64_t t0 = now_ns(), b0 = vstream_pos(s->vs);
	if (send_bitmap(s, true, sent_bm, err) < 0 || sync_dest(s, err) < 0)
		return -1;
	uint64_t dt = now_ns() - t0, db = vstream_pos(s->vs) - b0;
	*bw = dt ? db * 1000000000ull / dt : 0;
	return 0;
}

static int switch_to_postcopy(struct src *s, bool collected, struct verr **err);

/* Whether the rounds end in a postcopy switch: postcopy mode after its
 * precopy rounds, or a switch asked for while they run
 * (migrate_status_request_postcopy). */
static bool postcopy_due(struct src *s, unsigned round)
{
	if (s->p->mode == MIGRATE_POSTCOPY && round >= s->p->precopy_rounds)
		return true;
	pthread_mutex_lock(&s->st->lock);
	bool asked = s->st->p.postcopy_requested;
	pthread_mutex_unlock(&s->st->lock);
	return asked;
}

/* Precopy rounds; then stop-and-copy, or the postcopy switch (postcopy
 * mode, or a switch asked for meanwhile: after the round under way). */
static int run_precopy(struct src *s, struct verr **err)
{
	uint64_t bw = 0, disk_bw = s->disks ? s->disk_bw : 0;
	if (round0(s, s->have, &bw, err) < 0)
		return -1;
	if (bw < disk_bw)
		bw = disk_bw;
	uint64_t prev = UINT64_MAX;
	unsigned round = 1;
	int64_t n;
	for (;; round++) {
		n = migrate_dirty_collect(s->dirty, s->bm, err);
		if (n < 0)
			return -1;
		/* disk granules written meanwhile count in the estimate */
		uint64_t disk_left = s->disks ? mig_disk_src_collect(s->disks) : 0;
		uint64_t est_us = ((uint64_t)n * MIG_PAGE + disk_left) * 1000000 / bw_or_default(bw);
		set_phase(s, "precopy", round, (uint64_t)n);
		if (check_cancel(s, err) < 0)
			return -1;
		log_debug("migration: round %u: %lld pages dirty, %.1f ms at %.0f MiB/s", round, (long long)n,
			  (double)est_us / 1000, (double)bw_or_default(bw) / (1 << 20));
		if (postcopy_due(s, round)) {
			throttle_stop(s);
			return switch_to_postcopy(s, true, err);
		}
		/* Half the budget: the stop itself, the pages written between
		 * this scan and the stop, and the destination's start take the
		 * rest (measured: a guest rewriting 64 MiB overshot a 20 ms
		 * budget by 1.5x with the whole budget for the estimate).
		 * Postcopy mode switches then, with little left to move. */
		if (est_us * 2 <= s->max_downtime_ms * 1000 || round >= s->max_rounds) {
			if (s->p->mode == MIGRATE_POSTCOPY) {
				throttle_stop(s);
				return switch_to_postcopy(s, true, err);
			}
			break;
		}
		/* the work left, in pages: a guest dirtying its disk faster than
		 * the link carries it is held like one dirtying its RAM */
		uint64_t work = (uint64_t)n + disk_left / MIG_PAGE;
		unsigned pct = mig_throttle_step(round, work, prev, atomic_load(&s->thr_pct));
		if (pct != atomic_load(&s->thr_pct)) {
			atomic_store(&s->thr_pct, pct);
			if (!s->thr_started) {
				atomic_store(&s->thr_stop, false);
				if (pthread_create(&s->thr, NULL, throttle_main, s) == 0)
					s->thr_started = true;
			}
			log_info("migration: round %u: %lld pages dirty, throttling vCPUs to %u%%", round,
				 (long long)n, 100 - pct);
		}
		prev = work;
		uint64_t t0 = now_ns(), b0 = vstream_pos(s->vs);
		if (s->disks && mig_disk_src_send(s->disks, s->w, disk_tick, s, err) < 0)
			return -1;
		if (send_bitmap(s, false, s->have, err) < 0 || sync_dest(s, err) < 0)
			return -1;
		uint64_t dt = now_ns() - t0, db = vstream_pos(s->vs) - b0;
		if (dt && db > (1u << 20))
			bw = db * 1000000000ull / dt;
		pthread_mutex_lock(&s->st->lock);
		s->st->p.bandwidth_bps = bw;
		pthread_mutex_unlock(&s->st->lock);
	}
	/* Stop-and-copy: s->bm holds the last collected (unsent) set. The
	 * state goes first (the destination loads it while pages arrive). */
	throttle_stop(s);
	if (do_stop(s, err) < 0)
		return -1;
	uint64_t t1 = now_ns();
	set_phase(s, "stop-and-copy", round, (uint64_t)n);
	if (send_bitmap(s, false, NULL, err) < 0)
		return -1;
	int64_t n2 = migrate_dirty_collect(s->dirty, s->bm, err);
	if (n2 < 0 || send_bitmap(s, false, NULL, err) < 0)
		return -1;
	if (snap_writer_finish(s->w, err) < 0)
		return verr_wrap(err, "send the VM state");
	uint64_t t2 = s->t_sent = now_ns();
	st_update(s);
	int r = rp_wait(s, &s->got_running, "that the VM runs", err);
	log_debug("migration: stop-and-copy: stop + state %.2f ms, last pages (%lld) %.2f ms, end to running %.2f ms",
		  (double)(t1 - s->t_pause) / 1e6, (long long)(n + n2), (double)(t2 - t1) / 1e6,
		  (double)(s->t_running - t2) / 1e6);
	return r;
}

/* Postcopy: after the switch, serve page requests first, push the rest. */
static int push_pages(struct src *s, struct verr **err)
{
	uint64_t cursor = 0, left = 0;
	for (uint64_t i = 0; i < s->nwords; i++)
		left += (uint64_t)__builtin_popcountll(~s->have[i] & (i == s->nwords - 1 && s->npages % 64
									     ? (1ull << (s->npages % 64)) - 1
									     : ~0ull));
	uint64_t rcursor = 0;
	while (left > 0) {
		/* requested pages first */
		if (atomic_load(&s->nreq) > 0) {
			atomic_store(&s->nreq, 0);
			for (uint64_t k = 0; k < s->nwords; k++) {
				uint64_t wi = (rcursor + k) % s->nwords;
				uint64_t word = atomic_exchange(&s->req[wi], 0);
				while (word) {
					uint64_t pfn = wi * 64 + (uint64_t)__builtin_ctzll(word);
					word &= word - 1;
					if (!bm_get(s->have, pfn)) {
						s->have[pfn / 64] |= 1ull << (pfn % 64);
						left--;
					}
					if (batch_add(s, pfn, false, PUSH_BATCH, err) < 0)
						return -1;
				}
			}
			if (batch_flush(s, true, err) < 0)
				return -1;
			pthread_mutex_lock(&s->st->lock);
			s->st->p.page_requests++;
			pthread_mutex_unlock(&s->st->lock);
		}
		/* then a small batch in the background */
		unsigned queued = 0;
		while (queued < PUSH_BATCH && left > 0) {
			if (!bm_get(s->have, cursor)) {
				s->have[cursor / 64] |= 1ull << (cursor % 64);
				left--;
				queued++;
				if (batch_add(s, cursor, false, PUSH_BATCH + 1, err) < 0)
					return -1;
			}
			cursor = (cursor + 1) % s->npages;
		}
		if (batch_flush(s, true, err) < 0)
			return -1;
		pthread_mutex_lock(&s->st->lock);
		s->st->p.dirty_pages = left;
		pthread_mutex_unlock(&s->st->lock);
	}
	return 0;
}

/* The postcopy switch: stop, state, the pages the destination must drop,
 * start there, then serve its page requests and push the rest. With dirty
 * tracking, s->have holds the pages the precopy rounds sent with data and
 * (collected) s->bm those written since they were last sent. */
static int switch_to_postcopy(struct src *s, bool collected, struct verr **err)
{
	s->req = xcalloc(s->nwords, sizeof(*s->req));
	if (do_stop(s, err) < 0)
		return -1;
	pthread_mutex_lock(&s->st->lock);
	s->st->p.mode = MIGRATE_POSTCOPY;
	unsigned rounds = s->st->p.round;
	pthread_mutex_unlock(&s->st->lock);
	set_phase(s, "postcopy", rounds, s->npages);
	/* Pages written since they were sent are stale on the destination. */
	struct state_buf b = { 0 };
	state_put_u64(&b, s->npages);
	if (s->dirty) {
		uint64_t *more = collected ? xcalloc(s->nwords, sizeof(uint64_t)) : s->bm;
		int64_t n = migrate_dirty_collect(s->dirty, more, err);
		if (n >= 0 && collected)
			for (uint64_t i = 0; i < s->nwords; i++)
				s->bm[i] |= more[i];
		if (collected)
			free(more);
		if (n < 0) {
			state_buf_free(&b);
			return -1;
		}
		for (uint64_t i = 0; i < s->nwords; i++)
			s->have[i] &= ~s->bm[i];
	} else {
		memset(s->bm, 0, s->nwords * sizeof(uint64_t));
	}
	for (uint64_t i = 0; i < s->nwords; i++)
		state_put_u64(&b, s->bm[i]);
	int r = snap_put_section(s->w, MIG_SEC_POSTCOPY, MIG_SEC_VERSION, SNAP_SEC_REQUIRED, b.p, b.len, err);
	state_buf_free(&b);
	if (r < 0)
		return verr_wrap(err, "send the postcopy setup");
	migrate_dirty_stop(s->dirty);
	s->dirty = NULL;
	static const uint8_t empty[1];
	if (snap_put_section(s->w, MIG_SEC_START, MIG_SEC_VERSION, SNAP_SEC_REQUIRED, empty, 0, err) < 0)
		return verr_wrap(err, "send the VM state");
	int fr = vstream_flush(s->vs);
	if (fr < 0)
		return verr_set(err, -fr, "send the VM state");
	s->t_sent = now_ns();
	/* From here on the destination may run the VM. */
	s->switched = true;
	if (push_pages(s, err) < 0)
		return -1;
	if (snap_writer_finish(s->w, err) < 0)
		return verr_wrap(err, "finish the stream");
	st_update(s);
	if (rp_wait(s, &s->got_running, "that the VM runs", err) < 0)
		return -1;
	return rp_wait(s, &s->got_done, "that all pages arrived", err);
}

static int run_postcopy(struct src *s, struct verr **err)
{
	if (s->dirty && s->p->precopy_rounds > 0)
		return run_precopy(s, err);
	return switch_to_postcopy(s, false, err);
}

static void src_cleanup(struct src *s)
{
	throttle_stop(s);
	if (s->rp_started) {
		atomic_store(&s->rp_stop, true);
		if (s->fd >= 0)
			shutdown(s->fd, SHUT_RDWR);
		pthread_join(s->rp_thread, NULL);
	}
	snap_writer_destroy(s->w);
	vstream_destroy(s->vs);
	if (s->fd >= 0)
		close(s->fd);
	migrate_dirty_stop(s->dirty);
	mig_disk_src_free(s->disks);
	free(s->bm);
	free(s->have);
	free((void *)s->req);
	free(s->buf);
	pthread_mutex_destroy(&s->rp_lock);
	pthread_cond_destroy(&s->rp_cond);
}

static int src_run(struct src *s, struct verr **err)
{
	const struct migrate_params *p = s->p;
	if (p->mode == MIGRATE_PRECOPY || p->precopy_rounds > 0) {
		if (migrate_dirty_start(s->ram, s->size, &s->dirty, err) < 0) {
			if (p->mode == MIGRATE_PRECOPY)
				return verr_wrap(err, "precopy needs dirty page tracking (use postcopy on this kernel)");
			log_warn("migration: no dirty tracking (%s); postcopy without a precopy round", (*err)->msg);
			verr_clear(err);
		}
	}
	if (mig_connect(p->to, &s->fd, err) < 0)
		return -1;
	/* Bounded writes: a destination that stops reading fails the
	 * migration instead of hanging the source. */
	mig_socket_setup(s->fd, 30000, 0);
	s->vs = vstream_fd_new(s->fd, true, false);
	if (snap_writer_new(s->vs, SNAP_F_STREAM, &s->w, err) < 0)
		return -1;
	uint8_t setup[16];
	le64_put(setup, s->size);
	le32_put(setup + 8, MIG_PAGE);
	le32_put(setup + 12, (uint32_t)p->mode);
	if (snap_put_section(s->w, MIG_SEC_SETUP, MIG_SEC_VERSION, SNAP_SEC_REQUIRED, setup, sizeof(setup), err) < 0)
		return -1;
	if (pthread_create(&s->rp_thread, NULL, rp_main, s) != 0)
		return verr_set(err, EAGAIN, "start the return-path thread");
	s->rp_started = true;
	if (p->disks && p->ndisks) { /* (a VM without disks has nothing to copy) */
		if (p->ndisks > MIGRATE_MAX_DISKS)
			return verr_set(err, EINVAL, "%u disks: at most %d can be copied", p->ndisks, MIGRATE_MAX_DISKS);
		s->disks = mig_disk_src_new(p->disks, p->ndisks);
		if (mig_disk_src_setup(s->disks, s->w, err) < 0 || disk_precopy(s, &s->disk_bw, err) < 0)
			return -1;
	}
	return p->mode == MIGRATE_PRECOPY ? run_precopy(s, err) : run_postcopy(s, err);
}

int migrate_source_run(void *ram_hva, uint64_t ram_size, const struct migrate_source_ops *ops, void *opaque,
		       const struct migrate_params *p, struct migrate_status *st, struct verr **err)
{
	sigset_t pipe_set, old;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);

	struct src s = {
		.ram = ram_hva,
		.size = ram_size,
		.npages = ram_size / MIG_PAGE,
		.nwords = (ram_size / MIG_PAGE + 63) / 64,
		.ops = ops,
		.opaque = opaque,
		.p = p,
		.st = st,
		.max_downtime_ms = p->max_downtime_ms ? p->max_downtime_ms : MIGRATE_DEFAULT_DOWNTIME_MS,
		.max_rounds = p->max_rounds ? p->max_rounds : MIGRATE_DEFAULT_MAX_ROUNDS,
		.fd = -1,
		.t_start = now_ns(),
	};
	pthread_mutex_init(&s.rp_lock, NULL);
	pthread_cond_init(&s.rp_cond, NULL);
	s.bm = xcalloc(s.nwords, sizeof(uint64_t));
	s.have = xcalloc(s.nwords, sizeof(uint64_t));
	s.buf = xmalloc((size_t)BATCH * MIG_PAGE);
	pthread_mutex_lock(&st->lock);
	memset(&st->p, 0, sizeof(st->p));
	st->p.state = MIGRATE_ACTIVE;
	st->p.mode = p->mode;
	st->p.phase = "setup";
	st->p.disk_copy = p->disks && p->ndisks;
	pthread_mutex_unlock(&st->lock);

	int r = 0;
	struct verr *e = NULL;
	if ((ram_size & (MIG_PAGE - 1)) || ram_size == 0) {
		r = verr_set(&e, EINVAL, "RAM size %llu is not a multiple of the page size",
			     (unsigned long long)ram_size);
	} else {
		r = src_run(&s, &e);
	}
	uint64_t t_end = now_ns();
	if (r < 0 && s.switched && s.rp_started) {
		/* let the return path read what the destination said last (an
		 * error before "running" means it never ran the VM) */
		struct timespec dl;
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += 2;
		pthread_mutex_lock(&s.rp_lock);
		while (!s.rp_failed && !s.got_running &&
		       pthread_cond_timedwait(&s.rp_cond, &s.rp_lock, &dl) != ETIMEDOUT)
			;
		pthread_mutex_unlock(&s.rp_lock);
	}
	src_cleanup(&s);
	/* After the switch the destination may run the VM, unless it reported
	 * a failure without having reported that it runs (its messages come in
	 * order): e.g. no userfaultfd there. Then the source still has it all. */
	bool lost = s.switched && !(s.dest_error && !s.got_running);
	if (r < 0 && lost)
		log_error("migration: postcopy failed after the switch; the VM cannot continue");

	if (r < 0 && s.paused && !lost) {
		struct verr *re = NULL;
		if (ops->resume(opaque, &re) < 0) {
			log_error("migration: resume after failure: %s", re->msg);
			verr_free(re);
		}
	}
	pthread_mutex_lock(&st->lock);
	st->p.total_ms = (t_end - s.t_start) / 1000000;
	if (r == 0) {
		st->p.state = MIGRATE_COMPLETED;
		st->p.phase = "done";
		st->p.dirty_pages = 0;
		st->p.disk_remaining = 0;
		st->p.downtime_us = (s.t_running - s.t_pause) / 1000;
		/* the answer can beat this thread back from its last write */
		st->p.stop_to_sent_us = ((s.t_sent < s.t_running ? s.t_sent : s.t_running) - s.t_pause) / 1000;
		st->p.throttle_pct = 0;
	} else {
		st->p.state = MIGRATE_FAILED;
		st->p.vm_lost = lost;
		snprintf(st->p.error, sizeof(st->p.error), "%s", e ? e->msg : "unknown error");
	}
	pthread_mutex_unlock(&st->lock);

	/* A SIGPIPE raised by a write to the closed socket stays pending on
	 * this thread: consume it before unblocking. */
	struct timespec zero = { 0, 0 };
	while (sigtimedwait(&pipe_set, NULL, &zero) > 0)
		;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0) {
		if (err)
			*err = e;
		else
			verr_free(e);
		return -1;
	}
	return 0;
}
