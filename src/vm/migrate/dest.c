/* The receiving side of a live migration (see migrate.h). */
#include "vm/migrate/migrate.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"
#include "vm/migrate/migrate_int.h"
#include "vm/state/stream.h"

/* A source that sends nothing for this long is gone. */
#define RECV_TIMEOUT_MS 30000

struct dst {
	uint8_t *ram;
	uint64_t size, npages, nwords;
	const struct migrate_dest_ops *ops;
	void *opaque;
	struct migrate_progress *out;

	int fd;
	pthread_mutex_t wlock; /* return-path writes */
	struct vstream *vs;
	struct snap_reader *r;

	enum migrate_mode mode;
	bool setup_seen, postcopy_seen, started;
	_Atomic uint64_t *have; /* pages holding their final (or precopy) data */
	atomic_uint_fast64_t nhave;
	_Atomic uint64_t *requested;
	atomic_uint_fast64_t nrequests;
	uint64_t bad_pfn;
	int place_err;

	int uffd;
	int stop_pipe[2];
	pthread_t fault_thread;
	bool fault_started;
	atomic_bool fault_failed;
	uint64_t t_state; /* first state section (debug figures) */
	struct mig_disk_dst *disks; /* "disks": "copy" */
	bool disk_setup_seen;
};

static bool have_get(struct dst *d, uint64_t pfn)
{
	return (atomic_load(&d->have[pfn / 64]) >> (pfn % 64)) & 1;
}

/* Marks pfn present; returns true if it was not. */
static bool have_set(struct dst *d, uint64_t pfn)
{
	uint64_t bit = 1ull << (pfn % 64);
	bool fresh = !(atomic_fetch_or(&d->have[pfn / 64], bit) & bit);
	if (fresh)
		atomic_fetch_add(&d->nhave, 1);
	return fresh;
}

static int rp_send(struct dst *d, uint32_t type, uint64_t arg)
{
	uint8_t msg[MIG_RP_SIZE];
	mig_rp_encode(msg, type, arg);
	pthread_mutex_lock(&d->wlock);
	size_t off = 0;
	int r = 0;
	while (off < sizeof(msg)) {
		ssize_t n = send(d->fd, msg + off, sizeof(msg) - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = -(n < 0 ? errno : EPIPE);
			break;
		}
		off += (size_t)n;
	}
	pthread_mutex_unlock(&d->wlock);
	return r;
}

/* ---- placing pages ---- */

static int place_postcopy(struct dst *d, uint64_t pfn, const void *page)
{
	uint64_t dst = (uintptr_t)(d->ram + pfn * MIG_PAGE);
	for (;;) {
		int r;
		if (page) {
			struct uffdio_copy c = { .dst = dst, .src = (uintptr_t)page, .len = MIG_PAGE };
			r = ioctl(d->uffd, UFFDIO_COPY, &c);
		} else {
			struct uffdio_zeropage z = { .range = { dst, MIG_PAGE } };
			r = ioctl(d->uffd, UFFDIO_ZEROPAGE, &z);
		}
		if (r == 0 || errno == EEXIST)
			return 0;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
	}
}

static int put_page(void *opaque, uint64_t pfn, const void *page)
{
	struct dst *d = opaque;
	if (pfn >= d->npages) {
		d->bad_pfn = pfn;
		return 1;
	}
	uint8_t *hva = d->ram + pfn * MIG_PAGE;
	if (d->postcopy_seen) {
		if (have_get(d, pfn))
			return 0;
		int r = place_postcopy(d, pfn, page);
		if (r < 0) {
			d->place_err = -r;
			return 2;
		}
		have_set(d, pfn);
	} else if (page) {
		memcpy(hva, page, MIG_PAGE);
		have_set(d, pfn);
	} else if (have_get(d, pfn)) {
		/* A page never received is still zero: only touch ones that
		 * held data. */
		memset(hva, 0, MIG_PAGE);
	}
	d->out->pages++;
	return 0;
}

/* ---- postcopy ---- */

