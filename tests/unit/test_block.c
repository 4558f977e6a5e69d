/* Disk images: raw and qcow2, checked against qemu-img (qemu-utils) as the
 * reference: images we write must pass `qemu-img check` and convert to the
 * bytes we wrote; images qemu-img makes (compressed, with backing files,
 * with small clusters) must read back what qemu-img put in them. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/util.h"
#include "vm/block/block.h"

static char dir[64];

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	va_list ap;
	char *cmd;
	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		abort();
	va_end(ap);
	char *full = xasprintf("cd %s && ( %s ) >/dev/null 2>&1", dir, cmd);
	int r = system(full);
	free(cmd);
	free(full);
	return r;
}

static char *p(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/vessel-block-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char *cmd = xasprintf("rm -rf %s", dir);
	int r = system(cmd);
	free(cmd);
	return r;
}

static bool have_qemu_img(void)
{
	return system("qemu-img --version >/dev/null 2>&1") == 0;
}

/* Fills buf with a pattern that depends on the offset and a seed. */
static void pattern(uint8_t *buf, size_t len, uint64_t off, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(((off + i) * 2654435761u >> 13) ^ seed);
}

static struct block *open_or_fail(const char *path, enum block_format f, bool ro)
{
	struct block *b = NULL;
	struct verr *e = NULL;
	if (block_open(path, f, ro, &b, &e) < 0)
		fail_msg("open %s: %s", path, e->msg);
	return b;
}

/* Compares an image with a shadow buffer via qemu-img convert to raw. */
static void assert_image_equals(const char *img, const uint8_t *shadow, size_t len)
{
	assert_int_equal(sh("qemu-img check %s", img), 0);
	assert_int_equal(sh("qemu-img convert -O raw %s out.raw", img), 0);
	cleanup_free char *out = p("out.raw");
	char *data;
	size_t n;
	assert_int_equal(read_file(out, len + 1, &data, &n), 0);
	assert_int_equal(n, len);
	assert_memory_equal(data, shadow, len);
	free(data);
	unlink(out);
}

static void test_create_write_check(void **state)
{
	(void)state;
	if (!have_qemu_img())
		skip();
	const size_t size = 64 << 20;
	cleanup_free char *img = p("a.qcow2");
	struct verr *e = NULL;
	assert_int_equal(qcow2_create(img, size, NULL, &e), 0);
	assert_int_not_equal(qcow2_create(img, size, NULL, &e), 0); /* exists */
	assert_non_null(strstr(e->msg, "File exists"));
	verr_clear(&e);
	assert_int_equal(sh("qemu-img check a.qcow2"), 0);

	uint8_t *shadow = xcalloc(1, size);
	struct block *b = open_or_fail(img, BLOCK_FMT_AUTO, false);
	assert_int_equal(b->format, BLOCK_FMT_QCOW2);
	assert_int_equal(b->size, size);
	/* partial clusters, a write across clusters, and one at the end */
	const uint64_t offs[] = { 0, 512, 65536 - 100, 3 << 20, size - 4096 };
	const size_t lens[] = { 512, 1000, 300, 200000, 4096 };
	for (unsigned i = 0; i < ARRAY_SIZE(offs); i++) {
		uint8_t *buf = xmalloc(lens[i]);
		pattern(buf, lens[i], offs[i], i);
		assert_int_equal(block_write(b, offs[i], buf, lens[i]), 0);
		memcpy(shadow + offs[i], buf, lens[i]);
		free(buf);
	}
	uint8_t *rd = xmalloc(size);
	assert_int_equal(block_read(b, 0, rd, size), 0);
	assert_memory_equal(rd, shadow, size);
	assert_int_equal(block_write(b, size - 10, rd, 11), -EINVAL);
	assert_int_equal(block_read(b, UINT64_MAX - 5, rd, 11), -EINVAL);
	/* the image is locked while open */
	struct block *b2 = NULL;
	assert_int_not_equal(block_open(img, BLOCK_FMT_QCOW2, false, &b2, &e), 0);
	assert_non_null(strstr(e->msg, "in use"));
	verr_clear(&e);
	assert_int_equal(block_flush(b), 0);
	uint64_t alloc;
	assert_int_equal(b->ops->allocated(b, &alloc), 0);
	assert_true(alloc >= 6 * 65536 && alloc <= 12 * 65536);

	/* discard and write_zeroes */
	assert_int_equal(block_write_zeroes(b, 3 << 20, 65536 * 2, true), 0);
	memset(shadow + (3 << 20), 0, 65536 * 2);
	assert_int_equal(block_write_zeroes(b, 600, 100, false), 0);
	memset(shadow + 600, 0, 100);
	assert_int_equal(block_discard(b, 0, 65536), 0);
	memset(shadow, 0, 65536); /* discarded clusters without backing read as zero here */
	block_close(b);
	assert_image_equals("a.qcow2", shadow, size);
	free(rd);
	free(shadow);
}

