#include "vm/virtio/virtqueue.h"

#include <errno.h>
#include <string.h>

#include "vm/cpu/cpu.h"

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "virtqueue.c assumes a little-endian host (virtio 1.x rings are little-endian)"
#endif

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* The guest writes these concurrently: relaxed atomic loads give a single
 * read of each field; acquire orders the ring index before the entries. */
static uint16_t ld16(const void *p, int order)
{
	return __atomic_load_n((const uint16_t *)p, order);
}

static void st16(void *p, uint16_t v, int order)
{
	__atomic_store_n((uint16_t *)p, v, order);
}

int virtq_check(const struct virtq *vq, const struct guest_mem *m)
{
	uint64_t n = vq->num;
	if (n == 0 || n > VIRTQ_MAX_SIZE || (n & (n - 1)))
		return -EINVAL;
	if ((vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3))
		return -EINVAL;
	if (!gmem_ptr(m, vq->desc_gpa, 16 * n) || !gmem_ptr(m, vq->avail_gpa, 6 + 2 * n) ||
	    !gmem_ptr(m, vq->used_gpa, 6 + 8 * n))
		return -EINVAL;
	return 0;
}

static void read_desc(const uint8_t *table, unsigned i, struct vring_desc *d)
{
	const uint8_t *p = table + 16 * (size_t)i;
	d->addr = __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED);
	d->len = __atomic_load_n((const uint32_t *)(p + 8), __ATOMIC_RELAXED);
	d->flags = ld16(p + 12, __ATOMIC_RELAXED);
	d->next = ld16(p + 14, __ATOMIC_RELAXED);
}

static int add_seg(struct virtq_elem *e, const struct guest_mem *m, const struct vring_desc *d)
{
	void *p = gmem_ptr(m, d->addr, d->len);
	if (!p)
		return -EINVAL;
	if (d->flags & VIRTQ_DESC_F_WRITE) {
		if (e->in_num >= VIRTQ_MAX_SEGS)
			return -EINVAL;
		/* The device writes this buffer from now until it returns the
		 * request; the driver does not execute it meanwhile. Harts drop
		 * what they decoded from it (a page freed as code, reused for
		 * I/O), and re-decode what they find there afterwards. */
		cpu_note_ram_write(m->cpu, d->addr, d->len);
		e->in[e->in_num++] = (struct iovec){ .iov_base = p, .iov_len = d->len };
		e->in_len += d->len;
	} else {
		/* §2.7.4.2: device-readable descriptors come before writable ones */
		if (e->in_num || e->out_num >= VIRTQ_MAX_SEGS)
			return -EINVAL;
		e->out[e->out_num++] = (struct iovec){ .iov_base = p, .iov_len = d->len };
		e->out_len += d->len;
	}
	return 0;
}

/* Walks a chain in a descriptor table of `size` entries starting at i. */
static int walk(const struct virtq *vq, const struct guest_mem *m, const uint8_t *table, unsigned size,
		unsigned i, bool nested, struct virtq_elem *e)
{
	for (unsigned count = 0;; count++) {
		if (i >= size || count >= size)
			return -EINVAL; /* out of the table, or a loop */
		struct vring_desc d;
		read_desc(table, i, &d);
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			/* §2.7.5.3: only in the main table, not with NEXT, a whole
			 * number of descriptors */
			if (nested || !vq->indirect || (d.flags & VIRTQ_DESC_F_NEXT) || d.len % 16 ||
			    d.len == 0 || d.len / 16 > VIRTQ_MAX_SEGS || (d.addr & 15))
				return -EINVAL;
			const uint8_t *ind = gmem_ptr(m, d.addr, d.len);
			if (!ind)
				return -EINVAL;
			return walk(vq, m, ind, d.len / 16, 0, true, e);
		}
		int r = add_seg(e, m, &d);
		if (r < 0)
			return r;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		i = d.next;
	}
}

