/* Small helpers shared by every module: allocation that aborts on OOM
 * (only for small, trusted sizes; sizes from guests or files are checked
 * before they get here), cleanup attributes, safe I/O loops. */
#ifndef VESSEL_BASE_UTIL_H
#define VESSEL_BASE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MUST_CHECK __attribute__((warn_unused_result))
#define UNUSED __attribute__((unused))
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* cleanup helpers (crun style): the variable is released when it leaves scope;
 * take_ptr()/take_fd() hand ownership out and leave NULL/-1 behind. */
void cleanup_freep(void *p);
void cleanup_closep(int *fd);
#define cleanup_free __attribute__((cleanup(cleanup_freep)))
#define cleanup_close __attribute__((cleanup(cleanup_closep)))
#define take_ptr(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })
#define take_fd(fd) ({ int _t = (fd); (fd) = -1; _t; })

/* Read/write exactly len bytes, retrying on EINTR and short transfers.
 * Return 0, or -errno (-EIO for an early EOF on read). */
int read_full(int fd, void *buf, size_t len) MUST_CHECK;
int write_full(int fd, const void *buf, size_t len) MUST_CHECK;
/* The same at file offset off (pread). */
int pread_full(int fd, void *buf, size_t len, uint64_t off) MUST_CHECK;

/* Reads a whole file (at most max_len bytes) into a malloc'd buffer with a
 * trailing NUL not counted in *len. Returns 0 or -errno (-EFBIG if larger). */
int read_file(const char *path, size_t max_len, char **out, size_t *len) MUST_CHECK;

struct verr;
/* Opens an existing regular file read-only (O_CLOEXEC). Returns the fd with
 * *size set, or -1 with *err ("open 'x': ...", "'x' is not a regular file"). */
int open_regular_file(const char *path, uint64_t *size, struct verr **err);

/* Writes data to path atomically: temporary file in the same directory,
 * fsync, rename, fsync of the directory. Returns 0 or -errno. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode) MUST_CHECK;

/* Parses a size like "256M", "1G", "4096", "2k" (binary units).
 * Returns 0 or -EINVAL / -ERANGE. */
int parse_size(const char *s, uint64_t *out) MUST_CHECK;

/* Monotonic clock in nanoseconds. */
uint64_t now_ns(void);

#endif
