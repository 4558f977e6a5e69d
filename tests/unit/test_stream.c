/* Snapshot/migration streams: backends, the sectioned format, hostile input
 * (truncation at every offset, bit flips, newer versions, oversize sections)
 * and sparse RAM with mmap of the page data. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/util.h"
#include "vm/state/snap.h"
#include "vm/state/stream.h"

#define RAM_PAGES 64
#define RAM_SIZE  (RAM_PAGES * SNAP_PAGE_SIZE)

static char tmpdir[64];

static int setup_dir(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/vessel-test-stream.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int teardown_dir(void **state)
{
	(void)state;
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	int r = system(cmd);
	(void)r;
	free(cmd);
	return 0;
}

/* A RAM image with a pattern of zero and non-zero pages. */
static uint8_t *make_ram(void)
{
	uint8_t *ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(ram != MAP_FAILED);
	for (unsigned i = 0; i < RAM_PAGES; i++) {
		if (i % 3 == 1 || i == 41)
			continue; /* zero pages */
		for (unsigned j = 0; j < SNAP_PAGE_SIZE; j += 64)
			ram[i * SNAP_PAGE_SIZE + j] = (uint8_t)(i * 7 + j / 64 + 1);
	}
	return ram;
}

static const char cpu_payload[] = "pc=0x80200000 regs...";
static const char dev_payload[] = "uart: lcr=3";

/* Writes the standard test snapshot: cpu0 (v2), an optional section, ram,
 * uart0, then end. */
static void write_snapshot(struct vstream *s, const uint8_t *ram)
{
	struct snap_writer *w = NULL;
	struct verr *e = NULL;
	assert_int_equal(snap_writer_new(s, 0, &w, &e), 0);
	assert_int_equal(
	    snap_put_section(w, "cpu0", 2, SNAP_SEC_REQUIRED, cpu_payload, sizeof(cpu_payload), &e), 0);
	assert_int_equal(snap_put_section(w, "x-note", 1, 0, "hello", 5, &e), 0);
	assert_int_equal(snap_write_ram(w, ram, RAM_SIZE, &e), 0);
	/* piecewise section */
	assert_int_equal(snap_section_begin(w, "uart0", 1, SNAP_SEC_REQUIRED, sizeof(dev_payload), &e), 0);
	assert_int_equal(snap_section_write(w, dev_payload, 5, &e), 0);
	assert_int_equal(snap_section_write(w, dev_payload + 5, sizeof(dev_payload) - 5, &e), 0);
	assert_int_equal(snap_section_end(w, &e), 0);
	assert_int_equal(snap_writer_finish(w, &e), 0);
	assert_null(e);
	snap_writer_destroy(w);
}

/* Reads the standard snapshot back. mode 0: copy RAM; 1: map it (lazy);
 * 2: skip RAM (next() reads over it). Returns 0, or -1 with *err. */
static int read_snapshot(struct vstream *s, int mode, uint8_t *ram_out, struct verr **err)
{
	struct snap_reader *r = NULL;
	if (snap_reader_new(s, mode == 1 ? SNAP_R_LAZY_RAM : 0, &r, err) < 0)
		return -1;
	struct snap_section sec;
	int n = 0, rc;
	bool cpu = false, uart = false, ram = false;
	while ((rc = snap_reader_next(r, &sec, err)) > 0) {
		n++;
		if (!strcmp(sec.name, "cpu0")) {
			if (snap_section_check_version(&sec, 2, err) < 0)
				goto fail;
			assert_int_equal(sec.len, sizeof(cpu_payload));
			assert_memory_equal(sec.data, cpu_payload, sizeof(cpu_payload));
			cpu = true;
		} else if (!strcmp(sec.name, "uart0")) {
			assert_memory_equal(sec.data, dev_payload, sizeof(dev_payload));
			uart = true;
		} else if (!strcmp(sec.name, "ram")) {
			assert_true(sec.is_ram);
			assert_int_equal(sec.ram_size, RAM_SIZE);
			assert_int_equal(sec.data_off % SNAP_PAGE_SIZE, 0);
			ram = true;
			if (mode == 0 && snap_ram_load(r, ram_out, RAM_SIZE, err) < 0)
				goto fail;
			if (mode == 1 && vstream_fd(s) >= 0 &&
			    snap_ram_map(r, ram_out, RAM_SIZE, 1000, NULL, err) < 0)
				goto fail;
		} else if (snap_section_unknown(&sec, err) < 0) {
			goto fail;
		}
	}
	if (rc < 0)
		goto fail;
	assert_int_equal(n, 4);
	assert_true(cpu && uart && ram);
	snap_reader_destroy(r);
	return 0;
fail:
	snap_reader_destroy(r);
	return -1;
}

