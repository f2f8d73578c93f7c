/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pod files: parsed line by line against a table of [Pod] keys (each the
 * run flag it becomes), [Unit], [Service] and [Install] passed on to the
 * unit, every error collected as "PATH:LINE: reason". */
#include "podfile.h"

#include <stdarg.h>
#include <stdio.h>

#include "appc.h"
#include "podrun.h"
#include "util.h"

enum scope
{
  SCOPE_GLOBAL, /* podrun's global flags */
  SCOPE_POD,    /* run's pod flags */
  SCOPE_IMAGE,  /* Image=: a new app */
  SCOPE_APP,    /* the last Image='s app flags */
};

enum check
{
  CHECK_ANY,
  CHECK_BOOL,     /* the flag alone when true */
  CHECK_ABSOLUTE, /* an absolute path */
  CHECK_NAME,     /* an AC name */
  CHECK_KV,       /* NAME=VALUE */
  CHECK_INSECURE, /* --insecure-options's list */
  CHECK_EXEC,     /* a command line */
};

struct pod_key
{
  const char *key;
  enum scope scope;
  const char *flag;
  enum check check;
};

static const struct pod_key pod_keys[] = {
  { "Dir", SCOPE_GLOBAL, "--dir", CHECK_ABSOLUTE },
  { "InsecureOptions", SCOPE_GLOBAL, "--insecure-options", CHECK_INSECURE },
  { "Volume", SCOPE_POD, "--volume", CHECK_ANY },
  { "Network", SCOPE_POD, "--net", CHECK_ANY },
  { "Hostname", SCOPE_POD, "--hostname", CHECK_ANY },
  { "DNS", SCOPE_POD, "--dns", CHECK_ANY },
  { "Stage1", SCOPE_POD, "--stage1", CHECK_NAME },
  { "PrivateUsers", SCOPE_POD, "--private-users", CHECK_BOOL },
  { "Image", SCOPE_IMAGE, NULL, CHECK_ANY },
  { "Name", SCOPE_APP, "--name", CHECK_NAME },
  { "Exec", SCOPE_APP, "--exec", CHECK_EXEC },
  { "Environment", SCOPE_APP, "--set-env", CHECK_KV },
  { "Mount", SCOPE_APP, "--mount", CHECK_ANY },
  { "Annotation", SCOPE_APP, "--annotation", CHECK_KV },
  { "User", SCOPE_APP, "--user", CHECK_ANY },
  { "Group", SCOPE_APP, "--group", CHECK_ANY },
  { "WorkingDirectory", SCOPE_APP, "--working-dir", CHECK_ABSOLUTE },
  { "ReadOnlyRootfs", SCOPE_APP, "--readonly-rootfs", CHECK_BOOL },
  { "Memory", SCOPE_APP, "--memory", CHECK_ANY },
  { "CPU", SCOPE_APP, "--cpu", CHECK_ANY },
};

/* [Service] keys that podrun's unit sets itself. */
static const char *const service_reserved[] = { "Type", "ExecStart", "NotifyAccess", "ExecStop", "ExecReload",
                                                "PIDFile", "BusName", "RemainAfterExit" };
static const char *const restart_values[] = { "no", "on-success", "on-failure", "on-abnormal",
                                              "on-watchdog", "on-abort", "always" };

#define UNIT_NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.\\@"

/* NAME.TYPE of systemd's unit names' characters, not a path. */
static bool unit_name_is_valid(const char *s)
{
  const char *dot = strrchr(s, '.');
  if (!dot || dot == s || !dot[1] || strlen(s) > 255 || s[0] == '.')
    return false;
  return strspn(s, UNIT_NAME_CHARS) == strlen(s);
}

enum section
{
  SECTION_NONE,
  SECTION_UNIT,
  SECTION_POD,
  SECTION_SERVICE,
  SECTION_INSTALL,
};

struct parser
{
  const char *path;
  unsigned line;
  char **errors;
  struct podfile *f;
  enum section section;
  bool seen_pod;
};

