/* Internal to vm/migrate: wire constants shared by source and destination. */
#ifndef VESSEL_VM_MIGRATE_MIGRATE_INT_H
#define VESSEL_VM_MIGRATE_MIGRATE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "vm/block/block.h"
#include "vm/state/snap.h"

#define MIG_PAGE 4096u

/* Stream sections (REQUIRED: an older reader refuses them). */
#define MIG_SEC_SETUP "mig-setup"	/* u64 ram_size, u32 page_size, u32 mode */
#define MIG_SEC_POSTCOPY "mig-postcopy" /* u64 npages, discard bitmap words */
#define MIG_SEC_START "mig-start"	/* empty: the state is complete, start */
#define MIG_SEC_SYNC "mig-sync"		/* u64 n: answer MIG_RP_SYNCED n once all before it is in */
#define MIG_SEC_VERSION 1
/* "disks": "copy" (disk.c): u32 n, u32 granule, then per disk
 * u64 virtual size, u32 format (enum block_format), u32 flags */
#define MIG_SEC_DISK_SETUP "mig-disk-setup"
/* u32 disk, u32 flags, u64 offset, u64 length, then length bytes of data
 * (none with MIG_DISK_ZERO) */
#define MIG_SEC_DISK_CHUNK "mig-disk-chunk"
#define MIG_DISK_F_COPY 0x1u	/* setup: the disk's contents are streamed */
#define MIG_DISK_ZERO 0x1u	/* chunk: the range reads as zeros */
#define MIG_DISK_GRANULE BLOCK_DIRTY_GRANULE
#define MIG_DISK_CHUNK_HDR 24u
#define MIG_DISK_MAX_DATA (1u << 20) /* data bytes per chunk section */

/* Return path: 16-byte messages, destination to source. */
#define MIG_RP_MAGIC 0x50524d56u /* "VMRP" */
enum mig_rp_type {
	MIG_RP_RUNNING = 1,  /* the VM runs on the destination */
	MIG_RP_PAGE_REQ = 2, /* arg: page number wanted now (postcopy) */
	MIG_RP_DONE = 3,     /* every page arrived; the source may go */
	MIG_RP_ERROR = 4,    /* the destination gave up */
	MIG_RP_SYNCED = 5,   /* arg: the mig-sync it has caught up with */
};
#define MIG_RP_SIZE 16

/* Encodes one message into buf[MIG_RP_SIZE]. */
void mig_rp_encode(uint8_t *buf, uint32_t type, uint64_t arg);

/* Socket options both sides use: no Nagle (page requests are tiny and
 * urgent), send/receive timeouts in ms (0: none). */
void mig_socket_setup(int fd, unsigned snd_timeout_ms, unsigned rcv_timeout_ms);

/* Connects to "tcp:HOST:PORT". */
int mig_connect(const char *uri, int *fd, struct verr **err);

/* Auto-converge: the share of time (percent) the vCPUs are held after a
 * round (1, 2, ...) that left `dirty` pages, following one that left
 * prev_dirty, when they were held pct percent so far. */
unsigned mig_throttle_step(unsigned round, uint64_t dirty, uint64_t prev_dirty, unsigned pct);

/* True when page[0..MIG_PAGE) is all zeros. */
bool mig_page_is_zero(const void *page);

/* ---- disk contents ("disks": "copy", disk.c) ---- */

/* One mig-disk-chunk section's payload. data points into the payload
 * (NULL for a zero range). */
struct mig_disk_chunk {
	uint32_t disk, flags;
	uint64_t off, len;
	const uint8_t *data;
};

/* Encodes c's header into hdr[MIG_DISK_CHUNK_HDR]. */
void mig_disk_chunk_encode(uint8_t *hdr, const struct mig_disk_chunk *c);
/* Decodes and checks a payload of plen bytes on its own: known flags,
 * length > 0, at most MIG_DISK_MAX_DATA bytes of data, exactly the data
 * the length announces, none for a zero range. The destination checks the
 * disk and the range (mig_disk_dst_chunk). */
int mig_disk_chunk_decode(const uint8_t *p, uint64_t plen, struct mig_disk_chunk *out, struct verr **err);

/* The source's side: the images, which granules are still to be sent. */
struct mig_disk_src;
/* Starts dirty tracking on disks[0..n) (borrowed until mig_disk_src_free)
 * and marks every granule of the writable ones as to be sent (read-only
 * disks are not copied). */
struct mig_disk_src *mig_disk_src_new(struct block *const *disks, unsigned n);
/* Writes the mig-disk-setup section. */
int mig_disk_src_setup(struct mig_disk_src *d, struct snap_writer *w, struct verr **err);
/* Adds the granules written since the last call to the ones to send;
 * returns how many bytes that is. */
uint64_t mig_disk_src_collect(struct mig_disk_src *d);
/* Bytes still to send (as of the last collection, minus what was sent). */
uint64_t mig_disk_src_remaining(const struct mig_disk_src *d);
/* Guest disk bytes sent so far (zero ranges included). */
uint64_t mig_disk_src_sent(const struct mig_disk_src *d);
/* Reads and sends every granule to send: all-zero runs as one zero chunk,
 * data in chunks of at most MIG_DISK_MAX_DATA. tick(opaque) runs after each
 * section (progress; a non-zero return stops with that error). */
int mig_disk_src_send(struct mig_disk_src *d, struct snap_writer *w, int (*tick)(void *opaque, struct verr **err),
		      void *opaque, struct verr **err);
/* Stops tracking and frees; accepts NULL. */
void mig_disk_src_free(struct mig_disk_src *d);

/* The destination's side. */
struct mig_disk_dst;
/* A mig-disk-setup section: takes the VM's images through take (see
 * migrate_dest_ops.take_disks) and checks them against the source's: same
 * count, same virtual size and writable for each copied disk. */
int mig_disk_dst_setup(const struct snap_section *sec,
		       int (*take)(void *opaque, struct block **disks, unsigned *n, struct verr **err), void *opaque,
		       struct mig_disk_dst **out, struct verr **err);
/* A mig-disk-chunk section: checks it (disk copied, granule-aligned range
 * inside it) and writes it. *bytes += the guest bytes it covers. */
int mig_disk_dst_chunk(struct mig_disk_dst *d, const struct snap_section *sec, uint64_t *bytes, struct verr **err);
/* Makes what was written so far durable (at each mig-sync, so that the
 * flush before the start, in the downtime, has little left to do). */
int mig_disk_dst_flush(struct mig_disk_dst *d, struct verr **err);
/* Before the start: every granule of every copied disk arrived at least
 * once; flushes them (fsync). */
int mig_disk_dst_finish(struct mig_disk_dst *d, struct verr **err);
/* Frees (the images stay the caller's); accepts NULL. */
void mig_disk_dst_free(struct mig_disk_dst *d);

#endif