static void test_qemu_made_images(void **state)
{
	(void)state;
	if (!have_qemu_img())
		skip();
	const size_t size = 8 << 20;
	uint8_t *data = xmalloc(size);
	pattern(data, size, 0, 7);
	memset(data + (1 << 20), 0, 1 << 20); /* a zero run, stored sparse */
	cleanup_free char *raw = p("base.raw");
	assert_int_equal(write_file_atomic(raw, data, size, 0644), 0);
	/* compressed clusters, and 512-byte clusters with 1-bit refcounts: both
	 * read back, and writes keep the image consistent */
	assert_int_equal(sh("qemu-img convert -c -O qcow2 base.raw comp.qcow2"), 0);
	assert_int_equal(sh("qemu-img convert -O qcow2 -o cluster_size=512,refcount_bits=1 base.raw small.qcow2"), 0);
	assert_int_equal(sh("qemu-img create -f qcow2 -o compat=0.10 v2.qcow2 8M"), 0);
	const char *names[] = { "comp.qcow2", "small.qcow2", "v2.qcow2" };
	for (unsigned k = 0; k < ARRAY_SIZE(names); k++) {
		cleanup_free char *img = p(names[k]);
		uint8_t *shadow = xmalloc(size);
		if (k == 2)
			memset(shadow, 0, size);
		else
			memcpy(shadow, data, size);
		struct block *b = open_or_fail(img, BLOCK_FMT_QCOW2, false);
		uint8_t *rd = xmalloc(size);
		assert_int_equal(block_read(b, 0, rd, size), 0);
		assert_memory_equal(rd, shadow, size);
		/* overwrite part of a compressed cluster, and lots of small clusters
		 * (which makes the 512-byte-cluster image grow its refcount table) */
		uint8_t *buf = xmalloc(3 << 20);
		pattern(buf, 3 << 20, 12345, 99);
		assert_int_equal(block_write(b, 12345, buf, 3 << 20), 0);
		memcpy(shadow + 12345, buf, 3 << 20);
		assert_int_equal(block_write_zeroes(b, 5 << 20, 1 << 20, k == 0), 0);
		memset(shadow + (5 << 20), 0, 1 << 20);
		block_close(b);
		assert_image_equals(names[k], shadow, size);
		free(buf);
		free(rd);
		free(shadow);
	}
	free(data);
}

