/* Network backends: spec parsing, user-mode networking answering ARP and
 * forwarding a host TCP connection to the guest, a guest's TCP connection
 * moving from one user network to another (live migration's save/load
 * with the host socket handed over) and being dropped by a snapshot's
 * load, and a TAP interface in a private network namespace. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <libslirp.h>

#include "base/util.h"
#include "vm/net/net.h"
#include "vm/state/stream.h"

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

struct rx_log {
	pthread_mutex_t lock;
	int arp_replies;     /* ARP replies from 10.0.2.2 */
	int arp_requests;    /* ARP requests for 10.0.2.15 */
	int syn_to_guest;    /* TCP SYN to 10.0.2.15:80 */
	int udp_to_guest;    /* UDP datagrams to 10.0.2.15:80 */
};

static void rx(void *opaque, const uint8_t *f, size_t len)
{
	struct rx_log *l = opaque;
	pthread_mutex_lock(&l->lock);
	if (len >= 42 && f[12] == 0x08 && f[13] == 0x06) {
		if (f[21] == 2 && memcmp(f + 28, "\x0a\x00\x02\x02", 4) == 0)
			l->arp_replies++;
		if (f[21] == 1 && memcmp(f + 38, "\x0a\x00\x02\x0f", 4) == 0)
			l->arp_requests++;
	}
	if (len >= 54 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 6) {
		unsigned ihl = (f[14] & 15) * 4;
		const uint8_t *tcp = f + 14 + ihl;
		if (14 + ihl + 20 <= len && tcp[2] == 0 && tcp[3] == 80 && (tcp[13] & 0x02))
			l->syn_to_guest++;
	}
	if (len >= 42 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 17) {
		unsigned ihl = (f[14] & 15) * 4;
		const uint8_t *udp = f + 14 + ihl;
		if (14 + ihl + 8 <= len && udp[2] == 0 && udp[3] == 80)
			l->udp_to_guest++;
	}
	pthread_mutex_unlock(&l->lock);
}

static void expect_error(const char *spec, const char *needle)
{
	struct net_backend *nb = NULL;
	struct verr *e = NULL;
	assert_int_equal(net_backend_open(spec, &nb, &e), -1);
	assert_null(nb);
	if (!strstr(e->msg, needle))
		fail_msg("'%s': error '%s' lacks '%s'", spec, e->msg, needle);
	verr_free(e);
}

static void test_specs(void **state)
{
	(void)state;
	struct net_backend *nb = (void *)1;
	struct verr *e = NULL;
	assert_int_equal(net_backend_open("none", &nb, &e), 0);
	assert_null(nb);
	expect_error("wifi", "expected none, user");
	expect_error("user,foo=1", "unknown option 'foo=1'");
	expect_error("user,hostfwd=tcp:99999-:22", "expected hostfwd=");
	expect_error("user,hostfwd=tcp:2222", "expected hostfwd=");
	expect_error("user,hostfwd=tcp:1.2.3:2222-:22", "expected hostfwd=");
	expect_error("tap:", "not a valid interface name");
	expect_error("tap:a/b", "not a valid interface name");
	expect_error("tap:waytoolonginterfacename", "not a valid interface name");
}

static int wait_for(struct rx_log *l, int *field)
{
	for (int i = 0; i < 300; i++) {
		pthread_mutex_lock(&l->lock);
		int v = *field;
		pthread_mutex_unlock(&l->lock);
		if (v)
			return v;
		usleep(10000);
	}
	return 0;
}

static int free_port(void)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
	close(s);
	return ntohs(a.sin_port);
}