static void *fault_main(void *arg)
{
	struct dst *d = arg;
	for (;;) {
		struct pollfd pfd[2] = { { .fd = d->uffd, .events = POLLIN }, { .fd = d->stop_pipe[0], .events = POLLIN } };
		int r = poll(pfd, 2, -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || pfd[1].revents)
			return NULL;
		struct uffd_msg msgs[16];
		ssize_t n = read(d->uffd, msgs, sizeof(msgs));
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			atomic_store(&d->fault_failed, true);
			return NULL;
		}
		for (size_t i = 0; i < (size_t)n / sizeof(msgs[0]); i++) {
			if (msgs[i].event != UFFD_EVENT_PAGEFAULT)
				continue;
			uint64_t addr = msgs[i].arg.pagefault.address;
			if (addr < (uintptr_t)d->ram || addr >= (uintptr_t)d->ram + d->size)
				continue;
			uint64_t pfn = (addr - (uintptr_t)d->ram) / MIG_PAGE;
			uint64_t bit = 1ull << (pfn % 64);
			if (have_get(d, pfn) || (atomic_fetch_or(&d->requested[pfn / 64], bit) & bit))
				continue;
			atomic_fetch_add(&d->nrequests, 1);
			if (rp_send(d, MIG_RP_PAGE_REQ, pfn) < 0) {
				atomic_store(&d->fault_failed, true);
				return NULL;
			}
		}
	}
}

static void fault_stop(struct dst *d)
{
	if (d->fault_started) {
		char c = 0;
		if (write(d->stop_pipe[1], &c, 1) < 0)
			log_warn("migration: stop the fault thread: %m");
		pthread_join(d->fault_thread, NULL);
		d->fault_started = false;
	}
	if (d->uffd >= 0) {
		struct uffdio_range range = { (uintptr_t)d->ram, d->size };
		(void)ioctl(d->uffd, UFFDIO_UNREGISTER, &range);
		close(d->uffd); /* wakes any thread still waiting for a page */
		d->uffd = -1;
	}
}

/* "mig-postcopy": drop stale pages, then catch every access to a missing
 * page before the VM starts. A precopy stream may switch here too (the
 * source was asked to, after its precopy rounds). */
static int enter_postcopy(struct dst *d, const struct snap_section *sec, struct verr **err)
{
	if (d->postcopy_seen)
		return verr_set(err, EINVAL, "unexpected section %s", sec->name);
	d->mode = MIGRATE_POSTCOPY;
	d->out->mode = MIGRATE_POSTCOPY;
	struct state_cursor c;
	state_cursor_init(&c, sec->data, sec->len);
	if (state_get_u64(&c) != d->npages || sec->len != 8 + d->nwords * 8)
		return verr_set(err, EINVAL, "section %s: bad page count or length", sec->name);
	for (uint64_t wi = 0; wi < d->nwords; wi++) {
		uint64_t word = state_get_u64(&c);
		while (word) {
			uint64_t pfn = wi * 64 + (uint64_t)__builtin_ctzll(word);
			word &= word - 1;
			if (pfn >= d->npages)
				return verr_set(err, EINVAL, "section %s: page %llu out of range", sec->name,
						(unsigned long long)pfn);
			uint64_t bit = 1ull << (pfn % 64);
			if (atomic_fetch_and(&d->have[pfn / 64], ~bit) & bit)
				atomic_fetch_sub(&d->nhave, 1);
			if (madvise(d->ram + pfn * MIG_PAGE, MIG_PAGE, MADV_DONTNEED) < 0)
				return verr_set(err, errno, "discard a stale page");
		}
	}
	d->uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (d->uffd < 0)
		return verr_set(err, errno,
				"postcopy needs userfaultfd with kernel-mode faults (root, CAP_SYS_PTRACE or "
				"vm.unprivileged_userfaultfd=1)");
	struct uffdio_api api = { .api = UFFD_API };
	if (ioctl(d->uffd, UFFDIO_API, &api) < 0)
		return verr_set(err, errno, "userfaultfd API handshake");
	struct uffdio_register reg = { .range = { (uintptr_t)d->ram, d->size }, .mode = UFFDIO_REGISTER_MODE_MISSING };
	if (ioctl(d->uffd, UFFDIO_REGISTER, &reg) < 0)
		return verr_set(err, errno, "register guest RAM for postcopy (userfaultfd missing mode)");
	if (pipe2(d->stop_pipe, O_CLOEXEC) < 0)
		return verr_set(err, errno, "pipe");
	if (pthread_create(&d->fault_thread, NULL, fault_main, d) != 0)
		return verr_set(err, EAGAIN, "start the page fault thread");
	d->fault_started = true;
	d->postcopy_seen = true;
	return 0;
}