_printf_(2, 3) static void error(struct parser *p, const char *fmt, ...)
{
  va_list ap;
  _cleanup_free_ char *msg = NULL;
  va_start(ap, fmt);
  if (vasprintf(&msg, fmt, ap) < 0)
    abort(); /* out of memory, as x*alloc */
  va_end(ap);
  /* line 0: the whole file's */
  _cleanup_free_ char *line =
    p->line ? xasprintf("%s:%u: %s", p->path, p->line, msg) : xasprintf("%s: %s", p->path, msg);
  p->errors = strv_push(p->errors, line);
}

static bool has_control(const char *s)
{
  for (; *s; s++)
    if ((unsigned char) *s < ' ' || *s == 0x7f)
      return true;
  return false;
}

/* Exec='s words: blanks separate them, "…" (with \" and \\) and '…' quote. */
static int split_words(const char *s, char ***ret)
{
  char **v = NULL;
  while (*s)
    {
      while (*s == ' ' || *s == '\t')
        s++;
      if (!*s)
        break;
      _cleanup_free_ char *w = xmalloc(strlen(s) + 1);
      size_t n = 0;
      while (*s && *s != ' ' && *s != '\t')
        {
          char q = *s;
          if (q != '"' && q != '\'')
            {
              w[n++] = *s++;
              continue;
            }
          for (s++; *s && *s != q; s++)
            w[n++] = q == '"' && *s == '\\' && (s[1] == '"' || s[1] == '\\') ? *++s : *s;
          if (*s != q)
            {
              strv_free(v);
              return -1;
            }
          s++;
        }
      w[n] = '\0';
      v = strv_push(v, w);
    }
  *ret = v;
  return 0;
}

static struct podfile_app *last_app(struct parser *p, const char *key)
{
  if (p->f->n_apps == 0)
    {
      error(p, "%s= before any Image=: an app's key belongs to the Image= above it", key);
      return NULL;
    }
  return &p->f->apps[p->f->n_apps - 1];
}

static bool check_value(struct parser *p, const struct pod_key *k, const char *v, bool *ret_bool)
{
  _cleanup_error_ podrun_error_t err = NULL;
  unsigned bits;
  switch (k->check)
    {
    case CHECK_BOOL:
      if (parse_boolean(v, ret_bool, &err) < 0)
        {
          error(p, "%s=%s: not a boolean (true or false)", k->key, ESCAPE(v));
          return false;
        }
      return true;
    case CHECK_ABSOLUTE:
      if (v[0] != '/')
        {
          error(p, "%s=%s: not an absolute path", k->key, ESCAPE(v));
          return false;
        }
      return true;
    case CHECK_NAME:
      if (!appc_name_is_valid(v))
        {
          error(p, "%s=%s: not a name (lowercase letters, digits and dashes)", k->key, ESCAPE(v));
          return false;
        }
      return true;
    case CHECK_KV:
      if (!strchr(v, '=') || v[0] == '=')
        {
          error(p, "%s=%s: expected NAME=VALUE", k->key, ESCAPE(v));
          return false;
        }
      return true;
    case CHECK_INSECURE:
      if (parse_insecure_options(v, &bits, &err) < 0)
        {
          const char *why = startswith(err->msg, "--insecure-options: ");
          error(p, "%s=%s: %s", k->key, ESCAPE(v), why ? why : err->msg);
          return false;
        }
      return true;
    case CHECK_ANY:
    case CHECK_EXEC:
      return true;
    }
  return true;
}

static void set_exec(struct parser *p, struct podfile_app *a, const char *v)
{
  char **words = NULL;
  if (split_words(v, &words) < 0)
    {
      error(p, "Exec=%s: a quote is not closed", ESCAPE(v));
      return;
    }
  if (!words || words[0][0] != '/')
    {
      error(p, "Exec=%s: the command must be an absolute path", ESCAPE(v));
      strv_free(words);
      return;
    }
  _cleanup_free_ char *flag = xasprintf("--exec=%s", words[0]);
  a->flags = strv_push(a->flags, flag);
  strv_free(a->args);
  a->args = NULL;
  for (size_t i = 1; words[i]; i++)
    a->args = strv_push(a->args, words[i]);
  strv_free(words);
}

