/* The Vessel snapshot / migration stream format (docs/snapshot-format.md).
 *
 *   header  "VESSELSN", major.minor, flags, architecture, created time, CRC
 *   section name (<= 31 bytes), version, flags, length, header CRC,
 *           payload, payload CRC           ... repeated
 *   "end"   section count and a CRC chained over every section's header and
 *           payload CRC, so a dropped or reordered section is detected
 *
 * Snapshots put RAM in one "ram" section whose page data starts page-aligned
 * in the file (zero pages are not stored; a bitmap says which pages are), so
 * a restorer can mmap(MAP_PRIVATE) it. Migration streams (SNAP_F_STREAM) send
 * RAM as "ram-batch" sections of (page number, data) as pages come, and never
 * seek. Both are written and read through a struct vstream.
 *
 * Readers treat input as hostile: names, lengths and RAM sizes are bounded,
 * every byte handed to the caller has been CRC-checked first (except page
 * data mapped lazily, see snap_ram_map), and a newer major version or an
 * unknown required section is refused with an error naming it.
 */
#ifndef VESSEL_VM_STATE_SNAP_H
#define VESSEL_VM_STATE_SNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "vm/state/stream.h"

#define SNAP_MAGIC		 "VESSELSN"
#define SNAP_MAJOR		 1
#define SNAP_MINOR		 0
#define SNAP_ARCH		 "riscv64"
#define SNAP_HEADER_SIZE	 48
#define SNAP_SECTION_HEADER_SIZE 56
#define SNAP_NAME_MAX		 31
#define SNAP_PAGE_SIZE		 4096u
/* Largest section a reader buffers in memory (device state, RAM batches). */
#define SNAP_MAX_SECTION (64ull << 20)
/* Largest guest RAM a "ram" section may describe (1 TiB). */
#define SNAP_MAX_RAM (1ull << 40)
/* Most pages in one "ram-batch" section. */
#define SNAP_MAX_BATCH 4096u

/* Stream flags (header). */
#define SNAP_F_STREAM 0x1u /* migration stream: RAM comes as ram-batch sections */
#define SNAP_F_KNOWN  SNAP_F_STREAM

/* Section flags. */
#define SNAP_SEC_REQUIRED 0x1u /* a reader that does not know it must refuse */
#define SNAP_SEC_KNOWN	  SNAP_SEC_REQUIRED

/* In a ram-batch entry, this bit of the page number marks a zero page: no
 * data follows the entry. */
#define SNAP_PFN_ZERO (1ull << 63)

struct snap_header {
	uint16_t major, minor;
	uint32_t flags;
	char arch[17];
	uint64_t created_ns; /* CLOCK_REALTIME at creation, ns since the epoch */
};

/* ---- writing ---- */

struct snap_writer;

/* Writes the stream header to s (borrowed until snap_writer_destroy) and
 * returns a writer. flags: SNAP_F_*. */
int snap_writer_new(struct vstream *s, uint32_t flags, struct snap_writer **out, struct verr **err);

/* Bytes of the "end" section snap_writer_finish writes (header, count and
 * chain CRC, payload CRC). */
#define SNAP_END_SECTION_SIZE (SNAP_SECTION_HEADER_SIZE + 12 + 4)

/* Progress of a writer: fn(opaque, pos, ram_end) after every write to its
 * stream, with the stream position (bytes written so far) and, once
 * snap_write_ram* has scanned the RAM, the position the "ram" section will
 * end at (0 before): with RAM the last section before "end", the stream's
 * final size is ram_end + SNAP_END_SECTION_SIZE. fn may sleep (a test hook
 * that slows a writer does). NULL fn: none. */
typedef void (*snap_progress_fn)(void *opaque, uint64_t pos, uint64_t ram_end);
void snap_writer_set_progress(struct snap_writer *w, snap_progress_fn fn, void *opaque);

/* Writes a whole section. name: 1..31 chars of [a-z0-9._-], not "end";
 * len <= SNAP_MAX_SECTION. */
int snap_put_section(struct snap_writer *w, const char *name, uint32_t version, uint32_t flags,
		     const void *data, size_t len, struct verr **err);

/* Writes a section in pieces: begin with its total length, write exactly
 * that many bytes with snap_section_write, then snap_section_end. */
int snap_section_begin(struct snap_writer *w, const char *name, uint32_t version, uint32_t flags,
		       uint64_t len, struct verr **err);
int snap_section_write(struct snap_writer *w, const void *data, size_t len, struct verr **err);
int snap_section_end(struct snap_writer *w, struct verr **err);

/* Writes guest RAM (ram_hva[0..ram_size), ram_size a multiple of
 * SNAP_PAGE_SIZE) as the "ram" section: zero pages are left out and the
 * page data starts at a file offset that is a multiple of SNAP_PAGE_SIZE.
 * The RAM must not change during the call (the VM is paused). */
