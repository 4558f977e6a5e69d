/* virtio-blk (virtio 1.2 §5.2).
 *
 * The vCPU that notifies the queue only pops requests (under the board
 * lock) and hands them to the device's I/O thread, which does the disk work
 * without the lock and then takes it to return the request and interrupt.
 * One thread per disk, requests in order: a FLUSH completes after every
 * write the guest issued before it, and only once fsync returned.
 *
 * A reset bumps the transport's generation: queued requests are dropped and
 * the one in progress is not returned into the rings of the reset device.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"
#include "vm/virtio/virtio_devices.h"

/* feature bits (§5.2.3) */
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* request types and status (§5.2.6) */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define SECTOR 512ull
#define BLK_CONFIG_LEN 60
#define BLK_ID_BYTES 20
#define BLK_MAX_DISCARD_SECTORS (1u << 22) /* 2 GiB per segment */

/* The I/O thread counts without a lock; readers load each counter atomically. */
#define STAT_ADD(b, field, n) __atomic_fetch_add(&(b)->stats.field, (uint64_t)(n), __ATOMIC_RELAXED)

struct blk_req {
	struct blk_req *next;
	uint32_t generation;
	struct virtq_elem elem;
};

struct virtio_blk {
	struct virtio_mmio *t;
	struct block *disk;
	char serial[BLK_ID_BYTES];
	uint8_t config[BLK_CONFIG_LEN];
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t qlock; /* protects the fields below */
	pthread_cond_t cond;
	struct blk_req *head, *tail;
	unsigned queued;     /* requests popped and not yet returned */
	bool busy;           /* the thread holds a request */
	bool stop;
	struct virtio_blk_stats stats;
	struct log_ratelimit rl;
};

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

static void blk_config_read(void *dev, uint32_t off, void *buf, uint32_t len)
{
	struct virtio_blk *b = dev;
	memcpy(buf, b->config + off, len);
}

/* Runs one request; returns the bytes written into the driver's buffers
 * (data + status byte). */
static uint32_t blk_execute(struct virtio_blk *b, struct virtq_elem *e)
{
	uint8_t hdr[16];
	/* §5.2.6: header (16 bytes, readable) ... status (1 byte, writable, last) */
	if (e->in_len < 1 || iov_to_buf(e->out, e->out_num, 0, hdr, sizeof(hdr)) != sizeof(hdr)) {
		log_ratelimited(&b->rl, LOG_WARN, "virtio-blk: request without header or status byte");
		return 0;
	}
	uint32_t type = (uint32_t)get_le(hdr, 4);
	uint64_t sector = get_le(hdr + 8, 8);
	/* the status byte is the last byte of the writable side */
	struct iovec *last = &e->in[e->in_num - 1];
	while (last->iov_len == 0 && last > e->in)
		last--;
	if (last->iov_len == 0)
		return 0;
	uint8_t *status = (uint8_t *)last->iov_base + last->iov_len - 1;
	size_t data_in = e->in_len - 1;   /* writable bytes before the status */
	size_t data_out = e->out_len - 16; /* readable bytes after the header */
	uint8_t st = VIRTIO_BLK_S_OK;
	uint32_t written = 0;
	int r = 0;

	switch (type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT: {
		bool in = type == VIRTIO_BLK_T_IN;
		size_t len = in ? data_in : data_out;
		if (len % SECTOR || sector > b->disk->size / SECTOR ||
		    !block_range_ok(b->disk->size, sector * SECTOR, len)) {
			st = VIRTIO_BLK_S_IOERR;
			break;
		}
		if (!in && b->disk->readonly) {
			st = VIRTIO_BLK_S_IOERR;
			break;
		}
		uint64_t off = sector * SECTOR;
		size_t skip = in ? 0 : 16, left = len;
		const struct iovec *iov = in ? e->in : e->out;
		unsigned n = in ? e->in_num : e->out_num;
		for (unsigned i = 0; i < n && left && r == 0; i++) {
			size_t seg = iov[i].iov_len;
			uint8_t *p = iov[i].iov_base;
			if (skip >= seg) {
				skip -= seg;
				continue;
			}
			p += skip;
			seg -= skip;
			skip = 0;
			if (seg > left)
				seg = left;
			r = in ? block_read(b->disk, off, p, seg) : block_write(b->disk, off, p, seg);
			off += seg;
			left -= seg;
		}
		if (r < 0) {
			st = VIRTIO_BLK_S_IOERR;
			break;
		}
		if (in) {
			written = (uint32_t)len;
			STAT_ADD(b, reads, 1);
			STAT_ADD(b, bytes_read, len);
		} else {
			STAT_ADD(b, writes, 1);
			STAT_ADD(b, bytes_written, len);
		}
		break;
	}
	case VIRTIO_BLK_T_FLUSH:
		r = block_flush(b->disk);
		st = r < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
		STAT_ADD(b, flushes, 1);
		break;
	case VIRTIO_BLK_T_GET_ID: {
		size_t n = data_in < BLK_ID_BYTES ? data_in : BLK_ID_BYTES;
		written = (uint32_t)iov_from_buf(e->in, e->in_num, 0, b->serial, n);
		STAT_ADD(b, get_ids, 1);
		break;
	}
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES: {
		bool zeroes = type == VIRTIO_BLK_T_WRITE_ZEROES;
		if (b->disk->readonly || data_out == 0 || data_out % 16) {
			st = VIRTIO_BLK_S_IOERR;
			break;
		}
		for (size_t pos = 16; pos < e->out_len && r == 0; pos += 16) {
			uint8_t seg[16];
			iov_to_buf(e->out, e->out_num, pos, seg, sizeof(seg));
			uint64_t s = get_le(seg, 8);
			uint32_t num = (uint32_t)get_le(seg + 8, 4), flags = (uint32_t)get_le(seg + 12, 4);
			/* §5.2.6.2: unknown flags, or unmap on a discard, are errors */
			if ((flags & ~1u) || (!zeroes && flags) || num > BLK_MAX_DISCARD_SECTORS ||
			    s > b->disk->size / SECTOR || !block_range_ok(b->disk->size, s * SECTOR, num * SECTOR)) {
				r = -EINVAL;
				break;
			}
			r = zeroes ? block_write_zeroes(b->disk, s * SECTOR, num * SECTOR, flags & 1)
				   : block_discard(b->disk, s * SECTOR, num * SECTOR);
		}
		st = r < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
		if (zeroes)
			STAT_ADD(b, write_zeroes, 1);
		else
			STAT_ADD(b, discards, 1);
		break;
	}
	default:
		st = VIRTIO_BLK_S_UNSUPP;
		STAT_ADD(b, unsupported, 1);
		break;
	}
	if (st == VIRTIO_BLK_S_IOERR) {
		STAT_ADD(b, errors, 1);
		log_ratelimited(&b->rl, LOG_WARN, "virtio-blk: request type %u sector %llu failed%s%s", type,
				(unsigned long long)sector, r < 0 ? ": " : "", r < 0 ? strerror(-r) : "");
	}
	*status = st;
	return written + 1;
}

