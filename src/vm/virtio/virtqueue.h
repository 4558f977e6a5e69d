/* Split virtqueues (virtio 1.2 §2.7) over guest RAM.
 *
 * The driver (the guest) owns the rings and may rewrite them at any time,
 * from any vCPU: every value is read once into host memory before it is
 * used, every address is checked against guest RAM, every chain is bounded
 * by the queue size (and the indirect table's size), so a malicious ring can
 * make a request fail but cannot make the VMM read or write outside guest
 * RAM, loop, or allocate by a guest-chosen size.
 */
#ifndef VESSEL_VM_VIRTQUEUE_H
#define VESSEL_VM_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct cpu_shared;

/* Guest RAM as the devices see it. */
struct guest_mem {
	uint8_t *hva;
	uint64_t base_gpa;
	uint64_t size;
	/* the harts, told of device writes (cpu_note_ram_write); may be NULL */
	struct cpu_shared *cpu;
};

/* Host pointer for [gpa, gpa+len) if it lies entirely in guest RAM, else NULL. */
static inline void *gmem_ptr(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	if (gpa < m->base_gpa)
		return NULL;
	uint64_t off = gpa - m->base_gpa;
	if (off > m->size || len > m->size - off)
		return NULL;
	return m->hva + off;
}

#define VIRTQ_MAX_SIZE 1024   /* largest queue we offer (QueueNumMax) */
#define VIRTQ_MAX_SEGS 1024   /* descriptors in one chain, direct + indirect */

/* Where a queue lives; set by the transport from the driver's writes. */
struct virtq {
	uint16_t num;          /* queue size, a power of 2, <= VIRTQ_MAX_SIZE */
	bool ready;
	bool event_idx;        /* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;         /* VIRTIO_F_INDIRECT_DESC negotiated */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t last_avail;   /* next avail ring slot the device will read */
	uint16_t used_idx;     /* next used ring slot the device will write */
	uint16_t signalled_used; /* used_idx at the last interrupt (event idx) */
	bool signalled_valid;
};

/* One popped request: readable (out) then writable (in) buffers. */
struct virtq_elem {
	uint16_t head;
	unsigned out_num, in_num;
	size_t out_len, in_len; /* total bytes of each side */
	struct iovec out[VIRTQ_MAX_SEGS];
	struct iovec in[VIRTQ_MAX_SEGS];
};

/* Checks that a queue's rings lie in guest RAM with the alignment the
 * spec requires (§2.7: desc 16, avail 2, used 4). Returns 0 or -EINVAL. */
int virtq_check(const struct virtq *vq, const struct guest_mem *m);

/* Takes the next available request. Returns 1 with *e filled, 0 when the
 * queue is empty, -EINVAL when the ring or the chain is malformed (the
 * device should then enter NEEDS_RESET). */
int virtq_pop(struct virtq *vq, const struct guest_mem *m, struct virtq_elem *e);

/* Returns a request to the driver with `len` bytes written into its
 * writable buffers. */
void virtq_push(struct virtq *vq, const struct guest_mem *m, uint16_t head, uint32_t len);

/* Whether the driver wants an interrupt for what was pushed since the last
 * call that returned true (VRING_AVAIL_F_NO_INTERRUPT or used_event). */
bool virtq_should_notify(struct virtq *vq, const struct guest_mem *m);

/* Copies between an iovec array and a flat buffer; return bytes copied. */
size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t skip, void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t skip, const void *buf, size_t len);

#endif
