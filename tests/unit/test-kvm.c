/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stage1/kvm: the control channel's frames (what each end reads of the
 * other, bounded), the accelerator's setting, and the VM's size from the
 * apps' resource isolators. The KVM probe itself is tested end to end
 * (kvm.bats), where it meets the machine's /dev/kvm. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <unistd.h>

#include "stage1/kvm/kvm.h"

static void test_frames_round_trip(void **state)
{
  int p[2];
  char type = 0, *buf = NULL;
  size_t len = 0;
  assert_int_equal(pipe(p), 0);
  assert_int_equal(kvm_frame_write(p[1], KVM_FRAME_STDOUT, "hello", 5), 0);
  assert_int_equal(kvm_frame_write(p[1], KVM_FRAME_EXIT, "\x07", 1), 0);
  close(p[1]);
  assert_int_equal(kvm_frame_read(p[0], &type, &buf, &len), 1);
  assert_int_equal(type, KVM_FRAME_STDOUT);
  assert_int_equal(len, 5);
  assert_memory_equal(buf, "hello", 5);
  free(buf);
  assert_int_equal(kvm_frame_read(p[0], &type, &buf, &len), 1);
  assert_int_equal(type, KVM_FRAME_EXIT);
  assert_int_equal(buf[0], 7);
  free(buf);
  assert_int_equal(kvm_frame_read(p[0], &type, &buf, &len), 0); /* end of file between frames */
  close(p[0]);
}

/* what the other end sends is bounded: a length over the cap, a frame cut short */
static void test_frames_hostile(void **state)
{
  static const unsigned char huge[] = { '1', 0x7f, 0xff, 0xff, 0xff, 'x' };
  static const unsigned char cut[] = { '1', 0, 0, 0, 9, 'a', 'b' };
  char type = 0, *buf = NULL;
  size_t len = 0;
  int p[2];
  assert_int_equal(pipe(p), 0);
  assert_int_equal(write(p[1], huge, sizeof(huge)), sizeof(huge));
  close(p[1]);
  assert_int_equal(kvm_frame_read(p[0], &type, &buf, &len), -1);
  close(p[0]);
  assert_int_equal(pipe(p), 0);
  assert_int_equal(write(p[1], cut, sizeof(cut)), sizeof(cut));
  close(p[1]);
  assert_int_equal(kvm_frame_read(p[0], &type, &buf, &len), -1);
  close(p[0]);
}

/* the incremental parser of the enter sessions (both ends of a
 * non-blocking port): whole frames only, a length over the cap refused */
static void test_frames_parse(void **state)
{
  char buf[16], type = 0;
  size_t payload = 0, n = kvm_frame_head(buf, KVM_FRAME_STDIN, 3);
  assert_int_equal(n, 5);
  memcpy(buf + n, "abc", 3);
  for (size_t have = 0; have < 8; have++)
    assert_int_equal(kvm_frame_parse(buf, have, &type, &payload), 0); /* not whole yet */
  assert_int_equal(kvm_frame_parse(buf, 8, &type, &payload), 8);
  assert_int_equal(type, KVM_FRAME_STDIN);
  assert_int_equal(payload, 3);
  /* the next frame's bytes after it change nothing */
  kvm_frame_head(buf + 8, KVM_FRAME_STDIN_END, 0);
  assert_int_equal(kvm_frame_parse(buf, 13, &type, &payload), 8);
  assert_int_equal(kvm_frame_parse(buf + 8, 5, &type, &payload), 5);
  assert_int_equal(type, KVM_FRAME_STDIN_END);
  assert_int_equal(payload, 0);
  kvm_frame_head(buf, KVM_FRAME_STDIN, KVM_FRAME_MAX + 1);
  assert_int_equal(kvm_frame_parse(buf, 5, &type, &payload), -1);
  kvm_frame_head(buf, KVM_FRAME_STDIN, KVM_FRAME_MAX);
  assert_int_equal(kvm_frame_parse(buf, 5, &type, &payload), 0);
}

