/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The API service's request router and filter parser: the input is a
 * method, a newline and a request target, as a client sends them; it goes
 * through the service's own route table over a --dir that does not exist
 * (so no handler finds anything to read), and its parameters through the
 * filter parser. Every reply must be a status the API documents, and an
 * error's body {"error": …, "status": N} with the same N. */
#include <stdint.h>

#include "api-service/router.h"
#include "api-service/service.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const choices[] = { "running", "exited", NULL };
static const struct api_filter_spec specs[] = {
  { "s", API_FILTER_STRING }, { "kv", API_FILTER_KEYVALUE }, { "t", API_FILTER_TIME },
  { "u", API_FILTER_UUID },   { "c", API_FILTER_CHOICE, choices }, { NULL },
};

static bool match_any(const struct api_filter_term *t, const json_t *obj)
{
  return t->value && strlen(t->value) % 2;
}

static void check_reply(const struct api_reply *r)
{
  static const int ok[] = { 200, 400, 404, 405, 414, 431, 500, 503 };
  bool known = false;
  for (size_t i = 0; i < ELEMENTSOF(ok); i++)
    known = known || r->status == ok[i];
  if (!known)
    abort();
  if (r->status >= 400 && json_integer_value(json_object_get(r->json, "status")) != r->status)
    abort();
  if (r->status >= 400 && !json_is_string(json_object_get(r->json, "error")))
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static struct api_context ctx;
  _cleanup_free_ char *s = xstrndup((const char *) data, size);
  _cleanup_error_ podrun_error_t err = NULL;
  struct api_reply reply;
  struct api_request req;
  char *nl = strchr(s, '\n');

  if (!ctx.dir)
    api_context_init(&ctx, "/nonexistent/podrun-fuzz");
  if (!nl)
    return 0;
  *nl = '\0';
  api_handle(api_routes, &ctx, s, nl + 1, 0, &reply);
  check_reply(&reply);
  api_reply_done(&reply);
  if (api_request_parse(s, nl + 1, &req, &err) == 0)
    {
      struct api_filter f;
      _cleanup_error_ podrun_error_t ferr = NULL;
      if (req.n_segments == 0 || req.n_segments > API_MAX_SEGMENTS || req.n_params > API_MAX_PARAMS)
        abort();
      if (api_filter_parse(specs, NULL, &req, &f, &ferr) == 0)
        {
          (void) api_filter_matches(&f, NULL, match_any);
          api_filter_done(&f);
        }
      else if (ferr->status != 400)
        abort();
      api_request_done(&req);
    }
  int64_t t;
  (void) api_parse_time(nl + 1, &t);
  return 0;
}