static uint8_t *fresh_ram(void)
{
	uint8_t *p = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	return p;
}

static void test_mem_roundtrip(void **state)
{
	(void)state;
	uint8_t *ram = make_ram();
	struct vstream *w = vstream_mem_writer();
	write_snapshot(w, ram);
	size_t len;
	const uint8_t *data = vstream_mem_data(w, &len);
	assert_non_null(data);
	/* 15 non-zero pages of 64 are left out */
	assert_true(len < SNAP_HEADER_SIZE + 8 * SNAP_PAGE_SIZE + (RAM_PAGES - 22) * SNAP_PAGE_SIZE);
	for (int mode = 0; mode <= 2; mode += 2) {
		uint8_t *back = fresh_ram();
		struct vstream *r = vstream_mem_reader(data, len);
		struct verr *e = NULL;
		int rc = read_snapshot(r, mode, back, &e);
		if (rc < 0)
			fail_msg("%s", e->msg);
		if (mode == 0)
			assert_memory_equal(back, ram, RAM_SIZE);
		vstream_destroy(r);
		munmap(back, RAM_SIZE);
	}
	vstream_destroy(w);
	munmap(ram, RAM_SIZE);
}

static void test_file_roundtrip_and_mmap(void **state)
{
	(void)state;
	uint8_t *ram = make_ram();
	char *path = xasprintf("%s/vm.snap", tmpdir);
	struct vstream *w = NULL;
	struct verr *e = NULL;
	assert_int_equal(vstream_file_writer(path, 0600, &w, &e), 0);
	write_snapshot(w, ram);
	/* nothing at the target until commit */
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(vstream_commit(w, &e), 0);
	vstream_destroy(w);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* copy restore */
	uint8_t *back = fresh_ram();
	struct vstream *r = NULL;
	assert_int_equal(vstream_file_reader(path, &r, &e), 0);
	if (read_snapshot(r, 0, back, &e) < 0)
		fail_msg("%s", e->msg);
	assert_memory_equal(back, ram, RAM_SIZE);
	vstream_destroy(r);
	munmap(back, RAM_SIZE);

	/* lazy restore: pages are mapped from the file, private */
	back = fresh_ram();
	assert_int_equal(vstream_file_reader(path, &r, &e), 0);
	struct snap_reader *sr = NULL;
	assert_int_equal(snap_reader_new(r, SNAP_R_LAZY_RAM, &sr, &e), 0);
	struct snap_section sec;
	unsigned nmaps = 0;
	while (snap_reader_next(sr, &sec, &e) > 0) {
		if (sec.is_ram) {
			assert_int_equal(sec.npresent, RAM_PAGES - 22);
			assert_int_equal(snap_ram_map(sr, back, RAM_SIZE, 1000, &nmaps, &e), 0);
		}
	}
	assert_null(e);
	assert_true(nmaps > 0);
	assert_memory_equal(back, ram, RAM_SIZE);
	/* a write to the copy does not reach the file */
	back[0] ^= 0xff;
	snap_reader_destroy(sr);
	vstream_destroy(r);
	munmap(back, RAM_SIZE);
	back = fresh_ram();
	assert_int_equal(vstream_file_reader(path, &r, &e), 0);
	assert_int_equal(read_snapshot(r, 0, back, &e), 0);
	assert_memory_equal(back, ram, RAM_SIZE);
	vstream_destroy(r);

	/* a tiny mapping budget: short runs are copied instead */
	memset(back, 0, RAM_SIZE);
	assert_int_equal(vstream_file_reader(path, &r, &e), 0);
	assert_int_equal(snap_reader_new(r, SNAP_R_LAZY_RAM, &sr, &e), 0);
	while (snap_reader_next(sr, &sec, &e) > 0)
		if (sec.is_ram)
			assert_int_equal(snap_ram_map(sr, back, RAM_SIZE, 1, &nmaps, &e), 0);
	assert_null(e);
	assert_true(nmaps <= 1);
	assert_memory_equal(back, ram, RAM_SIZE);
	snap_reader_destroy(sr);
	vstream_destroy(r);
	munmap(back, RAM_SIZE);
	munmap(ram, RAM_SIZE);
	free(path);
}