static void test_backing_chain(void **state)
{
	(void)state;
	if (!have_qemu_img())
		skip();
	const size_t size = 4 << 20;
	uint8_t *base = xmalloc(size);
	pattern(base, size, 0, 3);
	cleanup_free char *raw = p("base.img");
	assert_int_equal(write_file_atomic(raw, base, size, 0644), 0);
	cleanup_free char *mid = p("mid.qcow2");
	cleanup_free char *top = p("top.qcow2");
	struct verr *e = NULL;
	/* relative backing names resolve next to the image, as qemu-img does */
	assert_int_equal(qcow2_create(mid, 0, "base.img", &e), 0);
	assert_int_equal(qcow2_create(top, 0, "mid.qcow2", &e), 0);
	assert_int_equal(sh("qemu-img info --backing-chain top.qcow2 | grep -q 'backing file format: raw'"), 0);

	struct block *m = open_or_fail(mid, BLOCK_FMT_QCOW2, false);
	uint8_t buf[700];
	pattern(buf, sizeof(buf), 0, 44);
	assert_int_equal(block_write(m, 100000, buf, sizeof(buf)), 0);
	memcpy(base + 100000, buf, sizeof(buf));
	block_close(m);

	struct block *t = open_or_fail(top, BLOCK_FMT_AUTO, false);
	assert_non_null(t->backing);
	assert_non_null(t->backing->backing);
	assert_int_equal(t->size, size);
	pattern(buf, sizeof(buf), 0, 45);
	assert_int_equal(block_write(t, 2 << 20, buf, sizeof(buf)), 0); /* copy-on-write */
	memcpy(base + (2 << 20), buf, sizeof(buf));
	/* v3 discard over a backing file reads as zeros (zero flag) */
	assert_int_equal(block_discard(t, 3 << 20, 65536), 0);
	memset(base + (3 << 20), 0, 65536);
	uint8_t *rd = xmalloc(size);
	assert_int_equal(block_read(t, 0, rd, size), 0);
	assert_memory_equal(rd, base, size);
	block_close(t);
	assert_image_equals("top.qcow2", base, size);
	/* the base was never written */
	char *orig;
	size_t n;
	assert_int_equal(read_file(raw, size + 1, &orig, &n), 0);
	pattern(base, size, 0, 3);
	assert_memory_equal(orig, base, size);
	free(orig);
	free(rd);
	free(base);
}

static void expect_open_error(const char *img, const char *needle, bool ro)
{
	struct block *b = NULL;
	struct verr *e = NULL;
	assert_int_not_equal(block_open(img, BLOCK_FMT_AUTO, ro, &b, &e), 0);
	assert_null(b);
	if (!strstr(e->msg, needle))
		fail_msg("error '%s' does not mention '%s'", e->msg, needle);
	verr_free(e);
}

static void poke_be32(const char *path, off_t off, uint32_t v)
{
	int fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	uint8_t b[4] = { v >> 24, v >> 16, v >> 8, v };
	assert_int_equal(pwrite(fd, b, 4, off), 4);
	close(fd);
}

static void test_refusals(void **state)
{
	(void)state;
	if (!have_qemu_img())
		skip();
	cleanup_free char *img = p("x.qcow2");
	cleanup_free char *extl2 = p("extl2.qcow2");
	cleanup_free char *snap = p("snap.qcow2");
	expect_open_error(img, "No such file", true);
	assert_int_equal(sh("qemu-img create -f qcow2 -o extended_l2=on extl2.qcow2 1M"), 0);
	expect_open_error(extl2, "extended L2", true);
	assert_int_equal(sh("qemu-img create -f qcow2 snap.qcow2 1M && qemu-img snapshot -c s1 snap.qcow2"), 0);
	expect_open_error(snap, "internal snapshots", false);
	struct block *b = open_or_fail(snap, BLOCK_FMT_QCOW2, true);
	block_close(b);

	assert_int_equal(sh("qemu-img create -f qcow2 x.qcow2 1M"), 0);
	poke_be32(img, 4, 4);
	expect_open_error(img, "version 4", true);
	poke_be32(img, 4, 3);
	poke_be32(img, 20, 30);
	expect_open_error(img, "cluster size", true);
	poke_be32(img, 20, 16);
	poke_be32(img, 36, 0); /* L1 too small for the size */
	expect_open_error(img, "L1 table", true);
	poke_be32(img, 36, 1);
	poke_be32(img, 32, 1);
	expect_open_error(img, "encrypted", true);
	poke_be32(img, 32, 0);
	/* a backing file that names itself is a loop */
	assert_int_equal(sh("qemu-img create -f qcow2 -F qcow2 -b x.qcow2 -u loop.qcow2 1M"), 0);
	assert_int_equal(sh("qemu-img rebase -u -F qcow2 -b loop.qcow2 loop.qcow2"), 0);
	cleanup_free char *loop = p("loop.qcow2");
	expect_open_error(loop, "deeper than", true);

	/* a probed raw image may not be turned into a qcow2 by its guest */
	cleanup_free char *raw = p("r.raw");
	assert_int_equal(write_file_atomic(raw, "\0\0\0\0\0\0\0\0", 8, 0644), 0);
	assert_int_equal(truncate(raw, 65536), 0);
	b = open_or_fail(raw, BLOCK_FMT_AUTO, false);
	assert_int_equal(b->format, BLOCK_FMT_RAW);
	assert_int_equal(block_write(b, 0, "QFI\xfb", 4), -EPERM);
	assert_int_equal(block_write(b, 0, "QFIx", 4), 0);
	block_close(b);
	b = open_or_fail(raw, BLOCK_FMT_RAW, false);
	assert_int_equal(block_write(b, 0, "QFI\xfb", 4), 0); /* explicit raw: the user's choice */
	block_close(b);
	b = open_or_fail(raw, BLOCK_FMT_RAW, true);
	assert_int_equal(block_write(b, 0, "x", 1), -EROFS);
	block_close(b);
}

