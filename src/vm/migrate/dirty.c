#include "vm/migrate/dirty.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/util.h"

/* Linux 6.7 uapi (include/uapi/linux/userfaultfd.h, fs.h); Debian 12's
 * headers are 6.1, so the values are defined here. */
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

struct mig_page_region {
	uint64_t start, end, categories;
};

struct mig_pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};

#define MIG_PAGEMAP_SCAN _IOWR('f', 16, struct mig_pm_scan_arg)
#define MIG_PM_SCAN_WP_MATCHING 1ull
#define MIG_PM_SCAN_CHECK_WPASYNC 2ull
#define MIG_PAGE_IS_WRITTEN (1ull << 1)
#define MIG_PAGE_IS_PRESENT (1ull << 3)
#define MIG_PAGE_IS_SWAPPED (1ull << 4)
#define MIG_PAGE_IS_PFNZERO (1ull << 5)

#define PAGE_SZ 4096ull
#define SCAN_VEC 512

struct migrate_dirty {
	uint8_t *hva;
	uint64_t size;
	int uffd;
	int pagemap_fd;
	struct mig_page_region vec[SCAN_VEC];
};

static int uffd_open(int *out)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 && errno == EPERM) /* vm.unprivileged_userfaultfd=0 */
		fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (fd < 0)
		return -errno;
	*out = fd;
	return 0;
}

/* A userfaultfd with the asynchronous write-protect features enabled. */
static int uffd_wp_async(int *out, struct verr **err)
{
	int fd = -1;
	int r = uffd_open(&fd);
	if (r < 0)
		return verr_set(err, -r, "userfaultfd");
	struct uffdio_api api = { .api = UFFD_API,
				  .features = UFFD_FEATURE_WP_ASYNC };
	if (ioctl(fd, UFFDIO_API, &api) < 0) {
		int e = errno;
		close(fd);
		return verr_set(err, e,
				"this kernel lacks userfaultfd asynchronous write-protect "
				"(UFFD_FEATURE_WP_ASYNC, Linux 6.7) needed for dirty page tracking");
	}
	*out = fd;
	return 0;
}

int migrate_dirty_probe(struct verr **err)
{
	int fd = -1;
	if (uffd_wp_async(&fd, err) < 0)
		return -1;
	close(fd);
	int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pm < 0)
		return verr_set(err, errno, "open /proc/self/pagemap");
	/* An empty range: a kernel without PAGEMAP_SCAN answers ENOTTY. */
	struct mig_page_region v;
	struct mig_pm_scan_arg a = { .size = sizeof(a), .start = 0, .end = 0, .vec = (uintptr_t)&v, .vec_len = 1,
				     .return_mask = MIG_PAGE_IS_WRITTEN };
	int r = ioctl(pm, MIG_PAGEMAP_SCAN, &a);
	int e = errno;
	close(pm);
	if (r < 0)
		return verr_set(err, e, "this kernel lacks the PAGEMAP_SCAN ioctl (Linux 6.7) needed for dirty page tracking");
	return 0;
}

void migrate_dirty_stop(struct migrate_dirty *d)
{
	if (!d)
		return;
	if (d->uffd >= 0) {
		struct uffdio_range range = { (uintptr_t)d->hva, d->size };
		/* Unregistering drops the write-protect markers; closing alone
		 * would too, but this keeps the order explicit. */
		(void)ioctl(d->uffd, UFFDIO_UNREGISTER, &range);
		close(d->uffd);
	}
	if (d->pagemap_fd >= 0)
		close(d->pagemap_fd);
	free(d);
}

int migrate_dirty_start(void *hva, uint64_t size, struct migrate_dirty **out, struct verr **err)
{
	if (((uintptr_t)hva | size) & (PAGE_SZ - 1) || size == 0)
		return verr_set(err, EINVAL, "dirty tracking: region %p+%llu is not page-aligned", hva,
				(unsigned long long)size);
	struct migrate_dirty *d = xcalloc(1, sizeof(*d));
	d->hva = hva;
	d->size = size;
	d->uffd = -1;
	d->pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (d->pagemap_fd < 0) {
		verr_set(err, errno, "open /proc/self/pagemap");
		goto fail;
	}
	if (uffd_wp_async(&d->uffd, err) < 0)
		goto fail;
	struct uffdio_register reg = { .range = { (uintptr_t)hva, size }, .mode = UFFDIO_REGISTER_MODE_WP };
	if (ioctl(d->uffd, UFFDIO_REGISTER, &reg) < 0) {
		verr_set(err, errno, "register guest RAM for write-protect tracking");
		goto fail;
	}
	struct uffdio_writeprotect wp = { .range = { (uintptr_t)hva, size }, .mode = UFFDIO_WRITEPROTECT_MODE_WP };
	if (ioctl(d->uffd, UFFDIO_WRITEPROTECT, &wp) < 0) {
		verr_set(err, errno, "write-protect guest RAM");
		goto fail;
	}
	*out = d;
	return 0;
fail:
	migrate_dirty_stop(d);
	return -1;
}

