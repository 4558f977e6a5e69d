/* The control API server: libmicrohttpd with one thread per connection on a
 * Unix socket we create ourselves, routing to the owner's vm_api_ops.
 *
 * libmicrohttpd is loaded with dlopen() when a server starts, not linked:
 * Debian's build pulls in GnuTLS and eight more libraries (p11-kit, nettle,
 * ...) whose constructors cost every VM process ~2.8 MiB of RSS even when it
 * serves no API (docs/api.md, "Memory"). */
#include "vm/api/api.h"

#include <errno.h>
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <time.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"

/* The libmicrohttpd functions we use, resolved at the first vm_api_start. */
static struct {
	__typeof__(&MHD_start_daemon) start_daemon;
	__typeof__(&MHD_stop_daemon) stop_daemon;
	__typeof__(&MHD_lookup_connection_value) lookup_connection_value;
	__typeof__(&MHD_create_response_from_buffer) create_response_from_buffer;
	__typeof__(&MHD_add_response_header) add_response_header;
	__typeof__(&MHD_queue_response) queue_response;
	__typeof__(&MHD_destroy_response) destroy_response;
} mhd;
static pthread_once_t mhd_once = PTHREAD_ONCE_INIT;
static char mhd_error[256];

static void mhd_load(void)
{
	static const char *const names[] = { "libmicrohttpd.so.12", "libmicrohttpd.so" };
	void *h = NULL;
	for (size_t i = 0; !h && i < ARRAY_SIZE(names); i++)
		h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(mhd_error, sizeof(mhd_error), "cannot load libmicrohttpd: %s", dlerror());
		return;
	}
	struct {
		const char *name;
		void **slot;
	} syms[] = {
		{ "MHD_start_daemon", (void **)&mhd.start_daemon },
		{ "MHD_stop_daemon", (void **)&mhd.stop_daemon },
		{ "MHD_lookup_connection_value", (void **)&mhd.lookup_connection_value },
		{ "MHD_create_response_from_buffer", (void **)&mhd.create_response_from_buffer },
		{ "MHD_add_response_header", (void **)&mhd.add_response_header },
		{ "MHD_queue_response", (void **)&mhd.queue_response },
		{ "MHD_destroy_response", (void **)&mhd.destroy_response },
	};
	for (size_t i = 0; i < ARRAY_SIZE(syms); i++) {
		*syms[i].slot = dlsym(h, syms[i].name);
		if (!*syms[i].slot) {
			snprintf(mhd_error, sizeof(mhd_error), "libmicrohttpd has no %s", syms[i].name);
			mhd.start_daemon = NULL;
			return;
		}
	}
}

#define API_MAX_CONNECTIONS 32
#define API_IDLE_TIMEOUT_S  60

struct vm_api {
	struct MHD_Daemon *mhd;
	const struct vm_api_ops *ops;
	void *opaque;
	char *path;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	unsigned inflight; /* requests whose answer has not been sent yet */
};

/* Per-request state (MHD's con_cls): the body read so far. */
struct api_req {
	char *body;
	size_t len;
	bool too_large;
	bool migrated; /* a 200 answer to POST /vm/migrate */
};

/* What a route handler produces: a status and an optional JSON body
 * (owned), or an error message. */
struct api_reply {
	unsigned status;
	json_t *json;
};

typedef void (*route_fn)(struct vm_api *a, json_t *body, struct api_reply *out);

static void reply_error(struct api_reply *out, unsigned status, const char *msg)
{
	out->status = status;
	json_decref(out->json);
	out->json = json_pack("{s:s}", "error", msg);
}

/* Maps a callback's error to an HTTP status (see api.h). */
static void reply_verr(struct api_reply *out, struct verr *e, const char *what)
{
	unsigned status = 500;
	if (e) {
		switch (e->errnum) {
		case EINVAL: status = 400; break;
		case EALREADY:
		case EBUSY:
		case EAGAIN:
		case EEXIST: status = 409; break;
		case ENOTSUP: status = 501; break;
		default: break;
		}
	}
	char *msg = xasprintf("%s: %s", what, e && e->msg ? e->msg : "failed without a reason");
	reply_error(out, status, msg);
	free(msg);
	verr_free(e);
}

