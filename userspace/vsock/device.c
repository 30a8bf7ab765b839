// SPDX-License-Identifier: GPL-2.0
/*
 * vsock/device.c - the vhost-user-vsock backend: accepts the frontend
 * (QEMU) on the vhost-user socket, handles its control messages (features,
 * memory table, vring setup, kick/call eventfds, config, reset) and runs
 * the epoll loop that drives the virtqueues and the hybrid-vsock
 * multiplexer, in one thread of its own.
 */
#include <errno.h>
#include <linux/virtio_vsock.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "vsock/device.h"
#include "vsock/vhost_user.h"

#define NQUEUES		2	/* rx and tx; QEMU keeps the event queue */
#define QRX		0
#define QTX		1

#define DEV_FEATURES	((1ull << VIRTIO_F_VERSION_1_BIT) | \
			 (1ull << VHU_F_PROTOCOL_FEATURES))
#define DEV_PROTOCOL	((1ull << VHU_PROTOCOL_F_REPLY_ACK) | \
			 (1ull << VHU_PROTOCOL_F_CONFIG) | \
			 (1ull << VHU_PROTOCOL_F_RESET_DEVICE))

struct vsock_device {
	int epfd, stop_fd, listen_fd, conn_fd;
	struct ev_src stop_src, listen_src, conn_src, kick_src[NQUEUES];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	uint64_t guest_cid;
	uint64_t features, protocol;
	struct gmem mem;
	struct vq vq[NQUEUES];
	bool stopped[NQUEUES];	/* stopped by GET_VRING_BASE, may resume */
	struct vsock_mux mux;
	pthread_t thread;
	bool started;
	uint64_t cpu_ns, frontends;
};

static int epoll_add(int epfd, int fd, struct ev_src *src)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = src };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static void queue_stop(struct vsock_device *dev, unsigned int i)
{
	struct vq *vq = &dev->vq[i];

	if (vq->kick_fd >= 0) {
		epoll_ctl(dev->epfd, EPOLL_CTL_DEL, vq->kick_fd, NULL);
		close(vq->kick_fd);
		vq->kick_fd = -1;
	}
	vq->desc = vq->avail = vq->used = NULL;
	vq->enabled = false;
	vq->broken = false;
}

static void queue_reset(struct vsock_device *dev, unsigned int i)
{
	queue_stop(dev, i);
	dev->stopped[i] = false;
	if (dev->vq[i].call_fd >= 0)
		close(dev->vq[i].call_fd);
	vq_init(&dev->vq[i]);
}

/* The frontend reset the device or went away: forget the guest. */
static void device_reset(struct vsock_device *dev)
{
	mux_reset(&dev->mux);
	for (unsigned int i = 0; i < NQUEUES; i++)
		queue_reset(dev, i);
	gmem_unmap(&dev->mem);
	dev->features = 0;
	dev->protocol = 0;
}

/**
 * set_mem_table() - map the frontend's guest RAM regions
 * @dev: the device
 * @m: SET_MEM_TABLE with one descriptor per region
 *
 * Every region is checked (size, overflow of gpa/uva/offset) and mapped
 * before the old table is replaced, so a bad table leaves the old one.
 * Queues are re-translated through the new table.
 *
 * Return: 0 or -EINVAL.
 */
static int set_mem_table(struct vsock_device *dev, struct vhu_msg *m)
{
	struct gmem mem = { 0 };
	uint32_t n = m->u.mem.nregions;

	if (n > VHU_MAX_REGIONS || n > GMEM_MAX_REGIONS || n != m->nfds ||
	    m->hdr.size < 8 + n * sizeof(struct vhu_mem_region))
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++) {
		const struct vhu_mem_region *r = &m->u.mem.r[i];
		struct gmem_region *g = &mem.r[i];
		uint64_t len = r->size + r->mmap_offset;
		void *p;

		if (!r->size || len < r->size || len > SIZE_MAX ||
		    r->gpa + r->size < r->gpa || r->uva + r->size < r->uva)
			goto err_unmap;
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
			 m->fds[i], 0);
		if (p == MAP_FAILED)
			goto err_unmap;
		g->map = p;
		g->map_len = len;
		g->host = (uint8_t *)p + r->mmap_offset;
		g->gpa = r->gpa;
		g->uva = r->uva;
		g->size = r->size;
		mem.nregions = i + 1;
	}
	gmem_unmap(&dev->mem);
	dev->mem = mem;
	for (unsigned int i = 0; i < NQUEUES; i++)
		if (dev->vq[i].desc && vq_map(&dev->vq[i], &dev->mem))
			dev->vq[i].broken = true;
	return 0;

