/* Live migration with "disks": "copy": the chunk section's codec; a
 * source whose "guest" keeps writing its disk (a qcow2 overlay over a
 * backing file) migrated over loopback TCP into a destination's own flat
 * image, precopy and postcopy, compared byte for byte; a size mismatch
 * and a destination that dies mid-copy leave the source running; hostile
 * disk sections are refused with a clear error. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/log.h"
#include "base/util.h"
#include "vm/block/block.h"
#include "vm/migrate/migrate.h"
#include "vm/migrate/migrate_int.h"
#include "vm/state/snap.h"
#include "vm/state/stream.h"

#define PG 4096u
#define RAM_PAGES 64
#define GR MIG_DISK_GRANULE

static char dir[64];

static char *path_of(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/vessel-migdisk-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char *cmd = xasprintf("rm -rf %s", dir);
	int r = system(cmd);
	free(cmd);
	return r;
}

static struct block *open_img(const char *name, bool ro)
{
	cleanup_free char *p = path_of(name);
	struct block *b = NULL;
	struct verr *e = NULL;
	if (block_open(p, BLOCK_FMT_AUTO, ro, &b, &e) < 0)
		fail_msg("open %s: %s", p, e->msg);
	return b;
}

/* A raw file of size bytes filled with byte `fill` (0: sparse). */
static void make_raw(const char *name, uint64_t size, int fill)
{
	cleanup_free char *p = path_of(name);
	int fd = open(p, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	if (fill) {
		uint8_t *buf = xmalloc(size);
		memset(buf, fill, size);
		assert_int_equal(write_full(fd, buf, size), 0);
		free(buf);
	}
	close(fd);
}

static void make_qcow2(const char *name, uint64_t size, const char *backing)
{
	cleanup_free char *p = path_of(name);
	cleanup_free char *bp = backing ? path_of(backing) : NULL;
	struct verr *e = NULL;
	if (qcow2_create(p, size, bp, &e) < 0)
		fail_msg("create %s: %s", p, e->msg);
}

static void assert_disks_equal(struct block *a, struct block *b)
{
	assert_int_equal(a->size, b->size);
	uint8_t *x = xmalloc(GR), *y = xmalloc(GR);
	for (uint64_t off = 0; off < a->size; off += GR) {
		size_t n = a->size - off < GR ? (size_t)(a->size - off) : GR;
		assert_int_equal(block_read(a, off, x, n), 0);
		assert_int_equal(block_read(b, off, y, n), 0);
		if (memcmp(x, y, n) != 0)
			fail_msg("disks differ in the granule at %llu", (unsigned long long)off);
	}
	free(x);
	free(y);
}

/* ---- the chunk codec ---- */

static void test_chunk_codec(void **state)
{
	(void)state;
	uint8_t p[MIG_DISK_CHUNK_HDR + 16];
	struct mig_disk_chunk c = { 3, 0, 5 * GR, 16, NULL }, d;
	struct verr *e = NULL;
	mig_disk_chunk_encode(p, &c);
	memset(p + MIG_DISK_CHUNK_HDR, 0x5a, 16);
	assert_int_equal(mig_disk_chunk_decode(p, sizeof(p), &d, &e), 0);
	assert_int_equal(d.disk, 3);
	assert_int_equal(d.off, 5 * GR);
	assert_int_equal(d.len, 16);
	assert_ptr_equal(d.data, p + MIG_DISK_CHUNK_HDR);
	/* data length must match, zero ranges carry none */
	assert_int_equal(mig_disk_chunk_decode(p, sizeof(p) - 1, &d, &e), -1);
	assert_non_null(strstr(e->msg, "length 16 but 15 bytes"));
	verr_clear(&e);
	c.flags = MIG_DISK_ZERO;
	c.len = 1ull << 40; /* zero ranges may be long */
	mig_disk_chunk_encode(p, &c);
	assert_int_equal(mig_disk_chunk_decode(p, MIG_DISK_CHUNK_HDR, &d, &e), 0);
	assert_null(d.data);
	assert_int_equal(mig_disk_chunk_decode(p, sizeof(p), &d, &e), -1);
	assert_non_null(strstr(e->msg, "zero range with 16 bytes"));
	verr_clear(&e);
	c.flags = 2;
	mig_disk_chunk_encode(p, &c);
	assert_int_equal(mig_disk_chunk_decode(p, MIG_DISK_CHUNK_HDR, &d, &e), -1);
	assert_non_null(strstr(e->msg, "unknown flags"));
	verr_clear(&e);
	c.flags = 0;
	c.len = 0;
	mig_disk_chunk_encode(p, &c);
	assert_int_equal(mig_disk_chunk_decode(p, MIG_DISK_CHUNK_HDR, &d, &e), -1);
	verr_clear(&e);
	c.len = MIG_DISK_MAX_DATA + 1ull; /* data is bounded */
	mig_disk_chunk_encode(p, &c);
	assert_int_equal(mig_disk_chunk_decode(p, MIG_DISK_CHUNK_HDR + c.len, &d, &e), -1);
	assert_non_null(strstr(e->msg, "more than"));
	verr_clear(&e);
	assert_int_equal(mig_disk_chunk_decode(p, 10, &d, &e), -1);
	verr_clear(&e);
}

/* ---- a source VM whose guest writes its disk ---- */

struct vm {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint8_t *ram;
	struct block *disk;
	bool pause_req, paused, stop;
	bool heavy; /* write without a pause, 64 KiB at a time */
	unsigned pauses, resumes, stops;
	uint64_t counter;
	pthread_t thread;
	/* destination */
	struct block *dst_disk;
	bool started, loaded;
	uint64_t loaded_counter;
};

/* Writes record i (a 4 KiB block naming i) somewhere on the disk, zeroes a
 * block now and then, keeps the counter in RAM: a guest under a disk load.
 * Each write is complete when pause returns (as virtio-blk's drain). */
static void *guest_main(void *arg)
{
	struct vm *vm = arg;
	uint8_t rec[PG];
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
		uint64_t i = ++vm->counter;
		uint64_t nblocks = vm->disk->size / PG;
		uint64_t off = (i * 7919 % nblocks) * PG;
		if (vm->heavy) {
			static uint8_t big[GR];
			memset(big, (int)(i & 0xff), sizeof(big));
			off = (i * 13 % (vm->disk->size / GR)) * GR;
			assert_int_equal(block_write(vm->disk, off, big, sizeof(big)), 0);
		} else if (i % 13 == 0) {
			assert_int_equal(block_write_zeroes(vm->disk, off, PG, true), 0);
		} else {
			memset(rec, (int)(i & 0xff) | 1, sizeof(rec));
			memcpy(rec, &i, sizeof(i));
			assert_int_equal(block_write(vm->disk, off, rec, sizeof(rec)), 0);
		}
		memcpy(vm->ram + 3 * PG, &i, sizeof(i));
		pthread_mutex_unlock(&vm->lock);
		if (!vm->heavy)
			usleep(100);
		pthread_mutex_lock(&vm->lock);
	}
	pthread_mutex_unlock(&vm->lock);
	return NULL;
}

