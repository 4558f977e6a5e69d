/* qcow2 images, versions 2 and 3, read and write, compatible with qemu-img.
 *
 * Format facts from QEMU's docs/interop/qcow2.txt: big-endian header; a
 * two-level table (L1 -> L2 -> data cluster) maps guest offsets; refcount
 * table -> refcount blocks count the references to every host cluster.
 *
 * Crash safety without a journal: every metadata update is written through
 * to the file at once (no dirty metadata cached), in an order that leaves
 * at worst a leaked cluster, never a table pointing at unwritten data:
 *   refcount of a new cluster -> its contents -> the table entry naming it;
 *   table entry dropped -> refcount decremented.
 * A killed VMM loses nothing the kernel already has, and `qemu-img check`
 * reports leaks at most. flush() is an fsync of the file.
 *
 * The image is hostile input: every offset read from it is checked for
 * alignment and bounds before use, table sizes are bounded, and a broken
 * entry makes the request fail with -EIO instead of being followed.
 */
#include <fcntl.h>
#include <libgen.h>
#include <linux/falloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "base/log.h"
#include "base/util.h"
#include "vm/block/block_int.h"

#define QCOW2_MAGIC 0x514649fbu
#define QCOW2_OFLAG_COPIED (1ull << 63)
#define QCOW2_OFLAG_COMPRESSED (1ull << 62)
#define QCOW2_OFLAG_ZERO 1ull
#define QCOW2_OFFSET_MASK 0x00fffffffffffe00ull
#define QCOW2_RT_OFFSET_MASK 0xfffffffffffffe00ull

#define QCOW2_INCOMPAT_DIRTY (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2 (1ull << 4)

#define QCOW2_EXT_END 0
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau

/* Limits on sizes read from an image (QEMU has similar ones). */
#define QCOW2_MAX_L1_BYTES (32u << 20)
#define QCOW2_MAX_RT_BYTES (8u << 20)
#define QCOW2_MAX_SIZE (1ull << 55)
#define QCOW2_CACHE_ENTRIES 32

struct tcache_entry {
	uint64_t off; /* host offset of the cached table cluster; 0 = empty */
	uint64_t used;
	uint8_t *data;
};

struct tcache {
	struct tcache_entry e[QCOW2_CACHE_ENTRIES];
	uint64_t tick;
};

struct qcow2 {
	struct block b; /* first: a struct block * is a struct qcow2 * */
	int fd;
	pthread_mutex_t lock;
	uint32_t version;
	uint32_t cluster_bits;
	uint64_t cluster_size;
	uint32_t l2_bits; /* log2 of entries per L2 table */
	uint64_t l2_entries;
	uint32_t refcount_bits;
	uint64_t refcount_max;
	uint64_t rb_entries; /* refcounts per refcount block */
	uint64_t l1_offset;
	uint32_t l1_size;
	uint64_t *l1; /* host-endian copy, written through */
	uint64_t rt_offset;
	uint32_t rt_clusters;
	uint64_t rt_entries;
	uint64_t *rt; /* host-endian copy, written through */
	uint32_t nb_snapshots;
	uint64_t file_end;  /* first cluster-aligned offset past all data */
	uint64_t free_hint; /* cluster index where the search for a free one starts */
	struct tcache l2c;  /* L2 tables */
	struct tcache rbc;  /* refcount blocks */
	uint8_t *tmp;       /* one cluster, for read-modify-write */
	uint8_t *zbuf;      /* one cluster, decompression output */
	uint64_t zbuf_entry; /* L2 entry whose data zbuf holds, or 0 */
	uint8_t *cbuf;      /* compressed input, 2 clusters + 512 */
	struct log_ratelimit rl;
};