/* Checks that body (may be NULL) is an object with only the given fields. */
static bool check_fields(json_t *body, const char *const *allowed, struct api_reply *out)
{
	if (!body)
		return true;
	const char *key;
	json_t *v;
	json_object_foreach(body, key, v)
	{
		bool ok = false;
		for (size_t i = 0; allowed[i]; i++)
			ok |= !strcmp(key, allowed[i]);
		if (!ok) {
			char *msg = xasprintf("unknown field '%s'", key);
			reply_error(out, 400, msg);
			free(msg);
			return false;
		}
	}
	return true;
}

static void route_get_vm(struct vm_api *a, json_t *body, struct api_reply *out)
{
	struct verr *e = NULL;
	json_t *info = a->ops->get_info(a->opaque, &e);
	if (!info || !json_is_object(info)) {
		json_decref(info);
		if (!e)
			verr_set(&e, 0, "the VM returned no information");
		reply_verr(out, e, "get VM info");
		return;
	}
	out->status = 200;
	out->json = info;
}

static void route_simple(struct vm_api *a, json_t *body, struct api_reply *out,
			 int (*fn)(void *, struct verr **), const char *what)
{
	static const char *const none[] = {NULL};
	if (!check_fields(body, none, out))
		return;
	struct verr *e = NULL;
	if (fn(a->opaque, &e) < 0) {
		reply_verr(out, e, what);
		return;
	}
	verr_free(e);
	out->status = 204;
}

static void route_pause(struct vm_api *a, json_t *body, struct api_reply *out)
{
	route_simple(a, body, out, a->ops->pause, "pause");
}

static void route_resume(struct vm_api *a, json_t *body, struct api_reply *out)
{
	route_simple(a, body, out, a->ops->resume, "resume");
}

static void route_shutdown(struct vm_api *a, json_t *body, struct api_reply *out)
{
	static const char *const fields[] = {"timeout_s", NULL};
	if (!check_fields(body, fields, out))
		return;
	json_t *t = body ? json_object_get(body, "timeout_s") : NULL;
	if (t && (!json_is_integer(t) || json_integer_value(t) < 0 ||
		  json_integer_value(t) > VM_API_SHUTDOWN_MAX_S)) {
		reply_error(out, 400, "shutdown: \"timeout_s\" must be an integer from 0 to 3600");
		return;
	}
	uint64_t timeout_ms = 1000ull * (t ? (uint64_t)json_integer_value(t) : VM_API_SHUTDOWN_DEFAULT_S);
	struct verr *e = NULL;
	if (a->ops->shutdown(a->opaque, timeout_ms, &e) < 0) {
		reply_verr(out, e, "shutdown");
		return;
	}
	verr_free(e);
	out->status = 204;
}

static void route_snapshot(struct vm_api *a, json_t *body, struct api_reply *out)
{
	static const char *const fields[] = {"path", "paused", NULL};
	if (!body) {
		reply_error(out, 400, "snapshot: a JSON body with \"path\" is required");
		return;
	}
	if (!check_fields(body, fields, out))
		return;
	json_t *path = json_object_get(body, "path");
	json_t *paused = json_object_get(body, "paused");
	if (!json_is_string(path) || json_string_length(path) == 0 ||
	    strlen(json_string_value(path)) != json_string_length(path) ||
	    json_string_length(path) >= PATH_MAX) {
		reply_error(out, 400, "snapshot: \"path\" must be a non-empty file name");
		return;
	}
	if (paused && !json_is_boolean(paused)) {
		reply_error(out, 400, "snapshot: \"paused\" must be a boolean");
		return;
	}
	struct verr *e = NULL;
	json_t *result = NULL;
	if (a->ops->snapshot(a->opaque, json_string_value(path), paused && json_is_true(paused), &result,
			     &e) < 0) {
		json_decref(result);
		reply_verr(out, e, "snapshot");
		return;
	}
	out->status = 200;
	out->json = json_is_object(result) ? result : json_object();
	if (!json_is_object(result))
		json_decref(result);
}

