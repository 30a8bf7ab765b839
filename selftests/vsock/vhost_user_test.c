// SPDX-License-Identifier: GPL-2.0
/*
 * selftests/vsock/vhost_user_test.c - fcvm's vhost-user-vsock device driven
 * on the host by a test frontend and a fake guest that writes raw
 * virtqueues: the protocol both ways, then a hostile guest (malformed
 * descriptor chains, bad headers, credit violations, a corrupted ring) and a
 * hostile frontend (bad control messages). After each attack the device
 * must still serve well-formed traffic.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "vhu_front.h"
#include "vsock/vhost_user.h"

#define PKT(h) ((struct virtio_vsock_hdr *)(h))

static int uds_connect(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&un, sizeof(un)))
		return -1;
	return fd;
}

static int uds_listen(const char *path)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&un, sizeof(un)) || listen(fd, 8))
		return -1;
	return fd;
}

static ssize_t read_timeout(int fd, void *buf, size_t len, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, ms) != 1)
		return -ETIMEDOUT;
	return read(fd, buf, len);
}

/* Expect a packet with @op (payload discarded). Returns its header. */
static int expect_op(struct vf *f, uint16_t op, struct virtio_vsock_hdr *h)
{
	static char data[VF_RX_BUF];

	for (;;) {
		int n = vf_rx_pkt(f, h, data, sizeof(data), 5000);

		if (n < 0)
			return n;
		if (h->op == VIRTIO_VSOCK_OP_CREDIT_UPDATE && op != h->op)
			continue;
		return h->op == op ? 0 : -EPROTO;
	}
}

/* The device still answers: a REQUEST to a closed host port gets an RST. */
static int device_alive(struct vf *f, uint32_t src)
{
	struct virtio_vsock_hdr h;

	vf_hdr(&h, src, 4444, VIRTIO_VSOCK_OP_REQUEST, 0);
	if (vf_tx_pkt(f, &h, NULL, 0))
		return 0;
	/* earlier attacks may have earned RSTs of their own: skip those */
	while (!expect_op(f, VIRTIO_VSOCK_OP_RST, &h))
		if (h.dst_port == src)
			return h.src_port == 4444 && h.src_cid == 2 &&
			       h.dst_cid == VF_GUEST_CID;
	return 0;
}

/* Host connects to guest port 1000 through the hybrid socket. */
static int h2g_open(struct vf *f, uint32_t *local, int *out_fd)
{
	struct virtio_vsock_hdr h;
	char line[64] = { 0 };
	int fd = uds_connect(f->uds_path);
	ssize_t n;

	if (fd < 0 || write(fd, "CONNECT 1000\n", 13) != 13)
		return -1;
	if (expect_op(f, VIRTIO_VSOCK_OP_REQUEST, &h) || h.dst_port != 1000)
		return -2;
	*local = h.src_port;
	vf_hdr(&h, 1000, *local, VIRTIO_VSOCK_OP_RESPONSE, 0);
	if (vf_tx_pkt(f, &h, NULL, 0))
		return -3;
	n = read_timeout(fd, line, sizeof(line) - 1, 5000);
	if (n <= 0 || strncmp(line, "OK ", 3) || (uint32_t)atoi(line + 3) != *local)
		return -4;
	*out_fd = fd;
	return 0;
}

FIXTURE(dev) {
	struct vf f;
};

FIXTURE_SETUP(dev)
{
	signal(SIGPIPE, SIG_IGN);
	ASSERT_EQ(0, vf_setup(&self->f));
}

FIXTURE_TEARDOWN(dev)
{
	vf_teardown(&self->f);
}

TEST_F(dev, config_reports_guest_cid)
{
	struct vhu_msg m = { .hdr = { .request = VHU_GET_CONFIG, .flags = VHU_VERSION,
				      .size = VHU_CONFIG_HDR + 8 } };
	uint64_t cid;

	m.u.config.size = 8;
	ASSERT_EQ(0, vhu_send(self->f.sock, &m, NULL, 0));
	ASSERT_EQ(0, vhu_recv(self->f.sock, &m));
	EXPECT_EQ(VHU_GET_CONFIG, m.hdr.request);
	EXPECT_EQ(VHU_CONFIG_HDR + 8, m.hdr.size);
	memcpy(&cid, m.u.config.region, 8);
	EXPECT_EQ(VF_GUEST_CID, cid);
	/* beyond the 8-byte config space: an empty reply means failure */
	m.hdr.size = VHU_CONFIG_HDR + 8;
	m.hdr.flags = VHU_VERSION;
	m.u.config.offset = 4;
	ASSERT_EQ(0, vhu_send(self->f.sock, &m, NULL, 0));
	ASSERT_EQ(0, vhu_recv(self->f.sock, &m));
	EXPECT_EQ(VHU_GET_CONFIG, m.hdr.request);
	EXPECT_EQ(0, m.hdr.size);
}