static struct qcow2 *to_q(struct block *b)
{
	return (struct qcow2 *)b;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static int corrupt(struct qcow2 *q, const char *what, uint64_t v)
{
	log_ratelimited(&q->rl, LOG_ERROR, "qcow2 '%s': corrupt %s 0x%llx", q->b.path, what,
			(unsigned long long)v);
	return -EIO;
}

/* ---- table cache (L2 tables and refcount blocks, one cluster each) ---- */

static int tcache_get(struct qcow2 *q, struct tcache *c, uint64_t off, bool fresh, uint8_t **out)
{
	struct tcache_entry *victim = &c->e[0];
	for (unsigned i = 0; i < QCOW2_CACHE_ENTRIES; i++) {
		struct tcache_entry *e = &c->e[i];
		if (e->off == off && e->data) {
			e->used = ++c->tick;
			if (fresh)
				memset(e->data, 0, q->cluster_size);
			*out = e->data;
			return 0;
		}
		if (e->used < victim->used)
			victim = e;
	}
	if (!victim->data)
		victim->data = xmalloc(q->cluster_size);
	victim->off = 0;
	if (fresh) {
		memset(victim->data, 0, q->cluster_size);
	} else {
		int r = block_pread_full(q->fd, victim->data, q->cluster_size, off);
		if (r < 0)
			return r;
	}
	victim->off = off;
	victim->used = ++c->tick;
	*out = victim->data;
	return 0;
}

static void tcache_drop(struct tcache *c, uint64_t off)
{
	for (unsigned i = 0; i < QCOW2_CACHE_ENTRIES; i++)
		if (c->e[i].off == off)
			c->e[i].off = 0;
}

static void tcache_free(struct tcache *c)
{
	for (unsigned i = 0; i < QCOW2_CACHE_ENTRIES; i++)
		free(c->e[i].data);
}

/* ---- refcounts ---- */

static uint64_t rb_get(const struct qcow2 *q, const uint8_t *blk, uint64_t i)
{
	uint32_t bits = q->refcount_bits;
	if (bits >= 8) {
		uint64_t v = 0;
		const uint8_t *p = blk + i * (bits / 8);
		for (uint32_t k = 0; k < bits / 8; k++)
			v = v << 8 | p[k];
		return v;
	}
	uint64_t bit = i * bits;
	return (blk[bit / 8] >> (bit % 8)) & ((1u << bits) - 1);
}

/* Sets entry i in a cached refcount block and writes the bytes holding it. */
static int rb_set(struct qcow2 *q, uint64_t blk_off, uint8_t *blk, uint64_t i, uint64_t v)
{
	uint32_t bits = q->refcount_bits;
	if (bits >= 8) {
		uint32_t w = bits / 8;
		uint8_t *p = blk + i * w;
		for (int k = (int)w - 1; k >= 0; k--, v >>= 8)
			p[k] = (uint8_t)v;
		return block_pwrite_full(q->fd, p, w, blk_off + i * w);
	}
	uint64_t bit = i * bits;
	uint8_t mask = (uint8_t)(((1u << bits) - 1) << (bit % 8));
	blk[bit / 8] = (uint8_t)((blk[bit / 8] & ~mask) | ((v << (bit % 8)) & mask));
	return block_pwrite_full(q->fd, &blk[bit / 8], 1, blk_off + bit / 8);
}

static int rt_block(struct qcow2 *q, uint64_t rt_idx, uint64_t *blk_off)
{
	uint64_t off = q->rt[rt_idx] & QCOW2_RT_OFFSET_MASK;
	if (off & (q->cluster_size - 1))
		return corrupt(q, "refcount block offset", off);
	*blk_off = off;
	return 0;
}

static int refcount_get(struct qcow2 *q, uint64_t cluster, uint64_t *out)
{
	uint64_t rt_idx = cluster / q->rb_entries;
	*out = 0;
	if (rt_idx >= q->rt_entries || !q->rt[rt_idx])
		return 0;
	uint64_t blk_off;
	uint8_t *blk;
	int r = rt_block(q, rt_idx, &blk_off);
	if (r == 0)
		r = tcache_get(q, &q->rbc, blk_off, false, &blk);
	if (r < 0)
		return r;
	*out = rb_get(q, blk, cluster % q->rb_entries);
	return 0;
}

/* Changes the refcount of an existing cluster whose refcount block exists. */
static int refcount_add(struct qcow2 *q, uint64_t cluster, int delta)
{
	uint64_t rt_idx = cluster / q->rb_entries;
	if (rt_idx >= q->rt_entries || !q->rt[rt_idx])
		return corrupt(q, "refcount of unaccounted cluster", cluster);
	uint64_t blk_off;
	uint8_t *blk;
	int r = rt_block(q, rt_idx, &blk_off);
	if (r == 0)
		r = tcache_get(q, &q->rbc, blk_off, false, &blk);
	if (r < 0)
		return r;
	uint64_t i = cluster % q->rb_entries, v = rb_get(q, blk, i);
	if ((delta < 0 && v == 0) || (delta > 0 && v >= q->refcount_max))
		return corrupt(q, "refcount", v);
	v = delta < 0 ? v - 1 : v + 1;
	r = rb_set(q, blk_off, blk, i, v);
	if (r == 0 && v == 0 && cluster < q->free_hint)
		q->free_hint = cluster;
	return r;
}

static bool overlaps_metadata(const struct qcow2 *q, uint64_t cluster)
{
	uint64_t off = cluster << q->cluster_bits, cs = q->cluster_size;
	if (cluster == 0)
		return true;
	if (off + cs > q->l1_offset && off < q->l1_offset + (uint64_t)q->l1_size * 8)
		return true;
	return off + cs > q->rt_offset && off < q->rt_offset + (uint64_t)q->rt_clusters * cs;
}

static int write_zero_cluster(struct qcow2 *q, uint64_t off)
{
	memset(q->tmp, 0, q->cluster_size);
	return block_pwrite_full(q->fd, q->tmp, q->cluster_size, off);
}

/* Replaces the refcount table by a larger one at the end of the file. The
 * new table and the refcount blocks that describe it are laid out together:
 * [new blocks][new table], and describe themselves. */
static int grow_refcount_table(struct qcow2 *q, uint64_t min_entries)
{
	uint64_t cs = q->cluster_size;
	uint64_t want = q->rt_entries * 2 > min_entries ? q->rt_entries * 2 : min_entries;
	uint64_t new_clusters = (want * 8 + cs - 1) / cs;
	if (new_clusters * cs > QCOW2_MAX_RT_BYTES)
		return -EFBIG;
	uint64_t new_entries = new_clusters * cs / 8;
	uint64_t start = q->file_end >> q->cluster_bits;
	/* blocks needed to cover [start, start + k + new_clusters) */
	uint64_t k = 0;
	for (;;) {
		uint64_t end = start + k + new_clusters;
		uint64_t need = 0;
		for (uint64_t i = start / q->rb_entries; i <= (end - 1) / q->rb_entries; i++)
			if (i >= q->rt_entries || !q->rt[i])
				need++;
		if (need == k)
			break;
		k = need;
	}
	if ((start + k + new_clusters - 1) / q->rb_entries >= new_entries)
		return -EFBIG;
	uint64_t *rt = xcalloc(new_entries, sizeof(uint64_t));
	memcpy(rt, q->rt, q->rt_entries * sizeof(uint64_t));
	uint64_t end = start + k + new_clusters, next_blk = start;
	int r = 0;
	/* new refcount blocks, zeroed on disk, then the refcounts of the area */
	for (uint64_t i = start / q->rb_entries; i <= (end - 1) / q->rb_entries && r == 0; i++) {
		if (i < q->rt_entries && q->rt[i])
			continue;
		rt[i] = next_blk << q->cluster_bits;
		r = write_zero_cluster(q, rt[i]);
		next_blk++;
	}
	uint64_t *old_rt = q->rt, old_entries = q->rt_entries;
	q->rt = rt;
	q->rt_entries = new_entries;
	for (uint64_t c = start; c < end && r == 0; c++)
		r = refcount_add(q, c, +1);
	/* the new table itself */
	uint64_t new_off = (start + k) << q->cluster_bits;
	uint8_t *buf = NULL;
	if (r == 0) {
		buf = xcalloc(new_clusters, cs);
		for (uint64_t i = 0; i < new_entries; i++)
			put_be64(buf + i * 8, rt[i]);
		r = block_pwrite_full(q->fd, buf, new_clusters * cs, new_off);
	}
	free(buf);
	if (r == 0) {
		uint8_t hdr[12];
		put_be64(hdr, new_off);
		put_be32(hdr + 8, (uint32_t)new_clusters);
		r = block_pwrite_full(q->fd, hdr, sizeof(hdr), 48);
	}
	if (r < 0) { /* the header still names the old table: keep it */
		q->rt = old_rt;
		q->rt_entries = old_entries;
		free(rt);
		return r;
	}
	uint64_t old_off = q->rt_offset, old_clusters = q->rt_clusters;
	q->rt_offset = new_off;
	q->rt_clusters = (uint32_t)new_clusters;
	q->file_end = end << q->cluster_bits;
	free(old_rt);
	for (uint64_t c = 0; c < old_clusters; c++) /* a failure here only leaks */
		if (refcount_add(q, (old_off >> q->cluster_bits) + c, -1) < 0)
			break;
	return 0;
}

/* Allocates one cluster: refcount 1, contents undefined. Returns its offset. */
static int alloc_cluster(struct qcow2 *q, uint64_t *off)
{
	uint64_t c = q->free_hint;
	for (;;) {
		uint64_t rc;
		int r = refcount_get(q, c, &rc);
		if (r < 0)
			return r;
		if (rc != 0 || overlaps_metadata(q, c)) {
			c++;
			continue;
		}
		uint64_t rt_idx = c / q->rb_entries;
		if (rt_idx >= q->rt_entries) {
			r = grow_refcount_table(q, rt_idx + 1);
			if (r < 0)
				return r;
			c = q->free_hint;
			continue;
		}
		if (!q->rt[rt_idx]) {
			/* No refcount block covers c: put one at c, counting itself. */
			uint64_t blk_off = c << q->cluster_bits;
			uint8_t *blk;
			r = tcache_get(q, &q->rbc, blk_off, true, &blk);
			if (r == 0)
				r = block_pwrite_full(q->fd, blk, q->cluster_size, blk_off);
			if (r == 0)
				r = rb_set(q, blk_off, blk, c % q->rb_entries, 1);
			if (r == 0) {
				uint8_t e[8];
				put_be64(e, blk_off);
				r = block_pwrite_full(q->fd, e, 8, q->rt_offset + rt_idx * 8);
			}
			if (r < 0) {
				tcache_drop(&q->rbc, blk_off);
				return r;
			}
			q->rt[rt_idx] = blk_off;
			if (blk_off + q->cluster_size > q->file_end)
				q->file_end = blk_off + q->cluster_size;
			c++;
			continue;
		}
		r = refcount_add(q, c, +1);
		if (r < 0)
			return r;
		q->free_hint = c + 1;
		*off = c << q->cluster_bits;
		if (*off + q->cluster_size > q->file_end)
			q->file_end = *off + q->cluster_size;
		return 0;
	}
}

/* Drops the reference an L2 entry held on its host cluster(s). */
static int release_entry(struct qcow2 *q, uint64_t e)
{
	if (e & QCOW2_OFLAG_COMPRESSED) {
		uint32_t x = 62 - (q->cluster_bits - 8);
		uint64_t off = e & ((1ull << x) - 1);
		uint64_t nsec = (e >> x) & ((1ull << (62 - x)) - 1);
		uint64_t end = (off & ~511ull) + (nsec + 1) * 512;
		for (uint64_t c = off >> q->cluster_bits; c <= (end - 1) >> q->cluster_bits; c++) {
			int r = refcount_add(q, c, -1);
			if (r < 0)
				return r;
		}
		return 0;
	}
	uint64_t off = e & QCOW2_OFFSET_MASK;
	if (!off)
		return 0;
	int r = refcount_add(q, off >> q->cluster_bits, -1);
	uint64_t rc;
	if (r == 0 && refcount_get(q, off >> q->cluster_bits, &rc) == 0 && rc == 0) {
		/* give the space back to the host file system; advisory */
		if (fallocate(q->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
			      (off_t)q->cluster_size) < 0) {
			/* not all file systems punch holes; the cluster is still free */
		}
	}
	return r;
}

/* ---- mapping ---- */

struct l2_ref {
	uint64_t l1_idx;
	uint64_t l2_idx;
	uint64_t l2_off; /* 0 when the L1 entry is empty */
};

static int l2_lookup(struct qcow2 *q, uint64_t vo, struct l2_ref *ref, uint64_t *entry)
{
	ref->l1_idx = vo >> (q->cluster_bits + q->l2_bits);
	ref->l2_idx = (vo >> q->cluster_bits) & (q->l2_entries - 1);
	*entry = 0;
	if (ref->l1_idx >= q->l1_size)
		return corrupt(q, "guest offset beyond the L1 table", vo);
	uint64_t l1e = q->l1[ref->l1_idx];
	ref->l2_off = l1e & QCOW2_OFFSET_MASK;
	if (!ref->l2_off)
		return 0;
	if (ref->l2_off & (q->cluster_size - 1))
		return corrupt(q, "L2 table offset", ref->l2_off);
	uint8_t *tab;
	int r = tcache_get(q, &q->l2c, ref->l2_off, false, &tab);
	if (r < 0)
		return r;
	*entry = be64(tab + ref->l2_idx * 8);
	if (!(*entry & QCOW2_OFLAG_COMPRESSED)) {
		uint64_t off = *entry & QCOW2_OFFSET_MASK;
		if ((*entry & 0x1feull) || (off & (q->cluster_size - 1)))
			return corrupt(q, "L2 entry", *entry);
	}
	return 0;
}

/* Writes an L2 entry, creating the L2 table (and its L1 entry) if needed. */
static int l2_store(struct qcow2 *q, struct l2_ref *ref, uint64_t entry)
{
	int r;
	uint8_t *tab;
	if (!ref->l2_off) {
		uint64_t off;
		r = alloc_cluster(q, &off);
		if (r < 0)
			return r;
		r = tcache_get(q, &q->l2c, off, true, &tab);
		if (r == 0)
			r = block_pwrite_full(q->fd, tab, q->cluster_size, off);
		uint8_t e[8];
		put_be64(e, off | QCOW2_OFLAG_COPIED);
		if (r == 0)
			r = block_pwrite_full(q->fd, e, 8, q->l1_offset + ref->l1_idx * 8);
		if (r < 0) {
			tcache_drop(&q->l2c, off);
			return r;
		}
		q->l1[ref->l1_idx] = off | QCOW2_OFLAG_COPIED;
		ref->l2_off = off;
	} else if (!(q->l1[ref->l1_idx] & QCOW2_OFLAG_COPIED)) {
		/* a shared L2 table belongs to an internal snapshot; writable opens refuse those */
		return corrupt(q, "shared L2 table in a writable image", ref->l2_off);
	}
	r = tcache_get(q, &q->l2c, ref->l2_off, false, &tab);
	if (r < 0)
		return r;
	put_be64(tab + ref->l2_idx * 8, entry);
	return block_pwrite_full(q->fd, tab + ref->l2_idx * 8, 8, ref->l2_off + ref->l2_idx * 8);
}

static int read_compressed(struct qcow2 *q, uint64_t e)
{
	if (q->zbuf_entry == e)
		return 0;
	uint32_t x = 62 - (q->cluster_bits - 8);
	uint64_t off = e & ((1ull << x) - 1);
	uint64_t nsec = (e >> x) & ((1ull << (62 - x)) - 1);
	uint64_t csize = (nsec + 1) * 512 - (off & 511);
	if (csize > 2 * q->cluster_size + 512)
		return corrupt(q, "compressed cluster size", csize);
	int r = block_pread_full(q->fd, q->cbuf, csize, off);
	if (r < 0)
		return r;
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, -15) != Z_OK)
		return -ENOMEM;
	zs.next_in = q->cbuf;
	zs.avail_in = (uInt)csize;
	zs.next_out = q->zbuf;
	zs.avail_out = (uInt)q->cluster_size;
	int zr = inflate(&zs, Z_FINISH);
	bool ok = (zr == Z_STREAM_END || zr == Z_BUF_ERROR) && zs.avail_out == 0;
	inflateEnd(&zs);
	if (!ok) {
		q->zbuf_entry = 0;
		return corrupt(q, "compressed cluster", e);
	}
	q->zbuf_entry = e;
	return 0;
}

