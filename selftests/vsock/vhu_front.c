// SPDX-License-Identifier: GPL-2.0
/*
 * selftests/vsock/vhu_front.c - a minimal vhost-user frontend (what QEMU
 * does for vhost-user-vsock-device) plus a fake guest driver writing raw
 * split virtqueues, for host-only tests of fcvm's vsock device.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vhu_front.h"
#include "vsock/vhost_user.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void *vf_ptr(struct vf *f, uint64_t gpa)
{
	return f->mem + gpa;
}

/**
 * vf_msg() - send one frontend message, read the reply if one is due
 * @f: frontend
 * @req: request code
 * @payload: bytes after the header
 * @size: their length
 * @fds: descriptors to pass
 * @nfds: how many
 * @reply: NULL: no reply expected; else NEED_REPLY is set for requests
 *	without their own reply and the u64 answer lands here
 *
 * Return: 0 or -errno.
 */
int vf_msg(struct vf *f, uint32_t req, const void *payload, uint32_t size,
	   const int *fds, unsigned int nfds, uint64_t *reply)
{
	struct vhu_msg m = { .hdr = { .request = req, .flags = VHU_VERSION, .size = size } };
	int err;

	if (size > sizeof(m.u))
		return -EINVAL;
	if (size)
		memcpy(&m.u, payload, size);
	if (reply && req != VHU_GET_FEATURES && req != VHU_GET_PROTOCOL_FEATURES &&
	    req != VHU_GET_VRING_BASE && req != VHU_GET_CONFIG && req != VHU_GET_QUEUE_NUM)
		m.hdr.flags |= VHU_FLAG_NEED_REPLY;
	err = vhu_send(f->sock, &m, fds, nfds);
	if (err || !reply)
		return err;
	err = vhu_recv(f->sock, &m);
	if (err)
		return err;
	vhu_close_fds(&m);
	if (m.hdr.request != req || !(m.hdr.flags & VHU_FLAG_REPLY))
		return -EPROTO;
	*reply = 0;
	memcpy(reply, &m.u, m.hdr.size < 8 ? m.hdr.size : 8);
	return 0;
}

static int setup_queue_at(struct vf *f, int i, uint16_t base)
{
	struct vf_queue *q = &f->q[i];
	struct vhu_vring_state st = { .index = (uint32_t)i, .num = q->num };
	struct vhu_vring_addr a = {
		.index = (uint32_t)i,
		.desc = (uint64_t)(uintptr_t)(f->mem + q->desc_off),
		.avail = (uint64_t)(uintptr_t)(f->mem + q->avail_off),
		.used = (uint64_t)(uintptr_t)(f->mem + q->used_off),
	};
	uint64_t idx = (uint64_t)i, r;
	int err;

	q->kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	q->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->kick < 0 || q->call < 0)
		return -errno;
	err = vf_msg(f, VHU_SET_VRING_NUM, &st, sizeof(st), NULL, 0, &r);
	if (!err && r)
		err = -EINVAL;
	st.num = base;
	if (!err)
		err = vf_msg(f, VHU_SET_VRING_BASE, &st, sizeof(st), NULL, 0, &r);
	if (!err)
		err = vf_msg(f, VHU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0, &r);
	if (!err && r)
		err = -EINVAL;
	if (!err)
		err = vf_msg(f, VHU_SET_VRING_CALL, &idx, 8, &q->call, 1, &r);
	if (!err)
		err = vf_msg(f, VHU_SET_VRING_KICK, &idx, 8, &q->kick, 1, &r);
	st.num = 1;
	if (!err)
		err = vf_msg(f, VHU_SET_VRING_ENABLE, &st, sizeof(st), NULL, 0, &r);
	return err;
}