TEST_F(dev, host_to_guest_stream)
{
	struct virtio_vsock_hdr h;
	char data[64];
	uint32_t local;
	int fd;

	ASSERT_EQ(0, h2g_open(&self->f, &local, &fd));
	ASSERT_EQ(5, write(fd, "hello", 5));
	ASSERT_EQ(5, vf_rx_pkt(&self->f, &h, data, sizeof(data), 5000));
	EXPECT_EQ(VIRTIO_VSOCK_OP_RW, h.op);
	EXPECT_EQ(0, memcmp(data, "hello", 5));
	vf_hdr(&h, 1000, local, VIRTIO_VSOCK_OP_RW, 5);
	ASSERT_EQ(0, vf_tx_pkt(&self->f, &h, "world", 5));
	ASSERT_EQ(5, read_timeout(fd, data, sizeof(data), 5000));
	EXPECT_EQ(0, memcmp(data, "world", 5));
	/* host half-close reaches the guest as SHUTDOWN(SEND) */
	ASSERT_EQ(0, shutdown(fd, SHUT_WR));
	ASSERT_EQ(0, expect_op(&self->f, VIRTIO_VSOCK_OP_SHUTDOWN, &h));
	EXPECT_EQ(VIRTIO_VSOCK_SHUTDOWN_SEND, h.flags);
	/* the guest can still send, then closes: host EOF, guest gets RST */
	vf_hdr(&h, 1000, local, VIRTIO_VSOCK_OP_RW, 3);
	ASSERT_EQ(0, vf_tx_pkt(&self->f, &h, "bye", 3));
	ASSERT_EQ(3, read_timeout(fd, data, sizeof(data), 5000));
	vf_hdr(&h, 1000, local, VIRTIO_VSOCK_OP_SHUTDOWN, 0);
	h.flags = VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND;
	ASSERT_EQ(0, vf_tx_pkt(&self->f, &h, NULL, 0));
	ASSERT_EQ(0, expect_op(&self->f, VIRTIO_VSOCK_OP_RST, &h));
	EXPECT_EQ(0, read_timeout(fd, data, sizeof(data), 5000));
	close(fd);
}

TEST_F(dev, guest_rst_refuses_host_connect)
{
	struct virtio_vsock_hdr h;
	char c;
	int fd = uds_connect(self->f.uds_path);

	ASSERT_LE(0, fd);
	ASSERT_EQ(13, write(fd, "CONNECT 1001\n", 13));
	ASSERT_EQ(0, expect_op(&self->f, VIRTIO_VSOCK_OP_REQUEST, &h));
	vf_hdr(&h, 1001, h.src_port, VIRTIO_VSOCK_OP_RST, 0);
	ASSERT_EQ(0, vf_tx_pkt(&self->f, &h, NULL, 0));
	EXPECT_EQ(0, read_timeout(fd, &c, 1, 5000));	/* EOF, no OK */
	close(fd);
}

TEST_F(dev, bad_handshake_lines_are_dropped)
{
	static const char *const bad[] = {
		"CONNECT\n", "CONNECT 01\n", "CONNECT 4294967296\n", "connect 1\n",
		"CONNECT 1 2\n", "CONNECT  1\n",
		"CONNECT 1111111111111111111111111111111111111111111111111111111111111111\n",
	};
	char c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = uds_connect(self->f.uds_path);

		ASSERT_LE(0, fd);
		ssize_t r;

		ASSERT_LT(0, write(fd, bad[i], strlen(bad[i])));
		/* closed on us: EOF, or a reset when our bytes were unread */
		r = read_timeout(fd, &c, 1, 5000);
		EXPECT_TRUE(r == 0 || (r == -1 && errno == ECONNRESET)) TH_LOG("line %zu", i);
		close(fd);
	}
	EXPECT_TRUE(device_alive(&self->f, 7000));
}

