// SPDX-License-Identifier: GPL-2.0
/*
 * selftests/vsock/vring_test.c - the virtqueue parser on its own: guest
 * memory translation bounds and vq_pop() against malformed rings, with the
 * exact error and the chain handed back to the guest (length 0).
 */
#include <errno.h>
#include <linux/virtio_ring.h>
#include <string.h>

#include "kselftest_harness.h"
#include "vsock/vring.h"

#define RAM	(64 * 1024)
#define NUM	16

FIXTURE(ring) {
	struct gmem m;
	struct vq vq;
	uint8_t *ram;
	struct vring_desc *desc;
	uint16_t *avail, *used;
	struct vq_chain ch;
};

FIXTURE_SETUP(ring)
{
	self->ram = aligned_alloc(4096, RAM);
	ASSERT_NE(NULL, self->ram);
	memset(self->ram, 0, RAM);
	self->m.nregions = 1;
	self->m.r[0] = (struct gmem_region){ .gpa = 0x100000, .size = RAM,
					     .uva = 0x7000000, .host = self->ram };
	vq_init(&self->vq);
	self->vq.num = NUM;
	self->vq.desc_uva = 0x7000000;
	self->vq.avail_uva = 0x7001000;
	self->vq.used_uva = 0x7002000;
	ASSERT_EQ(0, vq_map(&self->vq, &self->m));
	self->vq.enabled = true;
	self->desc = (struct vring_desc *)self->ram;
	self->avail = (uint16_t *)(self->ram + 0x1000);
	self->used = (uint16_t *)(self->ram + 0x2000);
}

FIXTURE_TEARDOWN(ring)
{
	free(self->ram);
}