static void pod_key(struct parser *p, const char *key, const char *v)
{
  const struct pod_key *k = NULL;
  for (size_t i = 0; i < ELEMENTSOF(pod_keys) && !k; i++)
    if (streq(pod_keys[i].key, key))
      k = &pod_keys[i];
  if (!k)
    {
      error(p, "[Pod] has no key %s", QUOTE(key));
      return;
    }
  bool on = false;
  if (!*v)
    {
      error(p, "%s= is empty", key);
      return;
    }
  if (!check_value(p, k, v, &on))
    return;
  _cleanup_free_ char *flag = k->check == CHECK_BOOL ? (on ? xstrdup(k->flag) : NULL)
                              : k->flag             ? xasprintf("%s=%s", k->flag, v)
                                                    : NULL;
  struct podfile *f = p->f;
  struct podfile_app *a;
  switch (k->scope)
    {
    case SCOPE_GLOBAL:
      if (flag)
        f->global_flags = strv_push(f->global_flags, flag);
      break;
    case SCOPE_POD:
      if (flag)
        f->pod_flags = strv_push(f->pod_flags, flag);
      if (streq(k->key, "Stage1"))
        f->fly = streq(v, "fly");
      break;
    case SCOPE_IMAGE:
      f->apps = xrealloc(f->apps, sizeof(*f->apps) * (f->n_apps + 1));
      f->apps[f->n_apps++] = (struct podfile_app) { .image = xstrdup(v) };
      break;
    case SCOPE_APP:
      if (!(a = last_app(p, key)))
        break;
      if (k->check == CHECK_EXEC)
        set_exec(p, a, v);
      else if (flag)
        a->flags = strv_push(a->flags, flag);
      break;
    }
}

static void service_key(struct parser *p, const char *key, const char *v, const char *line)
{
  for (size_t i = 0; i < ELEMENTSOF(service_reserved); i++)
    if (streq(key, service_reserved[i]))
      {
        error(p, "[Service] %s= is podrun's to set", key);
        return;
      }
  if (streq(key, "Restart"))
    {
      bool ok = false;
      for (size_t i = 0; i < ELEMENTSOF(restart_values) && !ok; i++)
        ok = streq(v, restart_values[i]);
      if (!ok)
        {
          error(p, "Restart=%s: not a restart policy (no, on-success, on-failure, on-abnormal, on-watchdog, "
                   "on-abort, always)", ESCAPE(v));
          return;
        }
    }
  p->f->service = strv_push(p->f->service, line);
}

/* WantedBy= and RequiredBy= name the targets whose .wants/ and .requires/
 * the generator links into: unit names, never paths. */
static void install_key(struct parser *p, const char *key, const char *v, const char *line)
{
  if (streq(key, "WantedBy") || streq(key, "RequiredBy"))
    {
      _cleanup_strv_ char **words = NULL;
      if (split_words(v, &words) < 0 || !words)
        {
          error(p, "%s=%s: expected unit names", key, ESCAPE(v));
          return;
        }
      for (size_t i = 0; words[i]; i++)
        if (!unit_name_is_valid(words[i]))
          {
            error(p, "%s=: %s is not a unit name", key, QUOTE(words[i]));
            return;
          }
    }
  p->f->install = strv_push(p->f->install, line);
}

static void section_header(struct parser *p, const char *s)
{
  static const struct
  {
    const char *name;
    enum section section;
  } sections[] = {
    { "[Unit]", SECTION_UNIT },
    { "[Pod]", SECTION_POD },
    { "[Service]", SECTION_SERVICE },
    { "[Install]", SECTION_INSTALL },
  };
  for (size_t i = 0; i < ELEMENTSOF(sections); i++)
    if (streq(s, sections[i].name))
      {
        p->section = sections[i].section;
        p->seen_pod |= p->section == SECTION_POD;
        return;
      }
  error(p, "unknown section %s (a pod file has [Unit], [Pod], [Service] and [Install])", QUOTE(s));
  p->section = SECTION_NONE;
}

