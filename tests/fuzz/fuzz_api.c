/* Fuzzes the control API server with raw bytes sent as an HTTP request on
 * its Unix socket, against a VM whose callbacks only record calls. The
 * server must answer or close, never crash, hang or leak. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/util.h"
#include "vm/api/api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool paused;

static json_t *f_info(void *o, struct verr **err)
{
	return json_pack("{s:s,s:i,s:i,s:i}", "state", paused ? "paused" : "running", "cpus", 1, "memory",
			 1 << 20, "uptime_ms", 1);
}
static int f_pause(void *o, struct verr **err)
{
	if (paused)
		return verr_set(err, EALREADY, "already paused");
	paused = true;
	return 0;
}
static int f_resume(void *o, struct verr **err)
{
	if (!paused)
		return verr_set(err, EALREADY, "already running");
	paused = false;
	return 0;
}
static int f_shutdown(void *o, uint64_t timeout_ms, struct verr **err)
{
	return 0;
}
static int f_snapshot(void *o, const char *path, bool stay, json_t **res, struct verr **err)
{
	*res = json_pack("{s:i,s:i}", "bytes", (int)strlen(path), "ms", 0);
	return 0;
}
static int f_migrate(void *o, const struct vm_api_migrate_req *req, json_t **res, struct verr **err)
{
	return verr_set(err, ENOTSUP, "no migration in the fuzzer (%s)", req->to);
}
static json_t *f_migration(void *o, struct verr **err)
{
	return json_pack("{s:s}", "status", "none");
}

static const struct vm_api_ops ops = {
    .get_info = f_info,
    .pause = f_pause,
    .resume = f_resume,
    .shutdown = f_shutdown,
    .snapshot = f_snapshot,
    .migrate = f_migrate,
    .migration_status = f_migration,
};

static char sock_path[108];

static void start_server(void)
{
	static struct vm_api *api;
	if (api)
		return;
	snprintf(sock_path, sizeof(sock_path), "/tmp/vessel-fuzz-api.%d.sock", (int)getpid());
	struct verr *e = NULL;
	if (vm_api_start(sock_path, &ops, NULL, &api, &e) < 0) {
		fprintf(stderr, "fuzz_api: %s\n", e->msg);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	start_server();
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, sock_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	struct timeval tv = {.tv_sec = 2};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		if (send(fd, data, size, MSG_NOSIGNAL) >= 0) {
			/* end the request so the server answers or gives up */
			shutdown(fd, SHUT_WR);
			char buf[4096];
			while (read(fd, buf, sizeof(buf)) > 0)
				;
		}
	}
	close(fd);
	return 0;
}