#define G BLOCK_DIRTY_GRANULE

static uint64_t collect_bits(struct block *b, uint64_t *bm, size_t words)
{
	memset(bm, 0, words * 8);
	return block_dirty_collect(b, bm);
}

static bool bm_bit(const uint64_t *bm, uint64_t i)
{
	return (bm[i / 64] >> (i % 64)) & 1;
}

/* Dirty tracking: exactly the granules a write, discard or write-zeroes
 * touched, once per collection, nothing while off, cleared on restart. */
static void check_dirty_bits(const char *path, enum block_format fmt)
{
	struct block *b = open_or_fail(path, fmt, false);
	uint64_t n = block_dirty_granules(b);
	assert_int_equal(n, (b->size + G - 1) / G);
	cleanup_free uint64_t *bm = xcalloc(n / 64 + 1, sizeof(uint64_t));
	cleanup_free uint8_t *buf = xmalloc(3 * G);
	pattern(buf, 3 * G, 0, 7);

	assert_int_equal(block_write(b, 0, buf, 512), 0); /* before start: not recorded */
	block_dirty_start(b);
	assert_int_equal(collect_bits(b, bm, n / 64 + 1), 0);
	assert_int_equal(block_write(b, G - 1, buf, 2), 0);		 /* granules 0, 1 */
	assert_int_equal(block_write(b, 5 * G, buf, G), 0);		 /* 5 */
	assert_int_equal(block_write(b, 70 * G + 100, buf, 2 * G), 0); /* 70, 71, 72 */
	assert_int_equal(block_discard(b, 10 * G, G), 0);		 /* 10 */
	assert_int_equal(block_write_zeroes(b, 64 * G, 3 * G, true), 0); /* 64..66 */
	assert_int_equal(block_write(b, b->size - 1, buf, 1), 0);	 /* the last (partial) one */
	assert_int_equal(block_write(b, b->size, buf, 1), -EINVAL);	 /* refused: nothing */
	const uint64_t want[] = { 0, 1, 5, 10, 64, 65, 66, 70, 71, 72, n - 1 };
	uint64_t got = collect_bits(b, bm, n / 64 + 1);
	assert_int_equal(got, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_true(bm_bit(bm, want[i]));
	assert_int_equal(collect_bits(b, bm, n / 64 + 1), 0); /* collected once */
	/* collect ORs into what the caller holds */
	bm[0] = 1;
	assert_int_equal(block_write(b, 3 * G, buf, 1), 0);
	assert_int_equal(block_dirty_collect(b, bm), 2);
	block_dirty_stop(b);
	assert_int_equal(block_write(b, 7 * G, buf, 1), 0);
	block_dirty_start(b);
	assert_int_equal(collect_bits(b, bm, n / 64 + 1), 0);
	block_close(b);
}

static void test_dirty_bitmap(void **state)
{
	(void)state;
	cleanup_free char *raw = p("d.raw");
	int fd = open(raw, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 200 * G + 4096), 0); /* a partial last granule */
	close(fd);
	check_dirty_bits(raw, BLOCK_FMT_RAW);
	cleanup_free char *q = p("d.qcow2");
	struct verr *e = NULL;
	assert_int_equal(qcow2_create(q, 200 * G + 4096, NULL, &e), 0);
	check_dirty_bits(q, BLOCK_FMT_QCOW2);
}

