/* SPDX-License-Identifier: GPL-2.0 */
/*
 * volume/volume.h - the host side of a volume: serve one shared directory
 * to a guest over a channel (Documentation/volumes.rst).
 */
#ifndef FCVM_VOLUME_VOLUME_H
#define FCVM_VOLUME_VOLUME_H

#include <stdbool.h>

#include "volume/channel.h"

enum volume_cache {
	VOLUME_CACHE_AUTO,	/* long timeouts, host changes pushed as invalidations */
	VOLUME_CACHE_ALWAYS,	/* long timeouts, host tree assumed unchanged */
	VOLUME_CACHE_NEVER,	/* no caching: every access goes to the host */
};

/**
 * struct volume_opts - one shared directory
 * @dir:        host directory
 * @ro:         refuse every write with EROFS
 * @cache:      cache mode
 * @max_queues: refuse mounts with more queues than this (0: no limit)
 * @once:       return after the first mount ends
 */
struct volume_opts {
	const char *dir;
	bool ro;
	enum volume_cache cache;
	unsigned int max_queues;
	bool once;
};

int volume_parse_cache(const char *s, enum volume_cache *out);
const char *volume_cache_name(enum volume_cache c);
int volume_serve(struct volume_channel *ch, const struct volume_opts *o, int stop_fd);

#endif /* FCVM_VOLUME_VOLUME_H */
