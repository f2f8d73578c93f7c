/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The trust store (trustedkeys/root.d, trustedkeys/prefix.d) and signature
 * verification with gpgme. gpg is only ever run in a private home made for
 * one call, holding the keys that call needs, with autostart of gpg-agent
 * and dirmngr off (neither is needed for public keys): nothing of the
 * user's keyring is read or written and nothing is left running. */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "dl.h"
#include "fs.h"
#include "log.h"
#include "appc.h"
#include "trust.h"
#include "trust-internal.h"

#define KEY_MAX (1024 * 1024)      /* an armored public key file */
#define SIG_MAX (16 * 1024 * 1024) /* a detached signature file */
#define ROOT_D "root.d"
#define PREFIX_D "prefix.d"

/* ---- names ---------------------------------------------------------------- */

/* An AC identifier whose path components are neither empty nor "." or "..". */
static bool prefix_is_valid(const char *p)
{
  if (!p || !appc_identifier_is_valid(p) || strchr(p, ','))
    return false;
  for (const char *c = p;;)
    {
      size_t n = strcspn(c, "/");
      if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
        return false;
      if (!c[n])
        return true;
      c += n + 1;
    }
}

char *trust_escape_prefix(const char *prefix)
{
  if (!prefix_is_valid(prefix))
    return NULL;
  char *s = xstrdup(prefix);
  for (char *c = s; *c; c++)
    if (*c == '/')
      *c = ',';
  return s;
}

char *trust_unescape_prefix(const char *dirname)
{
  char *s = xstrdup(dirname);
  for (char *c = s; *c; c++)
    if (*c == ',')
      *c = '/';
  if (!prefix_is_valid(s))
    {
      free(s);
      return NULL;
    }
  return s;
}

bool trust_prefix_covers(const char *prefix, const char *name)
{
  size_t n = strlen(prefix);
  if (n == 0 || strncmp(prefix, name, n) != 0)
    return false;
  return name[n] == '\0' || name[n] == '/';
}

char *trust_normalize_fingerprint(const char *s)
{
  char *out = xmalloc(strlen(s) + 1);
  size_t n = 0;
  for (; *s; s++)
    {
      if (*s == ' ')
        continue;
      if (!isxdigit((unsigned char) *s))
        {
          free(out);
          return NULL;
        }
      out[n++] = (char) tolower((unsigned char) *s);
    }
  out[n] = '\0';
  if (n != 40 && n != 64)
    {
      free(out);
      return NULL;
    }
  return out;
}

static char *lower(const char *s)
{
  char *l = xstrdup(s ? s : "");
  for (char *c = l; *c; c++)
    *c = (char) tolower((unsigned char) *c);
  return l;
}

