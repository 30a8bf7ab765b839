/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vsock/vring.h - guest memory map and split virtqueues as a vhost-user
 * backend sees them. Everything the guest controls (descriptor addresses,
 * lengths, flags, next links, ring indexes) is read once into local copies
 * and validated before use; no function here trusts guest memory.
 */
#ifndef FCVM_VSOCK_VRING_H
#define FCVM_VSOCK_VRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define GMEM_MAX_REGIONS	8
#define VQ_MAX_SIZE		32768u	/* largest queue size virtio allows */
#define VQ_MAX_CHAIN		64u	/* longest descriptor chain accepted */
#define VQ_MAX_CHAIN_BYTES	(1u << 20)	/* total bytes in one chain */

/* One region of guest RAM: guest-physical, frontend-virtual and our mapping. */
struct gmem_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uva;		/* the frontend's (QEMU's) address of gpa */
	uint8_t *host;		/* our address of gpa */
	void *map;		/* what munmap gets (NULL: not ours to unmap) */
	size_t map_len;
};

struct gmem {
	unsigned int nregions;
	struct gmem_region r[GMEM_MAX_REGIONS];
};

void *gmem_gpa(const struct gmem *m, uint64_t gpa, uint64_t len);
void *gmem_uva(const struct gmem *m, uint64_t uva, uint64_t len);
void gmem_unmap(struct gmem *m);

/* A split virtqueue. */
struct vq {
	uint16_t num;		/* queue size, a power of two; 0: not set */
	uint16_t last_avail;	/* next avail ring slot we consume */
	uint16_t used_idx;	/* next used ring slot we fill */
	bool enabled;
	bool broken;		/* guest corrupted the ring: stop until reset */
	uint64_t desc_uva, avail_uva, used_uva;
	void *desc, *avail, *used;	/* host pointers, NULL until mapped */
	int kick_fd, call_fd;
	unsigned int pending_used;	/* pushed since the last signal */
};

/* One popped descriptor chain, as host iovecs. */
struct vq_chain {
	uint16_t head;
	unsigned int niov;
	size_t len;
	struct iovec iov[VQ_MAX_CHAIN];
};

void vq_init(struct vq *vq);
int vq_map(struct vq *vq, const struct gmem *m);
bool vq_ready(const struct vq *vq);
int vq_pop(struct vq *vq, const struct gmem *m, bool device_writes,
	   struct vq_chain *out);
void vq_unpop(struct vq *vq);
void vq_push(struct vq *vq, uint16_t head, uint32_t len);
int vq_signal(struct vq *vq);

size_t chain_copy_from(const struct vq_chain *c, size_t off, void *buf,
		       size_t len);
size_t chain_copy_to(const struct vq_chain *c, size_t off, const void *buf,
		     size_t len);
unsigned int chain_slice(const struct vq_chain *c, size_t off, size_t len,
			 struct iovec *out, unsigned int max);

#endif /* FCVM_VSOCK_VRING_H */