static void test_user_network(void **state)
{
	(void)state;
	int port = free_port();
	char spec[128];
	snprintf(spec, sizeof(spec), "user,hostfwd=tcp:127.0.0.1:%d-:80", port);
	struct net_backend *nb = NULL;
	struct verr *e = NULL;
	if (net_backend_open(spec, &nb, &e) < 0)
		fail_msg("%s", e->msg);
	/* the port is taken now: a second VM cannot forward it */
	struct net_backend *nb2 = NULL;
	assert_int_equal(net_backend_open(spec, &nb2, &e), -1);
	assert_non_null(strstr(e->msg, "port in use"));
	verr_clear(&e);

	struct rx_log log = { .lock = PTHREAD_MUTEX_INITIALIZER };
	assert_int_equal(net_backend_start(nb, rx, &log, &e), 0);
	/* ARP: who has 10.0.2.2? tell 10.0.2.15 */
	uint8_t arp[42] = { 0 };
	memset(arp, 0xff, 6);
	memcpy(arp + 6, guest_mac, 6);
	arp[12] = 0x08, arp[13] = 0x06;
	arp[15] = 1, arp[16] = 0x08, arp[18] = 6, arp[19] = 4, arp[21] = 1;
	memcpy(arp + 22, guest_mac, 6);
	memcpy(arp + 28, "\x0a\x00\x02\x0f", 4);
	memcpy(arp + 38, "\x0a\x00\x02\x02", 4);
	struct iovec iov[2] = { { .iov_base = "0123456789ab", .iov_len = 12 }, { .iov_base = arp, .iov_len = 42 } };
	net_backend_send(nb, iov, 2, 12); /* the 12 bytes of virtio header are skipped */
	assert_int_equal(wait_for(&log, &log.arp_replies), 1);

	/* a host connection to the forwarded port reaches the guest as a SYN */
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int r = connect(s, (struct sockaddr *)&a, sizeof(a));
	assert_true(r == 0 || errno == EINPROGRESS);
	assert_true(wait_for(&log, &log.syn_to_guest) > 0);
	close(s);

	struct net_stats st;
	net_backend_stats(nb, &st);
	assert_int_equal(st.tx_frames, 1);
	assert_true(st.rx_frames >= 2);
	net_backend_destroy(nb);
}

/* ---- a guest TCP connection through a migration ---- */
#ifdef SLIRP_HAS_SOCKET_STATE

#define GUEST_PORT 40000

/* what slirp sent to the guest's port GUEST_PORT */
struct tcp_log {
	pthread_mutex_t lock;
	uint8_t slirp_mac[6];
	int arp_replies;
	int synack, rst;
	uint32_t seq_next; /* the sequence number after the last segment */
	char data[256];    /* payload bytes received, in order */
	size_t data_len;
};

