/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The in-guest enter, a binary of its own (it links stage2's code), which
 * the guest init runs for the host's enter requests. */
#include "kvm.h"

#include "stage2/stage2.h"

/* The apps run with the default seccomp filter on the guest's network,
 * which is the pod's own (what --host-network means to stage2 here). */
static void stage2_args(struct stage2_args *a)
{
  a->default_seccomp = true;
  a->host_network = true;
}

static int app_pid(pid_t init, const char *app, pid_t *ret, podrun_error_t *err)
{
  return stage1_init_app_pid(KVM_GUEST_RUNTIME, init, app, ret, err);
}

static int kvm_guest_enter(int argc, char **argv, int *ret_exit, podrun_error_t *err)
{
  static const struct stage1_enter_hooks hooks = { .app_pid = app_pid, .stage2_args = stage2_args };
  return stage1_enter(&hooks, argc, argv, ret_exit, err);
}


int main(int argc, char **argv)
{
  static const struct stage1_entrypoint entrypoints[] = { { NULL, "podrun-stage1", kvm_guest_enter } };
  return stage1_main(entrypoints, ELEMENTSOF(entrypoints), argc, argv);
}
