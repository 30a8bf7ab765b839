// SPDX-License-Identifier: GPL-2.0
/*
 * selftests/vsock/vsock_bench.c - `make bench-vsock`: throughput both ways
 * and 64-byte round trips between host and guest through fcvm's
 * vhost-user-vsock device, plus the device thread's CPU seconds per GB.
 * Baseline in the same run: the same transfers over a host AF_UNIX socket
 * pair. Under TCG the guest is emulated: the numbers say what this machine
 * does, not what KVM would. A benchmark, not a test.
 *
 * usage: vsock_bench OUT.json KERNEL INITRD
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "pattern.h"
#include "util/log.h"
#include "vmm/vmm.h"
#include "vsock/hvsock.h"

#define XFER		(64ull << 20)
#define RTT_ROUNDS	1000

static uint8_t buf[1 << 16];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CPU seconds of this process's thread named @name (the device thread). */
static double thread_cpu(const char *name)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	double s = -1;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char path[300], comm[32] = "", stat[1024];
		unsigned long ut = 0, st = 0;
		FILE *f;
		char *p;

		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		fclose(f);
		comm[strcspn(comm, "\n")] = '\0';
		if (strcmp(comm, name))
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/stat", e->d_name);
		f = fopen(path, "r");
		if (!f || !fgets(stat, sizeof(stat), f)) {
			if (f)
				fclose(f);
			continue;
		}
		fclose(f);
		p = strrchr(stat, ')');
		if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
				&ut, &st) == 2)
			s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	}
	closedir(d);
	return s;
}

static int write_all(int fd, const void *p, size_t n)
{
	while (n) {
		ssize_t r = write(fd, p, n);

		if (r <= 0)
			return -1;
		p = (const uint8_t *)p + r;
		n -= (size_t)r;
	}
	return 0;
}

static int read_line(int fd, char *line, size_t size)
{
	size_t n = 0;

	while (n + 1 < size && read(fd, line + n, 1) == 1) {
		if (line[n] == '\n') {
			line[n] = '\0';
			return 0;
		}
		n++;
	}
	return -1;
}

static int peer_cmd(const char *sock, const char *cmd)
{
	int fd = hvsock_connect(sock, PEER_PORT, 10000, NULL);

	if (fd < 0)
		return fd;
	if (write_all(fd, cmd, strlen(cmd)) || write_all(fd, "\n", 1)) {
		close(fd);
		return -EIO;
	}
	return fd;
}

static void fill(void)
{
	struct pattern p;

	pattern_init(&p, 1);
	pattern_fill(&p, buf, sizeof(buf));
}

/* Send XFER bytes on @fd; the receiving side's answer line is read after. */
static double send_bytes(int fd)
{
	double t0 = now_s();

	for (uint64_t n = 0; n < XFER; n += sizeof(buf))
		if (write_all(fd, buf, sizeof(buf)))
			return -1;
	return now_s() - t0;
}

