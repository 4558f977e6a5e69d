/* Live migration engine: dirty page tracking (userfaultfd async
 * write-protect + PAGEMAP_SCAN) on anonymous and private file memory,
 * precopy and postcopy between two threads over loopback TCP against a
 * plain memory region and a fake device state, and a destination fed
 * truncated or corrupted streams. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "vm/migrate/dirty.h"
#include "vm/migrate/migrate.h"
#include "vm/migrate/migrate_int.h"
#include "vm/state/snap.h"
#include "vm/state/stream.h"
#include <stdatomic.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#define PG 4096u

static bool bit(const uint64_t *bm, uint64_t i)
{
	return (bm[i / 64] >> (i % 64)) & 1;
}

static void *map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	assert_true(p != MAP_FAILED);
	return p;
}

/* Writes are reported once per collect, by page; reads are not; a
 * collect re-protects, so the next collect only sees newer writes. */
static void check_tracking(uint8_t *mem, size_t npages, size_t file_pages)
{
	struct verr *err = NULL;
	struct migrate_dirty *d = NULL;
	uint64_t *bm = xcalloc((npages + 63) / 64, 8);
	if (migrate_dirty_start(mem, npages * PG, &d, &err) < 0)
		fail_msg("%s", err->msg);

	assert_int_equal(migrate_dirty_collect(d, bm, &err), 0);
	mem[3 * PG] = 1;
	mem[5 * PG + 100] = 2;
	volatile uint8_t sink = mem[7 * PG];
	(void)sink;
	mem[(npages - 1) * PG + PG - 1] = 3;
	assert_int_equal(migrate_dirty_collect(d, bm, &err), 3);
	assert_true(bit(bm, 3) && bit(bm, 5) && bit(bm, npages - 1));
	assert_false(bit(bm, 7) || bit(bm, 4));
	assert_int_equal(migrate_dirty_collect(d, bm, &err), 0);
	mem[5 * PG] = 9;
	assert_int_equal(migrate_dirty_collect(d, bm, &err), 1);
	assert_true(bit(bm, 5));
	/* Kernel writes (read() into the region) are tracked too. */
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "hello", 5), 5);
	assert_int_equal(read(p[0], mem + 9 * PG, 5), 5);
	close(p[0]);
	close(p[1]);
	assert_int_equal(migrate_dirty_collect(d, bm, &err), 1);
	assert_true(bit(bm, 9));
	/* Populated pages: the ones written at some point. */
	int64_t pop = migrate_dirty_populated(d, bm, &err);
	assert_true(pop >= 4);
	assert_true(bit(bm, 3) && bit(bm, 5) && bit(bm, 9));
	assert_false(bit(bm, npages - 2));
	for (size_t i = 0; i < file_pages; i++)
		assert_true(bit(bm, i));
	migrate_dirty_stop(d);
	/* After stop the memory is ordinary again. */
	mem[11 * PG] = 4;
	free(bm);
}

static void test_dirty_anon(void **state)
{
	(void)state;
	struct verr *err = NULL;
	if (migrate_dirty_probe(&err) < 0)
		fail_msg("%s", err->msg);
	size_t npages = 300;
	uint8_t *mem = map_anon(npages * PG);
	check_tracking(mem, npages, 0);
	munmap(mem, npages * PG);
}

/* RAM restored lazily from a snapshot is a MAP_PRIVATE file mapping. */
static void test_dirty_private_file(void **state)
{
	(void)state;
	size_t npages = 64;
	char path[] = "/tmp/vessel-test-migrate.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	uint8_t *buf = xcalloc(npages, PG);
	memset(buf, 0x5a, npages * PG);
	assert_int_equal(write(fd, buf, npages * PG), (ssize_t)(npages * PG));
	free(buf);
	uint8_t *mem = map_anon(npages * PG);
	assert_true(mmap(mem, 32 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 0) != MAP_FAILED);
	volatile uint8_t sink = mem[2 * PG]; /* a mapped, unwritten file page */
	(void)sink;
	check_tracking(mem, npages, 32);
	assert_int_equal(mem[2 * PG], 0x5a);
	munmap(mem, npages * PG);
	close(fd);
}

