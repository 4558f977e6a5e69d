/* TAP backend: frames go to and come from a Linux TAP interface, so a VM
 * can join a bridge. The interface is created if it does not exist (and then
 * disappears with the VM) and is brought up. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/util.h"
#include "vm/net/net.h"

struct net_tap {
	struct net_backend nb;
	int fd;
	int stop_fd;
	pthread_t thread;
	bool started;
	char ifname[IFNAMSIZ];
};

static void *tap_thread(void *arg)
{
	struct net_tap *t = arg;
	uint8_t *frame = xmalloc(NET_MAX_FRAME);
	struct pollfd fds[2] = { { .fd = t->fd, .events = POLLIN }, { .fd = t->stop_fd, .events = POLLIN } };
	for (;;) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[1].revents)
			break;
		if (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL))
			break;
		for (;;) {
			ssize_t n = read(t->fd, frame, NET_MAX_FRAME);
			if (n <= 0)
				break;
			__atomic_fetch_add(&t->nb.stats.rx_frames, 1, __ATOMIC_RELAXED);
			__atomic_fetch_add(&t->nb.stats.rx_bytes, (uint64_t)n, __ATOMIC_RELAXED);
			t->nb.rx(t->nb.rx_opaque, frame, (size_t)n);
		}
	}
	free(frame);
	return NULL;
}

static int tap_start(struct net_backend *nb, struct verr **err)
{
	struct net_tap *t = (struct net_tap *)nb;
	int r = pthread_create(&t->thread, NULL, tap_thread, t);
	if (r)
		return verr_set(err, r, "start the thread of tap '%s'", t->ifname);
	t->started = true;
	return 0;
}

static void tap_send(struct net_backend *nb, const uint8_t *frame, size_t len)
{
	struct net_tap *t = (struct net_tap *)nb;
	ssize_t n = write(t->fd, frame, len);
	if (n == (ssize_t)len) {
		__atomic_fetch_add(&nb->stats.tx_frames, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&nb->stats.tx_bytes, len, __ATOMIC_RELAXED);
	} else {
		/* EAGAIN (queue full) or the interface is down: a dropped frame,
		 * as on a real wire */
		__atomic_fetch_add(&nb->stats.tx_dropped, 1, __ATOMIC_RELAXED);
	}
}

static void tap_destroy(struct net_backend *nb)
{
	struct net_tap *t = (struct net_tap *)nb;
	if (t->started) {
		uint64_t one = 1;
		if (write(t->stop_fd, &one, sizeof(one)) < 0) {
			/* an eventfd write cannot fail here */
		}
		pthread_join(t->thread, NULL);
	}
	if (t->fd >= 0)
		close(t->fd);
	if (t->stop_fd >= 0)
		close(t->stop_fd);
	free(t);
}

static const struct net_backend_ops tap_ops = {
	.start = tap_start,
	.send = tap_send,
	.destroy = tap_destroy,
};

static bool ifname_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= IFNAMSIZ)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == ':' || s[i] <= ' ' || s[i] == 0x7f)
			return false;
	return true;
}

int net_tap_open(const char *ifname, struct net_backend **out, struct verr **err)
{
	if (!ifname_ok(ifname))
		return verr_set(err, 0, "--net tap:'%s': not a valid interface name (1-%d characters, no '/', ':' or spaces)",
				ifname, IFNAMSIZ - 1);
	struct net_tap *t = xcalloc(1, sizeof(*t));
	t->nb.ops = &tap_ops;
	t->stop_fd = -1;
	snprintf(t->ifname, sizeof(t->ifname), "%s", ifname);
	t->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (t->fd < 0) {
		verr_set(err, errno, "--net tap:%s: open /dev/net/tun", ifname);
		tap_destroy(&t->nb);
		return -1;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	memcpy(ifr.ifr_name, t->ifname, sizeof(ifr.ifr_name));
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		verr_set(err, errno, "--net tap:%s: attach to the TAP interface%s", ifname,
			 errno == EBUSY ? " (another process uses it, or it is not a TAP device)" : "");
		tap_destroy(&t->nb);
		return -1;
	}
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s >= 0) {
		if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
			ifr.ifr_flags |= IFF_UP;
			if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) {
				int e = errno;
				close(s);
				verr_set(err, e, "--net tap:%s: bring the interface up", ifname);
				tap_destroy(&t->nb);
				return -1;
			}
		}
		close(s);
	}
	t->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (t->stop_fd < 0) {
		verr_set(err, errno, "eventfd");
		tap_destroy(&t->nb);
		return -1;
	}
	*out = &t->nb;
	return 0;
}