static double recv_bytes(int fd, uint64_t want)
{
	double t0 = now_s();
	uint64_t got = 0;
	ssize_t r;

	while (got < want && (r = read(fd, buf, sizeof(buf))) > 0)
		got += (uint64_t)r;
	return got == want ? now_s() - t0 : -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* 64-byte echo round trips on @fd; avg/p50/p99 in microseconds. */
static int rtt(int fd, double out[3])
{
	static double lat[RTT_ROUNDS];
	char msg[64], back[64];
	double sum = 0;

	memset(msg, 'x', sizeof(msg));
	for (int i = 0; i < RTT_ROUNDS; i++) {
		double t0 = now_s();
		size_t got = 0;

		if (write_all(fd, msg, sizeof(msg)))
			return -1;
		while (got < sizeof(back)) {
			ssize_t r = read(fd, back + got, sizeof(back) - got);

			if (r <= 0)
				return -1;
			got += (size_t)r;
		}
		lat[i] = (now_s() - t0) * 1e6;
		sum += lat[i];
	}
	qsort(lat, RTT_ROUNDS, sizeof(lat[0]), cmp_double);
	out[0] = sum / RTT_ROUNDS;
	out[1] = lat[RTT_ROUNDS / 2];
	out[2] = lat[RTT_ROUNDS * 99 / 100];
	return 0;
}

struct unix_peer {
	int fd;
	int mode;	/* 0 sink, 1 source, 2 echo */
};

static void *unix_peer_thread(void *arg)
{
	struct unix_peer *p = arg;
	static uint8_t b[1 << 16];
	ssize_t r;

	if (p->mode == 1) {
		for (uint64_t n = 0; n < XFER; n += sizeof(b))
			if (write_all(p->fd, b, sizeof(b)))
				break;
	} else {
		while ((r = read(p->fd, b, sizeof(b))) > 0)
			if (p->mode == 2 && write_all(p->fd, b, (size_t)r))
				break;
	}
	close(p->fd);
	return NULL;
}

/* The same three measurements over a host socketpair. */
static int baseline(double *h2g, double *g2h, double r[3])
{
	for (int mode = 0; mode < 3; mode++) {
		struct unix_peer p = { .mode = mode };
		pthread_t t;
		int sv[2];
		double s = 0;

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
			return -1;
		p.fd = sv[1];
		pthread_create(&t, NULL, unix_peer_thread, &p);
		if (mode == 0)
			s = send_bytes(sv[0]);
		else if (mode == 1)
			s = recv_bytes(sv[0], XFER);
		else if (rtt(sv[0], r))
			s = -1;
		shutdown(sv[0], SHUT_WR);
		pthread_join(t, NULL);
		close(sv[0]);
		if (s < 0)
			return -1;
		if (mode == 0)
			*h2g = XFER / s / 1e6;
		else if (mode == 1)
			*g2h = XFER / s / 1e6;
	}
	return 0;
}

static cJSON *rtt_json(const double r[3])
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "avg_us", r[0]);
	cJSON_AddNumberToObject(o, "p50_us", r[1]);
	cJSON_AddNumberToObject(o, "p99_us", r[2]);
	return o;
}

