/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* store/trust: prefix escaping and matching, fingerprints, the trust store's
 * add/list/remove on a temporary directory with a key gpg makes here, one
 * verification, and the index's record of an image's signer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "fs.h"
#include "store/index.h"
#include "store/trust.h"

static void test_escape(void **state)
{
  static const struct { const char *in, *out; } good[] = {
    { "example.com", "example.com" },
    { "example.com/app", "example.com,app" },
    { "example.com/a/b-c_d~e", "example.com,a,b-c_d~e" },
  };
  for (size_t i = 0; i < ELEMENTSOF(good); i++)
    {
      _cleanup_free_ char *e = trust_escape_prefix(good[i].in);
      assert_non_null(e);
      assert_string_equal(e, good[i].out);
      _cleanup_free_ char *u = trust_unescape_prefix(e);
      assert_string_equal(u, good[i].in);
    }
  static const char *const bad[] = { "", "/", "example.com/", "/example.com", "Example.com", "a,b", "a b", "a//b",
                                     "..", "a/../b" };
  for (size_t i = 0; i < ELEMENTSOF(bad); i++)
    {
      _cleanup_free_ char *e = trust_escape_prefix(bad[i]);
      if (e)
        fail_msg("\"%s\" escaped to \"%s\"", bad[i], e);
    }
  assert_null(trust_escape_prefix(NULL));
  assert_null(trust_unescape_prefix("Upper,case"));
}

static void test_prefix_covers(void **state)
{
  assert_true(trust_prefix_covers("example.com", "example.com"));
  assert_true(trust_prefix_covers("example.com", "example.com/app"));
  assert_true(trust_prefix_covers("example.com/app", "example.com/app"));
  assert_true(trust_prefix_covers("example.com/app", "example.com/app/sub"));
  assert_false(trust_prefix_covers("example.co", "example.com"));
  assert_false(trust_prefix_covers("example.com", "example.com2/app"));
  assert_false(trust_prefix_covers("example.com/app", "example.com/application"));
  assert_false(trust_prefix_covers("example.com/app", "example.com"));
  assert_false(trust_prefix_covers("", "example.com"));
}

static void test_fingerprint(void **state)
{
  _cleanup_free_ char *a = trust_normalize_fingerprint("6B03 14FA ACF0 0854 1427  F0E2 DD1E 780C BD09 3DAD");
  assert_string_equal(a, "6b0314faacf008541427f0e2dd1e780cbd093dad");
  _cleanup_free_ char *b = trust_normalize_fingerprint("6b0314faacf008541427f0e2dd1e780cbd093dad");
  assert_string_equal(b, a);
  assert_null(trust_normalize_fingerprint("6b0314fa"));
  assert_null(trust_normalize_fingerprint("6b0314faacf008541427f0e2dd1e780cbd093dag"));
  assert_null(trust_normalize_fingerprint("../6b0314faacf008541427f0e2dd1e780cbd093d"));
  assert_null(trust_normalize_fingerprint(""));
}

/* ---- the store on disk, with a key of gpg's ---- */

struct fixture
{
  char *dir;             /* the test's directory */
  char *key, *fpr;       /* an armored public key and its fingerprint */
  char *data, *sig;      /* a file and its detached signature by that key */
};

