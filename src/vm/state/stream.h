/* Byte streams for snapshots and migration (in the style of Redis rio).
 *
 * One interface over three backends:
 *  - file: a writer goes to a temporary file next to the target and only
 *    replaces it on vstream_commit() (flush, fsync, rename, fsync of the
 *    directory), so a failed snapshot leaves the previous file intact;
 *    a reader is buffered, can skip by seeking and exposes its fd for mmap;
 *  - fd: any file descriptor (socket, pipe): buffered, never seeks;
 *  - memory: a growable buffer (writer) or a borrowed buffer (reader).
 *
 * Every stream counts the bytes it moved (vstream_pos) and keeps a running
 * CRC-32C (Castagnoli) of them that the format layer resets per
 * section. Functions return 0 or -errno; a read that hits the end of the
 * input early returns -ENODATA. Errors are sticky: after one failure every
 * later call fails the same way. A stream is used by one thread at a time.
 */
#ifndef VESSEL_VM_STATE_STREAM_H
#define VESSEL_VM_STATE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "base/err.h"
#include "base/util.h"

struct vstream;

/* Opens a writer that writes to a new temporary file in path's directory
 * (created with `mode`); path itself is only replaced by vstream_commit().
 * Destroying an uncommitted writer unlinks the temporary file. */
int vstream_file_writer(const char *path, mode_t mode, struct vstream **out, struct verr **err);

/* Opens path for reading. The stream knows the file size (vstream_size) and
 * its fd (vstream_fd) so that a restorer can mmap page data. */
int vstream_file_reader(const char *path, struct vstream **out, struct verr **err);

/* Wraps an fd (socket, pipe, or a file positioned at its start). `own`:
 * the stream closes fd when destroyed. Never seeks. */
struct vstream *vstream_fd_new(int fd, bool writable, bool own);

/* A writer into a growable memory buffer (read it with vstream_mem_data). */
struct vstream *vstream_mem_writer(void);

/* A reader over data[0..len), borrowed until the stream is destroyed. */
struct vstream *vstream_mem_reader(const void *data, size_t len);

/* The bytes written so far to a memory writer (borrowed; valid until the
 * next write or destroy). Returns NULL for other backends. */
const void *vstream_mem_data(const struct vstream *s, size_t *len);

/* Writes all len bytes. */
int vstream_write(struct vstream *s, const void *buf, size_t len) MUST_CHECK;

/* Reads exactly len bytes; -ENODATA if the input ends first. */
int vstream_read(struct vstream *s, void *buf, size_t len) MUST_CHECK;

/* Skips n input bytes; they still go through the running CRC unless
 * `checksum` is false, in which case a seekable reader seeks over them. */
int vstream_skip(struct vstream *s, uint64_t n, bool checksum) MUST_CHECK;

/* Pushes buffered output to the backend (not to the disk: see commit). */
int vstream_flush(struct vstream *s) MUST_CHECK;

/* Finishes a writer: flush; for files also fsync, rename over the target
 * and fsync the directory. Other backends: same as flush. */
int vstream_commit(struct vstream *s, struct verr **err);

/* Frees the stream; accepts NULL. An uncommitted file writer's temporary
 * file is removed, leaving any previous target untouched. */
void vstream_destroy(struct vstream *s);

/* Bytes read or written since the stream was opened (= file offset for file
 * streams and for fd streams over a file opened at offset 0). */
uint64_t vstream_pos(const struct vstream *s);

/* Total input size for file and memory readers, UINT64_MAX if unknown. */
uint64_t vstream_size(const struct vstream *s);

/* The backing fd of a file stream (or of an fd stream), else -1. Borrowed. */
int vstream_fd(const struct vstream *s);

/* CRC-32C (Castagnoli, as in iSCSI/ext4) of buf, continuing from crc; start
 * with 0. Uses the SSE4.2 instruction when the CPU has it. */
uint32_t state_crc32c(uint32_t crc, const void *buf, size_t len);

/* Running CRC-32C of the bytes moved since the last reset. */
void vstream_crc_reset(struct vstream *s);
uint32_t vstream_crc(const struct vstream *s);

/* Little-endian fixed-width integers (all formats here are little-endian). */
static inline void le16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline void le32_put(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline void le64_put(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t le16_get(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t le32_get(const uint8_t *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}
static inline uint64_t le64_get(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* A bounds-checked cursor for decoding a section payload that came from a
 * file or a socket. Reads past the end return 0 and set `bad`; check it
 * once at the end (like a stream's error flag). */
struct state_cursor {
	const uint8_t *p;
	size_t len, off;
	bool bad;
};

static inline void state_cursor_init(struct state_cursor *c, const void *p, size_t len)
{
	c->p = p;
	c->len = len;
	c->off = 0;
	c->bad = false;
}
static inline const uint8_t *state_cursor_take(struct state_cursor *c, size_t n)
{
	if (c->bad || n > c->len - c->off) {
		c->bad = true;
		return NULL;
	}
	const uint8_t *r = c->p + c->off;
	c->off += n;
	return r;
}
static inline uint8_t state_get_u8(struct state_cursor *c)
{
	const uint8_t *p = state_cursor_take(c, 1);
	return p ? p[0] : 0;
}
static inline uint16_t state_get_u16(struct state_cursor *c)
{
	const uint8_t *p = state_cursor_take(c, 2);
	return p ? le16_get(p) : 0;
}
static inline uint32_t state_get_u32(struct state_cursor *c)
{
	const uint8_t *p = state_cursor_take(c, 4);
	return p ? le32_get(p) : 0;
}
static inline uint64_t state_get_u64(struct state_cursor *c)
{
	const uint8_t *p = state_cursor_take(c, 8);
	return p ? le64_get(p) : 0;
}
static inline void state_get_bytes(struct state_cursor *c, void *dst, size_t n)
{
	const uint8_t *p = state_cursor_take(c, n);
	if (p)
		memcpy(dst, p, n);
	else
		memset(dst, 0, n);
}
/* True when the whole payload was consumed without running off its end. */
static inline bool state_cursor_done(const struct state_cursor *c)
{
	return !c->bad && c->off == c->len;
}

/* A growable little-endian encoder for building a section payload in memory
 * (device save functions). Aborts on OOM like xmalloc; sizes are ours. */
struct state_buf {
	uint8_t *p;
	size_t len, cap;
};
void state_put_bytes(struct state_buf *b, const void *src, size_t n);
void state_put_u8(struct state_buf *b, uint8_t v);
void state_put_u16(struct state_buf *b, uint16_t v);
void state_put_u32(struct state_buf *b, uint32_t v);
void state_put_u64(struct state_buf *b, uint64_t v);
/* Frees the buffer's memory and empties it. */
void state_buf_free(struct state_buf *b);

#endif