struct writer {
	struct block *b;
	atomic_bool stop;
	atomic_uint writes;
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	uint64_t x = 88172645463325252ull;
	uint8_t buf[8192];
	while (!atomic_load(&w->stop)) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint64_t off = (x >> 8) % (w->b->size - sizeof(buf));
		size_t len = 1 + (size_t)(x % sizeof(buf));
		memset(buf, (int)(x >> 56) | 1, len);
		if ((x & 15) == 0)
			assert_int_equal(block_write_zeroes(w->b, off & ~4095ull, 4096, true), 0);
		else
			assert_int_equal(block_write(w->b, off, buf, len), 0);
		atomic_fetch_add(&w->writes, 1);
	}
	return NULL;
}

/* A copier that collects and re-reads dirty granules while another thread
 * writes ends with an exact copy once the writer stopped and the last
 * collection is copied: no write is lost in a race. */
static void test_dirty_concurrent_copy(void **state)
{
	(void)state;
	cleanup_free char *q = p("c.qcow2");
	struct verr *e = NULL;
	assert_int_equal(qcow2_create(q, 64 * G, NULL, &e), 0);
	struct block *b = open_or_fail(q, BLOCK_FMT_QCOW2, false);
	uint64_t n = block_dirty_granules(b), words = (n + 63) / 64;
	uint8_t *copy = xcalloc(1, b->size), *now = xmalloc(b->size);
	uint64_t *bm = xcalloc(words, 8);
	block_dirty_start(b);
	struct writer w = { .b = b };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, writer_main, &w), 0);
	for (uint64_t i = 0; i < n; i++) /* the first pass */
		assert_int_equal(block_read(b, i * G, copy + i * G, G), 0);
	/* rounds while the writer runs (at least 20, and 2000 of its writes) */
	for (int round = 0; round < 20 || atomic_load(&w.writes) < 2000; round++) {
		memset(bm, 0, words * 8);
		block_dirty_collect(b, bm);
		for (uint64_t i = 0; i < n; i++)
			if (bm_bit(bm, i))
				assert_int_equal(block_read(b, i * G, copy + i * G, G), 0);
	}
	atomic_store(&w.stop, true);
	pthread_join(t, NULL);
	memset(bm, 0, words * 8);
	block_dirty_collect(b, bm);
	for (uint64_t i = 0; i < n; i++)
		if (bm_bit(bm, i))
			assert_int_equal(block_read(b, i * G, copy + i * G, G), 0);
	assert_int_equal(block_read(b, 0, now, b->size), 0);
	assert_true(atomic_load(&w.writes) >= 2000);
	assert_memory_equal(copy, now, b->size);
	block_dirty_stop(b);
	block_close(b);
	free(copy);
	free(now);
	free(bm);
}

/* Zeroing unallocated clusters of an image without a backing file leaves
 * them unallocated (a sparse copy stays sparse), partial clusters too. */
static void test_zeroes_stay_sparse(void **state)
{
	(void)state;
	cleanup_free char *q = p("z.qcow2");
	struct verr *e = NULL;
	assert_int_equal(qcow2_create(q, 16 << 20, NULL, &e), 0);
	struct block *b = open_or_fail(q, BLOCK_FMT_QCOW2, false);
	uint64_t before, after;
	assert_int_equal(b->ops->allocated(b, &before), 0);
	assert_int_equal(block_write_zeroes(b, 0, 16 << 20, true), 0);
	assert_int_equal(block_write_zeroes(b, 4096, 8192, false), 0);
	assert_int_equal(b->ops->allocated(b, &after), 0);
	assert_int_equal(after, before);
	/* allocated data still becomes zeros */
	uint8_t buf[4096];
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(block_write(b, 65536, buf, sizeof(buf)), 0);
	assert_int_equal(block_write_zeroes(b, 65536 + 1024, 1024, true), 0);
	assert_int_equal(block_read(b, 65536, buf, sizeof(buf)), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], i >= 1024 && i < 2048 ? 0 : 0xaa);
	block_close(b);
	if (have_qemu_img())
		assert_int_equal(sh("qemu-img check z.qcow2"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_write_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qemu_made_images, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backing_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dirty_bitmap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dirty_concurrent_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zeroes_stay_sparse, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