err_unmap:
	gmem_unmap(&mem);
	return -EINVAL;
}

/* Run whatever a newly usable queue may already hold. */
static void queue_poke(struct vsock_device *dev, unsigned int i)
{
	if (!vq_ready(&dev->vq[i]))
		return;
	if (i == QTX)
		mux_process_tx(&dev->mux);
	else
		mux_rx_kicked(&dev->mux);
}

/**
 * set_vring_fd() - SET_VRING_KICK / _CALL / _ERR
 * @dev: the device
 * @m: the message: queue index in the low byte, VHU_VRING_NOFD or one fd
 *
 * A kick fd starts the queue (enabled at once unless protocol features
 * were negotiated, then SET_VRING_ENABLE decides). The fd is taken from @m.
 *
 * Return: 0 or -EINVAL (polling mode, bad index, missing fd).
 */
static int set_vring_fd(struct vsock_device *dev, struct vhu_msg *m)
{
	unsigned int i = m->u.u64 & VHU_VRING_IDX_MASK;
	bool nofd = m->u.u64 & VHU_VRING_NOFD;
	struct vq *vq;
	int fd = -1;

	if (i >= NQUEUES || m->hdr.size < 8 || (!nofd && m->nfds != 1))
		return -EINVAL;
	if (!nofd) {
		fd = m->fds[0];
		m->nfds = 0;	/* taken */
	}
	vq = &dev->vq[i];
	switch (m->hdr.request) {
	case VHU_SET_VRING_KICK:
		if (vq->kick_fd >= 0) {
			epoll_ctl(dev->epfd, EPOLL_CTL_DEL, vq->kick_fd, NULL);
			close(vq->kick_fd);
		}
		vq->kick_fd = fd;
		if (fd < 0)
			return -EINVAL;	/* polling mode is not supported */
		dev->stopped[i] = false;
		if (epoll_add(dev->epfd, fd, &dev->kick_src[i]))
			return -EINVAL;
		if (!(dev->features & (1ull << VHU_F_PROTOCOL_FEATURES)))
			vq->enabled = true;
		queue_poke(dev, i);
		return 0;
	case VHU_SET_VRING_CALL:
		if (vq->call_fd >= 0)
			close(vq->call_fd);
		vq->call_fd = fd;
		return 0;
	default:		/* VHU_SET_VRING_ERR: we never report errors */
		if (fd >= 0)
			close(fd);
		return 0;
	}
}

static int vring_msg(struct vsock_device *dev, struct vhu_msg *m, bool *reply)
{
	uint32_t i = m->u.state.index;
	struct vq *vq;

	if (m->hdr.size < sizeof(m->u.state) || i >= NQUEUES)
		return -EINVAL;
	vq = &dev->vq[i];
	switch (m->hdr.request) {
	case VHU_SET_VRING_NUM:
		if (!m->u.state.num || m->u.state.num > VQ_MAX_SIZE ||
		    (m->u.state.num & (m->u.state.num - 1)))
			return -EINVAL;
		vq->num = (uint16_t)(m->u.state.num == VQ_MAX_SIZE ?
				     VQ_MAX_SIZE : m->u.state.num);
		return 0;
	case VHU_SET_VRING_BASE:
		/*
		 * After a stop, the same base means the VM was paused and
		 * resumes (connections live on); another one means the guest
		 * driver started over, and its connections are gone.
		 */
		if (dev->stopped[i] && (uint16_t)m->u.state.num != vq->last_avail)
			mux_reset(&dev->mux);
		vq->last_avail = vq->used_idx = (uint16_t)m->u.state.num;
		return 0;
	case VHU_SET_VRING_ENABLE:
		vq->enabled = m->u.state.num != 0;
		queue_poke(dev, i);
		return 0;
	case VHU_GET_VRING_BASE:
		/* VM paused or driver reset: which one shows on restart */
		queue_stop(dev, i);
		dev->stopped[i] = true;
		m->u.state.num = vq->last_avail;
		m->hdr.size = sizeof(m->u.state);
		*reply = true;
		return 0;
	default:
		return -EINVAL;
	}
}

