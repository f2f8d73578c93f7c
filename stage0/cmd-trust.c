/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* podrun trust: the keys trusted to sign images (store/trust.h), rkt's
 * `trust` with its review of each key's fingerprint. */
#include <fcntl.h>

#include "fs.h"
#include "json-util.h"
#include "podrun.h"
#include "store/discovery.h"
#include "store/http.h"
#include "store/trust.h"
#include "table.h"
#include "trust-keys.h"

static const char *arg_prefix, *arg_format;
static bool arg_root, arg_list, arg_remove, arg_skip_review, arg_no_legend;

static char *local_dir(void)
{
  return xasprintf("%s/trustedkeys", arg_local_config);
}

static char *system_dir(void)
{
  return xasprintf("%s/trustedkeys", arg_system_config);
}

/* ---- adding --------------------------------------------------------------- */

/* On a terminal: the key's fingerprint and uid, and y to go on. */
static int review(const char *file, const struct trust_key *k, bool *ret_yes, podrun_error_t *err)
{
  char line[64];
  const char *what = arg_prefix ? QUOTE(arg_prefix) : "every image name (a root key)";

  if (!isatty(STDIN_FILENO))
    return podrun_error_set(err, 0,
                            "key %s: stdin is not a terminal to review its fingerprint on; check it "
                            "(gpg --show-keys FILE) and give --skip-fingerprint-review",
                            QUOTE(file));
  fprintf(stderr, "Key %s\n  fingerprint: %s\n  uid:         %s\nTrust it to sign images for %s? [y/N] ",
          QUOTE(file), k->fingerprint, ESCAPE(k->uid), what);
  fflush(stderr);
  *ret_yes = fgets(line, sizeof(line), stdin) && (line[0] == 'y' || line[0] == 'Y') &&
             (line[1] == '\n' || line[1] == '\0' || streq(line + 1, "es\n") || streq(line + 1, "ES\n"));
  return 0;
}

static int add_one(const char *dir, const char *file, podrun_error_t *err)
{
  _cleanup_free_ char *text = NULL;
  struct trust_key k = { 0 }, added = { 0 };
  size_t len = 0;
  bool yes = true;

  if (trust_keys_read(file, &text, &len, err) < 0)
    return podrun_error_wrap(err, "key %s", QUOTE(file));
  if (trust_key_describe(text, len, &k, err) < 0)
    return podrun_error_wrap(err, "key %s", QUOTE(file));
  int r = arg_skip_review ? 0 : review(file, &k, &yes, err);
  trust_key_done(&k);
  if (r < 0)
    return -1;
  if (!yes)
    return podrun_error_set(err, 0, "key %s: not trusted (the review was not answered yes)", QUOTE(file));
  if (trust_add(dir, arg_prefix, text, len, &added, err) < 0)
    return podrun_error_wrap(err, "key %s", QUOTE(file));
  if (arg_prefix)
    printf("Added key %s for prefix %s at %s\n", added.fingerprint, QUOTE(arg_prefix), QUOTE(added.file));
  else
    printf("Added root key %s at %s\n", added.fingerprint, QUOTE(added.file));
  trust_key_done(&added);
  return 0;
}

/* No KEY with --prefix: the keys the prefix's appc discovery names
 * (ac-discovery-pubkeys), as rkt's `trust --prefix` did. */
static int discovered_keys(char ***ret, podrun_error_t *err)
{
  _cleanup_http_ struct http *h = NULL;
  struct discovery_result dr = { 0 };

  if (trust_keys_http(&h, err) < 0 || discovery_resolve(h, arg_prefix, NULL, arg_insecure & INSECURE_HTTP, &dr, err) < 0)
    {
      discovery_result_done(&dr);
      return podrun_error_wrap(err, "keys of %s", QUOTE(arg_prefix));
    }
  *ret = TAKE_PTR(dr.pubkeys);
  discovery_result_done(&dr);
  if (!*ret)
    return podrun_error_set(err, 0, "keys of %s: its discovery names none (ac-discovery-pubkeys); give the KEY files",
                            QUOTE(arg_prefix));
  return 0;
}

