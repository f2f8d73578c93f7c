/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "appc.h"
#include "podrun.h"

/* The stage1 policy (Documentation/policy-stage1.md): which stage1 runs an
 * image, the lightest one it may run in, and default isolators for its
 * app. Rules live in <local-config>/stage1.d/ and <system-config>/stage1.d/,
 * files *.json read in name order, a local file masking a system file of
 * the same name; the first rule that matches an image decides for it. (Not
 * to be confused with policy.json, containers' image-signature policy.) */

/* The flavor a pod gets when no rule matches (or there is no policy). */
#define STAGE1_POLICY_DEFAULT "nspawn"

/* How much a stage1 isolates, lightest first. A stage1 image named by a
 * rule or by --stage1-name/-hash/-path/-from-dir counts as fly: podrun
 * cannot know what it isolates, so it is taken to isolate nothing. */
enum stage1_level
{
  STAGE1_LEVEL_NONE = -1, /* no minimum */
  STAGE1_LEVEL_FLY,
  STAGE1_LEVEL_NSPAWN,
  STAGE1_LEVEL_KVM,
};

/* "fly", "nspawn", "kvm": its level; anything else (a stage1 image, an
 * unknown flavor): STAGE1_LEVEL_FLY. */
enum stage1_level stage1_level_of(const char *stage1);
const char *stage1_level_name(enum stage1_level l);
/* One of the flavors the policy knows by name ("fly", "nspawn", "kvm"),
 * whether this podrun has it or not. */
bool stage1_is_flavor(const char *s);

enum stage1_verified
{
  STAGE1_VERIFIED_ANY = -1,
  STAGE1_VERIFIED_UNSIGNED,
  STAGE1_VERIFIED_SIGNED,
};

struct stage1_policy_rule
{
  char *file;  /* the path of its file */
  char *name;
  char *where; /* "FILE:NAME", as explain and status show it */
  /* what it matches: every condition given (none: every image) */
  char *match_name;                /* a glob (fnmatch) of the whole image name */
  struct appc_kvs match_labels;    /* label name → glob of its value */
  struct appc_kvs match_annotations; /* annotation name → glob of its value */
  enum stage1_verified match_verified;
  /* what it decides */
  char *stage1;               /* "fly", "nspawn", "kvm" or a stage1 image NAME[:VERSION] */
  enum stage1_level minimum;  /* the lightest stage1 allowed */
  char *memory, *cpu;         /* default resource limits, NULL: none */
  bool read_only_rootfs;      /* default readOnlyRootFS */
};

struct stage1_policy
{
  struct stage1_policy_rule *rules; /* in order: files by name, then rules by place */
  size_t n_rules;
  char **files; /* the files read, in order (NULL-terminated, may be NULL) */
};

/* Reads the *.json files of local_dir and system_dir (either may be
 * missing). A malformed file or rule is one error naming the file, the rule
 * and what is wrong. */
int stage1_policy_load(const char *local_dir, const char *system_dir, struct stage1_policy *ret, podrun_error_t *err);
/* The same from <--local-config>/stage1.d and <--system-config>/stage1.d. */
int stage1_policy_load_default(struct stage1_policy *ret, podrun_error_t *err);
void stage1_policy_done(struct stage1_policy *p);

/* An image as the rules see it. */
struct stage1_policy_image
{
  const char *name;
  const struct appc_kvs *labels;
  const struct appc_kvs *annotations;
  bool is_signed; /* signed by a key trusted now for a prefix of its name */
};

/* Does any rule look at how images were verified? (Only then is it looked up.) */
bool stage1_policy_needs_signer(const struct stage1_policy *p);

/* The first rule that matches img; NULL when none does. */
const struct stage1_policy_rule *stage1_policy_match(const struct stage1_policy *p,
                                                     const struct stage1_policy_image *img);

struct store;
struct store_image;
/* Whether the store's image id, called name, counts as signed: the index
 * recorded a signer when it was fetched (store_get_signer), and that key is
 * still trusted, now, for that prefix (or as a root key) in the local or
 * the system trust store. *ret_fingerprint: the signer's, NULL when none. */
int stage1_policy_signed(struct store *s, const char *id, const char *name, bool *ret_signed, char **ret_fingerprint,
                         podrun_error_t *err);

/* The rule for an image of the store (its manifest im): the signer looked
 * up only when a rule needs it. *ret NULL: no rule matches. */
int stage1_policy_match_image(const struct stage1_policy *p, struct store *s, const struct store_image *img,
                              const struct appc_image_manifest *im, const struct stage1_policy_rule **ret,
                              podrun_error_t *err);

/* The decision for a pod, from the rules of its apps' images: the strictest
 * wins (the heaviest stage1 chosen, the highest minimum). */
struct stage1_decision
{
  char *stage1;        /* what it chose: a flavor or a stage1 image name */
  char *rule;          /* "FILE:NAME" of the rule that chose it, NULL: no rule did (the default) */
  enum stage1_level minimum;
  char *minimum_rule;  /* "FILE:NAME" of the rule that set the minimum */
  char *minimum_image; /* the image it was set for */
};
void stage1_decision_done(struct stage1_decision *d);

/* rules[i] is the rule of images[i] (NULL: none matched). Two different
 * stage1s of the same level (two stage1 images, or one and fly) cannot both
 * be had: an error naming both rules. */
int stage1_policy_decide(const struct stage1_policy_rule *const *rules, char *const *images, size_t n,
                         struct stage1_decision *ret, podrun_error_t *err);

/* The user's choice against the decision's minimum: flag is what they gave
 * ("--stage1=fly", "--stage1-path=…"), level its level. One line naming the
 * image, the minimum and the rule (its file and name) when it is lighter. */
int stage1_decision_check(const struct stage1_decision *d, const char *flag, enum stage1_level level,
                          podrun_error_t *err);

/* The rule's default isolators for an app whose user gave none: memory and
 * cpu when no --memory/--cpu was given for it (replacing the image's own),
 * readOnlyRootFS added. */
void stage1_policy_apply_isolators(const struct stage1_policy_rule *r, bool user_memory, bool user_cpu,
                                   struct appc_app *app, bool *read_only_rootfs);