static int get_config(struct vsock_device *dev, struct vhu_msg *m)
{
	struct virtio_vsock_config cfg = { .guest_cid = htole64(dev->guest_cid) };
	uint32_t off = m->u.config.offset, size = m->u.config.size;

	if (m->hdr.size < VHU_CONFIG_HDR || size > VHU_CONFIG_MAX ||
	    off > sizeof(cfg) || size > sizeof(cfg) - off)
		return -EINVAL;
	memset(m->u.config.region, 0, sizeof(m->u.config.region));
	memcpy(m->u.config.region, (uint8_t *)&cfg + off, size);
	m->hdr.size = VHU_CONFIG_HDR + size;
	return 0;
}

/**
 * handle_msg() - act on one frontend message
 * @dev: the device
 * @m: the message; replaced by the reply when *@reply is set
 * @reply: set when @m must be sent back
 *
 * Return: 0 or -errno (reported to the frontend when it asked for an ack).
 */
static int handle_msg(struct vsock_device *dev, struct vhu_msg *m, bool *reply)
{
	*reply = false;
	switch (m->hdr.request) {
	case VHU_GET_FEATURES:
		m->u.u64 = DEV_FEATURES;
		m->hdr.size = 8;
		*reply = true;
		return 0;
	case VHU_SET_FEATURES:
		if (m->hdr.size < 8 || (m->u.u64 & ~DEV_FEATURES))
			return -EINVAL;
		dev->features = m->u.u64;
		return 0;
	case VHU_GET_PROTOCOL_FEATURES:
		m->u.u64 = DEV_PROTOCOL;
		m->hdr.size = 8;
		*reply = true;
		return 0;
	case VHU_SET_PROTOCOL_FEATURES:
		if (m->hdr.size < 8)
			return -EINVAL;
		dev->protocol = m->u.u64 & DEV_PROTOCOL;
		return 0;
	case VHU_GET_QUEUE_NUM:
		m->u.u64 = NQUEUES;
		m->hdr.size = 8;
		*reply = true;
		return 0;
	case VHU_SET_OWNER:
		return 0;
	case VHU_RESET_OWNER:
	case VHU_RESET_DEVICE:
		device_reset(dev);
		return 0;
	case VHU_SET_MEM_TABLE:
		return set_mem_table(dev, m);
	case VHU_SET_VRING_ADDR:
		if (m->hdr.size < sizeof(m->u.addr) || m->u.addr.index >= NQUEUES)
			return -EINVAL;
		if (dev->stopped[m->u.addr.index] &&
		    dev->vq[m->u.addr.index].desc_uva != m->u.addr.desc)
			mux_reset(&dev->mux);	/* new rings: a new driver */
		dev->vq[m->u.addr.index].desc_uva = m->u.addr.desc;
		dev->vq[m->u.addr.index].avail_uva = m->u.addr.avail;
		dev->vq[m->u.addr.index].used_uva = m->u.addr.used;
		return vq_map(&dev->vq[m->u.addr.index], &dev->mem);
	case VHU_SET_VRING_NUM:
	case VHU_SET_VRING_BASE:
	case VHU_GET_VRING_BASE:
	case VHU_SET_VRING_ENABLE:
		return vring_msg(dev, m, reply);
	case VHU_SET_VRING_KICK:
	case VHU_SET_VRING_CALL:
	case VHU_SET_VRING_ERR:
		return set_vring_fd(dev, m);
	case VHU_GET_CONFIG:
		*reply = true;
		if (get_config(dev, m)) {
			m->hdr.size = 0;	/* an empty reply says "failed" */
			return -EINVAL;
		}
		return 0;
	default:
		return -EOPNOTSUPP;	/* includes SET_CONFIG: read-only */
	}
}