int main(int argc, char **argv)
{
	struct vmm_config cfg = { .vsock = true, .mem_mib = 512, .vcpus = 1 };
	char dir[] = "/tmp/fcvm-vsock-bench.XXXXXX", line[128];
	double h2g_s, g2h_s, cpu0, cpu_h2g, cpu_g2h, r[3], br[3];
	double base_h2g = 0, base_g2h = 0;
	const char *sock;
	struct vmm_exit ex;
	struct vmm *vm;
	int fd, err;
	cJSON *o, *m;
	char *json;
	FILE *f;

	if (argc != 4) {
		fprintf(stderr, "usage: %s OUT.json KERNEL INITRD\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	log_init();
	fill();
	if (baseline(&base_h2g, &base_g2h, br)) {
		fprintf(stderr, "baseline failed\n");
		return 1;
	}
	if (!mkdtemp(dir))
		return 1;
	cfg.vm_dir = dir;
	cfg.kernel = argv[2];
	cfg.initrd = argv[3];
	err = vmm_create(NULL, &cfg, &vm);
	if (!err)
		err = vmm_start(vm);
	if (err) {
		fprintf(stderr, "cannot start the VM: %s\n", strerror(-err));
		return 1;
	}
	sock = vmm_vsock_path(vm);
	for (int i = 0; (fd = hvsock_connect(sock, PEER_PORT, 5000, NULL)) < 0; i++) {
		if (i > 600 || vmm_wait(vm, 0, &ex) == 0) {
			fprintf(stderr, "the guest peer never answered\n");
			goto err_vm;
		}
		usleep(200 * 1000);	/* polling for the guest to boot */
	}
	close(fd);

	/* host->guest: timed until the guest acknowledges every byte */
	fd = peer_cmd(sock, "SINK 67108864");
	if (fd < 0)
		goto err_vm;
	cpu0 = thread_cpu("fcvm-vsock");
	h2g_s = now_s();
	if (send_bytes(fd) < 0 || read_line(fd, line, sizeof(line)))
		goto err_vm;
	h2g_s = now_s() - h2g_s;
	cpu_h2g = thread_cpu("fcvm-vsock") - cpu0;
	close(fd);

	fd = peer_cmd(sock, "SOURCE 67108864 1");
	cpu0 = thread_cpu("fcvm-vsock");
	g2h_s = fd < 0 ? -1 : recv_bytes(fd, XFER);
	cpu_g2h = thread_cpu("fcvm-vsock") - cpu0;
	if (fd >= 0)
		close(fd);
	if (g2h_s < 0)
		goto err_vm;

	fd = peer_cmd(sock, "ECHO");
	if (fd < 0 || rtt(fd, r))
		goto err_vm;
	close(fd);

	fd = peer_cmd(sock, "POWEROFF");
	vmm_stop(vm, 30000, &ex);
	if (fd >= 0)
		close(fd);

	printf("vsock benchmark (%s guest: %s)\n", vm->accel,
	       strcmp(vm->accel, "tcg") ? "hardware virtualization" :
	       "EMULATED, guest CPU is TCG: numbers are for this machine only");
	printf("  host->guest  %7.1f MB/s   (host unix socket %8.1f MB/s, ratio %.3f)\n",
	       XFER / h2g_s / 1e6, base_h2g, XFER / h2g_s / 1e6 / base_h2g);
	printf("  guest->host  %7.1f MB/s   (host unix socket %8.1f MB/s, ratio %.3f)\n",
	       XFER / g2h_s / 1e6, base_g2h, XFER / g2h_s / 1e6 / base_g2h);
	printf("  64-byte RTT  %7.0f us avg, %.0f p50, %.0f p99 (unix %.1f us, ratio %.0fx)\n",
	       r[0], r[1], r[2], br[0], r[0] / br[0]);
	printf("  device CPU   %.2f s/GB host->guest, %.2f s/GB guest->host\n",
	       cpu_h2g / (XFER / 1e9), cpu_g2h / (XFER / 1e9));

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "benchmark", "vsock");
	cJSON_AddStringToObject(o, "accel", vm->accel);
	cJSON_AddBoolToObject(o, "emulated", !strcmp(vm->accel, "tcg"));
	cJSON_AddNumberToObject(o, "transfer_bytes", (double)XFER);
	m = cJSON_AddObjectToObject(o, "vsock");
	cJSON_AddNumberToObject(m, "host_to_guest_MBps", XFER / h2g_s / 1e6);
	cJSON_AddNumberToObject(m, "guest_to_host_MBps", XFER / g2h_s / 1e6);
	cJSON_AddItemToObject(m, "rtt_64B", rtt_json(r));
	cJSON_AddNumberToObject(m, "device_cpu_s_per_GB_host_to_guest", cpu_h2g / (XFER / 1e9));
	cJSON_AddNumberToObject(m, "device_cpu_s_per_GB_guest_to_host", cpu_g2h / (XFER / 1e9));
	m = cJSON_AddObjectToObject(o, "baseline_host_unix_socket");
	cJSON_AddNumberToObject(m, "send_MBps", base_h2g);
	cJSON_AddNumberToObject(m, "recv_MBps", base_g2h);
	cJSON_AddItemToObject(m, "rtt_64B", rtt_json(br));
	m = cJSON_AddObjectToObject(o, "ratio_vs_baseline");
	cJSON_AddNumberToObject(m, "host_to_guest", XFER / h2g_s / 1e6 / base_h2g);
	cJSON_AddNumberToObject(m, "guest_to_host", XFER / g2h_s / 1e6 / base_g2h);
	cJSON_AddNumberToObject(m, "rtt", r[0] / br[0]);
	json = cJSON_Print(o);
	f = fopen(argv[1], "w");
	if (!f || !json || fprintf(f, "%s\n", json) < 0) {
		fprintf(stderr, "cannot write %s\n", argv[1]);
		return 1;
	}
	fclose(f);
	cJSON_free(json);
	cJSON_Delete(o);
	vmm_destroy(vm);
	snprintf(line, sizeof(line), "%s/console.log", dir);
	unlink(line);
	rmdir(dir);
	printf("  JSON: %s\n", argv[1]);
	return 0;

err_vm:
	fprintf(stderr, "benchmark failed\n");
	vmm_stop(vm, 0, &ex);
	vmm_destroy(vm);
	return 1;
}
