/* User-mode networking with libslirp: the guest sits behind a NAT on
 * 10.0.2.0/24 (gateway/host 10.0.2.2, DNS 10.0.2.3, DHCP from 10.0.2.15),
 * the same addresses QEMU uses, so guest configurations carry over.
 *
 * libslirp is not thread-safe: every call into it happens on the backend's
 * own thread. Frames from the guest are queued (net_backend_send) and fed
 * to slirp_input there; frames slirp emits are delivered to the device from
 * that same thread, outside any slirp call, so no lock is held across the
 * device boundary.
 *
 * Live migration (docs/migration.md, "Networking across a move"): with our
 * patched libslirp (SLIRP_HAS_SOCKET_STATE), the state also carries the
 * guest's TCP connections; each host socket is handed over from the source
 * process to the destination with pidfd_getfd(), so the host side never
 * notices the move. Only on one host: elsewhere the connection is dropped.
 * The hostfwd rules' host sockets (made here, handed to libslirp with
 * slirp_add_hostfwd_fd) follow the same way when the destination could
 * not bind their ports (take_listeners).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <libslirp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"
#include "vm/net/net.h"
#include "vm/state/stream.h"

#define SLIRP_TXQ_MAX 256 /* frames from the guest waiting for the slirp thread */
#define SLIRP_MAX_FWD 16

struct frame {
	struct frame *next;
	size_t len;
	uint8_t data[];
};

struct slirp_timer {
	struct slirp_timer *next;
	SlirpTimerCb cb;
	void *cb_opaque;
	int64_t expire_ms; /* -1: not armed */
};

struct hostfwd {
	int is_udp;
	struct in_addr host_addr, guest_addr;
	int host_port, guest_port;
	int fd;       /* its host socket (libslirp owns it); -1 while pending */
	bool pending; /* --incoming and the port was in use: waits for the
		       * source's socket (take_listeners) */
};

struct net_slirp {
	struct net_backend nb;
	Slirp *slirp;
	int wake_fd;
	pthread_t thread;
	bool started;
	bool stop;
	bool pause_req;       /* the owner asks the thread to park */
	bool parked;          /* the thread is parked (outside every slirp call) */
	pthread_cond_t cond;  /* parked/pause_req changes */
	pthread_mutex_t lock; /* txq, stop and pause */
	struct frame *txq_head, *txq_tail;
	unsigned txq_len;
	struct frame *rxq_head, *rxq_tail; /* slirp thread only */
	struct slirp_timer *timers;        /* slirp thread only */
	struct pollfd *pfds;               /* slirp thread only */
	unsigned npfds, cap_pfds;
	struct log_ratelimit rl;
	char boot_id[36]; /* /proc/sys/kernel/random/boot_id, for handovers */
	unsigned taken, dropped; /* connections in the last load */
	struct hostfwd fwd[SLIRP_MAX_FWD];
	unsigned nfwd;
};

/* "tcp:127.0.0.1:2222-10.0.2.15:22": a rule in --net's syntax, for messages */
static void rule_name(const struct hostfwd *f, char *buf, size_t n)
{
	char h[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &f->host_addr, h, sizeof(h));
	inet_ntop(AF_INET, &f->guest_addr, g, sizeof(g));
	snprintf(buf, n, "%s:%s:%d-%s:%d", f->is_udp ? "udp" : "tcp", h, f->host_port, g, f->guest_port);
}

static int64_t clock_ns(void *opaque)
{
	(void)opaque;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct net_slirp *s = opaque;
	struct frame *f = xmalloc(sizeof(*f) + len);
	f->next = NULL;
	f->len = len;
	memcpy(f->data, buf, len);
	if (s->rxq_tail)
		s->rxq_tail->next = f;
	else
		s->rxq_head = f;
	s->rxq_tail = f;
	return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
	struct net_slirp *s = opaque;
	log_ratelimited(&s->rl, LOG_WARN, "user network: %s", msg);
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct net_slirp *s = opaque;
	struct slirp_timer *t = xcalloc(1, sizeof(*t));
	t->cb = cb;
	t->cb_opaque = cb_opaque;
	t->expire_ms = -1;
	t->next = s->timers;
	s->timers = t;
	return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
	struct net_slirp *s = opaque;
	for (struct slirp_timer **p = &s->timers; *p; p = &(*p)->next) {
		if (*p == timer) {
			*p = ((struct slirp_timer *)timer)->next;
			free(timer);
			return;
		}
	}
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	(void)opaque;
	((struct slirp_timer *)timer)->expire_ms = expire_ms;
}