TEST_F(dev, guest_to_host_stream)
{
	struct virtio_vsock_hdr h;
	char path[PATH_MAX + 64], data[64];
	int l, c;

	snprintf(path, sizeof(path), "%s_5000", self->f.uds_path);
	l = uds_listen(path);
	ASSERT_LE(0, l);
	vf_hdr(&h, 777, 5000, VIRTIO_VSOCK_OP_REQUEST, 0);
	ASSERT_EQ(0, vf_tx_pkt(&self->f, &h, NULL, 0));
	ASSERT_EQ(0, expect_op(&self->f, VIRTIO_VSOCK_OP_RESPONSE, &h));
	EXPECT_EQ(777, h.dst_port);
	EXPECT_EQ(5000, h.src_port);
	c = accept(l, NULL, NULL);
	ASSERT_LE(0, c);
	vf_hdr(&h, 777, 5000, VIRTIO_VSOCK_OP_RW, 4);
	ASSERT_EQ(0, vf_tx_pkt(&self->f, &h, "ping", 4));
	ASSERT_EQ(4, read_timeout(c, data, sizeof(data), 5000));
	ASSERT_EQ(4, write(c, "pong", 4));
	ASSERT_EQ(4, vf_rx_pkt(&self->f, &h, data, sizeof(data), 5000));
	EXPECT_EQ(0, memcmp(data, "pong", 4));
	/* host closes: guest hears SHUTDOWN with both flags */
	close(c);
	ASSERT_EQ(0, expect_op(&self->f, VIRTIO_VSOCK_OP_SHUTDOWN, &h));
	EXPECT_EQ(VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND, h.flags);
	close(l);
	unlink(path);
}

TEST_F(dev, guest_connect_without_listener_gets_rst)
{
	EXPECT_TRUE(device_alive(&self->f, 100));
}

/* Publish one raw chain on tx; the device must return it (len 0) and live. */
static int bad_chain(struct vf *f, void (*build)(struct vf *f, uint16_t d))
{
	uint16_t d = (uint16_t)((f->tx_slot * 2) % VF_TXQ_NUM);

	f->tx_slot++;
	build(f, d);
	vf_publish(f, 1, d);
	vf_kick(f, 1);
	if (vf_wait_used(f, 1, f->q[1].avail_idx, 5000))
		return 0;
	return device_alive(f, 200 + d);
}

static void b_out_of_ram(struct vf *f, uint16_t d)
{
	vf_set_desc(f, 1, d, VF_MEM_SIZE - 8, 44, 0, 0);
}

static void b_huge_len(struct vf *f, uint16_t d)
{
	vf_set_desc(f, 1, d, VF_TX_BUFS, 0xffffffffu, 0, 0);
}

static void b_addr_wrap(struct vf *f, uint16_t d)
{
	vf_set_desc(f, 1, d, 0xfffffffffffffff0ull, 0x20, 0, 0);
}

static void b_loop(struct vf *f, uint16_t d)
{
	vf_set_desc(f, 1, d, VF_TX_BUFS, 44, VRING_DESC_F_NEXT, (uint16_t)(d + 1));
	vf_set_desc(f, 1, (uint16_t)(d + 1), VF_TX_BUFS, 4, VRING_DESC_F_NEXT, d);
}

static void b_long_chain(struct vf *f, uint16_t d)
{
	/* 100 descriptors, within the table, no loop: over the chain limit */
	for (uint16_t i = 0; i < 100; i++)
		vf_set_desc(f, 1, (uint16_t)((d + i) % VF_TXQ_NUM), VF_TX_BUFS, 1,
			    i < 99 ? VRING_DESC_F_NEXT : 0,
			    (uint16_t)((d + i + 1) % VF_TXQ_NUM));
	f->tx_slot += 50;
}

static void b_indirect(struct vf *f, uint16_t d)
{
	vf_set_desc(f, 1, d, VF_TX_BUFS, 16, VRING_DESC_F_INDIRECT, 0);
}

static void b_write_flag(struct vf *f, uint16_t d)
{
	vf_set_desc(f, 1, d, VF_TX_BUFS, 44, VRING_DESC_F_WRITE, 0);
}

