/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ACIs over http(s) into the store. An ACI's id is the sha512 of its
 * uncompressed bytes, known only once it is all here: it is downloaded into
 * a partial file named by its URL (flocked, so gc leaves it alone and a
 * second fetch of the URL waits), its ETag in a flocked file beside it so a
 * fetch after a kill resumes only what is still the same (If-Range), then
 * imported like a local ACI. The remotes table keeps its URL, ETag and
 * max-age: a fresh image costs no request, a stale one a conditional GET. */
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "extract.h"
#include "fetch.h"
#include "store-internal.h"

#define SIG_MAX (1024 * 1024)
#define ETAG_MAX 1024

struct partial
{
  struct store *s;
  char *path, *etag_path; /* relative to the store */
  int fd, efd;
  char *etag; /* of the bytes there, NULL: none (they are not resumed) */
  uint64_t offset;
};

static void partial_close(struct partial *p, bool remove)
{
  if (remove && p->path)
    {
      (void) unlinkat(p->s->dirfd, p->path, 0);
      (void) unlinkat(p->s->dirfd, p->etag_path, 0);
    }
  if (p->fd >= 0)
    close(p->fd);
  if (p->efd >= 0)
    close(p->efd);
  free(p->path);
  free(p->etag_path);
  free(p->etag);
  p->fd = p->efd = -1;
  p->path = p->etag_path = p->etag = NULL;
}