static int run(const char *cmd)
{
  int r = system(cmd);
  return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

static int setup(void **state)
{
  struct fixture *f = xzalloc(sizeof(*f));
  f->dir = xstrdup("/tmp/podrun-test-trust-XXXXXX");
  assert_non_null(mkdtemp(f->dir));
  *state = f;
  if (run("command -v gpg >/dev/null") != 0)
    return 0; /* the tests that need a key skip */
  _cleanup_free_ char *cmd = xasprintf(
      "set -e; export GNUPGHOME=%s/gnupg; mkdir -m 0700 $GNUPGHOME; cd %s;"
      " gpg --batch --quiet --passphrase '' --quick-gen-key 'Unit <unit@podrun.test>' ed25519 sign never 2>/dev/null;"
      " gpg --armor --export unit@podrun.test >key.asc;"
      " gpg --with-colons --list-keys unit@podrun.test | awk -F: '/^fpr/ { print tolower($10); exit }' >fpr;"
      " echo signed data >data; gpg --batch --quiet --armor --detach-sign data;"
      " gpgconf --kill all",
      f->dir, f->dir);
  assert_int_equal(run(cmd), 0);
  size_t len;
  podrun_error_t err = NULL;
  _cleanup_free_ char *fpr_path = xasprintf("%s/fpr", f->dir), *key_path = xasprintf("%s/key.asc", f->dir);
  assert_int_equal(fs_read_file_at(AT_FDCWD, key_path, 1 << 20, &f->key, &len, &err), 0);
  assert_int_equal(fs_read_file_at(AT_FDCWD, fpr_path, 100, &f->fpr, &len, &err), 0);
  f->fpr[strcspn(f->fpr, "\n")] = '\0';
  f->data = xasprintf("%s/data", f->dir);
  f->sig = xasprintf("%s/data.asc", f->dir);
  return 0;
}

static int teardown(void **state)
{
  struct fixture *f = *state;
  podrun_error_t err = NULL;
  assert_int_equal(fs_rm_rf_at(AT_FDCWD, f->dir, &err), 0);
  free(f->dir);
  free(f->key);
  free(f->fpr);
  free(f->data);
  free(f->sig);
  free(f);
  return 0;
}

static void test_add_list_remove(void **state)
{
  struct fixture *f = *state;
  _cleanup_free_ char *local = xasprintf("%s/conf/trustedkeys", f->dir), *sys = xasprintf("%s/sys/trustedkeys", f->dir);
  _cleanup_error_ podrun_error_t err = NULL;
  struct trust_key k = { 0 }, *v = NULL;
  size_t n = 0;
  struct stat st;

  if (!f->key)
    skip();
  /* an empty store lists nothing */
  assert_int_equal(trust_list(local, sys, &v, &n, &err), 0);
  assert_int_equal(n, 0);
  trust_key_list_free(v, n);

  assert_int_equal(trust_add(local, "example.com/app", f->key, strlen(f->key), &k, &err), 0);
  assert_string_equal(k.fingerprint, f->fpr);
  assert_string_equal(k.prefix, "example.com/app");
  assert_string_equal(k.uid, "Unit <unit@podrun.test>");
  _cleanup_free_ char *want = xasprintf("%s/prefix.d/example.com,app/%s", local, f->fpr);
  assert_string_equal(k.file, want);
  assert_int_equal(stat(want, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0644);
  trust_key_done(&k);
  assert_int_equal(trust_add(local, NULL, f->key, strlen(f->key), &k, &err), 0);
  assert_string_equal(k.prefix, "");
  trust_key_done(&k);

  assert_int_equal(trust_list(local, sys, &v, &n, &err), 0);
  assert_int_equal(n, 2);
  assert_string_equal(v[0].prefix, ""); /* root.d first */
  assert_string_equal(v[1].prefix, "example.com/app");
  assert_string_equal(v[1].uid, "Unit <unit@podrun.test>");
  assert_false(v[1].system);
  trust_key_list_free(v, n);

  /* not a key, a bad prefix */
  assert_int_equal(trust_add(local, "example.com", "garbage", 7, &k, &err), -1);
  assert_non_null(strstr(err->msg, "not an armored OpenPGP public key"));
  podrun_error_free(&err);
  assert_int_equal(trust_add(local, "Example.com/", f->key, strlen(f->key), &k, &err), -1);
  podrun_error_free(&err);

  char **files = NULL;
  assert_int_equal(trust_remove(local, sys, f->fpr, &files, &err), 0);
  assert_int_equal(strv_length(files), 2);
  strv_free(files);
  _cleanup_free_ char *pdir = xasprintf("%s/prefix.d/example.com,app", local);
  assert_int_equal(access(pdir, F_OK), -1);
  assert_int_equal(trust_remove(local, sys, f->fpr, &files, &err), -1);
  assert_int_equal(err->status, ENOENT);
}

static void test_verify(void **state)
{
  struct fixture *f = *state;
  _cleanup_free_ char *local = xasprintf("%s/conf/trustedkeys", f->dir), *sys = xasprintf("%s/sys/trustedkeys", f->dir);
  _cleanup_error_ podrun_error_t err = NULL;
  struct trust_key k = { 0 };
  struct trust_result res = { 0 };

  if (!f->key)
    skip();
  _cleanup_close_ int data = open(f->data, O_RDONLY | O_CLOEXEC), sig = open(f->sig, O_RDONLY | O_CLOEXEC);
  assert_true(data >= 0 && sig >= 0);
  assert_int_equal(trust_verify(local, sys, "example.com/app", data, sig, &res, &err), -1);
  assert_non_null(strstr(err->msg, "no key is trusted for \"example.com/app\""));
  podrun_error_free(&err);

  /* the system set counts, for a path-component prefix */
  assert_int_equal(trust_add(sys, "example.com", f->key, strlen(f->key), &k, &err), 0);
  trust_key_done(&k);
  assert_int_equal(trust_verify(local, sys, "example.co", data, sig, &res, &err), -1);
  podrun_error_free(&err);
  assert_int_equal(trust_verify(local, sys, "example.com/app", data, sig, &res, &err), 0);
  assert_string_equal(res.fingerprint, f->fpr);
  assert_string_equal(res.prefix, "example.com");
  assert_true(res.verified_time > 0);
  trust_result_done(&res);
  /* the system set is read-only */
  char **files = NULL;
  assert_int_equal(trust_remove(local, sys, f->fpr, &files, &err), -1);
  assert_int_equal(err->status, EPERM);
  podrun_error_free(&err);
  /* the data as signed, not other bytes */
  _cleanup_close_ int other = open(f->sig, O_RDONLY | O_CLOEXEC);
  assert_int_equal(trust_verify(local, sys, "example.com/app", other, sig, &res, &err), -1);
  assert_string_equal(err->msg, "bad signature");
  podrun_error_free(&err);
  assert_int_equal(trust_verify(local, sys, "example.com/app", data, data, &res, &err), -1);
  assert_string_equal(err->msg, "not a signature");
}

/* rkt's masking: an empty local file named like a system key masks it
 * (listed masked, counted and trusted for nothing); a stray empty file
 * means nothing; a local copy replaces the system's. */
static void test_masking(void **state)
{
  struct fixture *f = *state;
  _cleanup_free_ char *local = xasprintf("%s/conf/trustedkeys", f->dir), *sys = xasprintf("%s/sys/trustedkeys", f->dir);
  _cleanup_error_ podrun_error_t err = NULL;
  struct trust_key k = { 0 }, *v = NULL;
  struct trust_result res = { 0 };
  size_t n = 0;

  if (!f->key)
    skip();
  assert_int_equal(trust_add(sys, "example.com", f->key, strlen(f->key), &k, &err), 0);
  trust_key_done(&k);
  assert_int_equal(trust_count_for(local, sys, "example.com/app", &n, &err), 0);
  assert_int_equal(n, 1);
  assert_int_equal(trust_count_for(local, sys, "example.org/app", &n, &err), 0);
  assert_int_equal(n, 0);

  /* a stray empty file (no system key of its name) is nothing */
  _cleanup_free_ char *stray_dir = xasprintf("%s/prefix.d/example.org", local);
  _cleanup_free_ char *stray = xasprintf("%s/%s", stray_dir, f->fpr);
  assert_int_equal(fs_mkdir_p(stray_dir, 0755, &err), 0);
  assert_int_equal(fs_write_file_atomic_at(AT_FDCWD, stray, "", 0, 0644, &err), 0);
  assert_int_equal(trust_list(local, sys, &v, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_false(v[0].masked);
  trust_key_list_free(v, n);

  /* the mask */
  _cleanup_free_ char *mask_dir = xasprintf("%s/prefix.d/example.com", local);
  _cleanup_free_ char *mask = xasprintf("%s/%s", mask_dir, f->fpr);
  assert_int_equal(fs_mkdir_p(mask_dir, 0755, &err), 0);
  assert_int_equal(fs_write_file_atomic_at(AT_FDCWD, mask, "", 0, 0644, &err), 0);
  assert_int_equal(trust_list(local, sys, &v, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_true(v[0].masked);
  assert_true(v[0].system);
  _cleanup_free_ char *want = xasprintf("(masked by %s)", mask);
  assert_string_equal(v[0].uid, want);
  trust_key_list_free(v, n);
  assert_int_equal(trust_count_for(local, sys, "example.com/app", &n, &err), 0);
  assert_int_equal(n, 0);
  _cleanup_close_ int data = open(f->data, O_RDONLY | O_CLOEXEC), sig = open(f->sig, O_RDONLY | O_CLOEXEC);
  assert_int_equal(trust_verify(local, sys, "example.com/app", data, sig, &res, &err), -1);
  assert_non_null(strstr(err->msg, "no key is trusted"));
  podrun_error_free(&err);

  /* a local copy replaces the system's */
  assert_int_equal(trust_add(local, "example.com", f->key, strlen(f->key), &k, &err), 0);
  trust_key_done(&k);
  assert_int_equal(trust_list(local, sys, &v, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_false(v[0].masked);
  assert_false(v[0].system);
  trust_key_list_free(v, n);
  assert_int_equal(trust_verify(local, sys, "example.com/app", data, sig, &res, &err), 0);
  trust_result_done(&res);
}

static void test_index_signer(void **state)
{
  struct fixture *f = *state;
  _cleanup_free_ char *path = xasprintf("%s/index.db", f->dir);
  _cleanup_error_ podrun_error_t err = NULL;
  struct index *idx = NULL;
  struct store_signer got = { 0 };
  struct store_image img = { .id = (char *) "sha512-aa", .name = (char *) "example.com/a", .manifest = (char *) "{}",
                             .labels = (char *) "[]" };
  struct store_layer layer = { .digest = (char *) "sha512-aa", .media_type = (char *) STORE_MEDIA_ACI };

  assert_int_equal(index_open(path, false, &idx, &err), 0);
  assert_int_equal(index_add_image(idx, &img, &layer, 1, NULL, &err), 0);
  assert_int_equal(index_get_signer(idx, "sha512-aa", &got, &err), 0);
  assert_null(got.fingerprint);
  struct store_signer sig = { .fingerprint = (char *) "abcd", .prefix = (char *) "", .verified_time = 42 };
  assert_int_equal(index_set_signer(idx, "sha512-aa", &sig, &err), 0);
  assert_int_equal(index_get_signer(idx, "sha512-aa", &got, &err), 0);
  assert_string_equal(got.fingerprint, "abcd");
  assert_string_equal(got.prefix, "");
  assert_int_equal(got.verified_time, 42);
  store_signer_done(&got);
  assert_int_equal(index_set_signer(idx, "sha512-aa", NULL, &err), 0);
  assert_int_equal(index_get_signer(idx, "sha512-aa", &got, &err), 0);
  assert_null(got.fingerprint);
  assert_int_equal(index_get_signer(idx, "sha512-nope", &got, &err), 0);
  assert_null(got.fingerprint);
  index_close(idx);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_escape),
    cmocka_unit_test(test_prefix_covers),
    cmocka_unit_test(test_fingerprint),
    cmocka_unit_test_setup_teardown(test_add_list_remove, setup, teardown),
    cmocka_unit_test_setup_teardown(test_verify, setup, teardown),
    cmocka_unit_test_setup_teardown(test_masking, setup, teardown),
    cmocka_unit_test_setup_teardown(test_index_signer, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
