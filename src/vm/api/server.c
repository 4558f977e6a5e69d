/* The control API server: a small HTTP/1.1 server of our own on a Unix
 * socket we create, routing to the owner's vm_api_ops (docs/api.md, "HTTP
 * server": why not libmicrohttpd).
 *
 * Threads: one acceptor thread poll()s the listening socket; each accepted
 * connection gets its own thread (at most API_MAX_CONNECTIONS at once; more
 * are answered 503 and closed). A thread per connection, like the
 * libmicrohttpd setup this replaces, because callbacks block for seconds
 * (a snapshot, a migration, a shutdown waiting for the guest) and other
 * requests must still be served meanwhile; a single poll() loop would need
 * worker threads for those anyway. Threads cost their touched stack pages
 * only, and the CLI's requests are short-lived connections.
 *
 * Every connection reads into one fixed buffer (head + largest body), parses
 * with http_parse_request() (src/vm/api/http.c, fuzzed), and is bounded in
 * time: a request must arrive whole, and an idle keep-alive connection must
 * send its next one, within API_READ_TIMEOUT_MS, or the connection is closed
 * (408 if a request was under way). */
#include "vm/api/api.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"
#include "vm/api/http.h"

#define API_MAX_CONNECTIONS 16
#define API_READ_TIMEOUT_MS 10000
#define API_WRITE_TIMEOUT_MS 10000
/* After refusing a request, the rest of what the client sends is read and
 * dropped for a while, so the answer reaches it before the close (closing
 * with unread data would reset the connection). */
#define API_LINGER_MS 1000
#define API_LINGER_BYTES (256 * 1024)
#define API_BUF_SIZE (HTTP_MAX_HEADER + VM_API_MAX_BODY)

struct vm_api {
	const struct vm_api_ops *ops;
	void *opaque;
	char *path;
	int listen_fd;
	int wake[2]; /* written by vm_api_stop to end the acceptor */
	pthread_t acceptor;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stopping;
	unsigned inflight; /* requests whose answer has not been sent yet */
	unsigned nconn;	   /* connection threads alive */
	int conn_fd[API_MAX_CONNECTIONS]; /* -1: free slot */
};

