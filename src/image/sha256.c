/* SHA-256 through GLib's GChecksum (GLib is already linked via libslirp):
 * no hand-written crypto. */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "image/image_int.h"

static void checksum_done(GChecksum *c, uint8_t out[APT_SHA256_LEN])
{
	gsize n = APT_SHA256_LEN;
	g_checksum_get_digest(c, out, &n);
	g_checksum_free(c);
}

void sha256_buf(const void *data, size_t len, uint8_t out[APT_SHA256_LEN])
{
	GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
	const uint8_t *p = data;
	/* g_checksum_update takes a gssize length. */
	while (len) {
		size_t n = len > (1u << 30) ? (1u << 30) : len;
		g_checksum_update(c, p, (gssize)n);
		p += n;
		len -= n;
	}
	checksum_done(c, out);
}

int sha256_file(const char *path, uint8_t out[APT_SHA256_LEN], uint64_t *size)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
	static __thread uint8_t buf[1 << 16];
	uint64_t total = 0;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			g_checksum_free(c);
			return -e;
		}
		if (r == 0)
			break;
		g_checksum_update(c, buf, r);
		total += (uint64_t)r;
	}
	checksum_done(c, out);
	if (size)
		*size = total;
	return 0;
}

bool sha256_file_matches(const char *path, const uint8_t want[APT_SHA256_LEN], uint64_t size)
{
	uint8_t got[APT_SHA256_LEN];
	uint64_t n;
	return sha256_file(path, got, &n) == 0 && n == size && memcmp(got, want, sizeof(got)) == 0;
}