/* Reads len bytes at guest offset vo, all inside one cluster whose L2 entry is e. */
static int read_in_cluster(struct qcow2 *q, uint64_t e, uint64_t vo, uint8_t *buf, size_t len)
{
	uint64_t in = vo & (q->cluster_size - 1);
	if (e & QCOW2_OFLAG_COMPRESSED) {
		int r = read_compressed(q, e);
		if (r == 0)
			memcpy(buf, q->zbuf + in, len);
		return r;
	}
	if (q->version >= 3 && (e & QCOW2_OFLAG_ZERO)) {
		memset(buf, 0, len);
		return 0;
	}
	uint64_t off = e & QCOW2_OFFSET_MASK;
	if (off)
		return block_pread_full(q->fd, buf, len, off + in);
	struct block *bk = q->b.backing;
	if (!bk) {
		memset(buf, 0, len);
		return 0;
	}
	size_t have = vo >= bk->size ? 0 : (bk->size - vo < len ? (size_t)(bk->size - vo) : len);
	memset(buf + have, 0, len - have);
	return have ? block_read(bk, vo, buf, have) : 0;
}

static int q_read(struct block *b, uint64_t off, void *buf, size_t len)
{
	struct qcow2 *q = to_q(b);
	if (!block_range_ok(b->size, off, len))
		return -EINVAL;
	uint8_t *p = buf;
	int r = 0;
	pthread_mutex_lock(&q->lock);
	while (len && r == 0) {
		uint64_t in = off & (q->cluster_size - 1);
		size_t n = q->cluster_size - in < len ? (size_t)(q->cluster_size - in) : len;
		struct l2_ref ref;
		uint64_t e;
		r = l2_lookup(q, off, &ref, &e);
		if (r == 0)
			r = read_in_cluster(q, e, off, p, n);
		p += n;
		off += n;
		len -= n;
	}
	pthread_mutex_unlock(&q->lock);
	return r;
}

