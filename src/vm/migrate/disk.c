/* Disk contents in a live migration with "disks": "copy"
 * (docs/migration.md): the source streams what its guest sees on each
 * writable disk, then the granules written meanwhile (vm/block dirty
 * tracking); the destination writes them into its own images. */
#include "vm/migrate/migrate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "vm/migrate/migrate_int.h"
#include "vm/state/stream.h"

/* ---- the chunk section ---- */

void mig_disk_chunk_encode(uint8_t *hdr, const struct mig_disk_chunk *c)
{
	le32_put(hdr, c->disk);
	le32_put(hdr + 4, c->flags);
	le64_put(hdr + 8, c->off);
	le64_put(hdr + 16, c->len);
}

int mig_disk_chunk_decode(const uint8_t *p, uint64_t plen, struct mig_disk_chunk *out, struct verr **err)
{
	if (plen < MIG_DISK_CHUNK_HDR)
		return verr_set(err, 0, "disk chunk: %llu bytes, shorter than its header",
				(unsigned long long)plen);
	struct mig_disk_chunk c = {
		.disk = le32_get(p),
		.flags = le32_get(p + 4),
		.off = le64_get(p + 8),
		.len = le64_get(p + 16),
	};
	uint64_t data = plen - MIG_DISK_CHUNK_HDR;
	if (c.flags & ~MIG_DISK_ZERO)
		return verr_set(err, 0, "disk chunk: unknown flags 0x%x", c.flags);
	if (c.len == 0)
		return verr_set(err, 0, "disk chunk: empty");
	if (c.flags & MIG_DISK_ZERO) {
		if (data)
			return verr_set(err, 0, "disk chunk: a zero range with %llu bytes of data",
					(unsigned long long)data);
	} else {
		if (c.len > MIG_DISK_MAX_DATA)
			return verr_set(err, 0, "disk chunk: %llu bytes of data, more than %u",
					(unsigned long long)c.len, MIG_DISK_MAX_DATA);
		if (data != c.len)
			return verr_set(err, 0, "disk chunk: length %llu but %llu bytes of data",
					(unsigned long long)c.len, (unsigned long long)data);
		c.data = p + MIG_DISK_CHUNK_HDR;
	}
	*out = c;
	return 0;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	return len == 0 || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0);
}

static uint64_t granules(uint64_t size)
{
	return (size + MIG_DISK_GRANULE - 1) / MIG_DISK_GRANULE;
}

/* ---- source ---- */

struct mig_disk_src {
	unsigned n;
	struct block *b[MIGRATE_MAX_DISKS];
	uint64_t *todo[MIGRATE_MAX_DISKS]; /* granules to send; NULL: not copied */
	uint64_t ntodo;			   /* bits set in all todo */
	uint64_t sent;			   /* guest bytes sent */
	uint8_t *buf;			   /* chunk header + data */
};

struct mig_disk_src *mig_disk_src_new(struct block *const *disks, unsigned n)
{
	struct mig_disk_src *d = xcalloc(1, sizeof(*d));
	d->n = n;
	d->buf = xmalloc(MIG_DISK_CHUNK_HDR + MIG_DISK_MAX_DATA);
	for (unsigned i = 0; i < n; i++) {
		struct block *b = d->b[i] = disks[i];
		if (b->readonly)
			continue;
		uint64_t g = granules(b->size), words = (g + 63) / 64;
		d->todo[i] = xcalloc(words ? words : 1, sizeof(uint64_t));
		/* tracking first: whatever the first pass reads before a write
		 * lands is sent again */
		block_dirty_start(b);
		for (uint64_t k = 0; k < g; k++)
			d->todo[i][k / 64] |= 1ull << (k % 64);
		d->ntodo += g;
	}
	return d;
}

void mig_disk_src_free(struct mig_disk_src *d)
{
	if (!d)
		return;
	for (unsigned i = 0; i < d->n; i++) {
		if (d->todo[i])
			block_dirty_stop(d->b[i]);
		free(d->todo[i]);
	}
	free(d->buf);
	free(d);
}

int mig_disk_src_setup(struct mig_disk_src *d, struct snap_writer *w, struct verr **err)
{
	uint8_t buf[8 + MIGRATE_MAX_DISKS * 16];
	le32_put(buf, d->n);
	le32_put(buf + 4, MIG_DISK_GRANULE);
	for (unsigned i = 0; i < d->n; i++) {
		le64_put(buf + 8 + i * 16, d->b[i]->size);
		le32_put(buf + 16 + i * 16, (uint32_t)d->b[i]->format);
		le32_put(buf + 20 + i * 16, d->todo[i] ? MIG_DISK_F_COPY : 0);
	}
	if (snap_put_section(w, MIG_SEC_DISK_SETUP, MIG_SEC_VERSION, SNAP_SEC_REQUIRED, buf, 8 + d->n * 16, err) < 0)
		return verr_wrap(err, "send the disk setup");
	return 0;
}

