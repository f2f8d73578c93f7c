/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The image index: SQLite in WAL mode, so readers never block the writer,
 * with a busy timeout so concurrent podrun processes wait for each other.
 * Writes are single statements or BEGIN IMMEDIATE transactions; every value
 * is a bound parameter. */
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "index.h"
#include "store-internal.h"

#define BUSY_TIMEOUT_MS 60000

#define INDEX_CACHED_STATEMENTS 64

struct index
{
  sqlite3 *db;
  char *path;
  bool immutable; /* read as a file nobody writes: see index_open */
  struct stat st; /* ... which it was when opened */
  /* prepared statements kept for the connection's life (see prepare) */
  struct
  {
    const char *sql;
    sqlite3_stmt *st;
  } cache[INDEX_CACHED_STATEMENTS];
  size_t n_cached;
};

/* Each migration takes user_version from its index to index + 1. Append
 * only: a released migration never changes. */
static const char *const migrations[] = {
  /* 1: images */
  "CREATE TABLE images ("
  "  id TEXT PRIMARY KEY NOT NULL,"
  "  name TEXT NOT NULL,"
  "  version TEXT,"
  "  os TEXT,"
  "  arch TEXT,"
  "  labels TEXT NOT NULL,"
  "  manifest TEXT NOT NULL,"
  "  size INTEGER NOT NULL,"
  "  import_time INTEGER NOT NULL,"
  "  last_used INTEGER NOT NULL);"
  "CREATE INDEX images_name ON images (name, version);",
  /* 2: where network-fetched images came from (used by the fetchers) */
  "CREATE TABLE remotes ("
  "  aci_url TEXT PRIMARY KEY NOT NULL,"
  "  sig_url TEXT,"
  "  etag TEXT,"
  "  image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,"
  "  cache_max_age INTEGER NOT NULL DEFAULT 0,"
  "  download_time INTEGER NOT NULL);"
  "CREATE INDEX remotes_image ON remotes (image_id);",
  /* 3: the layered store. An image is its manifest and an ordered list of
   * layers (bottom first), each a blob extracted once into cas/layer/. An
   * ACI is one layer, its own blob (its appc dependencies are images of
   * their own); an OCI image's id is its config's digest. refs maps a docker
   * reference (HOST/REPO:TAG or @DIGEST) to the image it was fetched as. */
  "ALTER TABLE images ADD COLUMN format TEXT NOT NULL DEFAULT 'appc';"
  "ALTER TABLE images ADD COLUMN manifest_digest TEXT;"
  "CREATE TABLE layers ("
  "  digest TEXT PRIMARY KEY NOT NULL,"
  "  media_type TEXT NOT NULL,"
  "  size INTEGER NOT NULL,"
  "  diff_id TEXT);"
  "CREATE TABLE image_layers ("
  "  image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,"
  "  position INTEGER NOT NULL,"
  "  digest TEXT NOT NULL REFERENCES layers (digest),"
  "  PRIMARY KEY (image_id, position));"
  "CREATE INDEX image_layers_digest ON image_layers (digest);"
  "INSERT INTO layers SELECT id, '" STORE_MEDIA_ACI "', size, NULL FROM images;"
  "INSERT INTO image_layers SELECT id, 0, id FROM images;"
  "CREATE TABLE refs ("
  "  ref TEXT PRIMARY KEY NOT NULL,"
  "  image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,"
  "  manifest_digest TEXT,"
  "  fetch_time INTEGER NOT NULL);"
  "CREATE INDEX refs_image ON refs (image_id);",
  /* 4: who signed an image (the signer's primary key fingerprint and the
   * prefix it is trusted for, "" for a root key) and when it was verified;
   * NULL for an image fetched unverified */
  "ALTER TABLE images ADD COLUMN signer_fingerprint TEXT;"
  "ALTER TABLE images ADD COLUMN signer_prefix TEXT;"
  "ALTER TABLE images ADD COLUMN verified_time INTEGER;",
  /* 5: what `image verify` checks against. layer_trees: the digest of each
   * layer tree's record (store/tree.h) as it was extracted, written before
   * the tree is renamed into place (a tree is deterministic: another
   * extraction of the layer records the same), removed with the layer.
   * images.signature_digest: the blob of the detached signature the image
   * was verified with, kept to verify it again. */
  "CREATE TABLE layer_trees ("
  "  digest TEXT PRIMARY KEY NOT NULL,"
  "  tree_digest TEXT NOT NULL,"
  "  extract_time INTEGER NOT NULL);"
  "ALTER TABLE images ADD COLUMN signature_digest TEXT;",
  /* 6: how policy.json let a docker:// image in, kept for image verify to
   * judge it again. images.policy_reference: the reference judged
   * (HOST/REPO:TAG or HOST/REPO@DIGEST); images.policy_decision: 'signedBy',
   * 'insecureAcceptAnything' or 'insecure-options' (a signedBy passed over
   * with --insecure-options=image); images.list_digest: the blob of the
   * manifest list (or index) the image was picked from, when it was signed
   * (a claim may name the list). image_signatures: the blobs of the
   * simple-signing signatures that met the signedBy requirements. NULLs and
   * no rows: fetched before, or not from a registry. */
  "ALTER TABLE images ADD COLUMN policy_reference TEXT;"
  "ALTER TABLE images ADD COLUMN policy_decision TEXT;"
  "ALTER TABLE images ADD COLUMN list_digest TEXT;"
  "CREATE TABLE image_signatures ("
  "  image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,"
  "  position INTEGER NOT NULL,"
  "  digest TEXT NOT NULL,"
  "  PRIMARY KEY (image_id, position));"
  "CREATE INDEX image_signatures_digest ON image_signatures (digest);",
};