static void b_next_out_of_table(struct vf *f, uint16_t d)
{
	vf_set_desc(f, 1, d, VF_TX_BUFS, 44, VRING_DESC_F_NEXT, 60000);
}

static void b_short_header(struct vf *f, uint16_t d)
{
	vf_set_desc(f, 1, d, VF_TX_BUFS, 20, 0, 0);
}

static void b_len_beyond_chain(struct vf *f, uint16_t d)
{
	struct virtio_vsock_hdr h;

	vf_hdr(&h, 300, 5000, VIRTIO_VSOCK_OP_RW, 60000);
	memcpy(vf_ptr(f, VF_TX_BUFS), &h, sizeof(h));
	vf_set_desc(f, 1, d, VF_TX_BUFS, sizeof(h) + 10, 0, 0);
}

TEST_F(dev, hostile_descriptor_chains)
{
	EXPECT_TRUE(bad_chain(&self->f, b_out_of_ram));
	EXPECT_TRUE(bad_chain(&self->f, b_huge_len));
	EXPECT_TRUE(bad_chain(&self->f, b_addr_wrap));
	EXPECT_TRUE(bad_chain(&self->f, b_loop));
	EXPECT_TRUE(bad_chain(&self->f, b_long_chain));
	EXPECT_TRUE(bad_chain(&self->f, b_indirect));
	EXPECT_TRUE(bad_chain(&self->f, b_write_flag));
	EXPECT_TRUE(bad_chain(&self->f, b_next_out_of_table));
	EXPECT_TRUE(bad_chain(&self->f, b_short_header));
	EXPECT_TRUE(bad_chain(&self->f, b_len_beyond_chain));
}

TEST_F(dev, head_index_out_of_table)
{
	struct virtio_vsock_hdr h;

	/* cannot be returned to the guest: consumed and skipped */
	vf_publish(&self->f, 1, 9999);
	vf_hdr(&h, 500, 4444, VIRTIO_VSOCK_OP_REQUEST, 0);
	memcpy(vf_ptr(&self->f, VF_TX_BUFS), &h, sizeof(h));
	vf_set_desc(&self->f, 1, 0, VF_TX_BUFS, sizeof(h), 0, 0);
	vf_publish(&self->f, 1, 0);
	vf_kick(&self->f, 1);
	ASSERT_EQ(0, vf_wait_used(&self->f, 1, 1, 5000));
	ASSERT_EQ(0, expect_op(&self->f, VIRTIO_VSOCK_OP_RST, &h));
	EXPECT_EQ(500, h.dst_port);
}

TEST_F(dev, hostile_headers)
{
	struct virtio_vsock_hdr h;

	/* spoofed source CID: dropped without an answer */
	vf_hdr(&h, 10, 4444, VIRTIO_VSOCK_OP_REQUEST, 0);
	h.src_cid = 99;
	ASSERT_EQ(0, vf_tx_pkt(&self->f, &h, NULL, 0));
	/* not to the host, wrong type, unknown op, data on unknown stream */
	vf_hdr(&h, 11, 4444, VIRTIO_VSOCK_OP_REQUEST, 0);
	h.dst_cid = 7;
	ASSERT_EQ(0, vf_tx_pkt(&self->f, &h, NULL, 0));
	ASSERT_EQ(0, expect_op(&self->f, VIRTIO_VSOCK_OP_RST, &h));
	EXPECT_EQ(11, h.dst_port);
	vf_hdr(&h, 12, 4444, VIRTIO_VSOCK_OP_REQUEST, 0);
	h.type = VIRTIO_VSOCK_TYPE_SEQPACKET;
	ASSERT_EQ(0, vf_tx_pkt(&self->f, &h, NULL, 0));
	ASSERT_EQ(0, expect_op(&self->f, VIRTIO_VSOCK_OP_RST, &h));
	EXPECT_EQ(12, h.dst_port);
	vf_hdr(&h, 13, 4444, 99, 0);
	ASSERT_EQ(0, vf_tx_pkt(&self->f, &h, NULL, 0));
	ASSERT_EQ(0, expect_op(&self->f, VIRTIO_VSOCK_OP_RST, &h));
	EXPECT_EQ(13, h.dst_port);
	vf_hdr(&h, 14, 4444, VIRTIO_VSOCK_OP_RW, 3);
	ASSERT_EQ(0, vf_tx_pkt(&self->f, &h, "abc", 3));
	ASSERT_EQ(0, expect_op(&self->f, VIRTIO_VSOCK_OP_RST, &h));
	EXPECT_EQ(14, h.dst_port);
	/* a REQUEST carrying payload */
	vf_hdr(&h, 15, 4444, VIRTIO_VSOCK_OP_REQUEST, 3);
	ASSERT_EQ(0, vf_tx_pkt(&self->f, &h, "abc", 3));
	ASSERT_EQ(0, expect_op(&self->f, VIRTIO_VSOCK_OP_RST, &h));
	EXPECT_EQ(15, h.dst_port);
	EXPECT_TRUE(device_alive(&self->f, 16));
}