uint64_t mig_disk_src_collect(struct mig_disk_src *d)
{
	d->ntodo = 0;
	for (unsigned i = 0; i < d->n; i++)
		if (d->todo[i])
			d->ntodo += block_dirty_collect(d->b[i], d->todo[i]);
	return mig_disk_src_remaining(d);
}

uint64_t mig_disk_src_remaining(const struct mig_disk_src *d)
{
	return d->ntodo * MIG_DISK_GRANULE;
}

uint64_t mig_disk_src_sent(const struct mig_disk_src *d)
{
	return d->sent;
}

/* The run being built: zero or data, contiguous granules of one disk. */
struct run {
	unsigned disk;
	bool zero;
	uint64_t off, len;
};

static int run_flush(struct mig_disk_src *d, struct run *r, struct snap_writer *w,
		     int (*tick)(void *opaque, struct verr **err), void *opaque, struct verr **err)
{
	if (!r->len)
		return 0;
	struct mig_disk_chunk c = { r->disk, r->zero ? MIG_DISK_ZERO : 0, r->off, r->len, NULL };
	mig_disk_chunk_encode(d->buf, &c);
	size_t plen = MIG_DISK_CHUNK_HDR + (r->zero ? 0 : (size_t)r->len);
	if (snap_put_section(w, MIG_SEC_DISK_CHUNK, MIG_SEC_VERSION, SNAP_SEC_REQUIRED, d->buf, plen, err) < 0)
		return verr_wrap(err, "send disk %u", r->disk);
	d->sent += r->len;
	r->len = 0;
	return tick ? tick(opaque, err) : 0;
}

