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

/* Data access through the format's ops; block_write and friends return
 * -EROFS on a read-only image. */
static inline int block_read(struct block *b, uint64_t off, void *buf, size_t len)
{
	return b->ops->read(b, off, buf, len);
}
static inline int block_write(struct block *b, uint64_t off, const void *buf, size_t len)
{
	return b->readonly ? -EROFS : b->ops->write(b, off, buf, len);
}

static inline int block_flush(struct block *b)
{
	return b->ops->flush(b);
}
static inline int block_discard(struct block *b, uint64_t off, uint64_t len)
{
	return b->readonly ? -EROFS : b->ops->discard(b, off, len);
}
static inline int block_write_zeroes(struct block *b, uint64_t off, uint64_t len, bool may_unmap)
{
	return b->readonly ? -EROFS : b->ops->write_zeroes(b, off, len, may_unmap);
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