int snap_write_ram(struct snap_writer *w, const void *ram_hva, uint64_t ram_size, struct verr **err);

/* The same, with a hint: bit i of populated (byte i/8) clear means page i
 * is known to be zero (e.g. anonymous memory the process never touched,
 * per /proc/self/pagemap), so it is neither read nor faulted in. NULL: no
 * hint. */
int snap_write_ram_hinted(struct snap_writer *w, const void *ram_hva, uint64_t ram_size, const uint8_t *populated,
			  struct verr **err);

/* Migration: writes one "ram-batch" section with n <= SNAP_MAX_BATCH pages;
 * pfns[i] is a page number (gpa offset / SNAP_PAGE_SIZE within RAM) and
 * pages[i] its data, or NULL for a zero page. */
int snap_write_ram_batch(struct snap_writer *w, const uint64_t *pfns, const void *const *pages, size_t n,
			 struct verr **err);

/* Writes the end section and flushes the stream. The caller then commits
 * (files) with vstream_commit. */
int snap_writer_finish(struct snap_writer *w, struct verr **err);

/* Frees the writer (not the stream); accepts NULL. */
void snap_writer_destroy(struct snap_writer *w);

/* ---- reading ---- */

struct snap_reader;

/* One section as returned by snap_reader_next. */
struct snap_section {
	char name[SNAP_NAME_MAX + 1];
	uint32_t version;
	uint32_t flags;
	uint64_t len;
	/* Payload, CRC-verified; owned by the reader and valid until the next
	 * snap_reader_next call. NULL for the "ram" section. */
	const uint8_t *data;
	/* "ram" section only (is_ram): geometry, bitmap (bit i of byte i/8 =
	 * page i stored; borrowed like data) and the stream offset of the
	 * first stored page, a multiple of page_size. */
	bool is_ram;
	uint64_t ram_size;
	uint32_t page_size;
	uint64_t npresent;
	const uint8_t *bitmap;
	uint64_t data_off;
};

/* Reader flags. */
#define SNAP_R_LAZY_RAM                                                                                      \
	0x1u /* skip (seek over) "ram" page data that the caller                                             \
	      * did not load; its CRC is then not checked */

/* Reads and checks the stream header from s (borrowed). Refuses a bad magic,
 * another architecture, a newer major version or unknown header flags. */
int snap_reader_new(struct vstream *s, uint32_t flags, struct snap_reader **out, struct verr **err);

/* The header read by snap_reader_new. */
const struct snap_header *snap_reader_header(const struct snap_reader *r);

/* Moves to the next section. Returns 1 and fills *sec, or 0 at the end
 * section once the whole stream has been verified (section count, chained
 * CRC), or -1 with *err on a truncated, corrupted or invalid stream. */
int snap_reader_next(struct snap_reader *r, struct snap_section *sec, struct verr **err);

/* For the current "ram" section: copies every stored page into
 * ram_hva[0..ram_size) (which must already be zero where pages are not
 * stored, e.g. fresh anonymous memory) and checks the section CRC. */
int snap_ram_load(struct snap_reader *r, void *ram_hva, uint64_t ram_size, struct verr **err);

/* For the current "ram" section of a file stream: maps stored pages from
 * the file with mmap(MAP_PRIVATE | MAP_FIXED) over ram_hva (a page-aligned
 * anonymous mapping of ram_size zero bytes), so clones share unchanged
 * pages; runs shorter than needed to keep the number of mappings under
 * max_maps are copied instead. Page data is not CRC-checked (that would read
 * it all); the file size is checked so nothing maps past its end. Requires
 * SNAP_R_LAZY_RAM. *nmaps gets the number of mmap calls made. */
int snap_ram_map(struct snap_reader *r, void *ram_hva, uint64_t ram_size, unsigned max_maps, unsigned *nmaps,
		 struct verr **err);

/* Decodes a "ram-batch" payload (sec from snap_reader_next): calls fn for
 * each page with its number and data (NULL for a zero page). Stops at the
 * first non-zero return of fn and returns it; -1 with *err for a malformed
 * batch. pfns are not range-checked against RAM: fn does that. */
int snap_ram_batch_foreach(const struct snap_section *sec,
			   int (*fn)(void *opaque, uint64_t pfn, const void *page), void *opaque,
			   struct verr **err);

/* Checks that a known section's version is one this build reads
 * (<= supported); otherwise an error like
 * "section cpu0: version 3 is newer than this build (2)". */
int snap_section_check_version(const struct snap_section *sec, uint32_t supported, struct verr **err);

/* For a section the caller does not know: an error if it is required,
 * else 0 (the caller ignores it). */
int snap_section_unknown(const struct snap_section *sec, struct verr **err);

/* Frees the reader (not the stream); accepts NULL. */
void snap_reader_destroy(struct snap_reader *r);

#endif