/* Writes inside one cluster. data == NULL writes zeros. */
static int write_in_cluster(struct qcow2 *q, uint64_t vo, const uint8_t *data, size_t len)
{
	struct l2_ref ref;
	uint64_t e;
	int r = l2_lookup(q, vo, &ref, &e);
	if (r < 0)
		return r;
	uint64_t in = vo & (q->cluster_size - 1);
	uint64_t host = e & QCOW2_OFFSET_MASK;
	bool plain = !(e & QCOW2_OFLAG_COMPRESSED);
	bool zero_flag = plain && q->version >= 3 && (e & QCOW2_OFLAG_ZERO);
	if (plain && host && (e & QCOW2_OFLAG_COPIED) && !zero_flag) {
		if (data)
			return block_pwrite_full(q->fd, data, len, host + in);
		memset(q->tmp, 0, len);
		return block_pwrite_full(q->fd, q->tmp, len, host + in);
	}
	/* Build the whole cluster: old contents (backing, zeros, compressed,
	 * shared) merged with the new bytes. */
	uint64_t base = vo - in;
	if (len != q->cluster_size) {
		r = read_in_cluster(q, e, base, q->tmp, q->cluster_size);
		if (r < 0)
			return r;
	}
	if (data)
		memcpy(q->tmp + in, data, len);
	else
		memset(q->tmp + in, 0, len);
	uint64_t target;
	bool reuse = plain && host && (e & QCOW2_OFLAG_COPIED); /* preallocated zero cluster */
	if (reuse) {
		target = host;
	} else {
		r = alloc_cluster(q, &target);
		if (r < 0)
			return r;
	}
	r = block_pwrite_full(q->fd, q->tmp, q->cluster_size, target);
	if (r == 0)
		r = l2_store(q, &ref, target | QCOW2_OFLAG_COPIED);
	if (r < 0) {
		if (!reuse && refcount_add(q, target >> q->cluster_bits, -1) < 0) {
			/* leaked; qemu-img check -r leaks repairs it */
		}
		return r;
	}
	if (!reuse && (e & (QCOW2_OFLAG_COMPRESSED | QCOW2_OFFSET_MASK))) {
		if (q->zbuf_entry == e)
			q->zbuf_entry = 0;
		r = release_entry(q, e);
	}
	return r;
}

