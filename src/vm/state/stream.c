#include "vm/state/stream.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define VSTREAM_BUF_SIZE (256u * 1024)

/* Backend operations. Reads return a byte count (> 0), 0 at end of input,
 * or -errno; writes move all bytes or fail. The generic layer adds
 * buffering, position, CRC and sticky errors on top. */
struct vstream_ops {
	ssize_t (*read)(struct vstream *s, void *buf, size_t len);
	int (*write)(struct vstream *s, const void *buf, size_t len);
	/* seeks the backend forward by n bytes; NULL when it cannot seek */
	int (*seek_fwd)(struct vstream *s, uint64_t n);
	int (*commit)(struct vstream *s, struct verr **err);
	void (*destroy)(struct vstream *s);
};

struct vstream {
	const struct vstream_ops *ops;
	uint64_t pos;
	uint32_t crc;
	int error; /* sticky -errno, 0 while healthy */
	bool writable;
	int fd;
	bool own_fd;
	uint64_t size; /* input size if known */
	/* write buffer (writers) or read-ahead buffer (readers) of fd backends */
	uint8_t *buf;
	size_t buf_len, buf_off;
	/* memory backend */
	uint8_t *mem;
	size_t mem_len, mem_cap, mem_off;
	/* file writer */
	char *path, *tmp_path;
	bool committed;
};

/* ---- fd and file backends ---- */

static ssize_t fd_read(struct vstream *s, void *buf, size_t len)
{
	for (;;) {
		ssize_t r = read(s->fd, buf, len);
		if (r >= 0)
			return r;
		if (errno != EINTR)
			return -errno;
	}
}

static int fd_write(struct vstream *s, const void *buf, size_t len)
{
	return write_full(s->fd, buf, len);
}

static int fd_seek_fwd(struct vstream *s, uint64_t n)
{
	if (n > (uint64_t)INT64_MAX)
		return -EINVAL;
	if (lseek(s->fd, (off_t)n, SEEK_CUR) < 0)
		return -errno;
	return 0;
}

static void fd_destroy(struct vstream *s)
{
	if (s->own_fd && s->fd >= 0)
		close(s->fd);
	if (s->tmp_path && !s->committed)
		unlink(s->tmp_path);
	free(s->path);
	free(s->tmp_path);
}

static int fsync_dir_of(const char *path)
{
	char *copy = xstrdup(path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -errno;
	int r = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return r;
}

static int file_commit(struct vstream *s, struct verr **err)
{
	if (fsync(s->fd) < 0)
		return verr_set(err, errno, "fsync '%s'", s->tmp_path);
	if (rename(s->tmp_path, s->path) < 0)
		return verr_set(err, errno, "rename '%s' to '%s'", s->tmp_path, s->path);
	s->committed = true;
	int r = fsync_dir_of(s->path);
	if (r < 0)
		return verr_set(err, -r, "fsync directory of '%s'", s->path);
	return 0;
}

static const struct vstream_ops fd_ops = {
    .read = fd_read,
    .write = fd_write,
    .seek_fwd = NULL,
    .commit = NULL,
    .destroy = fd_destroy,
};

static const struct vstream_ops file_ops = {
    .read = fd_read,
    .write = fd_write,
    .seek_fwd = fd_seek_fwd,
    .commit = file_commit,
    .destroy = fd_destroy,
};

/* ---- memory backend ---- */

static ssize_t mem_read(struct vstream *s, void *buf, size_t len)
{
	size_t n = s->mem_len - s->mem_off;
	if (n > len)
		n = len;
	memcpy(buf, s->mem + s->mem_off, n);
	s->mem_off += n;
	return (ssize_t)n;
}

static int mem_write(struct vstream *s, const void *buf, size_t len)
{
	if (len > s->mem_cap - s->mem_len) {
		size_t cap = s->mem_cap ? s->mem_cap : 4096;
		while (len > cap - s->mem_len) {
			if (cap > SIZE_MAX / 2)
				return -ENOMEM;
			cap *= 2;
		}
		uint8_t *p = realloc(s->mem, cap);
		if (!p)
			return -ENOMEM;
		s->mem = p;
		s->mem_cap = cap;
	}
	memcpy(s->mem + s->mem_len, buf, len);
	s->mem_len += len;
	return 0;
}

static int mem_seek_fwd(struct vstream *s, uint64_t n)
{
	if (n > s->mem_len - s->mem_off)
		return -ENODATA;
	s->mem_off += (size_t)n;
	return 0;
}

static void mem_destroy(struct vstream *s)
{
	if (s->writable)
		free(s->mem);
}

static const struct vstream_ops mem_ops = {
    .read = mem_read,
    .write = mem_write,
    .seek_fwd = mem_seek_fwd,
    .commit = NULL,
    .destroy = mem_destroy,
};

/* ---- constructors ---- */

static struct vstream *vstream_alloc(const struct vstream_ops *ops, int fd, bool writable, bool own)
{
	struct vstream *s = xcalloc(1, sizeof(*s));
	s->ops = ops;
	s->fd = fd;
	s->own_fd = own;
	s->writable = writable;
	s->size = UINT64_MAX;
	s->crc = 0;
	if (ops != &mem_ops)
		s->buf = xmalloc(VSTREAM_BUF_SIZE);
	return s;
}

int vstream_file_writer(const char *path, mode_t mode, struct vstream **out, struct verr **err)
{
	char *tmp = xasprintf("%s.tmp.XXXXXX", path);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		free(tmp);
		return verr_set(err, e, "create temporary file for '%s'", path);
	}
	if (fchmod(fd, mode) < 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		free(tmp);
		return verr_set(err, e, "chmod '%s'", path);
	}
	struct vstream *s = vstream_alloc(&file_ops, fd, true, true);
	s->path = xstrdup(path);
	s->tmp_path = tmp;
	*out = s;
	return 0;
}