static void cb_register_poll_fd(int fd, void *opaque)
{
	(void)fd;
	(void)opaque;
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
	(void)fd;
	(void)opaque;
}

static void wake(struct net_slirp *s)
{
	uint64_t one = 1;
	if (write(s->wake_fd, &one, sizeof(one)) < 0) {
		/* the counter cannot overflow in practice; nothing to do */
	}
}

static void cb_notify(void *opaque)
{
	wake(opaque);
}

static const SlirpCb slirp_cbs = {
	.send_packet = cb_send_packet,
	.guest_error = cb_guest_error,
	.clock_get_ns = clock_ns,
	.timer_new = cb_timer_new,
	.timer_free = cb_timer_free,
	.timer_mod = cb_timer_mod,
	.register_poll_fd = cb_register_poll_fd,
	.unregister_poll_fd = cb_unregister_poll_fd,
	.notify = cb_notify,
};

static short to_poll(int ev)
{
	short p = 0;
	if (ev & SLIRP_POLL_IN)
		p |= POLLIN;
	if (ev & SLIRP_POLL_OUT)
		p |= POLLOUT;
	if (ev & SLIRP_POLL_PRI)
		p |= POLLPRI;
	return p;
}

static int cb_add_poll(int fd, int events, void *opaque)
{
	struct net_slirp *s = opaque;
	if (s->npfds == s->cap_pfds) {
		s->cap_pfds = s->cap_pfds ? s->cap_pfds * 2 : 32;
		s->pfds = xrealloc(s->pfds, s->cap_pfds * sizeof(*s->pfds));
	}
	s->pfds[s->npfds] = (struct pollfd){ .fd = fd, .events = to_poll(events) };
	return (int)s->npfds++;
}

static int cb_get_revents(int idx, void *opaque)
{
	struct net_slirp *s = opaque;
	if (idx < 0 || (unsigned)idx >= s->npfds)
		return 0;
	short r = s->pfds[idx].revents;
	int ev = 0;
	if (r & POLLIN)
		ev |= SLIRP_POLL_IN;
	if (r & POLLOUT)
		ev |= SLIRP_POLL_OUT;
	if (r & POLLPRI)
		ev |= SLIRP_POLL_PRI;
	if (r & POLLERR)
		ev |= SLIRP_POLL_ERR;
	if (r & POLLHUP)
		ev |= SLIRP_POLL_HUP;
	return ev;
}

static void run_timers(struct net_slirp *s, int64_t now_ms)
{
	/* a callback may re-arm or free timers: restart the scan after each */
	bool fired;
	do {
		fired = false;
		for (struct slirp_timer *t = s->timers; t; t = t->next) {
			if (t->expire_ms >= 0 && t->expire_ms <= now_ms) {
				t->expire_ms = -1;
				t->cb(t->cb_opaque);
				fired = true;
				break;
			}
		}
	} while (fired);
}

/* Hands the guest what slirp produced, outside any slirp call. */
static void deliver_rx(struct net_slirp *s)
{
	struct frame *rx = s->rxq_head;
	s->rxq_head = s->rxq_tail = NULL;
	while (rx) {
		struct frame *n = rx->next;
		__atomic_fetch_add(&s->nb.stats.rx_frames, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&s->nb.stats.rx_bytes, rx->len, __ATOMIC_RELAXED);
		s->nb.rx(s->nb.rx_opaque, rx->data, rx->len);
		free(rx);
		rx = n;
	}
}