static int q_write_common(struct block *b, uint64_t off, const uint8_t *p, size_t len)
{
	struct qcow2 *q = to_q(b);
	if (!block_range_ok(b->size, off, len))
		return -EINVAL;
	int r = 0;
	pthread_mutex_lock(&q->lock);
	while (len && r == 0) {
		uint64_t in = off & (q->cluster_size - 1);
		size_t n = q->cluster_size - in < len ? (size_t)(q->cluster_size - in) : len;
		r = write_in_cluster(q, off, p, n);
		if (p)
			p += n;
		off += n;
		len -= n;
	}
	pthread_mutex_unlock(&q->lock);
	return r;
}

static int q_write(struct block *b, uint64_t off, const void *buf, size_t len)
{
	return q_write_common(b, off, buf, len);
}

static int q_flush(struct block *b)
{
	return fsync(to_q(b)->fd) < 0 ? -errno : 0;
}

/* Replaces the mapping of whole clusters: entry 0 (unallocated) or the zero
 * flag, releasing what was there. Partial clusters go through the write
 * path (zeros) when `zero` is set and are skipped otherwise. */
static int q_unmap(struct block *b, uint64_t off, uint64_t len, bool zero, bool may_unmap)
{
	struct qcow2 *q = to_q(b);
	if (!block_range_ok(b->size, off, len))
		return -EINVAL;
	int r = 0;
	pthread_mutex_lock(&q->lock);
	while (len && r == 0) {
		uint64_t in = off & (q->cluster_size - 1);
		uint64_t n = q->cluster_size - in < len ? q->cluster_size - in : len;
		/* the last cluster of a disk whose size is not a multiple counts as whole */
		bool whole = in == 0 && (n == q->cluster_size || off + n == b->size);
		struct l2_ref ref;
		uint64_t e, ne;
		r = l2_lookup(q, off, &ref, &e);
		if (r < 0)
			break;
		if (e == 0 && !b->backing) {
			/* unallocated without a backing file reads as zeros already:
			 * no cluster, no L2 table (a sparse copy stays sparse) */
		} else if (!whole) {
			if (zero)
				r = write_in_cluster(q, off, NULL, (size_t)n);
		} else {
			bool allocated = (e & QCOW2_OFLAG_COMPRESSED) || (e & QCOW2_OFFSET_MASK);
			if (q->version >= 3 && (zero || b->backing)) {
				/* v3: the zero flag hides the backing file too */
				if (zero && !may_unmap && allocated && !(e & QCOW2_OFLAG_COMPRESSED) &&
				    (e & QCOW2_OFLAG_COPIED))
					ne = (e & QCOW2_OFFSET_MASK) | QCOW2_OFLAG_COPIED | QCOW2_OFLAG_ZERO;
				else
					ne = QCOW2_OFLAG_ZERO;
			} else if (!b->backing) {
				ne = 0;
				if (zero && !may_unmap && allocated) {
					r = write_in_cluster(q, off, NULL, (size_t)n);
					ne = e = 0; /* written in place, nothing to remap */
					allocated = false;
				}
			} else if (zero) { /* v2 with a backing file: only real zeros hide it */
				r = write_in_cluster(q, off, NULL, (size_t)n);
				allocated = false;
				ne = e;
			} else {
				ne = e; /* v2 discard over a backing file: keep the data */
			}
			if (r == 0 && ne != e) {
				r = l2_store(q, &ref, ne);
				if (r == 0 && allocated && (ne & QCOW2_OFFSET_MASK) == 0) {
					if (q->zbuf_entry == e)
						q->zbuf_entry = 0;
					r = release_entry(q, e);
				}
			}
		}
		off += n;
		len -= n;
	}
	pthread_mutex_unlock(&q->lock);
	return r;
}