static void frontend_drop(struct vsock_device *dev)
{
	if (dev->conn_fd < 0)
		return;
	epoll_ctl(dev->epfd, EPOLL_CTL_DEL, dev->conn_fd, NULL);
	close(dev->conn_fd);
	dev->conn_fd = -1;
	device_reset(dev);
}

static void frontend_msg(struct vsock_device *dev)
{
	struct vhu_msg m;
	bool reply;
	int err;

	err = vhu_recv(dev->conn_fd, &m);
	if (err) {
		if (err != -ECONNRESET)
			log_warn("vsock: vhost-user frontend: %s", strerror(-err));
		frontend_drop(dev);
		return;
	}
	if ((m.hdr.flags & VHU_VERSION_MASK) != VHU_VERSION) {
		log_warn("vsock: vhost-user frontend: bad version");
		vhu_close_fds(&m);
		frontend_drop(dev);
		return;
	}
	err = handle_msg(dev, &m, &reply);
	if (err)
		log_debug("vsock: vhost-user request %u: %s", m.hdr.request,
			  strerror(-err));
	vhu_close_fds(&m);
	if (!reply && (m.hdr.flags & VHU_FLAG_NEED_REPLY) &&
	    (dev->protocol & (1ull << VHU_PROTOCOL_F_REPLY_ACK))) {
		m.u.u64 = err ? 1 : 0;
		m.hdr.size = 8;
		reply = true;
	}
	if (reply) {
		m.hdr.flags = VHU_VERSION | VHU_FLAG_REPLY;
		if (vhu_send(dev->conn_fd, &m, NULL, 0))
			frontend_drop(dev);
	}
}

