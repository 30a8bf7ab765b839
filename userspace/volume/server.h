/* SPDX-License-Identifier: GPL-2.0 */
/*
 * volume/server.h - internals of the volume server shared by its parts:
 * the inode and handle tables (inode.c), credentials (creds.c), the
 * passthrough operations (ops.c), the host-change watcher (watch.c) and
 * the session driver (server.c).
 */
#ifndef FCVM_VOLUME_SERVER_H
#define FCVM_VOLUME_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>

#include "volume/volume.h"

/*
 * struct vol_inode - one host inode the guest knows (kernel nlookup > 0)
 * @fd:     O_PATH|O_NOFOLLOW fd; every operation starts from it
 * @nodeid: the FUSE node id the guest uses (never a pointer)
 * @rw_fd, @ro_fd: lazily reopened I/O fds when the kernel skips OPEN
 * @dir_fd, @dir_pos: directory stream when the kernel skips OPENDIR
 */
struct vol_inode {
	struct vol_inode *id_next;
	struct vol_inode *key_next;
	uint64_t nodeid;
	dev_t dev;
	ino_t ino;
	mode_t type;
	int fd;
	uint64_t nlookup;
	unsigned int refs;
	pthread_mutex_t lock;
	int rw_fd;
	int ro_fd;
	int dir_fd;
	off_t dir_pos;
	bool watched;
};

/* An open file or directory handle (fh) when the kernel sends OPEN. */
struct vol_handle {
	struct vol_handle *next;
	uint64_t fh;
	int fd;
	unsigned int refs;
	bool dead;
	pthread_mutex_t lock;
	off_t dir_pos;
};

#define VOL_ID_BUCKETS		65536u
#define VOL_HANDLE_BUCKETS	4096u

struct vol_table {
	pthread_mutex_t lock;
	struct vol_inode **by_id;
	struct vol_inode **by_key;
	struct vol_handle **handles;
	uint64_t next_id;
	uint64_t next_fh;
	struct vol_inode *root;
	unsigned long count;
};

struct vol_session;

struct vol_queue {
	struct vol_session *s;
	unsigned int idx;
	uint64_t unique;	/* of the request being served */
	pthread_t thread;
	bool live;
};

struct vol_watch;

struct vol_session {
	const struct volume_opts *o;
	struct volume_channel *ch;
	struct fuse_session *se;
	struct vol_table t;
	struct vol_watch *watch;
	int proc_fd;		/* /proc/self/fd, to reopen O_PATH fds */
	unsigned int nq;
	struct vol_queue q[64];
	int done_efd;
	bool no_open;		/* answer OPEN/OPENDIR with ENOSYS */
	bool writeback;
	double timeout;
};

int vt_init(struct vol_table *t, int root_fd);
void vt_destroy(struct vol_table *t);
struct vol_inode *vt_get(struct vol_table *t, uint64_t nodeid);
void vt_put(struct vol_table *t, struct vol_inode *in);
int vt_lookup_fd(struct vol_table *t, int fd, const struct stat *st,
		 struct vol_inode **out, bool *created);
void vt_forget(struct vol_table *t, uint64_t nodeid, uint64_t n);
struct vol_inode *vt_find_key(struct vol_table *t, dev_t dev, ino_t ino);
int vt_handle_add(struct vol_table *t, int fd, uint64_t *fh);
struct vol_handle *vt_handle_get(struct vol_table *t, uint64_t fh);
void vt_handle_put(struct vol_table *t, struct vol_handle *h);
int vt_handle_del(struct vol_table *t, uint64_t fh);

int creds_thread_init(void);
int creds_enter(uid_t uid, gid_t gid, bool keep_dac);
void creds_leave(void);

extern const struct fuse_lowlevel_ops vol_ops;
void ops_thread_exit(void);
struct vol_queue *server_cur_queue(void);

int watch_start(struct vol_session *s, struct vol_watch **out);
void watch_stop(struct vol_watch *w);
int watch_dir(struct vol_watch *w, struct vol_inode *dir);

#endif /* FCVM_VOLUME_SERVER_H */
