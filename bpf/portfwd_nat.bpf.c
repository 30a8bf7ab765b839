// SPDX-License-Identifier: GPL-2.0
/*
 * bpf/portfwd_nat.bpf.c - bridged port publishing without conntrack.
 *
 * Local clients (sockets of the cgroup the programs are attached to):
 *   connect4/6, sendmsg4: published address:port -> guest address:port
 *   getpeername4/6, recvmsg4: guest address:port -> published address:port
 * Forwarded clients (tc clsact on the interface they arrive on):
 *   ingress: destination published -> guest, egress: source guest ->
 *   published; stateless 1:1, checksums fixed up incrementally.
 * IPv6 sockets are handled for IPv4-mapped addresses (::ffff:a.b.c.d).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "fcvm/nat.h"

#define ETH_HLEN	14
#define ETH_P_IP	0x0800
#define IP_MF		0x2000
#define IP_OFFSET	0x1fff
#define TC_ACT_UNSPEC	(-1)
#define TCP_CSUM_OFF	16
#define UDP_CSUM_OFF	6
#define IPPROTO_TCP_	6
#define IPPROTO_UDP_	17

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FCVM_NAT_MAX_ENTRIES);
	__type(key, struct fcvm_nat_key);
	__type(value, struct fcvm_nat_val);
} nat_fwd SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, FCVM_NAT_MAX_ENTRIES);
	__type(key, struct fcvm_nat_key);
	__type(value, struct fcvm_nat_val);
} nat_rev SEC(".maps");

static __always_inline struct fcvm_nat_val *lookup(void *map, __u32 addr, __u32 port,
						   __u32 proto)
{
	struct fcvm_nat_key k = {
		.addr = addr, .port = (__u16)port, .proto = (__u8)proto,
	};

	return bpf_map_lookup_elem(map, &k);
}

/* --- local clients: cgroup socket-address hooks ------------------------- */

static __always_inline int xlate4(struct bpf_sock_addr *ctx, void *map)
{
	struct fcvm_nat_val *v = lookup(map, ctx->user_ip4, ctx->user_port, ctx->protocol);

	if (v) {
		ctx->user_ip4 = v->addr;
		ctx->user_port = v->port;
	}
	return 1;
}

static __always_inline int is_v4mapped(struct bpf_sock_addr *ctx)
{
	return ctx->user_ip6[0] == 0 && ctx->user_ip6[1] == 0 &&
	       ctx->user_ip6[2] == bpf_htonl(0xffff);
}

static __always_inline int xlate6(struct bpf_sock_addr *ctx, void *map)
{
	struct fcvm_nat_val *v;

	if (!is_v4mapped(ctx))
		return 1;
	v = lookup(map, ctx->user_ip6[3], ctx->user_port, ctx->protocol);
	if (v) {
		ctx->user_ip6[3] = v->addr;
		ctx->user_port = v->port;
	}
	return 1;
}

SEC("cgroup/connect4")
int pfnat_connect4(struct bpf_sock_addr *ctx)
{
	return xlate4(ctx, &nat_fwd);
}

SEC("cgroup/connect6")
int pfnat_connect6(struct bpf_sock_addr *ctx)
{
	return xlate6(ctx, &nat_fwd);
}

SEC("cgroup/sendmsg4")
int pfnat_sendmsg4(struct bpf_sock_addr *ctx)
{
	return xlate4(ctx, &nat_fwd);
}

SEC("cgroup/getpeername4")
int pfnat_peer4(struct bpf_sock_addr *ctx)
{
	return xlate4(ctx, &nat_rev);
}

SEC("cgroup/getpeername6")
int pfnat_peer6(struct bpf_sock_addr *ctx)
{
	return xlate6(ctx, &nat_rev);
}

SEC("cgroup/recvmsg4")
int pfnat_recvmsg4(struct bpf_sock_addr *ctx)
{
	return xlate4(ctx, &nat_rev);
}

/* --- forwarded clients: tc ----------------------------------------------- */

/*
 * Rewrites the destination (@dst) or source address and port of an IPv4
 * TCP/UDP packet found in @map, with incremental checksum updates.
 */
static __always_inline int tc_xlate(struct __sk_buff *skb, void *map, bool dst)
{
	__u32 ip_off = ETH_HLEN, l4_off, csum_off, addr_off, port_off;
	struct iphdr ip;
	__u16 ports[2], old_port;
	__u32 old_addr, flags;
	struct fcvm_nat_val *v;
	__u16 udp_csum;

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return TC_ACT_UNSPEC;
	if (bpf_skb_load_bytes(skb, ip_off, &ip, sizeof(ip)))
		return TC_ACT_UNSPEC;
	if (ip.ihl < 5 || (ip.protocol != IPPROTO_TCP_ && ip.protocol != IPPROTO_UDP_))
		return TC_ACT_UNSPEC;
	/* Only the first fragment carries ports; later ones pass unchanged. */
	if (ip.frag_off & bpf_htons(IP_OFFSET))
		return TC_ACT_UNSPEC;
	l4_off = ip_off + ip.ihl * 4;
	if (bpf_skb_load_bytes(skb, l4_off, ports, sizeof(ports)))
		return TC_ACT_UNSPEC;
	old_addr = dst ? ip.daddr : ip.saddr;
	old_port = dst ? ports[1] : ports[0];
	v = lookup(map, old_addr, old_port, ip.protocol);
	if (!v)
		return TC_ACT_UNSPEC;

	addr_off = ip_off + (dst ? offsetof(struct iphdr, daddr) : offsetof(struct iphdr, saddr));
	port_off = l4_off + (dst ? 2 : 0);
	flags = 0;
	if (ip.protocol == IPPROTO_TCP_) {
		csum_off = l4_off + TCP_CSUM_OFF;
	} else {
		csum_off = l4_off + UDP_CSUM_OFF;
		flags = BPF_F_MARK_MANGLED_0;
		if (bpf_skb_load_bytes(skb, csum_off, &udp_csum, sizeof(udp_csum)))
			return TC_ACT_UNSPEC;
		if (!udp_csum)
			csum_off = 0;	/* no UDP checksum: leave it zero */
	}
	if (csum_off) {
		bpf_l4_csum_replace(skb, csum_off, old_addr, v->addr,
				    flags | BPF_F_PSEUDO_HDR | sizeof(__u32));
		bpf_l4_csum_replace(skb, csum_off, old_port, v->port, flags | sizeof(__u16));
	}
	bpf_l3_csum_replace(skb, ip_off + offsetof(struct iphdr, check), old_addr, v->addr,
			    sizeof(__u32));
	bpf_skb_store_bytes(skb, addr_off, &v->addr, sizeof(v->addr), 0);
	bpf_skb_store_bytes(skb, port_off, &v->port, sizeof(v->port), 0);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int pfnat_tc_in(struct __sk_buff *skb)
{
	return tc_xlate(skb, &nat_fwd, true);
}

SEC("tc")
int pfnat_tc_out(struct __sk_buff *skb)
{
	return tc_xlate(skb, &nat_rev, false);
}
