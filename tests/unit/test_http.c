/* The control API's HTTP request parser (src/vm/api/http.c) on its own, and
 * the server's transport behaviour over a real socket: pipelining, byte by
 * byte arrival, limits, framing errors, keep-alive, HTTP/1.0, timeouts. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/util.h"
#include "vm/api/api.h"
#include "vm/api/http.h"

/* Parses s whole; also checks that every proper prefix is INCOMPLETE or,
 * for a refused request, INCOMPLETE or the same refusal. */
static enum http_parse parse(const char *s, size_t len, struct http_request *req)
{
	enum http_parse whole = http_parse_request(s, len, req);
	for (size_t i = 0; i < len; i++) {
		struct http_request p;
		enum http_parse r = http_parse_request(s, i, &p);
		if (r == HTTP_PARSE_COMPLETE && whole == HTTP_PARSE_COMPLETE && p.total_len == req->total_len)
			continue;
		if (r == HTTP_PARSE_COMPLETE)
			fail_msg("prefix of %zu bytes complete, whole is %d", i, whole);
		if (r == HTTP_PARSE_ERROR && (whole != HTTP_PARSE_ERROR || p.status != req->status))
			fail_msg("prefix of %zu bytes refused (%u), whole is %d", i, p.status, whole);
	}
	return whole;
}

static void expect_status(const char *s, unsigned status)
{
	struct http_request req;
	if (parse(s, strlen(s), &req) != HTTP_PARSE_ERROR)
		fail_msg("accepted: %s", s);
	if (req.status != status)
		fail_msg("status %u, want %u (%s): %s", req.status, status, req.error, s);
	assert_non_null(req.error);
}

static void test_simple(void **state)
{
	const char *s = "GET /vm?x=1 HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n";
	struct http_request req;
	assert_int_equal(parse(s, strlen(s), &req), HTTP_PARSE_COMPLETE);
	assert_string_equal(req.method, "GET");
	assert_string_equal(req.path, "/vm");
	assert_int_equal(req.minor, 1);
	assert_true(req.keep_alive);
	assert_int_equal(req.content_length, 0);
	assert_int_equal(req.total_len, strlen(s));
	/* no Host is fine (a Unix socket has no host) */
	s = "POST /vm/snapshot HTTP/1.1\r\ncontent-length:  12 \r\nConnection: keep-alive, close\r\n\r\n"
	    "{\"path\":\"x\"}";
	assert_int_equal(parse(s, strlen(s), &req), HTTP_PARSE_COMPLETE);
	assert_string_equal(req.method, "POST");
	assert_int_equal(req.content_length, 12);
	assert_false(req.keep_alive);
	assert_memory_equal(req.body, "{\"path\":\"x\"}", 12);
	/* HTTP/1.0 closes */
	s = "GET /vm HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
	assert_int_equal(parse(s, strlen(s), &req), HTTP_PARSE_COMPLETE);
	assert_int_equal(req.minor, 0);
	assert_false(req.keep_alive);
	/* Expect: 100-continue is noted once the head is whole */
	s = "POST /vm/pause HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n";
	assert_int_equal(http_parse_request(s, strlen(s), &req), HTTP_PARSE_INCOMPLETE);
	assert_true(req.expect_continue);
	assert_int_equal(req.header_len, strlen(s));
	assert_int_equal(req.total_len, strlen(s) + 2);
}

static void test_pipelined(void **state)
{
	const char *s = "GET /vm HTTP/1.1\r\n\r\n"
			"POST /vm/pause HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"
			"GET /vm/migration HTTP/1.1\r\nConnection: close\r\n\r\n"
			"GET /partial HTTP/1.1\r\n";
	const char *want[] = {"/vm", "/vm/pause", "/vm/migration"};
	size_t off = 0, len = strlen(s);
	struct http_request req;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(http_parse_request(s + off, len - off, &req), HTTP_PARSE_COMPLETE);
		assert_string_equal(req.path, want[i]);
		off += req.total_len;
	}
	assert_false(req.keep_alive);
	assert_int_equal(http_parse_request(s + off, len - off, &req), HTTP_PARSE_INCOMPLETE);
}

