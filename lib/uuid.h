/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "util.h"

#define UUID_STRING_LEN 36

/* A random (version 4) UUID in its canonical lower-case form. */
void uuid_random(char ret[UUID_STRING_LEN + 1]);
bool uuid_is_valid(const char *s);
