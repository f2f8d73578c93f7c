/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Does KVM work here? /dev/kvm existing says little: under nested
 * virtualisation it may refuse what qemu asks of a vCPU (MSR 0x10a,
 * IA32_ARCH_CAPABILITIES, as on the machines this is built on) or spin in
 * the kernel. So the probe does what qemu will do, in miniature: a VM, one
 * page of memory, a vCPU given the host's IA32_ARCH_CAPABILITIES, and four
 * real-mode instructions (mov, out, mov, hlt) that must come back as an
 * I/O exit then a halt. It runs in a child that is killed after
 * PROBE_TIMEOUT_MS: a spinning KVM_RUN never holds the pod up longer. */
#include "kvm.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/wait.h>

#include "util.h"

#define PROBE_TIMEOUT_MS 2000
#define MSR_IA32_ARCH_CAPABILITIES 0x10a

/* What the child's exit code says. */
enum
{
  PROBE_OK = 0,
  PROBE_OPEN,
  PROBE_API,
  PROBE_VM,
  PROBE_MEMORY,
  PROBE_VCPU,
  PROBE_MSR,
  PROBE_REGS,
  PROBE_RUN,
  PROBE_EXIT,
  PROBE_MAX,
};

static const char *const probe_reasons[PROBE_MAX] = {
  [PROBE_OPEN] = "cannot open /dev/kvm",
  [PROBE_API] = "/dev/kvm speaks another API version",
  [PROBE_VM] = "cannot create a VM",
  [PROBE_MEMORY] = "cannot give the VM memory",
  [PROBE_VCPU] = "cannot create a vCPU",
  [PROBE_MSR] = "the vCPU refuses the host's IA32_ARCH_CAPABILITIES (MSR 0x10a; nested KVM?)",
  [PROBE_REGS] = "cannot set the vCPU's registers",
  [PROBE_RUN] = "KVM_RUN failed",
  [PROBE_EXIT] = "the vCPU did not run the test code as it should",
};

/* The host's IA32_ARCH_CAPABILITIES into the vCPU, if KVM has it as a
 * feature MSR (qemu sets it then, and fails when the vCPU refuses). */
static int set_arch_capabilities(int kvm, int vcpu)
{
  struct
  {
    struct kvm_msrs h;
    struct kvm_msr_entry e;
  } msrs = { .h.nmsrs = 1, .e.index = MSR_IA32_ARCH_CAPABILITIES };
  if (ioctl(kvm, KVM_GET_MSRS, &msrs) != 1)
    return 0; /* not a feature MSR here: qemu does not set it either */
  return ioctl(vcpu, KVM_SET_MSRS, &msrs) == 1 ? 0 : -1;
}

static int probe_child(void)
{
  /* mov $0x42,%al; out %al,$0x10; mov $0x43,%al; hlt */
  static const unsigned char code[] = { 0xb0, 0x42, 0xe6, 0x10, 0xb0, 0x43, 0xf4 };
  int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm < 0)
    return PROBE_OPEN;
  if (ioctl(kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
    return PROBE_API;
  int vm = ioctl(kvm, KVM_CREATE_VM, 0);
  if (vm < 0)
    return PROBE_VM;
  void *mem = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED)
    return PROBE_MEMORY;
  memcpy(mem, code, sizeof(code));
  struct kvm_userspace_memory_region region = {
    .slot = 0, .guest_phys_addr = 0x1000, .memory_size = 0x1000, .userspace_addr = (uintptr_t) mem
  };
  if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
    return PROBE_MEMORY;
  int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
  int size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
  if (vcpu < 0 || size <= 0)
    return PROBE_VCPU;
  struct kvm_run *run = mmap(NULL, (size_t) size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
  if (run == MAP_FAILED)
    return PROBE_VCPU;
  if (set_arch_capabilities(kvm, vcpu) < 0)
    return PROBE_MSR;
  struct kvm_sregs sregs;
  if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
    return PROBE_REGS;
  sregs.cs.base = 0;
  sregs.cs.selector = 0;
  struct kvm_regs regs = { .rip = 0x1000, .rflags = 0x2 };
  if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
    return PROBE_REGS;
  if (ioctl(vcpu, KVM_RUN, 0) < 0)
    return PROBE_RUN;
  if (run->exit_reason != KVM_EXIT_IO || run->io.direction != KVM_EXIT_IO_OUT || run->io.port != 0x10 ||
      *((unsigned char *) run + run->io.data_offset) != 0x42)
    return PROBE_EXIT;
  if (ioctl(vcpu, KVM_RUN, 0) < 0)
    return PROBE_RUN;
  if (run->exit_reason != KVM_EXIT_HLT || ioctl(vcpu, KVM_GET_REGS, &regs) < 0 || (regs.rax & 0xff) != 0x43)
    return PROBE_EXIT;
  return PROBE_OK;
}

int kvm_probe(podrun_error_t *err)
{
  if (access("/dev/kvm", F_OK) < 0)
    return podrun_error_new(err, 0, "no /dev/kvm");
  pid_t pid = fork();
  if (pid < 0)
    return podrun_error_set(err, errno, "fork");
  if (pid == 0)
    _exit(probe_child());
  _cleanup_close_ int pidfd = pidfd_open(pid, 0);
  struct pollfd p = { .fd = pidfd, .events = POLLIN };
  int r = pidfd < 0 ? 1 : poll(&p, 1, PROBE_TIMEOUT_MS);
  if (r == 0)
    kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return podrun_error_set(err, errno, "wait for the KVM probe");
  if (r == 0)
    return podrun_error_new(err, 0, "a vCPU did not finish 4 instructions in %d ms", PROBE_TIMEOUT_MS);
  if (!WIFEXITED(status))
    return podrun_error_new(err, 0, "the KVM probe died with signal %d", WTERMSIG(status));
  int code = WEXITSTATUS(status);
  if (code == PROBE_OK)
    return 0;
  return podrun_error_new(err, 0, "%s", code < PROBE_MAX ? probe_reasons[code] : "the KVM probe failed");
}

int kvm_accel_mode_parse(const char *s, enum kvm_accel_mode *ret, podrun_error_t *err)
{
  if (!s || streq(s, "") || streq(s, "auto"))
    *ret = KVM_ACCEL_AUTO;
  else if (streq(s, "on"))
    *ret = KVM_ACCEL_ON;
  else if (streq(s, "off"))
    *ret = KVM_ACCEL_OFF;
  else
    return podrun_error_new(err, 0, KVM_ACCEL_ENV "=%s: not auto, on or off", QUOTE(s));
  return 0;
}
