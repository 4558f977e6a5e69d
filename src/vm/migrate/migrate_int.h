/* Internal to vm/migrate: wire constants shared by source and destination. */
#ifndef VESSEL_VM_MIGRATE_MIGRATE_INT_H
#define VESSEL_VM_MIGRATE_MIGRATE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

#define MIG_PAGE 4096u

/* Stream sections (REQUIRED: an older reader refuses them). */
#define MIG_SEC_SETUP "mig-setup"	/* u64 ram_size, u32 page_size, u32 mode */
#define MIG_SEC_POSTCOPY "mig-postcopy" /* u64 npages, discard bitmap words */
#define MIG_SEC_START "mig-start"	/* empty: the state is complete, start */
#define MIG_SEC_SYNC "mig-sync"		/* u64 n: answer MIG_RP_SYNCED n once all before it is in */
#define MIG_SEC_VERSION 1

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

#endif