static int q_discard(struct block *b, uint64_t off, uint64_t len)
{
	return q_unmap(b, off, len, false, true);
}

static int q_write_zeroes(struct block *b, uint64_t off, uint64_t len, bool may_unmap)
{
	return q_unmap(b, off, len, true, may_unmap);
}

static int q_allocated(struct block *b, uint64_t *bytes)
{
	struct qcow2 *q = to_q(b);
	uint64_t n = 0;
	int r = 0;
	pthread_mutex_lock(&q->lock);
	for (uint64_t vo = 0; vo < b->size && r == 0; vo += q->cluster_size) {
		struct l2_ref ref;
		uint64_t e;
		r = l2_lookup(q, vo, &ref, &e);
		if (!ref.l2_off) { /* skip a whole missing L2 table */
			vo = ((ref.l1_idx + 1) << (q->cluster_bits + q->l2_bits)) - q->cluster_size;
			continue;
		}
		if ((e & QCOW2_OFLAG_COMPRESSED) || ((e & QCOW2_OFFSET_MASK) && !(e & QCOW2_OFLAG_ZERO)))
			n += q->cluster_size;
	}
	pthread_mutex_unlock(&q->lock);
	*bytes = n > b->size ? b->size : n;
	return r;
}

static void q_close(struct block *b)
{
	struct qcow2 *q = to_q(b);
	if (q->fd >= 0)
		close(q->fd);
	pthread_mutex_destroy(&q->lock);
	tcache_free(&q->l2c);
	tcache_free(&q->rbc);
	free(q->l1);
	free(q->rt);
	free(q->tmp);
	free(q->zbuf);
	free(q->cbuf);
	free(b->path);
	free(q);
}

static const struct block_ops qcow2_ops = {
	.read = q_read,
	.write = q_write,
	.flush = q_flush,
	.discard = q_discard,
	.write_zeroes = q_write_zeroes,
	.allocated = q_allocated,
	.close = q_close,
};

/* ---- open ---- */

static int load_table(int fd, uint64_t off, uint64_t entries, uint64_t **out)
{
	uint64_t *t = xcalloc(entries ? entries : 1, sizeof(uint64_t));
	int r = block_pread_full(fd, t, entries * 8, off);
	if (r < 0) {
		free(t);
		return r;
	}
	for (uint64_t i = 0; i < entries; i++)
		t[i] = be64((const uint8_t *)&t[i]);
	*out = t;
	return 0;
}

static char *resolve_backing(const char *image, const char *name)
{
	if (name[0] == '/')
		return xstrdup(name);
	cleanup_free char *copy = xstrdup(image);
	return xasprintf("%s/%s", dirname(copy), name);
}

