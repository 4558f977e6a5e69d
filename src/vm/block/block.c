/* Opening images, format probing, and the raw format. */
#include "vm/block/block.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "vm/block/block_int.h"

struct raw {
	struct block b;
	int fd;
	bool probed; /* format was guessed: keep the guest from writing a qcow2 magic */
};

static struct raw *to_raw(struct block *b)
{
	return (struct raw *)b;
}

static int raw_read(struct block *b, uint64_t off, void *buf, size_t len)
{
	if (!block_range_ok(b->size, off, len))
		return -EINVAL;
	return block_pread_full(to_raw(b)->fd, buf, len, off);
}

static int raw_write(struct block *b, uint64_t off, const void *buf, size_t len)
{
	struct raw *r = to_raw(b);
	if (!block_range_ok(b->size, off, len))
		return -EINVAL;
	if (r->probed && off < 4 && len > 0 && block_looks_like_qcow2(buf, len, off))
		return -EPERM;
	return block_pwrite_full(r->fd, buf, len, off);
}

static int raw_flush(struct block *b)
{
	return fdatasync(to_raw(b)->fd) < 0 ? -errno : 0;
}

static int raw_punch(struct block *b, uint64_t off, uint64_t len, int mode)
{
	if (!block_range_ok(b->size, off, len))
		return -EINVAL;
	if (len == 0)
		return 0;
	if (fallocate(to_raw(b)->fd, mode, (off_t)off, (off_t)len) == 0)
		return 0;
	return -errno;
}

static int raw_discard(struct block *b, uint64_t off, uint64_t len)
{
	int r = raw_punch(b, off, len, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE);
	/* Discard is advisory: a file system without hole punching keeps the data. */
	return r == -EOPNOTSUPP ? 0 : r;
}

static int raw_write_zeroes(struct block *b, uint64_t off, uint64_t len, bool may_unmap)
{
	int r = raw_punch(b, off, len,
			  may_unmap ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE : FALLOC_FL_ZERO_RANGE);
	if (r != -EOPNOTSUPP)
		return r;
	/* Fallback: write zeros in bounded chunks. */
	static const uint8_t zeros[65536];
	while (len) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		r = block_pwrite_full(to_raw(b)->fd, zeros, n, off);
		if (r < 0)
			return r;
		off += n;
		len -= n;
	}
	return 0;
}

static int raw_allocated(struct block *b, uint64_t *bytes)
{
	struct stat st;
	if (fstat(to_raw(b)->fd, &st) < 0)
		return -errno;
	*bytes = (uint64_t)st.st_blocks * 512;
	return 0;
}

static void raw_close(struct block *b)
{
	struct raw *r = to_raw(b);
	if (r->fd >= 0)
		close(r->fd);
	free(b->path);
	free(r);
}

static const struct block_ops raw_ops = {
	.read = raw_read,
	.write = raw_write,
	.flush = raw_flush,
	.discard = raw_discard,
	.write_zeroes = raw_write_zeroes,
	.allocated = raw_allocated,
	.close = raw_close,
};

int block_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0) { /* past the end of a sparse or short file: zeros */
			memset(p, 0, len);
			return 0;
		}
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int block_pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

bool block_looks_like_qcow2(const void *buf, size_t len, uint64_t off)
{
	static const uint8_t magic[4] = { 'Q', 'F', 'I', 0xfb };
	const uint8_t *p = buf;
	for (size_t i = 0; i < len && off + i < 4; i++)
		if (p[i] != magic[off + i])
			return false;
	return true;
}

int block_lock_fd(int fd, bool exclusive, const char *path, struct verr **err)
{
	struct flock fl = { .l_type = exclusive ? F_WRLCK : F_RDLCK, .l_whence = SEEK_SET };
	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	if (errno == EAGAIN || errno == EACCES)
		return verr_set(err, 0, "'%s' is in use: another process holds a lock on it", path);
	return verr_set(err, errno, "lock '%s'", path);
}

