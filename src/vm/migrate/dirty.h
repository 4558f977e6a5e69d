/* Dirty page tracking for live migration, without touching the CPU.
 *
 * Guest RAM is registered with a userfaultfd in write-protect mode with the
 * asynchronous feature (UFFD_FEATURE_WP_ASYNC, Linux >= 6.7): the kernel
 * resolves write-protect faults itself, clearing the page's protection, so
 * stores from vCPU threads, device threads and the kernel (read() into guest
 * memory) alike mark pages "written" at the cost of one minor fault per page
 * per round, and nothing at all when no migration runs. Each round, the
 * PAGEMAP_SCAN ioctl returns the written pages and write-protects them again
 * in one atomic step.
 *
 * The region must be page-aligned private memory (anonymous, or a private
 * file mapping as a lazily restored snapshot uses). One tracker per region;
 * calls on one tracker come from one thread.
 */
#ifndef VESSEL_VM_MIGRATE_DIRTY_H
#define VESSEL_VM_MIGRATE_DIRTY_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

struct migrate_dirty;

/* Checks that this kernel offers asynchronous write-protect tracking and
 * PAGEMAP_SCAN. Returns 0, or -1 with *err naming the missing feature. */
int migrate_dirty_probe(struct verr **err);

/* Starts tracking hva[0..size) (page-aligned, borrowed until
 * migrate_dirty_stop): every page is write-protected, so from now on each
 * page written is reported once by the next migrate_dirty_collect.
 * -1 with *err if the kernel lacks the feature or the region is refused. */
int migrate_dirty_start(void *hva, uint64_t size, struct migrate_dirty **out, struct verr **err);

/* Sets bit i of bitmap (ceil(pages/64) words, cleared here first) for each
 * page i written since the start or the previous collect, and protects
 * those pages again. Returns the number of pages set, or -1 with *err. */
int64_t migrate_dirty_collect(struct migrate_dirty *d, uint64_t *bitmap, struct verr **err);

/* Sets bit i of bitmap (cleared first) for each page i that is populated
 * (present, backed by a private file mapping, or swapped out while swap is active, and not the shared zero
 * page): the only pages that can hold non-zero data. It may include pages
 * that were only read (they hold zeros). Does not change protection. Returns the count or
 * -1 with *err. */
int64_t migrate_dirty_populated(struct migrate_dirty *d, uint64_t *bitmap, struct verr **err);

/* Stops tracking and releases the userfaultfd; the region behaves as
 * before. Accepts NULL. */
void migrate_dirty_stop(struct migrate_dirty *d);

#endif
