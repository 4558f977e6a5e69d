/* Network backends: spec parsing, user-mode networking answering ARP and
 * forwarding a host TCP connection to the guest, and a TAP interface in a
 * private network namespace. */
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

#include "base/util.h"
#include "vm/net/net.h"

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

struct rx_log {
	pthread_mutex_t lock;
	int arp_replies;     /* ARP replies from 10.0.2.2 */
	int arp_requests;    /* ARP requests for 10.0.2.15 */
	int syn_to_guest;    /* TCP SYN to 10.0.2.15:80 */
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
		cmocka_unit_test(test_tap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
