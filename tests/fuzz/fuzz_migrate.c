/* Fuzzes a live migration's destination: the input is what a source sends
 * over the socket (fed through a socketpair by a second thread, then EOF).
 * migrate_dest_run must accept or refuse it cleanly, precopy or postcopy
 * (userfaultfd placement), with disk contents ("disks": "copy") into a
 * 256 KiB raw image: no out-of-bounds access, no hang, no leak, no write
 * outside the 16-page RAM it was given (nor outside the image). */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/util.h"
#include "vm/block/block.h"
#include "vm/migrate/migrate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_PAGES 16

struct feed {
	int fd;
	const uint8_t *data;
	size_t len;
};

static void *feed_main(void *arg)
{
	struct feed *f = arg;
	size_t off = 0;
	while (off < f->len) {
		ssize_t n = send(f->fd, f->data + off, f->len - off, MSG_NOSIGNAL);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	shutdown(f->fd, SHUT_WR);
	char buf[256];
	while (read(f->fd, buf, sizeof(buf)) > 0) /* the return path */
		;
	return NULL;
}

static int load(void *opaque, const struct snap_section *sec, struct verr **err)
{
	(void)opaque;
	if (!strcmp(sec->name, "fake-dev"))
		return snap_section_check_version(sec, 1, err);
	return snap_section_unknown(sec, err);
}

static int start(void *opaque, struct verr **err)
{
	(void)opaque;
	(void)err;
	return 0;
}

/* One image for the whole run, in a directory removed at once (the open
 * image outlives its name). */
static struct block *disk;

static int take_disks(void *opaque, struct block **disks, unsigned *n, struct verr **err)
{
	(void)opaque;
	if (!disk) {
		char dir[] = "/tmp/vessel-fuzz-migrate-XXXXXX";
		if (!mkdtemp(dir))
			abort();
		char *path = xasprintf("%s/disk.raw", dir);
		int fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
		if (fd < 0 || ftruncate(fd, 256 << 10) < 0)
			abort();
		close(fd);
		if (block_open(path, BLOCK_FMT_RAW, false, &disk, err) < 0)
			abort();
		unlink(path);
		rmdir(dir);
		free(path);
	}
	disks[0] = disk;
	*n = 1;
	return 0;
}

static const struct migrate_dest_ops ops = { .load_section = load, .start = start, .take_disks = take_disks };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	/* guard pages around RAM: a stray write faults */
	uint8_t *area = mmap(NULL, (RAM_PAGES + 2) * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (area == MAP_FAILED)
		abort();
	uint8_t *ram = area + 4096;
	if (mprotect(ram, RAM_PAGES * 4096, PROT_READ | PROT_WRITE) < 0)
		abort();
	struct feed f = { sv[0], data, size };
	pthread_t t;
	if (pthread_create(&t, NULL, feed_main, &f) != 0)
		abort();
	struct migrate_progress pr;
	struct verr *e = NULL;
	(void)migrate_dest_run(sv[1], ram, RAM_PAGES * 4096, &ops, NULL, &pr, &e);
	verr_free(e);
	close(sv[1]);
	pthread_join(t, NULL);
	close(sv[0]);
	munmap(area, (RAM_PAGES + 2) * 4096);
	return 0;
}
