/* virtio-mmio transport, split virtqueues, virtio-blk and virtio-rng, driven
 * by a small simulated driver over fake guest RAM (what Linux's virtio_mmio
 * and virtio_blk drivers do, and what a hostile driver might do). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/util.h"
#include "vm/block/block.h"
#include "vm/virtio/virtio_devices.h"

#define BASE 0x80000000ull
#define RAM (4u << 20)
#define QNUM 16
#define DATA (BASE + 0x10000)

/* Two queues' rings; `cq` selects the one the helpers below work on. */
struct qlayout {
	uint64_t desc, avail, used;
	uint16_t ai, nd; /* next avail index, next free descriptor */
};
static struct qlayout Q[2] = {
	{ BASE + 0x1000, BASE + 0x2000, BASE + 0x3000, 0, 0 },
	{ BASE + 0x5000, BASE + 0x6000, BASE + 0x7000, 0, 0 },
};
static unsigned cq;
#define DESC (Q[cq].desc)
#define AVAIL (Q[cq].avail)
#define USED (Q[cq].used)
#define avail_idx (Q[cq].ai)
#define next_desc (Q[cq].nd)

static struct guest_mem mem;
static pthread_mutex_t board_lock = PTHREAD_MUTEX_INITIALIZER;
static int irq_level, irq_raises;

static void irq_set(void *opaque, unsigned n, bool level)
{
	(void)opaque;
	(void)n;
	if (level && !irq_level)
		irq_raises++;
	irq_level = level;
}

static void *g(uint64_t gpa)
{
	return mem.hva + (gpa - BASE);
}

static uint32_t rd(struct virtio_mmio *t, uint64_t off)
{
	uint64_t v;
	pthread_mutex_lock(&board_lock);
	assert_int_equal(virtio_mmio_dev_ops.read(t, off, 4, &v), 0);
	pthread_mutex_unlock(&board_lock);
	return (uint32_t)v;
}

static void wr(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	pthread_mutex_lock(&board_lock);
	assert_int_equal(virtio_mmio_dev_ops.write(t, off, 4, v), 0);
	pthread_mutex_unlock(&board_lock);
}

static int setup(void **state)
{
	(void)state;
	mem.hva = calloc(1, RAM);
	mem.base_gpa = BASE;
	mem.size = RAM;
	irq_level = irq_raises = 0;
	Q[0].ai = Q[0].nd = Q[1].ai = Q[1].nd = 0;
	cq = 0;
	return mem.hva ? 0 : -1;
}

static void reset_mem(void)
{
	memset(mem.hva, 0, RAM);
	irq_level = irq_raises = 0;
	Q[0].ai = Q[0].nd = Q[1].ai = Q[1].nd = 0;
	cq = 0;
}

static int teardown(void **state)
{
	(void)state;
	free(mem.hva);
	return 0;
}

static struct irq_line irq(void)
{
	return (struct irq_line){ .set = irq_set };
}

/* Linux's sequence (§3.1.1), with the features the driver wants. */
static void driver_init_n(struct virtio_mmio *t, uint64_t want, unsigned nq)
{
	assert_int_equal(rd(t, 0x000), 0x74726976);
	assert_int_equal(rd(t, 0x004), 2);
	wr(t, 0x070, 0);
	wr(t, 0x070, 1);
	wr(t, 0x070, 3);
	wr(t, 0x014, 0);
	uint64_t f = rd(t, 0x010);
	wr(t, 0x014, 1);
	f |= (uint64_t)rd(t, 0x010) << 32;
	assert_true(f & (1ull << 32));
	want &= f;
	wr(t, 0x024, 0);
	wr(t, 0x020, (uint32_t)want);
	wr(t, 0x024, 1);
	wr(t, 0x020, (uint32_t)(want >> 32));
	wr(t, 0x070, 3 | 8);
	assert_true(rd(t, 0x070) & 8);
	for (unsigned q = 0; q < nq; q++) {
		wr(t, 0x030, q);
		assert_true(rd(t, 0x034) >= QNUM);
		wr(t, 0x038, QNUM);
		wr(t, 0x080, (uint32_t)Q[q].desc);
		wr(t, 0x084, (uint32_t)(Q[q].desc >> 32));
		wr(t, 0x090, (uint32_t)Q[q].avail);
		wr(t, 0x094, 0);
		wr(t, 0x0a0, (uint32_t)Q[q].used);
		wr(t, 0x0a4, 0);
		wr(t, 0x044, 1);
		assert_int_equal(rd(t, 0x044), 1);
	}
	wr(t, 0x070, 3 | 8 | 4);
}

