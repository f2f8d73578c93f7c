/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "podrun.h"

/* How fetch, run and prepare get an image, the flags they share. */
struct fetch_args
{
  const char *os, *arch;   /* the platform of a manifest list (default: the host's) */
  const char *authfile;    /* a containers-style auth.json */
  const char *pull_policy; /* never | new (default) | update */
  bool quiet;              /* no progress */
  const char *signature;   /* a local ACI's detached signature (default: FILE.asc beside it) */
  bool trust_keys_from_https; /* an image found by discovery: trust the keys it names over https, on first use */
};
extern struct fetch_args arg_fetch;

#define FETCH_OPTS                                                                                              \
  { "pull-policy", OPT_STRING, &arg_fetch.pull_policy,                                                       \
    "never (the store only), new (fetch what the store lacks; the default), update (ask the registry again)", \
    "POLICY" },                                                                                              \
    { "os", OPT_STRING, &arg_fetch.os, "the OS of the image to take from a manifest list (default linux)", "OS" }, \
    { "arch", OPT_STRING, &arg_fetch.arch,                                                                   \
      "the architecture to take from a manifest list (default the host's, e.g. amd64)", "ARCH" },            \
    { "authfile", OPT_STRING, &arg_fetch.authfile, "registry credentials in a containers auth.json", "FILE" }, \
    { "quiet", OPT_BOOL, &arg_fetch.quiet, "no progress on the terminal", NULL },                           \
    { "signature", OPT_STRING, &arg_fetch.signature,                                                         \
      "the detached signature of a local ACI (default: the ACI's path with .asc added)", "FILE" },               \
    { "trust-keys-from-https", OPT_BOOL, &arg_fetch.trust_keys_from_https,                                    \
      "an image found by name: trust the keys its discovery names over https for its name, when none is yet", \
      NULL }

/* The store's image for ref, fetched first when it is not there (or when
 * --pull-policy=update asks): an ACI file, NAME[:VERSION], an image id,
 * docker://…, oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE. */
int image_fetch(struct store *s, const char *ref, char **ret_id, podrun_error_t *err);