static bool key_is_valid(const char *k)
{
  if (!*k)
    return false;
  for (; *k; k++)
    if (!(*k >= 'A' && *k <= 'Z') && !(*k >= 'a' && *k <= 'z') && !(*k >= '0' && *k <= '9') && *k != '-' &&
        *k != '_')
      return false;
  return true;
}

static void parse_line(struct parser *p, char *s)
{
  while (*s == ' ' || *s == '\t')
    s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
    s[--n] = '\0';
  if (!*s || *s == '#' || *s == ';')
    return;
  if (has_control(s))
    {
      error(p, "a control character in %s", QUOTE(s));
      return;
    }
  if (*s == '[')
    {
      section_header(p, s);
      return;
    }
  char *eq = strchr(s, '=');
  if (!eq)
    {
      error(p, "expected KEY=VALUE or a [Section], not %s", QUOTE(s));
      return;
    }
  _cleanup_free_ char *key = xstrndup(s, (size_t) (eq - s));
  for (size_t k = strlen(key); k && (key[k - 1] == ' ' || key[k - 1] == '\t'); k--)
    key[k - 1] = '\0';
  const char *v = eq + 1;
  while (*v == ' ' || *v == '\t')
    v++;
  if (!key_is_valid(key))
    {
      error(p, "%s is not a key", QUOTE(key));
      return;
    }
  _cleanup_free_ char *line = xasprintf("%s=%s", key, v);
  switch (p->section)
    {
    case SECTION_NONE:
      error(p, "%s= outside a section", key);
      break;
    case SECTION_POD:
      pod_key(p, key, v);
      break;
    case SECTION_UNIT:
      p->f->has_description |= streq(key, "Description");
      p->f->unit = strv_push(p->f->unit, line);
      break;
    case SECTION_SERVICE:
      service_key(p, key, v, line);
      break;
    case SECTION_INSTALL:
      install_key(p, key, v, line);
      break;
    }
}

/* NAME.pod: a unit name's characters (systemd's), NAME not empty. */
static char *unit_name(const char *path)
{
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t n = strlen(base);
  if (n <= 4 || strcmp(base + n - 4, ".pod") != 0 || n - 4 > 200)
    return NULL;
  for (size_t i = 0; i < n - 4; i++)
    if (!strchr(UNIT_NAME_CHARS, base[i]) || base[i] == '@')
      return NULL;
  return xstrndup(base, n - 4);
}

void podfile_free(struct podfile *f)
{
  if (!f)
    return;
  free(f->name);
  free(f->path);
  strv_free(f->global_flags);
  strv_free(f->pod_flags);
  for (size_t i = 0; i < f->n_apps; i++)
    {
      free(f->apps[i].image);
      strv_free(f->apps[i].flags);
      strv_free(f->apps[i].args);
    }
  free(f->apps);
  strv_free(f->unit);
  strv_free(f->service);
  strv_free(f->install);
  free(f);
}

int podfile_parse(const char *path, const char *text, struct podfile **ret, char ***ret_errors)
{
  _cleanup_podfile_ struct podfile *f = xzalloc(sizeof(*f));
  struct parser p = { .path = path, .f = f };
  _cleanup_free_ char *copy = xstrdup(text);

  f->path = xstrdup(path);
  f->name = unit_name(path);
  p.line = 0;
  if (!f->name)
    error(&p, "the file's name is not NAME.pod with NAME a unit name (letters, digits, \":-_.\\\")");
  char *next = copy;
  while (next)
    {
      char *s = next, *nl = strchr(s, '\n');
      next = nl ? nl + 1 : NULL;
      if (nl)
        *nl = '\0';
      p.line++;
      parse_line(&p, s);
    }
  p.line = 0;
  if (!p.seen_pod)
    error(&p, "no [Pod] section");
  else if (f->n_apps == 0)
    error(&p, "no Image=: a pod needs an app");
  if (p.errors)
    {
      *ret_errors = p.errors;
      return -1;
    }
  *ret = TAKE_PTR(f);
  return 0;
}

