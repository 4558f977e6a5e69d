/* HTTP downloads with libcurl: streamed to a ".part" file, hashed on the
 * way, renamed into place only when size and SHA-256 match. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/util.h"
#include "image/image_int.h"

struct fetch {
	CURL *curl;
	const struct image_pull_opts *o;
	unsigned files;
	uint64_t bytes;
};

/* State of one transfer. */
struct xfer {
	struct fetch *f;
	const char *what;
	int fd;
	int werr;          /* errno of a failed write */
	bool too_big;
	bool checked_length;
	uint64_t want;     /* size the index lists, 0 when unknown */
	uint64_t announced; /* Content-Length that disagreed with `want` */
	uint64_t got, max, total;
	uint64_t start_ns, last_report_ns;
	GChecksum *sum;
};

struct fetch *fetch_new(const struct image_pull_opts *o)
{
	static bool global_done;
	if (!global_done) {
		/* Not thread-safe by libcurl's contract; the CLI calls it once. */
		curl_global_init(CURL_GLOBAL_DEFAULT);
		global_done = true;
	}
	struct fetch *f = xcalloc(1, sizeof(*f));
	f->o = o;
	f->curl = curl_easy_init();
	if (!f->curl) {
		free(f);
		return NULL;
	}
	return f;
}

void fetch_destroy(struct fetch *f)
{
	if (!f)
		return;
	curl_easy_cleanup(f->curl);
	free(f);
}

void fetch_stats(const struct fetch *f, unsigned *files, uint64_t *bytes)
{
	*files = f->files;
	*bytes = f->bytes;
}

static void report(struct xfer *x, bool force)
{
	const struct image_pull_opts *o = x->f->o;
	uint64_t now = now_ns();
	if (!o->progress || (!force && now - x->last_report_ns < 200000000ull))
		return;
	x->last_report_ns = now;
	o->progress(o->cb_ctx, x->what, x->got, x->total, now - x->start_ns);
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;
	if (!x->checked_length) {
		/* A server announcing another size than the index lists (a
		 * mirror mid-update) is not worth downloading. */
		x->checked_length = true;
		curl_off_t cl = -1;
		if (x->want &&
		    curl_easy_getinfo(x->f->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK &&
		    cl >= 0 && (uint64_t)cl != x->want) {
			x->announced = (uint64_t)cl;
			return 0;
		}
	}
	if (x->got + n > x->max) {
		x->too_big = true;
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	}
	int r = write_full(x->fd, ptr, n);
	if (r < 0) {
		x->werr = -r;
		return 0;
	}
	g_checksum_update(x->sum, (const guchar *)ptr, (gssize)n);
	x->got += n;
	report(x, false);
	return n;
}

static int on_header_total(struct xfer *x)
{
	curl_off_t cl = -1;
	if (curl_easy_getinfo(x->f->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK &&
	    cl > 0 && !x->total)
		x->total = (uint64_t)cl;
	return 0;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct xfer *x = ud;
	if (!x->total && dltotal > 0)
		on_header_total(x);
	return 0;
}

int fetch_file(struct fetch *f, const char *url, const char *path, uint64_t max_size,
	       const uint8_t *want_sha256, uint64_t want_size, struct verr **err)
{
	return fetch_file_as(f, NULL, url, path, max_size, want_sha256, want_size, err);
}

int fetch_file_as(struct fetch *f, const char *label, const char *url, const char *path,
		  uint64_t max_size, const uint8_t *want_sha256, uint64_t want_size,
		  struct verr **err)
{
	cleanup_free char *part = xasprintf("%s.part", path);
	const char *what = label ? label : strrchr(url, '/') ? strrchr(url, '/') + 1 : url;
	struct xfer x = {
		.f = f, .what = what, .max = want_sha256 ? want_size : max_size,
		.total = want_sha256 ? want_size : 0, .start_ns = now_ns(),
		.want = want_sha256 ? want_size : 0,
	};
	x.fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (x.fd < 0)
		return verr_set(err, errno, "create '%s'", part);
	x.sum = g_checksum_new(G_CHECKSUM_SHA256);
	char curl_msg[CURL_ERROR_SIZE] = "";
	CURL *c = f->curl;
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	/* A stalled mirror fails instead of hanging: < 1 KB/s for 60 s. */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "vessel/" VESSEL_VERSION);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_msg);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, &x);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	CURLcode rc = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	uint8_t got_sum[APT_SHA256_LEN];
	gsize sum_len = sizeof(got_sum);
	g_checksum_get_digest(x.sum, got_sum, &sum_len);
	g_checksum_free(x.sum);
	f->bytes += x.got;
	int ret = 0;
	if (x.announced) {
		ret = verr_set(err, 0, "%s: got %llu bytes, the index lists %llu (Content-Length; "
				       "transfer stopped)",
			       url, (unsigned long long)x.announced, (unsigned long long)want_size);
	} else if (x.too_big) {
		ret = want_sha256 ? verr_set(err, 0, "%s: larger than the %llu bytes the index lists",
					     url, (unsigned long long)want_size)
				  : verr_set(err, 0, "%s: larger than %llu bytes", url,
					     (unsigned long long)max_size);
	} else if (x.werr) {
		ret = verr_set(err, x.werr, "write '%s'", part);
	} else if (rc == CURLE_HTTP_RETURNED_ERROR) {
		ret = verr_set(err, 0, "%s: HTTP %ld%s", url, status,
			       status == 404 ? " (not found)" : "");
	} else if (rc != CURLE_OK) {
		ret = verr_set(err, 0, "%s: %s", url, curl_msg[0] ? curl_msg : curl_easy_strerror(rc));
	} else if (want_sha256 && x.got != want_size) {
		ret = verr_set(err, 0, "%s: got %llu bytes, the index lists %llu", url,
			       (unsigned long long)x.got, (unsigned long long)want_size);
	} else if (want_sha256 && memcmp(got_sum, want_sha256, APT_SHA256_LEN) != 0) {
		char a[65], b[65];
		apt_sha256_hex(got_sum, a);
		apt_sha256_hex(want_sha256, b);
		ret = verr_set(err, 0, "%s: SHA256 mismatch: got %s, the index lists %s", url, a, b);
	} else if (fsync(x.fd) < 0) {
		ret = verr_set(err, errno, "fsync '%s'", part);
	}
	report(&x, true);
	close(x.fd);
	if (ret == 0 && rename(part, path) < 0)
		ret = verr_set(err, errno, "rename '%s'", part);
	if (ret < 0) {
		unlink(part);
		return rc == CURLE_HTTP_RETURNED_ERROR && status == 404 ? -2 : -1;
	}
	f->files++;
	return 0;
}
