/* Control API: every route against a fake VM, each answer validated against
 * docs/openapi.json (status documented, JSON shape: required fields, types,
 * enums), bad input, body limits, concurrency, socket handling; and
 * docs/openapi.yaml kept equal to the YAML rendering of docs/openapi.json
 * (run with VESSEL_UPDATE_OPENAPI=1 to regenerate it). */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/util.h"
#include "vm/api/api.h"

/* ---- the fake VM ---- */

struct fake_vm {
	pthread_mutex_t lock;
	bool paused;
	bool shutdown;
	uint64_t shutdown_timeout_ms;
	int migrating; /* 0 none, 1 active, 2 completed */
	char last_snapshot[256];
	bool last_stay_paused;
	char last_to[128];
	uint64_t last_downtime;
	volatile bool release_migration;
	volatile int migrated; /* calls of the migrated hook */
	bool postcopy_asked, cancel_asked;
	int snapshots; /* written */
	unsigned last_precopy_rounds;
};

static json_t *fake_info(void *opaque, struct verr **err)
{
	struct fake_vm *vm = opaque;
	pthread_mutex_lock(&vm->lock);
	json_t *j = json_pack("{s:s,s:s,s:i,s:I,s:I,s:{s:{s:I}}}", "state", vm->paused ? "paused" : "running",
			      "operation", vm->migrating == 1 ? "migrating" : "none", "cpus", 2, "memory",
			      (json_int_t)256 << 20, "uptime_ms", (json_int_t)1234, "devices", "virtio-blk0", "reads",
			      (json_int_t)7);
	if (vm->migrating == 1)
		json_object_set_new(j, "operation_phase", json_string("precopy"));
	pthread_mutex_unlock(&vm->lock);
	return j;
}

static int fake_set_paused(struct fake_vm *vm, bool paused, struct verr **err)
{
	pthread_mutex_lock(&vm->lock);
	int r = 0;
	if (vm->paused == paused)
		r = verr_set(err, EALREADY, "VM is already %s", paused ? "paused" : "running");
	vm->paused = paused;
	pthread_mutex_unlock(&vm->lock);
	return r;
}

static int fake_pause(void *opaque, struct verr **err)
{
	return fake_set_paused(opaque, true, err);
}

static int fake_resume(void *opaque, struct verr **err)
{
	return fake_set_paused(opaque, false, err);
}

static int fake_shutdown(void *opaque, uint64_t timeout_ms, struct verr **err)
{
	struct fake_vm *vm = opaque;
	vm->shutdown = true;
	vm->shutdown_timeout_ms = timeout_ms;
	return 0;
}

static int fake_snapshot(void *opaque, const char *path, bool stay_paused, json_t **result, struct verr **err)
{
	struct fake_vm *vm = opaque;
	if (!strncmp(path, "/fail", 5))
		return verr_set(err, EIO, "write '%s'", path);
	snprintf(vm->last_snapshot, sizeof(vm->last_snapshot), "%s", path);
	vm->last_stay_paused = stay_paused;
	vm->snapshots++;
	*result = json_pack("{s:I,s:f}", "bytes", (json_int_t)4096, "ms", 1.5);
	return 0;
}

static int fake_migrate(void *opaque, const struct vm_api_migrate_req *req, json_t **result,
			struct verr **err)
{
	struct fake_vm *vm = opaque;
	if (!strcmp(req->mode, "postcopy"))
		return verr_set(err, ENOTSUP, "postcopy is not available");
	pthread_mutex_lock(&vm->lock);
	if (vm->migrating == 1) {
		pthread_mutex_unlock(&vm->lock);
		return verr_set(err, EBUSY, "a migration is already running");
	}
	vm->migrating = 1;
	pthread_mutex_unlock(&vm->lock);
	snprintf(vm->last_to, sizeof(vm->last_to), "%s", req->to);
	vm->last_downtime = req->max_downtime_ms;
	vm->last_precopy_rounds = req->precopy_rounds;
	/* a long operation: waits until the test has seen its progress */
	for (int i = 0; i < 500 && !vm->release_migration; i++)
		usleep(10000);
	pthread_mutex_lock(&vm->lock);
	vm->migrating = 2;
	pthread_mutex_unlock(&vm->lock);
	*result = json_pack("{s:f,s:f,s:i,s:I}", "total_ms", 120.0, "downtime_ms", 3.2, "iterations", 4,
			    "bytes", (json_int_t)1 << 28);
	return 0;
}