struct api_conn {
	struct vm_api *a;
	int fd;
	unsigned slot;
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
		case EEXIST:
		case ECANCELED: status = 409; break;
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

/* GET routes take no fields either (bodies are strict: a client sending
 * one expects it to mean something). */
static bool check_no_fields(json_t *body, struct api_reply *out)
{
	static const char *const none[] = {NULL};
	return check_fields(body, none, out);
}

static void route_get_vm(struct vm_api *a, json_t *body, struct api_reply *out)
{
	if (!check_no_fields(body, out))
		return;
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
	static const char *const fields[] = {"to", "mode", "max_downtime_ms", "disks", "precopy_rounds", NULL};
	if (!body) {
		reply_error(out, 400, "migrate: a JSON body with \"to\" and \"mode\" is required");
		return;
	}
	if (!check_fields(body, fields, out))
		return;
	json_t *to = json_object_get(body, "to"), *mode = json_object_get(body, "mode");
	json_t *dt = json_object_get(body, "max_downtime_ms"), *disks = json_object_get(body, "disks");
	json_t *rounds = json_object_get(body, "precopy_rounds");
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
	if (rounds && (!json_is_integer(rounds) || json_integer_value(rounds) < 0 ||
		       json_integer_value(rounds) > VM_API_MAX_PRECOPY_ROUNDS)) {
		reply_error(out, 400, "migrate: \"precopy_rounds\" must be an integer from 0 to 30");
		return;
	}
	if (rounds && strcmp(json_string_value(mode), "postcopy")) {
		reply_error(out, 400, "migrate: \"precopy_rounds\" is for \"mode\": \"postcopy\" (a precopy "
				      "runs its rounds until it converges)");
		return;
	}
	struct vm_api_migrate_req req = {
	    .to = json_string_value(to),
	    .mode = json_string_value(mode),
	    .max_downtime_ms = dt ? (uint64_t)json_integer_value(dt) : 0,
	    .disks = disks ? json_string_value(disks) : "shared",
	    .precopy_rounds = rounds ? (unsigned)json_integer_value(rounds) : 0,
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
	if (!check_no_fields(body, out))
		return;
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

static void route_snapshot_status(struct vm_api *a, json_t *body, struct api_reply *out)
{
	if (!check_no_fields(body, out))
		return;
	struct verr *e = NULL;
	json_t *st = a->ops->snapshot_status(a->opaque, &e);
	if (!st || !json_is_object(st)) {
		json_decref(st);
		if (!e)
			verr_set(&e, 0, "the VM returned no snapshot status");
		reply_verr(out, e, "snapshot status");
		return;
	}
	out->status = 200;
	out->json = st;
}

static void route_migrate_postcopy(struct vm_api *a, json_t *body, struct api_reply *out)
{
	route_simple(a, body, out, a->ops->migrate_postcopy, "switch to postcopy");
}

static void route_migrate_cancel(struct vm_api *a, json_t *body, struct api_reply *out)
{
	route_simple(a, body, out, a->ops->migrate_cancel, "cancel the migration");
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
    {"/vm/snapshot", "GET", route_snapshot_status},
    {"/vm/snapshot", "POST", route_snapshot},
    {"/vm/migrate", "POST", route_migrate},
    {"/vm/migration", "GET", route_migration},
    {"/vm/migration/postcopy", "POST", route_migrate_postcopy},
    {"/vm/migration/cancel", "POST", route_migrate_cancel},
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
	if (fn == route_snapshot_status)
		return o->snapshot_status;
	if (fn == route_migrate)
		return o->migrate;
	if (fn == route_migrate_postcopy)
		return o->migrate_postcopy;
	if (fn == route_migrate_cancel)
		return o->migrate_cancel;
	return o->migration_status;
}

/* Longest Allow value: every method a path has, ", "-separated. */
#define API_ALLOW_MAX 32

/* Routes the request; for a 405, allow gets the path's methods ("" otherwise).
 * HEAD is served as GET (send_reply leaves the body out). */
static void dispatch(struct vm_api *a, const char *url, const char *method, const char *req_body,
		     size_t req_len, struct api_reply *out, char allow[API_ALLOW_MAX])
{
	const struct api_route *route = NULL;
	const char *match = strcmp(method, "HEAD") ? method : "GET";
	bool path_known = false;
	allow[0] = 0;
	for (size_t i = 0; i < ARRAY_SIZE(api_routes); i++) {
		if (strcmp(url, api_routes[i].path))
			continue;
		path_known = true;
		size_t n = strlen(allow);
		snprintf(allow + n, API_ALLOW_MAX - n, "%s%s", n ? ", " : "", api_routes[i].method);
		if (!strcmp(match, api_routes[i].method))
			route = &api_routes[i];
	}
	if (!path_known) {
		char *msg = xasprintf("no such resource '%s'", url);
		reply_error(out, 404, msg);
		free(msg);
		allow[0] = 0;
		return;
	}
	if (!route) {
		char *msg = xasprintf("method %s is not allowed on %s (use %s)", method, url, allow);
		reply_error(out, 405, msg);
		free(msg);
		return;
	}
	allow[0] = 0;
	json_t *body = NULL;
	if (req_len) {
		json_error_t je;
		body = json_loadb(req_body, req_len, JSON_REJECT_DUPLICATES, &je);
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

static uint64_t now_ms(void)
{
	return now_ns() / 1000000;
}

/* Sends all of p[0..len) within API_WRITE_TIMEOUT_MS; 0 or -errno. */
static int conn_send(int fd, const char *p, size_t len)
{
	uint64_t deadline = now_ms() + API_WRITE_TIMEOUT_MS;
	while (len) {
		ssize_t r = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (r >= 0) {
			p += r;
			len -= (size_t)r;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		uint64_t now = now_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		struct pollfd pfd = {.fd = fd, .events = POLLOUT};
		if (poll(&pfd, 1, (int)(deadline - now)) < 0 && errno != EINTR)
			return -errno;
	}
	return 0;
}

/* Sends an answer: the JSON body if any (as application/json with its
 * Content-Length), an Allow header if allow, and "Connection: close" if the
 * connection ends after it. head_only (HEAD requests) leaves the body out. */
static int send_reply(int fd, const struct api_reply *r, const char *allow, bool close_after, bool head_only)
{
	cleanup_free char *body = r->json ? json_dumps(r->json, JSON_COMPACT) : NULL;
	if (r->json && !body)
		return -ENOMEM;
	size_t blen = body ? strlen(body) : 0;
	char length[96] = "";
	if (body)
		snprintf(length, sizeof(length), "Content-Type: application/json\r\nContent-Length: %zu\r\n", blen);
	else if (r->status != 204)
		snprintf(length, sizeof(length), "Content-Length: 0\r\n");
	cleanup_free char *msg =
	    xasprintf("HTTP/1.1 %u %s\r\n%s%s%s%s%s\r\n%s", r->status, http_reason(r->status), length,
		      allow ? "Allow: " : "", allow ? allow : "", allow ? "\r\n" : "",
		      close_after ? "Connection: close\r\n" : "", head_only || !body ? "" : body);
	return conn_send(fd, msg, strlen(msg));
}

/* Refuses the request with status and why, then lingers (see
 * API_LINGER_MS); the caller closes the connection. */
static void conn_refuse(int fd, unsigned status, const char *why)
{
	struct api_reply r = {0};
	reply_error(&r, status, why);
	log_debug("api: refused -> %u (%s)", status, why);
	int sent = send_reply(fd, &r, NULL, true, false);
	json_decref(r.json);
	if (sent < 0 || shutdown(fd, SHUT_WR) < 0)
		return;
	uint64_t deadline = now_ms() + API_LINGER_MS;
	char sink[4096];
	for (size_t total = 0; total < API_LINGER_BYTES;) {
		uint64_t now = now_ms();
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (now >= deadline || poll(&pfd, 1, (int)(deadline - now)) <= 0)
			return;
		ssize_t n = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (n <= 0 && !(n < 0 && (errno == EINTR || errno == EAGAIN)))
			return;
		if (n > 0)
			total += (size_t)n;
	}
}

/* Answers one complete request; returns false if the connection must end. */
static bool conn_serve(struct vm_api *a, int fd, const struct http_request *req)
{
	pthread_mutex_lock(&a->lock);
	a->inflight++;
	pthread_mutex_unlock(&a->lock);
	struct api_reply r = {0};
	char allow[API_ALLOW_MAX];
	bool head = !strcmp(req->method, "HEAD");
	dispatch(a, req->path, req->method, req->body, req->content_length, &r, allow);
	bool migrated = r.status == 200 && !strcmp(req->method, "POST") && !strcmp(req->path, "/vm/migrate");
	log_debug("api: %s %s -> %u", req->method, req->path, r.status);
	int sent = send_reply(fd, &r, allow[0] ? allow : NULL, !req->keep_alive, head);
	json_decref(r.json);
	/* the answer is out (or the client left): the VM may go now */
	if (migrated && a->ops->migrated)
		a->ops->migrated(a->opaque);
	pthread_mutex_lock(&a->lock);
	a->inflight--;
	pthread_cond_broadcast(&a->cond);
	bool stopping = a->stopping;
	pthread_mutex_unlock(&a->lock);
	return sent == 0 && req->keep_alive && !stopping;
}

/* Serves requests on one connection until it closes, fails or times out. */
static void conn_loop(struct vm_api *a, int fd)
{
	cleanup_free char *buf = xmalloc(API_BUF_SIZE);
	size_t len = 0;
	for (;;) {
		/* one request: it must arrive whole within the timeout */
		uint64_t deadline = now_ms() + API_READ_TIMEOUT_MS;
		struct http_request req;
		bool continued = false;
		enum http_parse st;
		while ((st = http_parse_request(buf, len, &req)) == HTTP_PARSE_INCOMPLETE) {
			if (req.header_len && req.expect_continue && !continued) {
				static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
				if (conn_send(fd, cont, sizeof(cont) - 1) < 0)
					return;
				continued = true;
			}
			/* the head is parsed: wait for the whole body before
			 * parsing again */
			size_t need = req.header_len ? req.total_len : len + 1;
			while (len < need) {
				uint64_t now = now_ms();
				if (now >= deadline) {
					if (len)
						conn_refuse(fd, 408, "request not received in time");
					return;
				}
				struct pollfd pfd = {.fd = fd, .events = POLLIN};
				int pr = poll(&pfd, 1, (int)(deadline - now));
				if (pr < 0 && errno != EINTR)
					return;
				if (pr <= 0)
					continue;
				/* API_BUF_SIZE holds any request the parser
				 * accepts, so there is always room here */
				ssize_t n = recv(fd, buf + len, API_BUF_SIZE - len, MSG_DONTWAIT);
				if (n == 0)
					return; /* closed, possibly mid-request */
				if (n < 0) {
					if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
						continue;
					return;
				}
				len += (size_t)n;
			}
		}
		if (st == HTTP_PARSE_ERROR) {
			conn_refuse(fd, req.status, req.error);
			return;
		}
		if (!conn_serve(a, fd, &req))
			return;
		/* pipelined requests stay in the buffer */
		memmove(buf, buf + req.total_len, len - req.total_len);
		len -= req.total_len;
	}
}

static void *conn_main(void *arg)
{
	struct api_conn *c = arg;
	struct vm_api *a = c->a;
	conn_loop(a, c->fd);
	pthread_mutex_lock(&a->lock);
	a->conn_fd[c->slot] = -1;
	close(c->fd);
	a->nconn--;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
	free(c);
	return NULL;
}

/* Takes a new connection: a thread of its own, or 503 when all
 * API_MAX_CONNECTIONS are busy. */
static void api_accept(struct vm_api *a)
{
	int fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		/* out of descriptors or memory: the pending connection stays
		 * pending, so wait a little instead of spinning on it */
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			poll(&(struct pollfd){.fd = a->wake[0], .events = POLLIN}, 1, 100);
		return;
	}
	pthread_mutex_lock(&a->lock);
	unsigned slot = API_MAX_CONNECTIONS;
	for (unsigned i = 0; !a->stopping && i < API_MAX_CONNECTIONS; i++) {
		if (a->conn_fd[i] < 0) {
			slot = i;
			break;
		}
	}
	if (slot == API_MAX_CONNECTIONS) {
		pthread_mutex_unlock(&a->lock);
		/* never blocks the acceptor: a full socket buffer just loses
		 * the answer */
		static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
					   "Content-Length: 48\r\nConnection: close\r\n\r\n"
					   "{\"error\":\"too many connections to the API (16)\"}";
		_Static_assert(sizeof("{\"error\":\"too many connections to the API (16)\"}") - 1 == 48,
			       "Content-Length of the 503 answer");
		ssize_t r = send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)r;
		close(fd);
		return;
	}
	struct api_conn *c = xmalloc(sizeof(*c));
	*c = (struct api_conn){.a = a, .fd = fd, .slot = slot};
	a->conn_fd[slot] = fd;
	a->nconn++;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_t t;
	int r = pthread_create(&t, &attr, conn_main, c);
	pthread_attr_destroy(&attr);
	if (r) {
		a->conn_fd[slot] = -1;
		a->nconn--;
		close(fd);
		free(c);
		log_warn("api: cannot start a connection thread: %s", strerror(r));
	}
	pthread_mutex_unlock(&a->lock);
}

static void *acceptor_main(void *arg)
{
	struct vm_api *a = arg;
	for (;;) {
		struct pollfd p[2] = {{.fd = a->listen_fd, .events = POLLIN}, {.fd = a->wake[0], .events = POLLIN}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("api: poll: %s", strerror(errno));
			return NULL;
		}
		if (p[1].revents)
			return NULL;
		if (p[0].revents & (POLLERR | POLLNVAL)) {
			log_warn("api: the listening socket failed");
			return NULL;
		}
		if (p[0].revents & POLLIN)
			api_accept(a);
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
	int fd = api_listen(socket_path, err);
	if (fd < 0)
		return -1;
	struct vm_api *a = xcalloc(1, sizeof(*a));
	a->ops = ops;
	a->opaque = opaque;
	a->path = xstrdup(socket_path);
	a->listen_fd = fd;
	for (unsigned i = 0; i < API_MAX_CONNECTIONS; i++)
		a->conn_fd[i] = -1;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	int r = pipe2(a->wake, O_CLOEXEC) < 0 ? errno : 0;
	if (!r)
		r = pthread_create(&a->acceptor, NULL, acceptor_main, a);
	if (r) {
		if (a->wake[0] > 0) {
			close(a->wake[0]);
			close(a->wake[1]);
		}
		close(fd);
		unlink(socket_path);
		pthread_mutex_destroy(&a->lock);
		pthread_cond_destroy(&a->cond);
		free(a->path);
		free(a);
		return verr_set(err, r, "API socket '%s': cannot start the server thread", socket_path);
	}
	*out = a;
	return 0;
}

unsigned vm_api_connections(struct vm_api *a)
{
	pthread_mutex_lock(&a->lock);
	unsigned n = a->nconn;
	pthread_mutex_unlock(&a->lock);
	return n;
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
	while (a->inflight && pthread_cond_timedwait(&a->cond, &a->lock, &ts) == 0)
		;
	/* no new connections; idle ones wake up to a closed socket */
	a->stopping = true;
	for (unsigned i = 0; i < API_MAX_CONNECTIONS; i++)
		if (a->conn_fd[i] >= 0)
			shutdown(a->conn_fd[i], SHUT_RDWR);
	pthread_mutex_unlock(&a->lock);
	ssize_t w = write(a->wake[1], "x", 1);
	(void)w;
	pthread_join(a->acceptor, NULL);
	close(a->listen_fd);
	close(a->wake[0]);
	close(a->wake[1]);
	unlink(a->path);
	/* a thread still in a callback finishes it first (as it always did) */
	pthread_mutex_lock(&a->lock);
	while (a->nconn)
		pthread_cond_wait(&a->cond, &a->lock);
	pthread_mutex_unlock(&a->lock);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->cond);
	free(a->path);
	free(a);
}