/* Post every rx buffer: one writable descriptor of header + VF_RX_BUF. */
void vf_fill_rx(struct vf *f)
{
	for (uint16_t i = 0; i < VF_RXQ_NUM; i++) {
		vf_set_desc(f, 0, i, VF_RX_BUFS + i * (VF_RX_BUF + 256),
			    VF_RX_BUF + sizeof(struct virtio_vsock_hdr),
			    VRING_DESC_F_WRITE, 0);
		vf_publish(f, 0, i);
	}
	vf_kick(f, 0);
}

/**
 * vf_connect() - connect to the device and do what QEMU does at start:
 * features, protocol features, owner, memory table, both queues.
 * @f: frontend with the device created
 *
 * Return: 0 or -errno.
 */
int vf_connect(struct vf *f)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct vhu_mem mem = { .nregions = 1 };
	uint64_t feat, proto, r;
	int err;

	f->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (f->sock < 0)
		return -errno;
	memcpy(un.sun_path, f->vhu_path, sizeof(f->vhu_path));
	if (connect(f->sock, (struct sockaddr *)&un, sizeof(un)))
		return -errno;
	err = vf_msg(f, VHU_GET_FEATURES, NULL, 0, NULL, 0, &feat);
	if (!err)
		err = vf_msg(f, VHU_GET_PROTOCOL_FEATURES, NULL, 0, NULL, 0, &proto);
	if (err)
		return err;
	err = vf_msg(f, VHU_SET_PROTOCOL_FEATURES, &proto, 8, NULL, 0, NULL);
	if (!err)
		err = vf_msg(f, VHU_SET_OWNER, NULL, 0, NULL, 0, &r);
	if (!err)
		err = vf_msg(f, VHU_SET_FEATURES, &feat, 8, NULL, 0, &r);
	if (err)
		return err;
	mem.r[0] = (struct vhu_mem_region){
		.gpa = 0, .size = VF_MEM_SIZE,
		.uva = (uint64_t)(uintptr_t)f->mem, .mmap_offset = 0,
	};
	err = vf_msg(f, VHU_SET_MEM_TABLE, &mem, 8 + sizeof(mem.r[0]), &f->memfd, 1, &r);
	if (!err && r)
		err = -EINVAL;
	for (int i = 0; i < 2 && !err; i++)
		err = setup_queue_at(f, i, 0);
	if (!err)
		vf_fill_rx(f);
	return err;
}

/**
 * vf_setup() - device in a temporary directory, guest memory, connect
 * @f: zeroed frontend
 *
 * Return: 0 or -errno.
 */
int vf_setup(struct vf *f)
{
	int err;

	memset(f, 0, sizeof(*f));
	f->sock = f->memfd = -1;
	f->q[0] = (struct vf_queue){ .num = VF_RXQ_NUM, .desc_off = VF_RX_DESC,
				     .avail_off = VF_RX_AVAIL, .used_off = VF_RX_USED,
				     .kick = -1, .call = -1 };
	f->q[1] = (struct vf_queue){ .num = VF_TXQ_NUM, .desc_off = VF_TX_DESC,
				     .avail_off = VF_TX_AVAIL, .used_off = VF_TX_USED,
				     .kick = -1, .call = -1 };
	snprintf(f->dir, sizeof(f->dir), "/tmp/fcvm-vhu-test.XXXXXX");
	if (!mkdtemp(f->dir))
		return -errno;
	snprintf(f->vhu_path, sizeof(f->vhu_path), "%s/vhu.sock", f->dir);
	snprintf(f->uds_path, sizeof(f->uds_path), "%s/vsock.sock", f->dir);
	f->memfd = memfd_create("fake-guest", MFD_CLOEXEC);
	if (f->memfd < 0 || ftruncate(f->memfd, VF_MEM_SIZE))
		return -errno;
	f->mem = mmap(NULL, VF_MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, f->memfd, 0);
	if (f->mem == MAP_FAILED) {
		f->mem = NULL;
		return -errno;
	}
	err = vsock_device_create(f->vhu_path, f->uds_path, VF_GUEST_CID, &f->dev);
	if (!err)
		err = vsock_device_start(f->dev);
	if (!err)
		err = vf_connect(f);
	if (err)
		vf_teardown(f);	/* the harness skips teardown after a failed setup */
	return err;
}

