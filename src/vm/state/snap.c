#include "vm/state/snap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"

/* Fixed offsets, see docs/snapshot-format.md. */
#define RAM_META_SIZE	24 /* ram_size u64, page_size u32, reserved u32, npresent u64 */
#define BATCH_HEAD_SIZE 8  /* page_size u32, count u32 */

static uint32_t crc_init(void)
{
	return 0;
}

static const char *errno_text(int e)
{
	return e == -ENODATA ? "stream is truncated" : NULL;
}

/* Turns a stream error into a verr naming what was being read/written. */
static int stream_err(struct verr **err, int r, const char *what)
{
	const char *t = errno_text(r);
	if (t)
		return verr_set(err, 0, "%s: %s", what, t);
	return verr_set(err, -r, "%s", what);
}

static bool name_valid(const char *name, size_t n)
{
	if (n == 0 || n > SNAP_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* ================= writer ================= */

struct snap_writer {
	struct vstream *s;
	uint32_t flags;
	bool in_section;
	bool finished;
	uint64_t left; /* payload bytes still owed by the open section */
	char name[SNAP_NAME_MAX + 1];
	uint8_t cur_hdr[SNAP_SECTION_HEADER_SIZE];
	uint64_t count;
	uint32_t chain;
	snap_progress_fn progress;
	void *progress_opaque;
	uint64_t ram_end;
};

void snap_writer_set_progress(struct snap_writer *w, snap_progress_fn fn, void *opaque)
{
	w->progress = fn;
	w->progress_opaque = opaque;
}

static void progress(struct snap_writer *w)
{
	if (w->progress)
		w->progress(w->progress_opaque, vstream_pos(w->s), w->ram_end);
}

int snap_writer_new(struct vstream *s, uint32_t flags, struct snap_writer **out, struct verr **err)
{
	if (flags & ~SNAP_F_KNOWN)
		return verr_set(err, EINVAL, "snapshot flags 0x%x", flags);
	uint8_t h[SNAP_HEADER_SIZE] = {0};
	memcpy(h, SNAP_MAGIC, 8);
	le16_put(h + 8, SNAP_MAJOR);
	le16_put(h + 10, SNAP_MINOR);
	le32_put(h + 12, flags);
	memcpy(h + 16, SNAP_ARCH, strlen(SNAP_ARCH));
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	le64_put(h + 32, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
	le32_put(h + 44, state_crc32c(crc_init(), h, 44));
	int r = vstream_write(s, h, sizeof(h));
	if (r < 0)
		return stream_err(err, r, "write snapshot header");
	struct snap_writer *w = xcalloc(1, sizeof(*w));
	w->s = s;
	w->flags = flags;
	w->chain = crc_init();
	*out = w;
	return 0;
}

static int section_begin(struct snap_writer *w, const char *name, uint32_t version, uint32_t flags,
			 uint64_t len, struct verr **err)
{
	if (w->in_section || w->finished)
		return verr_set(err, EINVAL, "section %s: another section is open or the stream is finished",
				name);
	size_t n = strlen(name);
	if (!name_valid(name, n))
		return verr_set(err, EINVAL, "section name '%s' is invalid", name);
	if (flags & ~SNAP_SEC_KNOWN)
		return verr_set(err, EINVAL, "section %s: flags 0x%x", name, flags);
	uint8_t *h = w->cur_hdr;
	memset(h, 0, SNAP_SECTION_HEADER_SIZE);
	memcpy(h, name, n);
	le32_put(h + 32, version);
	le32_put(h + 36, flags);
	le64_put(h + 40, len);
	le32_put(h + 52, state_crc32c(crc_init(), h, 52));
	int r = vstream_write(w->s, h, SNAP_SECTION_HEADER_SIZE);
	if (r < 0)
		return stream_err(err, r, "write section header");
	memcpy(w->name, name, n + 1);
	w->in_section = true;
	w->left = len;
	vstream_crc_reset(w->s);
	return 0;
}

int snap_section_begin(struct snap_writer *w, const char *name, uint32_t version, uint32_t flags,
		       uint64_t len, struct verr **err)
{
	if (!strcmp(name, "end") || !strcmp(name, "ram"))
		return verr_set(err, EINVAL, "section name '%s' is reserved", name);
	if (len > SNAP_MAX_SECTION)
		return verr_set(err, EFBIG, "section %s: %llu bytes is over the limit (%llu)", name,
				(unsigned long long)len, (unsigned long long)SNAP_MAX_SECTION);
	return section_begin(w, name, version, flags, len, err);
}

int snap_section_write(struct snap_writer *w, const void *data, size_t len, struct verr **err)
{
	if (!w->in_section || len > w->left)
		return verr_set(err, EINVAL, "section %s: write past its declared length", w->name);
	int r = vstream_write(w->s, data, len);
	if (r < 0)
		return stream_err(err, r, "write section");
	w->left -= len;
	progress(w);
	return 0;
}

int snap_section_end(struct snap_writer *w, struct verr **err)
{
	if (!w->in_section || w->left)
		return verr_set(err, EINVAL, "section %s: %llu bytes short of its declared length", w->name,
				(unsigned long long)w->left);
	uint8_t c[4];
	le32_put(c, vstream_crc(w->s));
	int r = vstream_write(w->s, c, 4);
	if (r < 0)
		return stream_err(err, r, "write section");
	if (strcmp(w->name, "end")) {
		w->chain = state_crc32c(w->chain, w->cur_hdr, SNAP_SECTION_HEADER_SIZE);
		w->chain = state_crc32c(w->chain, c, 4);
		w->count++;
	}
	w->in_section = false;
	return 0;
}

int snap_put_section(struct snap_writer *w, const char *name, uint32_t version, uint32_t flags,
		     const void *data, size_t len, struct verr **err)
{
	if (snap_section_begin(w, name, version, flags, len, err) < 0 ||
	    snap_section_write(w, data, len, err) < 0 || snap_section_end(w, err) < 0)
		return verr_wrap(err, "section %s", name);
	return 0;
}

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *q = (const uint64_t *)(const void *)p;
	uint64_t acc = 0;
	for (size_t i = 0; i < SNAP_PAGE_SIZE / 8; i += 8)
		acc |= q[i] | q[i + 1] | q[i + 2] | q[i + 3] | q[i + 4] | q[i + 5] | q[i + 6] | q[i + 7];
	return acc == 0;
}

static uint64_t pad_to_page(uint64_t pos)
{
	return (SNAP_PAGE_SIZE - pos % SNAP_PAGE_SIZE) % SNAP_PAGE_SIZE;
}

int snap_write_ram(struct snap_writer *w, const void *ram_hva, uint64_t ram_size, struct verr **err)
{
	return snap_write_ram_hinted(w, ram_hva, ram_size, NULL, err);
}

int snap_write_ram_hinted(struct snap_writer *w, const void *ram_hva, uint64_t ram_size, const uint8_t *populated,
			  struct verr **err)
{
	if (ram_size % SNAP_PAGE_SIZE || ram_size > SNAP_MAX_RAM)
		return verr_set(err, EINVAL, "section ram: RAM size %llu is not a page multiple up to 1 TiB",
				(unsigned long long)ram_size);
	const uint8_t *ram = ram_hva;
	uint64_t npages = ram_size / SNAP_PAGE_SIZE, npresent = 0;
	size_t bmlen = (size_t)((npages + 7) / 8);
	cleanup_free uint8_t *bm = xcalloc(1, bmlen ? bmlen : 1);
	for (uint64_t i = 0; i < npages; i++) {
		if (populated && !((populated[i / 8] >> (i % 8)) & 1))
			continue; /* never populated: zero, and not worth a page fault */
		if (!page_is_zero(ram + i * SNAP_PAGE_SIZE)) {
			bm[i / 8] |= (uint8_t)(1u << (i % 8));
			npresent++;
		}
	}
	uint8_t meta[RAM_META_SIZE] = {0};
	le64_put(meta, ram_size);
	le32_put(meta + 8, SNAP_PAGE_SIZE);
	le64_put(meta + 16, npresent);
	uint32_t mcrc = state_crc32c(crc_init(), meta, sizeof(meta));
	mcrc = state_crc32c(mcrc, bm, bmlen);
	uint8_t mc[4];
	le32_put(mc, mcrc);
	uint64_t data_start = vstream_pos(w->s) + SNAP_SECTION_HEADER_SIZE + RAM_META_SIZE + bmlen + 4;
	uint64_t pad = pad_to_page(data_start);
	uint64_t len = RAM_META_SIZE + bmlen + 4 + pad + npresent * SNAP_PAGE_SIZE;
	w->ram_end = vstream_pos(w->s) + SNAP_SECTION_HEADER_SIZE + len + 4;
	static const uint8_t zeros[SNAP_PAGE_SIZE];
	if (section_begin(w, "ram", 1, SNAP_SEC_REQUIRED, len, err) < 0 ||
	    snap_section_write(w, meta, sizeof(meta), err) < 0 || snap_section_write(w, bm, bmlen, err) < 0 ||
	    snap_section_write(w, mc, 4, err) < 0 || snap_section_write(w, zeros, (size_t)pad, err) < 0)
		return verr_wrap(err, "section ram");
	for (uint64_t i = 0; i < npages; i++) {
		if ((bm[i / 8] >> (i % 8)) & 1) {
			if (snap_section_write(w, ram + i * SNAP_PAGE_SIZE, SNAP_PAGE_SIZE, err) < 0)
				return verr_wrap(err, "section ram");
		}
	}
	if (snap_section_end(w, err) < 0)
		return verr_wrap(err, "section ram");
	return 0;
}

int snap_write_ram_batch(struct snap_writer *w, const uint64_t *pfns, const void *const *pages, size_t n,
			 struct verr **err)
{
	if (n > SNAP_MAX_BATCH)
		return verr_set(err, EINVAL, "section ram-batch: %zu pages is over the limit (%u)", n,
				SNAP_MAX_BATCH);
	uint64_t len = BATCH_HEAD_SIZE;
	for (size_t i = 0; i < n; i++) {
		if (pfns[i] & SNAP_PFN_ZERO)
			return verr_set(err, EINVAL, "section ram-batch: page number %llx out of range",
					(unsigned long long)pfns[i]);
		len += 8 + (pages[i] ? SNAP_PAGE_SIZE : 0);
	}
	uint8_t head[BATCH_HEAD_SIZE];
	le32_put(head, SNAP_PAGE_SIZE);
	le32_put(head + 4, (uint32_t)n);
	if (snap_section_begin(w, "ram-batch", 1, SNAP_SEC_REQUIRED, len, err) < 0 ||
	    snap_section_write(w, head, sizeof(head), err) < 0)
		return verr_wrap(err, "section ram-batch");
	for (size_t i = 0; i < n; i++) {
		uint8_t e[8];
		le64_put(e, pfns[i] | (pages[i] ? 0 : SNAP_PFN_ZERO));
		if (snap_section_write(w, e, 8, err) < 0 ||
		    (pages[i] && snap_section_write(w, pages[i], SNAP_PAGE_SIZE, err) < 0))
			return verr_wrap(err, "section ram-batch");
	}
	if (snap_section_end(w, err) < 0)
		return verr_wrap(err, "section ram-batch");
	return 0;
}

int snap_writer_finish(struct snap_writer *w, struct verr **err)
{
	uint8_t p[12];
	le64_put(p, w->count);
	le32_put(p + 8, w->chain);
	if (section_begin(w, "end", 1, SNAP_SEC_REQUIRED, sizeof(p), err) < 0 ||
	    snap_section_write(w, p, sizeof(p), err) < 0 || snap_section_end(w, err) < 0)
		return verr_wrap(err, "section end");
	w->finished = true;
	int r = vstream_flush(w->s);
	if (r < 0)
		return stream_err(err, r, "write snapshot");
	return 0;
}

void snap_writer_destroy(struct snap_writer *w)
{
	free(w);
}

/* ================= reader ================= */

enum ram_state { RAM_NONE, RAM_PENDING, RAM_DONE };

struct snap_reader {
	struct vstream *s;
	uint32_t flags;
	struct snap_header hdr;
	bool ended;
	uint8_t *buf; /* current section payload */
	size_t buf_cap;
	uint8_t *bitmap;
	uint8_t cur_hdr[SNAP_SECTION_HEADER_SIZE];
	char cur_name[SNAP_NAME_MAX + 1];
	uint64_t count;
	uint32_t chain;
	/* pending "ram" section */
	enum ram_state ram;
	uint64_t ram_size, ram_npresent, ram_data_off;
};

static bool size_left_ok(struct snap_reader *r, uint64_t n)
{
	uint64_t size = vstream_size(r->s);
	return size == UINT64_MAX || n <= size - vstream_pos(r->s);
}

int snap_reader_new(struct vstream *s, uint32_t flags, struct snap_reader **out, struct verr **err)
{
	uint8_t h[SNAP_HEADER_SIZE];
	int rc = vstream_read(s, h, 16);
	if (rc < 0) {
		if (rc == -ENODATA)
			return verr_set(err, 0, "not a Vessel snapshot (too short)");
		return stream_err(err, rc, "read snapshot header");
	}
	if (memcmp(h, SNAP_MAGIC, 8))
		return verr_set(err, 0, "not a Vessel snapshot (bad magic)");
	uint16_t major = le16_get(h + 8), minor = le16_get(h + 10);
	if (major > SNAP_MAJOR)
		return verr_set(err, 0, "format version %u.%u is newer than this build (%u.%u)", major, minor,
				SNAP_MAJOR, SNAP_MINOR);
	if (major < SNAP_MAJOR)
		return verr_set(err, 0, "format version %u.%u is no longer supported (this build reads %u.x)",
				major, minor, SNAP_MAJOR);
	rc = vstream_read(s, h + 16, SNAP_HEADER_SIZE - 16);
	if (rc < 0)
		return stream_err(err, rc, "read snapshot header");
	if (le32_get(h + 44) != state_crc32c(crc_init(), h, 44))
		return verr_set(err, 0, "snapshot header is corrupted (CRC mismatch)");
	struct snap_header hd = {.major = major, .minor = minor, .flags = le32_get(h + 12)};
	memcpy(hd.arch, h + 16, 16);
	hd.arch[16] = 0;
	hd.created_ns = le64_get(h + 32);
	if (strcmp(hd.arch, SNAP_ARCH) || memchr(h + 16, 0, 16) == NULL)
		return verr_set(err, 0, "snapshot is for architecture '%.16s', this build runs %s", hd.arch,
				SNAP_ARCH);
	if (hd.flags & ~SNAP_F_KNOWN)
		return verr_set(err, 0, "snapshot header flags 0x%x unknown to this build", hd.flags);
	if (le32_get(h + 40))
		return verr_set(err, 0, "snapshot header: reserved field is not zero");
	struct snap_reader *r = xcalloc(1, sizeof(*r));
	r->s = s;
	r->flags = flags;
	r->hdr = hd;
	r->chain = crc_init();
	*out = r;
	return 0;
}

const struct snap_header *snap_reader_header(const struct snap_reader *r)
{
	return &r->hdr;
}

/* Reads the 4-byte payload CRC that closes the current section and folds
 * it into the chain; `check` compares it with the running CRC. */
static int section_close(struct snap_reader *r, bool check, bool chain, struct verr **err)
{
	uint32_t got = vstream_crc(r->s);
	uint8_t c[4];
	int rc = vstream_read(r->s, c, 4);
	if (rc < 0)
		return stream_err(err, rc, "read section CRC");
	if (check && le32_get(c) != got)
		return verr_set(err, 0, "payload is corrupted (CRC mismatch)");
	if (!chain)
		return 0;
	r->chain = state_crc32c(r->chain, r->cur_hdr, SNAP_SECTION_HEADER_SIZE);
	r->chain = state_crc32c(r->chain, c, 4);
	r->count++;
	return 0;
}

/* Finishes a "ram" section the caller did not load or map. */
static int ram_finish(struct snap_reader *r, struct verr **err)
{
	bool lazy = r->flags & SNAP_R_LAZY_RAM;
	int rc = vstream_skip(r->s, r->ram_npresent * SNAP_PAGE_SIZE, !lazy);
	if (rc < 0)
		return stream_err(err, rc, "read page data");
	r->ram = RAM_DONE;
	return section_close(r, !lazy, true, err);
}

/* Reads n payload bytes into r->buf, growing it as data actually arrives,
 * so a hostile length costs memory only if the bytes are really there. */
static int read_payload(struct snap_reader *r, uint64_t n, struct verr **err)
{
	size_t got = 0;
	while (got < n) {
		size_t chunk = n - got < (1u << 20) ? (size_t)(n - got) : (1u << 20);
		if (got + chunk > r->buf_cap) {
			size_t cap = r->buf_cap ? r->buf_cap : 4096;
			while (cap < got + chunk)
				cap *= 2;
			r->buf = xrealloc(r->buf, cap);
			r->buf_cap = cap;
		}
		int rc = vstream_read(r->s, r->buf + got, chunk);
		if (rc < 0)
			return stream_err(err, rc, "read payload");
		got += chunk;
	}
	return 0;
}

static int read_ram_meta(struct snap_reader *r, uint64_t len, struct snap_section *sec, struct verr **err)
{
	uint8_t meta[RAM_META_SIZE];
	int rc = vstream_read(r->s, meta, sizeof(meta));
	if (rc < 0)
		return stream_err(err, rc, "read payload");
	uint64_t ram_size = le64_get(meta);
	uint32_t ps = le32_get(meta + 8);
	uint64_t npresent = le64_get(meta + 16);
	if (ps != SNAP_PAGE_SIZE)
		return verr_set(err, 0, "page size %u is not supported (%u)", ps, SNAP_PAGE_SIZE);
	if (ram_size == 0 || ram_size % ps || ram_size > SNAP_MAX_RAM)
		return verr_set(err, 0, "RAM size %llu is invalid", (unsigned long long)ram_size);
	if (le32_get(meta + 12))
		return verr_set(err, 0, "reserved field is not zero");
	uint64_t npages = ram_size / ps;
	if (npresent > npages)
		return verr_set(err, 0, "%llu stored pages for %llu pages of RAM",
				(unsigned long long)npresent, (unsigned long long)npages);
	size_t bmlen = (size_t)((npages + 7) / 8);
	uint64_t data_start = vstream_pos(r->s) + bmlen + 4;
	uint64_t pad = pad_to_page(data_start);
	if (len != RAM_META_SIZE + bmlen + 4 + pad + npresent * ps)
		return verr_set(err, 0, "length %llu does not match its contents", (unsigned long long)len);
	if (!size_left_ok(r, len - RAM_META_SIZE + 4))
		return verr_set(err, 0, "stream is truncated");
	free(r->bitmap);
	r->bitmap = NULL;
	/* bitmaps are at most 32 MiB (1 TiB of RAM): read it in pieces so a
	 * short stream fails before the whole allocation is touched */
	if (read_payload(r, bmlen, err) < 0)
		return -1;
	r->bitmap = xmalloc(bmlen);
	memcpy(r->bitmap, r->buf, bmlen);
	uint8_t mc[4];
	rc = vstream_read(r->s, mc, 4);
	if (rc < 0)
		return stream_err(err, rc, "read payload");
	uint32_t mcrc = state_crc32c(crc_init(), meta, sizeof(meta));
	mcrc = state_crc32c(mcrc, r->bitmap, bmlen);
	if (le32_get(mc) != mcrc)
		return verr_set(err, 0, "page bitmap is corrupted (CRC mismatch)");
	uint64_t count = 0;
	for (size_t i = 0; i < bmlen; i++)
		count += (uint64_t)__builtin_popcount(r->bitmap[i]);
	if (npages % 8 && (r->bitmap[bmlen - 1] >> (npages % 8)))
		return verr_set(err, 0, "page bitmap has bits past the end of RAM");
	if (count != npresent)
		return verr_set(err, 0, "page bitmap counts %llu pages, header says %llu",
				(unsigned long long)count, (unsigned long long)npresent);
	uint8_t zeros[SNAP_PAGE_SIZE];
	if (pad) {
		rc = vstream_read(r->s, zeros, (size_t)pad);
		if (rc < 0)
			return stream_err(err, rc, "read payload");
		for (uint64_t i = 0; i < pad; i++)
			if (zeros[i])
				return verr_set(err, 0, "padding is not zero");
	}
	sec->is_ram = true;
	sec->ram_size = ram_size;
	sec->page_size = ps;
	sec->npresent = npresent;
	sec->bitmap = r->bitmap;
	sec->data_off = vstream_pos(r->s);
	r->ram = RAM_PENDING;
	r->ram_size = ram_size;
	r->ram_npresent = npresent;
	r->ram_data_off = sec->data_off;
	return 0;
}

static int verify_end(struct snap_reader *r, const uint8_t *p, uint64_t len, struct verr **err)
{
	if (len != 12)
		return verr_set(err, 0, "end section has length %llu", (unsigned long long)len);
	if (le64_get(p) != r->count)
		return verr_set(err, 0, "stream has %llu sections, end section says %llu",
				(unsigned long long)r->count, (unsigned long long)le64_get(p));
	if (le32_get(p + 8) != r->chain)
		return verr_set(err, 0, "stream checksum mismatch (sections dropped or reordered)");
	uint64_t size = vstream_size(r->s);
	if (size != UINT64_MAX && vstream_pos(r->s) != size)
		return verr_set(err, 0, "%llu bytes of garbage after the end section",
				(unsigned long long)(size - vstream_pos(r->s)));
	return 0;
}

int snap_reader_next(struct snap_reader *r, struct snap_section *sec, struct verr **err)
{
	if (r->ended)
		return 0;
	if (r->ram == RAM_PENDING && ram_finish(r, err) < 0)
		return verr_wrap(err, "section ram");
	r->ram = RAM_NONE;
	uint8_t *h = r->cur_hdr;
	int rc = vstream_read(r->s, h, SNAP_SECTION_HEADER_SIZE);
	if (rc < 0) {
		stream_err(err, rc, "read section header");
		return verr_wrap(err, "after section %llu", (unsigned long long)r->count);
	}
	if (le32_get(h + 52) != state_crc32c(crc_init(), h, 52))
		return verr_set(err, 0, "section header at offset %llu is corrupted (CRC mismatch)",
				(unsigned long long)(vstream_pos(r->s) - SNAP_SECTION_HEADER_SIZE));
	size_t n = strnlen((const char *)h, 32);
	if (n == 32 || !name_valid((const char *)h, n))
		return verr_set(err, 0, "section header at offset %llu has an invalid name",
				(unsigned long long)(vstream_pos(r->s) - SNAP_SECTION_HEADER_SIZE));
	for (size_t i = n; i < 32; i++)
		if (h[i])
			return verr_set(err, 0, "section %.31s: name is not zero-padded", (const char *)h);
	memset(sec, 0, sizeof(*sec));
	memcpy(sec->name, h, n);
	sec->name[n] = 0;
	memcpy(r->cur_name, sec->name, n + 1);
	sec->version = le32_get(h + 32);
	sec->flags = le32_get(h + 36);
	sec->len = le64_get(h + 40);
	if (sec->flags & ~SNAP_SEC_KNOWN)
		return verr_set(err, 0, "section %s: flags 0x%x unknown to this build", sec->name,
				sec->flags);
	if (le32_get(h + 48))
		return verr_set(err, 0, "section %s: reserved field is not zero", sec->name);
	vstream_crc_reset(r->s);
	if (!strcmp(sec->name, "ram")) {
		if (sec->version != 1)
			return snap_section_check_version(sec, 1, err);
		if (r->hdr.flags & SNAP_F_STREAM)
			return verr_set(err, 0, "section ram: not allowed in a migration stream");
		if (read_ram_meta(r, sec->len, sec, err) < 0)
			return verr_wrap(err, "section ram");
		return 1;
	}
	if (sec->len > SNAP_MAX_SECTION)
		return verr_set(err, 0, "section %s: length %llu is over the limit (%llu)", sec->name,
				(unsigned long long)sec->len, (unsigned long long)SNAP_MAX_SECTION);
	if (!size_left_ok(r, sec->len + 4))
		return verr_set(err, 0, "section %s: stream is truncated", sec->name);
	bool is_end = !strcmp(sec->name, "end");
	if (read_payload(r, sec->len, err) < 0 || section_close(r, true, !is_end, err) < 0)
		return verr_wrap(err, "section %s", sec->name);
	sec->data = r->buf ? r->buf : (const uint8_t *)"";
	if (is_end) {
		if (sec->version != 1 || verify_end(r, sec->data, sec->len, err) < 0)
			return verr_wrap(err, "section end");
		r->ended = true;
		return 0;
	}
	return 1;
}

int snap_ram_load(struct snap_reader *r, void *ram_hva, uint64_t ram_size, struct verr **err)
{
	if (r->ram != RAM_PENDING)
		return verr_set(err, EINVAL, "section ram: no RAM section to load");
	if (ram_size != r->ram_size)
		return verr_set(err, 0, "section ram: snapshot has %llu bytes of RAM, the VM %llu",
				(unsigned long long)r->ram_size, (unsigned long long)ram_size);
	uint8_t *ram = ram_hva;
	uint64_t npages = ram_size / SNAP_PAGE_SIZE;
	for (uint64_t i = 0; i < npages; i++) {
		if (!((r->bitmap[i / 8] >> (i % 8)) & 1))
			continue;
		int rc = vstream_read(r->s, ram + i * SNAP_PAGE_SIZE, SNAP_PAGE_SIZE);
		if (rc < 0) {
			stream_err(err, rc, "read page data");
			return verr_wrap(err, "section ram");
		}
	}
	r->ram = RAM_DONE;
	if (section_close(r, true, true, err) < 0)
		return verr_wrap(err, "section ram");
	return 0;
}

/* The next run of present pages in a RAM bitmap at or after *end: sets
 * [*start, *end) and returns true, or false when no page is left. */
static bool next_run(const uint8_t *bm, uint64_t npages, uint64_t *start, uint64_t *end)
{
	uint64_t i = *end;
	while (i < npages && !((bm[i / 8] >> (i % 8)) & 1))
		i++;
	if (i >= npages)
		return false;
	uint64_t j = i;
	while (j < npages && ((bm[j / 8] >> (j % 8)) & 1))
		j++;
	*start = i;
	*end = j;
	return true;
}

int snap_ram_map(struct snap_reader *r, void *ram_hva, uint64_t ram_size, unsigned max_maps, unsigned *nmaps,
		 struct verr **err)
{
	if (r->ram != RAM_PENDING)
		return verr_set(err, EINVAL, "section ram: no RAM section to map");
	if (!(r->flags & SNAP_R_LAZY_RAM))
		return verr_set(err, EINVAL, "section ram: mapping needs a lazy reader");
	int fd = vstream_fd(r->s);
	uint64_t size = vstream_size(r->s);
	if (fd < 0 || size == UINT64_MAX)
		return verr_set(err, EINVAL, "section ram: stream is not a file, cannot map");
	if (ram_size != r->ram_size)
		return verr_set(err, 0, "section ram: snapshot has %llu bytes of RAM, the VM %llu",
				(unsigned long long)r->ram_size, (unsigned long long)ram_size);
	if (r->ram_data_off % (uint64_t)sysconf(_SC_PAGESIZE))
		return verr_set(err, 0, "section ram: page data is not aligned to the host page size");
	/* read_ram_meta checked that the data and its CRC fit in the file */
	uint8_t *ram = ram_hva;
	uint64_t npages = ram_size / SNAP_PAGE_SIZE;
	const uint8_t *bm = r->bitmap;
	uint64_t i, j;
	/* smallest run length that keeps the number of mappings <= max_maps */
	uint64_t min_run = 1;
	for (;;) {
		uint64_t runs = 0;
		for (j = 0; next_run(bm, npages, &i, &j);)
			if (j - i >= min_run)
				runs++;
		if (runs <= max_maps || min_run > npages)
			break;
		min_run *= 2;
	}
	unsigned maps = 0;
	uint64_t rank = 0;
	for (j = 0; next_run(bm, npages, &i, &j); rank += j - i) {
		uint64_t off = r->ram_data_off + rank * SNAP_PAGE_SIZE;
		size_t len = (size_t)((j - i) * SNAP_PAGE_SIZE);
		uint8_t *dst = ram + i * SNAP_PAGE_SIZE;
		if (j - i >= min_run) {
			if (mmap(dst, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, (off_t)off) ==
			    MAP_FAILED)
				return verr_set(err, errno, "section ram: mmap page data");
			maps++;
		} else {
			int rc = pread_full(fd, dst, len, off);
			if (rc < 0)
				return verr_set(err, -rc, "section ram: read page data%s",
						rc == -EIO ? " (stream truncated?)" : "");
		}
	}
	if (nmaps)
		*nmaps = maps;
	if (ram_finish(r, err) < 0)
		return verr_wrap(err, "section ram");
	return 0;
}

int snap_ram_batch_foreach(const struct snap_section *sec,
			   int (*fn)(void *opaque, uint64_t pfn, const void *page), void *opaque,
			   struct verr **err)
{
	struct state_cursor c;
	state_cursor_init(&c, sec->data, (size_t)sec->len);
	uint32_t ps = state_get_u32(&c), n = state_get_u32(&c);
	if (c.bad || ps != SNAP_PAGE_SIZE || n > SNAP_MAX_BATCH)
		return verr_set(err, 0, "section ram-batch: bad header");
	for (uint32_t i = 0; i < n; i++) {
		uint64_t e = state_get_u64(&c);
		const void *page = NULL;
		if (!(e & SNAP_PFN_ZERO))
			page = state_cursor_take(&c, ps);
		if (c.bad)
			return verr_set(err, 0, "section ram-batch: entry %u runs past the end", i);
		int r = fn(opaque, e & ~SNAP_PFN_ZERO, page);
		if (r)
			return r;
	}
	if (!state_cursor_done(&c))
		return verr_set(err, 0, "section ram-batch: %zu bytes left over", c.len - c.off);
	return 0;
}

int snap_section_check_version(const struct snap_section *sec, uint32_t supported, struct verr **err)
{
	if (sec->version > supported)
		return verr_set(err, 0, "section %s: version %u is newer than this build (%u)", sec->name,
				sec->version, supported);
	if (sec->version == 0)
		return verr_set(err, 0, "section %s: version 0 is invalid", sec->name);
	return 0;
}

int snap_section_unknown(const struct snap_section *sec, struct verr **err)
{
	if (sec->flags & SNAP_SEC_REQUIRED)
		return verr_set(err, 0, "section %s: required by the snapshot but unknown to this build",
				sec->name);
	return 0;
}

void snap_reader_destroy(struct snap_reader *r)
{
	if (!r)
		return;
	free(r->buf);
	free(r->bitmap);
	free(r);
}