/* Walks the region with PAGEMAP_SCAN and sets the bits of the pages
 * matching; `flags`/masks as in the kernel's struct pm_scan_arg. */
static int64_t scan(struct migrate_dirty *d, uint64_t flags, uint64_t inverted, uint64_t mask, uint64_t anyof,
		    uint64_t ret_mask, uint64_t *bitmap, struct verr **err)
{
	uint64_t npages = d->size / PAGE_SZ;
	memset(bitmap, 0, ((npages + 63) / 64) * sizeof(uint64_t));
	uint64_t base = (uintptr_t)d->hva, end = base + d->size, start = base;
	int64_t count = 0;
	while (start < end) {
		struct mig_pm_scan_arg a = {
			.size = sizeof(a),
			.flags = flags,
			.start = start,
			.end = end,
			.vec = (uintptr_t)d->vec,
			.vec_len = SCAN_VEC,
			.category_inverted = inverted,
			.category_mask = mask,
			.category_anyof_mask = anyof,
			.return_mask = ret_mask,
		};
		int n = ioctl(d->pagemap_fd, MIG_PAGEMAP_SCAN, &a);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return verr_set(err, errno, "PAGEMAP_SCAN");
		}
		for (int i = 0; i < n; i++) {
			uint64_t s = d->vec[i].start, e = d->vec[i].end;
			if (s < base || e > end || s > e)
				return verr_set(err, EIO, "PAGEMAP_SCAN returned a range outside the region");
			for (uint64_t p = (s - base) / PAGE_SZ; p < (e - base) / PAGE_SZ; p++) {
				bitmap[p / 64] |= 1ull << (p % 64);
				count++;
			}
		}
		if (a.walk_end <= start || a.walk_end > end)
			return verr_set(err, EIO, "PAGEMAP_SCAN made no progress");
		start = a.walk_end;
	}
	return count;
}

int64_t migrate_dirty_collect(struct migrate_dirty *d, uint64_t *bitmap, struct verr **err)
{
	return scan(d, MIG_PM_SCAN_WP_MATCHING | MIG_PM_SCAN_CHECK_WPASYNC, 0, MIG_PAGE_IS_WRITTEN, 0,
		    MIG_PAGE_IS_WRITTEN, bitmap, err);
}

/* True when a swap area is active (/proc/swaps has more than its header). */
static bool swap_active(void)
{
	char *text = NULL;
	size_t len = 0;
	if (read_file("/proc/swaps", 1 << 20, &text, &len) < 0)
		return true; /* unknown: assume so, which is the safe side */
	char *nl = strchr(text, '\n');
	bool active = nl && nl[1] != '\0';
	free(text);
	return active;
}

/* Sets the bits of the region's pages that lie in file-backed mappings
 * (/proc/self/maps lines with an inode): untouched pages there hold the
 * file's data but look like untouched anonymous pages to PAGEMAP_SCAN. */
static int mark_file_backed(struct migrate_dirty *d, uint64_t *bitmap, struct verr **err)
{
	FILE *f = fopen("/proc/self/maps", "re");
	if (!f)
		return verr_set(err, errno, "open /proc/self/maps");
	uint64_t base = (uintptr_t)d->hva, end = base + d->size;
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		unsigned long long s, e, ino;
		if (sscanf(line, "%llx-%llx %*s %*s %*s %llu", &s, &e, &ino) != 3 || ino == 0)
			continue;
		if (e <= base || s >= end)
			continue;
		s = s < base ? base : s;
		e = e > end ? end : e;
		for (uint64_t p = (s - base) / PAGE_SZ; p < (e - base) / PAGE_SZ; p++)
			bitmap[p / 64] |= 1ull << (p % 64);
	}
	fclose(f);
	return 0;
}

int64_t migrate_dirty_populated(struct migrate_dirty *d, uint64_t *bitmap, struct verr **err)
{
	/* Write-protect markers on never-touched pages are swap-type entries,
	 * so PAGEMAP_SCAN reports them as swapped: count swapped pages only
	 * when swap really is in use (then some are real swapped-out data). */
	uint64_t anyof = MIG_PAGE_IS_PRESENT | (swap_active() ? MIG_PAGE_IS_SWAPPED : 0);
	if (scan(d, 0, MIG_PAGE_IS_PFNZERO, MIG_PAGE_IS_PFNZERO, anyof,
		 MIG_PAGE_IS_PRESENT | MIG_PAGE_IS_SWAPPED | MIG_PAGE_IS_PFNZERO, bitmap, err) < 0)
		return -1;
	if (mark_file_backed(d, bitmap, err) < 0)
		return -1;
	int64_t count = 0;
	for (uint64_t i = 0; i < (d->size / PAGE_SZ + 63) / 64; i++)
		count += __builtin_popcountll(bitmap[i]);
	return count;
}