/* Overrunning the granted credit resets that stream only. */
TEST_F(dev, credit_violation_resets_one_stream)
{
	static char big[32 * 1024];
	struct virtio_vsock_hdr h;
	char path[PATH_MAX + 64], data[16];
	int l, c1, c2, rst = 0;

	snprintf(path, sizeof(path), "%s_6000", self->f.uds_path);
	l = uds_listen(path);
	ASSERT_LE(0, l);
	for (uint32_t port = 801; port <= 802; port++) {
		vf_hdr(&h, port, 6000, VIRTIO_VSOCK_OP_REQUEST, 0);
		ASSERT_EQ(0, vf_tx_pkt(&self->f, &h, NULL, 0));
		ASSERT_EQ(0, expect_op(&self->f, VIRTIO_VSOCK_OP_RESPONSE, &h));
	}
	c1 = accept(l, NULL, NULL);
	c2 = accept(l, NULL, NULL);
	ASSERT_LE(0, c1);
	ASSERT_LE(0, c2);
	/* nobody reads c1: 1 MiB is far beyond socket buffer + credit */
	for (int i = 0; i < 32 && !rst; i++) {
		vf_hdr(&h, 801, 6000, VIRTIO_VSOCK_OP_RW, sizeof(big));
		ASSERT_EQ(0, vf_tx_pkt(&self->f, &h, big, sizeof(big)));
		while (vf_rx_pkt(&self->f, &h, data, sizeof(data), 0) >= 0)
			if (h.op == VIRTIO_VSOCK_OP_RST && h.dst_port == 801)
				rst = 1;
	}
	if (!rst)
		rst = !expect_op(&self->f, VIRTIO_VSOCK_OP_RST, &h) && h.dst_port == 801;
	EXPECT_TRUE(rst);
	/* the other stream is unaffected */
	vf_hdr(&h, 802, 6000, VIRTIO_VSOCK_OP_RW, 2);
	ASSERT_EQ(0, vf_tx_pkt(&self->f, &h, "ok", 2));
	EXPECT_EQ(2, read_timeout(c2, data, sizeof(data), 5000));
	close(c1);
	close(c2);
	close(l);
	unlink(path);
}

/* A ring whose avail index runs away is dead until the frontend resets. */
TEST_F(dev, runaway_avail_index_then_reset)
{
	uint64_t r;

	vf_set_avail_idx(&self->f, 1, (uint16_t)(self->f.q[1].avail_idx + 1000));
	vf_kick(&self->f, 1);
	EXPECT_EQ(0, vf_msg(&self->f, VHU_GET_QUEUE_NUM, NULL, 0, NULL, 0, &r));
	EXPECT_EQ(2, r);
	/* reconnect as a new frontend: fresh state, works again */
	close(self->f.sock);
	for (int i = 0; i < 2; i++) {
		close(self->f.q[i].kick);
		close(self->f.q[i].call);
		self->f.q[i].avail_idx = self->f.q[i].used_seen = 0;
		memset(vf_ptr(&self->f, self->f.q[i].used_off), 0, 4);
		memset(vf_ptr(&self->f, self->f.q[i].avail_off), 0, 4);
	}
	self->f.tx_slot = 0;
	ASSERT_EQ(0, vf_connect(&self->f));
	EXPECT_TRUE(device_alive(&self->f, 900));
}