/* a write longer than a frame goes as several */
static void test_frames_split(void **state)
{
  size_t n = KVM_FRAME_MAX + 10, got = 0;
  char *big = xzalloc(n), type = 0, *buf = NULL;
  size_t len = 0;
  int p[2];
  assert_int_equal(pipe(p), 0);
  pid_t pid = fork();
  if (pid == 0)
    _exit(kvm_frame_write(p[1], KVM_FRAME_STDERR, big, n) < 0);
  close(p[1]);
  while (kvm_frame_read(p[0], &type, &buf, &len) == 1)
    {
      assert_int_equal(type, KVM_FRAME_STDERR);
      assert_true(len <= KVM_FRAME_MAX);
      got += len;
      free(buf);
    }
  assert_int_equal(got, n);
  close(p[0]);
  free(big);
}

static void test_accel_mode(void **state)
{
  enum kvm_accel_mode m;
  podrun_error_t err = NULL;
  assert_int_equal(kvm_accel_mode_parse(NULL, &m, &err), 0);
  assert_int_equal(m, KVM_ACCEL_AUTO);
  assert_int_equal(kvm_accel_mode_parse("on", &m, &err), 0);
  assert_int_equal(m, KVM_ACCEL_ON);
  assert_int_equal(kvm_accel_mode_parse("off", &m, &err), 0);
  assert_int_equal(m, KVM_ACCEL_OFF);
  assert_int_equal(kvm_accel_mode_parse("yes", &m, &err), -1);
  assert_string_equal(err->msg, "PODRUN_KVM=\"yes\": not auto, on or off");
  podrun_error_free(&err);
}

static struct appc_pod_manifest *pod(const char *apps)
{
  char *text = xasprintf("{\"acKind\": \"PodManifest\", \"acVersion\": \"0.8.11\", \"apps\": [%s]}", apps);
  struct appc_pod_manifest *m = NULL;
  podrun_error_t err = NULL;
  if (appc_pod_manifest_parse(text, strlen(text), &m, &err) < 0)
    fail_msg("%s", err->msg);
  free(text);
  return m;
}

#define APP(NAME, ISOLATORS)                                                                                      \
  "{\"name\": \"" NAME "\", \"image\": {\"id\": \"sha512-" "0123456789abcdef0123456789abcdef\"}, \"app\": {\"exec\": " \
  "[\"/x\"], \"user\": \"0\", \"group\": \"0\", \"isolators\": [" ISOLATORS "]}}"
#define MEM(V) "{\"name\": \"resource/memory\", \"value\": {\"limit\": \"" V "\"}}"
#define CPU(V) "{\"name\": \"resource/cpu\", \"value\": {\"limit\": \"" V "\"}}"

static void test_vm_size(void **state)
{
  unsigned mib = 0, cpus = 0;
  podrun_error_t err = NULL;
  struct appc_pod_manifest *m = pod(APP("a", ""));
  assert_int_equal(kvm_vm_size(m, &mib, &cpus, &err), 0);
  assert_int_equal(mib, KVM_MEMORY_DEFAULT_MIB);
  assert_int_equal(cpus, 1);
  appc_pod_manifest_free(m);
  /* every app limited: the sum and the guest's own; the CPU limits rounded up */
  m = pod(APP("a", MEM("512Mi") "," CPU("500m")) "," APP("b", MEM("256Mi") "," CPU("600m")));
  assert_int_equal(kvm_vm_size(m, &mib, &cpus, &err), 0);
  assert_int_equal(mib, 512 + 256 + KVM_MEMORY_BASE_MIB);
  assert_int_equal(cpus, sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? 2 : 1);
  appc_pod_manifest_free(m);
  /* one app without a limit: the default, which the limited app's limit cannot shrink */
  m = pod(APP("a", MEM("10Mi")) "," APP("b", ""));
  assert_int_equal(kvm_vm_size(m, &mib, &cpus, &err), 0);
  assert_int_equal(mib, KVM_MEMORY_DEFAULT_MIB);
  appc_pod_manifest_free(m);
  /* a small limit still gets a VM that boots */
  m = pod(APP("a", MEM("10Mi")));
  assert_int_equal(kvm_vm_size(m, &mib, &cpus, &err), 0);
  assert_int_equal(mib, KVM_MEMORY_DEFAULT_MIB);
  appc_pod_manifest_free(m);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_frames_round_trip), cmocka_unit_test(test_frames_hostile),
    cmocka_unit_test(test_frames_split),
    cmocka_unit_test(test_frames_parse),      cmocka_unit_test(test_accel_mode),
    cmocka_unit_test(test_vm_size),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
