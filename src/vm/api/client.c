/* A minimal HTTP/1.1 client for the control API: one request per
 * connection ("Connection: close"), Content-Length bodies, and answers
 * bounded in size. Plain sockets are enough for a local Unix socket. */
#include "vm/api/api.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/util.h"

#define API_MAX_REPLY (16u << 20)

static int send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t r = send(fd, p, len, MSG_NOSIGNAL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

/* Parses "HTTP/1.x NNN reason\r\nheaders\r\n\r\nbody" in buf[0..len). */
static int parse_reply(const char *buf, size_t len, long *status, json_t **reply, struct verr **err)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);
	if (!end || len < 12 || strncmp(buf, "HTTP/1.", 7) || buf[8] != ' ')
		return verr_set(err, 0, "API answer is not HTTP/1.1");
	char *e;
	long st = strtol(buf + 9, &e, 10);
	if (e != buf + 12 || st < 100 || st > 599)
		return verr_set(err, 0, "API answer has a bad status line");
	const char *body = end + 4;
	size_t blen = len - (size_t)(body - buf);
	/* Content-Length, if present, must agree with what arrived */
	for (const char *h = memchr(buf, '\n', (size_t)(end - buf)); h && h < end;
	     h = memchr(h + 1, '\n', (size_t)(end - h))) {
		if (!strncasecmp(h + 1, "Content-Length:", 15)) {
			unsigned long long cl = strtoull(h + 16, NULL, 10);
			if (cl > blen)
				return verr_set(err, 0, "API answer is truncated");
			blen = (size_t)cl;
		}
	}
	json_t *j = NULL;
	if (blen) {
		json_error_t je;
		j = json_loadb(body, blen, 0, &je);
		if (!j)
			return verr_set(err, 0, "API answer is not JSON: %s", je.text);
	}
	*status = st;
	*reply = j;
	return 0;
}

int vm_api_call(const char *socket_path, const char *method, const char *path, json_t *body, long *status,
		json_t **reply, struct verr **err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return verr_set(err, ENAMETOOLONG, "API socket '%s'", socket_path);
	strcpy(sa.sun_path, socket_path);
	cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return verr_set(err, errno, "socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return verr_set(err, errno, "connect to API socket '%s'", socket_path);
	cleanup_free char *json = body ? json_dumps(body, JSON_COMPACT) : NULL;
	if (body && !json)
		return verr_set(err, EINVAL, "request body cannot be encoded");
	size_t jlen = json ? strlen(json) : 0;
	cleanup_free char *head =
	    xasprintf("%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
		      "Accept: application/json\r\n%sContent-Length: %zu\r\n\r\n",
		      method, path, json ? "Content-Type: application/json\r\n" : "", jlen);
	int r = send_all(fd, head, strlen(head));
	if (r == 0 && jlen)
		r = send_all(fd, json, jlen);
	/* a server that refuses the request early (413) may close before it
	 * has read everything: its answer is still worth reading */
	if (r < 0 && r != -EPIPE && r != -ECONNRESET)
		return verr_set(err, -r, "send request to '%s'", socket_path);
	size_t cap = 4096, len = 0;
	cleanup_free char *buf = xmalloc(cap);
	for (;;) {
		if (len == cap) {
			if (cap >= API_MAX_REPLY)
				return verr_set(err, 0, "API answer is larger than %u bytes", API_MAX_REPLY);
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t n = recv(fd, buf + len, cap - len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECONNRESET && len)
				break;
			return verr_set(err, errno, "read answer from '%s'", socket_path);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (parse_reply(buf, len, status, reply, err) < 0)
		return verr_wrap(err, "%s %s", method, path);
	return 0;
}