/* Undo vf_setup(); safe to call twice. */
void vf_teardown(struct vf *f)
{
	if (f->sock >= 0)
		close(f->sock);
	f->sock = -1;
	vsock_device_destroy(f->dev, NULL);
	f->dev = NULL;
	for (int i = 0; i < 2; i++) {
		if (f->q[i].kick >= 0)
			close(f->q[i].kick);
		if (f->q[i].call >= 0)
			close(f->q[i].call);
		f->q[i].kick = f->q[i].call = -1;
	}
	if (f->mem)
		munmap(f->mem, VF_MEM_SIZE);
	f->mem = NULL;
	if (f->memfd >= 0)
		close(f->memfd);
	f->memfd = -1;
	if (f->dir[0])
		rmdir(f->dir);
	f->dir[0] = '\0';
}

void vf_set_desc(struct vf *f, int q, uint16_t i, uint64_t addr, uint32_t len,
		 uint16_t flags, uint16_t next)
{
	struct vring_desc *d = (struct vring_desc *)(f->mem + f->q[q].desc_off) + i;

	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

/* Put @head in the next avail slot and publish the new index. */
void vf_publish(struct vf *f, int q, uint16_t head)
{
	struct vf_queue *vq = &f->q[q];
	uint16_t *avail = (uint16_t *)(f->mem + vq->avail_off);

	avail[2 + (vq->avail_idx % vq->num)] = head;
	vq->avail_idx++;
	__atomic_store_n(&avail[1], vq->avail_idx, __ATOMIC_RELEASE);
}

void vf_set_avail_idx(struct vf *f, int q, uint16_t idx)
{
	uint16_t *avail = (uint16_t *)(f->mem + f->q[q].avail_off);

	f->q[q].avail_idx = idx;
	__atomic_store_n(&avail[1], idx, __ATOMIC_RELEASE);
}

void vf_kick(struct vf *f, int q)
{
	uint64_t one = 1;

	if (write(f->q[q].kick, &one, sizeof(one)) != sizeof(one))
		perror("kick");
}

uint16_t vf_used_idx(struct vf *f, int q)
{
	uint16_t *used = (uint16_t *)(f->mem + f->q[q].used_off);

	return __atomic_load_n(&used[1], __ATOMIC_ACQUIRE);
}

/* Wait until the device's used index reaches @count. 0 or -ETIMEDOUT. */
int vf_wait_used(struct vf *f, int q, uint16_t count, int timeout_ms)
{
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

	while ((int16_t)(vf_used_idx(f, q) - count) < 0) {
		struct pollfd p = { .fd = f->q[q].call, .events = POLLIN };
		uint64_t v;
		int64_t left = (int64_t)(deadline - now_ms());

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)left) > 0 && read(f->q[q].call, &v, sizeof(v)) < 0)
			return -errno;
	}
	return 0;
}

void vf_hdr(struct virtio_vsock_hdr *h, uint32_t src_port, uint32_t dst_port,
	    uint16_t op, uint32_t len)
{
	memset(h, 0, sizeof(*h));
	h->src_cid = VF_GUEST_CID;
	h->dst_cid = 2;
	h->src_port = src_port;
	h->dst_port = dst_port;
	h->len = len;
	h->type = VIRTIO_VSOCK_TYPE_STREAM;
	h->op = op;
	h->buf_alloc = 256 * 1024;
}

/**
 * vf_tx_pkt() - send one well-formed packet (header and payload
 * descriptors) and wait for the device to consume it
 * @f: frontend
 * @h: header
 * @data: payload (h->len bytes are not implied: @len is what is placed)
 * @len: payload bytes, up to 64 KiB
 *
 * Return: 0 or -ETIMEDOUT.
 */
