// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_kframe.c - libFuzzer target for include/fcvm/fuse_frame.h, the FUSE
 * frame checks fcvm_accel.ko runs on every byte a guest sends.
 *
 * The input is treated as a guest's stream: it is cut into frames exactly as
 * kmod/chan.c does (header, fcvm_frame_in_len(), the rest of the frame,
 * fcvm_frame_classify()), each frame in its own exactly-sized allocation so
 * ASan catches any read past it; the same bytes are also checked as server
 * replies with fcvm_frame_reply_ok(). Invariants the module relies on are
 * asserted: a fast-path candidate's payload lies inside its frame and a
 * WRITE's size is its payload; an accepted reply's len is what was written.
 *
 * make fuzz F=fuzz_kframe FUZZ_SECONDS=60
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <fcvm/fuse_frame.h>

#define MAX_FRAME	(1U << 20)

static void check_frame(const uint8_t *p, uint32_t len)
{
	uint8_t *f = malloc(len);
	struct fcvm_frame_io io;
	int kind;

	if (!f)
		abort();
	memcpy(f, p, len);
	memset(&io, 0, sizeof(io));
	kind = fcvm_frame_classify(f, len, &io);
	if (kind < FCVM_FRAME_SLOW || kind > FCVM_FRAME_WRITE)
		abort();
	if (kind == FCVM_FRAME_WRITE) {
		const uint8_t *d = io.data;

		if (d != f + FCVM_FRAME_IN_HDR + sizeof(struct fuse_write_in) ||
		    (uint64_t)io.size + (uint64_t)(d - f) != len)
			abort();
	}
	if (kind == FCVM_FRAME_READ &&
	    (io.data || len != FCVM_FRAME_IN_HDR + sizeof(struct fuse_read_in)))
		abort();
	free(f);
}

static void check_reply(const uint8_t *p, size_t size)
{
	struct fuse_out_header o;

	if (size < FCVM_FRAME_OUT_HDR)
		return;
	if (!fcvm_frame_reply_ok(p, size, MAX_FRAME))
		return;
	memcpy(&o, p, sizeof(o));
	if (o.len != size || size > MAX_FRAME || (o.unique && o.error > 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	check_reply(data, size);
	while (size - off >= FCVM_FRAME_IN_HDR) {
		uint32_t len = fcvm_frame_in_len(data + off, MAX_FRAME);

		if (!len)
			break;		/* the module answers -EIO and closes */
		if (len > size - off)
			break;		/* the module waits for more */
		check_frame(data + off, len);
		off += len;
	}
	return 0;
}
