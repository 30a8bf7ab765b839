// SPDX-License-Identifier: GPL-2.0
/*
 * volume/inode.c - the inode and handle tables of a volume session.
 *
 * The guest names inodes and open files by 64-bit ids it could forge, so
 * ids are table keys, never pointers: an unknown id is simply not found.
 * Inodes are also indexed by (st_dev, st_ino) so one host inode has one
 * node id (hard links, repeated lookups). An inode lives while the kernel
 * holds lookups on it (nlookup) or a request is using it (refs).
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "volume/server.h"

static unsigned int id_bucket(uint64_t id)
{
	return (unsigned int)((id * 0x9E3779B97F4A7C15ull) >> 48) % VOL_ID_BUCKETS;
}

static unsigned int key_bucket(dev_t dev, ino_t ino)
{
	return id_bucket((uint64_t)ino ^ ((uint64_t)dev << 32) ^ (uint64_t)dev);
}

static void inode_free(struct vol_inode *in)
{
	if (in->rw_fd >= 0)
		close(in->rw_fd);
	if (in->ro_fd >= 0)
		close(in->ro_fd);
	if (in->dir_fd >= 0)
		close(in->dir_fd);
	close(in->fd);
	pthread_mutex_destroy(&in->lock);
	free(in);
}

static struct vol_inode *inode_new(int fd, const struct stat *st, uint64_t nodeid)
{
	struct vol_inode *in = calloc(1, sizeof(*in));

	if (!in)
		return NULL;
	in->fd = fd;
	in->nodeid = nodeid;
	in->dev = st->st_dev;
	in->ino = st->st_ino;
	in->type = st->st_mode & S_IFMT;
	in->rw_fd = in->ro_fd = in->dir_fd = -1;
	pthread_mutex_init(&in->lock, NULL);
	return in;
}

static void link_inode(struct vol_table *t, struct vol_inode *in)
{
	unsigned int b = id_bucket(in->nodeid), k = key_bucket(in->dev, in->ino);

	in->id_next = t->by_id[b];
	t->by_id[b] = in;
	in->key_next = t->by_key[k];
	t->by_key[k] = in;
	t->count++;
}

static void unlink_inode(struct vol_table *t, struct vol_inode *in)
{
	struct vol_inode **pp;

	for (pp = &t->by_id[id_bucket(in->nodeid)]; *pp; pp = &(*pp)->id_next)
		if (*pp == in) {
			*pp = in->id_next;
			break;
		}
	for (pp = &t->by_key[key_bucket(in->dev, in->ino)]; *pp; pp = &(*pp)->key_next)
		if (*pp == in) {
			*pp = in->key_next;
			break;
		}
	t->count--;
}

/**
 * vt_init() - an empty table whose node 1 (FUSE_ROOT_ID) is @root_fd
 * @t:       the table
 * @root_fd: O_PATH fd of the shared directory (owned by the table after 0)
 *
 * Return: 0 or -errno.
 */
int vt_init(struct vol_table *t, int root_fd)
{
	struct stat st;

	*t = (struct vol_table){ .next_id = FUSE_ROOT_ID + 1, .next_fh = 1 };
	if (fstat(root_fd, &st) < 0)
		return -errno;
	t->by_id = calloc(VOL_ID_BUCKETS, sizeof(*t->by_id));
	t->by_key = calloc(VOL_ID_BUCKETS, sizeof(*t->by_key));
	t->handles = calloc(VOL_HANDLE_BUCKETS, sizeof(*t->handles));
	t->root = inode_new(root_fd, &st, FUSE_ROOT_ID);
	if (!t->by_id || !t->by_key || !t->handles || !t->root) {
		free(t->by_id);
		free(t->by_key);
		free(t->handles);
		free(t->root);
		return -ENOMEM;
	}
	t->root->nlookup = 1;	/* never forgotten */
	pthread_mutex_init(&t->lock, NULL);
	link_inode(t, t->root);
	return 0;
}

void vt_destroy(struct vol_table *t)
{
	for (unsigned int b = 0; b < VOL_ID_BUCKETS; b++) {
		while (t->by_id[b]) {
			struct vol_inode *in = t->by_id[b];

			t->by_id[b] = in->id_next;
			inode_free(in);
		}
	}
	for (unsigned int b = 0; b < VOL_HANDLE_BUCKETS; b++) {
		while (t->handles[b]) {
			struct vol_handle *h = t->handles[b];

			t->handles[b] = h->next;
			close(h->fd);
			pthread_mutex_destroy(&h->lock);
			free(h);
		}
	}
	free(t->by_id);
	free(t->by_key);
	free(t->handles);
	pthread_mutex_destroy(&t->lock);
}

static struct vol_inode *find_id(struct vol_table *t, uint64_t nodeid)
{
	for (struct vol_inode *in = t->by_id[id_bucket(nodeid)]; in; in = in->id_next)
		if (in->nodeid == nodeid)
			return in;
	return NULL;
}

