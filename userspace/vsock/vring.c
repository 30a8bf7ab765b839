// SPDX-License-Identifier: GPL-2.0
/*
 * vsock/vring.c - guest memory translation and split-virtqueue access for
 * the vhost-user-vsock device. The guest is hostile: every index, address,
 * length and flag is copied out of shared memory once and checked.
 */
#include <endian.h>
#include <errno.h>
#include <linux/virtio_ring.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vsock/vring.h"

static void *region_xlate(const struct gmem_region *r, uint64_t base,
			  uint64_t addr, uint64_t len)
{
	uint64_t off;

	if (addr < base)
		return NULL;
	off = addr - base;
	if (off >= r->size || len > r->size - off)
		return NULL;
	return r->host + off;
}

/**
 * gmem_gpa() - host pointer for a guest-physical range
 * @m: the memory table
 * @gpa: guest-physical start
 * @len: length; the whole range must lie in one region
 *
 * Return: the host address, or NULL when the range is not guest RAM.
 */
void *gmem_gpa(const struct gmem *m, uint64_t gpa, uint64_t len)
{
	for (unsigned int i = 0; i < m->nregions; i++) {
		void *p = region_xlate(&m->r[i], m->r[i].gpa, gpa, len);

		if (p)
			return p;
	}
	return NULL;
}

/* Same for an address in the frontend's address space (ring addresses). */
void *gmem_uva(const struct gmem *m, uint64_t uva, uint64_t len)
{
	for (unsigned int i = 0; i < m->nregions; i++) {
		void *p = region_xlate(&m->r[i], m->r[i].uva, uva, len);

		if (p)
			return p;
	}
	return NULL;
}

void gmem_unmap(struct gmem *m)
{
	for (unsigned int i = 0; i < m->nregions; i++)
		if (m->r[i].map)
			munmap(m->r[i].map, m->r[i].map_len);
	memset(m, 0, sizeof(*m));
}

void vq_init(struct vq *vq)
{
	memset(vq, 0, sizeof(*vq));
	vq->kick_fd = -1;
	vq->call_fd = -1;
}

/**
 * vq_map() - translate the ring addresses through the memory table
 * @vq: queue with num and the three frontend addresses set
 * @m: current memory table
 *
 * Return: 0, or -EINVAL when a ring does not lie inside guest RAM or the
 * size is not a power of two.
 */
int vq_map(struct vq *vq, const struct gmem *m)
{
	uint64_t n = vq->num;

	vq->desc = vq->avail = vq->used = NULL;
	if (!n || (n & (n - 1)) || n > VQ_MAX_SIZE)
		return -EINVAL;
	vq->desc = gmem_uva(m, vq->desc_uva, 16 * n);
	vq->avail = gmem_uva(m, vq->avail_uva, 6 + 2 * n);
	vq->used = gmem_uva(m, vq->used_uva, 6 + 8 * n);
	if (!vq->desc || !vq->avail || !vq->used ||
	    (vq->desc_uva & 15) || (vq->avail_uva & 1) || (vq->used_uva & 3)) {
		vq->desc = vq->avail = vq->used = NULL;
		return -EINVAL;
	}
	return 0;
}

bool vq_ready(const struct vq *vq)
{
	return vq->desc && vq->enabled && !vq->broken;
}

static uint16_t load16(const void *p)
{
	return le16toh(__atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED));
}

static void store16(void *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, htole16(v), __ATOMIC_RELAXED);
}

/* Copy one descriptor out of shared memory (the guest may change it). */
static void read_desc(const struct vq *vq, uint16_t i, struct vring_desc *d)
{
	const volatile struct vring_desc *src =
		(const volatile struct vring_desc *)vq->desc + i;

	d->addr = le64toh(src->addr);
	d->len = le32toh(src->len);
	d->flags = le16toh(src->flags);
	d->next = le16toh(src->next);
}

/* Walk and check the chain starting at @head into @out. */
static int walk_chain(struct vq *vq, const struct gmem *m, bool device_writes,
		      uint16_t head, struct vq_chain *out)
{
	uint16_t i = head;

	out->niov = 0;
	out->len = 0;
	for (;;) {
		struct vring_desc d;
		void *p;

		if (out->niov >= VQ_MAX_CHAIN || out->niov >= vq->num)
			return -ELOOP;	/* too long, or a loop */
		read_desc(vq, i, &d);
		if (d.flags & VRING_DESC_F_INDIRECT)
			return -EINVAL;	/* not negotiated */
		if (!!(d.flags & VRING_DESC_F_WRITE) != device_writes)
			return -EINVAL;
		if (d.len > VQ_MAX_CHAIN_BYTES - out->len)
			return -E2BIG;
		p = gmem_gpa(m, d.addr, d.len);
		if (!p && d.len)
			return -EFAULT;
		out->iov[out->niov].iov_base = p;
		out->iov[out->niov].iov_len = d.len;
		out->niov++;
		out->len += d.len;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= vq->num)
			return -EINVAL;
		i = d.next;
	}
}