int qcow2_open_fd(const char *path, int fd, bool readonly, unsigned depth, struct block **out,
		  struct verr **err)
{
	uint8_t h[112];
	memset(h, 0, sizeof(h));
	int r = block_pread_full(fd, h, sizeof(h), 0);
	if (r < 0)
		return verr_set(err, -r, "read qcow2 header of '%s'", path);
	if (be32(h) != QCOW2_MAGIC)
		return verr_set(err, 0, "'%s' is not a qcow2 image (bad magic)", path);
	uint32_t version = be32(h + 4);
	if (version != 2 && version != 3)
		return verr_set(err, 0, "'%s': qcow2 version %u is not supported (2 and 3 are)", path, version);
	uint64_t backing_off = be64(h + 8);
	uint32_t backing_len = be32(h + 16);
	uint32_t cluster_bits = be32(h + 20);
	uint64_t size = be64(h + 24);
	uint32_t crypt = be32(h + 32);
	uint32_t l1_size = be32(h + 36);
	uint64_t l1_off = be64(h + 40);
	uint64_t rt_off = be64(h + 48);
	uint32_t rt_clusters = be32(h + 56);
	uint32_t nb_snapshots = be32(h + 60);
	uint64_t incompat = 0, autoclear = 0;
	uint32_t refcount_order = 4, header_len = 72;
	if (version == 3) {
		incompat = be64(h + 72);
		autoclear = be64(h + 88);
		refcount_order = be32(h + 96);
		header_len = be32(h + 100);
	}
	if (cluster_bits < 9 || cluster_bits > 21)
		return verr_set(err, 0, "'%s': cluster size 2^%u is out of range (512 B to 2 MiB)", path,
				cluster_bits);
	uint64_t cs = 1ull << cluster_bits;
	if (crypt)
		return verr_set(err, 0, "'%s': encrypted qcow2 images are not supported", path);
	if (incompat & QCOW2_INCOMPAT_DATA_FILE)
		return verr_set(err, 0, "'%s': qcow2 external data files are not supported", path);
	if (incompat & QCOW2_INCOMPAT_EXTL2)
		return verr_set(err, 0, "'%s': qcow2 extended L2 entries (subclusters) are not supported", path);
	if (incompat & QCOW2_INCOMPAT_COMPRESSION)
		return verr_set(err, 0, "'%s': qcow2 compression types other than zlib are not supported", path);
	uint64_t unknown = incompat & ~(QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT);
	if (unknown)
		return verr_set(err, 0, "'%s': unknown qcow2 incompatible features 0x%llx", path,
				(unsigned long long)unknown);
	if (!readonly && (incompat & QCOW2_INCOMPAT_CORRUPT))
		return verr_set(err, 0, "'%s' is marked corrupt; run 'qemu-img check -r all' or open it read-only",
				path);
	if (!readonly && (incompat & QCOW2_INCOMPAT_DIRTY))
		return verr_set(err, 0, "'%s' was not closed cleanly (lazy refcounts); run 'qemu-img check -r all'",
				path);
	if (!readonly && nb_snapshots)
		return verr_set(err, 0, "'%s' has %u internal snapshots; writing such images is not supported "
					"(use a backing chain, or open it read-only)", path, nb_snapshots);
	if (refcount_order > 6 || (version == 2 && refcount_order != 4))
		return verr_set(err, 0, "'%s': refcount order %u is invalid", path, refcount_order);
	if (version == 3 && (header_len < 104 || header_len > cs || header_len % 8))
		return verr_set(err, 0, "'%s': qcow2 header length %u is invalid", path, header_len);
	if (size > QCOW2_MAX_SIZE)
		return verr_set(err, 0, "'%s': virtual size %llu is too large", path, (unsigned long long)size);
	uint64_t l2_entries = cs / 8;
	uint64_t per_l1 = cs * l2_entries;
	uint64_t need_l1 = (size + per_l1 - 1) / per_l1;
	if (l1_size < need_l1 || (uint64_t)l1_size * 8 > QCOW2_MAX_L1_BYTES)
		return verr_set(err, 0, "'%s': L1 table size %u does not fit the virtual size", path, l1_size);
	if ((l1_off & (cs - 1)) || (rt_off & (cs - 1)) || !rt_off || l1_off > QCOW2_MAX_SIZE ||
	    rt_off > QCOW2_MAX_SIZE)
		return verr_set(err, 0, "'%s': L1 or refcount table offset is not cluster-aligned", path);
	if (!rt_clusters || (uint64_t)rt_clusters * cs > QCOW2_MAX_RT_BYTES)
		return verr_set(err, 0, "'%s': refcount table of %u clusters is invalid", path, rt_clusters);

	/* header extensions, inside the first cluster */
	char backing_fmt[32] = "";
	uint64_t ext = version == 3 ? header_len : 72;
	uint8_t *c0 = xmalloc(cs);
	r = block_pread_full(fd, c0, cs, 0);
	while (r == 0 && ext + 8 <= cs) {
		uint32_t type = be32(c0 + ext), len = be32(c0 + ext + 4);
		if (type == QCOW2_EXT_END)
			break;
		if (len > cs - ext - 8) {
			free(c0);
			return verr_set(err, 0, "'%s': header extension 0x%x overruns the first cluster", path, type);
		}
		if (type == QCOW2_EXT_BACKING_FORMAT) {
			if (len >= sizeof(backing_fmt)) {
				free(c0);
				return verr_set(err, 0, "'%s': backing format name too long", path);
			}
			memcpy(backing_fmt, c0 + ext + 8, len);
			backing_fmt[len] = 0;
		}
		ext += 8 + ((len + 7) & ~7u);
	}
	char backing_name[1024] = "";
	if (r == 0 && backing_off) {
		if (backing_len == 0 || backing_len >= sizeof(backing_name) || backing_len > cs ||
		    backing_off > cs - backing_len) {
			free(c0);
			return verr_set(err, 0, "'%s': backing file name is invalid", path);
		}
		memcpy(backing_name, c0 + backing_off, backing_len);
		backing_name[backing_len] = 0;
		if (strlen(backing_name) != backing_len) {
			free(c0);
			return verr_set(err, 0, "'%s': backing file name contains a NUL byte", path);
		}
	}
	free(c0);
	if (r < 0)
		return verr_set(err, -r, "read '%s'", path);