static void test_dirty_bad_region(void **state)
{
	(void)state;
	struct verr *err = NULL;
	struct migrate_dirty *d = NULL;
	assert_int_equal(migrate_dirty_start((void *)4097, PG, &d, &err), -1);
	assert_non_null(strstr(err->msg, "not page-aligned"));
	verr_clear(&err);
}

/* ---- a fake VM: RAM, a "guest" thread, device state ---- */

#define VM_PAGES 1024 /* 4 MiB */
#define VM_SIZE ((uint64_t)VM_PAGES * PG)

struct fake_vm {
	uint8_t *ram;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool pause_req, paused, stop;
	unsigned pauses, resumes, stops;
	uint64_t counter; /* "device state": the guest's progress */
	unsigned dirty_pages; /* pages the guest rewrites in a loop (0: idle) */
	pthread_t thread;
	/* destination side */
	bool started;
	uint64_t loaded_counter;
	bool counter_loaded;
};

static void *guest_main(void *arg)
{
	struct fake_vm *vm = arg;
	uint64_t i = 0;
	pthread_mutex_lock(&vm->lock);
	while (!vm->stop) {
		if (vm->pause_req) {
			vm->paused = true;
			pthread_cond_broadcast(&vm->cond);
			while (vm->pause_req && !vm->stop)
				pthread_cond_wait(&vm->cond, &vm->lock);
			vm->paused = false;
			continue;
		}
		vm->counter++;
		/* 1000 pages or more: a heavy writer, all of them per step */
		for (unsigned k = 0; vm->dirty_pages && k < (vm->dirty_pages >= 1000 ? vm->dirty_pages : 1u); k++) {
			uint64_t pg = 16 + (i++ % vm->dirty_pages);
			memcpy(vm->ram + pg * PG + (vm->counter % 500) * 8, &vm->counter, 8);
		}
		memcpy(vm->ram + 8 * PG, &vm->counter, 8);
		pthread_mutex_unlock(&vm->lock);
		if (!vm->dirty_pages)
			usleep(200);
		pthread_mutex_lock(&vm->lock);
	}
	pthread_mutex_unlock(&vm->lock);
	return NULL;
}