static int vm_pause(void *opaque, struct verr **err)
{
	(void)err;
	struct vm *vm = opaque;
	pthread_mutex_lock(&vm->lock);
	vm->pause_req = true;
	vm->pauses++;
	while (!vm->paused)
		pthread_cond_wait(&vm->cond, &vm->lock);
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

static int vm_resume(void *opaque, struct verr **err)
{
	(void)err;
	struct vm *vm = opaque;
	pthread_mutex_lock(&vm->lock);
	vm->pause_req = false;
	vm->resumes++;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

static int vm_stop(void *opaque, struct snap_writer *w, struct verr **err)
{
	struct vm *vm = opaque;
	if (vm_pause(opaque, err) < 0)
		return -1;
	vm->stops++;
	uint8_t b[8];
	le64_put(b, vm->counter);
	return snap_put_section(w, "fake-dev", 1, SNAP_SEC_REQUIRED, b, sizeof(b), err);
}

static int vm_load(void *opaque, const struct snap_section *sec, struct verr **err)
{
	struct vm *vm = opaque;
	if (strcmp(sec->name, "fake-dev") != 0)
		return snap_section_unknown(sec, err);
	if (sec->len != 8)
		return verr_set(err, EINVAL, "fake-dev: bad length");
	vm->loaded_counter = le64_get(sec->data);
	vm->loaded = true;
	return 0;
}

static int vm_start(void *opaque, struct verr **err)
{
	struct vm *vm = opaque;
	if (!vm->loaded)
		return verr_set(err, EINVAL, "start without device state");
	vm->started = true;
	return 0;
}

static int vm_take_disks(void *opaque, struct block **disks, unsigned *n, struct verr **err)
{
	(void)err;
	struct vm *vm = opaque;
	disks[0] = vm->dst_disk;
	*n = 1;
	return 0;
}

static const struct migrate_source_ops src_ops = { .pause = vm_pause, .resume = vm_resume, .stop = vm_stop };
static const struct migrate_dest_ops dst_ops = { .load_section = vm_load, .start = vm_start,
						 .take_disks = vm_take_disks };
static const struct migrate_dest_ops dst_ops_nodisks = { .load_section = vm_load, .start = vm_start };

static void *map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	return p;
}

static void vm_init(struct vm *vm, struct block *disk)
{
	memset(vm, 0, sizeof(*vm));
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	vm->ram = map_anon(RAM_PAGES * PG);
	memset(vm->ram, 0x11, 4 * PG);
	vm->disk = disk;
}

static void vm_fini(struct vm *vm)
{
	if (vm->thread) {
		pthread_mutex_lock(&vm->lock);
		vm->stop = true;
		pthread_cond_broadcast(&vm->cond);
		pthread_mutex_unlock(&vm->lock);
		pthread_join(vm->thread, NULL);
	}
	munmap(vm->ram, RAM_PAGES * PG);
}

/* The destination on its own thread. */
struct dest {
	int listen_fd;
	struct vm vm;
	size_t kill_after; /* > 0: read this many bytes, then drop the connection */
	int ret;
	char err[512];
	struct migrate_progress prog;
	pthread_t thread;
};

static void *dest_main(void *arg)
{
	struct dest *j = arg;
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
		(void)!read_full(fd, buf, j->kill_after);
		free(buf);
		close(fd);
		j->ret = -2;
		return NULL;
	}
	j->ret = migrate_dest_run(fd, j->vm.ram, RAM_PAGES * PG, &dst_ops, &j->vm, &j->prog, &err);
	if (j->ret < 0) {
		snprintf(j->err, sizeof(j->err), "%s", err->msg);
		verr_free(err);
	}
	close(fd);
	return NULL;
}

