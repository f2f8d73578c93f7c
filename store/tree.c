/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tree digests (tree.h): a canonical record of a directory tree, made
 * without following a symlink or opening anything but directories and
 * regular files, so a hostile tree cannot lead the walk elsewhere. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "dl.h"
#include "tree.h"

#define READ_BLOCK (128 * 1024)
#define XATTR_LIST_MAX_BYTES (64 * 1024)
#define XATTR_VALUE_MAX_BYTES (64 * 1024)
#define MAX_DEPTH 512

/* ---- a growing buffer ----------------------------------------------------- */

struct buf
{
  char *p;
  size_t n, cap;
};

static void buf_add(struct buf *b, const void *s, size_t n)
{
  if (b->n + n + 1 > b->cap)
    {
      b->cap = (b->n + n + 1) * 2;
      b->p = xrealloc(b->p, b->cap);
    }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
  buf_add(b, s, strlen(s));
}

/* Bytes outside '!'..'~', and '\' itself, as \xHH: a name is one word. */
static void buf_escaped(struct buf *b, const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      unsigned char c = (unsigned char) s[i];
      if (c < '!' || c > '~' || c == '\\')
        {
          char hex[5];
          snprintf(hex, sizeof(hex), "\\x%02x", c);
          buf_add(b, hex, 4);
        }
      else
        buf_add(b, &s[i], 1);
    }
}

static char *escape(const char *s)
{
  struct buf b = { 0 };
  buf_escaped(&b, s, strlen(s));
  if (!b.p)
    buf_add(&b, "", 0);
  return b.p;
}

/* ---- sha256 --------------------------------------------------------------- */

static void md_freep(EVP_MD_CTX **m)
{
  if (*m)
    sym_EVP_MD_CTX_free(*m);
}

static void hex_of(const unsigned char *md, unsigned len, char *out)
{
  for (unsigned i = 0; i < len; i++)
    snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int md_new(EVP_MD_CTX **ret, podrun_error_t *err)
{
  if (dl_load_crypto(err) < 0)
    return -1;
  if (!(*ret = sym_EVP_MD_CTX_new()) || sym_EVP_DigestInit_ex(*ret, sym_EVP_sha256(), NULL) != 1)
    return podrun_error_new(err, ENOMEM, "initialise a digest");
  return 0;
}

static int md_final_hex(EVP_MD_CTX *m, char out[65], podrun_error_t *err)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (sym_EVP_DigestFinal_ex(m, md, &len) != 1 || len != 32)
    return podrun_error_new(err, EIO, "digest failed");
  hex_of(md, len, out);
  return 0;
}

int tree_sha256(const void *buf, size_t len, char **ret, podrun_error_t *err)
{
  _cleanup_(md_freep) EVP_MD_CTX *m = NULL;
  char hex[65];
  if (md_new(&m, err) < 0)
    return -1;
  if (sym_EVP_DigestUpdate(m, buf, len) != 1)
    return podrun_error_new(err, EIO, "digest failed");
  if (md_final_hex(m, hex, err) < 0)
    return -1;
  *ret = xasprintf("sha256-%s", hex);
  return 0;
}

/* ---- contents hashed while extracting ------------------------------------- */

struct content_slot
{
  char *path;
  char hex[65];
  uint64_t size;
};

struct tree_content
{
  struct content_slot *slots;
  size_t cap, n;
  EVP_MD_CTX *md; /* the file being written */
  char *current;
  uint64_t pos;
};

static struct content_slot *slot_of(const struct tree_content *c, const char *path)
{
  if (c->cap == 0)
    return NULL;
  for (size_t i = str_hash(path) & (c->cap - 1);; i = (i + 1) & (c->cap - 1))
    if (!c->slots[i].path || streq(c->slots[i].path, path))
      return &c->slots[i];
}

static void content_put(struct tree_content *c, const char *path, const char *hex, uint64_t size)
{
  if ((c->n + 1) * 2 > c->cap)
    {
      struct tree_content old = *c;
      c->cap = old.cap ? old.cap * 2 : 1024;
      c->slots = xzalloc(sizeof(*c->slots) * c->cap);
      for (size_t i = 0; i < old.cap; i++)
        if (old.slots[i].path)
          *slot_of(c, old.slots[i].path) = old.slots[i];
      free(old.slots);
    }
  struct content_slot *s = slot_of(c, path);
  if (!s->path)
    {
      s->path = xstrdup(path);
      c->n++;
    }
  memcpy(s->hex, hex, sizeof(s->hex));
  s->size = size;
}

