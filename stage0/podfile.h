/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Pod files (Documentation/systemd.md): /etc/podrun/pods/NAME.pod, an
 * INI-like declaration of a pod (its images, app flags, volumes, network,
 * stage1 flavor) and of the systemd unit that runs it (restart policy and
 * the rest of [Unit], [Service], [Install]), turned into NAME.service by
 * the generator and by `podrun generate unit --from-file`. */

struct podfile_app
{
  char *image;
  char **flags; /* the app's flags for run (--name=…, --exec=…, …) */
  char **args;  /* Exec='s arguments after the command, NULL: none */
};

struct podfile
{
  char *name;          /* the unit's name without .service: the file's, without .pod */
  char *path;
  char **global_flags; /* --dir=…, --insecure-options=… */
  char **pod_flags;    /* --volume=…, --net=…, … */
  struct podfile_app *apps;
  size_t n_apps;
  char **unit, **service, **install; /* KEY=VALUE lines passed on to the unit's sections */
  bool has_description;
  bool fly; /* Stage1=fly, whose run does not speak sd_notify: Type=exec */
};

/* Parses a pod file's text; path names it in the errors and gives the
 * unit's name. Returns 0 and *ret, or -1 and *ret_errors: every error, one
 * line each, "PATH:LINE: reason" (user text quoted and escaped). */
int podfile_parse(const char *path, const char *text, struct podfile **ret, char ***ret_errors);

/* The ExecStart= words: podrun (its absolute path), the global flags, run,
 * the pod flags, each app's image, flags and arguments. */
char **podfile_argv(const struct podfile *f, const char *podrun);

/* The unit's text (NAME.service). */
char *podfile_unit(const struct podfile *f, const char *podrun);

/* One word as systemd's ExecStart= reads it back: quoted when needed, with
 * % (specifiers) and $ (variables) escaped. */
char *podfile_quote(const char *word);

/* The [Install] section's WantedBy= (want: true) or RequiredBy= targets, for
 * the generator's NAME.wants/ and NAME.requires/ links. */
char **podfile_install_targets(const struct podfile *f, bool want);

void podfile_free(struct podfile *f);
static inline void podfile_freep(struct podfile **f) { podfile_free(*f); }
#define _cleanup_podfile_ _cleanup_(podfile_freep)