static struct vol_inode *find_key(struct vol_table *t, dev_t dev, ino_t ino)
{
	for (struct vol_inode *in = t->by_key[key_bucket(dev, ino)]; in; in = in->key_next)
		if (in->dev == dev && in->ino == ino)
			return in;
	return NULL;
}

/* The inode for a guest node id, referenced; NULL if the id is unknown. */
struct vol_inode *vt_get(struct vol_table *t, uint64_t nodeid)
{
	struct vol_inode *in;

	pthread_mutex_lock(&t->lock);
	in = find_id(t, nodeid);
	if (in)
		in->refs++;
	pthread_mutex_unlock(&t->lock);
	return in;
}

static void maybe_free(struct vol_table *t, struct vol_inode *in)
{
	if (in->refs || in->nlookup || in == t->root)
		return;
	unlink_inode(t, in);
	inode_free(in);
}

void vt_put(struct vol_table *t, struct vol_inode *in)
{
	pthread_mutex_lock(&t->lock);
	in->refs--;
	maybe_free(t, in);
	pthread_mutex_unlock(&t->lock);
}

/**
 * vt_lookup_fd() - the inode for a freshly opened O_PATH fd
 * @t:       the table
 * @fd:      the fd; consumed (kept by a new inode or closed)
 * @st:      its stat
 * @out:     the inode, with one lookup counted and one ref held
 * @created: set when the inode is new to the table
 *
 * Return: 0 or -ENOMEM (fd closed).
 */
int vt_lookup_fd(struct vol_table *t, int fd, const struct stat *st,
		 struct vol_inode **out, bool *created)
{
	struct vol_inode *in, *fresh = NULL;

	pthread_mutex_lock(&t->lock);
	in = find_key(t, st->st_dev, st->st_ino);
	if (!in) {
		fresh = inode_new(fd, st, t->next_id);
		if (!fresh) {
			pthread_mutex_unlock(&t->lock);
			close(fd);
			return -ENOMEM;
		}
		t->next_id++;
		link_inode(t, fresh);
		in = fresh;
	}
	in->nlookup++;
	in->refs++;
	pthread_mutex_unlock(&t->lock);
	if (!fresh)
		close(fd);
	if (created)
		*created = fresh != NULL;
	*out = in;
	return 0;
}

struct vol_inode *vt_find_key(struct vol_table *t, dev_t dev, ino_t ino)
{
	struct vol_inode *in;

	pthread_mutex_lock(&t->lock);
	in = find_key(t, dev, ino);
	if (in)
		in->refs++;
	pthread_mutex_unlock(&t->lock);
	return in;
}

void vt_forget(struct vol_table *t, uint64_t nodeid, uint64_t n)
{
	struct vol_inode *in;

	pthread_mutex_lock(&t->lock);
	in = find_id(t, nodeid);
	if (in && in != t->root) {
		in->nlookup = n > in->nlookup ? 0 : in->nlookup - n;
		maybe_free(t, in);
	}
	pthread_mutex_unlock(&t->lock);
}

static unsigned int fh_bucket(uint64_t fh)
{
	return (unsigned int)(fh % VOL_HANDLE_BUCKETS);
}

/* Keep @fd (consumed) under a new handle id. */
int vt_handle_add(struct vol_table *t, int fd, uint64_t *fh)
{
	struct vol_handle *h = calloc(1, sizeof(*h));

	if (!h) {
		close(fd);
		return -ENOMEM;
	}
	h->fd = fd;
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_lock(&t->lock);
	h->fh = t->next_fh++;
	h->next = t->handles[fh_bucket(h->fh)];
	t->handles[fh_bucket(h->fh)] = h;
	pthread_mutex_unlock(&t->lock);
	*fh = h->fh;
	return 0;
}

struct vol_handle *vt_handle_get(struct vol_table *t, uint64_t fh)
{
	struct vol_handle *h;

	pthread_mutex_lock(&t->lock);
	for (h = t->handles[fh_bucket(fh)]; h; h = h->next)
		if (h->fh == fh && !h->dead) {
			h->refs++;
			break;
		}
	pthread_mutex_unlock(&t->lock);
	return h;
}

static void handle_unlink_free(struct vol_table *t, struct vol_handle *h)
{
	for (struct vol_handle **pp = &t->handles[fh_bucket(h->fh)]; *pp; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	close(h->fd);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

void vt_handle_put(struct vol_table *t, struct vol_handle *h)
{
	pthread_mutex_lock(&t->lock);
	if (--h->refs == 0 && h->dead)
		handle_unlink_free(t, h);
	pthread_mutex_unlock(&t->lock);
}

/* RELEASE: the handle goes when its last user is done. */
int vt_handle_del(struct vol_table *t, uint64_t fh)
{
	struct vol_handle *h;

	pthread_mutex_lock(&t->lock);
	for (h = t->handles[fh_bucket(fh)]; h; h = h->next)
		if (h->fh == fh && !h->dead)
			break;
	if (h) {
		h->dead = true;
		if (!h->refs)
			handle_unlink_free(t, h);
	}
	pthread_mutex_unlock(&t->lock);
	return h ? 0 : -EBADF;
}