static void *slirp_thread(void *arg)
{
	struct net_slirp *s = arg;
	for (;;) {
		pthread_mutex_lock(&s->lock);
		if (s->pause_req && !s->stop) {
			int64_t parked_at = clock_ns(NULL);
			s->parked = true;
			pthread_cond_broadcast(&s->cond);
			while (s->pause_req && !s->stop)
				pthread_cond_wait(&s->cond, &s->lock);
			s->parked = false;
			/* slirp's timers do not run on while the VM is paused */
			int64_t paused_ms = (clock_ns(NULL) - parked_at) / 1000000;
			for (struct slirp_timer *t = s->timers; t; t = t->next)
				if (t->expire_ms >= 0)
					t->expire_ms += paused_ms;
		}
		bool stop = s->stop;
		struct frame *tx = s->txq_head;
		s->txq_head = s->txq_tail = NULL;
		s->txq_len = 0;
		pthread_mutex_unlock(&s->lock);
		if (stop) {
			while (tx) {
				struct frame *n = tx->next;
				free(tx);
				tx = n;
			}
			break;
		}
		while (tx) {
			struct frame *n = tx->next;
			slirp_input(s->slirp, tx->data, (int)tx->len);
			free(tx);
			tx = n;
		}
		/* The guest's frames (ACKs opening the TCP window, ARP, DNS
		 * queries) make slirp answer at once: deliver before poll()
		 * blocks, or every answer waits for the next socket event or
		 * timer (100+ ms: a download crawled at 0.2 MB/s). */
		deliver_rx(s);

		uint32_t timeout = 1000;
		s->npfds = 0;
		cb_add_poll(s->wake_fd, SLIRP_POLL_IN, s);
		slirp_pollfds_fill(s->slirp, &timeout, cb_add_poll, s);
		int64_t now_ms = clock_ns(NULL) / 1000000;
		for (struct slirp_timer *t = s->timers; t; t = t->next)
			if (t->expire_ms >= 0)
				timeout = t->expire_ms <= now_ms ? 0
					  : (uint32_t)((t->expire_ms - now_ms) < timeout ? t->expire_ms - now_ms : timeout);
		int r = poll(s->pfds, s->npfds, (int)timeout);
		if (r > 0 && (s->pfds[0].revents & POLLIN)) {
			uint64_t v;
			if (read(s->wake_fd, &v, sizeof(v)) < 0) {
				/* EAGAIN: someone else drained it */
			}
		}
		slirp_pollfds_poll(s->slirp, r < 0, cb_get_revents, s);
		run_timers(s, clock_ns(NULL) / 1000000);

		deliver_rx(s);
	}
	return NULL;
}

static int slirp_start(struct net_backend *nb, struct verr **err)
{
	struct net_slirp *s = (struct net_slirp *)nb;
	int r = pthread_create(&s->thread, NULL, slirp_thread, s);
	if (r)
		return verr_set(err, r, "start the user network thread");
	s->started = true;
	return 0;
}

static void slirp_send(struct net_backend *nb, const uint8_t *data, size_t len)
{
	struct net_slirp *s = (struct net_slirp *)nb;
	pthread_mutex_lock(&s->lock);
	if (s->txq_len >= SLIRP_TXQ_MAX) {
		pthread_mutex_unlock(&s->lock);
		__atomic_fetch_add(&nb->stats.tx_dropped, 1, __ATOMIC_RELAXED);
		return;
	}
	struct frame *f = xmalloc(sizeof(*f) + len);
	f->next = NULL;
	f->len = len;
	memcpy(f->data, data, len);
	if (s->txq_tail)
		s->txq_tail->next = f;
	else
		s->txq_head = f;
	s->txq_tail = f;
	s->txq_len++;
	pthread_mutex_unlock(&s->lock);
	__atomic_fetch_add(&nb->stats.tx_frames, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&nb->stats.tx_bytes, len, __ATOMIC_RELAXED);
	wake(s);
}

static void slirp_pause(struct net_backend *nb)
{
	struct net_slirp *s = (struct net_slirp *)nb;
	pthread_mutex_lock(&s->lock);
	s->pause_req = true;
	pthread_mutex_unlock(&s->lock);
	if (!s->started)
		return;
	wake(s);
	pthread_mutex_lock(&s->lock);
	while (!s->parked && !s->stop)
		pthread_cond_wait(&s->cond, &s->lock);
	pthread_mutex_unlock(&s->lock);
}

