// SPDX-License-Identifier: GPL-2.0
/*
 * selftests/vsock/fuzz_vsock_mux.c - libFuzzer target for the virtio-vsock
 * packet state machine and the hybrid-vsock host side: the input is a
 * script of guest packets (any header values, payloads, chain splits),
 * host clients connecting / writing / closing, host listeners accepting, and
 * the guest consuming or starving its rx queue. Everything runs through
 * the real multiplexer with real sockets in a private directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_vsock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vsock/mux.h"
#include "vsock/vring.h"

#define RAM		(256 * 1024)
#define RXN		16
#define TXN		64
#define RX_DESC		0x0000
#define RX_AVAIL	0x1000
#define RX_USED		0x2000
#define TX_DESC		0x4000
#define TX_AVAIL	0x5000
#define TX_USED		0x6000
#define RX_BUFS		0x10000
#define RX_BUF_LEN	0x1000
#define TX_BUF		0x30000
#define MAX_FDS		16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vsock_mux mux;
static struct gmem mem;
static struct vq rxq, txq;
static uint8_t *ram;
static int epfd = -1, lfd = -1;
static char uds[64];
static uint16_t rx_avail, rx_seen, tx_avail;
static uint32_t last_local = 1u << 30;
static int host[MAX_FDS], nhost, peers[MAX_FDS], npeers;

static char dir[] = "/tmp/fcvm-fuzz-mux.XXXXXX";

/* At exit: close everything, remove the sockets and the directory. */
static void cleanup(void)
{
	char path[sizeof(uds) + 8];

	mux_fini(&mux);
	if (lfd >= 0)
		close(lfd);
	snprintf(path, sizeof(path), "%s_5000", uds);
	unlink(path);
	rmdir(dir);
}

static void setup(void)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };

	if (!mkdtemp(dir))
		abort();
	snprintf(uds, sizeof(uds), "%s/v.sock", dir);
	ram = aligned_alloc(4096, RAM);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!ram || epfd < 0)
		abort();
	mem.nregions = 1;
	mem.r[0] = (struct gmem_region){ .gpa = 0, .size = RAM,
					 .uva = 0x40000000, .host = ram };
	vq_init(&rxq);
	vq_init(&txq);
	rxq.num = RXN;
	rxq.desc_uva = 0x40000000 + RX_DESC;
	rxq.avail_uva = 0x40000000 + RX_AVAIL;
	rxq.used_uva = 0x40000000 + RX_USED;
	txq.num = TXN;
	txq.desc_uva = 0x40000000 + TX_DESC;
	txq.avail_uva = 0x40000000 + TX_AVAIL;
	txq.used_uva = 0x40000000 + TX_USED;
	if (mux_init(&mux, epfd, uds, 3, &mem, &rxq, &txq))
		abort();
	snprintf(un.sun_path, sizeof(un.sun_path), "%s_5000", uds);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&un, sizeof(un)) || listen(lfd, 64))
		abort();
	atexit(cleanup);
}

static void post_rx(uint16_t id)
{
	struct vring_desc *d = (struct vring_desc *)(ram + RX_DESC) + id;
	uint16_t *avail = (uint16_t *)(ram + RX_AVAIL);

	d->addr = RX_BUFS + id * RX_BUF_LEN;
	d->len = RX_BUF_LEN;
	d->flags = VRING_DESC_F_WRITE;
	avail[2 + rx_avail % RXN] = id;
	avail[1] = ++rx_avail;
}

static void reset_rings(void)
{
	memset(ram, 0, 0x10000);
	rx_avail = rx_seen = tx_avail = 0;
	rxq.last_avail = rxq.used_idx = txq.last_avail = txq.used_idx = 0;
	rxq.broken = txq.broken = false;
	if (vq_map(&rxq, &mem) || vq_map(&txq, &mem))
		abort();
	rxq.enabled = txq.enabled = true;
	for (uint16_t i = 0; i < RXN; i++)
		post_rx(i);
}

static void dispatch(void)
{
	struct epoll_event ev[32];
	int n = epoll_wait(epfd, ev, 32, 0);

	for (int i = 0; i < n; i++)
		mux_event(&mux, ev[i].data.ptr, ev[i].events);
	mux_reap(&mux);
}

/* The guest takes what the device put in rx, and gives the buffers back. */
static void consume_rx(int repost)
{
	uint16_t *used = (uint16_t *)(ram + RX_USED);

	while (rx_seen != used[1]) {
		struct vring_used_elem *e = (struct vring_used_elem *)(used + 2) + rx_seen % RXN;
		struct virtio_vsock_hdr *h;

		rx_seen++;
		if (e->id >= RXN)
			abort();	/* the device invented a descriptor */
		h = (struct virtio_vsock_hdr *)(ram + RX_BUFS + e->id * RX_BUF_LEN);
		if (e->len > RX_BUF_LEN || (e->len && e->len != sizeof(*h) + h->len))
			abort();	/* wrote past the buffer or lied about length */
		if (h->op == VIRTIO_VSOCK_OP_REQUEST)
			last_local = h->src_port;
		if (repost)
			post_rx((uint16_t)e->id);
	}
	mux_rx_kicked(&mux);
}

