/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "json-util.h"
#include "pod-setup.h"
#include "pods.h"
#include "table.h"

static bool arg_no_legend, arg_full;
static const char *arg_format;

static char *time_or_dash(int64_t usec)
{
  char b[64];
  return usec ? xstrdup(format_time(b, sizeof(b), usec, arg_full)) : xstrdup("-");
}

static void add_rows(struct table *t, struct pod *p, const struct inspect_pod *i)
{
  for (size_t a = 0; a < (i->n_apps ? i->n_apps : 1); a++)
    {
      const struct inspect_app *app = i->n_apps ? &i->apps[a] : NULL;
      char *row[] = {
        arg_full ? xstrdup(p->uuid) : xstrndup(p->uuid, 8),
        xstrdup(app ? app->name : "-"),
        xstrdup(app ? app->image_name : "-"),
        xstrdup(pod_state_to_string(p->state)),
        time_or_dash(i->created),
        time_or_dash(i->started),
      };
      table_add(t, row);
    }
}

static int pod_list_cmd(const struct cmd *cmd, int argc, char **argv, podrun_error_t *err)
{
  static const char *const legend[] = { "UUID", "APP", "IMAGE NAME", "STATE", "CREATED", "STARTED" };
  _cleanup_free_ char *pods = pods_dir();
  _cleanup_json_ json_t *arr = json_array();
  struct pod **v = NULL;
  struct table t;
  size_t n = 0;

  if (check_format(arg_format, err) < 0)
    return -1;
  if (access(pods, F_OK) == 0 && pod_list(pods, &v, &n, err) < 0)
    return -1;
  table_init(&t, legend, ELEMENTSOF(legend));
  for (size_t k = 0; k < n; k++)
    {
      struct inspect_pod i;
      _cleanup_error_ podrun_error_t e = NULL;
      if (inspect_pod_read(v[k], &i, &e) < 0)
        {
          /* one broken pod does not hide the others */
          fprintf(stderr, "podrun: %s\n", e->msg);
          continue;
        }
      /* the table needs what inspect_pod_read gave; the JSON reads the stage1's records too */
      if (arg_format)
        json_array_append_new(arr, inspect_pod_json(v[k], &i));
      else
        add_rows(&t, v[k], &i);
      inspect_pod_done(&i);
    }
  if (arg_format)
    {
      _cleanup_free_ char *s = json_dump_sorted(arr, streq(arg_format, "json-pretty"));
      printf("%s\n", s);
    }
  else
    table_print(&t, !arg_no_legend);
  table_done(&t);
  pod_list_free(v, n);
  return 0;
}

static const struct opt list_opts[] = {
  { "no-legend", OPT_BOOL, &arg_no_legend, "do not print the header line", NULL },
  { "full", OPT_BOOL, &arg_full, "full UUIDs and absolute times", NULL },
  { "format", OPT_STRING, &arg_format, "output as json or json-pretty", "FORMAT" },
  { NULL },
};

const struct cmd cmd_list = {
  "list", pod_list_cmd, "", "List pods",
  "One line per app: UUID (short unless --full), APP, IMAGE NAME, STATE, CREATED, STARTED.\n"
  "States: embryo, preparing, aborted-prepare, prepared, running, exited, exited-garbage, garbage.\n"
  "--format=json adds each pod's CNI networks while it has them (name, ifname, ips).\n\n"
  "Examples:\n  podrun list\n  podrun list --full --format=json-pretty",
  list_opts, NULL, 0, 0, 0,
};
