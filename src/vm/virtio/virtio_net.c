/* virtio-net (virtio 1.2 §5.1): one receive and one transmit queue, a MAC
 * address and link status; no offloads, so frames cross as plain Ethernet
 * (the guest computes checksums). Frames from the network arrive on the
 * backend's thread, which takes the board lock to fill a receive buffer;
 * a frame with no buffer to go to is dropped, as on a real NIC. */
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "vm/virtio/virtio_devices.h"

#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_S_LINK_UP 1
#define NET_HDR_LEN 12 /* struct virtio_net_hdr_v1 (§5.1.6) */
#define NET_CONFIG_LEN 8
#define RXQ 0
#define TXQ 1

struct virtio_net {
	struct virtio_mmio *t;
	struct net_backend *nb;
	uint8_t config[NET_CONFIG_LEN];
	struct virtq_elem rx_elem, tx_elem;
	uint64_t rx_dropped;
	bool paused; /* board lock: frames arriving now are dropped */
};

static void net_config_read(void *dev, uint32_t off, void *buf, uint32_t len)
{
	struct virtio_net *n = dev;
	memcpy(buf, n->config + off, len);
}

static void net_notify(void *dev, unsigned q)
{
	struct virtio_net *n = dev;
	if (q != TXQ)
		return; /* new receive buffers: used when the next frame comes */
	while (virtio_mmio_pop(n->t, TXQ, &n->tx_elem) == 1) {
		if (n->tx_elem.out_len > NET_HDR_LEN)
			net_backend_send(n->nb, n->tx_elem.out, n->tx_elem.out_num, NET_HDR_LEN);
		virtio_mmio_push(n->t, TXQ, n->tx_elem.head, 0);
	}
	virtio_mmio_notify(n->t, TXQ);
}

static void net_rx(void *opaque, const uint8_t *frame, size_t len)
{
	struct virtio_net *n = opaque;
	pthread_mutex_t *lock = virtio_mmio_lock(n->t);
	pthread_mutex_lock(lock);
	if (n->paused || virtio_mmio_pop(n->t, RXQ, &n->rx_elem) != 1) {
		n->rx_dropped++;
		pthread_mutex_unlock(lock);
		return;
	}
	uint32_t used = 0;
	if (n->rx_elem.in_len >= NET_HDR_LEN + len) {
		uint8_t hdr[NET_HDR_LEN] = { 0 };
		hdr[10] = 1; /* num_buffers */
		iov_from_buf(n->rx_elem.in, n->rx_elem.in_num, 0, hdr, sizeof(hdr));
		iov_from_buf(n->rx_elem.in, n->rx_elem.in_num, NET_HDR_LEN, frame, len);
		used = (uint32_t)(NET_HDR_LEN + len);
	} else {
		n->rx_dropped++; /* the guest's buffer is too small: give it back empty */
	}
	virtio_mmio_push(n->t, RXQ, n->rx_elem.head, used);
	virtio_mmio_notify(n->t, RXQ);
	pthread_mutex_unlock(lock);
}

static void net_reset(void *dev)
{
	(void)dev;
}

static const struct virtio_device_ops net_ops = {
	.name = "virtio-net",
	.device_id = 1,
	.num_queues = 2,
	.config_len = NET_CONFIG_LEN,
	.config_read = net_config_read,
	.queue_notify = net_notify,
	.reset = net_reset,
};

struct virtio_net *virtio_net_create(struct net_backend *nb, const uint8_t mac[6], const struct guest_mem *mem,
				     struct irq_line irq, pthread_mutex_t *lock, struct verr **err)
{
	struct virtio_net *n = xcalloc(1, sizeof(*n));
	n->nb = nb;
	memcpy(n->config, mac, 6);
	n->config[6] = VIRTIO_NET_S_LINK_UP;
	n->t = virtio_mmio_create(&net_ops, n, 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_STATUS, mem, irq,
				  lock);
	if (net_backend_start(nb, net_rx, n, err) < 0) {
		virtio_mmio_destroy(n->t);
		free(n);
		return NULL;
	}
	return n;
}

struct virtio_mmio *virtio_net_transport(struct virtio_net *n)
{
	return n->t;
}

void virtio_net_destroy(struct virtio_net *n)
{
	if (!n)
		return;
	/* the caller destroys the backend first (its thread calls net_rx) */
	virtio_mmio_destroy(n->t);
	free(n);
}

void virtio_net_set_paused(struct virtio_net *n, bool paused)
{
	n->paused = paused;
}

size_t virtio_net_config(const struct virtio_net *n, uint8_t *buf, size_t len)
{
	if (len >= NET_CONFIG_LEN)
		memcpy(buf, n->config, NET_CONFIG_LEN);
	return NET_CONFIG_LEN;
}