struct tree_content *tree_content_new(void)
{
  return xzalloc(sizeof(struct tree_content));
}

void tree_content_free(struct tree_content *c)
{
  if (!c)
    return;
  for (size_t i = 0; i < c->cap; i++)
    free(c->slots[i].path);
  free(c->slots);
  if (c->md)
    sym_EVP_MD_CTX_free(c->md);
  free(c->current);
  free(c);
}

int tree_content_begin(struct tree_content *c, const char *path, podrun_error_t *err)
{
  if (!c->md && md_new(&c->md, err) < 0)
    return -1;
  if (sym_EVP_DigestInit_ex(c->md, sym_EVP_sha256(), NULL) != 1)
    return podrun_error_new(err, ENOMEM, "initialise a digest");
  free(c->current);
  c->current = escape(path); /* keyed as the walk names it */
  c->pos = 0;
  return 0;
}

static int hash_zeros(EVP_MD_CTX *md, uint64_t n, podrun_error_t *err)
{
  static const char zeros[4096];
  while (n > 0)
    {
      size_t k = n < sizeof(zeros) ? (size_t) n : sizeof(zeros);
      if (sym_EVP_DigestUpdate(md, zeros, k) != 1)
        return podrun_error_new(err, EIO, "digest failed");
      n -= k;
    }
  return 0;
}

int tree_content_data(struct tree_content *c, const void *buf, size_t len, int64_t offset, podrun_error_t *err)
{
  if (!c->current)
    return 0;
  /* a sparse entry's blocks come in order, with holes between them */
  if (offset < 0 || (uint64_t) offset < c->pos)
    return podrun_error_new(err, EINVAL, "entry %s: data out of order", QUOTE(c->current));
  if (hash_zeros(c->md, (uint64_t) offset - c->pos, err) < 0 || sym_EVP_DigestUpdate(c->md, buf, len) != 1)
    return podrun_error_new(err, EIO, "digest failed");
  c->pos = (uint64_t) offset + len;
  return 0;
}

int tree_content_end(struct tree_content *c, uint64_t size, podrun_error_t *err)
{
  char hex[65];
  if (!c->current)
    return 0;
  if (size > c->pos && hash_zeros(c->md, size - c->pos, err) < 0)
    return -1;
  if (md_final_hex(c->md, hex, err) < 0)
    return -1;
  content_put(c, c->current, hex, size > c->pos ? size : c->pos);
  free(c->current);
  c->current = NULL;
  return 0;
}

void tree_content_link(struct tree_content *c, const char *path, const char *target)
{
  _cleanup_free_ char *p = escape(path), *t_esc = escape(target);
  struct content_slot *t = slot_of(c, t_esc);
  if (t && t->path)
    {
      char hex[65];
      uint64_t size = t->size;
      memcpy(hex, t->hex, sizeof(hex));
      content_put(c, p, hex, size);
    }
}

/* ---- the walk ------------------------------------------------------------- */

struct walker
{
  const struct tree_content *known;
  struct buf rec;
  char *io;
};

static int hash_file(struct walker *w, int dfd, const char *name, const char *path, uint64_t size, char hex[65],
                     podrun_error_t *err)
{
  _cleanup_(md_freep) EVP_MD_CTX *m = NULL;
  _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  struct stat st;
  uint64_t got = 0;

  if (fd < 0 || fstat(fd, &st) < 0)
    return podrun_error_set(err, errno, "read %s", QUOTE(path));
  if (!S_ISREG(st.st_mode))
    return podrun_error_new(err, EAGAIN, "%s changed while it was read", QUOTE(path));
  if (md_new(&m, err) < 0)
    return -1;
  for (;;)
    {
      ssize_t n = read(fd, w->io, READ_BLOCK);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return podrun_error_set(err, errno, "read %s", QUOTE(path));
      if (n == 0)
        break;
      if (sym_EVP_DigestUpdate(m, w->io, (size_t) n) != 1)
        return podrun_error_new(err, EIO, "digest failed");
      got += (uint64_t) n;
    }
  if (got != size)
    return podrun_error_new(err, EAGAIN, "%s changed while it was read", QUOTE(path));
  return md_final_hex(m, hex, err);
}

