/* Reading .deb packages with libarchive. A .deb is an ar archive holding
 * "debian-binary" ("2.0\n"), control.tar.* and data.tar.* (deb(5)); the data
 * member is read as a nested archive streamed from the outer one, so nothing
 * is unpacked to disk. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "image/image_int.h"

struct nested {
	struct archive *outer;
	char buf[1 << 16];
};

static la_ssize_t nested_read(struct archive *a, void *ud, const void **buf)
{
	struct nested *n = ud;
	*buf = n->buf;
	return archive_read_data(n->outer, n->buf, sizeof(n->buf));
}

int deb_read_data(struct archive *a, size_t max, void **out, size_t *len, struct verr **err)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = xmalloc(cap);
	for (;;) {
		if (n == cap) {
			if (cap >= max) {
				free(buf);
				return verr_set(err, 0, "member larger than %zu bytes", max);
			}
			cap = cap * 2 > max ? max : cap * 2;
			buf = xrealloc(buf, cap);
		}
		la_ssize_t r = archive_read_data(a, buf + n, cap - n);
		if (r < 0) {
			free(buf);
			return verr_set(err, 0, "%s", archive_error_string(a));
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	return 0;
}

static const char *norm_path(const char *p)
{
	while (p[0] == '.' && p[1] == '/')
		p += 2;
	while (p[0] == '/')
		p++;
	return p;
}

static int walk_data(struct archive *outer, const char *path, deb_entry_fn fn, void *ctx,
		     struct verr **err)
{
	struct nested *n = xmalloc(sizeof(*n));
	n->outer = outer;
	struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	int ret = 0;
	if (archive_read_open(a, n, NULL, nested_read, NULL) != ARCHIVE_OK) {
		ret = verr_set(err, 0, "'%s': data archive: %s", path, archive_error_string(a));
		goto out;
	}
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			ret = verr_set(err, 0, "'%s': data archive: %s", path, archive_error_string(a));
			goto out;
		}
		const char *name = archive_entry_pathname(e);
		if (!name)
			continue;
		if (fn(ctx, norm_path(name), archive_entry_mode(e), archive_entry_size(e),
		       archive_entry_symlink(e), a, err) < 0) {
			ret = verr_wrap(err, "'%s'", path);
			goto out;
		}
	}
out:
	archive_read_free(a);
	free(n);
	return ret;
}

int deb_walk(const char *path, deb_entry_fn fn, void *ctx, struct verr **err)
{
	struct archive *a = archive_read_new();
	archive_read_support_format_ar(a);
	int ret = 0;
	bool have_version = false, have_data = false;
	if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
		ret = verr_set(err, 0, "'%s': %s", path, archive_error_string(a));
		goto out;
	}
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			ret = verr_set(err, 0, "'%s': not a Debian package: %s", path,
				       archive_error_string(a));
			goto out;
		}
		const char *name = archive_entry_pathname(e);
		if (!name)
			continue;
		if (strcmp(name, "debian-binary") == 0) {
			char v[16] = "";
			la_ssize_t n = archive_read_data(a, v, sizeof(v) - 1);
			if (n < 4 || strncmp(v, "2.", 2) != 0) {
				ret = verr_set(err, 0, "'%s': unsupported package format version", path);
				goto out;
			}
			have_version = true;
		} else if (strncmp(name, "data.tar", 8) == 0) {
			if (!have_version) {
				ret = verr_set(err, 0, "'%s': data member before debian-binary", path);
				goto out;
			}
			have_data = true;
			if (walk_data(a, path, fn, ctx, err) < 0) {
				ret = -1;
				goto out;
			}
		}
	}
	if (!have_data)
		ret = verr_set(err, 0, "'%s': no data.tar member (not a Debian package?)", path);
out:
	archive_read_free(a);
	return ret;
}

static int decompress_archive(struct archive *a, const char *what, size_t max, void **out,
			      size_t *out_len, struct verr **err)
{
	struct archive_entry *e;
	int ret = 0;
	if (archive_read_next_header(a, &e) != ARCHIVE_OK) {
		ret = verr_set(err, 0, "%s: %s", what, archive_error_string(a));
		goto out;
	}
	if (deb_read_data(a, max, out, out_len, err) < 0)
		ret = verr_wrap(err, "%s: decompress", what);
out:
	archive_read_free(a);
	return ret;
}

static struct archive *raw_reader(void)
{
	struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	return a;
}

int decompress_buf(const void *in, size_t in_len, size_t max, void **out, size_t *out_len,
		   struct verr **err)
{
	struct archive *a = raw_reader();
	if (archive_read_open_memory(a, in, in_len) != ARCHIVE_OK) {
		verr_set(err, 0, "decompress: %s", archive_error_string(a));
		archive_read_free(a);
		return -1;
	}
	return decompress_archive(a, "buffer", max, out, out_len, err);
}

int decompress_file(const char *path, size_t max, void **out, size_t *out_len, struct verr **err)
{
	struct archive *a = raw_reader();
	if (archive_read_open_filename(a, path, 1 << 16) != ARCHIVE_OK) {
		verr_set(err, 0, "'%s': %s", path, archive_error_string(a));
		archive_read_free(a);
		return -1;
	}
	return decompress_archive(a, path, max, out, out_len, err);
}