static void slirp_resume(struct net_backend *nb)
{
	struct net_slirp *s = (struct net_slirp *)nb;
	pthread_mutex_lock(&s->lock);
	s->pause_req = false;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

static ssize_t state_write_cb(const void *buf, size_t len, void *opaque)
{
	state_put_bytes(opaque, buf, len);
	return (ssize_t)len;
}

static ssize_t state_read_cb(void *buf, size_t len, void *opaque)
{
	struct state_cursor *c = opaque;
	const uint8_t *p = state_cursor_take(c, len);
	if (!p) {
		memset(buf, 0, len);
		return -1;
	}
	memcpy(buf, p, len);
	return (ssize_t)len;
}

#ifdef SLIRP_HAS_SOCKET_STATE
/* What a migration stream says about a connection's host socket, after
 * libslirp's state of it (little-endian):
 *   u8 version (1), u8[36] boot id, u32 pid, u32 fd, u64 inode,
 *   u8 len + the local address, u8 len + the peer address (getsockname,
 *   getpeername; at most sizeof(struct sockaddr_storage) each)
 * The destination takes the fd only on the same boot of the same host,
 * and only if what it got is that very socket. */
#define HANDOVER_VERSION 1
#define HANDOVER_FIXED (1 + 36 + 4 + 4 + 8)

struct handover {
	uint8_t boot_id[36];
	uint32_t pid, fd;
	uint64_t ino;
	uint8_t local_len, peer_len;
	uint8_t local[sizeof(struct sockaddr_storage)], peer[sizeof(struct sockaddr_storage)];
};

/* "10.0.2.15:41234 -> 10.0.2.2:5555", the connection as the guest sees it */
static void conn_name(const struct sockaddr *guest, const struct sockaddr *remote, char *buf, size_t n)
{
	const struct sockaddr_in *g = (const struct sockaddr_in *)guest, *r = (const struct sockaddr_in *)remote;
	char ga[INET_ADDRSTRLEN] = "?", ra[INET_ADDRSTRLEN] = "?";
	inet_ntop(AF_INET, &g->sin_addr, ga, sizeof(ga));
	inet_ntop(AF_INET, &r->sin_addr, ra, sizeof(ra));
	snprintf(buf, n, "%s:%u -> %s:%u", ga, ntohs(g->sin_port), ra, ntohs(r->sin_port));
}

#define HANDOVER_MAX (HANDOVER_FIXED + 2 + 2 * sizeof(struct sockaddr_storage))

/* The handover record of this process's socket fd into rec[HANDOVER_MAX];
 * returns its length. A socket that cannot describe itself gets an
 * identity no socket matches (the destination takes nothing); a listener
 * has no peer (length 0). */
static size_t handover_record(struct net_slirp *s, int fd, uint8_t *rec)
{
	struct sockaddr_storage local, peer;
	socklen_t llen = sizeof(local), plen = sizeof(peer);
	struct stat st;
	if (fstat(fd, &st) < 0)
		st.st_ino = 0;
	if (getsockname(fd, (struct sockaddr *)&local, &llen) < 0 || llen > sizeof(local))
		llen = 0;
	if (getpeername(fd, (struct sockaddr *)&peer, &plen) < 0 || plen > sizeof(peer))
		plen = 0;
	size_t n = 0;
	rec[n++] = HANDOVER_VERSION;
	memcpy(rec + n, s->boot_id, 36);
	n += 36;
	le32_put(rec + n, (uint32_t)getpid());
	le32_put(rec + n + 4, (uint32_t)fd);
	le64_put(rec + n + 8, (uint64_t)st.st_ino);
	n += 16;
	rec[n++] = (uint8_t)llen;
	memcpy(rec + n, &local, llen);
	n += llen;
	rec[n++] = (uint8_t)plen;
	memcpy(rec + n, &peer, plen);
	n += plen;
	return n;
}

static void save_socket_cb(int fd, const struct sockaddr *guest, const struct sockaddr *remote, SlirpWriteCb write_cb,
			   void *write_opaque, void *opaque)
{
	struct net_slirp *s = opaque;
	uint8_t rec[HANDOVER_MAX];
	write_cb(rec, handover_record(s, fd, rec), write_opaque);
	char name[64];
	conn_name(guest, remote, name, sizeof(name));
	log_debug("migration: TCP connection %s goes along (fd %d)", name, fd);
}

static int read_handover(SlirpReadCb read_cb, void *ro, struct handover *h)
{
	uint8_t fixed[HANDOVER_FIXED];
	if (read_cb(fixed, sizeof(fixed), ro) != (ssize_t)sizeof(fixed) || fixed[0] != HANDOVER_VERSION)
		return -1;
	memcpy(h->boot_id, fixed + 1, 36);
	h->pid = le32_get(fixed + 37);
	h->fd = le32_get(fixed + 41);
	h->ino = le64_get(fixed + 45);
	if (read_cb(&h->local_len, 1, ro) != 1 || h->local_len > sizeof(h->local) ||
	    (h->local_len && read_cb(h->local, h->local_len, ro) != h->local_len))
		return -1;
	if (read_cb(&h->peer_len, 1, ro) != 1 || h->peer_len > sizeof(h->peer) ||
	    (h->peer_len && read_cb(h->peer, h->peer_len, ro) != h->peer_len))
		return -1;
	return 0;
}

/* The source's descriptor h->fd, if this process may take it and it is a
 * socket with h's inode and local address; -1 with *why otherwise. */
static int grab_fd(struct net_slirp *s, const struct handover *h, const char **why)
{
	if (!s->nb.migration) {
		*why = "not a live migration";
		return -1;
	}
	static const char no_boot_id[36];
	if (!memcmp(s->boot_id, no_boot_id, 36)) {
		*why = "this host's boot id is unknown (no /proc)";
		return -1;
	}
	if (memcmp(h->boot_id, s->boot_id, 36) != 0) {
		*why = "source on another host";
		return -1;
	}
	if (h->pid == 0 || h->pid > INT32_MAX || h->fd > INT32_MAX || h->local_len == 0) {
		*why = "the source could not describe its socket";
		return -1;
	}
	int pfd = pidfd_open((pid_t)h->pid, 0);
	if (pfd < 0) {
		*why = errno == ESRCH ? "the source process is gone" : "pidfd_open of the source failed";
		return -1;
	}
	int fd = pidfd_getfd(pfd, (int)h->fd, 0);
	int e = errno;
	close(pfd);
	if (fd < 0) {
		*why = e == EPERM ? "no permission to take the source's socket (pidfd_getfd needs ptrace rights)"
				  : "pidfd_getfd on the source failed";
		return -1;
	}
	struct stat st;
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);
	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode) || st.st_ino != h->ino ||
	    getsockname(fd, (struct sockaddr *)&local, &llen) < 0 || llen != h->local_len ||
	    memcmp(&local, h->local, llen) != 0) {
		close(fd);
		*why = "the source's descriptor is not that socket any more";
		return -1;
	}
	return fd;
}