static void set(struct vring_desc *d, uint64_t addr, uint32_t len, uint16_t flags,
		uint16_t next)
{
	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

static void publish(uint16_t *avail, uint16_t head)
{
	avail[2 + (avail[1] % NUM)] = head;
	avail[1]++;
}

/* last used element's id and length */
static void last_used(uint16_t *used, uint32_t *id, uint32_t *len)
{
	struct vring_used_elem *e = (struct vring_used_elem *)(used + 2);

	*id = e[(uint16_t)(used[1] - 1) % NUM].id;
	*len = e[(uint16_t)(used[1] - 1) % NUM].len;
}

TEST(gmem_bounds)
{
	static uint8_t ram_buf[4096];
	void *ram = ram_buf;
	struct gmem m = { .nregions = 1 };

	m.r[0] = (struct gmem_region){ .gpa = 4096, .size = 4096, .uva = 1 << 20, .host = ram_buf };
	EXPECT_EQ(ram, gmem_gpa(&m, 4096, 4096));
	EXPECT_EQ((void *)(ram_buf + 4095), gmem_gpa(&m, 8191, 1));
	EXPECT_EQ(NULL, gmem_gpa(&m, 8191, 2));
	EXPECT_EQ(NULL, gmem_gpa(&m, 4095, 1));
	EXPECT_EQ(NULL, gmem_gpa(&m, 4096, UINT64_MAX));
	EXPECT_EQ(NULL, gmem_gpa(&m, UINT64_MAX, 2));
	EXPECT_EQ((void *)(ram_buf + 16), gmem_uva(&m, (1 << 20) + 16, 16));
	EXPECT_EQ(NULL, gmem_uva(&m, 4096, 1));
}

TEST_F(ring, empty_then_valid_chain)
{
	EXPECT_EQ(0, vq_pop(&self->vq, &self->m, false, &self->ch));
	set(&self->desc[3], 0x100000 + 0x4000, 44, VRING_DESC_F_NEXT, 5);
	set(&self->desc[5], 0x100000 + 0x5000, 100, 0, 0);
	publish(self->avail, 3);
	ASSERT_EQ(1, vq_pop(&self->vq, &self->m, false, &self->ch));
	EXPECT_EQ(3, self->ch.head);
	EXPECT_EQ(2, self->ch.niov);
	EXPECT_EQ(144, self->ch.len);
	EXPECT_EQ((void *)(self->ram + 0x5000), self->ch.iov[1].iov_base);
	vq_push(&self->vq, 3, 7);
	EXPECT_EQ(1, self->used[1]);
}

TEST_F(ring, malformed_chains_are_returned_empty)
{
	static const struct { uint64_t addr; uint32_t len; uint16_t flags, next; int err; } bad[] = {
		{ 0x100000 + RAM - 4, 8, 0, 0, -EFAULT },
		{ 0x100000, 0xffffffff, 0, 0, -E2BIG },
		{ 0x100000, 8, VRING_DESC_F_INDIRECT, 0, -EINVAL },
		{ 0x100000, 8, VRING_DESC_F_WRITE, 0, -EINVAL },
		{ 0x100000, 8, VRING_DESC_F_NEXT, NUM, -EINVAL },
		{ 0x100000, 8, VRING_DESC_F_NEXT, 0, -ELOOP },	/* points at itself */
		{ 0, 8, 0, 0, -EFAULT },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t id, len;

		set(&self->desc[0], bad[i].addr, bad[i].len, bad[i].flags, bad[i].next);
		publish(self->avail, 0);
		EXPECT_EQ(bad[i].err, vq_pop(&self->vq, &self->m, false, &self->ch))
			TH_LOG("case %zu", i);
		last_used(self->used, &id, &len);
		EXPECT_EQ(0, id);
		EXPECT_EQ(0, len);
	}
	EXPECT_EQ(sizeof(bad) / sizeof(bad[0]), self->used[1]);
	EXPECT_FALSE(self->vq.broken);
}

TEST_F(ring, chain_length_limit)
{
	/* a 16-entry cycle: never ends, must stop at the queue size */
	for (int i = 0; i < NUM; i++)
		set(&self->desc[i], 0x100000, 1, VRING_DESC_F_NEXT, (uint16_t)((i + 1) % NUM));
	publish(self->avail, 0);
	EXPECT_EQ(-ELOOP, vq_pop(&self->vq, &self->m, false, &self->ch));
}

TEST_F(ring, rx_direction)
{
	set(&self->desc[1], 0x100000 + 0x4000, 4096, VRING_DESC_F_WRITE, 0);
	publish(self->avail, 1);
	EXPECT_EQ(1, vq_pop(&self->vq, &self->m, true, &self->ch));
	set(&self->desc[2], 0x100000 + 0x4000, 4096, 0, 0);
	publish(self->avail, 2);
	EXPECT_EQ(-EINVAL, vq_pop(&self->vq, &self->m, true, &self->ch));
}

TEST_F(ring, head_out_of_range_is_skipped)
{
	publish(self->avail, NUM + 3);
	EXPECT_EQ(-EINVAL, vq_pop(&self->vq, &self->m, false, &self->ch));
	EXPECT_EQ(0, self->used[1]);
	EXPECT_EQ(0, vq_pop(&self->vq, &self->m, false, &self->ch));
}

TEST_F(ring, runaway_avail_index_breaks_queue)
{
	self->avail[1] = NUM + 1;
	EXPECT_EQ(-EIO, vq_pop(&self->vq, &self->m, false, &self->ch));
	EXPECT_TRUE(self->vq.broken);
	EXPECT_EQ(-EIO, vq_pop(&self->vq, &self->m, false, &self->ch));
}

TEST_F(ring, ring_placement_checked)
{
	struct vq vq;

	vq_init(&vq);
	vq.num = NUM;
	vq.desc_uva = 0x7000000 + RAM - 16;	/* table runs off the end */
	vq.avail_uva = 0x7001000;
	vq.used_uva = 0x7002000;
	EXPECT_EQ(-EINVAL, vq_map(&vq, &self->m));
	vq.desc_uva = 0x7000000;
	vq.num = 12;				/* not a power of two */
	EXPECT_EQ(-EINVAL, vq_map(&vq, &self->m));
	vq.num = NUM;
	vq.used_uva = 0x7002001;		/* misaligned */
	EXPECT_EQ(-EINVAL, vq_map(&vq, &self->m));
}

TEST_F(ring, copy_helpers_respect_chain)
{
	uint8_t out[64];

	set(&self->desc[0], 0x100000 + 0x4000, 10, VRING_DESC_F_NEXT, 1);
	set(&self->desc[1], 0x100000 + 0x5000, 10, 0, 0);
	memcpy(self->ram + 0x4000, "0123456789", 10);
	memcpy(self->ram + 0x5000, "abcdefghij", 10);
	publish(self->avail, 0);
	ASSERT_EQ(1, vq_pop(&self->vq, &self->m, false, &self->ch));
	EXPECT_EQ(20, chain_copy_from(&self->ch, 0, out, sizeof(out)));
	EXPECT_EQ(0, memcmp(out, "0123456789abcdefghij", 20));
	EXPECT_EQ(5, chain_copy_from(&self->ch, 15, out, sizeof(out)));
	EXPECT_EQ(0, memcmp(out, "fghij", 5));
	EXPECT_EQ(0, chain_copy_from(&self->ch, 25, out, sizeof(out)));
}

TEST_HARNESS_MAIN