static void dest_start(struct dest *j, struct block *disk, char *uri, size_t uri_len)
{
	struct verr *err = NULL;
	memset(&j->vm, 0, sizeof(j->vm));
	j->vm.ram = map_anon(RAM_PAGES * PG);
	j->vm.dst_disk = disk;
	if (migrate_listen("tcp:127.0.0.1:0", &j->listen_fd, &err) < 0)
		fail_msg("%s", err->msg);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	assert_int_equal(getsockname(j->listen_fd, (struct sockaddr *)&ss, &sl), 0);
	snprintf(uri, uri_len, "tcp:127.0.0.1:%u", ntohs(((struct sockaddr_in *)&ss)->sin_port));
	assert_int_equal(pthread_create(&j->thread, NULL, dest_main, j), 0);
}

static void dest_join(struct dest *j)
{
	pthread_join(j->thread, NULL);
	close(j->listen_fd);
}

/* Source: a 4 MiB qcow2 overlay over a raw base holding a pattern, a guest
 * writing records; destination: a flat raw image full of garbage. */
static void copy_and_check(enum migrate_mode mode, bool heavy)
{
	const uint64_t size = 4ull << 20;
	cleanup_free uint8_t *base = xmalloc(size);
	for (uint64_t i = 0; i < size; i++) /* data in half the granules, zeros in the rest */
		base[i] = (i / GR) % 2 ? 0 : (uint8_t)(i * 2654435761u >> 13);
	cleanup_free char *bp = path_of("base.raw");
	assert_int_equal(write_file_atomic(bp, base, size, 0644), 0);
	make_qcow2("src.qcow2", 0, "base.raw");
	make_raw("dst.raw", size, 0xee);
	struct block *sd = open_img("src.qcow2", false), *dd = open_img("dst.raw", false);

	struct vm src;
	vm_init(&src, sd);
	src.heavy = heavy;
	assert_int_equal(pthread_create(&src.thread, NULL, guest_main, &src), 0);
	usleep(20000);
	struct dest j = { 0 };
	char uri[64];
	dest_start(&j, dd, uri, sizeof(uri));
	struct block *disks[1] = { sd };
	struct migrate_params p = { .to = uri, .mode = mode, .max_downtime_ms = heavy ? 1 : 5, .max_rounds = 8,
				    .disks = disks, .ndisks = 1 };
	struct migrate_status st;
	migrate_status_init(&st);
	struct verr *err = NULL;
	if (migrate_source_run(src.ram, RAM_PAGES * PG, &src_ops, &src, &p, &st, &err) < 0)
		fail_msg("source: %s", err->msg);
	dest_join(&j);
	if (j.ret < 0)
		fail_msg("destination: %s", j.err);
	struct migrate_progress pr;
	migrate_status_get(&st, &pr);
	assert_int_equal(pr.state, MIGRATE_COMPLETED);
	assert_true(pr.disk_copy && j.prog.disk_copy);
	assert_true(pr.disk_bytes >= size);
	assert_int_equal(pr.disk_bytes, j.prog.disk_bytes);
	assert_int_equal(pr.disk_remaining, 0);
	/* the source stays paused; its disk, RAM and state arrived exactly */
	assert_true(src.paused);
	assert_true(src.counter > 10);
	assert_int_equal(j.vm.loaded_counter, src.counter);
	assert_memory_equal(src.ram, j.vm.ram, RAM_PAGES * PG);
	assert_disks_equal(sd, dd);
	print_message("%s%s: %llu guest writes, %llu disk bytes copied in %u rounds, %u pauses\n",
		      heavy ? "heavy writer, " : "", migrate_mode_name(mode), (unsigned long long)src.counter,
		      (unsigned long long)pr.disk_bytes, pr.round, src.pauses);
	if (heavy) /* it wrote more than the disk's size meanwhile */
		assert_true(src.counter * GR > size);
	migrate_status_destroy(&st);
	vm_fini(&src);
	munmap(j.vm.ram, RAM_PAGES * PG);
	block_close(sd);
	block_close(dd);
}

