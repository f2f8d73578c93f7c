/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "auth.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "json-util.h"

struct creds
{
  char *user, *password;
};

static void creds_done(struct creds *c)
{
  if (c->user)
    explicit_bzero(c->user, strlen(c->user));
  if (c->password)
    explicit_bzero(c->password, strlen(c->password));
  free(c->user);
  free(c->password);
  c->user = c->password = NULL;
}

/* A file or directory of secrets that someone else could change. */
static int check_owner(const struct stat *st, const char *path, podrun_error_t *err)
{
  if (st->st_uid != 0 && st->st_uid != geteuid())
    return podrun_error_new(err, EPERM, "%s: owned by uid %u, not root: refused (it holds credentials)", QUOTE(path),
                            (unsigned) st->st_uid);
  if ((st->st_mode & S_IWOTH) || ((st->st_mode & S_IWGRP) && st->st_gid != 0))
    return podrun_error_new(err, EPERM, "%s: writable by %s: refused (it holds credentials)", QUOTE(path),
                            (st->st_mode & S_IWOTH) ? "everyone" : "its group");
  return 0;
}

static int read_file(int dirfd, const char *name, const char *path, char **ret, size_t *ret_len, podrun_error_t *err)
{
  _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  struct stat st;

  if (fd < 0 || fstat(fd, &st) < 0)
    return podrun_error_set(err, errno, "%s", QUOTE(path));
  if (!S_ISREG(st.st_mode))
    return podrun_error_new(err, EINVAL, "%s: not a regular file", QUOTE(path));
  if (check_owner(&st, path, err) < 0)
    return -1;
  if (st.st_size > JSON_MAX_INPUT)
    return podrun_error_new(err, EFBIG, "%s: larger than %d bytes", QUOTE(path), JSON_MAX_INPUT);
  char *b = xmalloc(st.st_size + 1);
  size_t n = 0;
  for (;;)
    {
      ssize_t k = read(fd, b + n, st.st_size - n);
      if (k < 0)
        {
          free(b);
          return podrun_error_set(err, errno, "read %s", QUOTE(path));
        }
      if (k == 0)
        break;
      n += k;
      if (n == (size_t) st.st_size)
        break;
    }
  b[n] = '\0';
  *ret = b;
  *ret_len = n;
  return 0;
}