static void *blk_thread(void *arg)
{
	struct virtio_blk *b = arg;
	pthread_mutex_lock(&b->qlock);
	for (;;) {
		while (!b->head && !b->stop)
			pthread_cond_wait(&b->cond, &b->qlock);
		if (!b->head && b->stop)
			break;
		struct blk_req *req = b->head;
		b->head = req->next;
		if (!b->head)
			b->tail = NULL;
		b->busy = true;
		pthread_mutex_unlock(&b->qlock);

		uint32_t len = blk_execute(b, &req->elem);

		pthread_mutex_t *lock = virtio_mmio_lock(b->t);
		pthread_mutex_lock(lock);
		if (req->generation == virtio_mmio_generation(b->t)) {
			virtio_mmio_push(b->t, 0, req->elem.head, len);
			virtio_mmio_notify(b->t, 0);
		}
		pthread_mutex_unlock(lock);
		free(req);

		pthread_mutex_lock(&b->qlock);
		b->busy = false;
		b->queued--;
		pthread_cond_broadcast(&b->cond);
	}
	pthread_mutex_unlock(&b->qlock);
	return NULL;
}

static void blk_notify(void *dev, unsigned q)
{
	struct virtio_blk *b = dev;
	for (;;) {
		pthread_mutex_lock(&b->qlock);
		unsigned queued = b->queued;
		pthread_mutex_unlock(&b->qlock);
		/* A driver cannot have more requests outstanding than its ring
		 * holds; one that claims to is broken or hostile. */
		if (queued >= VIRTQ_MAX_SIZE) {
			virtio_mmio_set_needs_reset(b->t);
			return;
		}
		struct blk_req *req = xmalloc(sizeof(*req));
		if (virtio_mmio_pop(b->t, q, &req->elem) != 1) {
			free(req);
			return;
		}
		req->next = NULL;
		req->generation = virtio_mmio_generation(b->t);
		pthread_mutex_lock(&b->qlock);
		if (b->tail)
			b->tail->next = req;
		else
			b->head = req;
		b->tail = req;
		b->queued++;
		pthread_cond_broadcast(&b->cond);
		pthread_mutex_unlock(&b->qlock);
	}
}

