/* SPDX-License-Identifier: GPL-2.0 */
/*
 * selftests/vsock/vhu_front.h - a vhost-user frontend and fake virtio-vsock
 * guest driver for host-only tests of fcvm's device: guest RAM is a memfd,
 * the rings are written by hand (so they can be malformed on purpose), and
 * the device runs in-process on its own thread.
 */
#ifndef FCVM_SELFTESTS_VSOCK_VHU_FRONT_H
#define FCVM_SELFTESTS_VSOCK_VHU_FRONT_H

#include <limits.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_vsock.h>
#include <stddef.h>
#include <stdint.h>

#include "vsock/device.h"

#define VF_MEM_SIZE	(4u << 20)
#define VF_RXQ_NUM	64u
#define VF_TXQ_NUM	256u
#define VF_RX_BUF	4096u
#define VF_GUEST_CID	3u

/* guest-physical layout of the fake guest's memory */
#define VF_RX_DESC	0x0000u
#define VF_RX_AVAIL	0x1000u
#define VF_RX_USED	0x2000u
#define VF_TX_DESC	0x4000u
#define VF_TX_AVAIL	0x6000u
#define VF_TX_USED	0x7000u
#define VF_RX_BUFS	0x10000u
#define VF_TX_BUFS	0x100000u	/* 1 MiB..4 MiB: packet payloads */

struct vf_queue {
	uint16_t num;
	uint64_t desc_off, avail_off, used_off;
	uint16_t avail_idx;	/* next avail slot we publish */
	uint16_t used_seen;	/* used entries we consumed */
	int kick, call;
};

struct vf {
	char dir[48];
	char vhu_path[64];
	char uds_path[64];
	struct vsock_device *dev;
	int sock;
	int memfd;
	uint8_t *mem;
	struct vf_queue q[2];	/* 0 rx, 1 tx */
	uint16_t tx_slot;	/* next descriptor pair for vf_tx_pkt */
};

int vf_setup(struct vf *f);
int vf_connect(struct vf *f);
void vf_fill_rx(struct vf *f);
int vf_stop_queue(struct vf *f, int i, uint16_t *base);
int vf_start_queue(struct vf *f, int i, uint16_t base);
void vf_teardown(struct vf *f);
int vf_msg(struct vf *f, uint32_t req, const void *payload, uint32_t size,
	   const int *fds, unsigned int nfds, uint64_t *reply);
void *vf_ptr(struct vf *f, uint64_t gpa);
void vf_set_desc(struct vf *f, int q, uint16_t i, uint64_t addr, uint32_t len,
		 uint16_t flags, uint16_t next);
void vf_publish(struct vf *f, int q, uint16_t head);
void vf_kick(struct vf *f, int q);
void vf_set_avail_idx(struct vf *f, int q, uint16_t idx);
int vf_wait_used(struct vf *f, int q, uint16_t count, int timeout_ms);
uint16_t vf_used_idx(struct vf *f, int q);
void vf_hdr(struct virtio_vsock_hdr *h, uint32_t src_port, uint32_t dst_port,
	    uint16_t op, uint32_t len);
int vf_tx_pkt(struct vf *f, const struct virtio_vsock_hdr *h, const void *data,
	      size_t len);
int vf_rx_pkt(struct vf *f, struct virtio_vsock_hdr *h, void *data,
	      size_t size, int timeout_ms);

#endif /* FCVM_SELFTESTS_VSOCK_VHU_FRONT_H */