static void driver_init(struct virtio_mmio *t, uint64_t want)
{
	driver_init_n(t, want, 1);
}

struct buf {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

static void set_desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = g(DESC + 16 * i);
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static void publish(struct virtio_mmio *t, uint16_t head)
{
	uint16_t *ring = g(AVAIL + 4);
	ring[avail_idx % QNUM] = head;
	avail_idx++;
	__atomic_store_n((uint16_t *)g(AVAIL + 2), avail_idx, __ATOMIC_RELEASE);
	wr(t, 0x050, cq);
}

static uint16_t submit(struct virtio_mmio *t, const struct buf *b, unsigned n)
{
	uint16_t head = next_desc;
	for (unsigned i = 0; i < n; i++) {
		uint16_t idx = (uint16_t)((next_desc + i) % QNUM);
		uint16_t flags = (uint16_t)((b[i].write ? 2 : 0) | (i + 1 < n ? 1 : 0));
		set_desc(idx, b[i].gpa, b[i].len, flags, (uint16_t)((idx + 1) % QNUM));
	}
	next_desc = (uint16_t)((next_desc + n) % QNUM);
	publish(t, head);
	return head;
}

static uint16_t used_idx(void)
{
	return __atomic_load_n((uint16_t *)g(USED + 2), __ATOMIC_ACQUIRE);
}

/* Waits (bounded) for the used index to reach `want`; returns the last used len. */
static uint32_t wait_used(uint16_t want)
{
	for (int i = 0; i < 5000 && used_idx() != want; i++)
		usleep(1000);
	assert_int_equal(used_idx(), want);
	uint32_t *e = g(USED + 4 + 8 * ((want - 1) % QNUM));
	return e[1];
}

static void test_transport_and_rng(void **state)
{
	(void)state;
	struct virtio_rng *r = virtio_rng_create(&mem, irq(), &board_lock);
	struct virtio_mmio *t = virtio_rng_transport(r);
	assert_int_equal(rd(t, 0x008), 4);
	/* a driver without VERSION_1 does not get FEATURES_OK */
	wr(t, 0x070, 3);
	wr(t, 0x024, 1);
	wr(t, 0x020, 0);
	wr(t, 0x070, 3 | 8);
	assert_false(rd(t, 0x070) & 8);
	/* registers accept only 32-bit accesses */
	uint64_t v = 1;
	assert_int_equal(virtio_mmio_dev_ops.read(t, 0, 2, &v), 0);
	assert_int_equal(v, 0);

	driver_init(t, 1ull << 32);
	struct buf b = { DATA, 64, true };
	submit(t, &b, 1);
	assert_int_equal(wait_used(1), 64);
	uint8_t zero[64] = { 0 };
	assert_memory_not_equal(g(DATA), zero, 64);
	assert_true(irq_level);
	assert_int_equal(rd(t, 0x060), 1);
	wr(t, 0x064, 1);
	assert_false(irq_level);
	/* device reset clears everything */
	wr(t, 0x070, 0);
	assert_int_equal(rd(t, 0x070), 0);
	assert_int_equal(rd(t, 0x044), 0);
	virtio_rng_destroy(r);
}

static char *tmpimg(size_t size)
{
	char *path = xstrdup("/tmp/vessel-vblk-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	close(fd);
	return path;
}

static uint8_t blk_req(struct virtio_mmio *t, uint32_t type, uint64_t sector, uint64_t data_gpa, uint32_t len,
		       bool data_write, uint32_t *used_len)
{
	uint8_t *hdr = g(DATA - 0x100);
	memset(hdr, 0, 16);
	memcpy(hdr, &type, 4);
	memcpy(hdr + 8, &sector, 8);
	uint8_t *status = g(DATA - 0x10);
	*status = 0xff;
	struct buf b[3] = { { DATA - 0x100, 16, false }, { data_gpa, len, data_write }, { DATA - 0x10, 1, true } };
	struct buf nodata[2] = { b[0], b[2] };
	uint16_t before = used_idx();
	if (len)
		submit(t, b, 3);
	else
		submit(t, nodata, 2);
	uint32_t l = wait_used((uint16_t)(before + 1));
	if (used_len)
		*used_len = l;
	return *status;
}

static void test_blk(void **state)
{
	(void)state;
	cleanup_free char *path = tmpimg(1 << 20);
	struct block *disk;
	struct verr *e = NULL;
	assert_int_equal(block_open(path, BLOCK_FMT_RAW, false, &disk, &e), 0);
	struct virtio_blk *vb = virtio_blk_create(disk, "vessel-disk-0", &mem, irq(), &board_lock, &e);
	assert_non_null(vb);
	struct virtio_mmio *t = virtio_blk_transport(vb);
	assert_int_equal(rd(t, 0x008), 2);
	assert_int_equal(rd(t, 0x100), (1 << 20) / 512); /* capacity */
	driver_init(t, (1ull << 32) | (1ull << 9) | (1ull << 13) | (1ull << 14) | (1ull << 29));

	uint8_t *data = g(DATA);
	for (unsigned i = 0; i < 4096; i++)
		data[i] = (uint8_t)(i * 7 + 1);
	uint32_t ul;
	assert_int_equal(blk_req(t, 1, 3, DATA, 4096, false, &ul), 0); /* write */
	assert_int_equal(ul, 1);
	assert_int_equal(blk_req(t, 4, 0, 0, 0, false, NULL), 0); /* flush */
	memset(g(DATA + 0x2000), 0, 4096);
	assert_int_equal(blk_req(t, 0, 3, DATA + 0x2000, 4096, true, &ul), 0); /* read */
	assert_int_equal(ul, 4097);
	assert_memory_equal(g(DATA + 0x2000), data, 4096);
	/* the data is in the file */
	int fd = open(path, O_RDONLY);
	uint8_t file[4096];
	assert_int_equal(pread(fd, file, 4096, 3 * 512), 4096);
	close(fd);
	assert_memory_equal(file, data, 4096);
	/* GET_ID */
	assert_int_equal(blk_req(t, 8, 0, DATA + 0x3000, 20, true, NULL), 0);
	assert_memory_equal(g(DATA + 0x3000), "vessel-disk-0", 13);
	/* out of range, misaligned length, unknown type */
	assert_int_equal(blk_req(t, 0, 2047, DATA, 1024, true, NULL), 1);
	assert_int_equal(blk_req(t, 0, UINT64_MAX / 256, DATA, 512, true, NULL), 1);
	assert_int_equal(blk_req(t, 1, 0, DATA, 100, false, NULL), 1);
	assert_int_equal(blk_req(t, 99, 0, DATA, 512, true, NULL), 2);
	/* WRITE_ZEROES over the data */
	uint8_t seg[16] = { 0 };
	uint64_t s = 3;
	uint32_t n = 8;
	memcpy(seg, &s, 8);
	memcpy(seg + 8, &n, 4);
	memcpy(g(DATA + 0x4000), seg, 16);
	assert_int_equal(blk_req(t, 13, 0, DATA + 0x4000, 16, false, NULL), 0);
	assert_int_equal(blk_req(t, 0, 3, DATA + 0x2000, 4096, true, NULL), 0);
	uint8_t zero[4096] = { 0 };
	assert_memory_equal(g(DATA + 0x2000), zero, 4096);
	/* DISCARD with the unmap flag is an error (§5.2.6.2) */
	seg[12] = 1;
	memcpy(g(DATA + 0x4000), seg, 16);
	assert_int_equal(blk_req(t, 11, 0, DATA + 0x4000, 16, false, NULL), 1);

	struct virtio_blk_stats st;
	virtio_blk_stats(vb, &st);
	assert_int_equal(st.writes, 1);
	assert_int_equal(st.flushes, 1);
	assert_true(st.reads >= 2);
	assert_int_equal(st.unsupported, 1);
	virtio_blk_destroy(vb);
	block_close(disk);

	/* a read-only disk advertises VIRTIO_BLK_F_RO and fails writes */
	assert_int_equal(block_open(path, BLOCK_FMT_RAW, true, &disk, &e), 0);
	vb = virtio_blk_create(disk, NULL, &mem, irq(), &board_lock, &e);
	t = virtio_blk_transport(vb);
	wr(t, 0x014, 0);
	assert_true(rd(t, 0x010) & (1u << 5));
	avail_idx = next_desc = 0;
	memset(g(USED), 0, 0x1000);
	driver_init(t, (1ull << 32) | (1ull << 5));
	assert_int_equal(blk_req(t, 1, 0, DATA, 512, false, NULL), 1);
	virtio_blk_destroy(vb);
	block_close(disk);
	unlink(path);
}

static bool needs_reset(struct virtio_mmio *t)
{
	return rd(t, 0x070) & 0x40;
}

static void test_hostile_rings(void **state)
{
	(void)state;
	struct virtio_rng *r = virtio_rng_create(&mem, irq(), &board_lock);
	struct virtio_mmio *t = virtio_rng_transport(r);
	const uint64_t feats = (1ull << 32) | (1ull << 28);

	/* 1. a descriptor chain that loops */
	driver_init(t, feats);
	set_desc(0, DATA, 8, 2 | 1, 1);
	set_desc(1, DATA, 8, 2 | 1, 0);
	publish(t, 0);
	assert_true(needs_reset(t));
	assert_int_equal(rd(t, 0x060) & 2, 2); /* config-change interrupt tells the driver */
	assert_true(irq_level);
	/* nothing more is processed until reset */
	set_desc(2, DATA, 8, 2, 0);
	publish(t, 2);
	assert_int_equal(used_idx(), 0);

	/* 2. a buffer outside guest RAM */
	reset_mem();
	driver_init(t, feats);
	set_desc(0, BASE + RAM - 4, 8, 2, 0);
	publish(t, 0);
	assert_true(needs_reset(t));

	/* 3. a head index past the queue */
	reset_mem();
	driver_init(t, feats);
	publish(t, QNUM + 3);
	assert_true(needs_reset(t));

	/* 4. the avail index jumps by more than the queue size */
	reset_mem();
	driver_init(t, feats);
	set_desc(0, DATA, 8, 2, 0);
	*(uint16_t *)g(AVAIL + 2) = 1000;
	wr(t, 0x050, 0);
	assert_true(needs_reset(t));

	/* 5. an indirect table inside an indirect table, and a writable
	 * buffer before a readable one */
	reset_mem();
	driver_init(t, feats);
	uint8_t *ind = g(DATA + 0x800);
	uint64_t a = DATA + 0x800;
	uint32_t l = 16;
	uint16_t f = 4, nx = 0;
	memcpy(ind, &a, 8);
	memcpy(ind + 8, &l, 4);
	memcpy(ind + 12, &f, 2);
	memcpy(ind + 14, &nx, 2);
	set_desc(0, DATA + 0x800, 16, 4, 0);
	publish(t, 0);
	assert_true(needs_reset(t));
	reset_mem();
	driver_init(t, feats);
	set_desc(0, DATA, 8, 2 | 1, 1);
	set_desc(1, DATA + 8, 8, 0, 0);
	publish(t, 0);
	assert_true(needs_reset(t));

	/* 6. rings that do not fit in RAM are refused at QueueReady */
	reset_mem();
	wr(t, 0x070, 0);
	wr(t, 0x070, 3);
	wr(t, 0x024, 1);
	wr(t, 0x020, 1);
	wr(t, 0x070, 3 | 8);
	wr(t, 0x030, 0);
	wr(t, 0x038, QNUM);
	wr(t, 0x080, 0x1000); /* below RAM */
	wr(t, 0x044, 1);
	assert_int_equal(rd(t, 0x044), 0);
	assert_true(needs_reset(t));
	wr(t, 0x070, 0);
	assert_false(needs_reset(t));

	/* 7. a valid indirect request still works after all that */
	reset_mem();
	driver_init(t, feats);
	ind = g(DATA + 0x800);
	a = DATA;
	l = 32;
	f = 2;
	memcpy(ind, &a, 8);
	memcpy(ind + 8, &l, 4);
	memcpy(ind + 12, &f, 2);
	set_desc(0, DATA + 0x800, 16, 4, 0);
	publish(t, 0);
	assert_false(needs_reset(t));
	assert_int_equal(wait_used(1), 32);
	virtio_rng_destroy(r);
}

static void test_event_idx(void **state)
{
	(void)state;
	struct virtio_rng *r = virtio_rng_create(&mem, irq(), &board_lock);
	struct virtio_mmio *t = virtio_rng_transport(r);
	driver_init(t, (1ull << 32) | (1ull << 29));
	struct buf b = { DATA, 8, true };
	submit(t, &b, 1);
	wait_used(1);
	assert_int_equal(irq_raises, 1);
	wr(t, 0x064, 1);
	/* used_event = 5: no interrupt for used index 2..5 */
	*(uint16_t *)g(AVAIL + 4 + 2 * QNUM) = 5;
	for (int i = 0; i < 4; i++)
		submit(t, &b, 1);
	wait_used(5);
	assert_int_equal(irq_raises, 1);
	submit(t, &b, 1); /* used index passes 5 */
	wait_used(6);
	assert_int_equal(irq_raises, 2);
	/* the device publishes avail_event */
	assert_int_equal(*(uint16_t *)g(USED + 4 + 8 * QNUM), 6);
	virtio_rng_destroy(r);
}

static char console_out[64];
static size_t console_out_len;
static int console_rx_ready;

static void console_output(void *opaque, const uint8_t *buf, size_t len)
{
	(void)opaque;
	if (len > sizeof(console_out) - console_out_len)
		len = sizeof(console_out) - console_out_len;
	memcpy(console_out + console_out_len, buf, len);
	console_out_len += len;
}

static void console_ready(void *opaque)
{
	(void)opaque;
	console_rx_ready++;
}

static void test_console(void **state)
{
	(void)state;
	struct virtio_console_io io = { .output = console_output, .rx_ready = console_ready };
	struct virtio_console *c = virtio_console_create(&io, &mem, irq(), &board_lock);
	struct virtio_mmio *t = virtio_console_transport(c);
	assert_int_equal(rd(t, 0x008), 3);
	driver_init_n(t, 1ull << 32, 2);
	/* no receive buffer yet: input is not taken */
	pthread_mutex_lock(&board_lock);
	assert_int_equal(virtio_console_input(c, (const uint8_t *)"ls\n", 3), 0);
	pthread_mutex_unlock(&board_lock);
	struct buf rxb = { DATA, 2, true };
	submit(t, &rxb, 1);
	assert_int_equal(console_rx_ready, 1);
	pthread_mutex_lock(&board_lock);
	assert_int_equal(virtio_console_input(c, (const uint8_t *)"ls\n", 3), 2);
	pthread_mutex_unlock(&board_lock);
	assert_int_equal(wait_used(1), 2);
	assert_memory_equal(g(DATA), "ls", 2);
	/* output on queue 1 */
	cq = 1;
	memcpy(g(DATA + 0x100), "hello ", 6);
	memcpy(g(DATA + 0x200), "hvc0", 4);
	struct buf txb[2] = { { DATA + 0x100, 6, false }, { DATA + 0x200, 4, false } };
	submit(t, txb, 2);
	wait_used(1);
	assert_int_equal(console_out_len, 10);
	assert_memory_equal(console_out, "hello hvc0", 10);
	virtio_console_destroy(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_transport_and_rng, setup, teardown),
		cmocka_unit_test_setup_teardown(test_blk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_rings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_idx, setup, teardown),
		cmocka_unit_test_setup_teardown(test_console, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