static int raw_open(const char *path, int fd, bool readonly, bool probed, struct block **out,
		    struct verr **err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return verr_set(err, errno, "stat '%s'", path);
	uint64_t size = (uint64_t)st.st_size;
	if (S_ISBLK(st.st_mode) && ioctl(fd, BLKGETSIZE64, &size) < 0)
		return verr_set(err, errno, "size of block device '%s'", path);
	if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode))
		return verr_set(err, 0, "'%s' is not a regular file or block device", path);
	struct raw *r = xcalloc(1, sizeof(*r));
	r->b.ops = &raw_ops;
	r->b.format = BLOCK_FMT_RAW;
	r->b.size = size;
	r->b.readonly = readonly;
	r->b.path = xstrdup(path);
	r->fd = fd;
	r->b.lock_fd = fd;
	r->probed = probed;
	*out = &r->b;
	return 0;
}

int block_open_depth(const char *path, enum block_format fmt, bool readonly, unsigned depth, unsigned flags,
		     struct block **out, struct verr **err)
{
	if (depth > BLOCK_MAX_CHAIN)
		return verr_set(err, 0, "backing chain deeper than %d images at '%s' (a loop?)",
				BLOCK_MAX_CHAIN, path);
	int fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return verr_set(err, errno, "open '%s'", path);
	if (!(flags & BLOCK_OPEN_NOLOCK) && block_lock_fd(fd, !readonly, path, err) < 0) {
		close(fd);
		return -1;
	}
	bool probed = fmt == BLOCK_FMT_AUTO;
	if (probed) {
		uint8_t hdr[4] = { 0 };
		int r = block_pread_full(fd, hdr, sizeof(hdr), 0);
		if (r < 0) {
			close(fd);
			return verr_set(err, -r, "read '%s'", path);
		}
		fmt = block_looks_like_qcow2(hdr, 4, 0) ? BLOCK_FMT_QCOW2 : BLOCK_FMT_RAW;
	}
	int r = fmt == BLOCK_FMT_QCOW2 ? qcow2_open_fd(path, fd, readonly, depth, out, err)
				       : raw_open(path, fd, readonly, probed, out, err);
	if (r < 0)
		close(fd);
	return r;
}

int block_open(const char *path, enum block_format fmt, bool readonly, struct block **out,
	       struct verr **err)
{
	return block_open_depth(path, fmt, readonly, 0, 0, out, err);
}

int block_open_ex(const char *path, enum block_format fmt, bool readonly, unsigned flags, struct block **out,
		  struct verr **err)
{
	return block_open_depth(path, fmt, readonly, 0, flags, out, err);
}

int block_unlock(struct block *b, struct verr **err)
{
	if (!b->readonly) {
		int r = block_flush(b);
		if (r < 0)
			return verr_set(err, -r, "flush '%s'", b->path);
	}
	struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET };
	if (fcntl(b->lock_fd, F_OFD_SETLK, &fl) < 0)
		return verr_set(err, errno, "unlock '%s'", b->path);
	return 0;
}

int block_relock(struct block *b, struct verr **err)
{
	return block_lock_fd(b->lock_fd, !b->readonly, b->path, err);
}

void block_close(struct block *b)
{
	if (!b)
		return;
	struct block *backing = b->backing;
	free(b->backing_path);
	free((void *)b->dirty_bm);
	b->ops->close(b);
	block_close(backing);
}

int block_format_parse(const char *s, enum block_format *out)
{
	if (strcmp(s, "raw") == 0)
		*out = BLOCK_FMT_RAW;
	else if (strcmp(s, "qcow2") == 0)
		*out = BLOCK_FMT_QCOW2;
	else
		return -1;
	return 0;
}

const char *block_format_name(enum block_format f)
{
	switch (f) {
	case BLOCK_FMT_RAW: return "raw";
	case BLOCK_FMT_QCOW2: return "qcow2";
	default: return "auto";
	}
}
