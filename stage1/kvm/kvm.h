/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "appc.h"
#include "error.h"
#include "stage1/common/stage1.h"

/* The kvm stage1 (Documentation/stage1-kvm.md): the pod runs in a qemu
 * microvm (KVM when it works, TCG otherwise). On the host, one static
 * binary whose name is the entrypoint (run, enter, stop, gc; init, the pod
 * init, in the guest); in the guest,
 * the initramfs's /init (main-guest.c), which mounts what the host shares
 * over virtio-9p and runs the pod init over it, then powers the VM off. */

/* The pod directory's kvm/ (0700, the host's alone): the control sockets,
 * the guest's console log, qemu's own messages. */
#define KVM_DIR "kvm"
#define KVM_CTL_SOCKET "kvm/ctl.sock" /* stop */
/* enter: KVM_ENTER_PORTS sessions at once, each on a port of its own,
 * kvm/enter<N>.sock, taken by a flock on kvm/enter<N>.lock */
#define KVM_ENTER_PORTS 4
#define KVM_ENTER_SOCKET_FMT "kvm/enter%d.sock"
#define KVM_ENTER_LOCK_FMT "kvm/enter%d.lock"
#define KVM_CONSOLE_LOG "kvm/console.log"
/* at the pod directory's top, as `net`: which status shows */
#define KVM_ACCEL_FILE "accelerator"
/* ... and what the guest shares of it: rt/ (the pod init's runtime
 * directory: ready, exit-code, done, <app>.pid; the guest init's
 * guest-error), meta/ (read-only: the pod manifest, the run flags, net).
 * One share for those and the pod directory's status/ and logs/: rt/, with
 * the others bound onto its directories of theirs in qemu's own mount
 * namespace (meta/ read-only there). */
#define KVM_RT_DIR "kvm/rt"
#define KVM_META_DIR "kvm/meta"
#define KVM_GUEST_ERROR "guest-error"
#define KVM_RT_META "meta"
#define KVM_RT_STATUS "status"
#define KVM_RT_LOGS "logs"

/* The 9p mount tags, the virtio-serial port names. */
#define KVM_TAG_ROOT "root"
#define KVM_TAG_RT "rt"
#define KVM_PORT_CTL "podrun.ctl"
#define KVM_PORT_ENTER_FMT "podrun.enter.%d"

/* In the stage1 rootfs: the kernel and the initramfs the host boots, the
 * pod init (the kvm binary as `init`: the shared pod init with the hooks
 * of init.c) and the in-guest enter (main-guest-enter.c). */
#define KVM_KERNEL "kvm/vmlinux"
#define KVM_INITRD "kvm/initrd.img"
#define KVM_GUEST_ENTER "/kvm/guest-enter"
/* In the guest, the pod directory's parts under STAGE1_POD_DIR: rt/ is the
 * pod init's runtime directory, /podrun/kvm (the in-guest enter, run in
 * /podrun, finds it as kvm/). */
#define KVM_GUEST_RUNTIME "kvm"
#define KVM_GUEST_RUNTIME_DIR STAGE1_POD_DIR "/" KVM_GUEST_RUNTIME

/* Guest memory beyond the apps' limits: the kernel, the page cache of the
 * initramfs, the pod init; and the default without any limit. */
#define KVM_MEMORY_BASE_MIB 96
#define KVM_MEMORY_DEFAULT_MIB 256

/* The control channel's frames: a type byte, a 4-byte big-endian length,
 * the bytes. The host's requests are one line of JSON: {"stop": true} on
 * the ctl port, {"app": NAME, "cmd": [ARGV…], "tty": {"rows": R, "cols":
 * C}} (tty: optional, a pty in the guest) on an enter port, followed by
 * the host's frames: stdin, its end, the terminal's size. The guest's:
 * stdout, stderr (none with a tty), then the exit code. */
#define KVM_FRAME_STDOUT '1'
#define KVM_FRAME_STDERR '2'
#define KVM_FRAME_EXIT 'x'
#define KVM_FRAME_STDIN '0'
#define KVM_FRAME_STDIN_END 'e'
#define KVM_FRAME_WINSIZE 'w' /* rows, cols: 2 bytes each, big-endian */
#define KVM_FRAME_MAX 65536
#define KVM_REQUEST_MAX 65536

/* The accelerator: auto probes KVM for real (probe.c), on insists, off is TCG. */
enum kvm_accel_mode
{
  KVM_ACCEL_AUTO,
  KVM_ACCEL_ON,
  KVM_ACCEL_OFF,
};
#define KVM_ACCEL_ENV "PODRUN_KVM"

