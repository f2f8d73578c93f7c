/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "table.h"

void table_init(struct table *t, const char *const *legend, size_t ncols)
{
  *t = (struct table){ .ncols = ncols };
  char **row = xzalloc(sizeof(char *) * ncols);
  for (size_t c = 0; c < ncols; c++)
    row[c] = xstrdup(legend[c]);
  table_add(t, row);
  free(row);
}

void table_add(struct table *t, char **row)
{
  t->cells = xrealloc(t->cells, sizeof(char *) * t->ncols * (t->nrows + 1));
  memcpy(t->cells + t->ncols * t->nrows, row, sizeof(char *) * t->ncols);
  t->nrows++;
}

void table_print(const struct table *t, bool legend)
{
  size_t *width = xzalloc(sizeof(size_t) * t->ncols);
  size_t first = legend ? 0 : 1;

  for (size_t r = first; r < t->nrows; r++)
    for (size_t c = 0; c < t->ncols; c++)
      if (strlen(t->cells[r * t->ncols + c]) > width[c])
        width[c] = strlen(t->cells[r * t->ncols + c]);
  for (size_t r = first; r < t->nrows; r++)
    for (size_t c = 0; c < t->ncols; c++)
      {
        const char *cell = t->cells[r * t->ncols + c];
        if (c + 1 < t->ncols)
          printf("%-*s  ", (int) width[c], cell);
        else
          printf("%s\n", cell);
      }
  free(width);
}

void table_done(struct table *t)
{
  for (size_t i = 0; i < t->ncols * t->nrows; i++)
    free(t->cells[i]);
  free(t->cells);
  *t = (struct table){ 0 };
}