static void test_copy_precopy(void **state)
{
	(void)state;
	copy_and_check(MIGRATE_PRECOPY, false);
}

static void test_copy_postcopy(void **state)
{
	(void)state;
	copy_and_check(MIGRATE_POSTCOPY, false);
}

/* A guest rewriting its disk without a pause, against a 1 ms budget: the
 * disk rounds do not converge, the RAM rounds throttle it (or hit the
 * round limit); either way the copy is exact. */
static void test_copy_heavy_writer(void **state)
{
	(void)state;
	copy_and_check(MIGRATE_PRECOPY, true);
}

/* A failure during the copy leaves the source running, its disk untouched
 * by the migration; the destination names the problem. */
static void fail_and_check(uint64_t dst_size, size_t kill_after, const char *want_dest)
{
	make_qcow2("s.qcow2", 8ull << 20, NULL);
	make_raw("d.raw", dst_size, 0);
	struct block *sd = open_img("s.qcow2", false), *dd = open_img("d.raw", false);
	uint8_t buf[PG];
	for (uint64_t off = 0; off < sd->size; off += 2 * GR) { /* incompressible data */
		for (size_t k = 0; k < sizeof(buf); k++)
			buf[k] = (uint8_t)((off + k) * 2654435761u >> 11);
		for (uint64_t o = 0; o < GR; o += PG)
			assert_int_equal(block_write(sd, off + o, buf, PG), 0);
	}
	struct vm src;
	vm_init(&src, sd);
	assert_int_equal(pthread_create(&src.thread, NULL, guest_main, &src), 0);
	struct dest j = { .kill_after = kill_after };
	char uri[64];
	dest_start(&j, dd, uri, sizeof(uri));
	struct block *disks[1] = { sd };
	struct migrate_params p = { .to = uri, .mode = MIGRATE_PRECOPY, .disks = disks, .ndisks = 1 };
	struct migrate_status st;
	migrate_status_init(&st);
	struct verr *err = NULL;
	assert_int_equal(migrate_source_run(src.ram, RAM_PAGES * PG, &src_ops, &src, &p, &st, &err), -1);
	dest_join(&j);
	if (want_dest)
		assert_non_null(strstr(j.err, want_dest));
	/* whichever the source notices first: the destination's report, or
	 * the connection's end */
	if (!strstr(err->msg, "destination") && !strstr(err->msg, "Broken pipe") &&
	    !strstr(err->msg, "Connection reset"))
		fail_msg("source: %s", err->msg);
	print_message("destination: %s\nsource: %s\n", j.err, err->msg);
	verr_free(err);
	struct migrate_progress pr;
	migrate_status_get(&st, &pr);
	assert_int_equal(pr.state, MIGRATE_FAILED);
	assert_false(pr.vm_lost);
	/* the guest runs on: its counter moves */
	pthread_mutex_lock(&src.lock);
	uint64_t c0 = src.counter;
	assert_false(src.pause_req);
	pthread_mutex_unlock(&src.lock);
	usleep(20000);
	pthread_mutex_lock(&src.lock);
	assert_true(src.counter > c0);
	pthread_mutex_unlock(&src.lock);
	assert_false(atomic_load(&sd->dirty_on)); /* tracking is off again */
	migrate_status_destroy(&st);
	vm_fini(&src);
	munmap(j.vm.ram, RAM_PAGES * PG);
	block_close(sd);
	block_close(dd);
}

