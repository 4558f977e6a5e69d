#include "vm/migrate/migrate.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/util.h"
#include "vm/migrate/migrate_int.h"
#include "vm/state/stream.h"

void migrate_status_init(struct migrate_status *st)
{
	pthread_mutex_init(&st->lock, NULL);
	memset(&st->p, 0, sizeof(st->p));
	st->p.phase = "none";
}

void migrate_status_destroy(struct migrate_status *st)
{
	pthread_mutex_destroy(&st->lock);
}

void migrate_status_get(struct migrate_status *st, struct migrate_progress *out)
{
	pthread_mutex_lock(&st->lock);
	*out = st->p;
	pthread_mutex_unlock(&st->lock);
}

const char *migrate_state_name(enum migrate_state s)
{
	switch (s) {
	case MIGRATE_NONE:
		return "none";
	case MIGRATE_ACTIVE:
		return "active";
	case MIGRATE_COMPLETED:
		return "completed";
	case MIGRATE_FAILED:
		return "failed";
	}
	return "unknown";
}

const char *migrate_mode_name(enum migrate_mode m)
{
	return m == MIGRATE_POSTCOPY ? "postcopy" : "precopy";
}

int migrate_mode_parse(const char *s, enum migrate_mode *out)
{
	if (strcmp(s, "precopy") == 0)
		*out = MIGRATE_PRECOPY;
	else if (strcmp(s, "postcopy") == 0)
		*out = MIGRATE_POSTCOPY;
	else
		return -1;
	return 0;
}

/* The phases before the VM stops for the end (source side). */
static bool before_stop(const char *phase)
{
	return !strcmp(phase, "setup") || !strcmp(phase, "disk") || !strcmp(phase, "precopy");
}

int migrate_status_request_postcopy(struct migrate_status *st, struct verr **err)
{
	pthread_mutex_lock(&st->lock);
	int r = 0;
	if (st->p.state != MIGRATE_ACTIVE)
		r = verr_set(err, EALREADY, "no migration is running");
	else if (!before_stop(st->p.phase))
		r = verr_set(err, EALREADY, "the migration is past its precopy rounds (phase %s)", st->p.phase);
	else
		st->p.postcopy_requested = true;
	pthread_mutex_unlock(&st->lock);
	return r;
}

int migrate_status_request_cancel(struct migrate_status *st, struct verr **err)
{
	pthread_mutex_lock(&st->lock);
	int r = 0;
	if (st->p.state != MIGRATE_ACTIVE)
		r = verr_set(err, EALREADY, "no migration is running");
	else if (!before_stop(st->p.phase))
		r = verr_set(err, EALREADY, "the migration is past the point of no return (phase %s): the destination "
				"may be running the VM", st->p.phase);
	else
		st->p.cancel_requested = true;
	pthread_mutex_unlock(&st->lock);
	return r;
}

void mig_rp_encode(uint8_t *buf, uint32_t type, uint64_t arg)
{
	le32_put(buf, MIG_RP_MAGIC);
	le32_put(buf + 4, type);
	le64_put(buf + 8, arg);
}

bool mig_page_is_zero(const void *page)
{
	const uint64_t *w = page;
	uint64_t acc = 0;
	for (unsigned i = 0; i < MIG_PAGE / 8; i += 8)
		acc |= w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] | w[i + 7];
	return acc == 0;
}

int migrate_uri_parse(const char *uri, char *host, size_t host_len, char *port, size_t port_len,
		      struct verr **err)
{
	if (strncmp(uri, "tcp:", 4) != 0)
		return verr_set(err, EINVAL, "migration address '%s': only tcp:HOST:PORT is supported", uri);
	const char *h = uri + 4;
	const char *colon = strrchr(h, ':');
	if (!colon)
		return verr_set(err, EINVAL, "migration address '%s': expected tcp:HOST:PORT", uri);
	size_t hl = (size_t)(colon - h);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	const char *p = colon + 1;
	char *end = NULL;
	unsigned long pn = strtoul(p, &end, 10);
	if (!*p || *end || pn > 65535)
		return verr_set(err, EINVAL, "migration address '%s': port '%s' is not 0..65535", uri, p);
	if (hl >= host_len || strlen(p) >= port_len)
		return verr_set(err, EINVAL, "migration address '%s': too long", uri);
	memcpy(host, h, hl);
	host[hl] = '\0';
	snprintf(port, port_len, "%s", p);
	return 0;
}

void mig_socket_setup(int fd, unsigned snd_timeout_ms, unsigned rcv_timeout_ms)
{
	int one = 1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (snd_timeout_ms) {
		struct timeval tv = { snd_timeout_ms / 1000, (snd_timeout_ms % 1000) * 1000 };
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	if (rcv_timeout_ms) {
		struct timeval tv = { rcv_timeout_ms / 1000, (rcv_timeout_ms % 1000) * 1000 };
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
}

static int resolve(const char *uri, bool passive, struct addrinfo **res, struct verr **err)
{
	char host[256], port[16];
	if (migrate_uri_parse(uri, host, sizeof(host), port, sizeof(port), err) < 0)
		return -1;
	if (!passive && (!host[0] || strcmp(port, "0") == 0))
		return verr_set(err, EINVAL, "migration address '%s': a host and a port are required", uri);
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = passive ? AI_PASSIVE : 0 };
	int r = getaddrinfo(host[0] ? host : NULL, port, &hints, res);
	if (r != 0)
		return verr_set(err, 0, "migration address '%s': %s", uri, gai_strerror(r));
	return 0;
}

/* A TCP socket for uri: bound and listening (passive) or connected, trying
 * each address getaddrinfo gives. */
static int open_socket(const char *uri, bool passive, int *out, struct verr **err)
{
	struct addrinfo *res = NULL;
	if (resolve(uri, passive, &res, err) < 0)
		return -1;
	int e = 0;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		int one = 1, ok;
		if (passive) {
			(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			ok = bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1) == 0;
		} else {
			mig_socket_setup(fd, 10000, 0); /* SO_SNDTIMEO bounds connect() too */
			ok = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0;
		}
		if (ok) {
			freeaddrinfo(res);
			*out = fd;
			return 0;
		}
		e = errno;
		close(fd);
	}
	freeaddrinfo(res);
	return verr_set(err, e, passive ? "listen on '%s'" : "connect to '%s'", uri);
}

int migrate_listen(const char *uri, int *out, struct verr **err)
{
	return open_socket(uri, true, out, err);
}

int migrate_accept(int listen_fd, int timeout_ms, int *conn_fd, struct verr **err)
{
	struct pollfd pfd = { .fd = listen_fd, .events = POLLIN };
	for (;;) {
		int r = poll(&pfd, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return verr_set(err, errno, "wait for the migration source");
		if (r == 0)
			return verr_set(err, ETIMEDOUT, "wait for the migration source");
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return verr_set(err, errno, "accept the migration connection");
		}
		*conn_fd = fd;
		return 0;
	}
}

int mig_connect(const char *uri, int *out, struct verr **err)
{
	return open_socket(uri, false, out, err);
}