static void tcp_rx(void *opaque, const uint8_t *f, size_t len)
{
	struct tcp_log *l = opaque;
	pthread_mutex_lock(&l->lock);
	if (len >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 2) {
		memcpy(l->slirp_mac, f + 22, 6);
		l->arp_replies++;
	}
	if (len >= 54 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 6) {
		unsigned ihl = (f[14] & 15) * 4, iplen = (unsigned)f[16] << 8 | f[17];
		const uint8_t *t = f + 14 + ihl;
		if (14 + ihl + 20 <= len && 14 + iplen <= len && ((unsigned)t[2] << 8 | t[3]) == GUEST_PORT) {
			unsigned doff = (t[12] >> 4) * 4;
			uint32_t seq = (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 | (uint32_t)t[6] << 8 | t[7];
			size_t plen = iplen - ihl - doff;
			if ((t[13] & 0x12) == 0x12) {
				l->synack++;
				l->seq_next = seq + 1;
			}
			if (t[13] & 0x04)
				l->rst++;
			/* in-order data only (a retransmission is ignored) */
			if (plen && seq == l->seq_next && l->data_len + plen <= sizeof(l->data)) {
				memcpy(l->data + l->data_len, t + doff, plen);
				l->data_len += plen;
				l->seq_next = seq + (uint32_t)plen;
			}
		}
	}
	pthread_mutex_unlock(&l->lock);
}

static uint16_t csum(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* A TCP segment from 10.0.2.15:GUEST_PORT to 10.0.2.2:port. */
static void guest_tcp(struct net_backend *nb, const struct tcp_log *l, int port, uint8_t flags, uint32_t seq,
		      uint32_t ack, const char *data)
{
	size_t dlen = data ? strlen(data) : 0;
	uint8_t f[14 + 20 + 20 + 64] = { 0 };
	memcpy(f, l->slirp_mac, 6);
	memcpy(f + 6, guest_mac, 6);
	f[12] = 0x08;
	uint8_t *ip = f + 14, *t = ip + 20;
	ip[0] = 0x45;
	ip[2] = (uint8_t)((40 + dlen) >> 8), ip[3] = (uint8_t)(40 + dlen);
	ip[8] = 64, ip[9] = 6;
	memcpy(ip + 12, "\x0a\x00\x02\x0f", 4);
	memcpy(ip + 16, "\x0a\x00\x02\x02", 4);
	uint16_t c = csum(0, ip, 20);
	ip[10] = (uint8_t)(c >> 8), ip[11] = (uint8_t)c;
	t[0] = GUEST_PORT >> 8, t[1] = GUEST_PORT & 0xff;
	t[2] = (uint8_t)(port >> 8), t[3] = (uint8_t)port;
	for (int i = 0; i < 4; i++) {
		t[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
		t[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
	}
	t[12] = 5 << 4, t[13] = flags;
	t[14] = 0xff, t[15] = 0xff; /* window */
	memcpy(t + 20, data ? data : "", dlen);
	uint8_t pseudo[12];
	memcpy(pseudo, ip + 12, 8);
	pseudo[8] = 0, pseudo[9] = 6, pseudo[10] = (uint8_t)((20 + dlen) >> 8), pseudo[11] = (uint8_t)(20 + dlen);
	uint32_t sum = 0;
	for (int i = 0; i < 12; i += 2)
		sum += (uint32_t)pseudo[i] << 8 | pseudo[i + 1];
	c = csum(sum, t, 20 + dlen);
	t[16] = (uint8_t)(c >> 8), t[17] = (uint8_t)c;
	struct iovec iov = { .iov_base = f, .iov_len = 14 + 40 + dlen };
	net_backend_send(nb, &iov, 1, 0);
}

static void guest_arp(struct net_backend *nb)
{
	uint8_t arp[42] = { 0 };
	memset(arp, 0xff, 6);
	memcpy(arp + 6, guest_mac, 6);
	arp[12] = 0x08, arp[13] = 0x06;
	arp[15] = 1, arp[16] = 0x08, arp[18] = 6, arp[19] = 4, arp[21] = 1;
	memcpy(arp + 22, guest_mac, 6);
	memcpy(arp + 28, "\x0a\x00\x02\x0f", 4);
	memcpy(arp + 38, "\x0a\x00\x02\x02", 4);
	struct iovec iov = { .iov_base = arp, .iov_len = sizeof(arp) };
	net_backend_send(nb, &iov, 1, 0);
}

static int wait_tcp(struct tcp_log *l, int *field, size_t data_len)
{
	for (int i = 0; i < 300; i++) {
		pthread_mutex_lock(&l->lock);
		int ok = field ? *field != 0 : l->data_len >= data_len;
		pthread_mutex_unlock(&l->lock);
		if (ok)
			return 1;
		usleep(10000);
	}
	return 0;
}

static void read_exactly(int fd, const char *want)
{
	char buf[64] = { 0 };
	size_t n = 0, len = strlen(want);
	for (int i = 0; i < 300 && n < len; i++) {
		ssize_t r = recv(fd, buf + n, len - n, MSG_DONTWAIT);
		if (r > 0)
			n += (size_t)r;
		else if (r == 0)
			fail_msg("the host saw the connection close");
		else
			usleep(10000);
	}
	assert_string_equal(buf, want);
}

static struct net_backend *user_net(struct tcp_log *l)
{
	struct net_backend *nb = NULL;
	struct verr *e = NULL;
	if (net_backend_open("user", &nb, &e) < 0 || net_backend_start(nb, tcp_rx, l, &e) < 0)
		fail_msg("%s", e->msg);
	return nb;
}

static void test_user_migration(void **state)
{
	(void)state;
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(ls, 1), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &al), 0);
	int port = ntohs(a.sin_port);

	/* the guest connects to 10.0.2.2:port through the first network */
	struct tcp_log l1 = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct net_backend *src = user_net(&l1);
	guest_arp(src);
	assert_true(wait_tcp(&l1, &l1.arp_replies, 0));
	guest_tcp(src, &l1, port, 0x02, 1000, 0, NULL); /* SYN */
	int hs = accept(ls, NULL, NULL);
	assert_true(hs >= 0);
	assert_true(wait_tcp(&l1, &l1.synack, 0));
	guest_tcp(src, &l1, port, 0x10, 1001, l1.seq_next, NULL); /* ACK */
	guest_tcp(src, &l1, port, 0x18, 1001, l1.seq_next, "hello");
	read_exactly(hs, "hello");
	assert_int_equal(send(hs, "one", 3, 0), 3);
	assert_true(wait_tcp(&l1, NULL, 3));
	assert_memory_equal(l1.data, "one", 3);

	/* the host writes while the source is stopped: the bytes wait in the
	 * shared kernel socket */
	net_backend_pause(src);
	struct state_buf b = { 0 };
	net_backend_set_migration(src, true);
	net_backend_save(src, &b);
	assert_int_equal(send(hs, "two", 3, 0), 3);

	/* a snapshot's load drops the connection: the guest gets a reset */
	struct tcp_log l3 = { .lock = PTHREAD_MUTEX_INITIALIZER };
	memcpy(l3.slirp_mac, l1.slirp_mac, 6);
	struct net_backend *snap = NULL;
	struct verr *e = NULL;
	assert_int_equal(net_backend_open("user", &snap, &e), 0);
	if (net_backend_load(snap, b.p, b.len, &e) < 0)
		fail_msg("%s", e->msg);
	assert_int_equal(net_backend_start(snap, tcp_rx, &l3, &e), 0);
	guest_arp(snap);
	assert_true(wait_tcp(&l3, &l3.arp_replies, 0));
	guest_tcp(snap, &l3, port, 0x18, 1006, l1.seq_next, "lost");
	assert_true(wait_tcp(&l3, &l3.rst, 0));
	net_backend_destroy(snap);

	/* the destination takes the same host socket */
	struct tcp_log l2 = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct net_backend *dst = NULL;
	assert_int_equal(net_backend_open("user", &dst, &e), 0);
	net_backend_set_migration(dst, true);
	if (net_backend_load(dst, b.p, b.len, &e) < 0)
		fail_msg("%s", e->msg);
	net_backend_set_migration(dst, false);
	state_buf_free(&b);
	/* the source goes away: its copy of the socket closes, nothing is sent */
	net_backend_destroy(src);
	char c;
	assert_int_equal(recv(hs, &c, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);

	pthread_mutex_lock(&l1.lock);
	memcpy(l2.slirp_mac, l1.slirp_mac, 6);
	l2.seq_next = l1.seq_next; /* the guest's TCP state moves with it */
	pthread_mutex_unlock(&l1.lock);
	assert_int_equal(net_backend_start(dst, tcp_rx, &l2, &e), 0);
	guest_arp(dst);
	assert_true(wait_tcp(&l2, &l2.arp_replies, 0));
	/* the guest acknowledges what it had and sends on: both directions
	 * continue with the same sequence numbers */
	guest_tcp(dst, &l2, port, 0x18, 1006, l2.seq_next, "world");
	read_exactly(hs, "world");
	assert_true(wait_tcp(&l2, NULL, 3));
	assert_memory_equal(l2.data, "two", 3);
	assert_int_equal(l2.rst, 0);
	net_backend_destroy(dst);
	/* now the last copy is closed: the host sees the end */
	assert_int_equal(recv(hs, &c, 1, 0), 0);
	close(hs);
	close(ls);
}
#else
static void test_user_migration(void **state)
{
	(void)state;
	skip(); /* built with the system libslirp: connections do not move */
}
#endif

/* ---- a hostfwd listener through a migration ---- */
#if defined(SLIRP_HAS_SOCKET_STATE) && defined(SLIRP_HAS_HOSTFWD_FD)

static int connect_port(int port)
{
	int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int r = connect(c, (struct sockaddr *)&a, sizeof(a));
	assert_true(r == 0 || errno == EINPROGRESS);
	return c;
}

static int syn_count(struct rx_log *l)
{
	pthread_mutex_lock(&l->lock);
	int v = l->syn_to_guest;
	pthread_mutex_unlock(&l->lock);
	return v;
}

static void test_hostfwd_migration(void **state)
{
	(void)state;
	int port = free_port();
	char spec[128];
	/* (a TCP and a UDP port of the same number) */
	snprintf(spec, sizeof(spec), "user,hostfwd=tcp:127.0.0.1:%d-:80,hostfwd=udp:127.0.0.1:%d-:80", port, port);
	struct net_backend *src = NULL, *dst = NULL, *other = NULL;
	struct verr *e = NULL;
	struct rx_log l1 = { .lock = PTHREAD_MUTEX_INITIALIZER }, l2 = { .lock = PTHREAD_MUTEX_INITIALIZER };
	if (net_backend_open(spec, &src, &e) < 0 || net_backend_start(src, rx, &l1, &e) < 0)
		fail_msg("%s", e->msg);
	/* a migration's destination may open with the port in use ... */
	if (net_backend_open_flags(spec, NET_OPEN_INCOMING, &dst, &e) < 0 ||
	    net_backend_open_flags(spec, NET_OPEN_INCOMING, &other, &e) < 0)
		fail_msg("%s", e->msg);

	/* a connection made while the source is stopped waits in the accept
	 * queue, and moves with the listener */
	net_backend_pause(src);
	int c1 = connect_port(port);
	/* likewise a datagram waits in the UDP socket */
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in ua = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(sendto(u, "ping", 4, 0, (struct sockaddr *)&ua, sizeof(ua)), 4);
	usleep(20000);
	struct state_buf snap = { 0 }, mig = { 0 };
	net_backend_save(src, &snap);
	net_backend_set_migration(src, true);
	net_backend_save(src, &mig);
	net_backend_set_migration(src, false);

	/* ... but a state without the source's socket fails, naming the rule */
	net_backend_set_migration(other, true);
	assert_int_equal(net_backend_load(other, snap.p, snap.len, &e), -1);
	if (!strstr(e->msg, "10.0.2.15:80: the port is in use on this host and the source does not forward it"))
		fail_msg("%s", e->msg);
	verr_clear(&e);
	/* nor a socket from another boot (the record's boot id, 70 bytes from
	 * the end: u8 udp, u8 version, boot id, ..., sockaddr_in, no peer) */
	state_buf_free(&snap);
	state_put_bytes(&snap, mig.p, mig.len);
	snap.p[snap.len - 70] ^= 1;
	assert_int_equal(net_backend_load(other, snap.p, snap.len, &e), -1);
	if (!strstr(e->msg, "in use on this host and source on another host"))
		fail_msg("%s", e->msg);
	verr_clear(&e);
	/* nor outside a migration */
	net_backend_set_migration(other, false);
	assert_int_equal(net_backend_load(other, mig.p, mig.len, &e), -1);
	if (!strstr(e->msg, "not a live migration"))
		fail_msg("%s", e->msg);
	verr_clear(&e);
	net_backend_destroy(other);
	state_buf_free(&snap);

	net_backend_set_migration(dst, true);
	if (net_backend_load(dst, mig.p, mig.len, &e) < 0)
		fail_msg("%s", e->msg);
	net_backend_set_migration(dst, false);
	state_buf_free(&mig);
	net_backend_destroy(src);
	guest_arp(dst); /* the guest's address, queued before the thread runs */
	assert_int_equal(net_backend_start(dst, rx, &l2, &e), 0);
	/* the waiting connection reaches the guest through the destination */
	assert_true(wait_for(&l2, &l2.syn_to_guest) > 0);
	int before = syn_count(&l2);
	/* and the port still forwards: a new connection */
	int c2 = connect_port(port);
	for (int i = 0; i < 300 && syn_count(&l2) == before; i++)
		usleep(10000);
	assert_true(syn_count(&l2) > before);
	assert_int_equal(syn_count(&l1), 0);
	assert_true(wait_for(&l2, &l2.udp_to_guest) > 0);
	assert_int_equal(l1.udp_to_guest, 0);
	close(u);
	close(c1);
	close(c2);
	net_backend_destroy(dst);
	/* the last copy of the listener is closed: the port is free again */
	assert_int_equal(net_backend_open(spec, &src, &e), 0);
	net_backend_destroy(src);
}
#else
static void test_hostfwd_migration(void **state)
{
	(void)state;
	skip(); /* built with the system libslirp: listeners do not move */
}
#endif

static void test_tap(void **state)
{
	(void)state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* a private network namespace: nothing leaks onto the host */
		if (unshare(CLONE_NEWNET) < 0)
			_exit(77);
		struct net_backend *nb = NULL;
		struct verr *e = NULL;
		if (net_backend_open("tap:vtest0", &nb, &e) < 0) {
			fprintf(stderr, "%s\n", e->msg);
			_exit(access("/dev/net/tun", F_OK) == 0 ? 1 : 77);
		}
		unsigned idx = if_nametoindex("vtest0");
		/* (sysfs still shows the host's namespace: ask the kernel) */
		struct ifreq ifr = { 0 };
		strcpy(ifr.ifr_name, "vtest0");
		int s = socket(AF_INET, SOCK_DGRAM, 0);
		if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
			_exit(2);
		close(s);
		unsigned long flags = (unsigned short)ifr.ifr_flags;
		struct rx_log log = { .lock = PTHREAD_MUTEX_INITIALIZER };
		if (net_backend_start(nb, rx, &log, &e) < 0)
			_exit(3);
		net_backend_destroy(nb);
		/* created by us, so gone with us */
		_exit(idx == 0 ? 4 : !(flags & IFF_UP) ? 5 : if_nametoindex("vtest0") != 0 ? 6 : 0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_specs),
		cmocka_unit_test(test_user_network),
		cmocka_unit_test(test_user_migration),
		cmocka_unit_test(test_hostfwd_migration),
		cmocka_unit_test(test_tap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