static void blk_reset(void *dev)
{
	struct virtio_blk *b = dev;
	pthread_mutex_lock(&b->qlock);
	while (b->head) {
		struct blk_req *req = b->head;
		b->head = req->next;
		free(req);
		b->queued--;
	}
	b->tail = NULL;
	pthread_mutex_unlock(&b->qlock);
}

static const struct virtio_device_ops blk_ops = {
	.name = "virtio-blk",
	.device_id = 2,
	.num_queues = 1,
	.config_len = BLK_CONFIG_LEN,
	.config_read = blk_config_read,
	.queue_notify = blk_notify,
	.reset = blk_reset,
};

struct virtio_blk *virtio_blk_create(struct block *disk, const char *serial, const struct guest_mem *mem,
				     struct irq_line irq, pthread_mutex_t *lock, struct verr **err)
{
	struct virtio_blk *b = xcalloc(1, sizeof(*b));
	b->disk = disk;
	if (serial)
		memcpy(b->serial, serial, strnlen(serial, sizeof(b->serial))); /* not NUL-terminated when 20 bytes (§5.2.6) */
	pthread_mutex_init(&b->qlock, NULL);
	pthread_cond_init(&b->cond, NULL);
	/* config space (§5.2.4), little-endian */
	put_le(b->config + 0, disk->size / SECTOR, 8);     /* capacity */
	put_le(b->config + 12, VIRTQ_MAX_SEGS - 2, 4);     /* seg_max */
	put_le(b->config + 20, SECTOR, 4);                 /* blk_size */
	put_le(b->config + 36, BLK_MAX_DISCARD_SECTORS, 4); /* max_discard_sectors */
	put_le(b->config + 40, 1, 4);                      /* max_discard_seg */
	put_le(b->config + 44, 8, 4);                      /* discard_sector_alignment: 4 KiB */
	put_le(b->config + 48, BLK_MAX_DISCARD_SECTORS, 4); /* max_write_zeroes_sectors */
	put_le(b->config + 52, 1, 4);                      /* max_write_zeroes_seg */
	b->config[56] = 1;                                 /* write_zeroes_may_unmap */
	uint64_t features = 1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE |
			    1ull << VIRTIO_BLK_F_FLUSH;
	if (disk->readonly)
		features |= 1ull << VIRTIO_BLK_F_RO;
	else
		features |= 1ull << VIRTIO_BLK_F_DISCARD | 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
	b->t = virtio_mmio_create(&blk_ops, b, features, mem, irq, lock);
	int r = pthread_create(&b->thread, NULL, blk_thread, b);
	if (r) {
		verr_set(err, r, "start the I/O thread of virtio-blk");
		virtio_blk_destroy(b);
		return NULL;
	}
	b->thread_started = true;
	return b;
}

struct virtio_mmio *virtio_blk_transport(struct virtio_blk *b)
{
	return b->t;
}

void virtio_blk_drain(struct virtio_blk *b)
{
	pthread_mutex_lock(&b->qlock);
	while (b->queued)
		pthread_cond_wait(&b->cond, &b->qlock);
	pthread_mutex_unlock(&b->qlock);
}

struct block *virtio_blk_swap_disk(struct virtio_blk *b, struct block *disk)
{
	pthread_mutex_lock(&b->qlock);
	while (b->queued)
		pthread_cond_wait(&b->cond, &b->qlock);
	struct block *old = b->disk;
	b->disk = disk;
	pthread_mutex_unlock(&b->qlock);
	return old;
}

void virtio_blk_stats(struct virtio_blk *b, struct virtio_blk_stats *out)
{
	const uint64_t *src = (const uint64_t *)&b->stats;
	uint64_t *dst = (uint64_t *)out;
	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

void virtio_blk_destroy(struct virtio_blk *b)
{
	if (!b)
		return;
	if (b->thread_started) {
		pthread_mutex_lock(&b->qlock);
		b->stop = true;
		pthread_cond_broadcast(&b->cond);
		pthread_mutex_unlock(&b->qlock);
		pthread_join(b->thread, NULL);
	}
	blk_reset(b);
	virtio_mmio_destroy(b->t);
	pthread_cond_destroy(&b->cond);
	pthread_mutex_destroy(&b->qlock);
	free(b);
}

size_t virtio_blk_config(const struct virtio_blk *b, uint8_t *buf, size_t len)
{
	if (len >= BLK_CONFIG_LEN)
		memcpy(buf, b->config, BLK_CONFIG_LEN);
	return BLK_CONFIG_LEN;
}