static int b64_value(char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Strict base64 (RFC 4648 §4, padded): anything else is refused. */
static int b64_decode(const char *s, char **ret)
{
  size_t n = strlen(s);
  if (n % 4 != 0)
    return -1;
  char *out = xmalloc(n / 4 * 3 + 1);
  size_t o = 0;
  for (size_t i = 0; i < n; i += 4)
    {
      int v[4], pad = 0;
      for (int k = 0; k < 4; k++)
        {
          bool last = i + 4 == n;
          if (s[i + k] == '=' && last && k >= 2 && (k == 3 || s[i + 3] == '='))
            v[k] = 0, pad++;
          else if ((v[k] = b64_value(s[i + k])) < 0 || pad)
            {
              explicit_bzero(out, o);
              free(out);
              return -1;
            }
        }
      unsigned w = (unsigned) v[0] << 18 | (unsigned) v[1] << 12 | (unsigned) v[2] << 6 | (unsigned) v[3];
      out[o++] = w >> 16;
      if (pad < 2)
        out[o++] = (w >> 8) & 0xff;
      if (pad < 1)
        out[o++] = w & 0xff;
    }
  out[o] = '\0';
  if (strlen(out) != o)
    {
      explicit_bzero(out, o);
      free(out);
      return -1;
    }
  *ret = out;
  return 0;
}

/* A key of "auths": "HOST[:PORT]", or docker's old "https://HOST/v1/". */
static bool auths_key_matches(const char *key, const char *host)
{
  const char *k = startswith(key, "https://");
  if (!k)
    k = startswith(key, "http://");
  if (!k)
    return streq(key, host);
  size_t n = strcspn(k, "/");
  return strlen(host) == n && strncmp(k, host, n) == 0;
}

static int containers_entry(json_t *e, const char *path, struct creds *c, podrun_error_t *err)
{
  const char *auth = json_string_value(json_object_get(e, "auth"));
  const char *user = json_string_value(json_object_get(e, "username"));
  const char *password = json_string_value(json_object_get(e, "password"));

  if (!json_is_object(e))
    return podrun_error_new(err, EINVAL, "%s: an entry of \"auths\" is not an object", QUOTE(path));
  if (auth && *auth)
    {
      _cleanup_free_ char *plain = NULL;
      char *colon;
      if (b64_decode(auth, &plain) < 0 || !(colon = strchr(plain, ':')))
        {
          if (plain)
            explicit_bzero(plain, strlen(plain));
          return podrun_error_new(err, EINVAL, "%s: \"auth\" is not the base64 of USER:PASSWORD", QUOTE(path));
        }
      c->user = xstrndup(plain, colon - plain);
      c->password = xstrdup(colon + 1);
      explicit_bzero(plain, strlen(plain));
      return 1;
    }
  if (user && password)
    {
      c->user = xstrdup(user);
      c->password = xstrdup(password);
      return 1;
    }
  return podrun_error_new(err, EINVAL, "%s: an entry of \"auths\" has neither \"auth\" nor \"username\" and \"password\"",
                          QUOTE(path));
}

/* 1 and *c set: host found; 0: not in this file. */
static int containers_lookup(json_t *j, const char *path, const char *host, struct creds *c, podrun_error_t *err)
{
  json_t *auths = json_object_get(j, "auths"), *e;
  const char *key;

  if (!json_is_object(auths))
    return podrun_error_new(err, EINVAL, "%s: \"auths\" is not an object", QUOTE(path));
  json_object_foreach (auths, key, e)
    if (streq(key, host))
      return containers_entry(e, path, c, err);
  json_object_foreach (auths, key, e)
    if (auths_key_matches(key, host))
      return containers_entry(e, path, c, err);
  return 0;
}

static int rkt_lookup(json_t *j, const char *path, const char *host, struct creds *c, podrun_error_t *err)
{
  const char *kind = json_string_value(json_object_get(j, "rktKind"));
  const char *version = json_string_value(json_object_get(j, "rktVersion"));
  json_t *regs = json_object_get(j, "registries"), *creds = json_object_get(j, "credentials"), *v;
  size_t i;

  if (!kind)
    return podrun_error_new(err, EINVAL, "%s: neither \"rktKind\" nor \"auths\"", QUOTE(path));
  if (!streq(kind, "dockerAuth"))
    return 0; /* rkt's "auth" kind is for appc discovery */
  if (!version || !streq(version, "v1"))
    return podrun_error_new(err, EINVAL, "%s: rktVersion %s: only \"v1\" is known", QUOTE(path),
                            QUOTE(version ? version : ""));
  const char *user = json_string_value(json_object_get(creds, "user"));
  const char *password = json_string_value(json_object_get(creds, "password"));
  if (!json_is_array(regs) || !user || !password)
    return podrun_error_new(err, EINVAL, "%s: a dockerAuth file needs \"registries\" and \"credentials\" "
                            "{\"user\", \"password\"}", QUOTE(path));
  json_array_foreach (regs, i, v)
    {
      if (!json_is_string(v))
        return podrun_error_new(err, EINVAL, "%s: \"registries\" holds a non-string", QUOTE(path));
      if (streq(json_string_value(v), host))
        {
          c->user = xstrdup(user);
          c->password = xstrdup(password);
          return 1;
        }
    }
  return 0;
}

static int file_lookup(int dirfd, const char *name, const char *path, const char *host, struct creds *c,
                       podrun_error_t *err)
{
  _cleanup_free_ char *buf = NULL;
  _cleanup_json_ json_t *j = NULL;
  size_t len = 0;
  int r;

  if (read_file(dirfd, name, path, &buf, &len, err) < 0)
    return -1;
  r = json_parse_untrusted(buf, len, path, &j, err);
  explicit_bzero(buf, len);
  if (r < 0)
    return -1;
  if (!json_is_object(j))
    return podrun_error_new(err, EINVAL, "%s: not a JSON object", QUOTE(path));
  if (json_object_get(j, "auths"))
    return containers_lookup(j, path, host, c, err);
  return rkt_lookup(j, path, host, c, err);
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *) a, *(char *const *) b);
}

static int dir_lookup(const char *dir, const char *host, struct creds *c, podrun_error_t *err)
{
  _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  _cleanup_closedir_ DIR *d = NULL;
  _cleanup_strv_ char **names = NULL;
  struct stat st;
  struct dirent *de;

  if (dfd < 0)
    return errno == ENOENT ? 0 : podrun_error_set(err, errno, "%s", QUOTE(dir));
  if (fstat(dfd, &st) < 0)
    return podrun_error_set(err, errno, "%s", QUOTE(dir));
  if (check_owner(&st, dir, err) < 0)
    return -1;
  int fd2 = dup(dfd);
  if (fd2 < 0 || !(d = fdopendir(fd2)))
    {
      if (fd2 >= 0)
        close(fd2);
      return podrun_error_set(err, errno, "%s", QUOTE(dir));
    }
  while ((de = readdir(d)))
    if (de->d_name[0] != '.' && endswith(de->d_name, ".json"))
      names = strv_push(names, de->d_name);
  if (names)
    qsort(names, strv_length(names), sizeof(char *), cmp_str);
  for (char **n = names; n && *n; n++)
    {
      _cleanup_free_ char *path = xasprintf("%s/%s", dir, *n);
      int r = file_lookup(dfd, *n, path, host, c, err);
      if (r != 0)
        return r;
    }
  return 0;
}

int auth_find(const char *const *auth_dirs, const char *authfile, const char *host, char **ret_user,
              char **ret_password, podrun_error_t *err)
{
  struct creds c = { 0 };
  int r = 0;

  if (authfile)
    r = file_lookup(AT_FDCWD, authfile, authfile, host, &c, err);
  for (const char *const *d = auth_dirs; r == 0 && d && *d; d++)
    r = dir_lookup(*d, host, &c, err);
  if (r < 0)
    {
      creds_done(&c);
      return -1;
    }
  *ret_user = TAKE_PTR(c.user);
  *ret_password = TAKE_PTR(c.password);
  return 0;
}