#define SCHEMA_VERSION ((int) ELEMENTSOF(migrations))

static int db_error(struct index *idx, podrun_error_t *err, const char *what)
{
  return podrun_error_set(err, 0, "index %s: %s: %s", QUOTE(idx->path), what, sqlite3_errmsg(idx->db));
}

static int user_version(struct index *idx, int *ret, podrun_error_t *err)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(idx->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
      sqlite3_step(st) != SQLITE_ROW)
    {
      sqlite3_finalize(st);
      return db_error(idx, err, "read schema version");
    }
  *ret = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  return 0;
}

static int exec_sql(struct index *idx, const char *sql, const char *what, podrun_error_t *err)
{
  if (sqlite3_exec(idx->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return db_error(idx, err, what);
  return 0;
}

/* WAL is a property of the file, set by whoever opens it first. Changing
 * the journal mode needs the database to itself, and SQLite answers BUSY at
 * once, without the busy handler, when fresh openers try it together (seen
 * with 8 concurrent first fetches): retry, up to the busy timeout. */
static int set_wal(struct index *idx, podrun_error_t *err)
{
  for (int waited_ms = 0;; waited_ms += 5)
    {
      int rc = sqlite3_exec(idx->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL) & 0xff;
      if (rc == SQLITE_OK)
        return 0;
      if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || waited_ms >= BUSY_TIMEOUT_MS)
        return db_error(idx, err, "set WAL mode");
      usleep(5000);
    }
}

/* One transaction per migration; a concurrent opener waits on the write
 * lock (BEGIN IMMEDIATE) and then sees the version already raised. */
static int migrate(struct index *idx, podrun_error_t *err)
{
  int v = 0;
  if (exec_sql(idx, "BEGIN IMMEDIATE", "begin migration", err) < 0)
    return -1;
  if (user_version(idx, &v, err) < 0)
    goto fail;
  if (v > SCHEMA_VERSION)
    {
      podrun_error_set(err, 0, "index %s: schema version %d is newer than this podrun supports (%d)", QUOTE(idx->path),
                       v, SCHEMA_VERSION);
      goto fail;
    }
  for (; v < SCHEMA_VERSION; v++)
    {
      char set[64];
      snprintf(set, sizeof(set), "PRAGMA user_version = %d", v + 1);
      if (exec_sql(idx, migrations[v], "migrate", err) < 0 || exec_sql(idx, set, "migrate", err) < 0)
        goto fail;
    }
  return exec_sql(idx, "COMMIT", "commit migration", err);
fail:
  (void) sqlite3_exec(idx->db, "ROLLBACK", NULL, NULL, NULL);
  return -1;
}

static int check_readable(struct index *idx, podrun_error_t *err)
{
  int v = 0;
  if (user_version(idx, &v, err) < 0)
    return -1;
  if (v > SCHEMA_VERSION)
    return podrun_error_set(err, 0, "index %s: schema version %d is newer than this podrun supports (%d)",
                            QUOTE(idx->path), v, SCHEMA_VERSION);
  if (v < 1)
    return podrun_error_set(err, 0, "index %s: not initialised", QUOTE(idx->path));
  return 0;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
         a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Does the -wal file hold anything (a transaction that is not in the file
 * itself)? A read-only podrun leaves an empty one behind. */
static bool wal_in_use(const char *path)
{
  _cleanup_free_ char *wal = xasprintf("%s-wal", path);
  struct stat st;
  if (stat(wal, &st) < 0)
    return errno != ENOENT;
  return st.st_size > 0;
}

/* A reader that may not write the store (podrun-api) cannot make or use
 * the WAL index's -shm file, which SQLite needs unless the file is opened
 * immutable. With no -wal file (or an empty one), no write is under way:
 * the file is read as immutable, and index_changed() tells the reader
 * whether it changed meanwhile (a writer that came and checkpointed), so
 * that it reads again. With a -wal in use, this fails with EROFS: such a
 * reader reads a copy (podrun-api does, api_with_store). */
static int open_unprivileged(struct index *idx, podrun_error_t *err)
{
  _cleanup_free_ char *uri = NULL;
  sqlite3_close_v2(idx->db);
  idx->db = NULL;
  if (stat(idx->path, &idx->st) < 0)
    return podrun_error_set(err, errno, "index %s", QUOTE(idx->path));
  if (wal_in_use(idx->path))
    return podrun_error_new(err, EROFS, "index %s: a podrun has transactions in its -wal file, which a reader "
                            "that cannot write the store cannot read", QUOTE(idx->path));
  idx->immutable = true;
  /* the path as a URI: %-escape what a URI path cannot hold */
  size_t n = strlen(idx->path);
  char *u = uri = xmalloc(n * 3 + 64);
  u += sprintf(u, "file:");
  for (const char *c = idx->path; *c; c++)
    u += (*c == '?' || *c == '#' || *c == '%' || (unsigned char) *c < 0x21 || (unsigned char) *c >= 0x7f)
             ? sprintf(u, "%%%02X", (unsigned char) *c)
             : sprintf(u, "%c", *c);
  sprintf(u, "?mode=ro&immutable=1");
  if (sqlite3_open_v2(uri, &idx->db, SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) != SQLITE_OK)
    return db_error(idx, err, "open");
  return 0;
}

bool index_changed(struct index *idx)
{
  struct stat now;
  if (!idx->immutable)
    return false;
  return stat(idx->path, &now) < 0 || !same_file(&now, &idx->st) || wal_in_use(idx->path);
}

int index_open(const char *path, bool readonly, struct index **ret, podrun_error_t *err)
{
  struct index *idx = xzalloc(sizeof(*idx));
  int flags = SQLITE_OPEN_NOMUTEX | (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);

  idx->path = xstrdup(path);
  /* effective ids and capabilities: a reader with CAP_DAC_READ_SEARCH (podrun-api) */
  if (readonly && faccessat(AT_FDCWD, path, F_OK, AT_EACCESS) < 0)
    {
      podrun_error_set(err, errno, "index %s", QUOTE(path));
      goto fail;
    }
  if (sqlite3_open_v2(path, &idx->db, flags, NULL) != SQLITE_OK)
    {
      db_error(idx, err, "open");
      goto fail;
    }
  sqlite3_busy_timeout(idx->db, BUSY_TIMEOUT_MS);
  if (!readonly && (set_wal(idx, err) < 0 ||
                    exec_sql(idx, "PRAGMA synchronous=NORMAL", "set synchronous", err) < 0))
    goto fail;
  if (exec_sql(idx, "PRAGMA foreign_keys=ON", "enable foreign keys", err) < 0)
    goto fail;
  bool unprivileged = false;
  /* SQLite cannot make the -shm file: READONLY in a directory it may not write,
   * CANTOPEN on a read-only mount (podrun-api's, Documentation/api.md) */
  if (readonly && check_readable(idx, err) < 0 &&
      ((sqlite3_errcode(idx->db) & 0xff) == SQLITE_READONLY || (sqlite3_errcode(idx->db) & 0xff) == SQLITE_CANTOPEN))
    {
      podrun_error_free(err);
      unprivileged = true;
      if (open_unprivileged(idx, err) < 0)
        goto fail;
    }
  if (*err)
    goto fail;
  if ((readonly ? (unprivileged ? check_readable(idx, err) : 0) : migrate(idx, err)) < 0)
    goto fail;
  *ret = idx;
  return 0;
fail:
  index_close(idx);
  return -1;
}

void index_close(struct index *idx)
{
  if (!idx)
    return;
  sqlite3_stmt *st;
  while (idx->db && (st = sqlite3_next_stmt(idx->db, NULL)))
    sqlite3_finalize(st);
  sqlite3_close_v2(idx->db);
  free(idx->path);
  free(idx);
}

/* A statement from prepare() goes back to it reset: read locks released,
 * bindings dropped; index_close finalizes them all. */
static void stmt_releasep(sqlite3_stmt **st)
{
  if (!*st)
    return;
  sqlite3_reset(*st);
  sqlite3_clear_bindings(*st);
}
#define _cleanup_stmt_ _cleanup_(stmt_releasep)

/* Compiling SQL costs more than running these lookups, and one command runs
 * the same few many times: each text is compiled once per connection. A
 * cached statement still being stepped (a caller nested inside another with
 * the same SQL) is not handed out twice: that caller gets one of its own,
 * finalized at close like the rest. */
static int prepare(struct index *idx, const char *sql, sqlite3_stmt **ret, podrun_error_t *err)
{
  size_t i;
  for (i = 0; i < idx->n_cached; i++)
    if (streq(idx->cache[i].sql, sql))
      break;
  if (i < idx->n_cached && !sqlite3_stmt_busy(idx->cache[i].st))
    {
      stmt_releasep(&idx->cache[i].st);
      *ret = idx->cache[i].st;
      return 0;
    }
  if (sqlite3_prepare_v3(idx->db, sql, -1, SQLITE_PREPARE_PERSISTENT, ret, NULL) != SQLITE_OK)
    return db_error(idx, err, "prepare statement");
  if (i == idx->n_cached && i < INDEX_CACHED_STATEMENTS)
    {
      idx->cache[i].sql = sql;
      idx->cache[i].st = *ret;
      idx->n_cached++;
    }
  return 0;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
  if (s)
    sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(st, i);
}

static char *column_text(sqlite3_stmt *st, int i)
{
  const unsigned char *t = sqlite3_column_text(st, i);
  return t ? xstrdup((const char *) t) : NULL;
}

#define IMAGE_COLUMNS \
  "id, name, version, os, arch, labels, manifest, size, import_time, last_used, format, manifest_digest"

static struct store_image *row_to_image(sqlite3_stmt *st)
{
  struct store_image *img = xzalloc(sizeof(*img));
  img->id = column_text(st, 0);
  img->name = column_text(st, 1);
  img->version = column_text(st, 2);
  img->os = column_text(st, 3);
  img->arch = column_text(st, 4);
  img->labels = column_text(st, 5);
  img->manifest = column_text(st, 6);
  img->size = (uint64_t) sqlite3_column_int64(st, 7);
  img->import_time = sqlite3_column_int64(st, 8);
  img->last_used = sqlite3_column_int64(st, 9);
  img->format = column_text(st, 10);
  img->manifest_digest = column_text(st, 11);
  return img;
}

/* Steps a bound SELECT of IMAGE_COLUMNS to the end, collecting rows. */
static int collect(struct index *idx, sqlite3_stmt *st, struct store_image ***ret, size_t *ret_n,
                   podrun_error_t *err)
{
  struct store_image **v = NULL;
  size_t n = 0;
  int rc;

  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    {
      v = xrealloc(v, sizeof(*v) * (n + 1));
      v[n++] = row_to_image(st);
    }
  if (rc != SQLITE_DONE)
    {
      store_image_list_free(v, n);
      return db_error(idx, err, "query images");
    }
  *ret = v;
  *ret_n = n;
  return 0;
}

static int insert_image(struct index *idx, const struct store_image *img, bool *ret_inserted, podrun_error_t *err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  if (prepare(idx,
              "INSERT OR IGNORE INTO images (" IMAGE_COLUMNS ")"
              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
              &st, err) < 0)
    return -1;
  bind_text(st, 1, img->id);
  bind_text(st, 2, img->name);
  bind_text(st, 3, img->version);
  bind_text(st, 4, img->os);
  bind_text(st, 5, img->arch);
  bind_text(st, 6, img->labels ? img->labels : "[]");
  bind_text(st, 7, img->manifest);
  sqlite3_bind_int64(st, 8, (sqlite3_int64) img->size);
  sqlite3_bind_int64(st, 9, img->import_time);
  sqlite3_bind_int64(st, 10, img->last_used);
  bind_text(st, 11, img->format ? img->format : "appc");
  bind_text(st, 12, img->manifest_digest);
  if (sqlite3_step(st) != SQLITE_DONE)
    return db_error(idx, err, "insert image");
  *ret_inserted = sqlite3_changes(idx->db) > 0;
  return 0;
}

static int insert_layer(struct index *idx, const char *image_id, size_t pos, const struct store_layer *l,
                        podrun_error_t *err)
{
  _cleanup_stmt_ sqlite3_stmt *a = NULL, *b = NULL;
  if (prepare(idx, "INSERT OR IGNORE INTO layers (digest, media_type, size, diff_id) VALUES (?1, ?2, ?3, ?4)", &a,
              err) < 0 ||
      prepare(idx, "INSERT INTO image_layers (image_id, position, digest) VALUES (?1, ?2, ?3)", &b, err) < 0)
    return -1;
  bind_text(a, 1, l->digest);
  bind_text(a, 2, l->media_type);
  sqlite3_bind_int64(a, 3, (sqlite3_int64) l->size);
  bind_text(a, 4, l->diff_id);
  bind_text(b, 1, image_id);
  sqlite3_bind_int64(b, 2, (sqlite3_int64) pos);
  bind_text(b, 3, l->digest);
  if (sqlite3_step(a) != SQLITE_DONE || sqlite3_step(b) != SQLITE_DONE)
    return db_error(idx, err, "insert layer");
  return 0;
}

int index_add_image(struct index *idx, const struct store_image *img, const struct store_layer *layers, size_t n,
                    bool *ret_existed, podrun_error_t *err)
{
  bool inserted = false;

  if (exec_sql(idx, "BEGIN IMMEDIATE", "begin", err) < 0)
    return -1;
  if (insert_image(idx, img, &inserted, err) < 0)
    goto fail;
  for (size_t i = 0; inserted && i < n; i++)
    if (insert_layer(idx, img->id, i, &layers[i], err) < 0)
      goto fail;
  if (exec_sql(idx, "COMMIT", "commit", err) < 0)
    goto fail;
  if (ret_existed)
    *ret_existed = !inserted;
  return 0;
fail:
  (void) sqlite3_exec(idx->db, "ROLLBACK", NULL, NULL, NULL);
  return -1;
}

void store_layer_list_free(struct store_layer *v, size_t n)
{
  for (size_t i = 0; v && i < n; i++)
    {
      free(v[i].digest);
      free(v[i].media_type);
      free(v[i].diff_id);
    }
  free(v);
}

int index_image_layers(struct index *idx, const char *id, struct store_layer **ret, size_t *ret_n,
                       podrun_error_t *err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  struct store_layer *v = NULL;
  size_t n = 0;
  int rc;

  if (prepare(idx,
              "SELECT l.digest, l.media_type, l.size, l.diff_id FROM image_layers il JOIN layers l ON l.digest = il.digest"
              " WHERE il.image_id = ?1 ORDER BY il.position",
              &st, err) < 0)
    return -1;
  bind_text(st, 1, id);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    {
      v = xrealloc(v, sizeof(*v) * (n + 1));
      v[n++] = (struct store_layer){ .digest = column_text(st, 0), .media_type = column_text(st, 1),
                                     .size = (uint64_t) sqlite3_column_int64(st, 2), .diff_id = column_text(st, 3) };
    }
  if (rc != SQLITE_DONE)
    {
      store_layer_list_free(v, n);
      return db_error(idx, err, "query layers");
    }
  *ret = v;
  *ret_n = n;
  return 0;
}

int index_image_usage(struct index *idx, const char *id, uint64_t *ret_size, uint64_t *ret_shared,
                      podrun_error_t *err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  if (prepare(idx,
              "SELECT COALESCE(SUM(l.size), 0),"
              " COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM image_layers o WHERE o.digest = l.digest"
              " AND o.image_id != ?1) THEN l.size ELSE 0 END), 0)"
              " FROM image_layers il JOIN layers l ON l.digest = il.digest WHERE il.image_id = ?1",
              &st, err) < 0)
    return -1;
  bind_text(st, 1, id);
  if (sqlite3_step(st) != SQLITE_ROW)
    return db_error(idx, err, "query image size");
  *ret_size = (uint64_t) sqlite3_column_int64(st, 0);
  *ret_shared = (uint64_t) sqlite3_column_int64(st, 1);
  return 0;
}

int index_blob_is_live(struct index *idx, const char *digest, bool *ret, podrun_error_t *err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  if (prepare(idx,
              "SELECT EXISTS (SELECT 1 FROM layers WHERE digest = ?1)"
              " OR EXISTS (SELECT 1 FROM images WHERE id = ?1 OR manifest_digest = ?1 OR signature_digest = ?1"
              "   OR list_digest = ?1)"
              " OR EXISTS (SELECT 1 FROM image_signatures WHERE digest = ?1)"
              " OR EXISTS (SELECT 1 FROM refs WHERE manifest_digest = ?1)",
              &st, err) < 0)
    return -1;
  bind_text(st, 1, digest);
  if (sqlite3_step(st) != SQLITE_ROW)
    return db_error(idx, err, "query blob");
  *ret = sqlite3_column_int(st, 0) != 0;
  return 0;
}

int index_get_layer_diff_id(struct index *idx, const char *digest, bool *ret_known, char **ret_diff_id,
                            podrun_error_t *err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  if (prepare(idx, "SELECT diff_id FROM layers WHERE digest = ?1", &st, err) < 0)
    return -1;
  bind_text(st, 1, digest);
  int r = sqlite3_step(st);
  if (r != SQLITE_ROW && r != SQLITE_DONE)
    return db_error(idx, err, "read layer");
  *ret_known = r == SQLITE_ROW;
  *ret_diff_id = r == SQLITE_ROW ? column_text(st, 0) : NULL;
  return 0;
}

int index_layer_is_live(struct index *idx, const char *digest, bool *ret, podrun_error_t *err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  if (prepare(idx, "SELECT EXISTS (SELECT 1 FROM layers WHERE digest = ?1)", &st, err) < 0)
    return -1;
  bind_text(st, 1, digest);
  if (sqlite3_step(st) != SQLITE_ROW)
    return db_error(idx, err, "query layer");
  *ret = sqlite3_column_int(st, 0) != 0;
  return 0;
}

int index_get_ref(struct index *idx, const char *ref, char **ret_image_id, char **ret_manifest_digest,
                  podrun_error_t *err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  if (prepare(idx, "SELECT image_id, manifest_digest FROM refs WHERE ref = ?1", &st, err) < 0)
    return -1;
  bind_text(st, 1, ref);
  int r = sqlite3_step(st);
  if (r != SQLITE_ROW && r != SQLITE_DONE)
    return db_error(idx, err, "read reference");
  *ret_image_id = r == SQLITE_ROW ? column_text(st, 0) : NULL;
  if (ret_manifest_digest)
    *ret_manifest_digest = r == SQLITE_ROW ? column_text(st, 1) : NULL;
  return 0;
}

/* The one image (or none: *ret NULL) a SELECT of IMAGE_COLUMNS with one
 * parameter, key, finds. */
static int get_one_image(struct index *idx, const char *sql, const char *key, struct store_image **ret,
                         podrun_error_t *err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  struct store_image **v = NULL;
  size_t n = 0;

  if (prepare(idx, sql, &st, err) < 0)
    return -1;
  bind_text(st, 1, key);
  if (collect(idx, st, &v, &n, err) < 0)
    return -1;
  *ret = n ? v[0] : NULL;
  for (size_t i = 1; i < n; i++)
    store_image_free(v[i]);
  free(v);
  return 0;
}

int index_get_ref_image(struct index *idx, const char *ref, struct store_image **ret, podrun_error_t *err)
{
  return get_one_image(idx, "SELECT " IMAGE_COLUMNS " FROM images WHERE id = (SELECT image_id FROM refs WHERE ref = ?1)",
                       ref, ret, err);
}

int index_set_ref(struct index *idx, const char *ref, const char *image_id, const char *manifest_digest,
                  podrun_error_t *err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  if (prepare(idx,
              "INSERT OR REPLACE INTO refs (ref, image_id, manifest_digest, fetch_time) VALUES (?1, ?2, ?3, ?4)",
              &st, err) < 0)
    return -1;
  bind_text(st, 1, ref);
  bind_text(st, 2, image_id);
  bind_text(st, 3, manifest_digest);
  sqlite3_bind_int64(st, 4, store_now_usec());
  if (sqlite3_step(st) != SQLITE_DONE)
    return db_error(idx, err, "record reference");
  return 0;
}

int index_get_image(struct index *idx, const char *id, struct store_image **ret, podrun_error_t *err)
{
  return get_one_image(idx, "SELECT " IMAGE_COLUMNS " FROM images WHERE id = ?1", id, ret, err);
}

int index_list_images(struct index *idx, struct store_image ***ret, size_t *ret_n, podrun_error_t *err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  if (prepare(idx, "SELECT " IMAGE_COLUMNS " FROM images ORDER BY import_time, id", &st, err) < 0)
    return -1;
  return collect(idx, st, ret, ret_n, err);
}

int index_find_by_id_prefix(struct index *idx, const char *prefix, struct store_image ***ret, size_t *ret_n,
                            podrun_error_t *err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  if (*prefix == '\0')
    {
      *ret = NULL;
      *ret_n = 0;
      return 0;
    }
  /* substr, not LIKE: "%" and "_" in the prefix are plain characters */
  if (prepare(idx, "SELECT " IMAGE_COLUMNS " FROM images WHERE substr(id, 1, length(?1)) = ?1 ORDER BY id", &st,
              err) < 0)
    return -1;
  bind_text(st, 1, prefix);
  return collect(idx, st, ret, ret_n, err);
}

int index_find_by_name(struct index *idx, const char *name, const char *version, struct store_image ***ret,
                       size_t *ret_n, podrun_error_t *err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  if (prepare(idx,
              "SELECT " IMAGE_COLUMNS " FROM images WHERE name = ?1 AND (?2 IS NULL OR version = ?2)"
              " ORDER BY import_time DESC, id",
              &st, err) < 0)
    return -1;
  bind_text(st, 1, name);
  bind_text(st, 2, version);
  return collect(idx, st, ret, ret_n, err);
}

static int exec_id(struct index *idx, const char *sql, const char *id, int64_t v, const char *what,
                   podrun_error_t *err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  if (prepare(idx, sql, &st, err) < 0)
    return -1;
  bind_text(st, 1, id);
  if (sqlite3_bind_parameter_count(st) >= 2)
    sqlite3_bind_int64(st, 2, v);
  if (sqlite3_step(st) != SQLITE_DONE)
    return db_error(idx, err, what);
  return 0;
}

int index_remove_image(struct index *idx, const char *id, char ***ret_orphans, podrun_error_t *err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  char **orphans = NULL;
  int rc;

  if (exec_sql(idx, "BEGIN IMMEDIATE", "begin", err) < 0)
    return -1;
  if (prepare(idx,
              "SELECT DISTINCT digest FROM image_layers il WHERE image_id = ?1 AND NOT EXISTS"
              " (SELECT 1 FROM image_layers o WHERE o.digest = il.digest AND o.image_id != ?1)",
              &st, err) < 0)
    goto fail;
  bind_text(st, 1, id);
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    orphans = strv_push(orphans, (const char *) sqlite3_column_text(st, 0));
  if (rc != SQLITE_DONE)
    {
      db_error(idx, err, "query layers");
      goto fail;
    }
  if (exec_id(idx, "DELETE FROM images WHERE id = ?1", id, 0, "remove image", err) < 0 ||
      exec_sql(idx, "DELETE FROM layers WHERE NOT EXISTS (SELECT 1 FROM image_layers il WHERE il.digest = layers.digest)",
               "remove layers", err) < 0 ||
      exec_sql(idx, "DELETE FROM layer_trees WHERE NOT EXISTS (SELECT 1 FROM layers l WHERE l.digest = layer_trees.digest)",
               "remove layer trees", err) < 0 ||
      exec_sql(idx, "COMMIT", "commit", err) < 0)
    goto fail;
  if (ret_orphans)
    *ret_orphans = orphans;
  else
    strv_free(orphans);
  return 0;
fail:
  strv_free(orphans);
  (void) sqlite3_exec(idx->db, "ROLLBACK", NULL, NULL, NULL);
  return -1;
}

int index_touch_image(struct index *idx, const char *id, int64_t last_used, podrun_error_t *err)
{
  return exec_id(idx, "UPDATE images SET last_used = ?2 WHERE id = ?1", id, last_used, "touch image", err);
}

int index_get_remote(struct index *idx, const char *url, char **ret_image_id, char **ret_etag, podrun_error_t *err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  if (prepare(idx, "SELECT image_id, etag FROM remotes WHERE aci_url = ?1", &st, err) < 0)
    return -1;
  bind_text(st, 1, url);
  int r = sqlite3_step(st);
  if (r != SQLITE_ROW && r != SQLITE_DONE)
    return db_error(idx, err, "read remote");
  *ret_image_id = r == SQLITE_ROW ? column_text(st, 0) : NULL;
  *ret_etag = r == SQLITE_ROW ? column_text(st, 1) : NULL;
  return 0;
}

int index_set_remote(struct index *idx, const char *url, const char *image_id, const char *etag, podrun_error_t *err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  if (prepare(idx,
              "INSERT OR REPLACE INTO remotes (aci_url, etag, image_id, download_time) VALUES (?1, ?2, ?3, ?4)", &st,
              err) < 0)
    return -1;
  bind_text(st, 1, url);
  bind_text(st, 2, etag);
  bind_text(st, 3, image_id);
  sqlite3_bind_int64(st, 4, store_now_usec());
  if (sqlite3_step(st) != SQLITE_DONE)
    return db_error(idx, err, "record remote");
  return 0;
}

void index_remote_done(struct index_remote *r)
{
  free(r->image_id);
  free(r->sig_url);
  free(r->etag);
  *r = (struct index_remote){ 0 };
}

int index_get_remote_row(struct index *idx, const char *url, struct index_remote *ret, podrun_error_t *err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  if (prepare(idx, "SELECT image_id, sig_url, etag, cache_max_age, download_time FROM remotes WHERE aci_url = ?1",
              &st, err) < 0)
    return -1;
  bind_text(st, 1, url);
  int r = sqlite3_step(st);
  if (r != SQLITE_ROW && r != SQLITE_DONE)
    return db_error(idx, err, "read remote");
  *ret = (struct index_remote){ 0 };
  if (r == SQLITE_ROW)
    *ret = (struct index_remote){ .image_id = column_text(st, 0), .sig_url = column_text(st, 1),
                                  .etag = column_text(st, 2), .max_age = sqlite3_column_int64(st, 3),
                                  .download_time = sqlite3_column_int64(st, 4) };
  return 0;
}

int index_set_remote_row(struct index *idx, const char *url, const struct index_remote *r, podrun_error_t *err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  if (prepare(idx,
              "INSERT OR REPLACE INTO remotes (aci_url, sig_url, etag, image_id, cache_max_age, download_time) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
              &st, err) < 0)
    return -1;
  bind_text(st, 1, url);
  bind_text(st, 2, r->sig_url);
  bind_text(st, 3, r->etag);
  bind_text(st, 4, r->image_id);
  sqlite3_bind_int64(st, 5, r->max_age > 0 ? r->max_age : 0);
  sqlite3_bind_int64(st, 6, r->download_time ? r->download_time : store_now_usec());
  if (sqlite3_step(st) != SQLITE_DONE)
    return db_error(idx, err, "record remote");
  return 0;
}

/* ---- signers (migration 4) ------------------------------------------------ */

int index_set_signer(struct index *idx, const char *id, const struct store_signer *sig, podrun_error_t *err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  if (prepare(idx,
              "UPDATE images SET signer_fingerprint = ?2, signer_prefix = ?3, verified_time = ?4 WHERE id = ?1", &st,
              err) < 0)
    return -1;
  bind_text(st, 1, id);
  bind_text(st, 2, sig ? sig->fingerprint : NULL);
  bind_text(st, 3, sig ? sig->prefix : NULL);
  if (sig)
    sqlite3_bind_int64(st, 4, sig->verified_time);
  else
    sqlite3_bind_null(st, 4);
  if (sqlite3_step(st) != SQLITE_DONE)
    return db_error(idx, err, "record signer");
  return 0;
}

int index_get_signer(struct index *idx, const char *id, struct store_signer *ret, podrun_error_t *err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  int v = 0;
  *ret = (struct store_signer){ 0 };
  if (user_version(idx, &v, err) < 0)
    return -1;
  if (v < 4) /* an older store opened read-only: nothing was verified */
    return 0;
  if (prepare(idx, "SELECT signer_fingerprint, signer_prefix, verified_time FROM images WHERE id = ?1", &st, err) < 0)
    return -1;
  bind_text(st, 1, id);
  int r = sqlite3_step(st);
  if (r != SQLITE_ROW && r != SQLITE_DONE)
    return db_error(idx, err, "read signer");
  if (r == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
    {
      ret->fingerprint = column_text(st, 0);
      ret->prefix = column_text(st, 1);
      ret->verified_time = sqlite3_column_int64(st, 2);
    }
  return 0;
}

/* The store's face of them (store.h); here, beside the queries. */
int store_set_signer(struct store *s, const char *id, const struct store_signer *sig, podrun_error_t *err)
{
  if (s->readonly)
    return podrun_error_new(err, EROFS, "record the signer of %s: the store is open read-only", id);
  return index_set_signer(s->idx, id, sig, err);
}

int store_get_signer(struct store *s, const char *id, struct store_signer *ret, podrun_error_t *err)
{
  return index_get_signer(s->idx, id, ret, err);
}

bool store_changed(struct store *s)
{
  return index_changed(s->idx);
}

int store_get_layers(struct store *s, const char *id, struct store_layer **ret, size_t *ret_n, podrun_error_t *err)
{
  return index_image_layers(s->idx, id, ret, ret_n, err);
}

void store_signer_done(struct store_signer *sig)
{
  free(sig->fingerprint);
  free(sig->prefix);
  *sig = (struct store_signer){ 0 };
}

/* ---- what image verify checks against (migration 5) ------------------------ */

int index_set_layer_tree(struct index *idx, const char *digest, const char *tree_digest, podrun_error_t *err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  if (prepare(idx, "INSERT OR REPLACE INTO layer_trees (digest, tree_digest, extract_time) VALUES (?1, ?2, ?3)", &st,
              err) < 0)
    return -1;
  bind_text(st, 1, digest);
  bind_text(st, 2, tree_digest);
  sqlite3_bind_int64(st, 3, store_now_usec());
  if (sqlite3_step(st) != SQLITE_DONE)
    return db_error(idx, err, "record layer tree");
  return 0;
}

int index_get_layer_tree(struct index *idx, const char *digest, char **ret_tree_digest, podrun_error_t *err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  if (prepare(idx, "SELECT tree_digest FROM layer_trees WHERE digest = ?1", &st, err) < 0)
    return -1;
  bind_text(st, 1, digest);
  int r = sqlite3_step(st);
  if (r != SQLITE_ROW && r != SQLITE_DONE)
    return db_error(idx, err, "read layer tree");
  *ret_tree_digest = r == SQLITE_ROW ? column_text(st, 0) : NULL;
  return 0;
}

int index_set_signature(struct index *idx, const char *id, const char *signature_digest, podrun_error_t *err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  if (prepare(idx, "UPDATE images SET signature_digest = ?2 WHERE id = ?1", &st, err) < 0)
    return -1;
  bind_text(st, 1, id);
  bind_text(st, 2, signature_digest);
  if (sqlite3_step(st) != SQLITE_DONE)
    return db_error(idx, err, "record signature");
  return 0;
}

int index_get_signature(struct index *idx, const char *id, char **ret_signature_digest, podrun_error_t *err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  if (prepare(idx, "SELECT signature_digest FROM images WHERE id = ?1", &st, err) < 0)
    return -1;
  bind_text(st, 1, id);
  int r = sqlite3_step(st);
  if (r != SQLITE_ROW && r != SQLITE_DONE)
    return db_error(idx, err, "read signature");
  *ret_signature_digest = r == SQLITE_ROW ? column_text(st, 0) : NULL;
  return 0;
}

/* ---- a docker:// image's policy decision (migration 6) --------------------- */

void index_policy_record_done(struct index_policy_record *r)
{
  free(r->reference);
  free(r->decision);
  free(r->list_digest);
  strv_free(r->signatures);
  *r = (struct index_policy_record){ 0 };
}

int index_get_policy_record(struct index *idx, const char *id, struct index_policy_record *ret, podrun_error_t *err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL, *sigs = NULL;
  struct index_policy_record r = { 0 };
  int rc;

  if (prepare(idx, "SELECT policy_reference, policy_decision, list_digest FROM images WHERE id = ?1", &st, err) < 0 ||
      prepare(idx, "SELECT digest FROM image_signatures WHERE image_id = ?1 ORDER BY position", &sigs, err) < 0)
    return -1;
  bind_text(st, 1, id);
  bind_text(sigs, 1, id);
  rc = sqlite3_step(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return db_error(idx, err, "read policy decision");
  if (rc == SQLITE_ROW)
    r = (struct index_policy_record){ .reference = column_text(st, 0), .decision = column_text(st, 1),
                                      .list_digest = column_text(st, 2) };
  while ((rc = sqlite3_step(sigs)) == SQLITE_ROW)
    r.signatures = strv_push(r.signatures, (const char *) sqlite3_column_text(sigs, 0));
  if (rc != SQLITE_DONE)
    {
      index_policy_record_done(&r);
      return db_error(idx, err, "read signatures");
    }
  *ret = r;
  return 0;
}

static int insert_signature(struct index *idx, const char *id, size_t position, const char *digest,
                            podrun_error_t *err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  if (prepare(idx, "INSERT INTO image_signatures (image_id, position, digest) VALUES (?1, ?2, ?3)", &st, err) < 0)
    return -1;
  bind_text(st, 1, id);
  sqlite3_bind_int64(st, 2, (int64_t) position);
  bind_text(st, 3, digest);
  if (sqlite3_step(st) != SQLITE_DONE)
    return db_error(idx, err, "record signature");
  return 0;
}

static int set_policy_record(struct index *idx, const char *id, const struct index_policy_record *r,
                             podrun_error_t *err)
{
  _cleanup_stmt_ sqlite3_stmt *st = NULL;
  if (prepare(idx, "UPDATE images SET policy_reference = ?2, policy_decision = ?3, list_digest = ?4 WHERE id = ?1",
              &st, err) < 0)
    return -1;
  bind_text(st, 1, id);
  bind_text(st, 2, r->reference);
  bind_text(st, 3, r->decision);
  bind_text(st, 4, r->list_digest);
  if (sqlite3_step(st) != SQLITE_DONE)
    return db_error(idx, err, "record policy decision");
  if (sqlite3_changes(idx->db) != 1)
    return podrun_error_new(err, ENOENT, "record policy decision: image %s is gone", id);
  if (exec_id(idx, "DELETE FROM image_signatures WHERE image_id = ?1", id, 0, "remove signatures", err) < 0)
    return -1;
  for (size_t i = 0; r->signatures && r->signatures[i]; i++)
    if (insert_signature(idx, id, i, r->signatures[i], err) < 0)
      return -1;
  return 0;
}

int index_set_policy_record(struct index *idx, const char *id, const struct index_policy_record *r,
                            struct index_policy_record *ret_old, podrun_error_t *err)
{
  struct index_policy_record old = { 0 };

  if (exec_sql(idx, "BEGIN IMMEDIATE", "begin", err) < 0)
    return -1;
  if (index_get_policy_record(idx, id, &old, err) < 0 || set_policy_record(idx, id, r, err) < 0 ||
      exec_sql(idx, "COMMIT", "commit", err) < 0)
    {
      index_policy_record_done(&old);
      (void) sqlite3_exec(idx->db, "ROLLBACK", NULL, NULL, NULL);
      return -1;
    }
  *ret_old = old;
  return 0;
}
