/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "uuid.h"

#include <ctype.h>

void uuid_random(char ret[UUID_STRING_LEN + 1])
{
  unsigned char b[16];
  random_bytes(b, sizeof(b));
  b[6] = (unsigned char) ((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char) ((b[8] & 0x3f) | 0x80);
  snprintf(ret, UUID_STRING_LEN + 1,
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
           b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

bool uuid_is_valid(const char *s)
{
  if (strlen(s) != UUID_STRING_LEN)
    return false;
  for (size_t i = 0; i < UUID_STRING_LEN; i++)
    {
      if (i == 8 || i == 13 || i == 18 || i == 23)
        {
          if (s[i] != '-')
            return false;
        }
      else if (!isxdigit((unsigned char) s[i]) || isupper((unsigned char) s[i]))
        return false;
    }
  return true;
}