static json_t *fake_migration(void *opaque, struct verr **err)
{
	struct fake_vm *vm = opaque;
	static const char *const names[] = {"none", "active", "completed"};
	pthread_mutex_lock(&vm->lock);
	json_t *j =
	    json_pack("{s:s,s:i}", "status", names[vm->migrating], "iterations", vm->migrating ? 2 : 0);
	pthread_mutex_unlock(&vm->lock);
	return j;
}

static json_t *fake_snapshot_status(void *opaque, struct verr **err)
{
	struct fake_vm *vm = opaque;
	if (!vm->snapshots)
		return json_pack("{s:s,s:s,s:i,s:i}", "status", "none", "phase", "none", "bytes", 0, "total_bytes", 0);
	return json_pack("{s:s,s:s,s:i,s:i,s:s,s:i,s:i}", "status", "completed", "phase", "done", "bytes", 4096,
			 "total_bytes", 4096, "path", vm->last_snapshot, "total_ms", 2, "ms", 1);
}

static int fake_migrate_postcopy(void *opaque, struct verr **err)
{
	struct fake_vm *vm = opaque;
	pthread_mutex_lock(&vm->lock);
	int r = vm->migrating == 1 ? 0 : verr_set(err, EALREADY, "no migration is running");
	vm->postcopy_asked |= r == 0;
	pthread_mutex_unlock(&vm->lock);
	return r;
}

static int fake_migrate_cancel(void *opaque, struct verr **err)
{
	struct fake_vm *vm = opaque;
	pthread_mutex_lock(&vm->lock);
	int r = vm->migrating == 1 ? 0 : verr_set(err, EALREADY, "no migration is running");
	vm->cancel_asked |= r == 0;
	pthread_mutex_unlock(&vm->lock);
	return r;
}

static void fake_migrated(void *opaque)
{
	struct fake_vm *vm = opaque;
	pthread_mutex_lock(&vm->lock);
	vm->migrated++;
	pthread_mutex_unlock(&vm->lock);
}

static const struct vm_api_ops fake_ops = {
    .get_info = fake_info,
    .pause = fake_pause,
    .resume = fake_resume,
    .shutdown = fake_shutdown,
    .snapshot = fake_snapshot,
    .migrate = fake_migrate,
    .migration_status = fake_migration,
    .migrated = fake_migrated,
    .migrate_postcopy = fake_migrate_postcopy,
    .migrate_cancel = fake_migrate_cancel,
    .snapshot_status = fake_snapshot_status,
};

/* ---- the OpenAPI checker ---- */

static json_t *spec;
static char root[PATH_MAX + 32];
static char sock_dir[64];
static char sock_path[128];
static struct fake_vm vm = {.lock = PTHREAD_MUTEX_INITIALIZER};
static struct vm_api *server;
/* which (path, method) pairs of the spec the tests exercised */
static json_t *covered;

/* Finds the source tree from this file's name relative to the build root
 * (the executable lives in BUILD/tests/unit/). */
