/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "store.h"

void store_image_done(struct store_image *img)
{
  free(img->id);
  free(img->name);
  free(img->version);
  free(img->os);
  free(img->arch);
  free(img->labels);
  free(img->manifest);
  free(img->format);
  free(img->manifest_digest);
  *img = (struct store_image){ 0 };
}

void store_image_free(struct store_image *img)
{
  if (!img)
    return;
  store_image_done(img);
  free(img);
}

void store_image_list_free(struct store_image **v, size_t n)
{
  for (size_t i = 0; v && i < n; i++)
    store_image_free(v[i]);
  free(v);
}
