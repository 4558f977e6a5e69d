#include "vm/net/net.h"

#include <errno.h>
#include <string.h>

#include "base/util.h"

int net_backend_open(const char *spec, struct net_backend **out, struct verr **err)
{
	return net_backend_open_flags(spec, 0, out, err);
}

int net_backend_open_flags(const char *spec, unsigned flags, struct net_backend **out, struct verr **err)
{
	*out = NULL;
	if (strcmp(spec, "none") == 0)
		return 0;
	if (strncmp(spec, "tap:", 4) == 0)
		return net_tap_open(spec + 4, out, err);
	if (strcmp(spec, "user") == 0)
		return net_slirp_open("", flags, out, err);
	if (strncmp(spec, "user,", 5) == 0)
		return net_slirp_open(spec + 5, flags, out, err);
	return verr_set(err, 0, "--net '%s': expected none, user[,hostfwd=tcp:HOSTPORT-:GUESTPORT] or tap:IFNAME",
			spec);
}

int net_backend_start(struct net_backend *nb, net_rx_fn rx, void *opaque, struct verr **err)
{
	nb->rx = rx;
	nb->rx_opaque = opaque;
	return nb->ops->start(nb, err);
}

void net_backend_send(struct net_backend *nb, const struct iovec *iov, unsigned n, size_t skip)
{
	uint8_t frame[NET_MAX_FRAME];
	size_t len = 0;
	for (unsigned i = 0; i < n; i++) {
		size_t seg = iov[i].iov_len;
		const uint8_t *p = iov[i].iov_base;
		if (skip >= seg) {
			skip -= seg;
			continue;
		}
		p += skip;
		seg -= skip;
		skip = 0;
		if (seg > sizeof(frame) - len) {
			__atomic_fetch_add(&nb->stats.tx_dropped, 1, __ATOMIC_RELAXED);
			return; /* larger than any Ethernet frame */
		}
		memcpy(frame + len, p, seg);
		len += seg;
	}
	if (len < 14) {
		__atomic_fetch_add(&nb->stats.tx_dropped, 1, __ATOMIC_RELAXED);
		return;
	}
	nb->ops->send(nb, frame, len);
}

void net_backend_stats(struct net_backend *nb, struct net_stats *out)
{
	const uint64_t *src = (const uint64_t *)&nb->stats;
	uint64_t *dst = (uint64_t *)out;
	for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

void net_backend_destroy(struct net_backend *nb)
{
	if (nb)
		nb->ops->destroy(nb);
}

void net_backend_pause(struct net_backend *nb)
{
	if (nb && nb->ops->pause)
		nb->ops->pause(nb);
}

void net_backend_resume(struct net_backend *nb)
{
	if (nb && nb->ops->resume)
		nb->ops->resume(nb);
}

void net_backend_save(struct net_backend *nb, struct state_buf *b)
{
	if (nb && nb->ops->save)
		nb->ops->save(nb, b);
}

void net_backend_set_migration(struct net_backend *nb, bool on)
{
	if (nb)
		nb->migration = on;
}

int net_backend_load(struct net_backend *nb, const void *data, size_t len, struct verr **err)
{
	if (nb && nb->ops->load)
		return nb->ops->load(nb, data, len, err);
	if (len)
		return verr_set(err, EINVAL, "network backend state: %zu bytes for a backend without state", len);
	return 0;
}