/* "tcp:HOST:PORT" with a non-empty host and a port in 1..65535. */
static bool migrate_target_valid(const char *to)
{
	if (strncmp(to, "tcp:", 4))
		return false;
	const char *host = to + 4, *colon = strrchr(host, ':');
	if (!colon || colon == host)
		return false;
	const char *port = colon + 1;
	if (!*port || strlen(port) > 5)
		return false;
	long p = 0;
	for (const char *c = port; *c; c++) {
		if (*c < '0' || *c > '9')
			return false;
		p = p * 10 + (*c - '0');
	}
	return p >= 1 && p <= 65535;
}

static void route_migrate(struct vm_api *a, json_t *body, struct api_reply *out)
{
	static const char *const fields[] = {"to", "mode", "max_downtime_ms", "disks", NULL};
	if (!body) {
		reply_error(out, 400, "migrate: a JSON body with \"to\" and \"mode\" is required");
		return;
	}
	if (!check_fields(body, fields, out))
		return;
	json_t *to = json_object_get(body, "to"), *mode = json_object_get(body, "mode");
	json_t *dt = json_object_get(body, "max_downtime_ms"), *disks = json_object_get(body, "disks");
	if (!json_is_string(to) || !migrate_target_valid(json_string_value(to))) {
		reply_error(out, 400, "migrate: \"to\" must be \"tcp:HOST:PORT\"");
		return;
	}
	if (!json_is_string(mode) ||
	    (strcmp(json_string_value(mode), "precopy") && strcmp(json_string_value(mode), "postcopy"))) {
		reply_error(out, 400, "migrate: \"mode\" must be \"precopy\" or \"postcopy\"");
		return;
	}
	if (dt && (!json_is_integer(dt) || json_integer_value(dt) < 1 || json_integer_value(dt) > 3600000)) {
		reply_error(out, 400, "migrate: \"max_downtime_ms\" must be an integer from 1 to 3600000");
		return;
	}
	if (disks && (!json_is_string(disks) || (strcmp(json_string_value(disks), "shared") &&
						 strcmp(json_string_value(disks), "copy")))) {
		reply_error(out, 400, "migrate: \"disks\" must be \"shared\" or \"copy\"");
		return;
	}
	struct vm_api_migrate_req req = {
	    .to = json_string_value(to),
	    .mode = json_string_value(mode),
	    .max_downtime_ms = dt ? (uint64_t)json_integer_value(dt) : 0,
	    .disks = disks ? json_string_value(disks) : "shared",
	};
	struct verr *e = NULL;
	json_t *result = NULL;
	if (a->ops->migrate(a->opaque, &req, &result, &e) < 0) {
		json_decref(result);
		reply_verr(out, e, "migrate");
		return;
	}
	out->status = 200;
	out->json = json_is_object(result) ? result : json_object();
	if (!json_is_object(result))
		json_decref(result);
}

static void route_migration(struct vm_api *a, json_t *body, struct api_reply *out)
{
	struct verr *e = NULL;
	json_t *st = a->ops->migration_status(a->opaque, &e);
	if (!st || !json_is_object(st)) {
		json_decref(st);
		if (!e)
			verr_set(&e, 0, "the VM returned no migration status");
		reply_verr(out, e, "migration status");
		return;
	}
	out->status = 200;
	out->json = st;
}

static const struct api_route {
	const char *path;
	const char *method;
	route_fn fn;
} api_routes[] = {
    {"/vm", "GET", route_get_vm},
    {"/vm/pause", "POST", route_pause},
    {"/vm/resume", "POST", route_resume},
    {"/vm/shutdown", "POST", route_shutdown},
    {"/vm/snapshot", "POST", route_snapshot},
    {"/vm/migrate", "POST", route_migrate},
    {"/vm/migration", "GET", route_migration},
};

/* An owner may leave callbacks it does not implement NULL: 501. */
static bool route_available(const struct vm_api *a, route_fn fn)
{
	const struct vm_api_ops *o = a->ops;
	if (fn == route_get_vm)
		return o->get_info;
	if (fn == route_pause)
		return o->pause;
	if (fn == route_resume)
		return o->resume;
	if (fn == route_shutdown)
		return o->shutdown;
	if (fn == route_snapshot)
		return o->snapshot;
	if (fn == route_migrate)
		return o->migrate;
	return o->migration_status;
}