int virtq_pop(struct virtq *vq, const struct guest_mem *m, struct virtq_elem *e)
{
	if (!vq->ready)
		return 0;
	uint8_t *avail = gmem_ptr(m, vq->avail_gpa, 6 + 2 * (uint64_t)vq->num);
	uint8_t *desc = gmem_ptr(m, vq->desc_gpa, 16 * (uint64_t)vq->num);
	if (!avail || !desc)
		return -EINVAL;
	uint16_t idx = ld16(avail + 2, __ATOMIC_ACQUIRE);
	uint16_t pending = (uint16_t)(idx - vq->last_avail);
	if (pending == 0)
		return 0;
	if (pending > vq->num)
		return -EINVAL; /* the driver claims more requests than the ring holds */
	uint16_t head = ld16(avail + 4 + 2 * (vq->last_avail % vq->num), __ATOMIC_RELAXED);
	e->head = head;
	e->out_num = e->in_num = 0;
	e->out_len = e->in_len = 0;
	int r = walk(vq, m, desc, vq->num, head, false, e);
	if (r < 0)
		return r;
	vq->last_avail++;
	if (vq->event_idx) {
		/* avail_event: tell the driver how far we have read (§2.7.10) */
		uint8_t *used = gmem_ptr(m, vq->used_gpa, 6 + 8 * (uint64_t)vq->num + 2);
		if (used)
			st16(used + 4 + 8 * (size_t)vq->num, vq->last_avail, __ATOMIC_RELEASE);
	}
	return 1;
}

void virtq_push(struct virtq *vq, const struct guest_mem *m, uint16_t head, uint32_t len)
{
	uint8_t *used = gmem_ptr(m, vq->used_gpa, 6 + 8 * (uint64_t)vq->num);
	if (!used || !vq->num)
		return;
	uint8_t *slot = used + 4 + 8 * (size_t)(vq->used_idx % vq->num);
	__atomic_store_n((uint32_t *)slot, (uint32_t)head, __ATOMIC_RELAXED);
	__atomic_store_n((uint32_t *)(slot + 4), len, __ATOMIC_RELAXED);
	vq->used_idx++;
	st16(used + 2, vq->used_idx, __ATOMIC_RELEASE);
}

bool virtq_should_notify(struct virtq *vq, const struct guest_mem *m)
{
	uint8_t *avail = gmem_ptr(m, vq->avail_gpa, 6 + 2 * (uint64_t)vq->num);
	if (!avail)
		return false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* used idx store before reading the event */
	if (!vq->event_idx)
		return !(ld16(avail, __ATOMIC_RELAXED) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	uint16_t old = vq->signalled_used, new_idx = vq->used_idx;
	bool valid = vq->signalled_valid;
	vq->signalled_used = new_idx;
	vq->signalled_valid = true;
	if (!valid)
		return true;
	uint16_t used_event = ld16(avail + 4 + 2 * (size_t)vq->num, __ATOMIC_RELAXED);
	/* §2.7.10: notify when used_event lies in [old, new) */
	return (uint16_t)(new_idx - used_event - 1) < (uint16_t)(new_idx - old);
}

size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t skip, void *buf, size_t len)
{
	size_t done = 0;
	for (unsigned i = 0; i < n && done < len; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		size_t c = iov[i].iov_len - skip;
		if (c > len - done)
			c = len - done;
		memcpy((uint8_t *)buf + done, (uint8_t *)iov[i].iov_base + skip, c);
		done += c;
		skip = 0;
	}
	return done;
}

size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t skip, const void *buf, size_t len)
{
	size_t done = 0;
	for (unsigned i = 0; i < n && done < len; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		size_t c = iov[i].iov_len - skip;
		if (c > len - done)
			c = len - done;
		memcpy((uint8_t *)iov[i].iov_base + skip, (const uint8_t *)buf + done, c);
		done += c;
		skip = 0;
	}
	return done;
}