static void test_failed_write_keeps_previous(void **state)
{
	(void)state;
	char *path = xasprintf("%s/keep.snap", tmpdir);
	struct verr *e = NULL;
	assert_int_equal(write_file_atomic(path, "OLD", 3, 0600), 0);
	struct vstream *w = NULL;
	assert_int_equal(vstream_file_writer(path, 0600, &w, &e), 0);
	assert_int_equal(vstream_write(w, "NEW DATA", 8), 0);
	vstream_destroy(w); /* abandoned: no commit */
	char *data = NULL;
	size_t len;
	assert_int_equal(read_file(path, 100, &data, &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(data, "OLD", 3);
	free(data);
	/* no temporary file left behind */
	char *cmd = xasprintf("ls '%s' | grep -c tmp", tmpdir);
	FILE *f = popen(cmd, "r");
	int count = -1;
	assert_int_equal(fscanf(f, "%d", &count), 1);
	pclose(f);
	assert_int_equal(count, 0);
	free(cmd);
	/* a writer into a missing directory fails with the path in the message */
	char *bad = xasprintf("%s/no/such/dir.snap", tmpdir);
	assert_int_equal(vstream_file_writer(bad, 0600, &w, &e), -1);
	assert_non_null(strstr(e->msg, "no/such/dir.snap"));
	verr_clear(&e);
	free(bad);
	free(path);
}

/* Migration mode over a socketpair: a child writes a stream of sections and
 * RAM batches, the parent reads it without seeking. */
struct batch_ctx {
	uint8_t *ram;
	unsigned pages, zeros;
};

static int apply_page(void *opaque, uint64_t pfn, const void *page)
{
	struct batch_ctx *c = opaque;
	if (pfn >= RAM_PAGES)
		return -1;
	if (page)
		memcpy(c->ram + pfn * SNAP_PAGE_SIZE, page, SNAP_PAGE_SIZE);
	else
		memset(c->ram + pfn * SNAP_PAGE_SIZE, 0, SNAP_PAGE_SIZE);
	c->pages++;
	c->zeros += !page;
	return 0;
}

static void test_socket_stream(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	uint8_t *ram = make_ram();
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		struct vstream *s = vstream_fd_new(sv[1], true, true);
		struct snap_writer *w = NULL;
		struct verr *e = NULL;
		int bad = snap_writer_new(s, SNAP_F_STREAM, &w, &e) < 0;
		/* two rounds: all pages, then a few "dirty" ones again */
		for (unsigned round = 0; round < 2 && !bad; round++) {
			for (unsigned base = 0; base < RAM_PAGES && !bad; base += 16) {
				uint64_t pfns[16];
				const void *pages[16];
				for (unsigned i = 0; i < 16; i++) {
					uint8_t *p = ram + (base + i) * SNAP_PAGE_SIZE;
					pfns[i] = base + i;
					pages[i] = (p[0] || p[64]) ? p : NULL;
				}
				bad |= snap_write_ram_batch(w, pfns, pages, round ? 2 : 16, &e) < 0;
			}
		}
		bad = bad || snap_put_section(w, "cpu0", 2, SNAP_SEC_REQUIRED, "regs", 4, &e) < 0 ||
		      snap_writer_finish(w, &e) < 0 || vstream_commit(s, &e) < 0;
		vstream_destroy(s);
		_exit(bad);
	}
	close(sv[1]);
	struct vstream *s = vstream_fd_new(sv[0], false, true);
	struct snap_reader *r = NULL;
	struct verr *e = NULL;
	assert_int_equal(snap_reader_new(s, 0, &r, &e), 0);
	assert_true(snap_reader_header(r)->flags & SNAP_F_STREAM);
	struct batch_ctx ctx = {.ram = fresh_ram()};
	struct snap_section sec;
	int rc, batches = 0;
	while ((rc = snap_reader_next(r, &sec, &e)) > 0) {
		if (!strcmp(sec.name, "ram-batch")) {
			batches++;
			assert_int_equal(snap_ram_batch_foreach(&sec, apply_page, &ctx, &e), 0);
		} else {
			assert_string_equal(sec.name, "cpu0");
		}
	}
	if (rc < 0)
		fail_msg("%s", e->msg);
	assert_int_equal(batches, 8);
	assert_int_equal(ctx.pages, RAM_PAGES + 8);
	assert_true(ctx.zeros > 0);
	assert_memory_equal(ctx.ram, ram, RAM_SIZE);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	snap_reader_destroy(r);
	vstream_destroy(s);
	munmap(ctx.ram, RAM_SIZE);
	munmap(ram, RAM_SIZE);
}

static uint8_t *snapshot_bytes(size_t *len)
{
	uint8_t *ram = make_ram();
	struct vstream *w = vstream_mem_writer();
	write_snapshot(w, ram);
	const void *d = vstream_mem_data(w, len);
	uint8_t *copy = xmalloc(*len);
	memcpy(copy, d, *len);
	vstream_destroy(w);
	munmap(ram, RAM_SIZE);
	return copy;
}

static void test_truncation_every_offset(void **state)
{
	(void)state;
	size_t len;
	uint8_t *data = snapshot_bytes(&len);
	uint8_t *back = fresh_ram();
	for (int mode = 0; mode <= 2; mode++) {
		for (size_t cut = 0; cut < len; cut++) {
			struct vstream *r = vstream_mem_reader(data, cut);
			struct verr *e = NULL;
			if (read_snapshot(r, mode, back, &e) == 0)
				fail_msg("truncated at %zu of %zu accepted (mode %d)", cut, len, mode);
			assert_non_null(e);
			verr_free(e);
			vstream_destroy(r);
		}
	}
	/* the same through a pipe (length unknown to the reader) at a few cuts */
	size_t cuts[] = {10, SNAP_HEADER_SIZE + 20, len / 2, len - 1};
	for (size_t i = 0; i < ARRAY_SIZE(cuts); i++) {
		int fds[2];
		assert_int_equal(pipe(fds), 0);
		pid_t pid = fork();
		if (pid == 0) {
			close(fds[0]);
			int rr = write_full(fds[1], data, cuts[i]);
			_exit(rr < 0);
		}
		close(fds[1]);
		struct vstream *r = vstream_fd_new(fds[0], false, true);
		struct verr *e = NULL;
		assert_int_equal(read_snapshot(r, 0, back, &e), -1);
		if (!strstr(e->msg, "truncated") && !strstr(e->msg, "too short"))
			fail_msg("cut at %zu: %s", cuts[i], e->msg);
		verr_free(e);
		vstream_destroy(r);
		waitpid(pid, NULL, 0);
	}
	munmap(back, RAM_SIZE);
	free(data);
}

static void test_bit_flips(void **state)
{
	(void)state;
	size_t len;
	uint8_t *data = snapshot_bytes(&len);
	uint8_t *back = fresh_ram();
	uint8_t *mut = xmalloc(len);
	/* every byte of the metadata; every 97th byte of page data */
	for (size_t off = 0; off < len; off++) {
		bool meta = off < 2 * SNAP_PAGE_SIZE || off >= len - 256;
		if (!meta && off % 97)
			continue;
		memcpy(mut, data, len);
		mut[off] ^= (uint8_t)(1u << (off % 8));
		struct vstream *r = vstream_mem_reader(mut, len);
		struct verr *e = NULL;
		if (read_snapshot(r, 0, back, &e) == 0)
			fail_msg("bit flip at %zu accepted", off);
		verr_free(e);
		vstream_destroy(r);
	}
	/* garbage after the end section is refused too */
	uint8_t *longer = xmalloc(len + 1);
	memcpy(longer, data, len);
	longer[len] = 0;
	struct vstream *r = vstream_mem_reader(longer, len + 1);
	struct verr *e = NULL;
	assert_int_equal(read_snapshot(r, 0, back, &e), -1);
	assert_non_null(strstr(e->msg, "garbage"));
	verr_free(e);
	vstream_destroy(r);
	free(longer);
	free(mut);
	free(data);
	munmap(back, RAM_SIZE);
}

/* Rewrites a section header's CRC after editing it, as a newer build would
 * have written it. */
static void fix_section_crc(uint8_t *h)
{
	le32_put(h + 52, state_crc32c(0, h, 52));
}

static void test_newer_versions_refused(void **state)
{
	(void)state;
	size_t len;
	uint8_t *data = snapshot_bytes(&len);
	uint8_t *back = fresh_ram();
	struct verr *e = NULL;

	/* newer major */
	uint8_t *mut = xmalloc(len);
	memcpy(mut, data, len);
	le16_put(mut + 8, SNAP_MAJOR + 1);
	struct vstream *r = vstream_mem_reader(mut, len);
	assert_int_equal(read_snapshot(r, 0, back, &e), -1);
	assert_string_equal(e->msg, "format version 2.0 is newer than this build (1.0)");
	verr_clear(&e);
	vstream_destroy(r);

	/* a newer section version (cpu0 v3, this reader knows 2) */
	memcpy(mut, data, len);
	uint8_t *h = mut + SNAP_HEADER_SIZE;
	assert_memory_equal(h, "cpu0", 5);
	le32_put(h + 32, 3);
	fix_section_crc(h);
	r = vstream_mem_reader(mut, len);
	assert_int_equal(read_snapshot(r, 0, back, &e), -1);
	assert_string_equal(e->msg, "section cpu0: version 3 is newer than this build (2)");
	verr_clear(&e);
	vstream_destroy(r);

	/* an unknown required section; the same section optional is skipped */
	memcpy(mut, data, len);
	h = mut + SNAP_HEADER_SIZE + SNAP_SECTION_HEADER_SIZE + sizeof(cpu_payload) + 4;
	assert_memory_equal(h, "x-note", 7);
	le32_put(h + 36, SNAP_SEC_REQUIRED);
	fix_section_crc(h);
	r = vstream_mem_reader(mut, len);
	assert_int_equal(read_snapshot(r, 0, back, &e), -1);
	assert_non_null(strstr(e->msg, "section x-note: required"));
	verr_clear(&e);
	vstream_destroy(r);

	/* other architecture */
	memcpy(mut, data, len);
	memcpy(mut + 16, "aarch64", 8);
	le32_put(mut + 44, state_crc32c(0, mut, 44));
	r = vstream_mem_reader(mut, len);
	assert_int_equal(read_snapshot(r, 0, back, &e), -1);
	assert_non_null(strstr(e->msg, "architecture 'aarch64'"));
	verr_clear(&e);
	vstream_destroy(r);

	/* not a snapshot at all */
	r = vstream_mem_reader("hello world, this is not it......................", 48);
	assert_int_equal(read_snapshot(r, 0, back, &e), -1);
	assert_non_null(strstr(e->msg, "not a Vessel snapshot"));
	verr_clear(&e);
	vstream_destroy(r);
	free(mut);
	free(data);
	munmap(back, RAM_SIZE);
}

static void test_oversize_refused(void **state)
{
	(void)state;
	struct verr *e = NULL;
	/* writer side */
	struct vstream *w = vstream_mem_writer();
	struct snap_writer *sw = NULL;
	assert_int_equal(snap_writer_new(w, 0, &sw, &e), 0);
	assert_int_equal(snap_section_begin(sw, "big", 1, 0, SNAP_MAX_SECTION + 1, &e), -1);
	assert_non_null(strstr(e->msg, "over the limit"));
	verr_clear(&e);
	assert_int_equal(snap_section_begin(sw, "Bad Name", 1, 0, 1, &e), -1);
	verr_clear(&e);
	assert_int_equal(snap_section_begin(sw, "a-name-that-is-longer-than-31-chars", 1, 0, 1, &e), -1);
	verr_clear(&e);
	/* write more than declared */
	assert_int_equal(snap_section_begin(sw, "small", 1, 0, 2, &e), 0);
	assert_int_equal(snap_section_write(sw, "abc", 3, &e), -1);
	verr_clear(&e);
	snap_writer_destroy(sw);
	vstream_destroy(w);

	/* reader side: a header claiming 1 GiB with a correct header CRC */
	w = vstream_mem_writer();
	assert_int_equal(snap_writer_new(w, 0, &sw, &e), 0);
	assert_int_equal(snap_put_section(sw, "dev", 1, 0, "x", 1, &e), 0);
	assert_int_equal(snap_writer_finish(sw, &e), 0);
	snap_writer_destroy(sw);
	size_t len;
	uint8_t *mut = xmalloc(0);
	const void *d = vstream_mem_data(w, &len);
	mut = xrealloc(mut, len);
	memcpy(mut, d, len);
	uint8_t *h = mut + SNAP_HEADER_SIZE;
	le64_put(h + 40, 1ull << 30);
	fix_section_crc(h);
	struct vstream *r = vstream_mem_reader(mut, len);
	struct snap_reader *sr = NULL;
	assert_int_equal(snap_reader_new(r, 0, &sr, &e), 0);
	struct snap_section sec;
	assert_int_equal(snap_reader_next(sr, &sec, &e), -1);
	assert_string_equal(e->msg, "section dev: length 1073741824 is over the limit (67108864)");
	verr_clear(&e);
	snap_reader_destroy(sr);
	vstream_destroy(r);
	/* just under the limit but longer than the input: truncated, no big allocation */
	le64_put(h + 40, SNAP_MAX_SECTION - 1);
	fix_section_crc(h);
	r = vstream_mem_reader(mut, len);
	assert_int_equal(snap_reader_new(r, 0, &sr, &e), 0);
	assert_int_equal(snap_reader_next(sr, &sec, &e), -1);
	assert_non_null(strstr(e->msg, "truncated"));
	verr_clear(&e);
	snap_reader_destroy(sr);
	vstream_destroy(r);
	free(mut);
	vstream_destroy(w);
}

static void test_dropped_section_detected(void **state)
{
	(void)state;
	struct verr *e = NULL;
	struct vstream *w = vstream_mem_writer();
	struct snap_writer *sw = NULL;
	assert_int_equal(snap_writer_new(w, 0, &sw, &e), 0);
	assert_int_equal(snap_put_section(sw, "a", 1, 0, "1234", 4, &e), 0);
	assert_int_equal(snap_put_section(sw, "b", 1, 0, "5678", 4, &e), 0);
	assert_int_equal(snap_writer_finish(sw, &e), 0);
	snap_writer_destroy(sw);
	size_t len;
	const uint8_t *d = vstream_mem_data(w, &len);
	/* cut section "a" (56 + 4 + 4 bytes) out of the stream */
	size_t sec = SNAP_SECTION_HEADER_SIZE + 4 + 4;
	uint8_t *mut = xmalloc(len - sec);
	memcpy(mut, d, SNAP_HEADER_SIZE);
	memcpy(mut + SNAP_HEADER_SIZE, d + SNAP_HEADER_SIZE + sec, len - SNAP_HEADER_SIZE - sec);
	struct vstream *r = vstream_mem_reader(mut, len - sec);
	struct snap_reader *sr = NULL;
	assert_int_equal(snap_reader_new(r, 0, &sr, &e), 0);
	struct snap_section s;
	assert_int_equal(snap_reader_next(sr, &s, &e), 1);
	assert_string_equal(s.name, "b");
	assert_int_equal(snap_reader_next(sr, &s, &e), -1);
	assert_non_null(strstr(e->msg, "section end"));
	verr_clear(&e);
	snap_reader_destroy(sr);
	vstream_destroy(r);
	free(mut);
	vstream_destroy(w);
}

static void test_cursor_and_buf(void **state)
{
	(void)state;
	/* CRC-32C check value (RFC 3720 B.4 / the "123456789" convention),
	 * in one piece and chained, aligned and not */
	assert_int_equal(state_crc32c(0, "123456789", 9), 0xe3069283);
	assert_int_equal(state_crc32c(state_crc32c(0, "1234", 4), "56789", 5), 0xe3069283);
	char buf[64] = {0};
	memcpy(buf + 3, "123456789", 9);
	assert_int_equal(state_crc32c(0, buf + 3, 9), 0xe3069283);
	struct state_buf b = {0};
	state_put_u8(&b, 0xab);
	state_put_u16(&b, 0x1234);
	state_put_u32(&b, 0xdeadbeef);
	state_put_u64(&b, 0x0102030405060708ull);
	assert_int_equal(b.len, 15);
	assert_int_equal(b.p[1], 0x34); /* little-endian */
	struct state_cursor c;
	state_cursor_init(&c, b.p, b.len);
	assert_int_equal(state_get_u8(&c), 0xab);
	assert_int_equal(state_get_u16(&c), 0x1234);
	assert_int_equal(state_get_u32(&c), 0xdeadbeef);
	assert_int_equal(state_get_u64(&c), 0x0102030405060708ull);
	assert_true(state_cursor_done(&c));
	assert_int_equal(state_get_u32(&c), 0);
	assert_true(c.bad);
	assert_false(state_cursor_done(&c));
	state_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cursor_and_buf),
	    cmocka_unit_test(test_mem_roundtrip),
	    cmocka_unit_test(test_file_roundtrip_and_mmap),
	    cmocka_unit_test(test_failed_write_keeps_previous),
	    cmocka_unit_test(test_socket_stream),
	    cmocka_unit_test(test_truncation_every_offset),
	    cmocka_unit_test(test_bit_flips),
	    cmocka_unit_test(test_newer_versions_refused),
	    cmocka_unit_test(test_oversize_refused),
	    cmocka_unit_test(test_dropped_section_detected),
	};
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