static enum MHD_Result send_reply(struct MHD_Connection *c, const struct api_reply *r, const char *allow)
{
	struct MHD_Response *resp;
	if (r->json) {
		char *s = json_dumps(r->json, JSON_COMPACT);
		if (!s)
			return MHD_NO;
		resp = mhd.create_response_from_buffer(strlen(s), s, MHD_RESPMEM_MUST_FREE);
		if (!resp) {
			free(s);
			return MHD_NO;
		}
		mhd.add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	} else {
		resp = mhd.create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		if (!resp)
			return MHD_NO;
	}
	if (allow)
		mhd.add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	enum MHD_Result ret = mhd.queue_response(c, r->status, resp);
	mhd.destroy_response(resp);
	return ret;
}

static void dispatch(struct vm_api *a, const char *url, const char *method, struct api_req *req,
		     struct api_reply *out, const char **allow)
{
	const struct api_route *route = NULL;
	bool path_known = false;
	for (size_t i = 0; i < ARRAY_SIZE(api_routes); i++) {
		if (strcmp(url, api_routes[i].path))
			continue;
		path_known = true;
		*allow = api_routes[i].method;
		if (!strcmp(method, api_routes[i].method))
			route = &api_routes[i];
	}
	if (!path_known) {
		char *msg = xasprintf("no such resource '%s'", url);
		reply_error(out, 404, msg);
		free(msg);
		*allow = NULL;
		return;
	}
	if (!route) {
		char *msg = xasprintf("method %s is not allowed on %s (use %s)", method, url, *allow);
		reply_error(out, 405, msg);
		free(msg);
		return;
	}
	*allow = NULL;
	json_t *body = NULL;
	if (req->len) {
		json_error_t je;
		body = json_loadb(req->body, req->len, JSON_REJECT_DUPLICATES, &je);
		if (!body) {
			char *msg = xasprintf("bad JSON in request body: %s (line %d, column %d)", je.text,
					      je.line, je.column);
			reply_error(out, 400, msg);
			free(msg);
			return;
		}
		if (!json_is_object(body)) {
			json_decref(body);
			reply_error(out, 400, "request body must be a JSON object");
			return;
		}
	}
	if (!route_available(a, route->fn)) {
		char *msg = xasprintf("%s %s is not available in this VM", method, url);
		reply_error(out, 501, msg);
		free(msg);
	} else {
		route->fn(a, body, out);
	}
	json_decref(body);
}