static void frontend_accept(struct vsock_device *dev)
{
	struct timeval tv = { .tv_sec = 2 };
	int fd = accept4(dev->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (dev->conn_fd >= 0) {
		close(fd);	/* one frontend at a time */
		return;
	}
	/* a stuck frontend must not hang the device forever mid-message */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (epoll_add(dev->epfd, fd, &dev->conn_src)) {
		close(fd);
		return;
	}
	dev->conn_fd = fd;
	dev->frontends++;
}

static void kick(struct vsock_device *dev, unsigned int i)
{
	uint64_t v;

	if (read(dev->vq[i].kick_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	queue_poke(dev, i);
}

/*
 * The device's event loop: frontend messages, kicks, host sockets, and the
 * multiplexer's deadlines; destroyed connections are freed after each batch.
 */
static void *device_thread(void *arg)
{
	struct vsock_device *dev = arg;
	struct epoll_event evs[64];
	struct timespec ts;
	bool stop = false;

	while (!stop) {
		int timeout = mux_tick(&dev->mux);
		int n;

		if (dev->mux.tx_more)
			timeout = 0;
		n = epoll_wait(dev->epfd, evs, 64, timeout);
		for (int i = 0; i < n; i++) {
			struct ev_src *src = evs[i].data.ptr;

			switch (src->kind) {
			case EV_STOP:
				stop = true;
				break;
			case EV_VHU_LISTEN:
				frontend_accept(dev);
				break;
			case EV_VHU_CONN:
				if (dev->conn_fd >= 0)
					frontend_msg(dev);
				break;
			case EV_KICK_RX:
				kick(dev, QRX);
				break;
			case EV_KICK_TX:
				kick(dev, QTX);
				break;
			default:
				mux_event(&dev->mux, src, evs[i].events);
				break;
			}
		}
		if (dev->mux.tx_more)
			mux_process_tx(&dev->mux);
		mux_reap(&dev->mux);
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	dev->cpu_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	return NULL;
}

static int listen_unix(const char *path, int *out)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd, err;

	if (strlen(path) >= sizeof(un.sun_path))
		return -ENAMETOOLONG;
	strcpy(un.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&un, sizeof(un)) || listen(fd, 4)) {
		err = -errno;
		close(fd);
		return err;
	}
	*out = fd;
	return 0;
}

/**
 * vsock_device_create() - create the device's sockets (not yet running)
 * @vhost_user_path: socket the frontend connects to
 * @uds_path: the hybrid-vsock socket (guest->host connections go to
 *	<uds_path>_<port>)
 * @guest_cid: CID reported to the guest through the device config
 * @out: the device
 *
 * Return: 0 or -errno. Neither path may exist yet.
 */
int vsock_device_create(const char *vhost_user_path, const char *uds_path,
			uint64_t guest_cid, struct vsock_device **out)
{
	struct vsock_device *dev = calloc(1, sizeof(*dev));
	int err;

	if (!dev)
		return -ENOMEM;
	dev->listen_fd = dev->conn_fd = dev->stop_fd = -1;
	dev->guest_cid = guest_cid;
	dev->stop_src.kind = EV_STOP;
	dev->listen_src.kind = EV_VHU_LISTEN;
	dev->conn_src.kind = EV_VHU_CONN;
	dev->kick_src[QRX].kind = EV_KICK_RX;
	dev->kick_src[QTX].kind = EV_KICK_TX;
	for (unsigned int i = 0; i < NQUEUES; i++)
		vq_init(&dev->vq[i]);
	if (strlen(vhost_user_path) >= sizeof(dev->path)) {
		err = -ENAMETOOLONG;
		goto err_free;
	}
	strcpy(dev->path, vhost_user_path);
	dev->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (dev->epfd < 0) {
		err = -errno;
		goto err_free;
	}
	dev->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (dev->stop_fd < 0) {
		err = -errno;
		goto err_close_ep;
	}
	err = epoll_add(dev->epfd, dev->stop_fd, &dev->stop_src);
	if (err)
		goto err_close_stop;
	err = listen_unix(vhost_user_path, &dev->listen_fd);
	if (err)
		goto err_close_stop;
	err = epoll_add(dev->epfd, dev->listen_fd, &dev->listen_src);
	if (err)
		goto err_unlink;
	err = mux_init(&dev->mux, dev->epfd, uds_path, guest_cid, &dev->mem,
		       &dev->vq[QRX], &dev->vq[QTX]);
	if (err)
		goto err_unlink;
	*out = dev;
	return 0;

err_unlink:
	close(dev->listen_fd);
	unlink(vhost_user_path);
err_close_stop:
	close(dev->stop_fd);
err_close_ep:
	close(dev->epfd);
err_free:
	free(dev);
	return err;
}

int vsock_device_start(struct vsock_device *dev)
{
	int err = pthread_create(&dev->thread, NULL, device_thread, dev);

	if (err)
		return -err;
	/* visible in top -H and /proc/<pid>/task/<tid>/comm */
	pthread_setname_np(dev->thread, "fcvm-vsock");
	dev->started = true;
	return 0;
}

/**
 * vsock_device_destroy() - stop the thread, close everything, remove the
 * sockets
 * @dev: the device (may be NULL)
 * @stats: if not NULL, the final counters
 */
void vsock_device_destroy(struct vsock_device *dev,
			  struct vsock_device_stats *stats)
{
	uint64_t one = 1;

	if (!dev)
		return;
	if (dev->started) {
		if (write(dev->stop_fd, &one, sizeof(one)) < 0)
			log_debug("vsock: stop: %s", strerror(errno));
		pthread_join(dev->thread, NULL);
	}
	if (stats) {
		stats->mux = dev->mux.stats;
		stats->cpu_ns = dev->cpu_ns;
		stats->frontends = dev->frontends;
	}
	frontend_drop(dev);
	device_reset(dev);
	mux_fini(&dev->mux);
	close(dev->listen_fd);
	unlink(dev->path);
	close(dev->stop_fd);
	close(dev->epfd);
	free(dev);
}
