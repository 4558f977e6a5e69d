/* Disk images: the host resource behind a virtio-blk device.
 *
 * A `struct block` is an open image of one format (raw or qcow2) seen as a
 * flat array of bytes of `size` bytes. All functions are thread-safe (one
 * lock per image); data functions return 0 or -errno and never print.
 * Offsets and lengths are checked against the virtual size (-EINVAL past
 * it), so a device can pass guest-supplied values straight through after
 * its own sector arithmetic.
 */
#ifndef VESSEL_VM_BLOCK_H
#define VESSEL_VM_BLOCK_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

enum block_format { BLOCK_FMT_AUTO = 0, BLOCK_FMT_RAW, BLOCK_FMT_QCOW2 };

struct block;

struct block_ops {
	int (*read)(struct block *b, uint64_t off, void *buf, size_t len);
	int (*write)(struct block *b, uint64_t off, const void *buf, size_t len);
	/* Makes every completed write durable (fsync of the file and of its
	 * metadata). */
	int (*flush)(struct block *b);
	/* The range's contents become unspecified; space may be freed. */
	int (*discard)(struct block *b, uint64_t off, uint64_t len);
	/* The range reads as zeros afterwards; may_unmap allows freeing space. */
	int (*write_zeroes)(struct block *b, uint64_t off, uint64_t len, bool may_unmap);
	/* Allocation figures for `image info`: bytes of the virtual disk that
	 * this file (not its backing chain) stores. */
	int (*allocated)(struct block *b, uint64_t *bytes);
	void (*close)(struct block *b);
};

struct block {
	const struct block_ops *ops;
	enum block_format format;
	uint64_t size;       /* virtual size in bytes */
	bool readonly;
	char *path;          /* as opened; owned */
	struct block *backing; /* qcow2 backing image or NULL; owned */
	char *backing_path;  /* resolved path of the backing file or NULL; owned */
	int lock_fd;         /* the image file's descriptor, which holds its lock */
	/* dirty tracking (block_dirty_*): on only while a disk-copying
	 * migration runs; the bitmap lives from the first start to close */
	atomic_bool dirty_on;
	_Atomic uint64_t *dirty_bm;
	uint64_t dirty_nbits;
};

/* Opens an image. BLOCK_FMT_AUTO probes (qcow2 magic, else raw); a probed
 * raw image refuses writes that would put a qcow2 magic in its first sector,
 * so a guest cannot turn its disk into an image with a host backing file.
 * Unsupported qcow2 features (encryption, external data file, extended L2,
 * non-zlib compression, internal snapshots when writable, dirty or corrupt
 * images) are refused with an error that names them.
 * Caller closes with block_close(). */
int block_open(const char *path, enum block_format fmt, bool readonly, struct block **out,
	       struct verr **err);

/* block_open with flags: BLOCK_OPEN_NOLOCK opens the image without taking
 * its lock, for a live migration's destination while the source still runs
 * on the same file; it must not be written until it is reopened (the
 * source's writes make any metadata read now stale). */
#define BLOCK_OPEN_NOLOCK 0x1u
int block_open_ex(const char *path, enum block_format fmt, bool readonly, unsigned flags, struct block **out,
		  struct verr **err);

/* Live migration hand-over of an image: block_unlock drops this process's
 * lock (after a flush: the caller stops I/O first) so the destination can
 * take it; block_relock takes it back (a failed migration), which fails if
 * the destination already holds it. */
int block_unlock(struct block *b, struct verr **err);
int block_relock(struct block *b, struct verr **err);

/* Closes an image and its backing chain; accepts NULL. */
void block_close(struct block *b);

/* Parses "raw" / "qcow2"; returns -1 on anything else. */
int block_format_parse(const char *s, enum block_format *out);
const char *block_format_name(enum block_format f);

/* ---- dirty tracking (live migration with "disks": "copy") ----
 *
 * A bitmap of BLOCK_DIRTY_GRANULE-sized pieces of the virtual disk: every
 * write, discard and write-zeroes that reaches the image sets the bits of
 * its range after it completed (also when it failed: the contents may have
 * changed), so a copier that collects a bit and then reads the piece never
 * misses a write. Off, it costs one predictable branch per request.
 * Thread-safe: any thread may write while another collects. */
#define BLOCK_DIRTY_GRANULE (64u << 10)

/* Starts tracking on b (allocating the bitmap on first use; its bits are
 * cleared). Writes that complete after this returns are recorded. */
void block_dirty_start(struct block *b);
/* Stops tracking (the bitmap stays until block_close). */
void block_dirty_stop(struct block *b);
/* Number of granules of b (bits of a bitmap for it). */
uint64_t block_dirty_granules(const struct block *b);
/* Moves the recorded bits into out (ORed in; block_dirty_granules(b) bits,
 * (n + 63) / 64 words) and clears them; returns the number of bits set in
 * out afterwards. */
uint64_t block_dirty_collect(struct block *b, uint64_t *out);
/* Records [off, off+len) as written (the data functions below call it). */
void block_dirty_mark(struct block *b, uint64_t off, uint64_t len);

static inline void block_dirty_note(struct block *b, uint64_t off, uint64_t len)
{
	/* seq_cst: pairs with block_dirty_start's store, see block_dirty.c */
	if (__builtin_expect(atomic_load(&b->dirty_on), 0))
		block_dirty_mark(b, off, len);
}

/* Data access through the format's ops; block_write and friends return
 * -EROFS on a read-only image. */
static inline int block_read(struct block *b, uint64_t off, void *buf, size_t len)
{
	return b->ops->read(b, off, buf, len);
}
static inline int block_write(struct block *b, uint64_t off, const void *buf, size_t len)
{
	if (b->readonly)
		return -EROFS;
	int r = b->ops->write(b, off, buf, len);
	block_dirty_note(b, off, len);
	return r;
}

static inline int block_flush(struct block *b)
{
	return b->ops->flush(b);
}
static inline int block_discard(struct block *b, uint64_t off, uint64_t len)
{
	if (b->readonly)
		return -EROFS;
	int r = b->ops->discard(b, off, len);
	block_dirty_note(b, off, len);
	return r;
}
static inline int block_write_zeroes(struct block *b, uint64_t off, uint64_t len, bool may_unmap)
{
	if (b->readonly)
		return -EROFS;
	int r = b->ops->write_zeroes(b, off, len, may_unmap);
	block_dirty_note(b, off, len);
	return r;
}

/* Checks that [off, off+len) lies inside a disk of `size` bytes. */
static inline bool block_range_ok(uint64_t size, uint64_t off, uint64_t len)
{
	return off <= size && len <= size - off;
}

/* Creates a qcow2 v3 image of `size` bytes (cluster size 64 KiB), optionally
 * over a backing file (its format probed, its size used when size is 0).
 * The file must not exist. Written atomically (temporary file + rename). */
int qcow2_create(const char *path, uint64_t size, const char *backing, struct verr **err);

#endif