static void test_refused(void **state)
{
	expect_status("GET /vm HTTP/1.1\n\n", 400);			/* bare LF */
	expect_status("GET /vm HTTP/1.1\r\nA: b\rc\r\n\r\n", 400);	/* bare CR */
	expect_status("GET /vm HTTP/1.1\r\nA: b\001\r\n\r\n", 400);	/* control char */
	expect_status("GET /vm HTTP/1.1\r\nA : b\r\n\r\n", 400);	/* space before colon */
	expect_status("GET /vm HTTP/1.1\r\nA: b\r\n c\r\n\r\n", 400); /* obs-fold */
	expect_status("GET /vm HTTP/1.1\r\nnocolon\r\n\r\n", 400);
	expect_status("\r\nGET /vm HTTP/1.1\r\n\r\n", 400);
	expect_status("GET  /vm HTTP/1.1\r\n\r\n", 400);
	expect_status("GET /vm\r\n\r\n", 400);
	expect_status("GET vm HTTP/1.1\r\n\r\n", 400);
	expect_status("GET http://x/vm HTTP/1.1\r\n\r\n", 400);
	expect_status("G(T /vm HTTP/1.1\r\n\r\n", 400);
	expect_status("GET /vm HTTP/1.1 \r\n\r\n", 400);
	expect_status("GET /vm http/1.1\r\n\r\n", 400);
	expect_status("GET /vm HTTP/2.0\r\n\r\n", 505);
	expect_status("GET /vm HTTP/1.2\r\n\r\n", 505);
	expect_status("VERYLONGMETHODNAME /vm HTTP/1.1\r\n\r\n", 501);
	/* Content-Length: bad, repeated (even equal), too large */
	expect_status("POST /vm HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400);
	expect_status("POST /vm HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400);
	expect_status("POST /vm HTTP/1.1\r\nContent-Length:\r\n\r\n", 400);
	expect_status("POST /vm HTTP/1.1\r\nContent-Length: 2, 2\r\n\r\n", 400);
	expect_status("POST /vm HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}", 400);
	expect_status("POST /vm HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400);
	expect_status("POST /vm HTTP/1.1\r\nContent-Length: 65537\r\n\r\n", 413);
	expect_status("POST /vm HTTP/1.1\r\nContent-Length: 99999999999999999999999999\r\n\r\n", 413);
	/* bodies are framed by Content-Length only */
	expect_status("POST /vm HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411);
	expect_status("POST /vm HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 411);
	expect_status("POST /vm HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501);
	expect_status("POST /vm HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n", 400);
	expect_status("GET /vm HTTP/1.1\r\nExpect: something\r\n\r\n", 417);
	expect_status("GET /vm HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
	/* exactly 64 KiB is fine */
	struct http_request req;
	const char *h = "POST /vm HTTP/1.1\r\nContent-Length: 65536\r\n\r\n";
	assert_int_equal(http_parse_request(h, strlen(h), &req), HTTP_PARSE_INCOMPLETE);
	assert_int_equal(req.content_length, VM_API_MAX_BODY);
}

static void test_oversized(void **state)
{
	/* the head may be 8 KiB, not one byte more */
	char *buf = xmalloc(HTTP_MAX_HEADER + 100);
	const char *start = "GET /vm HTTP/1.1\r\nX-Pad: ";
	size_t fixed = strlen(start) + 4;
	memcpy(buf, start, strlen(start));
	memset(buf + strlen(start), 'a', HTTP_MAX_HEADER - fixed);
	memcpy(buf + HTTP_MAX_HEADER - 4, "\r\n\r\n", 4);
	struct http_request req;
	assert_int_equal(http_parse_request(buf, HTTP_MAX_HEADER, &req), HTTP_PARSE_COMPLETE);
	assert_int_equal(req.header_len, HTTP_MAX_HEADER);
	memset(buf + strlen(start), 'a', HTTP_MAX_HEADER + 1 - fixed);
	memcpy(buf + HTTP_MAX_HEADER + 1 - 4, "\r\n\r\n", 4);
	assert_int_equal(http_parse_request(buf, HTTP_MAX_HEADER + 1, &req), HTTP_PARSE_ERROR);
	assert_int_equal(req.status, 431);
	/* a head that never ends is refused at 8 KiB, not waited for */
	memset(buf, 'a', HTTP_MAX_HEADER);
	memcpy(buf, "GET /", 5);
	assert_int_equal(http_parse_request(buf, HTTP_MAX_HEADER - 1, &req), HTTP_PARSE_INCOMPLETE);
	assert_int_equal(http_parse_request(buf, HTTP_MAX_HEADER, &req), HTTP_PARSE_ERROR);
	assert_int_equal(req.status, 431);
	/* too many fields */
	size_t n = (size_t)snprintf(buf, HTTP_MAX_HEADER, "GET /vm HTTP/1.1\r\n");
	for (int i = 0; i <= HTTP_MAX_FIELDS; i++)
		n += (size_t)snprintf(buf + n, HTTP_MAX_HEADER - n, "A: b\r\n");
	n += (size_t)snprintf(buf + n, HTTP_MAX_HEADER - n, "\r\n");
	assert_int_equal(http_parse_request(buf, n, &req), HTTP_PARSE_ERROR);
	assert_int_equal(req.status, 431);
	/* a long target */
	n = (size_t)snprintf(buf, HTTP_MAX_HEADER, "GET /%01100d HTTP/1.1\r\n\r\n", 0);
	assert_int_equal(http_parse_request(buf, n, &req), HTTP_PARSE_ERROR);
	assert_int_equal(req.status, 414);
	free(buf);
}

/* ---- the server over a socket ---- */

static char sock_path[108];
static struct vm_api *api;
static volatile int pauses;

static json_t *s_info(void *o, struct verr **err)
{
	return json_pack("{s:s,s:i,s:i,s:i}", "state", "running", "cpus", 1, "memory", 1 << 20, "uptime_ms", 1);
}

static int s_pause(void *o, struct verr **err)
{
	pauses++;
	return 0;
}

static const struct vm_api_ops s_ops = {.get_info = s_info, .pause = s_pause};

static int server_up(void **state)
{
	snprintf(sock_path, sizeof(sock_path), "/tmp/vessel-test-http.%d.sock", (int)getpid());
	struct verr *e = NULL;
	if (vm_api_start(sock_path, &s_ops, NULL, &api, &e) < 0) {
		fprintf(stderr, "%s\n", e->msg);
		return -1;
	}
	return 0;
}

static int server_down(void **state)
{
	vm_api_stop(api);
	return 0;
}

static int dial(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, sock_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	struct timeval tv = {.tv_sec = 15};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

/* Reads until the server closes (or 15 s); returns a NUL-terminated
 * string the caller frees. */
static char *read_all(int fd)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = xmalloc(cap + 1);
	ssize_t n;
	while (len < cap && (n = read(fd, buf + len, cap - len)) > 0)
		len += (size_t)n;
	buf[len] = 0;
	return buf;
}

/* The connections of earlier tests are gone (their threads may still be
 * finishing on a loaded machine, holding slots of the cap). */
static void wait_no_connections(void)
{
	for (int i = 0; i < 1000 && vm_api_connections(api); i++)
		usleep(10000);
	assert_int_equal(vm_api_connections(api), 0);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void test_server_pipelined_bytewise(void **state)
{
	int fd = dial();
	const char *s = "GET /vm HTTP/1.1\r\nHost: x\r\n\r\n"
			"POST /vm/pause HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"
			"GET /vm HTTP/1.1\r\nConnection: close\r\n\r\n";
	int before = pauses;
	/* one byte per write: the parser sees every split */
	for (size_t i = 0; s[i]; i++)
		assert_int_equal(write(fd, s + i, 1), 1);
	char *ans = read_all(fd);
	close(fd);
	assert_int_equal(count(ans, "HTTP/1.1 200 OK\r\n"), 2);
	assert_int_equal(count(ans, "HTTP/1.1 204 No Content\r\n"), 1);
	assert_int_equal(count(ans, "Content-Type: application/json\r\n"), 2);
	assert_int_equal(count(ans, "Connection: close\r\n"), 1);
	assert_int_equal(pauses, before + 1);
	free(ans);
}

static void test_server_refusals(void **state)
{
	static const struct {
		const char *req;
		const char *status;
	} cases[] = {
	    {"GET /vm HTTP/1.0\r\n\r\n", "HTTP/1.1 200 "},	/* answered, closed */
	    {"GET /vm HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", "HTTP/1.1 400 "},
	    {"BREW /vm HTTP/1.1\r\nConnection: close\r\n\r\n", "HTTP/1.1 405 "},
	    {"GET /nope HTTP/1.1\r\nConnection: close\r\n\r\n", "HTTP/1.1 404 "},
	    {"POST /vm/pause HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", "HTTP/1.1 411 "},
	    {"POST /vm/pause HTTP/1.1\r\nContent-Length: 100000\r\n\r\n", "HTTP/1.1 413 "},
	    {"GET /vm HTTP/3.0\r\n\r\n", "HTTP/1.1 505 "},
	    {"garbage\r\n\r\n", "HTTP/1.1 400 "},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int fd = dial();
		/* a framing error closes the connection even when the
		 * request did not ask for it */
		bool ok = !strcmp(cases[i].status, "HTTP/1.1 200 ");
		assert_int_equal(write_full(fd, cases[i].req, strlen(cases[i].req)), 0);
		char *ans = read_all(fd);
		close(fd);
		if (strncmp(ans, cases[i].status, strlen(cases[i].status)))
			fail_msg("%s: got '%.40s', want '%s'", cases[i].req, ans, cases[i].status);
		assert_non_null(strstr(ans, "Content-Type: application/json\r\nContent-Length: "));
		assert_non_null(strstr(ans, "Connection: close\r\n"));
		if (!ok)
			assert_non_null(strstr(ans, "{\"error\":"));
		free(ans);
	}
}

static void test_server_expect_continue(void **state)
{
	int fd = dial();
	const char *h = "POST /vm/pause HTTP/1.1\r\nExpect: 100-continue\r\nConnection: close\r\n"
			"Content-Length: 2\r\n\r\n";
	assert_int_equal(write_full(fd, h, strlen(h)), 0);
	char buf[64];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = 0;
	assert_string_equal(buf, "HTTP/1.1 100 Continue\r\n\r\n");
	assert_int_equal(write_full(fd, "{}", 2), 0);
	char *ans = read_all(fd);
	close(fd);
	assert_non_null(strstr(ans, "HTTP/1.1 204 "));
	free(ans);
}

/* A stalled client is dropped after the read timeout, and does not keep
 * others from being served meanwhile. */
static void test_server_slow_client(void **state)
{
	wait_no_connections();
	int slow = dial();
	assert_int_equal(write_full(slow, "GET /vm HTTP/1.1\r\nHo", 20), 0);
	for (int i = 0; i < 3; i++) {
		int fd = dial();
		const char *r = "GET /vm HTTP/1.1\r\nConnection: close\r\n\r\n";
		assert_int_equal(write_full(fd, r, strlen(r)), 0);
		char *ans = read_all(fd);
		close(fd);
		assert_non_null(strstr(ans, "HTTP/1.1 200 "));
		free(ans);
	}
	uint64_t t0 = now_ns();
	char *ans = read_all(slow);
	uint64_t ms = (now_ns() - t0) / 1000000;
	close(slow);
	assert_non_null(strstr(ans, "HTTP/1.1 408 "));
	assert_true(ms < 12000);
	free(ans);
}

/* Past the connection cap new connections get 503, and are served again
 * once the others go. */
static void test_server_connection_cap(void **state)
{
	wait_no_connections();
	int fds[16];
	for (int i = 0; i < 16; i++)
		fds[i] = dial();
	/* each holds a thread: make sure all are accepted first */
	for (int i = 0; i < 16; i++) {
		const char *r = "GET /vm HTTP/1.1\r\n\r\n";
		assert_int_equal(write_full(fds[i], r, strlen(r)), 0);
		char buf[512];
		assert_true(read(fds[i], buf, sizeof(buf)) > 0);
	}
	int extra = dial();
	char *ans = read_all(extra);
	close(extra);
	assert_non_null(strstr(ans, "HTTP/1.1 503 "));
	free(ans);
	for (int i = 0; i < 16; i++)
		close(fds[i]);
	bool served = false;
	for (int i = 0; i < 100 && !served; i++) {
		int fd = dial();
		const char *r = "GET /vm HTTP/1.1\r\nConnection: close\r\n\r\n";
		/* while the freed slots are not yet seen, the server may
		 * answer 503 and close before the request is written */
		int w = write_full(fd, r, strlen(r));
		ans = read_all(fd);
		close(fd);
		served = w == 0 && strstr(ans, "HTTP/1.1 200 ") != NULL;
		free(ans);
		if (!served)
			usleep(10000);
	}
	assert_true(served);
}

int main(void)
{
	/* a server that refuses a connection may close it before the client
	 * has written: the write fails with EPIPE instead of killing the test */
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest parser[] = {
	    cmocka_unit_test(test_simple),
	    cmocka_unit_test(test_pipelined),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_oversized),
	};
	const struct CMUnitTest server[] = {
	    cmocka_unit_test(test_server_pipelined_bytewise),
	    cmocka_unit_test(test_server_refusals),
	    cmocka_unit_test(test_server_expect_continue),
	    cmocka_unit_test(test_server_connection_cap),
	    cmocka_unit_test(test_server_slow_client),
	};
	int r = cmocka_run_group_tests(parser, NULL, NULL);
	return r | cmocka_run_group_tests(server, server_up, server_down);
}
