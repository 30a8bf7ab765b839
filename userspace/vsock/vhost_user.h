/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vsock/vhost_user.h - the vhost-user wire format (the subset a vsock
 * device uses) and message I/O over the Unix socket. The one definition
 * shared by fcvm's backend and the test frontend in selftests/vsock/.
 * See Documentation/vmm.rst.
 */
#ifndef FCVM_VSOCK_VHOST_USER_H
#define FCVM_VSOCK_VHOST_USER_H

#include <stdint.h>

enum vhu_request {
	VHU_GET_FEATURES = 1,
	VHU_SET_FEATURES = 2,
	VHU_SET_OWNER = 3,
	VHU_RESET_OWNER = 4,
	VHU_SET_MEM_TABLE = 5,
	VHU_SET_LOG_BASE = 6,
	VHU_SET_LOG_FD = 7,
	VHU_SET_VRING_NUM = 8,
	VHU_SET_VRING_ADDR = 9,
	VHU_SET_VRING_BASE = 10,
	VHU_GET_VRING_BASE = 11,
	VHU_SET_VRING_KICK = 12,
	VHU_SET_VRING_CALL = 13,
	VHU_SET_VRING_ERR = 14,
	VHU_GET_PROTOCOL_FEATURES = 15,
	VHU_SET_PROTOCOL_FEATURES = 16,
	VHU_GET_QUEUE_NUM = 17,
	VHU_SET_VRING_ENABLE = 18,
	VHU_GET_CONFIG = 24,
	VHU_SET_CONFIG = 25,
	VHU_RESET_DEVICE = 34,
};

#define VHU_VERSION		0x1u
#define VHU_VERSION_MASK	0x3u
#define VHU_FLAG_REPLY		(1u << 2)
#define VHU_FLAG_NEED_REPLY	(1u << 3)

#define VHU_F_PROTOCOL_FEATURES	30	/* feature bit: protocol features */
#define VIRTIO_F_VERSION_1_BIT	32

#define VHU_PROTOCOL_F_REPLY_ACK	3
#define VHU_PROTOCOL_F_CONFIG		9
#define VHU_PROTOCOL_F_RESET_DEVICE	13

#define VHU_VRING_IDX_MASK	0xffu
#define VHU_VRING_NOFD		(1u << 8)

#define VHU_MAX_FDS		8
#define VHU_MAX_REGIONS		8
#define VHU_CONFIG_MAX		256

struct vhu_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;		/* payload bytes that follow */
} __attribute__((packed));

struct vhu_vring_state {
	uint32_t index;
	uint32_t num;
} __attribute__((packed));

struct vhu_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc;		/* frontend virtual addresses */
	uint64_t used;
	uint64_t avail;
	uint64_t log;
} __attribute__((packed));

struct vhu_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uva;
	uint64_t mmap_offset;
} __attribute__((packed));

struct vhu_mem {
	uint32_t nregions;
	uint32_t padding;
	struct vhu_mem_region r[VHU_MAX_REGIONS];
} __attribute__((packed));

struct vhu_config {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t region[VHU_CONFIG_MAX];
} __attribute__((packed));

#define VHU_CONFIG_HDR		12u

struct vhu_msg {
	struct vhu_hdr hdr;
	union {
		uint64_t u64;
		struct vhu_vring_state state;
		struct vhu_vring_addr addr;
		struct vhu_mem mem;
		struct vhu_config config;
	} u;
	int fds[VHU_MAX_FDS];
	unsigned int nfds;
} __attribute__((packed));

int vhu_recv(int fd, struct vhu_msg *m);
int vhu_send(int fd, const struct vhu_msg *m, const int *fds,
	     unsigned int nfds);
void vhu_close_fds(struct vhu_msg *m);

#endif /* FCVM_VSOCK_VHOST_USER_H */