static int cmp_names(const void *a, const void *b)
{
  return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Extended attributes: "-", or the sha256 of "NAME\0LENGTH\0VALUE" for
 * each name, sorted. */
static int xattrs_of(int dfd, const char *name, const char *path, char out[65], podrun_error_t *err)
{
  _cleanup_free_ char *p = xasprintf("/proc/self/fd/%d/%s", dfd, name), *list = xmalloc(XATTR_LIST_MAX_BYTES);
  _cleanup_free_ char *val = NULL;
  _cleanup_(md_freep) EVP_MD_CTX *m = NULL;
  _cleanup_strv_ char **names = NULL;
  ssize_t n = llistxattr(p, list, XATTR_LIST_MAX_BYTES);

  if (n < 0 && (errno == ENOTSUP || errno == ENODATA))
    n = 0;
  if (n < 0)
    return podrun_error_set(err, errno, "list the extended attributes of %s", QUOTE(path));
  if (n == 0)
    return snprintf(out, 65, "-"), 0;
  for (ssize_t i = 0; i < n; i += (ssize_t) strlen(list + i) + 1)
    names = strv_push(names, list + i);
  qsort(names, strv_length(names), sizeof(char *), cmp_names);
  if (md_new(&m, err) < 0)
    return -1;
  val = xmalloc(XATTR_VALUE_MAX_BYTES);
  for (size_t i = 0; names[i]; i++)
    {
      ssize_t vn = lgetxattr(p, names[i], val, XATTR_VALUE_MAX_BYTES);
      char len[32];
      if (vn < 0)
        return podrun_error_set(err, errno, "read the extended attribute %s of %s", QUOTE(names[i]), QUOTE(path));
      int ln = snprintf(len, sizeof(len), "%zd", vn);
      if (sym_EVP_DigestUpdate(m, names[i], strlen(names[i]) + 1) != 1 ||
          sym_EVP_DigestUpdate(m, len, (size_t) ln + 1) != 1 || sym_EVP_DigestUpdate(m, val, (size_t) vn) != 1)
        return podrun_error_new(err, EIO, "digest failed");
    }
  return md_final_hex(m, out, err);
}

static char type_char(mode_t m)
{
  return S_ISREG(m) ? 'f' : S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISCHR(m) ? 'c' : S_ISBLK(m) ? 'b'
                                                                          : S_ISFIFO(m) ? 'p' : 's';
}

/* One line: TYPE MODE UID GID EXTRA XATTRS PATH. */
static int record_entry(struct walker *w, int dfd, const char *name, const char *path, const struct stat *st,
                        podrun_error_t *err)
{
  char head[96], hex[65], xh[65];
  struct buf extra = { 0 };

  if (xattrs_of(dfd, name, path, xh, err) < 0)
    return -1;
  if (S_ISLNK(st->st_mode))
    snprintf(head, sizeof(head), "l - %u %u ", (unsigned) st->st_uid, (unsigned) st->st_gid);
  else
    snprintf(head, sizeof(head), "%c %04o %u %u ", type_char(st->st_mode), (unsigned) (st->st_mode & 07777),
             (unsigned) st->st_uid, (unsigned) st->st_gid);
  if (S_ISREG(st->st_mode))
    {
      struct content_slot *k = w->known ? slot_of(w->known, path) : NULL;
      if (k && k->path && k->size == (uint64_t) st->st_size)
        memcpy(hex, k->hex, sizeof(hex));
      else if (hash_file(w, dfd, name, path, (uint64_t) st->st_size, hex, err) < 0)
        return -1;
      char sz[96];
      snprintf(sz, sizeof(sz), "%llu:%s", (unsigned long long) st->st_size, hex);
      buf_str(&extra, sz);
    }
  else if (S_ISLNK(st->st_mode))
    {
      char target[4097];
      ssize_t n = readlinkat(dfd, name, target, sizeof(target) - 1);
      if (n < 0)
        return podrun_error_set(err, errno, "read the symlink %s", QUOTE(path));
      buf_escaped(&extra, target, (size_t) n);
    }
  else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
    {
      char dev[48];
      snprintf(dev, sizeof(dev), "%u,%u", major(st->st_rdev), minor(st->st_rdev));
      buf_str(&extra, dev);
    }
  else
    buf_str(&extra, "-");
  buf_str(&w->rec, head);
  buf_str(&w->rec, extra.p);
  buf_str(&w->rec, " ");
  buf_str(&w->rec, xh);
  buf_str(&w->rec, " ");
  buf_str(&w->rec, path);
  buf_str(&w->rec, "\n");
  free(extra.p);
  return 0;
}

/* The names in the directory fd, escaped, sorted (escaped: the order a
 * record's paths compare in). */
static int dir_names(int fd, char ***ret_raw, char ***ret_esc, podrun_error_t *err)
{
  int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
  struct dirent *de;
  char **pairs = NULL; /* "escaped\0raw" */
  size_t n = 0, cap = 0;

  if (!d)
    {
      if (dup_fd >= 0)
        close(dup_fd);
      return podrun_error_set(err, errno, "read a directory");
    }
  while ((errno = 0, de = readdir(d)))
    {
      if (streq(de->d_name, ".") || streq(de->d_name, ".."))
        continue;
      _cleanup_free_ char *e = escape(de->d_name);
      size_t el = strlen(e), rl = strlen(de->d_name);
      char *p = xmalloc(el + rl + 2);
      memcpy(p, e, el + 1);
      memcpy(p + el + 1, de->d_name, rl + 1);
      if (n == cap)
        pairs = xrealloc(pairs, sizeof(char *) * (cap = cap ? 2 * cap : 16));
      pairs[n++] = p;
    }
  int saved = errno;
  closedir(d);
  if (saved)
    {
      for (size_t i = 0; i < n; i++)
        free(pairs[i]);
      free(pairs);
      return podrun_error_set(err, saved, "read a directory");
    }
  if (n)
    qsort(pairs, n, sizeof(char *), cmp_names);
  /* NULL-terminated, each name its own string (strv) */
  char **raw = n ? xzalloc(sizeof(char *) * (n + 1)) : NULL, **esc = n ? xzalloc(sizeof(char *) * (n + 1)) : NULL;
  for (size_t i = 0; i < n; i++)
    {
      esc[i] = pairs[i];
      raw[i] = xstrdup(pairs[i] + strlen(pairs[i]) + 1);
    }
  free(pairs);
  *ret_raw = raw;
  *ret_esc = esc;
  return 0;
}

static int walk_dir(struct walker *w, int fd, const char *path, unsigned depth, podrun_error_t *err)
{
  _cleanup_strv_ char **raw = NULL, **esc = NULL;

  if (depth > MAX_DEPTH)
    return podrun_error_new(err, ELOOP, "%s: directories nested deeper than %d", QUOTE(path), MAX_DEPTH);
  if (dir_names(fd, &raw, &esc, err) < 0)
    return podrun_error_wrap(err, "%s", QUOTE(path));
  for (size_t i = 0; raw && raw[i]; i++)
    {
      _cleanup_free_ char *sub = streq(path, ".") ? xstrdup(esc[i]) : xasprintf("%s/%s", path, esc[i]);
      struct stat st;
      if (fstatat(fd, raw[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
        return podrun_error_set(err, errno, "stat %s", QUOTE(sub));
      if (record_entry(w, fd, raw[i], sub, &st, err) < 0)
        return -1;
      if (!S_ISDIR(st.st_mode))
        continue;
      _cleanup_close_ int sfd = openat(fd, raw[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sfd < 0)
        return podrun_error_set(err, errno, "open %s", QUOTE(sub));
      if (walk_dir(w, sfd, sub, depth + 1, err) < 0)
        return -1;
    }
  return 0;
}

int tree_digest_at(int rootfd, const struct tree_content *known, char **ret_digest, char **ret_record,
                   size_t *ret_len, podrun_error_t *err)
{
  struct walker w = { .known = known, .io = xmalloc(READ_BLOCK) };
  struct stat st;
  int r = -1;

  buf_str(&w.rec, TREE_RECORD_HEADER);
  if (fstat(rootfd, &st) < 0)
    podrun_error_set(err, errno, "stat the tree");
  else if (record_entry(&w, rootfd, ".", ".", &st, err) >= 0 && walk_dir(&w, rootfd, ".", 0, err) >= 0 &&
           tree_sha256(w.rec.p, w.rec.n, ret_digest, err) >= 0)
    {
      r = 0;
      if (ret_record)
        {
          *ret_record = TAKE_PTR(w.rec.p);
          *ret_len = w.rec.n;
        }
    }
  free(w.rec.p);
  free(w.io);
  return r;
}

/* ---- differences ---------------------------------------------------------- */

struct line
{
  const char *type, *mode, *owner_uid, *owner_gid, *extra, *xattrs, *path;
  char *copy;
};

static bool parse_line(const char *s, size_t n, struct line *l)
{
  char *f[7];
  char *save = NULL;
  *l = (struct line){ .copy = xstrndup(s, n) };
  f[0] = strtok_r(l->copy, " ", &save);
  for (int i = 1; i < 7; i++)
    f[i] = strtok_r(NULL, " ", &save);
  if (!f[6])
    return false;
  l->type = f[0], l->mode = f[1], l->owner_uid = f[2], l->owner_gid = f[3], l->extra = f[4], l->xattrs = f[5];
  l->path = f[6];
  return true;
}

/* Walk order: component by component, a directory before what it holds. */
static int cmp_paths(const char *a, const char *b)
{
  if (streq(a, "."))
    return streq(b, ".") ? 0 : -1;
  if (streq(b, "."))
    return 1;
  for (;;)
    {
      size_t la = strcspn(a, "/"), lb = strcspn(b, "/");
      int c = strncmp(a, b, la < lb ? la : lb);
      if (c == 0 && la != lb)
        c = la < lb ? (int) -(unsigned char) b[la] : (unsigned char) a[lb];
      if (c != 0)
        return c;
      if (!a[la] || !b[lb])
        return (a[la] ? 1 : 0) - (b[lb] ? 1 : 0);
      a += la + 1;
      b += lb + 1;
    }
}

static const char *type_name(const char *t)
{
  switch (t[0])
    {
    case 'f': return "file";
    case 'd': return "directory";
    case 'l': return "symlink";
    case 'c': return "character device";
    case 'b': return "block device";
    case 'p': return "fifo";
    default: return "socket";
    }
}

static char *describe(const struct line *was, const struct line *now)
{
  const char *what = type_name(now->type);
  if (!streq(was->type, now->type))
    return xasprintf("%s %s: is a %s, was a %s", what, QUOTE(now->path), what, type_name(was->type));
  if (!streq(was->mode, now->mode))
    return xasprintf("%s %s: mode %s, was %s", what, QUOTE(now->path), now->mode, was->mode);
  if (!streq(was->owner_uid, now->owner_uid) || !streq(was->owner_gid, now->owner_gid))
    return xasprintf("%s %s: owner %s:%s, was %s:%s", what, QUOTE(now->path), now->owner_uid, now->owner_gid,
                     was->owner_uid, was->owner_gid);
  if (!streq(was->extra, now->extra))
    return xasprintf("%s %s: %s changed", what, QUOTE(now->path),
                     now->type[0] == 'f' ? "content" : now->type[0] == 'l' ? "target" : "device number");
  return xasprintf("%s %s: extended attributes changed", what, QUOTE(now->path));
}

char *tree_record_diff(const char *was, size_t was_len, const char *now, size_t now_len)
{
  const char *a = was, *ae = was + was_len, *b = now, *be = now + now_len;
  char *out = NULL;

  while (!out && (a < ae || b < be))
    {
      const char *an = a < ae ? memchr(a, '\n', (size_t) (ae - a)) : NULL;
      const char *bn = b < be ? memchr(b, '\n', (size_t) (be - b)) : NULL;
      an = an ? an : ae;
      bn = bn ? bn : be;
      if (a < ae && b < be && an - a == bn - b && memcmp(a, b, (size_t) (an - a)) == 0)
        {
          a = an + 1;
          b = bn + 1;
          continue;
        }
      struct line la = { 0 }, lb = { 0 };
      bool oka = a < ae && parse_line(a, (size_t) (an - a), &la);
      bool okb = b < be && parse_line(b, (size_t) (bn - b), &lb);
      if (a < ae && !oka && b < be && !okb)
        out = xstrdup("its record's header differs");
      else if (!oka && !okb)
        out = xstrdup("its record is damaged");
      else
        {
          int c = !oka ? 1 : !okb ? -1 : cmp_paths(la.path, lb.path);
          if (c < 0)
            out = xasprintf("%s %s: missing", type_name(la.type), QUOTE(la.path));
          else if (c > 0)
            out = xasprintf("%s %s: added", type_name(lb.type), QUOTE(lb.path));
          else
            out = describe(&la, &lb);
        }
      free(la.copy);
      free(lb.copy);
    }
  return out;
}