static int fake_pause(void *opaque, struct verr **err)
{
	struct fake_vm *vm = opaque;
	pthread_mutex_lock(&vm->lock);
	vm->pause_req = true;
	vm->pauses++;
	while (!vm->paused)
		pthread_cond_wait(&vm->cond, &vm->lock);
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

static int fake_resume(void *opaque, struct verr **err)
{
	struct fake_vm *vm = opaque;
	pthread_mutex_lock(&vm->lock);
	vm->pause_req = false;
	vm->resumes++;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

static int fake_stop(void *opaque, struct snap_writer *w, struct verr **err)
{
	struct fake_vm *vm = opaque;
	if (fake_pause(opaque, err) < 0)
		return -1;
	vm->stops++;
	uint8_t b[8];
	le64_put(b, vm->counter);
	return snap_put_section(w, "fake-dev", 1, SNAP_SEC_REQUIRED, b, sizeof(b), err);
}

static int fake_load(void *opaque, const struct snap_section *sec, struct verr **err)
{
	struct fake_vm *vm = opaque;
	if (strcmp(sec->name, "fake-dev") != 0)
		return snap_section_unknown(sec, err);
	if (sec->len != 8)
		return verr_set(err, EINVAL, "fake-dev: bad length");
	vm->loaded_counter = le64_get(sec->data);
	vm->counter_loaded = true;
	return 0;
}

static int fake_start(void *opaque, struct verr **err)
{
	struct fake_vm *vm = opaque;
	if (!vm->counter_loaded)
		return verr_set(err, EINVAL, "start without device state");
	vm->started = true;
	return 0;
}

static const struct migrate_source_ops fake_src_ops = {
	.pause = fake_pause, .resume = fake_resume, .stop = fake_stop
};
static const struct migrate_dest_ops fake_dst_ops = { fake_load, fake_start };

static void fake_init(struct fake_vm *vm, unsigned dirty_pages)
{
	memset(vm, 0, sizeof(*vm));
	vm->ram = map_anon(VM_SIZE);
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	vm->dirty_pages = dirty_pages;
	/* some content: a pattern in a third of the pages, the rest zero */
	for (unsigned p = 0; p < VM_PAGES; p += 3)
		memset(vm->ram + (uint64_t)p * PG, (int)(p % 251) + 1, PG);
}

static void fake_run(struct fake_vm *vm)
{
	assert_int_equal(pthread_create(&vm->thread, NULL, guest_main, vm), 0);
}

static void fake_fini(struct fake_vm *vm)
{
	if (vm->thread) {
		pthread_mutex_lock(&vm->lock);
		vm->stop = true;
		pthread_cond_broadcast(&vm->cond);
		pthread_mutex_unlock(&vm->lock);
		pthread_join(vm->thread, NULL);
	}
	munmap(vm->ram, VM_SIZE);
}

/* The destination, on its own thread. */
struct dest_job {
	int listen_fd;
	struct fake_vm vm;
	int ret;
	struct migrate_progress prog;
	char err[256];
	pthread_t thread;
	bool touch_after_start; /* a "vCPU" reads every page once running */
	bool wait_switch;	/* start reading once switch_asked */
	bool refuse;		/* refuse the VM's state (refuse_dst_ops) */
	size_t kill_after;	/* >0: read this many bytes, then drop the connection */
	pthread_t vcpu;
	bool vcpu_started;
	atomic_bool vcpu_done;
};

/* A "vCPU" on the destination: reading a missing page blocks until the
 * source sends it (it must not run on the receiving thread). */
static void *dest_vcpu(void *arg)
{
	struct dest_job *j = arg;
	volatile uint64_t sum = 0;
	for (unsigned p = VM_PAGES; p-- > 0;)
		sum += j->vm.ram[(uint64_t)p * PG + 7];
	(void)sum;
	atomic_store(&j->vcpu_done, true);
	return NULL;
}

static int dest_touch_start(void *opaque, struct verr **err)
{
	struct dest_job *j = (struct dest_job *)((char *)opaque - offsetof(struct dest_job, vm));
	if (fake_start(opaque, err) < 0)
		return -1;
	if (j->touch_after_start) {
		assert_int_equal(pthread_create(&j->vcpu, NULL, dest_vcpu, j), 0);
		j->vcpu_started = true;
	}
	return 0;
}

static const struct migrate_dest_ops touch_dst_ops = { fake_load, dest_touch_start };

/* A destination that refuses the state (as one without userfaultfd refuses
 * the postcopy switch): it fails before it runs the VM. */
static int refuse_load(void *opaque, const struct snap_section *sec, struct verr **err)
{
	(void)opaque;
	return verr_set(err, EINVAL, "section %s refused", sec->name);
}

static const struct migrate_dest_ops refuse_dst_ops = { refuse_load, dest_touch_start };

/* With next_switch: the destination reads nothing until the switch was
 * asked for, so the source cannot finish round 0 (it waits for the
 * destination to catch up) before the request: deterministic. */
static atomic_bool switch_asked;

static void *dest_main(void *arg)
{
	struct dest_job *j = arg;
	struct verr *err = NULL;
	int fd = -1;
	if (migrate_accept(j->listen_fd, 20000, &fd, &err) < 0) {
		j->ret = -1;
		snprintf(j->err, sizeof(j->err), "%s", err->msg);
		verr_free(err);
		return NULL;
	}
	if (j->kill_after) {
		uint8_t *buf = xmalloc(j->kill_after);
		assert_int_equal(read_full(fd, buf, j->kill_after), 0);
		free(buf);
		close(fd);
		j->ret = -2;
		return NULL;
	}
	for (int i = 0; i < 2000 && j->wait_switch && !atomic_load(&switch_asked); i++)
		usleep(10000);
	j->ret = migrate_dest_run(fd, j->vm.ram, VM_SIZE, j->refuse ? &refuse_dst_ops : &touch_dst_ops, &j->vm,
				  &j->prog, &err);
	if (j->ret < 0) {
		snprintf(j->err, sizeof(j->err), "%s", err->msg);
		verr_free(err);
	}
	if (j->vcpu_started)
		pthread_join(j->vcpu, NULL);
	close(fd);
	return NULL;
}

static void dest_start(struct dest_job *j, char *uri, size_t uri_len)
{
	struct verr *err = NULL;
	memset(&j->vm, 0, sizeof(j->vm));
	j->vm.ram = map_anon(VM_SIZE);
	/* garbage the destination must clear */
	memset(j->vm.ram, 0xee, VM_SIZE);
	if (migrate_listen("tcp:127.0.0.1:0", &j->listen_fd, &err) < 0)
		fail_msg("%s", err->msg);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	assert_int_equal(getsockname(j->listen_fd, (struct sockaddr *)&ss, &sl), 0);
	snprintf(uri, uri_len, "tcp:127.0.0.1:%u", ntohs(((struct sockaddr_in *)&ss)->sin_port));
	assert_int_equal(pthread_create(&j->thread, NULL, dest_main, j), 0);
}

static void dest_join(struct dest_job *j)
{
	pthread_join(j->thread, NULL);
	close(j->listen_fd);
}

/* Limits for the next migrate_and_check (0: defaults), and what it saw. */
static uint64_t next_downtime_ms;
static unsigned next_max_rounds, last_pauses, last_rounds;
static bool next_switch; /* ask for the postcopy switch as soon as it runs */
static enum migrate_mode last_mode;

/* Asks st's migration to switch to postcopy as soon as it is active. */
static void *switch_main(void *arg)
{
	struct migrate_status *st = arg;
	for (int i = 0; i < 20000; i++) {
		struct migrate_progress pr;
		migrate_status_get(st, &pr);
		if (pr.state == MIGRATE_ACTIVE) {
			struct verr *e = NULL;
			if (migrate_status_request_postcopy(st, &e) < 0)
				fail_msg("switch to postcopy: %s", e->msg);
			atomic_store(&switch_asked, true);
			return NULL;
		}
		usleep(1000);
	}
	fail_msg("the migration did not start");
	return NULL;
}

static void migrate_and_check(enum migrate_mode mode, unsigned dirty_pages, unsigned precopy_rounds, bool touch)
{
	struct fake_vm src;
	fake_init(&src, dirty_pages);
	fake_run(&src);
	usleep(20000);
	struct dest_job j = { .touch_after_start = touch, .wait_switch = next_switch };
	atomic_store(&switch_asked, false);
	char uri[64];
	dest_start(&j, uri, sizeof(uri));

	struct migrate_status st;
	migrate_status_init(&st);
	struct migrate_params p = { .to = uri, .mode = mode, .max_downtime_ms = next_downtime_ms ? next_downtime_ms : 5,
				    .max_rounds = next_max_rounds, .precopy_rounds = precopy_rounds };
	struct verr *err = NULL;
	pthread_t sw;
	if (next_switch)
		assert_int_equal(pthread_create(&sw, NULL, switch_main, &st), 0);
	int r = migrate_source_run(src.ram, VM_SIZE, &fake_src_ops, &src, &p, &st, &err);
	if (next_switch)
		pthread_join(sw, NULL);
	if (r < 0)
		fail_msg("source: %s", err->msg);
	dest_join(&j);
	if (j.ret < 0)
		fail_msg("destination: %s", j.err);
	struct migrate_progress pr;
	migrate_status_get(&st, &pr);
	assert_int_equal(pr.state, MIGRATE_COMPLETED);
	assert_true(pr.bytes > 0 && pr.pages > 0);
	assert_true(pr.downtime_us > 0 && pr.stop_to_sent_us <= pr.downtime_us);
	assert_true(j.vm.started);
	if (touch)
		assert_true(atomic_load(&j.vcpu_done));
	/* The source stays paused; its RAM and state arrived exactly. */
	pthread_mutex_lock(&src.lock);
	assert_true(src.paused);
	assert_int_equal(j.vm.loaded_counter, src.counter);
	pthread_mutex_unlock(&src.lock);
	for (unsigned pg = 0; pg < VM_PAGES; pg++)
		if (memcmp(src.ram + (uint64_t)pg * PG, j.vm.ram + (uint64_t)pg * PG, PG) != 0)
			fail_msg("page %u differs", pg);
	if (mode == MIGRATE_PRECOPY && pr.mode == MIGRATE_PRECOPY)
		assert_int_equal(src.pauses, src.resumes + 1);
	assert_int_equal(src.stops, 1);
	last_pauses = src.pauses;
	last_rounds = pr.round;
	last_mode = pr.mode;
	migrate_status_destroy(&st);
	fake_fini(&src);
	munmap(j.vm.ram, VM_SIZE);
}

static void test_precopy_idle(void **state)
{
	(void)state;
	migrate_and_check(MIGRATE_PRECOPY, 0, 0, false);
}

static void test_precopy_dirtying(void **state)
{
	(void)state;
	migrate_and_check(MIGRATE_PRECOPY, 600, 0, false);
}

/* A guest that rewrites every page as fast as it can, against a 1 ms
 * downtime: whether it converges by itself or the throttle holds it (pauses
 * beyond the final one) depends on the host's load; either way the result
 * is exact. The throttle's rule itself is checked below. */
static void test_precopy_heavy_writer(void **state)
{
	(void)state;
	next_downtime_ms = 1;
	next_max_rounds = 12;
	migrate_and_check(MIGRATE_PRECOPY, 1000, 0, false);
	next_downtime_ms = 0;
	next_max_rounds = 0;
	print_message("heavy writer: %u rounds, %u pauses\n", last_rounds, last_pauses);
	assert_true(last_rounds >= 1 && last_rounds <= 12);
}

static void test_throttle_rule(void **state)
{
	(void)state;
	assert_int_equal(mig_throttle_step(1, 1000, 1000, 0), 0);  /* not before round 2 */
	assert_int_equal(mig_throttle_step(2, 700, 1000, 0), 0);   /* shrinking: leave it */
	assert_int_equal(mig_throttle_step(2, 900, 1000, 0), 20);  /* stuck: start at 20% */
	assert_int_equal(mig_throttle_step(3, 1200, 900, 20), 30); /* growing: +10 */
	assert_int_equal(mig_throttle_step(9, 1000, 1000, 80), 90);
	assert_int_equal(mig_throttle_step(10, 1000, 1000, 90), 90); /* capped */
	assert_int_equal(mig_throttle_step(4, 100, 1000, 50), 50);   /* working: keep */
}

static void test_postcopy(void **state)
{
	(void)state;
	migrate_and_check(MIGRATE_POSTCOPY, 0, 0, true);
}

static void test_postcopy_after_round(void **state)
{
	(void)state;
	migrate_and_check(MIGRATE_POSTCOPY, 300, 1, true);
}

/* Up to three precopy rounds, then the switch; the pages rewritten since
 * their last round are dropped on the destination and come again. */
static void test_postcopy_after_rounds(void **state)
{
	(void)state;
	next_downtime_ms = 1;
	migrate_and_check(MIGRATE_POSTCOPY, 1000, 3, true);
	next_downtime_ms = 0;
	assert_int_equal(last_mode, MIGRATE_POSTCOPY);
	assert_true(last_rounds >= 1 && last_rounds <= 3);
}

/* A precopy that would not converge (every page rewritten, 1 ms downtime,
 * 30 rounds) is switched to postcopy while it runs
 * (migrate-start-postcopy): it ends as postcopy, RAM exact. */
static void test_precopy_switched_to_postcopy(void **state)
{
	(void)state;
	next_downtime_ms = 1;
	next_switch = true;
	migrate_and_check(MIGRATE_PRECOPY, 1000, 0, true);
	next_switch = false;
	next_downtime_ms = 0;
	assert_int_equal(last_mode, MIGRATE_POSTCOPY);
	print_message("switched after %u rounds\n", last_rounds);
	/* no migration: nothing to switch */
	struct migrate_status st;
	migrate_status_init(&st);
	struct verr *e = NULL;
	assert_int_equal(migrate_status_request_postcopy(&st, &e), -1);
	assert_int_equal(e->errnum, EALREADY);
	verr_free(e);
	migrate_status_destroy(&st);
}

/* The destination drops the connection in the middle of precopy: the
 * source fails cleanly and its VM keeps running. */
static void test_precopy_dest_dies(void **state)
{
	(void)state;
	struct fake_vm src;
	fake_init(&src, 50);
	fake_run(&src);
	struct dest_job j = { .kill_after = 200000 };
	char uri[64];
	dest_start(&j, uri, sizeof(uri));
	struct migrate_status st;
	migrate_status_init(&st);
	struct migrate_params p = { .to = uri, .mode = MIGRATE_PRECOPY };
	struct verr *err = NULL;
	assert_int_equal(migrate_source_run(src.ram, VM_SIZE, &fake_src_ops, &src, &p, &st, &err), -1);
	dest_join(&j);
	struct migrate_progress pr;
	migrate_status_get(&st, &pr);
	assert_int_equal(pr.state, MIGRATE_FAILED);
	assert_false(pr.vm_lost);
	assert_true(strlen(pr.error) > 0);
	verr_free(err);
	pthread_mutex_lock(&src.lock);
	assert_false(src.pause_req);
	/* it may have got as far as the switch: it resumed all the same */
	assert_int_equal(src.pauses, src.resumes);
	uint64_t c0 = src.counter;
	pthread_mutex_unlock(&src.lock);
	bool runs = false; /* the guest still runs (give a loaded host 2 s) */
	for (int i = 0; i < 200 && !runs; i++) {
		usleep(10000);
		pthread_mutex_lock(&src.lock);
		runs = src.counter > c0;
		pthread_mutex_unlock(&src.lock);
	}
	assert_true(runs);
	migrate_status_destroy(&st);
	fake_fini(&src);
	munmap(j.vm.ram, VM_SIZE);
}

/* The destination fails after the postcopy switch was sent but before it
 * ran the VM, and says so: the VM is not lost, the source resumes it. */
static void test_postcopy_refused_before_start(void **state)
{
	(void)state;
	struct fake_vm src;
	fake_init(&src, 50);
	fake_run(&src);
	struct dest_job j = { .refuse = true };
	char uri[64];
	dest_start(&j, uri, sizeof(uri));
	struct migrate_status st;
	migrate_status_init(&st);
	struct migrate_params p = { .to = uri, .mode = MIGRATE_POSTCOPY, .precopy_rounds = 1 };
	struct verr *err = NULL;
	assert_int_equal(migrate_source_run(src.ram, VM_SIZE, &fake_src_ops, &src, &p, &st, &err), -1);
	dest_join(&j);
	assert_int_equal(j.ret, -1);
	assert_false(j.prog.vm_lost);
	struct migrate_progress pr;
	migrate_status_get(&st, &pr);
	assert_int_equal(pr.state, MIGRATE_FAILED);
	assert_false(pr.vm_lost);
	verr_free(err);
	pthread_mutex_lock(&src.lock);
	assert_int_equal(src.stops, 1);
	assert_int_equal(src.pauses, src.resumes);
	assert_false(src.pause_req);
	pthread_mutex_unlock(&src.lock);
	migrate_status_destroy(&st);
	fake_fini(&src);
	munmap(j.vm.ram, VM_SIZE);
}

/* A cancel while the rounds run (the destination reads nothing until it
 * was asked, so it lands in round 0): the migration fails with ECANCELED
 * and the VM runs on; once the VM stopped for the end, or without a
 * migration, a cancel is refused. */
static void *cancel_main(void *arg)
{
	struct migrate_status *st = arg;
	for (int i = 0; i < 20000; i++) {
		struct migrate_progress pr;
		migrate_status_get(st, &pr);
		if (pr.state == MIGRATE_ACTIVE) {
			struct verr *e = NULL;
			if (migrate_status_request_cancel(st, &e) < 0)
				fail_msg("cancel: %s", e->msg);
			atomic_store(&switch_asked, true);
			return NULL;
		}
		usleep(1000);
	}
	fail_msg("the migration did not start");
	return NULL;
}

static void test_precopy_cancelled(void **state)
{
	(void)state;
	struct fake_vm src;
	fake_init(&src, 1000);
	fake_run(&src);
	struct dest_job j = { .wait_switch = true };
	atomic_store(&switch_asked, false);
	char uri[64];
	dest_start(&j, uri, sizeof(uri));
	struct migrate_status st;
	migrate_status_init(&st);
	struct migrate_params p = { .to = uri, .mode = MIGRATE_PRECOPY, .max_downtime_ms = 1 };
	struct verr *err = NULL;
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, cancel_main, &st), 0);
	assert_int_equal(migrate_source_run(src.ram, VM_SIZE, &fake_src_ops, &src, &p, &st, &err), -1);
	pthread_join(t, NULL);
	dest_join(&j);
	assert_int_equal(err->errnum, ECANCELED);
	assert_non_null(strstr(err->msg, "migration cancelled"));
	verr_clear(&err);
	struct migrate_progress pr;
	migrate_status_get(&st, &pr);
	assert_int_equal(pr.state, MIGRATE_FAILED);
	assert_true(pr.cancel_requested);
	assert_false(pr.vm_lost);
	pthread_mutex_lock(&src.lock);
	assert_int_equal(src.stops, 0);
	assert_false(src.pause_req);
	pthread_mutex_unlock(&src.lock);
	/* over: nothing to cancel */
	assert_int_equal(migrate_status_request_cancel(&st, &err), -1);
	assert_int_equal(err->errnum, EALREADY);
	verr_clear(&err);
	/* past the point of no return */
	pthread_mutex_lock(&st.lock);
	st.p.state = MIGRATE_ACTIVE;
	st.p.phase = "stop-and-copy";
	pthread_mutex_unlock(&st.lock);
	assert_int_equal(migrate_status_request_cancel(&st, &err), -1);
	assert_non_null(strstr(err->msg, "point of no return"));
	verr_clear(&err);
	assert_int_equal(migrate_status_request_postcopy(&st, &err), -1);
	verr_clear(&err);
	migrate_status_destroy(&st);
	fake_fini(&src);
	munmap(j.vm.ram, VM_SIZE);
}