static enum MHD_Result api_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				   const char *version, const char *upload_data, size_t *upload_data_size,
				   void **con_cls)
{
	struct vm_api *a = cls;
	struct api_req *req = *con_cls;
	if (!req) {
		req = xcalloc(1, sizeof(*req));
		*con_cls = req;
		pthread_mutex_lock(&a->lock);
		a->inflight++;
		pthread_mutex_unlock(&a->lock);
		const char *cl =
		    mhd.lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > VM_API_MAX_BODY) {
			/* answer at once: the body is never read, MHD closes
			 * the connection after the reply */
			req->too_large = true;
			struct api_reply r = {0};
			reply_error(&r, 413, "request body is larger than 64 KiB");
			enum MHD_Result ret = send_reply(c, &r, NULL);
			json_decref(r.json);
			return ret;
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (!req->too_large) {
			if (*upload_data_size > VM_API_MAX_BODY - req->len) {
				req->too_large = true;
				free(req->body);
				req->body = NULL;
				req->len = 0;
			} else {
				req->body = xrealloc(req->body, req->len + *upload_data_size);
				memcpy(req->body + req->len, upload_data, *upload_data_size);
				req->len += *upload_data_size;
			}
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	struct api_reply r = {0};
	const char *allow = NULL;
	if (req->too_large)
		reply_error(&r, 413, "request body is larger than 64 KiB");
	else
		dispatch(a, url, method, req, &r, &allow);
	req->migrated = r.status == 200 && !strcmp(method, "POST") && !strcmp(url, "/vm/migrate");
	log_debug("api: %s %s -> %u", method, url, r.status);
	enum MHD_Result ret = send_reply(c, &r, allow);
	json_decref(r.json);
	return ret;
}

static void api_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			  enum MHD_RequestTerminationCode toe)
{
	struct vm_api *a = cls;
	struct api_req *req = *con_cls;
	if (req) {
		/* the answer is out (or the client left): the VM may go now */
		if (req->migrated && a->ops->migrated)
			a->ops->migrated(a->opaque);
		free(req->body);
		free(req);
		*con_cls = NULL;
		pthread_mutex_lock(&a->lock);
		a->inflight--;
		pthread_cond_broadcast(&a->idle);
		pthread_mutex_unlock(&a->lock);
	}
}

/* Creates the listening socket: replaces a stale socket file, refuses one
 * in use or a path that is something else. Returns the fd or -1. */
static int api_listen(const char *path, struct verr **err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return verr_set(err, ENAMETOOLONG, "API socket '%s'", path);
	strcpy(sa.sun_path, path);
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return verr_set(err, 0, "API socket '%s': path exists and is not a socket", path);
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe < 0)
			return verr_set(err, errno, "socket");
		int r = connect(probe, (struct sockaddr *)&sa, sizeof(sa));
		int e = errno;
		close(probe);
		if (r == 0)
			return verr_set(err, EADDRINUSE, "API socket '%s' is in use by another process",
					path);
		if (e != ECONNREFUSED && e != ENOENT)
			return verr_set(err, e, "API socket '%s': probe", path);
		if (unlink(path) < 0 && errno != ENOENT)
			return verr_set(err, errno, "remove stale API socket '%s'", path);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return verr_set(err, errno, "socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return verr_set(err, e, "bind API socket '%s'", path);
	}
	/* nobody can connect before listen(), so tightening the mode here
	 * leaves no window where the socket is open to others */
	if (chmod(path, 0600) < 0 || listen(fd, 16) < 0) {
		int e = errno;
		close(fd);
		unlink(path);
		return verr_set(err, e, "set up API socket '%s'", path);
	}
	return fd;
}

int vm_api_start(const char *socket_path, const struct vm_api_ops *ops, void *opaque, struct vm_api **out,
		 struct verr **err)
{
	pthread_once(&mhd_once, mhd_load);
	if (!mhd.start_daemon)
		return verr_set(err, ENOTSUP, "API socket '%s': %s", socket_path, mhd_error);
	int fd = api_listen(socket_path, err);
	if (fd < 0)
		return -1;
	struct vm_api *a = xcalloc(1, sizeof(*a));
	a->ops = ops;
	a->opaque = opaque;
	a->path = xstrdup(socket_path);
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->idle, NULL);
	a->mhd =
	    mhd.start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
			     api_handler, a, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED,
			     api_completed, a, MHD_OPTION_CONNECTION_LIMIT, (unsigned)API_MAX_CONNECTIONS,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)API_IDLE_TIMEOUT_S, MHD_OPTION_END);
	if (!a->mhd) {
		close(fd);
		unlink(socket_path);
		pthread_mutex_destroy(&a->lock);
		pthread_cond_destroy(&a->idle);
		free(a->path);
		free(a);
		return verr_set(err, 0, "API socket '%s': cannot start the HTTP server", socket_path);
	}
	*out = a;
	return 0;
}

void vm_api_stop(struct vm_api *a)
{
	if (!a)
		return;
	/* Answers being sent (e.g. the 204 of the shutdown that stopped the
	 * VM) go out before the connections are torn down; bounded, so a
	 * stuck client cannot hold the VMM. */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 2;
	pthread_mutex_lock(&a->lock);
	while (a->inflight && pthread_cond_timedwait(&a->idle, &a->lock, &ts) == 0)
		;
	pthread_mutex_unlock(&a->lock);
	mhd.stop_daemon(a->mhd); /* also closes the listening socket */
	unlink(a->path);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->idle);
	free(a->path);
	free(a);
}