int vstream_file_reader(const char *path, struct vstream **out, struct verr **err)
{
	uint64_t size;
	int fd = open_regular_file(path, &size, err);
	if (fd < 0)
		return -1;
	struct vstream *s = vstream_alloc(&file_ops, fd, false, true);
	s->size = size;
	s->path = xstrdup(path);
	*out = s;
	return 0;
}

struct vstream *vstream_fd_new(int fd, bool writable, bool own)
{
	return vstream_alloc(&fd_ops, fd, writable, own);
}

struct vstream *vstream_mem_writer(void)
{
	return vstream_alloc(&mem_ops, -1, true, false);
}

struct vstream *vstream_mem_reader(const void *data, size_t len)
{
	struct vstream *s = vstream_alloc(&mem_ops, -1, false, false);
	s->mem = (uint8_t *)data; /* never written through: readers only read */
	s->mem_len = len;
	s->size = len;
	return s;
}

const void *vstream_mem_data(const struct vstream *s, size_t *len)
{
	if (s->ops != &mem_ops || !s->writable)
		return NULL;
	*len = s->mem_len;
	return s->mem;
}

/* ---- generic layer ---- */

static int fail(struct vstream *s, int e)
{
	if (!s->error)
		s->error = e;
	return s->error;
}

int vstream_flush(struct vstream *s)
{
	if (s->error)
		return s->error;
	if (!s->writable || !s->buf || !s->buf_len)
		return 0;
	int r = s->ops->write(s, s->buf, s->buf_len);
	if (r < 0)
		return fail(s, r);
	s->buf_len = 0;
	return 0;
}

int vstream_write(struct vstream *s, const void *buf, size_t len)
{
	if (s->error)
		return s->error;
	if (!s->writable)
		return fail(s, -EBADF);
	s->crc = state_crc32c(s->crc, buf, len);
	s->pos += len;
	if (!s->buf) {
		int r = s->ops->write(s, buf, len);
		return r < 0 ? fail(s, r) : 0;
	}
	if (len > VSTREAM_BUF_SIZE - s->buf_len) {
		int r = vstream_flush(s);
		if (r < 0)
			return r;
		if (len >= VSTREAM_BUF_SIZE) {
			r = s->ops->write(s, buf, len);
			return r < 0 ? fail(s, r) : 0;
		}
	}
	memcpy(s->buf + s->buf_len, buf, len);
	s->buf_len += len;
	return 0;
}

/* Reads up to len bytes through the read-ahead buffer: count, 0 at EOF. */
static ssize_t read_some(struct vstream *s, uint8_t *dst, size_t len)
{
	if (!s->buf)
		return s->ops->read(s, dst, len);
	if (s->buf_off == s->buf_len) {
		if (len >= VSTREAM_BUF_SIZE)
			return s->ops->read(s, dst, len);
		ssize_t r = s->ops->read(s, s->buf, VSTREAM_BUF_SIZE);
		if (r <= 0)
			return r;
		s->buf_len = (size_t)r;
		s->buf_off = 0;
	}
	size_t n = s->buf_len - s->buf_off;
	if (n > len)
		n = len;
	memcpy(dst, s->buf + s->buf_off, n);
	s->buf_off += n;
	return (ssize_t)n;
}