static int start_vm(struct dst *d, struct verr **err)
{
	if (d->disks && mig_disk_dst_finish(d->disks, err) < 0)
		return -1;
	if (d->ops->start(d->opaque, err) < 0)
		return verr_wrap(err, "start the VM");
	d->started = true;
	int r = rp_send(d, MIG_RP_RUNNING, 0);
	if (r < 0)
		log_warn("migration: could not tell the source the VM runs: %s", strerror(-r));
	return 0;
}

static int handle_section(struct dst *d, const struct snap_section *sec, struct verr **err)
{
	if (!d->setup_seen) {
		if (strcmp(sec->name, MIG_SEC_SETUP) != 0)
			return verr_set(err, EINVAL, "not a migration stream: first section is %s", sec->name);
		if (snap_section_check_version(sec, MIG_SEC_VERSION, err) < 0)
			return -1;
		if (sec->len != 16)
			return verr_set(err, EINVAL, "section %s: bad length %llu", sec->name,
					(unsigned long long)sec->len);
		uint64_t ram = le64_get(sec->data);
		uint32_t psz = le32_get(sec->data + 8), mode = le32_get(sec->data + 12);
		if (ram != d->size)
			return verr_set(err, EINVAL, "the source VM has %llu MiB of RAM, this one %llu MiB",
					(unsigned long long)(ram >> 20), (unsigned long long)(d->size >> 20));
		if (psz != MIG_PAGE || mode > MIGRATE_POSTCOPY)
			return verr_set(err, EINVAL, "section %s: page size %u / mode %u not supported", sec->name,
					psz, mode);
		d->mode = (enum migrate_mode)mode;
		d->out->mode = d->mode;
		d->setup_seen = true;
		return 0;
	}
	if (strcmp(sec->name, "ram-batch") == 0) {
		if (snap_section_check_version(sec, 1, err) < 0)
			return -1;
		int r = snap_ram_batch_foreach(sec, put_page, d, err);
		if (r == 1)
			return verr_set(err, EINVAL, "ram-batch: page %llu is outside RAM (%llu pages)",
					(unsigned long long)d->bad_pfn, (unsigned long long)d->npages);
		if (r == 2)
			return verr_set(err, d->place_err, "place a page");
		return r < 0 ? -1 : 0;
	}
	if (strcmp(sec->name, MIG_SEC_POSTCOPY) == 0) {
		if (d->started || snap_section_check_version(sec, MIG_SEC_VERSION, err) < 0)
			return verr_set(err, EINVAL, "unexpected section %s", sec->name);
		return enter_postcopy(d, sec, err);
	}
	if (strcmp(sec->name, MIG_SEC_SYNC) == 0) {
		if (sec->len != 8)
			return verr_set(err, EINVAL, "section %s: bad length", sec->name);
		if (d->disks && mig_disk_dst_flush(d->disks, err) < 0)
			return -1;
		int r = rp_send(d, MIG_RP_SYNCED, le64_get(sec->data));
		return r < 0 ? verr_set(err, -r, "answer the source") : 0;
	}
	if (strcmp(sec->name, MIG_SEC_START) == 0) {
		if (!d->postcopy_seen || d->started)
			return verr_set(err, EINVAL, "unexpected section %s", sec->name);
		return start_vm(d, err);
	}
	if (d->started)
		return verr_set(err, EINVAL, "section %s after the VM started", sec->name);
	if (strcmp(sec->name, MIG_SEC_SETUP) == 0)
		return verr_set(err, EINVAL, "section %s repeated", sec->name);
	if (strcmp(sec->name, MIG_SEC_DISK_SETUP) == 0) {
		if (d->disk_setup_seen)
			return verr_set(err, EINVAL, "section %s repeated", sec->name);
		d->disk_setup_seen = true;
		if (mig_disk_dst_setup(sec, d->ops->take_disks, d->opaque, &d->disks, err) < 0)
			return -1;
		d->out->disk_copy = true;
		return 0;
	}
	if (strcmp(sec->name, MIG_SEC_DISK_CHUNK) == 0) {
		if (!d->disks)
			return verr_set(err, EINVAL, "section %s before %s", sec->name, MIG_SEC_DISK_SETUP);
		return mig_disk_dst_chunk(d->disks, sec, &d->out->disk_bytes, err);
	}
	if (!d->t_state)
		d->t_state = now_ns();
	return d->ops->load_section(d->opaque, sec, err);
}