/* Nobody listening: a clear error, VM untouched. */
static void test_connect_refused(void **state)
{
	(void)state;
	struct fake_vm src;
	fake_init(&src, 0);
	struct migrate_status st;
	migrate_status_init(&st);
	struct migrate_params p = { .to = "tcp:127.0.0.1:1", .mode = MIGRATE_PRECOPY };
	struct verr *err = NULL;
	assert_int_equal(migrate_source_run(src.ram, VM_SIZE, &fake_src_ops, &src, &p, &st, &err), -1);
	assert_non_null(strstr(err->msg, "connect to 'tcp:127.0.0.1:1'"));
	assert_int_equal(src.pauses, 0);
	verr_free(err);
	migrate_status_destroy(&st);
	fake_fini(&src);
}

static void test_uri(void **state)
{
	(void)state;
	char h[64], p[8];
	struct verr *err = NULL;
	assert_int_equal(migrate_uri_parse("tcp:host.example:4444", h, sizeof(h), p, sizeof(p), &err), 0);
	assert_string_equal(h, "host.example");
	assert_string_equal(p, "4444");
	assert_int_equal(migrate_uri_parse("tcp:[::1]:5", h, sizeof(h), p, sizeof(p), &err), 0);
	assert_string_equal(h, "::1");
	assert_int_equal(migrate_uri_parse("tcp::9", h, sizeof(h), p, sizeof(p), &err), 0);
	assert_string_equal(h, "");
	const char *bad[] = { "udp:a:1", "tcp:a", "tcp:a:70000", "tcp:a:12x", "tcp:a:" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(migrate_uri_parse(bad[i], h, sizeof(h), p, sizeof(p), &err), -1);
		verr_clear(&err);
	}
}

