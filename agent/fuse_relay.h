/* SPDX-License-Identifier: GPL-2.0 */
/*
 * agent/fuse_relay.h - the guest side of a volume: mount /dev/fuse at the
 * guest path, clone one /dev/fuse fd per queue, pair each with its own
 * stream connection to the host and relay whole FUSE messages both ways.
 * Wire format: include/fcvm/volume.h; design: Documentation/volumes.rst.
 */
#ifndef FCVM_AGENT_FUSE_RELAY_H
#define FCVM_AGENT_FUSE_RELAY_H

#include <stdbool.h>
#include <stdint.h>

#include "transport.h"

/**
 * struct fuse_relay_opts - one volume mount
 * @mount:    guest directory to mount on (must exist)
 * @addr:     where the host serves the volume (vsock:2:5000+N in a guest)
 * @queues:   connections / cloned /dev/fuse fds, 1..FCVM_VOLUME_MAX_QUEUES
 * @ro:       mount read-only
 * @max_read: FUSE max_read mount option (bytes)
 * @uid:      user_id mount option (owner of the mount)
 * @gid:      group_id mount option
 */
struct fuse_relay_opts {
	const char *mount;
	struct transport_addr addr;
	unsigned int queues;
	bool ro;
	uint32_t max_read;
	uint32_t uid;
	uint32_t gid;
};

int fuse_relay_run(const struct fuse_relay_opts *o);
int fuse_relay_main(int argc, char **argv);

#endif /* FCVM_AGENT_FUSE_RELAY_H */
