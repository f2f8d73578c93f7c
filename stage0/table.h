/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "util.h"

/* Column-aligned output for list verbs; row 0 is the legend. */
struct table
{
  size_t ncols;
  size_t nrows;
  char **cells; /* nrows × ncols, owned */
};

void table_init(struct table *t, const char *const *legend, size_t ncols);
/* Takes ownership of the ncols strings in row. */
void table_add(struct table *t, char **row);
void table_print(const struct table *t, bool legend);
void table_done(struct table *t);
