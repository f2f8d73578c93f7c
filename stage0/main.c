/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "podrun.h"

int main(int argc, char **argv)
{
  return podrun_main(argc, argv);
}