int vstream_read(struct vstream *s, void *buf, size_t len)
{
	if (s->error)
		return s->error;
	if (s->writable)
		return fail(s, -EBADF);
	uint8_t *p = buf;
	size_t left = len;
	while (left) {
		ssize_t r = read_some(s, p, left);
		if (r < 0)
			return fail(s, (int)r);
		if (r == 0)
			return fail(s, -ENODATA);
		p += r;
		left -= (size_t)r;
	}
	s->crc = state_crc32c(s->crc, buf, len);
	s->pos += len;
	return 0;
}

int vstream_skip(struct vstream *s, uint64_t n, bool checksum)
{
	if (s->error)
		return s->error;
	if (s->writable)
		return fail(s, -EBADF);
	if (!checksum && s->ops->seek_fwd) {
		if (s->size != UINT64_MAX && n > s->size - s->pos)
			return fail(s, -ENODATA);
		uint64_t inbuf = s->buf ? s->buf_len - s->buf_off : 0;
		if (n <= inbuf) {
			s->buf_off += (size_t)n;
		} else {
			if (s->buf)
				s->buf_off = s->buf_len;
			int r = s->ops->seek_fwd(s, n - inbuf);
			if (r < 0)
				return fail(s, r);
		}
		s->pos += n;
		return 0;
	}
	uint8_t tmp[16384];
	while (n) {
		size_t k = n < sizeof(tmp) ? (size_t)n : sizeof(tmp);
		int r = vstream_read(s, tmp, k);
		if (r < 0)
			return r;
		n -= k;
	}
	return 0;
}

int vstream_commit(struct vstream *s, struct verr **err)
{
	int r = vstream_flush(s);
	if (r < 0)
		return verr_set(err, -r, "write '%s'", s->path ? s->path : "stream");
	if (s->ops->commit)
		return s->ops->commit(s, err);
	return 0;
}

void vstream_destroy(struct vstream *s)
{
	if (!s)
		return;
	s->ops->destroy(s);
	free(s->buf);
	free(s);
}

uint64_t vstream_pos(const struct vstream *s)
{
	return s->pos;
}

uint64_t vstream_size(const struct vstream *s)
{
	return s->size;
}

int vstream_fd(const struct vstream *s)
{
	return s->fd;
}

void vstream_crc_reset(struct vstream *s)
{
	s->crc = 0;
}

uint32_t vstream_crc(const struct vstream *s)
{
	return s->crc;
}

/* ---- CRC-32C (Castagnoli, reflected polynomial 0x82f63b78) ----
 * zlib's crc32 runs at a few hundred MB/s here; SSE4.2's crc32 instruction
 * does several GB/s, which matters when a snapshot checksums all of RAM. */

static uint32_t crc32c_table[256];

static void crc32c_init_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
		crc32c_table[i] = c;
	}
}

static uint32_t crc32c_soft(uint32_t c, const uint8_t *p, size_t n)
{
	while (n--)
		c = crc32c_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t c, const uint8_t *p, size_t n)
{
	uint64_t c64 = c;
	while (n && ((uintptr_t)p & 7)) {
		c64 = __builtin_ia32_crc32qi((uint32_t)c64, *p++);
		n--;
	}
	while (n >= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		c64 = __builtin_ia32_crc32di(c64, v);
		p += 8;
		n -= 8;
	}
	while (n--)
		c64 = __builtin_ia32_crc32qi((uint32_t)c64, *p++);
	return (uint32_t)c64;
}
#endif

static uint32_t (*crc32c_impl)(uint32_t, const uint8_t *, size_t);
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;

static void crc32c_pick(void)
{
	crc32c_init_table();
	crc32c_impl = crc32c_soft;
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("sse4.2"))
		crc32c_impl = crc32c_hw;
#endif
}

uint32_t state_crc32c(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc32c_once, crc32c_pick);
	return ~crc32c_impl(~crc, buf, len);
}

/* ---- payload encoder ---- */

void state_put_bytes(struct state_buf *b, const void *src, size_t n)
{
	if (n == 0)
		return; /* b->p may still be NULL */
	if (n > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 256;
		while (n > cap - b->len)
			cap *= 2;
		b->p = xrealloc(b->p, cap);
		b->cap = cap;
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

void state_put_u8(struct state_buf *b, uint8_t v)
{
	state_put_bytes(b, &v, 1);
}

void state_put_u16(struct state_buf *b, uint16_t v)
{
	uint8_t t[2];
	le16_put(t, v);
	state_put_bytes(b, t, 2);
}

void state_put_u32(struct state_buf *b, uint32_t v)
{
	uint8_t t[4];
	le32_put(t, v);
	state_put_bytes(b, t, 4);
}

void state_put_u64(struct state_buf *b, uint64_t v)
{
	uint8_t t[8];
	le64_put(t, v);
	state_put_bytes(b, t, 8);
}

void state_buf_free(struct state_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