static void find_root(void)
{
	const char *env = getenv("VESSEL_SOURCE_ROOT");
	if (env) {
		snprintf(root, sizeof(root), "%s", env);
		return;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = 0;
	char file[PATH_MAX];
	snprintf(file, sizeof(file), "%s", __FILE__);
	char *suffix = strstr(file, "tests/unit/test_api.c");
	assert_non_null(suffix);
	*suffix = 0;
	if (file[0] == '/')
		snprintf(root, sizeof(root), "%s", file);
	else
		snprintf(root, sizeof(root), "%.2000s/../../%.2000s", dirname(exe), file);
}

static json_t *resolve(json_t *node)
{
	json_t *ref = json_object_get(node, "$ref");
	if (!json_is_string(ref))
		return node;
	const char *p = json_string_value(ref);
	assert_true(!strncmp(p, "#/", 2));
	char *copy = xstrdup(p + 2);
	json_t *cur = spec;
	for (char *save, *tok = strtok_r(copy, "/", &save); tok; tok = strtok_r(NULL, "/", &save))
		cur = json_object_get(cur, tok);
	free(copy);
	if (!cur)
		fail_msg("unresolved $ref %s", p);
	return resolve(cur);
}

/* Validates v against an OpenAPI schema subset: type, required, enum,
 * properties, additionalProperties false, minimum/maximum. */
static void validate(json_t *v, json_t *schema, const char *where)
{
	schema = resolve(schema);
	const char *type = json_string_value(json_object_get(schema, "type"));
	if (type) {
		bool ok = (!strcmp(type, "object") && json_is_object(v)) ||
			  (!strcmp(type, "string") && json_is_string(v)) ||
			  (!strcmp(type, "integer") && json_is_integer(v)) ||
			  (!strcmp(type, "number") && json_is_number(v)) ||
			  (!strcmp(type, "boolean") && json_is_boolean(v)) ||
			  (!strcmp(type, "array") && json_is_array(v));
		if (!ok)
			fail_msg("%s: not of type %s", where, type);
	}
	json_t *en = json_object_get(schema, "enum");
	if (en) {
		bool found = false;
		size_t i;
		json_t *x;
		json_array_foreach(en, i, x) found |= json_equal(x, v);
		if (!found)
			fail_msg("%s: value not in the enum", where);
	}
	json_t *min = json_object_get(schema, "minimum"), *max = json_object_get(schema, "maximum");
	if (min && json_number_value(v) < json_number_value(min))
		fail_msg("%s: below minimum", where);
	if (max && json_number_value(v) > json_number_value(max))
		fail_msg("%s: above maximum", where);
	if (!json_is_object(v))
		return;
	size_t i;
	json_t *x;
	json_array_foreach(json_object_get(schema, "required"), i, x)
	{
		if (!json_object_get(v, json_string_value(x)))
			fail_msg("%s: required field '%s' missing", where, json_string_value(x));
	}
	json_t *props = json_object_get(schema, "properties");
	const char *key;
	json_object_foreach(v, key, x)
	{
		json_t *ps = json_object_get(props, key);
		if (ps) {
			char *w = xasprintf("%s.%s", where, key);
			validate(x, ps, w);
			free(w);
		} else if (json_is_false(json_object_get(schema, "additionalProperties"))) {
			fail_msg("%s: field '%s' not in the schema", where, key);
		}
	}
}

/* Checks one answer against the spec: its status must be documented for
 * the operation (404/405 use the Error response), with the right body. */
static void check_answer(const char *method, const char *path, long status, json_t *reply)
{
	json_t *resp;
	char where[160];
	snprintf(where, sizeof(where), "%s %s -> %ld", method, path, status);
	if (status == 404 || status == 405) {
		resp = json_object_get(json_object_get(spec, "components"), "responses");
		resp = json_object_get(resp, "Error");
	} else {
		char m[8];
		size_t k;
		for (k = 0; method[k] && k < sizeof(m) - 1; k++)
			m[k] = (char)(method[k] | 0x20);
		m[k] = 0;
		json_t *op = json_object_get(json_object_get(json_object_get(spec, "paths"), path), m);
		if (!op)
			fail_msg("%s: operation not in the spec", where);
		char st[8];
		snprintf(st, sizeof(st), "%ld", status);
		resp = json_object_get(json_object_get(op, "responses"), st);
		if (!resp)
			fail_msg("%s: status not documented", where);
		char *key = xasprintf("%s %s", m, path);
		json_object_set_new(covered, key, json_true());
		free(key);
	}
	resp = resolve(resp);
	json_t *schema =
	    json_object_get(json_object_get(json_object_get(resp, "content"), "application/json"), "schema");
	if (schema) {
		if (!reply)
			fail_msg("%s: empty body, the spec wants JSON", where);
		validate(reply, schema, where);
	} else if (reply) {
		fail_msg("%s: body where the spec has none", where);
	}
}

/* Sends a request with a JSON text body (NULL: none); checks the answer
 * against the spec and the expected status; returns the reply. */
static json_t *call_raw(const char *method, const char *path, const char *body, size_t body_len, long want)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, sock_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	char *head =
	    xasprintf("%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n", method,
		      path, body ? body_len : 0);
	assert_int_equal(write_full(fd, head, strlen(head)), 0);
	free(head);
	/* a 413 answer may close the connection before the body is sent:
	 * MSG_NOSIGNAL, so that shows up as EPIPE and not as SIGPIPE */
	for (size_t off = 0; body && off < body_len;) {
		ssize_t k = send(fd, body + off, body_len - off, MSG_NOSIGNAL);
		if (k <= 0)
			break;
		off += (size_t)k;
	}
	char buf[65536];
	size_t len = 0;
	ssize_t n;
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = 0;
	long status = 0;
	assert_int_equal(sscanf(buf, "HTTP/1.1 %ld", &status), 1);
	char *b = strstr(buf, "\r\n\r\n");
	assert_non_null(b);
	b += 4;
	json_t *reply = NULL;
	if (*b) {
		json_error_t je;
		reply = json_loads(b, 0, &je);
		if (!reply)
			fail_msg("%s %s: answer is not JSON: %s", method, path, b);
		assert_non_null(strstr(buf, "Content-Type: application/json"));
	}
	check_answer(method, path, status, reply);
	if (status != want)
		fail_msg("%s %s: status %ld, want %ld (%s)", method, path, status, want,
			 reply ? json_string_value(json_object_get(reply, "error")) : "");
	return reply;
}

