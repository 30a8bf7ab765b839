/* SPDX-License-Identifier: GPL-2.0 */
/*
 * selftests/vsock/pattern.h - the test data both ends of a vsock transfer
 * agree on: a xorshift64 byte stream from a seed, and a running checksum.
 * Shared by the guest peer and the host tests (one definition).
 */
#ifndef FCVM_SELFTESTS_VSOCK_PATTERN_H
#define FCVM_SELFTESTS_VSOCK_PATTERN_H

#include <stddef.h>
#include <stdint.h>

#define PEER_PORT	1000u	/* the guest peer's command port */

struct pattern {
	uint64_t x;		/* generator state */
	uint64_t pos;		/* bytes produced */
};

static inline void pattern_init(struct pattern *p, uint64_t seed)
{
	p->x = seed * 0x9e3779b97f4a7c15ull + 1;
	p->pos = 0;
}

/* Fill @buf with the next @len bytes of the stream. */
static inline void pattern_fill(struct pattern *p, uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++, p->pos++) {
		if (!(p->pos & 7)) {
			p->x ^= p->x << 13;
			p->x ^= p->x >> 7;
			p->x ^= p->x << 17;
		}
		buf[i] = (uint8_t)(p->x >> ((p->pos & 7) * 8));
	}
}

/* FNV-1a over a byte stream, resumable. Start with SUM_INIT. */
#define SUM_INIT	0xcbf29ce484222325ull

static inline uint64_t sum_update(uint64_t h, const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		h ^= buf[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

#endif /* FCVM_SELFTESTS_VSOCK_PATTERN_H */