static int trust_add_keys(int argc, char **argv, podrun_error_t *err)
{
  _cleanup_free_ char *dir = local_dir();
  _cleanup_strv_ char **found = NULL;
  int failed = 0;

  if (argc == 0 && !arg_prefix)
    return podrun_error_set(err, 0, "no KEY: give the key files or URLs to trust as root keys");
  if (argc == 0)
    {
      if (discovered_keys(&found, err) < 0)
        return -1;
      argc = (int) strv_length(found);
      argv = found;
    }
  for (int i = 0; i < argc; i++)
    {
      podrun_error_t e = NULL;
      if (add_one(dir, argv[i], &e) < 0)
        keep_error(err, &e, &failed); /* the other keys are still added */
    }
  return failed ? -1 : 0;
}

/* ---- listing and removing ------------------------------------------------- */

static json_t *key_json(const struct trust_key *k)
{
  return json_pack("{s:s,s:b,s:s,s:s,s:s,s:b,s:b}", "prefix", k->prefix, "root", !*k->prefix, "fingerprint",
                   k->fingerprint, "uid", k->uid, "file", k->file, "system", k->system, "masked", k->masked);
}

static int trust_list_keys(podrun_error_t *err)
{
  _cleanup_free_ char *local = local_dir(), *sys = system_dir();
  struct trust_key *v = NULL;
  size_t n = 0;

  if (check_format(arg_format, err) < 0 || trust_list(local, sys, &v, &n, err) < 0)
    return -1;
  if (arg_format)
    {
      _cleanup_json_ json_t *arr = json_array();
      for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, key_json(&v[i]));
      _cleanup_free_ char *s = json_dump_sorted(arr, streq(arg_format, "json-pretty"));
      printf("%s\n", s);
    }
  else
    {
      static const char *const legend[] = { "PREFIX", "FINGERPRINT", "UID", "FILE" };
      struct table t;
      table_init(&t, legend, ELEMENTSOF(legend));
      for (size_t i = 0; i < n; i++)
        {
          char *row[] = { xstrdup(*v[i].prefix ? v[i].prefix : "(root)"), xstrdup(v[i].fingerprint),
                          xstrdup(ESCAPE(v[i].uid)), xstrdup(v[i].file) };
          table_add(&t, row);
        }
      table_print(&t, !arg_no_legend);
      table_done(&t);
    }
  trust_key_list_free(v, n);
  return 0;
}

static int trust_remove_keys(int argc, char **argv, podrun_error_t *err)
{
  _cleanup_free_ char *local = local_dir(), *sys = system_dir();
  int failed = 0;

  if (argc == 0)
    return podrun_error_set(err, 0, "--remove: give the FINGERPRINT of each key (see podrun trust --list)");
  for (int i = 0; i < argc; i++)
    {
      podrun_error_t e = NULL;
      _cleanup_strv_ char **files = NULL;
      if (trust_remove(local, sys, argv[i], &files, &e) < 0)
        {
          keep_error(err, &e, &failed);
          continue;
        }
      for (size_t j = 0; files[j]; j++)
        printf("Removed %s\n", QUOTE(files[j]));
    }
  return failed ? -1 : 0;
}

int cmd_trust(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err)
{
  int modes = !!arg_list + !!arg_remove + !!(arg_prefix || arg_root);
  if (modes > 1 || (arg_prefix && arg_root))
    return podrun_error_set(err, 0, "give one of --prefix=PREFIX, --root, --list and --remove");
  if (modes == 0)
    return podrun_error_set(err, 0, "give --prefix=PREFIX or --root (and KEY files), --list, or --remove FINGERPRINT");
  if (arg_list)
    return argc ? podrun_error_set(err, 0, "--list takes no arguments") : trust_list_keys(err);
  if (arg_remove)
    return trust_remove_keys(argc, argv, err);
  return trust_add_keys(argc, argv, err);
}

const struct opt trust_opts[] = {
  { "prefix", OPT_STRING, &arg_prefix, "trust the KEYs for image names under this prefix", "PREFIX" },
  { "root", OPT_BOOL, &arg_root, "trust the KEYs for every image name", NULL },
  { "skip-fingerprint-review", OPT_BOOL, &arg_skip_review, "trust without showing the key and asking", NULL },
  { "list", OPT_BOOL, &arg_list, "list the trusted keys", NULL },
  { "remove", OPT_BOOL, &arg_remove, "stop trusting the keys of these fingerprints", NULL },
  { "no-legend", OPT_BOOL, &arg_no_legend, "--list: do not print the header line", NULL },
  { "format", OPT_STRING, &arg_format, "--list: output as json or json-pretty", "FORMAT" },
  { NULL },
};
