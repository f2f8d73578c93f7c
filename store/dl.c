/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "dl.h"

#include <dlfcn.h>

#define DL_DEFINE(f) typeof(f) *sym_##f;
DL_ARCHIVE_SYMBOLS(DL_DEFINE)
DL_CRYPTO_SYMBOLS(DL_DEFINE)
DL_CURL_SYMBOLS(DL_DEFINE)
DL_GPGME_SYMBOLS(DL_DEFINE)
DL_YAML_SYMBOLS(DL_DEFINE)
#undef DL_DEFINE

struct dl_symbol
{
  const char *name;
  void **ptr;
};
#define DL_ENTRY(f) { #f, (void **) &sym_##f },

static int load(const char *soname, const char *package, const struct dl_symbol *syms, size_t n, bool *loaded,
                podrun_error_t *err)
{
  if (*loaded)
    return 0;
  void *dl = dlopen(soname, RTLD_NOW | RTLD_NODELETE);
  if (!dl)
    return podrun_error_new(err, ENOENT, "%s (package %s): %s", soname, package, dlerror());
  for (size_t i = 0; i < n; i++)
    if (!(*syms[i].ptr = dlsym(dl, syms[i].name)))
      return podrun_error_new(err, ENOENT, "%s: no symbol %s", soname, syms[i].name);
  *loaded = true;
  return 0;
}

int dl_load_archive(podrun_error_t *err)
{
  static const struct dl_symbol syms[] = { DL_ARCHIVE_SYMBOLS(DL_ENTRY) };
  static bool loaded;
  return load("libarchive.so.13", "libarchive13", syms, ELEMENTSOF(syms), &loaded, err);
}

int dl_load_crypto(podrun_error_t *err)
{
  static const struct dl_symbol syms[] = { DL_CRYPTO_SYMBOLS(DL_ENTRY) };
  static bool loaded;
  return load("libcrypto.so.3", "libssl3", syms, ELEMENTSOF(syms), &loaded, err);
}

int dl_load_curl(podrun_error_t *err)
{
  static const struct dl_symbol syms[] = { DL_CURL_SYMBOLS(DL_ENTRY) };
  static bool loaded;
  if (load("libcurl.so.4", "libcurl4", syms, ELEMENTSOF(syms), &loaded, err) < 0)
    return -1;
  static bool initialised;
  if (!initialised)
    {
      CURLcode c = sym_curl_global_init(CURL_GLOBAL_DEFAULT);
      if (c != CURLE_OK)
        return podrun_error_new(err, EIO, "libcurl.so.4: %s", sym_curl_easy_strerror(c));
      initialised = true;
    }
  return 0;
}

int dl_load_gpgme(podrun_error_t *err)
{
  static const struct dl_symbol syms[] = { DL_GPGME_SYMBOLS(DL_ENTRY) };
  static bool loaded;
  if (load("libgpgme.so.11", "libgpgme11", syms, ELEMENTSOF(syms), &loaded, err) < 0)
    return -1;
  /* gpgme wants its version checked once before any context is made */
  static bool initialised;
  if (!initialised)
    {
      if (!sym_gpgme_check_version("1.13.0"))
        return podrun_error_new(err, ENOENT, "libgpgme.so.11: version 1.13 or later needed");
      initialised = true;
    }
  return 0;
}

int dl_load_yaml(podrun_error_t *err)
{
  static const struct dl_symbol syms[] = { DL_YAML_SYMBOLS(DL_ENTRY) };
  static bool loaded;
  return load("libyaml-0.so.2", "libyaml-0-2", syms, ELEMENTSOF(syms), &loaded, err);
}