/**
 * vq_pop() - take the next available descriptor chain
 * @vq: a ready queue
 * @m: memory table
 * @device_writes: true for a queue the device fills (rx), false for one it
 *	reads (tx); every descriptor must have the matching direction
 * @out: the chain
 *
 * A malformed chain is consumed and returned to the guest with length 0 so
 * the queue keeps moving. An avail index that runs ahead by more than the
 * queue size marks the queue broken until the frontend resets it.
 *
 * Return: 1 with a chain in @out, 0 when the queue is empty, -EINVAL (and
 * friends) for a dropped malformed chain, -EIO when the queue is broken.
 */
int vq_pop(struct vq *vq, const struct gmem *m, bool device_writes,
	   struct vq_chain *out)
{
	uint16_t avail_idx, head;
	int err;

	if (!vq_ready(vq))
		return vq->broken ? -EIO : 0;
	avail_idx = load16((uint8_t *)vq->avail + 2);
	if ((uint16_t)(avail_idx - vq->last_avail) > vq->num) {
		vq->broken = true;
		return -EIO;
	}
	if (avail_idx == vq->last_avail)
		return 0;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	head = load16((uint8_t *)vq->avail + 4 +
		      2 * (vq->last_avail & (vq->num - 1)));
	vq->last_avail++;
	out->head = head;
	if (head >= vq->num)
		return -EINVAL;	/* cannot even be returned */
	err = walk_chain(vq, m, device_writes, head, out);
	if (err) {
		vq_push(vq, head, 0);
		return err;
	}
	return 1;
}

/* Give back the chain vq_pop() just returned (no used entry is written). */
void vq_unpop(struct vq *vq)
{
	vq->last_avail--;
}

void vq_push(struct vq *vq, uint16_t head, uint32_t len)
{
	volatile struct vring_used_elem *e;

	if (!vq->used)
		return;
	e = (volatile struct vring_used_elem *)((uint8_t *)vq->used + 4) +
	    (vq->used_idx & (vq->num - 1));
	e->id = htole32(head);
	e->len = htole32(len);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	vq->used_idx++;
	store16((uint8_t *)vq->used + 2, vq->used_idx);
	vq->pending_used++;
}

/* Interrupt the guest if anything was pushed since the last call. */
int vq_signal(struct vq *vq)
{
	uint64_t one = 1;

	if (!vq->pending_used)
		return 0;
	vq->pending_used = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq->call_fd < 0)
		return 0;
	if (write(vq->call_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return -errno;
	return 0;
}

size_t chain_copy_from(const struct vq_chain *c, size_t off, void *buf,
		       size_t len)
{
	size_t done = 0;

	for (unsigned int i = 0; i < c->niov && done < len; i++) {
		size_t l = c->iov[i].iov_len, n;

		if (off >= l) {
			off -= l;
			continue;
		}
		n = l - off < len - done ? l - off : len - done;
		memcpy((uint8_t *)buf + done, (uint8_t *)c->iov[i].iov_base + off, n);
		done += n;
		off = 0;
	}
	return done;
}

size_t chain_copy_to(const struct vq_chain *c, size_t off, const void *buf,
		     size_t len)
{
	size_t done = 0;

	for (unsigned int i = 0; i < c->niov && done < len; i++) {
		size_t l = c->iov[i].iov_len, n;

		if (off >= l) {
			off -= l;
			continue;
		}
		n = l - off < len - done ? l - off : len - done;
		memcpy((uint8_t *)c->iov[i].iov_base + off, (const uint8_t *)buf + done, n);
		done += n;
		off = 0;
	}
	return done;
}

/**
 * chain_slice() - iovecs covering bytes [off, off+len) of a chain
 * @c: the chain
 * @off: start offset
 * @len: bytes wanted (fewer if the chain is shorter)
 * @out: iovec array
 * @max: its size
 *
 * Return: number of iovecs filled.
 */
unsigned int chain_slice(const struct vq_chain *c, size_t off, size_t len,
			 struct iovec *out, unsigned int max)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < c->niov && len && n < max; i++) {
		size_t l = c->iov[i].iov_len, take;

		if (off >= l) {
			off -= l;
			continue;
		}
		take = l - off < len ? l - off : len;
		out[n].iov_base = (uint8_t *)c->iov[i].iov_base + off;
		out[n].iov_len = take;
		n++;
		len -= take;
		off = 0;
	}
	return n;
}