int kvm_accel_mode_parse(const char *s, enum kvm_accel_mode *ret, podrun_error_t *err);
/* Creates a VM with one vCPU on /dev/kvm and runs a few instructions in
 * it: 0 when KVM works, else -1 with the reason (nested KVM that fails on
 * its first MSR, a /dev/kvm that cannot be opened …). Bounded in time. */
int kvm_probe(podrun_error_t *err);

/* The VM's size from the apps' resource isolators: memory (MiB) for -m,
 * vCPUs for -smp. */
int kvm_vm_size(const struct appc_pod_manifest *m, unsigned *ret_mib, unsigned *ret_cpus, podrun_error_t *err);

/* A NIC of the VM on one of the pod's CNI networks (tap.c): a tap in the
 * pod's network namespace joined to the network's veth end there by tc
 * redirects, qemu's by its fd; the guest's NIC gets the veth's MAC and MTU. */
struct kvm_nic
{
  char mac[18];
  unsigned mtu;
  int tap_fd;
};
/* In the network namespace at netns_path: tap<index> for the veth `veth`. */
int kvm_nic_connect(const char *netns_path, const char *veth, size_t index, struct kvm_nic *nic, podrun_error_t *err);
/* In meta/ (the guest's /podrun/stage1/): what the guest sets on each NIC,
 * written by the host from the CNI results: [{"mac", "mtu", "addresses":
 * [{"address", "prefix", "gateway"}], "routes": [{"dst", "prefix",
 * "gateway"}]}], IPv4. */
#define KVM_NICS_FILE "nics.json"
/* In meta/ too: 32 random bytes of the host's, which the guest init
 * credits to its kernel's entropy pool before anything reads randomness:
 * else the first read of /dev/urandom (jansson's hash seed, in the guest
 * init) waits for the kernel to gather entropy by jitter, ~1 s under TCG. */
#define KVM_RANDOM_SEED_FILE "random-seed"
#define KVM_RANDOM_SEED_SIZE 32
/* In rt/, made by the guest init once the pod init has exited and the apps'
 * consoles are drained (main-guest.c, pod_over): all the pod wrote is on
 * the host, and run ends qemu without waiting for the guest's power-off.
 * Made, and heeded, only once the pod was ready: before that, a VM that
 * stops is an early failure, said from its console. */
#define KVM_OVER_FILE "over"
/* In meta/ with --debug: the guest init and the pod init log their steps. */
#define KVM_DEBUG_FILE "debug"
/* With --interactive: "ROWS COLS" of podrun's terminal, and the app's
 * terminal, a virtio console (the guest's /dev/hvc2) on qemu's stdio. */
#define KVM_TTY_SIZE_FILE "tty-size"
#define KVM_PORT_TTY "podrun.tty"
#define KVM_GUEST_TTY "/dev/hvc2"

/* Under a Type=notify service (notify.c, run's): refuses a pod with an app
 * that speaks sd_notify, takes NOTIFY_SOCKET out of the environment and
 * says STATUS=; then READY=1 (MAINPID: run) once the apps have started,
 * STOPPING=1 when run is asked to stop. Without NOTIFY_SOCKET: nothing. */
int kvm_sd_setup(const char *uuid, const struct appc_pod_manifest *m, podrun_error_t *err);
void kvm_sd_ready(void);
void kvm_sd_stopping(void);

/* Entrypoints (host side). */
int kvm_run(int argc, char **argv, int *ret_exit, podrun_error_t *err);
int kvm_enter(int argc, char **argv, int *ret_exit, podrun_error_t *err);
int kvm_stop(int argc, char **argv, int *ret_exit, podrun_error_t *err);
int kvm_gc(int argc, char **argv, int *ret_exit, podrun_error_t *err);

/* In the guest (init.c), the guest init's child: the pod init with the kvm
 * hooks, stage2 run in process in each app's child (the guest init links
 * stage1/common and stage2's code). */
int kvm_init(int argc, char **argv, int *ret_exit, podrun_error_t *err);

/* Frames (frame.c), on blocking fds. */
int kvm_frame_write(int fd, char type, const void *buf, size_t len);
/* 1 with a frame (*ret_buf malloc'd), 0 at end of file, -1 on error or a frame over KVM_FRAME_MAX. */
int kvm_frame_read(int fd, char *ret_type, char **ret_buf, size_t *ret_len);
/* A frame at the front of buf: its size (head and payload) when whole, 0
 * when more is needed, -1 when its length is over KVM_FRAME_MAX. */
ssize_t kvm_frame_parse(const char *buf, size_t len, char *ret_type, size_t *ret_payload);
/* The 5-byte head of a frame of len bytes. */
size_t kvm_frame_head(char head[5], char type, size_t len);