TEST_F(dev, hostile_frontend_messages)
{
	struct vhu_mem mem = { .nregions = 9 };
	struct vhu_vring_state st = { .index = 0, .num = 3 };
	struct vhu_vring_addr a = { .index = 0, .desc = 1, .avail = 2, .used = 3 };
	uint64_t r, idx = 7;

	ASSERT_EQ(0, vf_msg(&self->f, VHU_SET_MEM_TABLE, &mem, 8, NULL, 0, &r));
	EXPECT_NE(0, r);
	mem.nregions = 1;	/* one region, no fd */
	ASSERT_EQ(0, vf_msg(&self->f, VHU_SET_MEM_TABLE, &mem, 40, NULL, 0, &r));
	EXPECT_NE(0, r);
	ASSERT_EQ(0, vf_msg(&self->f, VHU_SET_VRING_NUM, &st, sizeof(st), NULL, 0, &r));
	EXPECT_NE(0, r);
	st.index = 5;
	st.num = 64;
	ASSERT_EQ(0, vf_msg(&self->f, VHU_SET_VRING_NUM, &st, sizeof(st), NULL, 0, &r));
	EXPECT_NE(0, r);
	a.index = 1;
	ASSERT_EQ(0, vf_msg(&self->f, VHU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0, &r));
	EXPECT_NE(0, r);
	ASSERT_EQ(0, vf_msg(&self->f, VHU_SET_VRING_KICK, &idx, 8, NULL, 0, &r));
	EXPECT_NE(0, r);
	ASSERT_EQ(0, vf_msg(&self->f, 99, NULL, 0, NULL, 0, &r));
	EXPECT_NE(0, r);
	ASSERT_EQ(0, vf_msg(&self->f, VHU_SET_FEATURES, &idx, 8, NULL, 0, &r));
	EXPECT_NE(0, r);
}

TEST_F(dev, oversized_message_drops_frontend_only)
{
	struct vhu_hdr h = { .request = VHU_SET_OWNER, .flags = VHU_VERSION, .size = 100000 };
	char c;

	ASSERT_EQ(sizeof(h), write(self->f.sock, &h, sizeof(h)));
	EXPECT_EQ(0, read_timeout(self->f.sock, &c, 1, 5000));	/* hung up on */
	close(self->f.sock);
	for (int i = 0; i < 2; i++) {
		close(self->f.q[i].kick);
		close(self->f.q[i].call);
		self->f.q[i].avail_idx = self->f.q[i].used_seen = 0;
		memset(vf_ptr(&self->f, self->f.q[i].used_off), 0, 4);
		memset(vf_ptr(&self->f, self->f.q[i].avail_off), 0, 4);
	}
	self->f.tx_slot = 0;
	ASSERT_EQ(0, vf_connect(&self->f));
	EXPECT_TRUE(device_alive(&self->f, 901));
}

/* Stop + restart at the same base (VM pause) keeps streams; base 0 drops them. */
TEST_F(dev, pause_keeps_streams_driver_reset_drops_them)
{
	struct virtio_vsock_hdr h;
	uint16_t base[2];
	uint32_t local;
	char data[16];
	int fd;

	ASSERT_EQ(0, h2g_open(&self->f, &local, &fd));
	for (int i = 0; i < 2; i++)
		ASSERT_EQ(0, vf_stop_queue(&self->f, i, &base[i]));
	EXPECT_EQ(self->f.q[1].avail_idx, base[1]);
	ASSERT_EQ(1, write(fd, "p", 1));	/* arrives while stopped */
	for (int i = 0; i < 2; i++)
		ASSERT_EQ(0, vf_start_queue(&self->f, i, base[i]));
	vf_kick(&self->f, 0);
	ASSERT_EQ(1, vf_rx_pkt(&self->f, &h, data, sizeof(data), 5000));
	EXPECT_EQ(VIRTIO_VSOCK_OP_RW, h.op);
	EXPECT_EQ('p', data[0]);

	for (int i = 0; i < 2; i++)
		ASSERT_EQ(0, vf_stop_queue(&self->f, i, &base[i]));
	for (int i = 0; i < 2; i++)
		ASSERT_EQ(0, vf_start_queue(&self->f, i, 0));
	vf_fill_rx(&self->f);
	EXPECT_EQ(0, read_timeout(fd, data, sizeof(data), 5000));	/* dropped */
	close(fd);
	EXPECT_TRUE(device_alive(&self->f, 950));
}

TEST_HARNESS_MAIN