static void test_copy_size_mismatch(void **state)
{
	(void)state;
	fail_and_check(4ull << 20, 0, "is 4194304 bytes, the source's is 8388608 bytes");
}

static void test_copy_dest_dies(void **state)
{
	(void)state;
	fail_and_check(8ull << 20, 1u << 20, NULL);
}

/* ---- hostile disk sections ---- */

struct sec {
	const char *name;
	const void *data;
	size_t len;
};

/* A precopy stream for 16 pages of RAM: setup, the given sections,
 * fake-dev, end. */
static uint8_t *stream(const struct sec *secs, unsigned n, size_t *len)
{
	struct verr *err = NULL;
	struct vstream *vs = vstream_mem_writer();
	struct snap_writer *w = NULL;
	assert_int_equal(snap_writer_new(vs, SNAP_F_STREAM, &w, &err), 0);
	uint8_t setup[16];
	le64_put(setup, 16 * PG);
	le32_put(setup + 8, PG);
	le32_put(setup + 12, MIGRATE_PRECOPY);
	assert_int_equal(snap_put_section(w, MIG_SEC_SETUP, 1, SNAP_SEC_REQUIRED, setup, 16, &err), 0);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(snap_put_section(w, secs[i].name, 1, SNAP_SEC_REQUIRED, secs[i].data, secs[i].len, &err),
				 0);
	uint8_t c[8];
	le64_put(c, 77);
	assert_int_equal(snap_put_section(w, "fake-dev", 1, SNAP_SEC_REQUIRED, c, 8, &err), 0);
	assert_int_equal(snap_writer_finish(w, &err), 0);
	snap_writer_destroy(w);
	size_t sz;
	const void *data = vstream_mem_data(vs, &sz);
	uint8_t *copy = xmalloc(sz);
	memcpy(copy, data, sz);
	vstream_destroy(vs);
	*len = sz;
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
	char buf[64];
	while (read(f->fd, buf, sizeof(buf)) > 0)
		;
	return NULL;
}

