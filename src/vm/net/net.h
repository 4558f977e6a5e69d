/* Network backends: where a virtio-net device's frames go on the host.
 *
 *   none                     no backend (the device's link is down)
 *   user[,hostfwd=...]       user-mode networking (libslirp): NAT, DHCP, DNS,
 *                            no privileges; hostfwd=tcp:[HADDR]:HPORT-[GADDR]:GPORT
 *                            (several allowed, QEMU's syntax; udp: too)
 *   tap:IFNAME               a TAP interface, created if it does not exist
 *
 * A backend runs its own thread. Frames from the network reach the device
 * through the rx callback on that thread; frames from the guest are handed
 * to net_backend_send(), which never blocks and never calls back into the
 * device (so the device may hold its lock while calling it).
 */
#ifndef VESSEL_VM_NET_H
#define VESSEL_VM_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "base/err.h"

#define NET_MAX_FRAME 65550 /* 64 KiB payload + Ethernet header (+ VLAN) */

/* Called on the backend's thread with a frame for the guest. */
typedef void (*net_rx_fn)(void *opaque, const uint8_t *frame, size_t len);

struct net_backend;

struct net_stats {
	uint64_t tx_frames, tx_bytes, tx_dropped;
	uint64_t rx_frames, rx_bytes;
};

/* Parses a --net spec and opens the backend (binds hostfwd ports, creates
 * the TAP device) without starting its thread. *out is NULL for "none".
 * Errors name the part of the spec that is wrong. */
int net_backend_open(const char *spec, struct net_backend **out, struct verr **err);

/* net_backend_open with flags:
 *   NET_OPEN_INCOMING  a live migration's destination: a hostfwd port in
 *                      use is not an error yet; the rule waits for the
 *                      source's socket, which the migration's state hands
 *                      over (net_backend_load fails, naming the rule, if
 *                      it does not: the source then runs on). */
#define NET_OPEN_INCOMING 1u
int net_backend_open_flags(const char *spec, unsigned flags, struct net_backend **out, struct verr **err);

/* Starts the backend's thread; frames for the guest go to rx(opaque, ...). */
int net_backend_start(struct net_backend *nb, net_rx_fn rx, void *opaque, struct verr **err);

/* Queues a frame from the guest (gathered from iov, skip bytes skipped).
 * Thread-safe, never blocks; a full queue drops the frame. */
void net_backend_send(struct net_backend *nb, const struct iovec *iov, unsigned n, size_t skip);

void net_backend_stats(struct net_backend *nb, struct net_stats *out);

struct state_buf;

/* Pause: the backend's thread parks (no frames delivered, no timers, no
 * host sockets served; frames sent meanwhile wait in its queue) until
 * resume; timers are shifted by the time spent paused. Accept NULL; no-ops
 * for backends without a thread of their own to park (TAP: the device
 * drops frames while paused). Not thread-safe against each other: the VM's
 * owner calls them. */
void net_backend_pause(struct net_backend *nb);
void net_backend_resume(struct net_backend *nb);

/* The backend's own state for snapshots and migration (what libslirp's
 * slirp_state_save keeps: DHCP leases, IP id, guestfwd sockets), with
 * libslirp's state version; an empty payload for backends without state.
 * During a live migration (net_backend_set_migration) and with our
 * patched libslirp (SLIRP_HAS_SOCKET_STATE), it also holds the guest's TCP
 * connections (to the host or outside, and accepted hostfwd ones) with
 * the identity of their host sockets, and load takes those sockets over
 * from the source process (pidfd_getfd: same host only; a connection it
 * cannot take is dropped with a warning, and the guest sees it reset);
 * likewise the hostfwd rules' listening sockets, which load takes for the
 * rules NET_OPEN_INCOMING left pending (and fails if it cannot). A
 * snapshot keeps no connection: its original still owns them. The backend
 * must be paused. load validates (libslirp refuses a bad stream) and
 * returns 0 or -1 with *err. */
void net_backend_save(struct net_backend *nb, struct state_buf *b);
int net_backend_load(struct net_backend *nb, const void *data, size_t len, struct verr **err);

/* Marks the saves and loads that follow as a live migration's (on) or not
 * (off, the default). Accepts NULL. Called on the thread that then saves
 * or loads: the source turns it on around the final state save, the
 * destination while it loads the state. */
void net_backend_set_migration(struct net_backend *nb, bool on);

/* Stops the thread and frees; accepts NULL. */
void net_backend_destroy(struct net_backend *nb);

/* Internal to src/vm/net: the two kinds. */
struct net_backend_ops {
	int (*start)(struct net_backend *nb, struct verr **err);
	void (*send)(struct net_backend *nb, const uint8_t *frame, size_t len);
	void (*destroy)(struct net_backend *nb);
	/* optional */
	void (*pause)(struct net_backend *nb);
	void (*resume)(struct net_backend *nb);
	void (*save)(struct net_backend *nb, struct state_buf *b);
	int (*load)(struct net_backend *nb, const void *data, size_t len, struct verr **err);
};

struct net_backend {
	const struct net_backend_ops *ops;
	net_rx_fn rx;
	void *rx_opaque;
	bool migration;         /* net_backend_set_migration */
	struct net_stats stats; /* updated atomically */
};

int net_tap_open(const char *ifname, struct net_backend **out, struct verr **err);
int net_slirp_open(const char *opts, unsigned flags, struct net_backend **out, struct verr **err);

#endif
