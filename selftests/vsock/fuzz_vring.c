// SPDX-License-Identifier: GPL-2.0
/*
 * selftests/vsock/fuzz_vring.c - libFuzzer target for the virtqueue parser:
 * the input is the guest's memory (descriptor table, avail ring and buffers)
 * plus the queue geometry; vq_pop() must never touch memory outside the
 * region, loop, or crash, whatever the guest wrote.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "vsock/vring.h"

#define RAM	(64 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t ram[RAM] __attribute__((aligned(4096)));
	struct gmem m = { .nregions = 2 };
	struct vq_chain ch;
	struct vq vq;
	uint8_t out[256];

	if (size < 4)
		return 0;
	memset(ram, 0, sizeof(ram));
	memcpy(ram, data + 4, size - 4 < RAM ? size - 4 : RAM);
	/* two regions with a hole between them, both inside ram[] */
	m.r[0] = (struct gmem_region){ .gpa = 0, .size = RAM / 2, .uva = 1 << 20,
				       .host = ram };
	m.r[1] = (struct gmem_region){ .gpa = 1ull << 32, .size = RAM / 2,
				       .uva = 1 << 24, .host = ram + RAM / 2 };
	vq_init(&vq);
	vq.num = (uint16_t)(1u << (data[0] % 9));	/* 1..256 */
	vq.desc_uva = (1 << 20) + (data[1] & 0x7) * 0x1000u;
	vq.avail_uva = (1 << 20) + 0x4000u + (data[2] & 1) * 2;
	vq.used_uva = (1 << 24) + 0x1000u;
	vq.last_avail = data[3];
	vq.used_idx = data[3];
	if (vq_map(&vq, &m))
		return 0;
	vq.enabled = true;
	for (int i = 0; i < 300; i++) {
		int r = vq_pop(&vq, &m, data[3] & 1, &ch);

		if (r == 0 || r == -EIO)
			break;
		if (r < 0)
			continue;
		chain_copy_from(&ch, data[1], out, sizeof(out));
		chain_copy_to(&ch, data[2], out, sizeof(out) / 2);
		vq_push(&vq, ch.head, (uint32_t)ch.len);
	}
	return 0;
}