static int feed(const uint8_t *data, size_t len, struct vm *vm, const struct migrate_dest_ops *ops, char *msg,
		size_t msg_len)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	struct feeder f = { sv[0], data, len };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, feed_main, &f), 0);
	struct migrate_progress pr;
	struct verr *err = NULL;
	vm->started = vm->loaded = false;
	int r = migrate_dest_run(sv[1], vm->ram, 16 * PG, ops, vm, &pr, &err);
	close(sv[1]);
	pthread_join(t, NULL);
	close(sv[0]);
	msg[0] = '\0';
	if (r < 0) {
		snprintf(msg, msg_len, "%s", err->msg);
		verr_free(err);
	}
	return r;
}

static size_t disk_setup(uint8_t *b, uint32_t n, uint64_t size, uint32_t flags)
{
	le32_put(b, n);
	le32_put(b + 4, GR);
	for (uint32_t i = 0; i < n; i++) {
		le64_put(b + 8 + i * 16, size);
		le32_put(b + 16 + i * 16, BLOCK_FMT_RAW);
		le32_put(b + 20 + i * 16, flags);
	}
	return 8 + n * 16;
}

static size_t chunk(uint8_t *b, uint32_t disk, uint32_t flags, uint64_t off, uint64_t len, size_t data)
{
	struct mig_disk_chunk c = { disk, flags, off, len, NULL };
	mig_disk_chunk_encode(b, &c);
	memset(b + MIG_DISK_CHUNK_HDR, 0x42, data);
	return MIG_DISK_CHUNK_HDR + data;
}

/* Expects the stream of these sections to be refused with `want`. */
static void expect_refused(struct vm *vm, const struct migrate_dest_ops *ops, const struct sec *secs, unsigned n,
			   const char *want)
{
	size_t len;
	cleanup_free uint8_t *s = stream(secs, n, &len);
	char msg[512];
	assert_int_equal(feed(s, len, vm, ops, msg, sizeof(msg)), -1);
	if (!strstr(msg, want))
		fail_msg("expected '%s' in: %s", want, msg);
	assert_false(vm->started);
}