/* ---- hostile streams against the destination ---- */

/* A small valid precopy stream for RAM of `pages` pages. */
static uint8_t *build_stream(uint64_t ram_pages, uint64_t pfn, size_t *len)
{
	struct verr *err = NULL;
	struct vstream *vs = vstream_mem_writer();
	struct snap_writer *w = NULL;
	assert_int_equal(snap_writer_new(vs, SNAP_F_STREAM, &w, &err), 0);
	uint8_t setup[16];
	le64_put(setup, ram_pages * PG);
	le32_put(setup + 8, PG);
	le32_put(setup + 12, MIGRATE_PRECOPY);
	assert_int_equal(snap_put_section(w, MIG_SEC_SETUP, 1, SNAP_SEC_REQUIRED, setup, 16, &err), 0);
	static uint8_t page[PG];
	memset(page, 0x42, PG);
	uint64_t pfns[2] = { 1, pfn };
	const void *pages[2] = { page, page };
	assert_int_equal(snap_write_ram_batch(w, pfns, pages, 2, &err), 0);
	uint8_t c[8];
	le64_put(c, 77);
	assert_int_equal(snap_put_section(w, "fake-dev", 1, SNAP_SEC_REQUIRED, c, 8, &err), 0);
	assert_int_equal(snap_writer_finish(w, &err), 0);
	snap_writer_destroy(w);
	size_t n;
	const void *data = vstream_mem_data(vs, &n);
	uint8_t *copy = xmalloc(n);
	memcpy(copy, data, n);
	vstream_destroy(vs);
	*len = n;
	return copy;
}