/* Opens and flocks path, again if the one locked was renamed or removed meanwhile. */
static int open_locked(struct store *s, const char *path, int *ret, podrun_error_t *err)
{
  for (;;)
    {
      struct stat a, b;
      int fd = openat(s->dirfd, path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
      if (fd < 0)
        return podrun_error_set(err, errno, "create %s", QUOTE(path));
      if (flock(fd, LOCK_EX) < 0)
        {
          close(fd);
          return podrun_error_set(err, errno, "lock %s", QUOTE(path));
        }
      if (fstat(fd, &a) == 0 && fstatat(s->dirfd, path, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_ino == b.st_ino &&
          a.st_dev == b.st_dev)
        return *ret = fd, 0;
      close(fd);
    }
}

static int partial_open(struct store *s, const char *url, struct partial *p, podrun_error_t *err)
{
  char hash[72];
  struct stat st;
  char buf[ETAG_MAX + 1];

  *p = (struct partial){ .s = s, .fd = -1, .efd = -1 };
  if (registry_sha256(url, strlen(url), hash, err) < 0)
    return -1;
  p->path = xasprintf(STORE_PARTIAL_DIR "/url-%s", hash + 7);
  p->etag_path = xasprintf("%s.etag", p->path);
  if (open_locked(s, p->path, &p->fd, err) < 0 || open_locked(s, p->etag_path, &p->efd, err) < 0)
    return -1;
  ssize_t n = pread(p->efd, buf, ETAG_MAX, 0);
  if (n > 0)
    p->etag = xstrndup(buf, n);
  if (fstat(p->fd, &st) < 0)
    return podrun_error_set(err, errno, "%s", QUOTE(p->path));
  p->offset = st.st_size;
  /* bytes of no known ETag cannot be checked against the server's: start over */
  if (p->offset > 0 && !p->etag)
    {
      if (ftruncate(p->fd, 0) < 0)
        return podrun_error_set(err, errno, "truncate %s", QUOTE(p->path));
      p->offset = 0;
    }
  if (lseek(p->fd, 0, SEEK_END) < 0)
    return podrun_error_set(err, errno, "%s", QUOTE(p->path));
  return 0;
}

static int sink_write(void *ctx, const void *buf, size_t len, podrun_error_t *err)
{
  struct partial *p = ctx;
  const char *b = buf;
  while (len > 0)
    {
      ssize_t n = write(p->fd, b, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return podrun_error_set(err, errno, "write %s", QUOTE(p->path));
      b += n;
      len -= n;
    }
  return 0;
}

static int sink_restart(void *ctx, podrun_error_t *err)
{
  struct partial *p = ctx;
  if (ftruncate(p->fd, 0) < 0 || lseek(p->fd, 0, SEEK_SET) < 0)
    return podrun_error_set(err, errno, "truncate %s", QUOTE(p->path));
  return 0;
}

/* The answer's ETag is the partial's from now on (none: it will not be resumed). */
static int sink_begin(void *ctx, const char *etag, podrun_error_t *err)
{
  struct partial *p = ctx;
  size_t n = etag ? strlen(etag) : 0;
  if (ftruncate(p->efd, 0) < 0 || (n > 0 && n <= ETAG_MAX && pwrite(p->efd, etag, n, 0) != (ssize_t) n))
    return podrun_error_set(err, errno, "write %s", QUOTE(p->etag_path));
  return 0;
}

/* The signature into a temporary file: *ret NULL when the server has none (404). */
static int fetch_signature(struct http *h, const char *url, char **ret, podrun_error_t *err)
{
  struct http_response resp = { 0 };
  _cleanup_free_ char *what = xasprintf("signature %s", QUOTE(url));
  struct http_request req = { .url = url, .what = what, .max = SIG_MAX, .flags = HTTP_GET_ANY_STATUS };
  _cleanup_free_ char *path = NULL;
  int r = 0;

  if (http_get(h, &req, &resp, err) < 0)
    return -1;
  if (resp.status == 404)
    *ret = NULL;
  else if (resp.status < 200 || resp.status >= 300)
    r = podrun_error_new(err, EPROTO, "%s: HTTP %ld", what, resp.status);
  else
    {
      const char *tmp = getenv("TMPDIR");
      path = xasprintf("%s/podrun-signature-XXXXXX", tmp && *tmp ? tmp : "/tmp");
      _cleanup_close_ int fd = mkostemp(path, O_CLOEXEC);
      if (fd < 0)
        r = podrun_error_set(err, errno, "create %s", QUOTE(path));
      else if (write(fd, resp.body, resp.len) != (ssize_t) resp.len)
        {
          r = podrun_error_set(err, errno, "write %s", QUOTE(path));
          (void) unlink(path);
        }
      else
        *ret = TAKE_PTR(path);
    }
  http_response_done(&resp);
  return r;
}

/* The store's image of this URL: 1 (and *ret_id) when the policy or a fresh
 * max-age lets it be used without a request, 0 when it is to be asked for
 * conditionally, -1 when the store has none. */
static int cache_check(struct store *s, const struct store_aci_fetch *f, const struct index_remote *rem,
                       char **ret_id)
{
  _cleanup_store_image_ struct store_image *img = NULL;
  _cleanup_error_ podrun_error_t e = NULL;

  if (!rem->image_id || index_get_image(s->idx, rem->image_id, &img, &e) < 0 || !img)
    return -1; /* not in the store */
  bool fresh = rem->max_age > 0 && store_now_usec() < rem->download_time + rem->max_age * 1000000;
  if (f->policy == STORE_ACI_NEW || (f->policy == STORE_ACI_CACHE && fresh))
    {
      *ret_id = xstrdup(rem->image_id);
      return 1;
    }
  return 0;
}

/* Records a 304's fresh etag and max-age for the image the store has: 1, or 0
 * when that image was removed since cache_check (under the store's lock, so
 * an image rm cannot come between the check and the row). */
static int refresh_remote(struct store *s, const char *url, const struct index_remote *upd, podrun_error_t *err)
{
  _cleanup_store_image_ struct store_image *img = NULL;

  if (store_lock(s, LOCK_MODE_SHARED, err) < 0)
    return -1;
  int r = index_get_image(s->idx, upd->image_id, &img, err);
  if (r == 0 && img)
    r = index_set_remote_row(s->idx, url, upd, err) < 0 ? -1 : 1;
  store_unlock(s);
  return r;
}

/* The spec's rule: the name discovered, and each label asked for with its value. */
static int check_manifest(const struct store_aci_fetch *f, int fd, podrun_error_t *err)
{
  _cleanup_free_ char *manifest = NULL;
  _cleanup_image_manifest_ struct appc_image_manifest *m = NULL;
  struct extract_opts opts = { 0 };
  size_t len = 0;

  if (lseek(fd, 0, SEEK_SET) < 0)
    return podrun_error_set(err, errno, "ACI %s", QUOTE(f->url));
  if (extract_scan_fd(fd, &opts, &manifest, &len, err) < 0)
    return podrun_error_wrap(err, "ACI %s", QUOTE(f->url));
  if (!manifest)
    return podrun_error_new(err, EINVAL, "ACI %s: no manifest", QUOTE(f->url));
  if (appc_image_manifest_parse(manifest, len, &m, err) < 0)
    return podrun_error_wrap(err, "ACI %s", QUOTE(f->url));
  if (!streq(m->name, f->name))
    return podrun_error_new(err, EPERM, "ACI %s: its manifest names %s, not %s (discovery's)", QUOTE(f->url),
                            QUOTE(m->name), QUOTE(f->name));
  for (size_t i = 0; f->labels && i < f->labels->n; i++)
    {
      const struct appc_kv *want = &f->labels->v[i];
      const char *have = appc_kvs_get(&m->labels, want->name);
      if (!streq_ptr(have, want->value))
        return podrun_error_new(err, EPERM, "ACI %s: its label %s is %s, not %s", QUOTE(f->url), QUOTE(want->name),
                                have ? QUOTE(have) : "missing", QUOTE(want->value));
    }
  return lseek(fd, 0, SEEK_SET) < 0 ? podrun_error_set(err, errno, "ACI %s", QUOTE(f->url)) : 0;
}

static int import_partial(struct store *s, const struct store_aci_fetch *f, struct partial *p, const char *sig,
                          const struct index_remote *row, char **ret_id, podrun_error_t *err)
{
  if (f->verify)
    {
      if (lseek(p->fd, 0, SEEK_SET) < 0)
        return podrun_error_set(err, errno, "%s", QUOTE(p->path));
      if (f->verify(f->verify_ctx, p->fd, sig, err) < 0)
        return -1;
    }
  if (f->name && check_manifest(f, p->fd, err) < 0)
    return -1;
  _cleanup_free_ char *abs = xasprintf("%s/%s", s->dir, p->path);
  if (store_import_aci_remote(s, abs, f->url, row, ret_id, err) < 0)
    return podrun_error_wrap(err, "%s", QUOTE(f->url));
  return 0;
}

static int fetch(struct store *s, struct http *h, const struct store_aci_fetch *f, char **ret_id, char **ret_sig,
                 podrun_error_t *err)
{
  struct index_remote rem = { 0 };
  struct partial p = { .fd = -1, .efd = -1 };
  struct http_response resp = { 0 };
  _cleanup_free_ char *sig = NULL, *id = NULL, *what = xasprintf("ACI %s", QUOTE(f->url));
  int r = -1;

  if (index_get_remote_row(s->idx, f->url, &rem, err) < 0)
    return -1;
  int cached = cache_check(s, f, &rem, &id);
  if (cached == 1)
    goto hit;
  if (partial_open(s, f->url, &p, err) < 0)
    goto out;
  /* another fetch of this URL held the partial: what it recorded counts */
  index_remote_done(&rem);
  if (index_get_remote_row(s->idx, f->url, &rem, err) < 0)
    goto out;
  cached = cache_check(s, f, &rem, &id);
  if (cached == 1)
    goto hit;
  struct http_sink sink = { .id = f->url, .size = f->max_size ? f->max_size : STORE_ACI_MAX, .size_unknown = true,
                            .offset = p.offset, .write = sink_write, .restart = sink_restart, .begin = sink_begin,
                            .ctx = &p };
  struct http_request req = { .url = f->url, .what = what, .sink = &sink, .if_range = p.etag,
                              .if_none_match = cached == 0 ? rem.etag : NULL };
  if (http_get(h, &req, &resp, err) < 0)
    goto out;
  if (resp.not_modified)
    {
      struct index_remote upd = { .image_id = rem.image_id, .sig_url = rem.sig_url,
                                  .etag = resp.etag ? resp.etag : rem.etag, .max_age = resp.max_age };
      int kept = refresh_remote(s, f->url, &upd, err);
      if (kept < 0)
        goto out;
      if (kept)
        {
          id = xstrdup(rem.image_id);
          goto hit;
        }
      /* an image rm came between: ask again, unconditionally */
      http_response_done(&resp);
      resp = (struct http_response){ 0 };
      req.if_none_match = NULL;
      if (http_get(h, &req, &resp, err) < 0)
        goto out;
    }
  if (f->sig_url && fetch_signature(h, f->sig_url, &sig, err) < 0)
    goto out;
  struct index_remote row = { .sig_url = (char *) f->sig_url, .etag = resp.etag, .max_age = resp.max_age };
  if (import_partial(s, f, &p, sig, &row, &id, err) < 0)
    goto out;
  if (f->ret_cached)
    *f->ret_cached = false;
  *ret_id = TAKE_PTR(id);
  *ret_sig = TAKE_PTR(sig);
  r = 0;
  goto out;
hit:
  partial_close(&p, p.offset == 0); /* what a killed fetch left stays for the next */
  if (f->ret_cached)
    *f->ret_cached = true;
  *ret_id = TAKE_PTR(id);
  *ret_sig = NULL;
  r = 0;
out:
  if (sig)
    (void) unlink(sig);
  partial_close(&p, true);
  http_response_done(&resp);
  index_remote_done(&rem);
  return r;
}

int store_fetch_aci_url(struct store *s, const struct store_aci_fetch *f, char **ret_id, char **ret_sig_path,
                        podrun_error_t *err)
{
  _cleanup_http_ struct http *h = NULL;
  _cleanup_free_ char *sig = NULL;
  char *id = NULL;

  if (!f->url || !(startswith(f->url, "https://") || startswith(f->url, "http://")))
    return podrun_error_new(err, EINVAL, "fetch %s: not an http(s) URL", QUOTE(f->url ? f->url : ""));
  if (s->readonly)
    return podrun_error_new(err, EROFS, "fetch %s: the store is open read-only", QUOTE(f->url));
  if (http_new(&f->http, &h, err) < 0)
    return -1;
  if (fetch(s, h, f, &id, &sig, err) < 0)
    return -1;
  *ret_id = id;
  if (ret_sig_path)
    *ret_sig_path = TAKE_PTR(sig);
  else if (sig)
    (void) unlink(sig);
  return 0;
}