/* The source's socket of a connection (grab_fd, and the same peer). */
static int take_socket(struct net_slirp *s, const struct handover *h, const char **why)
{
	if (h->peer_len == 0) {
		*why = "the source could not describe its socket";
		return -1;
	}
	int fd = grab_fd(s, h, why);
	if (fd < 0)
		return -1;
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	if (getpeername(fd, (struct sockaddr *)&peer, &plen) < 0 || plen != h->peer_len ||
	    memcmp(&peer, h->peer, plen) != 0) {
		close(fd);
		*why = "the source's descriptor is not that socket any more";
		return -1;
	}
	/* the file description is shared with the source: already
	 * non-blocking there, but do not depend on it */
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		close(fd);
		*why = "cannot make the socket non-blocking";
		return -1;
	}
	return fd;
}

static int load_socket_cb(const struct sockaddr *guest, const struct sockaddr *remote, SlirpReadCb read_cb,
			  void *read_opaque, void *opaque)
{
	struct net_slirp *s = opaque;
	struct handover h;
	if (read_handover(read_cb, read_opaque, &h) < 0)
		return -1; /* the stream is bad: the caller refuses it */
	char name[64];
	conn_name(guest, remote, name, sizeof(name));
	const char *why = NULL;
	int fd = take_socket(s, &h, &why);
	if (fd < 0) {
		log_warn("%s: TCP connection %s not taken over (%s): the guest will see it reset",
			 s->nb.migration ? "migration" : "user network state", name, why);
		s->dropped++;
		return -1;
	}
	s->taken++;
	log_debug("migration: TCP connection %s taken over (fd %d)", name, fd);
	return fd;
}
#endif

#if defined(SLIRP_HAS_SOCKET_STATE) && defined(SLIRP_HAS_HOSTFWD_FD)
#define HOSTFWD_HANDOVER 1

/* The hostfwd rules' host sockets, after libslirp's stream during a live
 * migration (a destination on the same host cannot bind those ports while
 * the source holds them, so it takes these over: take_listeners):
 *   u8 count, then count times: u8 is_udp, a handover record (no peer) */
static void save_listeners(struct net_slirp *s, struct state_buf *b)
{
	state_put_u8(b, (uint8_t)s->nfwd);
	for (unsigned i = 0; i < s->nfwd; i++) {
		uint8_t rec[HANDOVER_MAX];
		state_put_u8(b, (uint8_t)s->fwd[i].is_udp);
		state_put_bytes(b, rec, handover_record(s, s->fwd[i].fd, rec));
	}
}

/* The pending rule whose host address is exactly h's local address. */
static struct hostfwd *pending_rule(struct net_slirp *s, unsigned is_udp, const struct handover *h)
{
	struct sockaddr_in a;
	if (h->local_len != sizeof(a))
		return NULL;
	memcpy(&a, h->local, sizeof(a));
	for (unsigned i = 0; i < s->nfwd; i++) {
		struct hostfwd *f = &s->fwd[i];
		if (f->pending && (unsigned)f->is_udp == is_udp && a.sin_family == AF_INET &&
		    a.sin_addr.s_addr == f->host_addr.s_addr && ntohs(a.sin_port) == f->host_port)
			return f;
	}
	return NULL;
}

