/* SPDX-License-Identifier: GPL-2.0 */
/*
 * portfwd/nat.h - bridged port publishing: translate published
 * (address, port, proto) to the guest's (address, port) for local clients
 * (cgroup socket hooks) and forwarded clients (tc), with eBPF or, where BPF
 * cannot be loaded, nftables DNAT. Same observable behaviour either way.
 *
 * Everything installed is listed first in <data dir>/nat/<id> with the
 * owner's pid and start time; nat_close() removes it all, and
 * nat_reap_stale() removes what a killed fcvm left.
 */
#ifndef FCVM_PORTFWD_NAT_H
#define FCVM_PORTFWD_NAT_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

enum nat_backend {
	NAT_BPF,
	NAT_NFT,
};

struct nat_rule {
	struct in_addr pub;	/* published address */
	uint16_t pub_port;	/* host order */
	struct in_addr guest;
	uint16_t guest_port;	/* host order */
	uint8_t proto;		/* IPPROTO_TCP / IPPROTO_UDP */
};

#define NAT_MAX_IFS	8

struct nat_opts {
	const char *id;			/* VM id: [A-Za-z0-9_.-] */
	const char *cgroup;		/* cgroup v2 dir for local clients (BPF); NULL: none */
	const char *ifnames[NAT_MAX_IFS];	/* where forwarded clients arrive */
	size_t nifs;
};

struct nat;

int nat_open(struct nat **out, enum nat_backend backend, const struct nat_opts *opts,
	     const struct nat_rule *rules, size_t n);
enum nat_backend nat_backend_of(const struct nat *nat);
int nat_bpf_ids(const struct nat *nat, uint32_t *ids, size_t max);
void nat_close(struct nat *nat);
int nat_reap_stale(unsigned int *reaped);

/* Internal: the two backends and the record (nat.c). */
struct nat_bpf;
int nat_bpf_open(struct nat_bpf **out, const struct nat_opts *opts,
		 const struct nat_rule *rules, size_t n, int record_fd);
int nat_bpf_ids_of(const struct nat_bpf *b, uint32_t *ids, size_t max);
void nat_bpf_close(struct nat_bpf *b);
int nat_bpf_detach_tc(const char *ifname, int ingress, uint32_t handle, uint32_t prio);
int nat_nft_table(const char *id, char *buf, size_t len);
int nat_nft_open(const char *table, const struct nat_rule *rules, size_t n);
int nat_nft_delete(const char *table);

#endif /* FCVM_PORTFWD_NAT_H */