static void test_dest_hostile_disk(void **state)
{
	(void)state;
	const uint64_t size = 4 * GR;
	make_raw("h.raw", size, 0xee);
	struct vm vm;
	memset(&vm, 0, sizeof(vm));
	vm.ram = map_anon(16 * PG);
	vm.dst_disk = open_img("h.raw", false);
	static uint8_t setup_ok[8 + 16], data0[MIG_DISK_CHUNK_HDR + GR], zero_rest[MIG_DISK_CHUNK_HDR];
	disk_setup(setup_ok, 1, size, MIG_DISK_F_COPY);
	chunk(data0, 0, 0, 0, GR, GR);
	chunk(zero_rest, 0, MIG_DISK_ZERO, GR, 3 * GR, 0);
	const struct sec good[] = { { MIG_SEC_DISK_SETUP, setup_ok, sizeof(setup_ok) },
				    { MIG_SEC_DISK_CHUNK, data0, sizeof(data0) },
				    { MIG_SEC_DISK_CHUNK, zero_rest, sizeof(zero_rest) } };
	size_t len;
	uint8_t *s = stream(good, 3, &len);
	if (getenv("VESSEL_WRITE_SEED")) /* the fuzz_migrate seed (tests/fuzz/corpus) */
		assert_int_equal(write_file_atomic(getenv("VESSEL_WRITE_SEED"), s, len, 0644), 0);
	char msg[512];
	if (feed(s, len, &vm, &dst_ops, msg, sizeof(msg)) < 0)
		fail_msg("good stream refused: %s", msg);
	assert_true(vm.started);
	uint8_t *img = xmalloc(size);
	assert_int_equal(block_read(vm.dst_disk, 0, img, size), 0);
	for (uint64_t i = 0; i < size; i++)
		if (img[i] != (i < GR ? 0x42 : 0))
			fail_msg("byte %llu of the copy is 0x%02x", (unsigned long long)i, img[i]);
	free(img);
	/* every truncation and bit flip is refused before the start */
	for (size_t cut = 0; cut < len; cut += (cut < 300 ? 7 : 4999)) {
		assert_int_equal(feed(s, cut, &vm, &dst_ops, msg, sizeof(msg)), -1);
		assert_false(vm.started);
	}
	for (size_t off = 0; off < len; off += 1021) {
		s[off] ^= 0x08;
		assert_int_equal(feed(s, len, &vm, &dst_ops, msg, sizeof(msg)), -1);
		assert_false(vm.started);
		s[off] ^= 0x08;
	}
	free(s);

	static uint8_t b1[8 + 32], b2[MIG_DISK_CHUNK_HDR + GR];
	/* a destination without disk support, a chunk before the setup */
	expect_refused(&vm, &dst_ops_nodisks, good, 3, "cannot receive");
	expect_refused(&vm, &dst_ops, good + 1, 2, "before mig-disk-setup");
	/* disk count, size, flags, granule */
	const struct sec count[] = { { MIG_SEC_DISK_SETUP, b1, disk_setup(b1, 2, size, MIG_DISK_F_COPY) } };
	expect_refused(&vm, &dst_ops, count, 1, "has 2 disks, this one 1");
	const struct sec sz[] = { { MIG_SEC_DISK_SETUP, b1, disk_setup(b1, 1, 2 * size, MIG_DISK_F_COPY) } };
	expect_refused(&vm, &dst_ops, sz, 1, "is 262144 bytes, the source's is 524288 bytes");
	const struct sec flags[] = { { MIG_SEC_DISK_SETUP, b1, disk_setup(b1, 1, size, 6) } };
	expect_refused(&vm, &dst_ops, flags, 1, "unknown flags");
	disk_setup(b1, 1, size, MIG_DISK_F_COPY);
	le32_put(b1 + 4, 4096);
	const struct sec gran[] = { { MIG_SEC_DISK_SETUP, b1, 24 } };
	expect_refused(&vm, &dst_ops, gran, 1, "granule 4096");
	const struct sec twice[] = { good[0], good[0] };
	expect_refused(&vm, &dst_ops, twice, 2, "repeated");
	/* chunks: which disk, where, how long */
	struct sec bad[] = { good[0], { MIG_SEC_DISK_CHUNK, b2, chunk(b2, 1, 0, 0, GR, GR) } };
	expect_refused(&vm, &dst_ops, bad, 2, "disk 1 is not being copied");
	bad[1].len = chunk(b2, 0, 0, size, GR, GR);
	expect_refused(&vm, &dst_ops, bad, 2, "does not fit");
	bad[1].len = chunk(b2, 0, 0, 4096, 4096, 4096);
	expect_refused(&vm, &dst_ops, bad, 2, "does not fit");
	bad[1].len = chunk(b2, 0, MIG_DISK_ZERO, 2 * GR, UINT64_MAX - GR, 0);
	expect_refused(&vm, &dst_ops, bad, 2, "does not fit");
	bad[1].len = chunk(b2, 0, 0, 0, GR, 100);
	expect_refused(&vm, &dst_ops, bad, 2, "bytes of data");
	/* a read-only disk at the source is not copied: no chunk for it */
	const struct sec ro[] = { { MIG_SEC_DISK_SETUP, b1, disk_setup(b1, 1, size, 0) }, good[1] };
	expect_refused(&vm, &dst_ops, ro, 2, "not being copied");
	/* every granule must have arrived before the start */
	expect_refused(&vm, &dst_ops, good, 2, "3 of 4 granules never arrived");
	block_close(vm.dst_disk);
	/* a copied disk must be writable here */
	vm.dst_disk = open_img("h.raw", true);
	expect_refused(&vm, &dst_ops, good, 3, "is read-only here");
	block_close(vm.dst_disk);
	munmap(vm.ram, 16 * PG);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (getenv("VESSEL_TEST_DEBUG"))
		log_level_current = LOG_DEBUG;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunk_codec),
		cmocka_unit_test_setup_teardown(test_copy_precopy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_postcopy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_heavy_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_size_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_dest_dies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dest_hostile_disk, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