/* The source's socket for rule f (grab_fd, and a listening TCP or a bound
 * UDP socket), made this rule's libslirp listener; *why otherwise. */
static int take_listener(struct net_slirp *s, struct hostfwd *f, const struct handover *h, const char **why)
{
	if (h->peer_len) {
		*why = "the source's socket for it is connected, not a listener";
		return -1;
	}
	int fd = grab_fd(s, h, why);
	if (fd < 0)
		return -1;
	int type = 0, acc = 0;
	socklen_t tl = sizeof(type), al = sizeof(acc);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != (f->is_udp ? SOCK_DGRAM : SOCK_STREAM) ||
	    (!f->is_udp && (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &al) < 0 || !acc))) {
		close(fd);
		*why = f->is_udp ? "the source's descriptor is not a UDP socket"
				 : "the source's descriptor is not a listening TCP socket";
		return -1;
	}
	/* an accept() racing nobody never blocks; still, do not depend on it */
	int fl = fcntl(fd, F_GETFL);
	if (!f->is_udp && (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)) {
		close(fd);
		*why = "cannot make the socket non-blocking";
		return -1;
	}
	if (slirp_add_hostfwd_fd(s->slirp, f->is_udp, fd, f->guest_addr, f->guest_port) < 0) {
		*why = "libslirp refused the socket";
		return -1;
	}
	f->fd = fd;
	f->pending = false;
	return 0;
}

/* Reads the listener records that follow libslirp's stream (none: an
 * older source, a snapshot) and takes over each pending rule's socket;
 * records for rules this process could bind itself are skipped. A rule
 * still pending then fails the load, naming it. */
static int take_listeners(struct net_slirp *s, struct state_cursor *c, struct verr **err)
{
	const char *why[SLIRP_MAX_FWD] = { 0 };
	unsigned n = state_cursor_done(c) ? 0 : state_get_u8(c);
	for (unsigned i = 0; i < n; i++) {
		unsigned is_udp = state_get_u8(c);
		struct handover h;
		if (c->bad || is_udp > 1 || read_handover(state_read_cb, c, &h) < 0)
			return verr_set(err, EINVAL, "user network state: bad hostfwd record %u", i);
		struct hostfwd *f = pending_rule(s, is_udp, &h);
		if (!f)
			continue;
		char name[80];
		rule_name(f, name, sizeof(name));
		if (take_listener(s, f, &h, &why[f - s->fwd]) == 0)
			log_debug("migration: hostfwd %s: the source's socket taken over (fd %d)", name, f->fd);
	}
	for (unsigned i = 0; i < s->nfwd; i++) {
		if (!s->fwd[i].pending)
			continue;
		char name[80];
		rule_name(&s->fwd[i], name, sizeof(name));
		return verr_set(err, 0, "hostfwd=%s: the port is in use on this host and %s", name,
				why[i] ? why[i] : "the source does not forward it");
	}
	return 0;
}
#endif

/* Payload: u32 slirp_state_version(), then libslirp's own stream (with the
 * TCP connections and their host sockets' identities during a live
 * migration, SLIRP_HAS_SOCKET_STATE), then during a live migration the
 * hostfwd listeners (save_listeners). Called with the thread parked (or
 * not started): libslirp is single-threaded. */
static void slirp_save(struct net_backend *nb, struct state_buf *b)
{
	struct net_slirp *s = (struct net_slirp *)nb;
	state_put_u32(b, (uint32_t)slirp_state_version());
#ifdef SLIRP_HAS_SOCKET_STATE
	if (nb->migration) {
		slirp_state_save_sockets(s->slirp, state_write_cb, b, save_socket_cb, s);
#ifdef HOSTFWD_HANDOVER
		save_listeners(s, b);
#endif
		return;
	}
#else
	if (nb->migration)
		log_warn("migration: this build uses the system libslirp, which cannot carry TCP connections: "
			 "the guest's connections through user networking will be reset on the destination");
#endif
	slirp_state_save(s->slirp, state_write_cb, b);
}

