/* Internal to src/vm/block: helpers shared by the formats. */
#ifndef VESSEL_VM_BLOCK_INT_H
#define VESSEL_VM_BLOCK_INT_H

#include "vm/block/block.h"

#define BLOCK_MAX_CHAIN 16

/* pread/pwrite of exactly len bytes; reads past EOF give zeros. 0 or -errno. */
int block_pread_full(int fd, void *buf, size_t len, uint64_t off);
int block_pwrite_full(int fd, const void *buf, size_t len, uint64_t off);
/* Whether writing buf at off would leave the qcow2 magic at offset 0. */
bool block_looks_like_qcow2(const void *buf, size_t len, uint64_t off);
/* Takes an OFD lock on the whole file: exclusive for writers, shared for
 * readers, so two VMs cannot write one image. */
int block_lock_fd(int fd, bool exclusive, const char *path, struct verr **err);
/* block_open with the depth of the backing chain so far. */
int block_open_depth(const char *path, enum block_format fmt, bool readonly, unsigned depth, unsigned flags,
		     struct block **out, struct verr **err);
/* Opens a qcow2 image on fd (takes ownership of fd on success only). */
int qcow2_open_fd(const char *path, int fd, bool readonly, unsigned depth, struct block **out,
		  struct verr **err);

#endif