static int dst_run(struct dst *d, struct verr **err)
{
	if (madvise(d->ram, d->size, MADV_DONTNEED) < 0)
		return verr_set(err, errno, "clear guest RAM");
	if (snap_reader_new(d->vs, 0, &d->r, err) < 0)
		return -1;
	if (!(snap_reader_header(d->r)->flags & SNAP_F_STREAM))
		return verr_set(err, EINVAL, "not a migration stream (a snapshot file?)");
	for (;;) {
		struct snap_section sec;
		int r = snap_reader_next(d->r, &sec, err);
		d->out->bytes = vstream_pos(d->vs);
		if (r < 0)
			return -1;
		if (atomic_load(&d->fault_failed))
			return verr_set(err, EIO, "the page fault thread failed");
		if (r == 0)
			break;
		if (handle_section(d, &sec, err) < 0)
			return -1;
	}
	if (!d->setup_seen)
		return verr_set(err, EINVAL, "empty migration stream");
	if (d->mode == MIGRATE_PRECOPY) {
		uint64_t t0 = now_ns();
		int r = start_vm(d, err);
		log_debug("migration: state sections to end %.2f ms, start %.2f ms", (double)(t0 - d->t_state) / 1e6,
			  (double)(now_ns() - t0) / 1e6);
		return r;
	}
	if (!d->started)
		return verr_set(err, EINVAL, "postcopy stream ended before the VM state");
	uint64_t missing = d->npages - atomic_load(&d->nhave);
	if (missing)
		return verr_set(err, EINVAL, "postcopy stream ended with %llu pages missing",
				(unsigned long long)missing);
	return 0;
}

int migrate_dest_run(int conn_fd, void *ram_hva, uint64_t ram_size, const struct migrate_dest_ops *ops,
		     void *opaque, struct migrate_progress *out, struct verr **err)
{
	memset(out, 0, sizeof(*out));
	out->state = MIGRATE_ACTIVE;
	out->phase = "receiving";
	struct dst d = {
		.ram = ram_hva,
		.size = ram_size,
		.npages = ram_size / MIG_PAGE,
		.nwords = (ram_size / MIG_PAGE + 63) / 64,
		.ops = ops,
		.opaque = opaque,
		.out = out,
		.fd = conn_fd,
		.uffd = -1,
		.stop_pipe = { -1, -1 },
	};
	uint64_t t0 = now_ns();
	pthread_mutex_init(&d.wlock, NULL);
	d.have = xcalloc(d.nwords, sizeof(*d.have));
	d.requested = xcalloc(d.nwords, sizeof(*d.requested));
	mig_socket_setup(conn_fd, RECV_TIMEOUT_MS, RECV_TIMEOUT_MS);
	d.vs = vstream_fd_new(conn_fd, false, false);

	struct verr *e = NULL;
	int r;
	if ((ram_size & (MIG_PAGE - 1)) || ram_size == 0)
		r = verr_set(&e, EINVAL, "RAM size %llu is not a multiple of the page size",
			     (unsigned long long)ram_size);
	else
		r = dst_run(&d, &e);
	if (r < 0)
		(void)rp_send(&d, MIG_RP_ERROR, 0);
	else
		(void)rp_send(&d, MIG_RP_DONE, 0);
	fault_stop(&d);
	if (d.stop_pipe[0] >= 0) {
		close(d.stop_pipe[0]);
		close(d.stop_pipe[1]);
	}
	out->page_requests = atomic_load(&d.nrequests);
	out->total_ms = (now_ns() - t0) / 1000000;
	out->bytes = vstream_pos(d.vs);
	snap_reader_destroy(d.r);
	vstream_destroy(d.vs);
	mig_disk_dst_free(d.disks);
	free((void *)d.have);
	free((void *)d.requested);
	pthread_mutex_destroy(&d.wlock);
	if (r < 0) {
		out->state = MIGRATE_FAILED;
		out->vm_lost = d.started;
		snprintf(out->error, sizeof(out->error), "%s", e->msg);
		verr_wrap(&e, "incoming migration");
		if (err)
			*err = e;
		else
			verr_free(e);
		return -1;
	}
	out->state = MIGRATE_COMPLETED;
	out->phase = "done";
	return 0;
}