static int64_t now_usec(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void trust_key_done(struct trust_key *k)
{
  free(k->prefix);
  free(k->fingerprint);
  free(k->uid);
  free(k->file);
  *k = (struct trust_key){ 0 };
}

void trust_key_list_free(struct trust_key *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    trust_key_done(&v[i]);
  free(v);
}

void trust_result_done(struct trust_result *r)
{
  free(r->fingerprint);
  free(r->prefix);
  *r = (struct trust_result){ 0 };
}

/* ---- a private gpg home --------------------------------------------------- */

struct home
{
  char *dir;
  int fd; /* of dir, flocked for the home's life: a live podrun's home is never swept */
  gpgme_ctx_t ctx;
};

#define HOME_PREFIX "podrun-gpg-"

static void home_close(struct home *h)
{
  if (h->ctx)
    sym_gpgme_release(h->ctx);
  if (h->dir)
    {
      _cleanup_error_ podrun_error_t e = NULL;
      if (fs_rm_rf_at(AT_FDCWD, h->dir, &e) < 0)
        log_debug("remove %s: %s, ignoring", h->dir, e->msg);
      free(h->dir);
    }
  if (h->fd >= 0)
    close(h->fd); /* the lock goes after the directory */
  *h = (struct home){ .fd = -1 };
}

static int gpgme_fail(podrun_error_t *err, const char *what, gpgme_error_t e)
{
  return podrun_error_new(err, EIO, "%s: %s", what, sym_gpgme_strerror(e));
}

/* fd is what dirfd/name names now, and is ours. */
static bool is_home(int dirfd, const char *name, int fd)
{
  struct stat a, b;
  return fstat(fd, &a) == 0 && fstatat(dirfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino && S_ISDIR(a.st_mode) && a.st_uid == geteuid();
}

/* The homes a killed podrun left in tmp: ours (same owner), no podrun
 * holding their lock. The sweeper holds the lock while it removes one, so
 * a maker that meets it locked makes another. */
static void sweep_homes(const char *tmp)
{
  _cleanup_close_ int tfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  _cleanup_closedir_ DIR *d = tfd >= 0 ? fdopendir(fcntl(tfd, F_DUPFD_CLOEXEC, 3)) : NULL;
  struct dirent *de;

  while (d && (de = readdir(d)))
    {
      if (!startswith(de->d_name, HOME_PREFIX))
        continue;
      _cleanup_close_ int fd = openat(tfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
      if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0 || !is_home(tfd, de->d_name, fd))
        continue;
      _cleanup_error_ podrun_error_t e = NULL;
      if (fs_rm_rf_at(tfd, de->d_name, &e) < 0)
        log_debug("remove %s/%s: %s, ignoring", tmp, de->d_name, e->msg);
      else
        log_debug("removed %s/%s, a gpg home a killed podrun left", tmp, de->d_name);
    }
}

/* mkdtemp (0700), locked; made again if a sweeper took it before the lock. */
static int home_make(struct home *h, const char *tmp, podrun_error_t *err)
{
  for (int attempt = 0; attempt < 100; attempt++)
    {
      _cleanup_free_ char *tmpl = xasprintf("%s/" HOME_PREFIX "XXXXXX", tmp);
      if (!mkdtemp(tmpl))
        return podrun_error_set(err, errno, "make a gpg home in %s", QUOTE(tmp));
      _cleanup_close_ int fd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
      if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0 || !is_home(AT_FDCWD, tmpl, fd))
        continue;
      h->dir = TAKE_PTR(tmpl);
      h->fd = TAKE_FD(fd);
      return 0;
    }
  return podrun_error_set(err, EEXIST, "make a gpg home in %s", QUOTE(tmp));
}

static int home_open(struct home *h, podrun_error_t *err)
{
  const char *env = getenv("TMPDIR");
  const char *tmp = env && *env == '/' ? env : "/tmp";
  gpgme_error_t e;

  *h = (struct home){ .fd = -1 };
  if (dl_load_gpgme(err) < 0)
    return -1;
  sweep_homes(tmp);
  if (home_make(h, tmp, err) < 0)
    return -1;
  /* public keys need no agent, and nothing here may ask a keyserver */
  static const char conf[] = "no-autostart\nno-auto-key-retrieve\nno-auto-key-locate\n";
  _cleanup_free_ char *conf_path = xasprintf("%s/gpg.conf", h->dir);
  if (fs_write_file_atomic_at(AT_FDCWD, conf_path, conf, sizeof(conf) - 1, 0600, err) < 0)
    goto fail;
  if ((e = sym_gpgme_new(&h->ctx)) || (e = sym_gpgme_set_protocol(h->ctx, GPGME_PROTOCOL_OpenPGP)) ||
      (e = sym_gpgme_ctx_set_engine_info(h->ctx, GPGME_PROTOCOL_OpenPGP, NULL, h->dir)))
    {
      if (gpgme_err_code(e) == GPG_ERR_INV_ENGINE)
        podrun_error_new(err, ENOENT, "gpgme: no usable gpg (package gnupg): %s", sym_gpgme_strerror(e));
      else
        gpgme_fail(err, "gpgme", e);
      goto fail;
    }
  return 0;
fail:
  home_close(h);
  return -1;
}

static void data_releasep(gpgme_data_t *d)
{
  if (*d)
    sym_gpgme_data_release(*d);
}
#define _cleanup_data_ _cleanup_(data_releasep)

static void key_unrefp(gpgme_key_t *k)
{
  if (*k)
    sym_gpgme_key_unref(*k);
}
#define _cleanup_key_ _cleanup_(key_unrefp)

/* Imports one armored public key; its primary fingerprint, lower case. */
static int home_import(struct home *h, const char *armored, size_t len, char **ret_fpr, podrun_error_t *err)
{
  _cleanup_data_ gpgme_data_t d = NULL;
  _cleanup_free_ char *text = xstrndup(armored, len);
  gpgme_error_t e;

  /* a secret key would need gpg-agent to import, and has no business here */
  if (strstr(text, "PRIVATE KEY BLOCK-----"))
    return podrun_error_new(err, EINVAL, "a secret key: give the public key (gpg --armor --export KEY)");
  if (!strstr(text, "-----BEGIN PGP PUBLIC KEY BLOCK-----"))
    return podrun_error_new(err, EINVAL, "not an armored OpenPGP public key (gpg --armor --export KEY)");
  if ((e = sym_gpgme_data_new_from_mem(&d, armored, len, 0)) || (e = sym_gpgme_op_import(h->ctx, d)))
    return gpgme_fail(err, "import key", e);
  gpgme_import_result_t r = sym_gpgme_op_import_result(h->ctx);
  if (!r || r->considered == 0 || !r->imports || !r->imports->fpr)
    return podrun_error_new(err, EINVAL, "holds no OpenPGP public key");
  if (r->secret_read)
    return podrun_error_new(err, EINVAL, "a secret key: give the public key (gpg --armor --export KEY)");
  if (r->considered > 1)
    return podrun_error_new(err, EINVAL, "holds %d keys; give one key per file", r->considered);
  if (r->imports->result)
    return gpgme_fail(err, "import key", r->imports->result);
  *ret_fpr = lower(r->imports->fpr);
  return 0;
}

static int home_get_key(struct home *h, const char *fpr, gpgme_key_t *ret, podrun_error_t *err)
{
  gpgme_error_t e = sym_gpgme_op_keylist_start(h->ctx, fpr, 0);
  if (!e)
    e = sym_gpgme_op_keylist_next(h->ctx, ret);
  (void) sym_gpgme_op_keylist_end(h->ctx);
  if (e)
    return gpgme_fail(err, "read key", e);
  return 0;
}

static char *format_date(long t)
{
  char buf[32];
  time_t tt = (time_t) t;
  struct tm tm;
  strftime(buf, sizeof(buf), "%Y-%m-%d", gmtime_r(&tt, &tm));
  return xstrdup(buf);
}

/* Expired or revoked now: the reason, else NULL. */
static char *key_unusable(gpgme_key_t k)
{
  if (k->revoked || (k->subkeys && k->subkeys->revoked))
    return xstrdup("revoked");
  if (k->expired || (k->subkeys && k->subkeys->expired))
    {
      _cleanup_free_ char *d = k->subkeys && k->subkeys->expires ? format_date(k->subkeys->expires) : NULL;
      return d ? xasprintf("expired on %s", d) : xstrdup("expired");
    }
  return NULL;
}

static void describe_key(gpgme_key_t k, struct trust_key *ret)
{
  *ret = (struct trust_key){ .prefix = xstrdup(""), .file = xstrdup("") };
  ret->fingerprint = lower(k->subkeys ? k->subkeys->fpr : k->fpr);
  ret->uid = xstrdup(k->uids && k->uids->uid ? k->uids->uid : "");
}

int trust_key_describe(const char *armored, size_t len, struct trust_key *ret, podrun_error_t *err)
{
  struct home h;
  _cleanup_free_ char *fpr = NULL, *why = NULL;
  _cleanup_key_ gpgme_key_t k = NULL;
  int r = -1;

  if (home_open(&h, err) < 0)
    return -1;
  if (home_import(&h, armored, len, &fpr, err) < 0 || home_get_key(&h, fpr, &k, err) < 0)
    goto out;
  if ((why = key_unusable(k)))
    {
      podrun_error_new(err, EINVAL, "key %s is %s", fpr, why);
      goto out;
    }
  describe_key(k, ret);
  r = 0;
out:
  home_close(&h);
  return r;
}

/* ---- the store's files ---------------------------------------------------- */

static char *key_dir(const char *dir, const char *escaped)
{
  return escaped ? xasprintf("%s/" PREFIX_D "/%s", dir, escaped) : xasprintf("%s/" ROOT_D, dir);
}

int trust_add(const char *local_dir, const char *prefix, const char *armored, size_t len, struct trust_key *ret,
              podrun_error_t *err)
{
  _cleanup_free_ char *escaped = NULL, *dir = NULL, *path = NULL;
  struct trust_key k = { 0 };

  if (prefix && !(escaped = trust_escape_prefix(prefix)))
    return podrun_error_new(err, EINVAL, "prefix %s: not an image name prefix (like example.com/app)",
                            QUOTE(prefix));
  if (trust_key_describe(armored, len, &k, err) < 0)
    return -1;
  dir = key_dir(local_dir, escaped);
  path = xasprintf("%s/%s", dir, k.fingerprint);
  if (fs_mkdir_p(dir, 0755, err) < 0 || fs_write_file_atomic_at(AT_FDCWD, path, armored, len, 0644, err) < 0 ||
      chmod(path, 0644) < 0)
    {
      if (!*err)
        podrun_error_set(err, errno, "chmod %s", QUOTE(path));
      trust_key_done(&k);
      return -1;
    }
  free(k.prefix);
  k.prefix = xstrdup(prefix ? prefix : "");
  free(k.file);
  k.file = TAKE_PTR(path);
  *ret = k;
  return 0;
}

static int no_dots(const struct dirent *d)
{
  return d->d_name[0] != '.';
}

/* The names in dir, sorted, without dot files; none when it is missing. */
static int list_dir(const char *dir, char ***ret, podrun_error_t *err)
{
  struct dirent **ents = NULL;
  int n = scandir(dir, &ents, no_dots, alphasort);
  char **v = NULL;

  *ret = NULL;
  if (n < 0)
    return errno == ENOENT || errno == ENOTDIR ? 0 : podrun_error_set(err, errno, "read %s", QUOTE(dir));
  for (int i = 0; i < n; i++)
    {
      v = strv_push(v, ents[i]->d_name);
      free(ents[i]);
    }
  free(ents);
  *ret = v;
  return 0;
}

/* A file of the store, named by a fingerprint, with the prefix it is for. */
struct entry
{
  char *prefix; /* "" for root */
  char *fpr;
  char *path;
  bool system;
  bool mask;       /* an empty file of the local set: masks the system's key of its name */
  char *masked_by; /* a system key masked: the local set's empty file */
};

static void entry_done(struct entry *e)
{
  free(e->prefix);
  free(e->fpr);
  free(e->path);
  free(e->masked_by);
}

static void entries_free(struct entry *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    entry_done(&v[i]);
  free(v);
}

/* The keys files of one directory (root.d or one prefix's). */
static int collect_dir(const char *dir, const char *prefix, bool system, struct entry **v, size_t *n,
                       podrun_error_t *err)
{
  _cleanup_strv_ char **names = NULL;
  if (list_dir(dir, &names, err) < 0)
    return -1;
  for (size_t i = 0; names && names[i]; i++)
    {
      char *fpr = trust_normalize_fingerprint(names[i]);
      if (!fpr || !streq(fpr, names[i])) /* a stray file, or an atomic write's temporary */
        {
          free(fpr);
          continue;
        }
      /* an empty file is no key: in the local set, rkt's mask of the system's key of that name */
      char *path = xasprintf("%s/%s", dir, names[i]);
      struct stat st;
      bool empty = stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0;
      if (empty && system)
        {
          free(fpr);
          free(path);
          continue;
        }
      *v = xrealloc(*v, sizeof(**v) * (*n + 1));
      (*v)[(*n)++] = (struct entry){ .prefix = xstrdup(prefix), .fpr = fpr, .path = path, .system = system,
                                     .mask = empty };
    }
  return 0;
}

/* Every file of a trustedkeys directory; only the prefixes covering name
 * when name is not NULL. */
static int collect_all(const char *tdir, bool system, const char *name, struct entry **v, size_t *n,
                       podrun_error_t *err)
{
  if (!tdir)
    return 0;
  _cleanup_free_ char *root = key_dir(tdir, NULL), *pdir = xasprintf("%s/" PREFIX_D, tdir);
  _cleanup_strv_ char **prefixes = NULL;
  if (collect_dir(root, "", system, v, n, err) < 0 || list_dir(pdir, &prefixes, err) < 0)
    return -1;
  for (size_t i = 0; prefixes && prefixes[i]; i++)
    {
      _cleanup_free_ char *prefix = trust_unescape_prefix(prefixes[i]);
      _cleanup_free_ char *dir = xasprintf("%s/%s", pdir, prefixes[i]);
      if (!prefix || (name && !trust_prefix_covers(prefix, name)))
        continue;
      if (collect_dir(dir, prefix, system, v, n, err) < 0)
        return -1;
    }
  return 0;
}

/* The keys trusted (for name, or all when NULL): the system set's, then
 * the local set's, with rkt's masking applied. A local file of the same
 * prefix and name as a system key replaces it: an empty one masks it (the
 * key is not trusted; with keep_masked it is kept, masked_by set, for the
 * listing), a key is trusted from the local copy. The masks themselves are
 * not entries. Every reader of the trust store collects through here. */
static int collect_trusted(const char *local_dir, const char *system_dir, const char *name, bool keep_masked,
                           struct entry **ret, size_t *ret_n, podrun_error_t *err)
{
  struct entry *v = NULL;
  size_t n = 0, out = 0;

  if (collect_all(system_dir, true, name, &v, &n, err) < 0 || collect_all(local_dir, false, name, &v, &n, err) < 0)
    {
      entries_free(v, n);
      return -1;
    }
  for (size_t i = 0; i < n; i++)
    {
      bool drop = v[i].mask;
      for (size_t j = 0; v[i].system && j < n && !drop && !v[i].masked_by; j++)
        if (!v[j].system && streq(v[j].prefix, v[i].prefix) && streq(v[j].fpr, v[i].fpr))
          {
            if (v[j].mask)
              v[i].masked_by = xstrdup(v[j].path);
            else
              drop = true; /* the local copy is the one */
          }
      if (v[i].masked_by && !keep_masked)
        drop = true;
      if (drop)
        entry_done(&v[i]);
      else
        v[out++] = v[i];
    }
  *ret = v;
  *ret_n = out;
  return 0;
}

/* Imports the entry's file, which must hold the key its name says; the
 * error does not name the file (import_entry's does). */
static int import_file(struct home *h, const struct entry *e, podrun_error_t *err)
{
  _cleanup_free_ char *text = NULL, *fpr = NULL;
  size_t len = 0;
  if (fs_read_file_at(AT_FDCWD, e->path, KEY_MAX, &text, &len, err) < 0 || home_import(h, text, len, &fpr, err) < 0)
    return -1;
  if (!streq(fpr, e->fpr))
    return podrun_error_new(err, EINVAL, "holds key %s, not the one its name says", fpr);
  return 0;
}

static int import_entry(struct home *h, const struct entry *e, podrun_error_t *err)
{
  if (import_file(h, e, err) < 0)
    return podrun_error_wrap(err, "trusted key %s", QUOTE(e->path));
  return 0;
}

static void list_entry(struct home *h, const struct entry *e, struct trust_key *k)
{
  _cleanup_error_ podrun_error_t ie = NULL;
  _cleanup_key_ gpgme_key_t key = NULL;
  _cleanup_free_ char *why = NULL;

  *k = (struct trust_key){ .prefix = xstrdup(e->prefix), .fingerprint = xstrdup(e->fpr),
                           .file = xstrdup(e->path), .system = e->system, .masked = e->masked_by != NULL };
  if (e->masked_by)
    {
      k->uid = xasprintf("(masked by %s)", e->masked_by);
      return;
    }
  if (import_file(h, e, &ie) < 0 || home_get_key(h, e->fpr, &key, &ie) < 0)
    {
      k->uid = xasprintf("(unreadable: %s)", ie->msg);
      return;
    }
  why = key_unusable(key);
  const char *uid = key->uids && key->uids->uid ? key->uids->uid : "";
  k->uid = why ? xasprintf("%s (%s)", uid, why) : xstrdup(uid);
}

int trust_list(const char *local_dir, const char *system_dir, struct trust_key **ret, size_t *ret_n,
               podrun_error_t *err)
{
  struct entry *v = NULL;
  size_t n = 0;
  struct trust_key *keys = NULL;
  struct home h;

  if (collect_trusted(local_dir, system_dir, NULL, true, &v, &n, err) < 0)
    return -1;
  if (n > 0 && home_open(&h, err) < 0)
    goto fail;
  keys = xzalloc(sizeof(*keys) * (n ? n : 1));
  for (size_t i = 0; i < n; i++)
    list_entry(&h, &v[i], &keys[i]);
  if (n > 0)
    home_close(&h);
  entries_free(v, n);
  *ret = keys;
  *ret_n = n;
  return 0;
fail:
  entries_free(v, n);
  return -1;
}

int trust_remove(const char *local_dir, const char *system_dir, const char *fingerprint, char ***ret_files,
                 podrun_error_t *err)
{
  _cleanup_free_ char *fpr = trust_normalize_fingerprint(fingerprint);
  struct entry *v = NULL;
  size_t n = 0;
  char **removed = NULL;
  const char *system_file = NULL;
  int r = -1;

  if (!fpr)
    return podrun_error_new(err, EINVAL, "%s: not a key fingerprint (40 hex digits; see podrun trust --list)",
                            QUOTE(fingerprint));
  if (collect_all(local_dir, false, NULL, &v, &n, err) < 0 || collect_all(system_dir, true, NULL, &v, &n, err) < 0)
    goto out;
  for (size_t i = 0; i < n; i++)
    {
      if (!streq(v[i].fpr, fpr) || v[i].mask) /* a mask stays: removing it would trust the system's key again */
        continue;
      if (v[i].system)
        {
          system_file = system_file ? system_file : v[i].path;
          continue;
        }
      if (unlink(v[i].path) < 0 && errno != ENOENT)
        {
          podrun_error_set(err, errno, "remove %s", QUOTE(v[i].path));
          goto out;
        }
      removed = strv_push(removed, v[i].path);
      if (*v[i].prefix) /* its prefix's directory goes with its last key */
        {
          _cleanup_free_ char *dir = xstrdup(v[i].path);
          *strrchr(dir, '/') = '\0';
          (void) rmdir(dir);
        }
    }
  if (!removed && system_file)
    podrun_error_new(err, EPERM,
                     "key %s is trusted by the system configuration (%s), which is read-only; mask it with an empty "
                     "file of its name in the local set (see podrun trust --help)",
                     fpr, ESCAPE(system_file));
  else if (!removed)
    podrun_error_new(err, ENOENT, "no key %s is trusted (see podrun trust --list)", fpr);
  else
    {
      *ret_files = TAKE_PTR(removed);
      r = 0;
    }
out:
  strv_free(removed);
  entries_free(v, n);
  return r;
}

/* ---- verification --------------------------------------------------------- */

/* The primary fingerprint of the key in the store (any prefix, local or
 * system) that has the key or subkey sig_fpr, imported into h; NULL if none. */
static char *primary_of(struct home *h, const struct entry *v, size_t n, const char *sig_fpr)
{
  _cleanup_free_ char *id = lower(sig_fpr);
  for (size_t i = 0; i < n && strlen(id) >= 16; i++)
    {
      _cleanup_error_ podrun_error_t ignored = NULL;
      _cleanup_key_ gpgme_key_t k = NULL;
      if (import_entry(h, &v[i], &ignored) < 0 || home_get_key(h, v[i].fpr, &k, &ignored) < 0)
        continue;
      for (gpgme_subkey_t s = k->subkeys; s; s = s->next)
        {
          _cleanup_free_ char *sf = lower(s->fpr);
          if (endswith(sf, id))
            return xstrdup(v[i].fpr);
        }
    }
  return NULL;
}

/* What the store trusts the key that made a signature (sig_fpr: its key's
 * or subkey's fingerprint or long id) for, quoted and comma-separated, and
 * that key's primary fingerprint; NULL if nothing. */
static char *trusted_for(struct home *h, const char *local_dir, const char *system_dir, const char *sig_fpr,
                         char **ret_primary)
{
  _cleanup_error_ podrun_error_t ignored = NULL;
  struct entry *v = NULL;
  size_t n = 0;
  char *out = NULL;

  (void) collect_trusted(local_dir, system_dir, NULL, false, &v, &n, &ignored);
  _cleanup_free_ char *primary = primary_of(h, v, n, sig_fpr);
  for (size_t i = 0; primary && i < n; i++)
    {
      if (!streq(v[i].fpr, primary))
        continue;
      _cleanup_free_ char *old = out;
      const char *what = *v[i].prefix ? QUOTE(v[i].prefix) : "every name (root)";
      out = old ? xasprintf("%s, %s", old, what) : xstrdup(what);
    }
  entries_free(v, n);
  *ret_primary = TAKE_PTR(primary);
  return out;
}

/* The entry whose key has the subkey (or is the key) that made sig, and
 * that key; the longest prefix wins (root keys are "", the shortest). */
static const struct entry *find_signer(struct home *h, const struct entry *v, size_t n, const char *sig_fpr,
                                       gpgme_key_t *ret_key)
{
  _cleanup_free_ char *id = lower(sig_fpr);
  const struct entry *best = NULL;

  for (size_t i = 0; i < n && *id; i++)
    {
      _cleanup_error_ podrun_error_t ignored = NULL;
      _cleanup_key_ gpgme_key_t k = NULL;
      bool match = false;
      if (home_get_key(h, v[i].fpr, &k, &ignored) < 0)
        continue;
      for (gpgme_subkey_t s = k->subkeys; s && !match; s = s->next)
        {
          _cleanup_free_ char *sf = lower(s->fpr);
          match = s->fpr && endswith(sf, id) && strlen(id) >= 16;
        }
      if (match && (!best || strlen(v[i].prefix) > strlen(best->prefix)))
        {
          best = &v[i];
          if (*ret_key)
            sym_gpgme_key_unref(*ret_key);
          *ret_key = TAKE_PTR(k);
        }
    }
  return best;
}

/* One signature of the file: 0 and *ret filled when it is acceptable. */
static int judge(struct home *h, const struct entry *v, size_t n, const char *sig_fpr, gpgme_error_t status,
                 const char *local_dir, const char *system_dir, const char *name, struct trust_result *ret,
                 podrun_error_t *err)
{
  _cleanup_key_ gpgme_key_t key = NULL;
  _cleanup_free_ char *why = NULL, *id = lower(sig_fpr);
  const struct entry *e = find_signer(h, v, n, sig_fpr, &key);
  gpgme_err_code_t code = gpgme_err_code(status);

  if (code == GPG_ERR_BAD_SIGNATURE)
    return podrun_error_new(err, EINVAL, "bad signature");
  if (code == GPG_ERR_SIG_EXPIRED)
    return podrun_error_new(err, EINVAL, "the signature by key %s has expired", id);
  if (!e || code == GPG_ERR_NO_PUBKEY)
    {
      _cleanup_free_ char *primary = NULL;
      _cleanup_free_ char *elsewhere = trusted_for(h, local_dir, system_dir, id, &primary);
      if (elsewhere)
        return podrun_error_new(err, EPERM, "signed by key %s, which is trusted for %s, not for %s or a prefix of it",
                                primary, elsewhere, QUOTE(name));
      return podrun_error_new(err, EPERM, "signed by key %s, which is not trusted (podrun trust --prefix=%s KEY)",
                              id, ESCAPE(name));
    }
  _cleanup_free_ char *fpr = lower(key->subkeys->fpr);
  if ((why = key_unusable(key)) || code == GPG_ERR_KEY_EXPIRED || code == GPG_ERR_CERT_REVOKED)
    {
      if (!why)
        why = xstrdup(code == GPG_ERR_CERT_REVOKED ? "revoked" : "expired");
      return podrun_error_new(err, EPERM, "signed by key %s, which is %s", fpr, why);
    }
  if (code != GPG_ERR_NO_ERROR)
    return podrun_error_new(err, EINVAL, "signature by key %s: %s", id, sym_gpgme_strerror(status));
  *ret = (struct trust_result){ .fingerprint = TAKE_PTR(fpr), .prefix = xstrdup(e->prefix),
                                .verified_time = now_usec() };
  return 0;
}

static int no_key_error(const char *name, podrun_error_t *err)
{
  return podrun_error_new(err, EPERM,
                          "no key is trusted for %s or a prefix of it; trust one with podrun trust --prefix=%s KEY",
                          QUOTE(name), ESCAPE(name));
}

/* sig against data (a detached signature), or sig alone with its signed
 * text written to plain (an attached one: data NULL), by the keys v. */
static int verify_data(struct home *h, const struct entry *v, size_t n, const char *local_dir, const char *system_dir,
                       const char *name, gpgme_data_t sig, gpgme_data_t data, gpgme_data_t plain,
                       struct trust_result *ret, podrun_error_t *err)
{
  _cleanup_error_ podrun_error_t first = NULL;
  gpgme_error_t e;

  for (size_t i = 0; i < n; i++)
    if (import_entry(h, &v[i], err) < 0)
      return -1;
  e = sym_gpgme_op_verify(h->ctx, sig, data, plain);
  gpgme_verify_result_t r = e ? NULL : sym_gpgme_op_verify_result(h->ctx);
  /* gpg parses what it is given and fails with whatever it met first (no
   * data, bad data, a key where a signature should be: "general error");
   * only gpg itself missing or failing is not about the file */
  if (e && (gpgme_err_code(e) == GPG_ERR_INV_ENGINE || gpgme_err_code(e) == GPG_ERR_ENOMEM ||
            gpgme_err_code(e) == GPG_ERR_ENOENT))
    return gpgme_fail(err, "verify", e);
  if (!r || !r->signatures)
    return podrun_error_new(err, EINVAL, "not a signature");
  /* the result lives until the next operation on the context, and judging
   * lists keys: what is judged is copied first */
  _cleanup_strv_ char **fprs = NULL;
  gpgme_error_t status[16];
  size_t nsig = 0;
  for (gpgme_signature_t s = r->signatures; s && nsig < ELEMENTSOF(status); s = s->next, nsig++)
    {
      fprs = strv_push(fprs, s->fpr ? s->fpr : "");
      status[nsig] = s->status;
    }
  for (size_t i = 0; i < nsig; i++)
    {
      podrun_error_t se = NULL;
      gpgme_err_code_t code = gpgme_err_code(status[i]);
      if (code == GPG_ERR_BAD_DATA || code == GPG_ERR_NO_DATA)
        podrun_error_new(&se, EINVAL, "not a signature");
      else if (judge(h, v, n, fprs[i], status[i], local_dir, system_dir, name, ret, &se) == 0)
        return 0;
      if (!first)
        first = se;
      else
        podrun_error_free(&se);
    }
  *err = TAKE_PTR(first);
  return -1;
}

/* The detached signature read from sig_fd of the bytes read from data_fd,
 * as gpgme data (gpgme is loaded by then: after home_open). */
static int data_from_fds(int data_fd, int sig_fd, gpgme_data_t *ret_data, gpgme_data_t *ret_sig,
                         podrun_error_t *err)
{
  gpgme_error_t e;
  struct stat st;

  if (fstat(sig_fd, &st) < 0 || lseek(data_fd, 0, SEEK_SET) < 0 || lseek(sig_fd, 0, SEEK_SET) < 0)
    return podrun_error_set(err, errno, "rewind");
  if (st.st_size > SIG_MAX) /* a signature is a few hundred bytes, with several some KiB */
    return podrun_error_new(err, EFBIG, "not a signature (larger than %d MiB)", SIG_MAX >> 20);
  if ((e = sym_gpgme_data_new_from_fd(ret_sig, sig_fd)) || (e = sym_gpgme_data_new_from_fd(ret_data, data_fd)))
    return gpgme_fail(err, "gpgme", e);
  return 0;
}

/* Both kinds of signature (trust_verify, trust_verify_attached): the keys
 * trusted for image_name into a private home, then the signature judged.
 * A detached one comes as fds (data_fd >= 0), an attached one as gpgme
 * data whose signed text goes to plain. */
static int verify_trusted(const char *local_dir, const char *system_dir, const char *image_name, int data_fd,
                          int sig_fd, gpgme_data_t sig, gpgme_data_t plain, struct trust_result *ret,
                          podrun_error_t *err)
{
  _cleanup_data_ gpgme_data_t fd_sig = NULL, fd_data = NULL;
  struct entry *v = NULL;
  size_t n = 0;
  struct home h;
  int r = -1;

  if (collect_trusted(local_dir, system_dir, image_name, false, &v, &n, err) < 0)
    goto out;
  if (n == 0)
    {
      no_key_error(image_name, err);
      goto out;
    }
  if (home_open(&h, err) < 0)
    goto out;
  if (data_fd < 0 || data_from_fds(data_fd, sig_fd, &fd_data, &fd_sig, err) == 0)
    r = verify_data(&h, v, n, local_dir, system_dir, image_name, data_fd < 0 ? sig : fd_sig, fd_data, plain, ret,
                    err);
  home_close(&h);
out:
  entries_free(v, n);
  return r;
}

int trust_verify(const char *local_dir, const char *system_dir, const char *image_name, int data_fd, int sig_fd,
                 struct trust_result *ret, podrun_error_t *err)
{
  return verify_trusted(local_dir, system_dir, image_name, data_fd, sig_fd, NULL, NULL, ret, err);
}

/* ---- for trust-sign.c (trust-internal.h) ---------------------------------- */

struct trust_home
{
  struct home h;
};

int trust_home_new(struct trust_home **ret, podrun_error_t *err)
{
  struct trust_home *th = xzalloc(sizeof(*th));
  if (home_open(&th->h, err) < 0)
    {
      free(th);
      return -1;
    }
  *ret = th;
  return 0;
}

void trust_home_free(struct trust_home *th)
{
  if (!th)
    return;
  home_close(&th->h);
  free(th);
}

gpgme_ctx_t trust_home_ctx(struct trust_home *th)
{
  return th->h.ctx;
}

char *trust_key_unusable(gpgme_key_t k)
{
  return key_unusable(k);
}

int trust_verify_attached(const char *local_dir, const char *system_dir, const char *image_name, gpgme_data_t sig,
                          gpgme_data_t plain, struct trust_result *ret, podrun_error_t *err)
{
  return verify_trusted(local_dir, system_dir, image_name, -1, -1, sig, plain, ret, err);
}

int trust_count_for(const char *local_dir, const char *system_dir, const char *name, size_t *ret,
                    podrun_error_t *err)
{
  struct entry *v = NULL;
  size_t n = 0;
  int r = 0;

  if (collect_trusted(local_dir, system_dir, name, false, &v, &n, err) < 0)
    r = -1;
  else
    *ret = n;
  entries_free(v, n);
  return r;
}
