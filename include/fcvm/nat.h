/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fcvm/nat.h - the maps of the bridged eBPF NAT (bpf/portfwd_nat.bpf.c),
 * shared by the BPF programs and fcvm's loader (userspace/portfwd/nat_bpf.c).
 * All addresses and ports are in network byte order.
 * Documented in Documentation/port-forwarding.rst.
 *
 *   nat_fwd: published (addr, port, proto) -> guest (addr, port)
 *   nat_rev: guest (addr, port, proto)     -> published (addr, port)
 */
#ifndef FCVM_NAT_H
#define FCVM_NAT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define FCVM_NAT_MAX_ENTRIES	1024

struct fcvm_nat_key {
	__u32 addr;
	__u16 port;
	__u8 proto;	/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 pad;	/* 0 */
};

struct fcvm_nat_val {
	__u32 addr;
	__u16 port;
	__u16 pad;	/* 0 */
};

#endif /* FCVM_NAT_H */