/* Same through the library client. */
static json_t *call(const char *method, const char *path, json_t *body, long want)
{
	long status = 0;
	json_t *reply = NULL;
	struct verr *e = NULL;
	if (vm_api_call(sock_path, method, path, body, &status, &reply, &e) < 0)
		fail_msg("%s", e->msg);
	check_answer(method, path, status, reply);
	if (status != want)
		fail_msg("%s %s: status %ld, want %ld (%s)", method, path, status, want,
			 reply ? json_string_value(json_object_get(reply, "error")) : "");
	return reply;
}

static void expect_error(const char *method, const char *path, const char *body, long want, const char *text)
{
	json_t *r = call_raw(method, path, body, body ? strlen(body) : 0, want);
	const char *msg = json_string_value(json_object_get(r, "error"));
	if (!msg || !strstr(msg, text))
		fail_msg("%s %s: error '%s' does not mention '%s'", method, path, msg, text);
	json_decref(r);
}

static int setup(void **state)
{
	find_root();
	char *p = xasprintf("%s/docs/openapi.json", root);
	json_error_t je;
	spec = json_load_file(p, 0, &je);
	if (!spec) {
		fprintf(stderr, "cannot load %s: %s\n", p, je.text);
		free(p);
		return -1;
	}
	free(p);
	covered = json_object();
	strcpy(sock_dir, "/tmp/vessel-test-api.XXXXXX");
	if (!mkdtemp(sock_dir))
		return -1;
	snprintf(sock_path, sizeof(sock_path), "%s/api.sock", sock_dir);
	struct verr *e = NULL;
	if (vm_api_start(sock_path, &fake_ops, &vm, &server, &e) < 0) {
		fprintf(stderr, "%s\n", e->msg);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	vm_api_stop(server);
	assert_int_equal(access(sock_path, F_OK), -1); /* socket file removed */
	rmdir(sock_dir);
	json_decref(spec);
	json_decref(covered);
	return 0;
}

/* ---- tests ---- */

static void test_routes(void **state)
{
	json_t *r = call("GET", "/vm", NULL, 200);
	assert_string_equal(json_string_value(json_object_get(r, "state")), "running");
	json_decref(r);
	assert_null(call("POST", "/vm/pause", NULL, 204));
	r = call("GET", "/vm", NULL, 200);
	assert_string_equal(json_string_value(json_object_get(r, "state")), "paused");
	json_decref(r);
	expect_error("POST", "/vm/pause", NULL, 409, "pause: VM is already paused");
	assert_null(call("POST", "/vm/resume", NULL, 204));
	expect_error("POST", "/vm/resume", NULL, 409, "already running");
	/* an empty object is an empty body */
	json_t *empty = json_object();
	assert_null(call("POST", "/vm/pause", empty, 204));
	assert_null(call("POST", "/vm/resume", empty, 204));
	json_decref(empty);

	r = call("GET", "/vm/snapshot", NULL, 200);
	assert_string_equal(json_string_value(json_object_get(r, "status")), "none");
	json_decref(r);
	json_t *body = json_pack("{s:s,s:b}", "path", "/tmp/x.snap", "paused", 1);
	json_t *req_schema = json_pack("{s:s}", "$ref", "#/components/schemas/SnapshotRequest");
	validate(body, req_schema, "request");
	json_decref(req_schema);
	r = call("POST", "/vm/snapshot", body, 200);
	assert_int_equal(json_integer_value(json_object_get(r, "bytes")), 4096);
	assert_string_equal(vm.last_snapshot, "/tmp/x.snap");
	assert_true(vm.last_stay_paused);
	json_decref(r);
	json_decref(body);
	expect_error("POST", "/vm/snapshot", "{\"path\": \"/fail/x\"}", 500, "snapshot: write '/fail/x'");
	r = call("GET", "/vm/snapshot", NULL, 200);
	assert_string_equal(json_string_value(json_object_get(r, "status")), "completed");
	assert_string_equal(json_string_value(json_object_get(r, "path")), "/tmp/x.snap");
	json_decref(r);

	r = call("GET", "/vm/migration", NULL, 200);
	assert_string_equal(json_string_value(json_object_get(r, "status")), "none");
	json_decref(r);
	expect_error("POST", "/vm/migration/postcopy", NULL, 409, "switch to postcopy: no migration is running");
	expect_error("POST", "/vm/migration/cancel", NULL, 409, "cancel the migration: no migration is running");
	/* GET takes no fields either */
	expect_error("GET", "/vm", "{\"x\":1}", 400, "unknown field 'x'");
	expect_error("GET", "/vm/migration", "{\"x\":1}", 400, "unknown field 'x'");
	expect_error("GET", "/vm/snapshot", "{\"x\":1}", 400, "unknown field 'x'");
	vm.release_migration = true;
	body =
	    json_pack("{s:s,s:s,s:i}", "to", "tcp:127.0.0.1:4444", "mode", "precopy", "max_downtime_ms", 50);
	r = call("POST", "/vm/migrate", body, 200);
	assert_int_equal(json_integer_value(json_object_get(r, "iterations")), 4);
	assert_string_equal(vm.last_to, "tcp:127.0.0.1:4444");
	assert_int_equal(vm.last_downtime, 50);
	json_decref(r);
	json_decref(body);
	/* once the answer is out, the owner is told it may end the VM */
	for (int i = 0; i < 200 && !vm.migrated; i++)
		usleep(5000);
	assert_int_equal(vm.migrated, 1);
	expect_error("POST", "/vm/migrate", "{\"to\":\"tcp:h:1\",\"mode\":\"postcopy\"}", 501, "postcopy");
	r = call("GET", "/vm/migration", NULL, 200);
	assert_string_equal(json_string_value(json_object_get(r, "status")), "completed");
	json_decref(r);

	assert_null(call("POST", "/vm/shutdown", NULL, 204));
	assert_true(vm.shutdown);
	assert_int_equal(vm.shutdown_timeout_ms, VM_API_SHUTDOWN_DEFAULT_S * 1000);
	body = json_pack("{s:i}", "timeout_s", 3);
	assert_null(call("POST", "/vm/shutdown", body, 204));
	json_decref(body);
	assert_int_equal(vm.shutdown_timeout_ms, 3000);
	expect_error("POST", "/vm/shutdown", "{\"timeout_s\":-1}", 400, "timeout_s");
	expect_error("POST", "/vm/shutdown", "{\"timeout_s\":\"soon\"}", 400, "timeout_s");
	expect_error("POST", "/vm/shutdown", "{\"timeout_s\":3601}", 400, "timeout_s");
	expect_error("POST", "/vm/shutdown", "{\"force\":true}", 400, "force");

	/* every operation of the spec was exercised */
	const char *path;
	json_t *item;
	json_object_foreach(json_object_get(spec, "paths"), path, item)
	{
		const char *m;
		json_t *op;
		json_object_foreach(item, m, op)
		{
			char *key = xasprintf("%s %s", m, path);
			if (!json_object_get(covered, key))
				fail_msg("%s is in the spec but was not tested", key);
			free(key);
		}
	}
}

/* Sends a raw request; returns the whole answer (caller frees). */
static char *raw_answer(const char *req)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, sock_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write_full(fd, req, strlen(req)), 0);
	char *buf = xmalloc(65536);
	size_t len = 0;
	ssize_t n;
	while ((n = read(fd, buf + len, 65535 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = 0;
	return buf;
}

/* A 405 names every method of the path; HEAD is GET without the body. */
static void test_allow_and_head(void **state)
{
	char *a = raw_answer("DELETE /vm/snapshot HTTP/1.1\r\nConnection: close\r\n\r\n");
	assert_non_null(strstr(a, "HTTP/1.1 405 "));
	assert_non_null(strstr(a, "\r\nAllow: GET, POST\r\n"));
	assert_non_null(strstr(a, "(use GET, POST)"));
	free(a);
	a = raw_answer("PUT /vm/pause HTTP/1.1\r\nConnection: close\r\n\r\n");
	assert_non_null(strstr(a, "\r\nAllow: POST\r\n"));
	free(a);
	a = raw_answer("HEAD /vm HTTP/1.1\r\nConnection: close\r\n\r\n");
	assert_non_null(strstr(a, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(a, "Content-Type: application/json\r\n"));
	char *end = strstr(a, "\r\n\r\n");
	assert_non_null(end);
	assert_string_equal(end, "\r\n\r\n"); /* no body */
	free(a);
	a = raw_answer("HEAD /vm/pause HTTP/1.1\r\nConnection: close\r\n\r\n");
	assert_non_null(strstr(a, "HTTP/1.1 405 "));
	free(a);
}

static void test_bad_requests(void **state)
{
	expect_error("GET", "/nope", NULL, 404, "no such resource '/nope'");
	expect_error("GET", "/vm/pause/extra", NULL, 404, "no such resource");
	expect_error("GET", "/vm/pause", NULL, 405, "use POST");
	expect_error("DELETE", "/vm", NULL, 405, "method DELETE");
	expect_error("POST", "/vm/snapshot", "{\"path\": ", 400, "bad JSON");
	expect_error("POST", "/vm/snapshot", "[1,2]", 400, "must be a JSON object");
	expect_error("POST", "/vm/snapshot", NULL, 400, "\"path\" is required");
	expect_error("POST", "/vm/snapshot", "{}", 400, "\"path\"");
	expect_error("POST", "/vm/snapshot", "{\"path\": 3}", 400, "\"path\"");
	expect_error("POST", "/vm/snapshot", "{\"path\": \"a\\u0000b\"}", 400, "bad JSON");
	expect_error("POST", "/vm/snapshot", "{\"path\": \"x\", \"paused\": \"yes\"}", 400, "\"paused\"");
	expect_error("POST", "/vm/snapshot", "{\"path\": \"x\", \"bogus\": 1}", 400, "unknown field 'bogus'");
	expect_error("POST", "/vm/snapshot", "{\"path\": \"x\", \"path\": \"y\"}", 400, "bad JSON");
	expect_error("POST", "/vm/pause", "{\"now\": true}", 400, "unknown field 'now'");
	expect_error("POST", "/vm/migrate", "{\"mode\":\"precopy\"}", 400, "\"to\"");
	expect_error("POST", "/vm/migrate", "{\"to\":\"udp:h:1\",\"mode\":\"precopy\"}", 400,
		     "tcp:HOST:PORT");
	expect_error("POST", "/vm/migrate", "{\"to\":\"tcp:h:99999\",\"mode\":\"precopy\"}", 400,
		     "tcp:HOST:PORT");
	expect_error("POST", "/vm/migrate", "{\"to\":\"tcp::1\",\"mode\":\"precopy\"}", 400, "tcp:HOST:PORT");
	expect_error("POST", "/vm/migrate", "{\"to\":\"tcp:h:1\",\"mode\":\"fast\"}", 400, "\"mode\"");
	expect_error("POST", "/vm/migrate", "{\"to\":\"tcp:h:1\",\"mode\":\"precopy\",\"max_downtime_ms\":0}",
		     400, "max_downtime_ms");
	expect_error("POST", "/vm/migrate", "{\"to\":\"tcp:h:1\",\"mode\":\"precopy\",\"disks\":\"move\"}",
		     400, "\"disks\"");
	expect_error("POST", "/vm/migrate", "{\"to\":\"tcp:h:1\",\"mode\":\"precopy\",\"precopy_rounds\":2}",
		     400, "\"precopy_rounds\" is for");
	expect_error("POST", "/vm/migrate", "{\"to\":\"tcp:h:1\",\"mode\":\"postcopy\",\"precopy_rounds\":31}",
		     400, "from 0 to 30");
	expect_error("POST", "/vm/migrate", "{\"to\":\"tcp:h:1\",\"mode\":\"postcopy\",\"precopy_rounds\":-1}",
		     400, "from 0 to 30");
	expect_error("POST", "/vm/migrate", "{\"to\":\"tcp:h:1\",\"mode\":\"postcopy\",\"precopy_rounds\":\"2\"}",
		     400, "precopy_rounds");
}

static void test_body_limit(void **state)
{
	size_t n = 100 * 1024;
	char *big = xmalloc(n + 1);
	memset(big, ' ', n);
	memcpy(big, "{\"path\":\"x\"}", 12);
	big[n] = 0;
	json_decref(call_raw("POST", "/vm/snapshot", big, n, 413));
	/* exactly at the limit is fine (whitespace after the object) */
	json_decref(call_raw("POST", "/vm/snapshot", big, VM_API_MAX_BODY, 200));
	free(big);
	/* a chunked body is refused (411: send Content-Length), whatever its
	 * size; the server reads and drops what follows before closing */
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, sock_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	const char *head = "POST /vm/snapshot HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
			   "Transfer-Encoding: chunked\r\n\r\n";
	assert_true(send(fd, head, strlen(head), MSG_NOSIGNAL) > 0);
	char chunk[8200];
	int hl = snprintf(chunk, sizeof(chunk), "%x\r\n", 8000);
	memset(chunk + hl, ' ', 8000);
	memcpy(chunk + hl + 8000, "\r\n", 2);
	for (int i = 0; i < 10; i++)
		assert_true(send(fd, chunk, (size_t)hl + 8002, MSG_NOSIGNAL) > 0);
	assert_true(send(fd, "0\r\n\r\n", 5, MSG_NOSIGNAL) > 0);
	char ans[4096];
	size_t alen = 0;
	ssize_t k;
	while ((k = read(fd, ans + alen, sizeof(ans) - 1 - alen)) > 0)
		alen += (size_t)k;
	ans[alen] = 0;
	close(fd);
	assert_non_null(strstr(ans, "HTTP/1.1 411"));
	assert_non_null(strstr(ans, "chunked request bodies are not supported"));
	/* the server still works afterwards */
	json_decref(call("GET", "/vm", NULL, 200));
}

static void *get_vm_loop(void *arg)
{
	for (int i = 0; i < 40; i++) {
		long status = 0;
		json_t *reply = NULL;
		struct verr *e = NULL;
		if (vm_api_call(sock_path, "GET", "/vm", NULL, &status, &reply, &e) < 0 || status != 200 ||
		    !json_is_string(json_object_get(reply, "state"))) {
			verr_free(e);
			json_decref(reply);
			return (void *)1;
		}
		json_decref(reply);
	}
	return NULL;
}

static void *migrate_thread(void *arg)
{
	long status = 0;
	json_t *reply = NULL;
	struct verr *e = NULL;
	json_t *body = json_pack("{s:s,s:s}", "to", "tcp:localhost:5000", "mode", "precopy");
	int r = vm_api_call(sock_path, "POST", "/vm/migrate", body, &status, &reply, &e);
	json_decref(body);
	json_decref(reply);
	verr_free(e);
	return (void *)(intptr_t)(r == 0 && status == 200 ? 0 : 1);
}

static void test_concurrent(void **state)
{
	/* a long migration does not block other requests */
	vm.release_migration = false;
	vm.migrating = 0;
	pthread_t mt;
	assert_int_equal(pthread_create(&mt, NULL, migrate_thread, NULL), 0);
	bool seen_active = false;
	for (int i = 0; i < 200 && !seen_active; i++) {
		json_t *r = call("GET", "/vm/migration", NULL, 200);
		seen_active = !strcmp(json_string_value(json_object_get(r, "status")), "active");
		json_decref(r);
		if (!seen_active)
			usleep(5000);
	}
	assert_true(seen_active);
	/* switched to postcopy while it runs */
	assert_false(vm.postcopy_asked);
	assert_null(call("POST", "/vm/migration/postcopy", NULL, 204));
	assert_true(vm.postcopy_asked);
	expect_error("POST", "/vm/migration/postcopy", "{\"now\":1}", 400, "unknown field 'now'");
	assert_false(vm.cancel_asked);
	assert_null(call("POST", "/vm/migration/cancel", NULL, 204));
	assert_true(vm.cancel_asked);
	/* a second migration meanwhile: wrong state */
	expect_error("POST", "/vm/migrate", "{\"to\":\"tcp:h:1\",\"mode\":\"precopy\"}", 409,
		     "already running");
	pthread_t t[8];
	for (int i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&t[i], NULL, get_vm_loop, NULL), 0);
	for (int i = 0; i < 8; i++) {
		void *ret;
		pthread_join(t[i], &ret);
		assert_null(ret);
	}
	vm.release_migration = true;
	void *ret;
	pthread_join(mt, &ret);
	assert_null(ret);
}

static void test_socket_handling(void **state)
{
	struct stat st;
	assert_int_equal(stat(sock_path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	/* in use: refused */
	struct vm_api *a2 = NULL;
	struct verr *e = NULL;
	assert_int_equal(vm_api_start(sock_path, &fake_ops, &vm, &a2, &e), -1);
	assert_non_null(strstr(e->msg, "in use"));
	verr_clear(&e);
	/* a stale socket (bound, nobody listening) is replaced */
	char *stale = xasprintf("%s/stale.sock", sock_dir);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, stale);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(vm_api_start(stale, &fake_ops, &vm, &a2, &e), 0);
	long status;
	json_t *reply = NULL;
	assert_int_equal(vm_api_call(stale, "GET", "/vm", NULL, &status, &reply, &e), 0);
	assert_int_equal(status, 200);
	json_decref(reply);
	vm_api_stop(a2);
	assert_int_equal(access(stale, F_OK), -1);
	/* a regular file is not replaced */
	assert_int_equal(write_file_atomic(stale, "keep", 4, 0600), 0);
	assert_int_equal(vm_api_start(stale, &fake_ops, &vm, &a2, &e), -1);
	assert_non_null(strstr(e->msg, "not a socket"));
	verr_clear(&e);
	unlink(stale);
	free(stale);
	/* an owner without migration: 501, documented in the spec */
	struct vm_api_ops partial = fake_ops;
	partial.migrate = NULL;
	char *p2 = xasprintf("%s/partial.sock", sock_dir);
	assert_int_equal(vm_api_start(p2, &partial, &vm, &a2, &e), 0);
	json_t *body = json_pack("{s:s,s:s}", "to", "tcp:h:1", "mode", "precopy");
	assert_int_equal(vm_api_call(p2, "POST", "/vm/migrate", body, &status, &reply, &e), 0);
	check_answer("POST", "/vm/migrate", status, reply);
	assert_int_equal(status, 501);
	assert_non_null(strstr(json_string_value(json_object_get(reply, "error")), "not available"));
	json_decref(reply);
	json_decref(body);
	vm_api_stop(a2);
	free(p2);
	/* the client reports an unreachable socket */
	assert_int_equal(vm_api_call("/nonexistent/api.sock", "GET", "/vm", NULL, &status, &reply, &e), -1);
	assert_non_null(strstr(e->msg, "connect to API socket"));
	verr_clear(&e);
}

/* ---- openapi.yaml: the YAML rendering of openapi.json ---- */

static void yaml_scalar(FILE *f, json_t *v)
{
	if (json_is_string(v)) {
		char *s = json_dumps(v, JSON_ENCODE_ANY);
		fputs(s, f);
		free(s);
	} else if (json_is_true(v)) {
		fputs("true", f);
	} else if (json_is_false(v)) {
		fputs("false", f);
	} else if (json_is_null(v)) {
		fputs("null", f);
	} else if (json_is_integer(v)) {
		fprintf(f, "%lld", (long long)json_integer_value(v));
	} else {
		fprintf(f, "%.17g", json_real_value(v));
	}
}

static void yaml_emit(FILE *f, json_t *v, int indent);

static void yaml_child(FILE *f, json_t *v, int indent)
{
	if ((json_is_object(v) && json_object_size(v)) || (json_is_array(v) && json_array_size(v))) {
		fputc('\n', f);
		yaml_emit(f, v, indent);
	} else if (json_is_object(v)) {
		fputs(" {}\n", f);
	} else if (json_is_array(v)) {
		fputs(" []\n", f);
	} else {
		fputc(' ', f);
		yaml_scalar(f, v);
		fputc('\n', f);
	}
}

/* Block-style YAML, keys and strings double-quoted (JSON escapes are valid
 * YAML), in the JSON file's key order. */
static void yaml_emit(FILE *f, json_t *v, int indent)
{
	const char *key;
	json_t *x;
	size_t i;
	if (json_is_object(v)) {
		json_object_foreach(v, key, x)
		{
			fprintf(f, "%*s", indent, "");
			json_t *k = json_string(key);
			yaml_scalar(f, k);
			json_decref(k);
			fputc(':', f);
			yaml_child(f, x, indent + 2);
		}
	} else {
		json_array_foreach(v, i, x)
		{
			fprintf(f, "%*s-", indent, "");
			yaml_child(f, x, indent + 2);
		}
	}
}

static void test_openapi_yaml_in_sync(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	fputs("# Generated from docs/openapi.json (the source) by tests/unit/test_api.c;\n"
	      "# regenerate with: VESSEL_UPDATE_OPENAPI=1 build/tests/unit/test_api\n",
	      f);
	yaml_emit(f, spec, 0);
	fclose(f);
	char *path = xasprintf("%s/docs/openapi.yaml", root);
	if (getenv("VESSEL_UPDATE_OPENAPI"))
		assert_int_equal(write_file_atomic(path, buf, len, 0644), 0);
	char *old = NULL;
	size_t old_len = 0;
	if (read_file(path, 1 << 20, &old, &old_len) < 0)
		fail_msg("cannot read %s", path);
	if (old_len != len || memcmp(old, buf, len))
		fail_msg("docs/openapi.yaml is out of date with docs/openapi.json (VESSEL_UPDATE_OPENAPI=1 "
			 "regenerates it)");
	free(old);
	free(path);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_openapi_yaml_in_sync),
	    cmocka_unit_test(test_socket_handling),
	    cmocka_unit_test(test_routes),
	    cmocka_unit_test(test_bad_requests),
	    cmocka_unit_test(test_allow_and_head),
	    cmocka_unit_test(test_body_limit),
	    cmocka_unit_test(test_concurrent),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