static size_t guest_pkt(const uint8_t *p, size_t n)
{
	struct virtio_vsock_hdr h = { 0 };
	struct vring_desc *d = (struct vring_desc *)(ram + TX_DESC);
	uint16_t *avail = (uint16_t *)(ram + TX_AVAIL);
	uint16_t slot = (uint16_t)((tx_avail * 3) % (TXN - 3));
	size_t len, split;

	if (n < 12)
		return n;
	h.src_cid = p[0] & 0x80 ? p[0] : 3;
	h.dst_cid = p[1] & 0x80 ? p[1] : 2;
	h.src_port = 1000 + (p[2] & 3);
	h.dst_port = p[3] < 128 ? 5000 : p[3] < 192 ? last_local : p[3] < 250 ? 5001 : p[3];
	h.type = p[4] & 0x80 ? p[4] : 1;
	h.op = p[5] % 9;
	h.flags = p[6];
	h.buf_alloc = p[7] & 0x80 ? (uint32_t)p[7] << 4 : 256 * 1024;
	h.fwd_cnt = (uint32_t)p[8] << (p[8] & 15);
	len = ((size_t)p[9] << 8 | p[10]);
	split = p[11];
	p += 12;
	n -= 12;
	if (len > n)
		len = n;
	h.len = (uint32_t)(split & 0x80 ? len + (split & 0x7f) : len);
	memcpy(ram + TX_BUF, &h, sizeof(h));
	memcpy(ram + TX_BUF + sizeof(h), p, len);
	if (split & 1) {	/* one descriptor */
		d[slot] = (struct vring_desc){ TX_BUF, (uint32_t)(sizeof(h) + len), 0, 0 };
	} else {		/* header split at an odd place, then the rest */
		uint32_t cut = (uint32_t)(split % (sizeof(h) + 1));

		d[slot] = (struct vring_desc){ TX_BUF, cut, VRING_DESC_F_NEXT, (uint16_t)(slot + 1) };
		d[slot + 1] = (struct vring_desc){ TX_BUF + cut,
			(uint32_t)(sizeof(h) + len - cut), 0, 0 };
	}
	avail[2 + tx_avail % TXN] = slot;
	avail[1] = ++tx_avail;
	mux_process_tx(&mux);
	return 12 + len;
}

static void host_connect(uint8_t b)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	char line[32];
	int fd, n;

	if (nhost >= MAX_FDS)
		return;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	memcpy(un.sun_path, uds, sizeof(uds));
	if (fd < 0 || connect(fd, (struct sockaddr *)&un, sizeof(un))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	n = b < 200 ? snprintf(line, sizeof(line), "CONNECT %u\n", 1000 + (b & 3)) :
		      snprintf(line, sizeof(line), "CONN%c 1\n", b);
	if (write(fd, line, (size_t)n) < 0)
		close(fd);
	else
		host[nhost++] = fd;
}

static void host_io(int *fds, int nfds, uint8_t b, const uint8_t *p, size_t n)
{
	static uint8_t sink[65536];
	int fd;

	if (!nfds)
		return;
	fd = fds[b % nfds];
	switch ((b >> 4) & 3) {
	case 0:
		if (send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			break;
		break;
	case 1:
		if (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) < 0)
			break;
		break;
	case 2:
		shutdown(fd, SHUT_WR);
		break;
	default:
		shutdown(fd, SHUT_RDWR);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t i = 0;

	if (epfd < 0)
		setup();
	reset_rings();
	while (i + 2 <= size) {
		uint8_t kind = data[i], arg = data[i + 1];
		size_t rest = size - i - 2;

		i += 2;
		switch (kind % 7) {
		case 0:
		case 1:
			i += guest_pkt(data + i, rest);
			break;
		case 2:
			host_connect(arg);
			break;
		case 3:
			host_io(host, nhost, arg, data + i, rest < 300 ? rest : 300);
			break;
		case 4:
			consume_rx(arg & 1);
			break;
		case 5:
			if (npeers < MAX_FDS) {
				int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

				if (fd >= 0)
					peers[npeers++] = fd;
			}
			break;
		default:
			host_io(peers, npeers, arg, data + i, rest < 300 ? rest : 300);
			break;
		}
		dispatch();
	}
	consume_rx(1);
	dispatch();
	for (int k = 0; k < nhost; k++)
		close(host[k]);
	for (int k = 0; k < npeers; k++)
		close(peers[k]);
	nhost = npeers = 0;
	for (int fd; (fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0;)
		close(fd);
	mux_reset(&mux);
	mux_reap(&mux);
	last_local = 1u << 30;
	return 0;
}
