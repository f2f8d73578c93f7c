/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "dl.h"

#include "index.h"
#include "lock.h"
#include "store.h"

struct store
{
  char *dir;
  int dirfd;  /* <dir> */
  int lockfd; /* <dir>/locks/store, -1 when read-only */
  struct index *idx;
  bool readonly;
};

#define STORE_BLOB_DIR "cas/blob/sha512"
#define STORE_TREE_DIR "cas/tree"
#define STORE_TMP_PREFIX ".tmp-"
#define SHA512_HEX_LEN 128

/* Adders (import, render, copy) share the store lock; removers (rm, gc) take
 * it exclusively, so nothing is removed from under a running import. */
int store_lock(struct store *s, enum lock_mode mode, podrun_error_t *err);
void store_unlock(struct store *s);

/* "cas/blob/sha512/ab/ab…" for "sha512-ab…" (a full id). */
char *store_blob_path(const char *id);
int store_blob_open(struct store *s, const char *id, int *ret_fd, podrun_error_t *err);
/* mkdtemp below dirfd: "<parent>/<prefix>" and random characters; returns
 * its relative path and an fd of it that holds an exclusive flock as long as
 * it is open (its maker is alive: store_sweep_tmp_at leaves it alone). */
int store_mkdtemp_at(int dirfd, const char *parent, const char *prefix, char **ret, int *ret_fd,
                     podrun_error_t *err);
/* Removes every directory "<parent>/<prefix>…" below dirfd that no
 * store_mkdtemp_at caller holds any more: what a killed one left. */
int store_sweep_tmp_at(int dirfd, const char *parent, const char *prefix, podrun_error_t *err);

bool store_id_is_full(const char *id);

/* Removes index row, tree and blob; the caller holds the exclusive lock. */
int store_remove_locked(struct store *s, const char *id, podrun_error_t *err);

static inline void archive_read_freep(struct archive **a)
{
  if (*a)
    sym_archive_read_free(*a);
}
static inline void archive_write_freep(struct archive **a)
{
  if (*a)
    sym_archive_write_free(*a);
}

/* Files written for the user (export): to "<out>.tmp-<random>", fsynced and
 * renamed over out only when complete. output_open refuses an existing out
 * unless overwrite; output_finish renames (ok) or unlinks (!ok) and closes. */
int store_output_open(const char *out, bool overwrite, char **ret_tmp, int *ret_fd, podrun_error_t *err);
int store_output_finish(int fd, char *tmp, const char *out, bool ok, podrun_error_t *err);