char *podfile_quote(const char *w)
{
  bool plain = *w != '\0';
  for (const char *s = w; *s && plain; s++)
    plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:=,@+-", *s) != NULL;
  size_t len = 0;
  char *out = NULL;
  FILE *f = open_memstream(&out, &len);
  if (!f)
    abort();
  if (!plain)
    fputc('"', f);
  for (const char *s = w; *s; s++)
    if (*s == '%' || *s == '$')
      fprintf(f, "%c%c", *s, *s); /* a specifier, a variable: the character itself */
    else if (*s == '"' || *s == '\\')
      fprintf(f, "\\%c", *s);
    else
      fputc(*s, f);
  if (!plain)
    fputc('"', f);
  fclose(f);
  return out;
}

char **podfile_argv(const struct podfile *f, const char *podrun)
{
  char **v = strv_push(NULL, podrun);
  for (size_t i = 0; f->global_flags && f->global_flags[i]; i++)
    v = strv_push(v, f->global_flags[i]);
  v = strv_push(v, "run");
  for (size_t i = 0; f->pod_flags && f->pod_flags[i]; i++)
    v = strv_push(v, f->pod_flags[i]);
  for (size_t i = 0; i < f->n_apps; i++)
    {
      const struct podfile_app *a = &f->apps[i];
      v = strv_push(v, a->image);
      for (size_t k = 0; a->flags && a->flags[k]; k++)
        v = strv_push(v, a->flags[k]);
      if (!a->args)
        continue;
      v = strv_push(v, "--");
      for (size_t k = 0; a->args[k]; k++)
        v = strv_push(v, a->args[k]);
      v = strv_push(v, "---");
    }
  return v;
}

static void print_lines(FILE *out, char **lines)
{
  for (size_t i = 0; lines && lines[i]; i++)
    fprintf(out, "%s\n", lines[i]);
}

char *podfile_unit(const struct podfile *f, const char *podrun)
{
  _cleanup_strv_ char **argv = podfile_argv(f, podrun);
  size_t len = 0;
  char *text = NULL;
  FILE *out = open_memstream(&text, &len);
  if (!out)
    abort();
  fprintf(out, "# Generated by podrun from %s: edit that file, not this one.\n[Unit]\n", f->path);
  if (!f->has_description)
    fprintf(out, "Description=podrun pod %s\n", f->name);
  fprintf(out, "SourcePath=%s\n", f->path);
  print_lines(out, f->unit);
  /* readiness: once every app runs (Documentation/systemd.md); fly's run
   * does not tell */
  fputs(f->fly ? "\n[Service]\nType=exec\nExecStart=" : "\n[Service]\nType=notify\nNotifyAccess=main\nExecStart=", out);
  for (size_t i = 0; argv[i]; i++)
    {
      _cleanup_free_ char *q = podfile_quote(argv[i]);
      fprintf(out, "%s%s", i ? " " : "", q);
    }
  fputc('\n', out);
  print_lines(out, f->service);
  if (f->install)
    {
      fputs("\n[Install]\n", out);
      print_lines(out, f->install);
    }
  fclose(out);
  return text;
}

char **podfile_install_targets(const struct podfile *f, bool want)
{
  const char *prefix = want ? "WantedBy=" : "RequiredBy=";
  char **v = NULL;
  for (size_t i = 0; f->install && f->install[i]; i++)
    {
      const char *t = startswith(f->install[i], prefix);
      _cleanup_strv_ char **words = NULL;
      if (!t || split_words(t, &words) < 0)
        continue;
      for (size_t k = 0; words && words[k]; k++)
        v = strv_push(v, words[k]);
    }
  return v;
}