int mig_disk_src_send(struct mig_disk_src *d, struct snap_writer *w, int (*tick)(void *opaque, struct verr **err),
		      void *opaque, struct verr **err)
{
	uint8_t *data = d->buf + MIG_DISK_CHUNK_HDR;
	for (unsigned i = 0; i < d->n; i++) {
		if (!d->todo[i])
			continue;
		struct block *b = d->b[i];
		uint64_t g = granules(b->size);
		struct run r = { .disk = i };
		for (uint64_t k = 0; k < g; k++) {
			uint64_t *word = &d->todo[i][k / 64], bit = 1ull << (k % 64);
			if (*word == 0) { /* skip empty words */
				k = (k / 64 + 1) * 64 - 1;
				continue;
			}
			if (!(*word & bit))
				continue;
			*word &= ~bit;
			d->ntodo--;
			uint64_t off = k * MIG_DISK_GRANULE;
			size_t len = b->size - off < MIG_DISK_GRANULE ? (size_t)(b->size - off) : MIG_DISK_GRANULE;
			/* a run ends at a gap, and a data run when it is full */
			if (r.len && (r.off + r.len != off || (!r.zero && r.len + len > MIG_DISK_MAX_DATA)) &&
			    run_flush(d, &r, w, tick, opaque, err) < 0)
				return -1;
			uint8_t *dst = data + (r.len && !r.zero ? r.len : 0);
			int rr = block_read(b, off, dst, len);
			if (rr < 0)
				return verr_set(err, -rr, "read disk %u ('%s') at %llu", i, b->path,
						(unsigned long long)off);
			bool zero = all_zero(dst, len);
			/* (a granule read after a zero run is at data[0] already) */
			if (r.len && r.zero != zero && run_flush(d, &r, w, tick, opaque, err) < 0)
				return -1;
			if (!r.len) {
				r.zero = zero;
				r.off = off;
			}
			r.len += len;
		}
		if (run_flush(d, &r, w, tick, opaque, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- destination ---- */

struct mig_disk_dst {
	unsigned n;
	struct block *b[MIGRATE_MAX_DISKS];
	uint64_t *got[MIGRATE_MAX_DISKS]; /* granules received; NULL: not copied */
};

void mig_disk_dst_free(struct mig_disk_dst *d)
{
	if (!d)
		return;
	for (unsigned i = 0; i < d->n; i++)
		free(d->got[i]);
	free(d);
}

int mig_disk_dst_setup(const struct snap_section *sec,
		       int (*take)(void *opaque, struct block **disks, unsigned *n, struct verr **err), void *opaque,
		       struct mig_disk_dst **out, struct verr **err)
{
	if (snap_section_check_version(sec, MIG_SEC_VERSION, err) < 0)
		return -1;
	if (sec->len < 8)
		return verr_set(err, 0, "disk setup: bad length %llu", (unsigned long long)sec->len);
	uint32_t n = le32_get(sec->data), gran = le32_get(sec->data + 4);
	if (n == 0 || n > MIGRATE_MAX_DISKS || sec->len != 8 + (uint64_t)n * 16)
		return verr_set(err, 0, "disk setup: %u disks in %llu bytes", n, (unsigned long long)sec->len);
	if (gran != MIG_DISK_GRANULE)
		return verr_set(err, 0, "disk setup: granule %u not supported (%u)", gran, MIG_DISK_GRANULE);
	if (!take)
		return verr_set(err, ENOTSUP, "the source copies disks, this destination cannot receive them");
	struct mig_disk_dst *d = xcalloc(1, sizeof(*d));
	if (take(opaque, d->b, &d->n, err) < 0) {
		free(d);
		return -1;
	}
	if (d->n != n) {
		verr_set(err, 0, "the source VM has %u disk%s, this one %u (with disks=copy each disk needs an image "
			 "here)", n, n == 1 ? "" : "s", d->n);
		d->n = 0;
		mig_disk_dst_free(d);
		return -1;
	}
	int bad = 0;
	for (unsigned i = 0; i < n && !bad; i++) {
		const uint8_t *e = sec->data + 8 + i * 16;
		uint64_t size = le64_get(e);
		uint32_t fmt = le32_get(e + 8), flags = le32_get(e + 12);
		struct block *b = d->b[i];
		if ((flags & ~MIG_DISK_F_COPY) || fmt > BLOCK_FMT_QCOW2) {
			bad = verr_set(err, 0, "disk setup: disk %u: unknown flags 0x%x or format %u", i, flags, fmt);
			break;
		}
		if (!(flags & MIG_DISK_F_COPY))
			continue; /* read-only at the source: the same image on both sides */
		if (size != b->size) {
			bad = verr_set(err, 0,
				 "disk %u ('%s') is %llu bytes, the source's is %llu bytes (with disks=copy each image "
				 "needs the source's virtual size)",
				 i, b->path, (unsigned long long)b->size, (unsigned long long)size);
			break;
		}
		if (b->readonly) {
			bad = verr_set(err, 0, "disk %u ('%s') is read-only here: with disks=copy it is written", i,
				 b->path);
			break;
		}
		uint64_t words = (granules(size) + 63) / 64;
		d->got[i] = xcalloc(words ? words : 1, sizeof(uint64_t));
	}
	if (bad) {
		mig_disk_dst_free(d);
		return -1;
	}
	*out = d;
	return 0;
}

int mig_disk_dst_chunk(struct mig_disk_dst *d, const struct snap_section *sec, uint64_t *bytes, struct verr **err)
{
	struct mig_disk_chunk c;
	if (snap_section_check_version(sec, MIG_SEC_VERSION, err) < 0 ||
	    mig_disk_chunk_decode(sec->data, sec->len, &c, err) < 0)
		return -1;
	if (c.disk >= d->n || !d->got[c.disk])
		return verr_set(err, 0, "disk chunk: disk %u is not being copied", c.disk);
	struct block *b = d->b[c.disk];
	/* granule-aligned, so that arrival can be tracked per granule */
	if (!block_range_ok(b->size, c.off, c.len) || c.off % MIG_DISK_GRANULE ||
	    (c.len % MIG_DISK_GRANULE && c.off + c.len != b->size))
		return verr_set(err, 0, "disk chunk: range %llu+%llu does not fit disk %u (%llu bytes)",
				(unsigned long long)c.off, (unsigned long long)c.len, c.disk,
				(unsigned long long)b->size);
	int r = c.data ? block_write(b, c.off, c.data, (size_t)c.len) : block_write_zeroes(b, c.off, c.len, true);
	if (r < 0)
		return verr_set(err, -r, "disk %u ('%s'): write %llu bytes at %llu", c.disk, b->path,
				(unsigned long long)c.len, (unsigned long long)c.off);
	for (uint64_t k = c.off / MIG_DISK_GRANULE; k < granules(c.off + c.len); k++)
		d->got[c.disk][k / 64] |= 1ull << (k % 64);
	*bytes += c.len;
	return 0;
}

int mig_disk_dst_flush(struct mig_disk_dst *d, struct verr **err)
{
	for (unsigned i = 0; i < d->n; i++) {
		int r = d->got[i] ? block_flush(d->b[i]) : 0;
		if (r < 0)
			return verr_set(err, -r, "flush disk %u ('%s')", i, d->b[i]->path);
	}
	return 0;
}

int mig_disk_dst_finish(struct mig_disk_dst *d, struct verr **err)
{
	for (unsigned i = 0; i < d->n; i++) {
		if (!d->got[i])
			continue;
		uint64_t g = granules(d->b[i]->size), missing = 0;
		for (uint64_t k = 0; k < g; k++)
			missing += !((d->got[i][k / 64] >> (k % 64)) & 1);
		if (missing)
			return verr_set(err, 0, "disk %u ('%s'): %llu of %llu granules never arrived", i,
					d->b[i]->path, (unsigned long long)missing, (unsigned long long)g);
	}
	return mig_disk_dst_flush(d, err);
}