int vf_tx_pkt(struct vf *f, const struct virtio_vsock_hdr *h, const void *data,
	      size_t len)
{
	uint16_t d = (uint16_t)((f->tx_slot * 2) % VF_TXQ_NUM);
	uint64_t buf = VF_TX_BUFS + (uint64_t)(f->tx_slot % 32) * 0x11000;

	f->tx_slot++;
	memcpy(vf_ptr(f, buf), h, sizeof(*h));
	if (len)
		memcpy(vf_ptr(f, buf + 0x1000), data, len);
	vf_set_desc(f, 1, d, buf, sizeof(*h), len ? VRING_DESC_F_NEXT : 0,
		    (uint16_t)(d + 1));
	vf_set_desc(f, 1, (uint16_t)(d + 1), buf + 0x1000, (uint32_t)len, 0, 0);
	vf_publish(f, 1, d);
	vf_kick(f, 1);
	return vf_wait_used(f, 1, f->q[1].avail_idx, 5000);
}

/**
 * vf_rx_pkt() - take the next packet the device put in the rx queue and
 * give its buffer back
 * @f: frontend
 * @h: its header
 * @data: payload destination
 * @size: room in @data
 * @timeout_ms: how long to wait
 *
 * Return: payload length, or -errno (-ETIMEDOUT when none came).
 */
int vf_rx_pkt(struct vf *f, struct virtio_vsock_hdr *h, void *data,
	      size_t size, int timeout_ms)
{
	struct vf_queue *q = &f->q[0];
	struct vring_used_elem *e;
	uint8_t *p;
	uint32_t len;
	int err;

	err = vf_wait_used(f, 0, (uint16_t)(q->used_seen + 1), timeout_ms);
	if (err)
		return err;
	e = (struct vring_used_elem *)(f->mem + q->used_off + 4) + (q->used_seen % q->num);
	q->used_seen++;
	if (e->id >= q->num)
		return -EPROTO;
	p = vf_ptr(f, VF_RX_BUFS + e->id * (VF_RX_BUF + 256));
	len = e->len;
	if (len < sizeof(*h))
		return -EPROTO;
	memcpy(h, p, sizeof(*h));
	len -= sizeof(*h);
	if (len != h->len || len > size)
		return -EPROTO;
	memcpy(data, p + sizeof(*h), len);
	vf_publish(f, 0, (uint16_t)e->id);
	vf_kick(f, 0);
	return (int)len;
}

/**
 * vf_stop_queue() - what QEMU does when the VM stops: GET_VRING_BASE
 * @f: frontend
 * @i: queue
 * @base: the device's next avail index
 *
 * Return: 0 or -errno.
 */
int vf_stop_queue(struct vf *f, int i, uint16_t *base)
{
	struct vhu_msg m = { .hdr = { .request = VHU_GET_VRING_BASE, .flags = VHU_VERSION,
				      .size = sizeof(struct vhu_vring_state) } };
	int err;

	m.u.state.index = (uint32_t)i;
	err = vhu_send(f->sock, &m, NULL, 0);
	if (!err)
		err = vhu_recv(f->sock, &m);
	if (err)
		return err;
	vhu_close_fds(&m);
	*base = (uint16_t)m.u.state.num;
	return 0;
}

/* Start a stopped queue again at @base (QEMU on resume: base as saved). */
int vf_start_queue(struct vf *f, int i, uint16_t base)
{
	struct vf_queue *q = &f->q[i];

	close(q->kick);
	close(q->call);
	if (!base) {		/* a driver starting over: fresh rings */
		memset(f->mem + q->avail_off, 0, 4);
		memset(f->mem + q->used_off, 0, 4);
		q->avail_idx = q->used_seen = 0;
		if (i == 1)
			f->tx_slot = 0;
	}
	return setup_queue_at(f, i, base);
}