	struct qcow2 *q = xcalloc(1, sizeof(*q));
	q->fd = -1;
	pthread_mutex_init(&q->lock, NULL);
	q->b.ops = &qcow2_ops;
	q->b.format = BLOCK_FMT_QCOW2;
	q->b.size = size;
	q->b.readonly = readonly;
	q->b.path = xstrdup(path);
	q->version = version;
	q->cluster_bits = cluster_bits;
	q->cluster_size = cs;
	q->l2_bits = cluster_bits - 3;
	q->l2_entries = l2_entries;
	q->refcount_bits = 1u << refcount_order;
	q->refcount_max = q->refcount_bits == 64 ? UINT64_MAX : (1ull << q->refcount_bits) - 1;
	q->rb_entries = cs * 8 / q->refcount_bits;
	q->l1_offset = l1_off;
	q->l1_size = l1_size;
	q->rt_offset = rt_off;
	q->rt_clusters = rt_clusters;
	q->rt_entries = (uint64_t)rt_clusters * cs / 8;
	q->nb_snapshots = nb_snapshots;
	q->tmp = xmalloc(cs);
	q->zbuf = xmalloc(cs);
	q->cbuf = xmalloc(2 * cs + 512);
	struct stat st;
	if (fstat(fd, &st) < 0) {
		r = verr_set(err, errno, "stat '%s'", path);
		goto fail;
	}
	q->file_end = ((uint64_t)st.st_size + cs - 1) & ~(cs - 1);
	r = load_table(fd, l1_off, l1_size, &q->l1);
	if (r == 0)
		r = load_table(fd, rt_off, q->rt_entries, &q->rt);
	if (r < 0) {
		r = verr_set(err, -r, "read tables of '%s'", path);
		goto fail;
	}
	if (!readonly && autoclear) {
		/* We do not maintain bitmaps: clear the autoclear bits (qcow2 spec). */
		uint8_t z[8] = { 0 };
		r = block_pwrite_full(fd, z, 8, 88);
		if (r < 0) {
			r = verr_set(err, -r, "write header of '%s'", path);
			goto fail;
		}
	}
	if (backing_name[0]) {
		enum block_format bf = BLOCK_FMT_AUTO;
		if (backing_fmt[0] && block_format_parse(backing_fmt, &bf) < 0) {
			r = verr_set(err, 0, "'%s': backing file format '%s' is not supported", path, backing_fmt);
			goto fail;
		}
		q->b.backing_path = resolve_backing(path, backing_name);
		if (block_open_depth(q->b.backing_path, bf, true, depth + 1, 0, &q->b.backing, err) < 0) {
			r = verr_wrap(err, "backing file of '%s'", path);
			goto fail;
		}
	}
	q->fd = fd;
	q->b.lock_fd = fd;
	*out = &q->b;
	return 0;
fail:
	block_close(q->b.backing);
	q->b.backing = NULL;
	free(q->b.backing_path);
	q_close(&q->b);
	return r;
}

/* ---- create ---- */

int qcow2_create(const char *path, uint64_t size, const char *backing, struct verr **err)
{
	const uint32_t cluster_bits = 16;
	const uint64_t cs = 1ull << cluster_bits;
	const char *backing_fmt = NULL;
	if (backing) {
		struct block *bk;
		cleanup_free char *resolved = resolve_backing(path, backing);
		if (block_open(resolved, BLOCK_FMT_AUTO, true, &bk, err) < 0)
			return verr_wrap(err, "backing file");
		if (size == 0)
			size = bk->size;
		backing_fmt = block_format_name(bk->format);
		block_close(bk);
		if (strlen(backing) > 1023)
			return verr_set(err, 0, "backing file name is longer than 1023 bytes");
	}
	if (size == 0)
		return verr_set(err, 0, "image size must be given and larger than 0");
	if (size > QCOW2_MAX_SIZE)
		return verr_set(err, 0, "image size %llu is too large", (unsigned long long)size);
	uint64_t per_l1 = cs * (cs / 8);
	uint64_t l1_size = (size + per_l1 - 1) / per_l1;
	uint64_t l1_clusters = (l1_size * 8 + cs - 1) / cs;
	/* cluster 0: header; 1: refcount table; 2: refcount block; 3..: L1 */
	uint64_t total = 3 + l1_clusters;
	if (total > cs * 8 / 16)
		return verr_set(err, 0, "image size %llu needs more metadata than one refcount block holds",
				(unsigned long long)size);
	uint8_t *img = xcalloc(total, cs);
	uint8_t *h = img;
	put_be32(h, QCOW2_MAGIC);
	put_be32(h + 4, 3);
	put_be32(h + 20, cluster_bits);
	put_be64(h + 24, size);
	put_be32(h + 36, (uint32_t)l1_size);
	put_be64(h + 40, 3 * cs);
	put_be64(h + 48, 1 * cs);
	put_be32(h + 56, 1);
	put_be32(h + 96, 4);   /* refcount order: 16-bit refcounts */
	put_be32(h + 100, 112); /* header length, compression type byte 104 = zlib */
	uint64_t p = 112;
	if (backing) {
		put_be32(h + p, QCOW2_EXT_BACKING_FORMAT);
		put_be32(h + p + 4, (uint32_t)strlen(backing_fmt));
		memcpy(h + p + 8, backing_fmt, strlen(backing_fmt));
		p += 8 + ((strlen(backing_fmt) + 7) & ~7ull);
	}
	p += 8; /* end-of-extensions marker (zeros) */
	if (backing) {
		put_be64(h + 8, p);
		put_be32(h + 16, (uint32_t)strlen(backing));
		memcpy(h + p, backing, strlen(backing));
	}
	put_be64(img + cs, 2 * cs); /* refcount table entry 0 -> block at cluster 2 */
	for (uint64_t c = 0; c < total; c++) {
		uint8_t *e = img + 2 * cs + c * 2;
		e[0] = 0;
		e[1] = 1;
	}
	cleanup_free char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		free(img);
		return verr_set(err, errno, "create '%s'", tmp);
	}
	int r = write_full(fd, img, total * cs);
	free(img);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	close(fd);
	if (r == 0 && link(tmp, path) < 0)
		r = -errno;
	unlink(tmp);
	if (r < 0)
		return verr_set(err, -r, "create '%s'", path);
	return 0;
}