struct feeder {
	int fd;
	const uint8_t *data;
	size_t len;
};

static void *feed_main(void *arg)
{
	struct feeder *f = arg;
	(void)!write_full(f->fd, f->data, f->len);
	shutdown(f->fd, SHUT_WR);
	/* drain the return path until the destination closes */
	char buf[64];
	while (read(f->fd, buf, sizeof(buf)) > 0)
		;
	return NULL;
}

/* Runs a destination on data; returns its result, error text in msg. */
static int feed_dest(const uint8_t *data, size_t len, struct fake_vm *vm, char *msg, size_t msg_len)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	struct feeder f = { sv[0], data, len };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, feed_main, &f), 0);
	struct migrate_progress pr;
	struct verr *err = NULL;
	int r = migrate_dest_run(sv[1], vm->ram, 16 * PG, &fake_dst_ops, vm, &pr, &err);
	close(sv[1]);
	pthread_join(t, NULL);
	close(sv[0]);
	if (r < 0) {
		snprintf(msg, msg_len, "%s", err->msg);
		verr_free(err);
	}
	return r;
}

static void test_dest_hostile(void **state)
{
	(void)state;
	struct fake_vm vm;
	memset(&vm, 0, sizeof(vm));
	vm.ram = map_anon(16 * PG);
	char msg[256];
	size_t len;
	uint8_t *good = build_stream(16, 5, &len);
	assert_int_equal(feed_dest(good, len, &vm, msg, sizeof(msg)), 0);
	assert_true(vm.started);
	assert_int_equal(vm.loaded_counter, 77);
	assert_int_equal(vm.ram[5 * PG], 0x42);
	/* every truncation fails and never starts the VM */
	for (size_t cut = 0; cut < len; cut += (cut < 200 ? 1 : 997)) {
		vm.started = false;
		vm.counter_loaded = false;
		assert_int_equal(feed_dest(good, cut, &vm, msg, sizeof(msg)), -1);
		assert_false(vm.started);
	}
	/* bit flips */
	for (size_t off = 0; off < len; off += 613) {
		uint8_t *bad = xmalloc(len);
		memcpy(bad, good, len);
		bad[off] ^= 0x10;
		vm.started = false;
		assert_int_equal(feed_dest(bad, len, &vm, msg, sizeof(msg)), -1);
		assert_false(vm.started);
		free(bad);
	}
	free(good);
	/* a page outside RAM */
	good = build_stream(16, 99, &len);
	assert_int_equal(feed_dest(good, len, &vm, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "outside RAM"));
	free(good);
	/* RAM size mismatch */
	good = build_stream(32, 5, &len);
	assert_int_equal(feed_dest(good, len, &vm, msg, sizeof(msg)), -1);
	assert_non_null(strstr(msg, "RAM"));
	free(good);
	/* garbage */
	assert_int_equal(feed_dest((const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18, &vm, msg, sizeof(msg)), -1);
	munmap(vm.ram, 16 * PG);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (getenv("VESSEL_TEST_DEBUG"))
		log_level_current = LOG_DEBUG;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dirty_anon),
		cmocka_unit_test(test_dirty_private_file),
		cmocka_unit_test(test_dirty_bad_region),
		cmocka_unit_test(test_uri),
		cmocka_unit_test(test_precopy_idle),
		cmocka_unit_test(test_precopy_dirtying),
		cmocka_unit_test(test_precopy_heavy_writer),
		cmocka_unit_test(test_throttle_rule),
		cmocka_unit_test(test_postcopy),
		cmocka_unit_test(test_postcopy_after_round),
		cmocka_unit_test(test_postcopy_after_rounds),
		cmocka_unit_test(test_precopy_switched_to_postcopy),
		cmocka_unit_test(test_postcopy_refused_before_start),
		cmocka_unit_test(test_precopy_cancelled),
		cmocka_unit_test(test_precopy_dest_dies),
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_dest_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