static int slirp_load(struct net_backend *nb, const void *data, size_t len, struct verr **err)
{
	struct net_slirp *s = (struct net_slirp *)nb;
	struct state_cursor c;
	state_cursor_init(&c, data, len);
	uint32_t version = state_get_u32(&c);
	if (c.bad)
		return verr_set(err, EINVAL, "user network state: truncated");
	if (version > (uint32_t)slirp_state_version())
		return verr_set(err, EINVAL, "user network state: version %u is newer than this libslirp's (%d)",
				version, slirp_state_version());
#ifdef SLIRP_HAS_SOCKET_STATE
	/* connections in a stream that is not a live migration (a hostile
	 * snapshot) are read and dropped: load_socket_cb checks the mode */
	s->taken = s->dropped = 0;
	int r = slirp_state_load_sockets(s->slirp, (int)version, state_read_cb, &c, load_socket_cb, s);
	if (r >= 0 && !c.bad && (s->taken || s->dropped))
		log_info("%s: %u TCP connection(s) taken over, %u dropped", nb->migration ? "migration" : "user network state",
			 s->taken, s->dropped);
#else
	int r = slirp_state_load(s->slirp, (int)version, state_read_cb, &c);
#endif
	if (r < 0 || c.bad)
		return verr_set(err, EINVAL, "user network state: libslirp refused it (%s)",
				c.bad ? "truncated" : strerror(-r));
#ifdef HOSTFWD_HANDOVER
	/* outside a migration (a snapshot, a crafted file) the records are
	 * read but grab_fd takes nothing */
	return take_listeners(s, &c, err);
#else
	return 0;
#endif
}

static void slirp_destroy(struct net_backend *nb)
{
	struct net_slirp *s = (struct net_slirp *)nb;
	if (s->started) {
		pthread_mutex_lock(&s->lock);
		s->stop = true;
		pthread_cond_broadcast(&s->cond);
		pthread_mutex_unlock(&s->lock);
		wake(s);
		pthread_join(s->thread, NULL);
	}
	if (s->slirp)
		slirp_cleanup(s->slirp);
	while (s->timers)
		cb_timer_free(s->timers, s);
	while (s->rxq_head) {
		struct frame *n = s->rxq_head->next;
		free(s->rxq_head);
		s->rxq_head = n;
	}
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s->pfds);
	free(s);
}

static const struct net_backend_ops slirp_ops = {
	.start = slirp_start,
	.send = slirp_send,
	.destroy = slirp_destroy,
	.pause = slirp_pause,
	.resume = slirp_resume,
	.save = slirp_save,
	.load = slirp_load,
};

static int parse_port(const char *s, size_t n, int *out)
{
	if (n == 0 || n > 5)
		return -1;
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*out = v;
	return 0;
}

/* "[ADDR]:PORT" with an optional address; *addr keeps its default if empty. */
static int parse_addr_port(const char *s, size_t n, struct in_addr *addr, int *port)
{
	const char *colon = memrchr(s, ':', n);
	if (!colon)
		return -1;
	size_t alen = (size_t)(colon - s);
	if (alen) {
		char buf[INET_ADDRSTRLEN];
		if (alen >= sizeof(buf))
			return -1;
		memcpy(buf, s, alen);
		buf[alen] = 0;
		if (inet_pton(AF_INET, buf, addr) != 1)
			return -1;
	}
	return parse_port(colon + 1, n - alen - 1, port);
}

/* hostfwd=[tcp|udp]:[HADDR]:HPORT-[GADDR]:GPORT (QEMU's syntax) */
static int parse_hostfwd(const char *v, struct hostfwd *f)
{
	f->is_udp = 0;
	if (strncmp(v, "tcp:", 4) == 0) {
		v += 4;
	} else if (strncmp(v, "udp:", 4) == 0) {
		f->is_udp = 1;
		v += 4;
	}
	const char *dash = strchr(v, '-');
	if (!dash)
		return -1;
	f->host_addr.s_addr = htonl(INADDR_ANY);
	inet_pton(AF_INET, "10.0.2.15", &f->guest_addr);
	/* "HPORT" alone is accepted for the host side, as QEMU does */
	if (!memchr(v, ':', (size_t)(dash - v))) {
		if (parse_port(v, (size_t)(dash - v), &f->host_port) < 0)
			return -1;
	} else if (parse_addr_port(v, (size_t)(dash - v), &f->host_addr, &f->host_port) < 0) {
		return -1;
	}
	return parse_addr_port(dash + 1, strlen(dash + 1), &f->guest_addr, &f->guest_port);
}

#ifdef HOSTFWD_HANDOVER
/* Rule f's host socket, made as libslirp's own hostfwd makes it (a
 * reused address, close-on-exec), listening for TCP; -1 with errno. */
