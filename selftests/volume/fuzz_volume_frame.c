// SPDX-License-Identifier: GPL-2.0
/*
 * selftests/volume/fuzz_volume_frame.c - libFuzzer target for the userspace
 * channel's framing and the request validator: arbitrary guest bytes on a
 * stream are cut into requests (frame_read, with a small read-ahead buffer
 * so the direct-read path runs too) and each request is judged by
 * volume_validate(). Neither may read or write out of bounds or hang.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "fcvm/volume.h"
#include "volume/frame.h"
#include "volume/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *msg;
	struct frame_reader r;
	struct fuse_in_header bad;
	int p[2];
	ssize_t n;

	if (size > 60000)	/* must fit the pipe: the writer is this thread */
		return 0;
	if (!msg)
		msg = malloc(FCVM_VOLUME_MSG_MAX);
	if (!msg || pipe2(p, O_CLOEXEC))
		return 0;
	fcntl(p[1], F_SETPIPE_SZ, 65536);
	if (size && write(p[1], data, size) != (ssize_t)size)
		abort();
	close(p[1]);
	if (frame_reader_init(&r, p[0], 256)) {
		close(p[0]);
		return 0;
	}
	while ((n = frame_read(&r, msg, FCVM_VOLUME_MSG_MAX, &bad)) > 0) {
		int err = 0;
		enum volume_verdict v;

		if ((size_t)n < FCVM_VOLUME_IN_MIN || n > (ssize_t)FCVM_VOLUME_MSG_MAX)
			abort();
		v = volume_validate(msg, (size_t)n, &err);
		if (v == VOLUME_REPLY_ERR && err <= 0)
			abort();
	}
	if (n != 0 && n != -EPROTO && n != -EPIPE)
		abort();
	frame_reader_free(&r);
	close(p[0]);
	return 0;
}