static int hostfwd_socket(const struct hostfwd *f)
{
	int fd = socket(AF_INET, (f->is_udp ? SOCK_DGRAM : SOCK_STREAM | SOCK_NONBLOCK) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)f->host_port),
				 .sin_addr = f->host_addr };
	/* UDP: after the bind, so that a port in use is noticed (as libslirp) */
	if ((!f->is_udp && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || (!f->is_udp && listen(fd, SOMAXCONN) < 0) ||
	    (f->is_udp && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}
#endif

/* Sets up rule f: its host socket now, or (incoming, the port in use)
 * pending until a migration's state hands the source's over. */
static int add_hostfwd(struct net_slirp *s, struct hostfwd *f, unsigned flags, struct verr **err)
{
	char name[80];
	rule_name(f, name, sizeof(name));
#ifdef HOSTFWD_HANDOVER
	f->fd = hostfwd_socket(f);
	if (f->fd < 0 && errno == EADDRINUSE && (flags & NET_OPEN_INCOMING)) {
		f->pending = true;
		log_debug("hostfwd=%s: port in use: waiting for the migrating source's socket", name);
		return 0;
	}
	int e = errno;
	if (f->fd < 0)
		return verr_set(err, e == EADDRINUSE ? 0 : e, "--net user: hostfwd=%s: cannot listen on the host port%s",
				name, e == EADDRINUSE ? " (port in use)" : "");
	if (slirp_add_hostfwd_fd(s->slirp, f->is_udp, f->fd, f->guest_addr, f->guest_port) < 0) {
		f->fd = -1;
		return verr_set(err, EINVAL, "--net user: hostfwd=%s: libslirp refused the socket", name);
	}
	return 0;
#else
	(void)flags;
	f->fd = -1;
	if (slirp_add_hostfwd(s->slirp, f->is_udp, f->host_addr, f->host_port, f->guest_addr, f->guest_port) < 0)
		return verr_set(err, 0, "--net user: hostfwd=%s: cannot listen on the host port (port in use)", name);
	return 0;
#endif
}

int net_slirp_open(const char *opts, unsigned flags, struct net_backend **out, struct verr **err)
{
	struct hostfwd fwd[SLIRP_MAX_FWD];
	unsigned nfwd = 0;
	cleanup_free char *copy = xstrdup(opts);
	char *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (strncmp(tok, "hostfwd=", 8) == 0) {
			if (nfwd == SLIRP_MAX_FWD)
				return verr_set(err, 0, "--net user: at most %d hostfwd rules", SLIRP_MAX_FWD);
			if (parse_hostfwd(tok + 8, &fwd[nfwd]) < 0)
				return verr_set(err, 0, "--net user: '%s': expected hostfwd=tcp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT",
						tok);
			nfwd++;
		} else {
			return verr_set(err, 0, "--net user: unknown option '%s' (known: hostfwd=)", tok);
		}
	}
	struct net_slirp *s = xcalloc(1, sizeof(*s));
	s->nb.ops = &slirp_ops;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->wake_fd < 0) {
		verr_set(err, errno, "eventfd");
		slirp_destroy(&s->nb);
		return -1;
	}
#ifdef SLIRP_HAS_SOCKET_STATE
	/* no boot id (no /proc): all zeros, and take_socket takes nothing */
	int bfd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (bfd >= 0) {
		if (read(bfd, s->boot_id, sizeof(s->boot_id)) != (ssize_t)sizeof(s->boot_id))
			memset(s->boot_id, 0, sizeof(s->boot_id));
		close(bfd);
	}
#endif
	SlirpConfig cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.version = 1;
	cfg.in_enabled = true;
	inet_pton(AF_INET, "10.0.2.0", &cfg.vnetwork);
	inet_pton(AF_INET, "255.255.255.0", &cfg.vnetmask);
	inet_pton(AF_INET, "10.0.2.2", &cfg.vhost);
	inet_pton(AF_INET, "10.0.2.15", &cfg.vdhcp_start);
	inet_pton(AF_INET, "10.0.2.3", &cfg.vnameserver);
	cfg.vhostname = "vessel";
	s->slirp = slirp_new(&cfg, &slirp_cbs, s);
	if (!s->slirp) {
		verr_set(err, 0, "--net user: could not start user-mode networking");
		slirp_destroy(&s->nb);
		return -1;
	}
	for (unsigned i = 0; i < nfwd; i++) {
		s->fwd[s->nfwd] = fwd[i];
		if (add_hostfwd(s, &s->fwd[s->nfwd], flags, err) < 0) {
			slirp_destroy(&s->nb);
			return -1;
		}
		s->nfwd++;
	}
	*out = &s->nb;
	return 0;
}
