/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The named syscall groups a seccomp set may use (Documentation/seccomp-groups.md):
 * appc's two, rkt's and Docker's defaults as rkt had them, systemd's groups
 * (as systemd 252's `systemd-analyze syscall-filter` lists them, @known
 * aside) under @systemd/, and podrun's own default filter. Members are
 * space-separated names and groups; a member libseccomp does not know (of
 * an architecture it lacks) is left out when a set is expanded. */
#include "syscalls-internal.h"

const struct syscalls_group syscalls_groups[] = {
  { "@appc.io/all", NULL },
  { "@appc.io/empty", NULL },
  { "@docker/default-blacklist",
    "_sysctl acct add_key adjtimex bpf clock_adjtime clock_settime create_module delete_module "
    "finit_module get_kernel_syms get_mempolicy init_module ioperm iopl kcmp kexec_file_load kexec_load "
    "keyctl lookup_dcookie mbind mount move_pages name_to_handle_at nfsservctl open_by_handle_at "
    "perf_event_open pivot_root process_vm_readv process_vm_writev ptrace query_module quotactl reboot "
    "request_key set_mempolicy setns settimeofday stime swapoff swapon sysfs umount umount2 unshare "
    "uselib userfaultfd ustat vm86 vm86old" },
  { "@docker/default-whitelist",
    "_llseek _newselect accept accept4 access alarm arch_prctl bind brk capget capset chdir chmod chown "
    "chown32 chroot clock_getres clock_gettime clock_nanosleep clone close connect copy_file_range creat "
    "dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_wait "
    "epoll_wait_old eventfd eventfd2 execve execveat exit exit_group faccessat fadvise64 fadvise64_64 "
    "fallocate fanotify_mark fchdir fchmod fchmodat fchown fchown32 fchownat fcntl fcntl64 fdatasync "
    "fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 "
    "fsync ftruncate ftruncate64 futex futimesat get_robust_list get_thread_area getcpu getcwd getdents "
    "getdents64 getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer "
    "getpeername getpgid getpgrp getpid getppid getpriority getrandom getresgid getresgid32 getresuid "
    "getresuid32 getrlimit getrusage getsid getsockname getsockopt gettid gettimeofday getuid getuid32 "
    "getxattr inotify_add_watch inotify_init inotify_init1 inotify_rm_watch io_cancel io_destroy "
    "io_getevents io_setup io_submit ioctl ioprio_get ioprio_set ipc kill lchown lchown32 lgetxattr link "
    "linkat listen listxattr llistxattr lremovexattr lseek lsetxattr lstat lstat64 madvise memfd_create "
    "mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall mmap mmap2 modify_ldt mprotect "
    "mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedsend mq_unlink mremap msgctl msgget msgrcv "
    "msgsnd msync munlock munlockall munmap nanosleep newfstatat open openat pause personality pipe pipe2 "
    "poll ppoll prctl pread64 preadv prlimit64 pselect6 pwrite64 pwritev read readahead readlink "
    "readlinkat readv recv recvfrom recvmmsg recvmsg remap_file_pages removexattr rename renameat "
    "renameat2 restart_syscall rmdir rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo "
    "rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_tgsigqueueinfo sched_get_priority_max "
    "sched_get_priority_min sched_getaffinity sched_getattr sched_getparam sched_getscheduler "
    "sched_rr_get_interval sched_setaffinity sched_setattr sched_setparam sched_setscheduler sched_yield "
    "seccomp select semctl semget semop semtimedop send sendfile sendfile64 sendmmsg sendmsg sendto "
    "set_robust_list set_thread_area set_tid_address setfsgid setfsgid32 setfsuid setfsuid32 setgid "
    "setgid32 setgroups setgroups32 setitimer setpgid setpriority setregid setregid32 setresgid "
    "setresgid32 setresuid setresuid32 setreuid setreuid32 setrlimit setsid setsockopt setuid setuid32 "
    "setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4 sigreturn socket "
    "socketcall socketpair splice stat stat64 statfs statfs64 symlink symlinkat sync sync_file_range "
    "syncfs sysinfo syslog tee tgkill time timer_create timer_delete timer_getoverrun timer_gettime "
    "timer_settime timerfd_create timerfd_gettime timerfd_settime times tkill truncate truncate64 "
    "ugetrlimit umask uname unlink unlinkat utime utimensat utimes vfork vmsplice wait4 waitid waitpid "
    "write writev" },
  { "@podrun/default-blocklist", NULL },
  { "@rkt/default-blacklist",
    "@docker/default-blacklist" },
  { "@rkt/default-whitelist",
    "@docker/default-whitelist arm_fadvise64_64 arm_sync_file_range breakpoint cacheflush set_tls "
    "sync_file_range2" },
  { "@systemd/aio",
    "io_cancel io_destroy io_getevents io_pgetevents io_pgetevents_time64 io_setup io_submit "
    "io_uring_enter io_uring_register io_uring_setup" },
  { "@systemd/basic-io",
    "_llseek close close_range dup dup2 dup3 lseek pread64 preadv preadv2 pwrite64 pwritev pwritev2 read "
    "readv write writev" },
  { "@systemd/chown",
    "chown chown32 fchown fchown32 fchownat lchown lchown32" },
  { "@systemd/clock",
    "adjtimex clock_adjtime clock_adjtime64 clock_settime clock_settime64 settimeofday" },
  { "@systemd/cpu-emulation",
    "modify_ldt subpage_prot switch_endian vm86 vm86old" },
  { "@systemd/debug",
    "lookup_dcookie perf_event_open pidfd_getfd ptrace rtas s390_runtime_instr sys_debug_setcontext" },
  { "@systemd/default",
    "arch_prctl brk cacheflush clock_getres clock_getres_time64 clock_gettime clock_gettime64 "
    "clock_nanosleep clock_nanosleep_time64 execve exit exit_group futex futex_time64 futex_waitv "
    "get_robust_list get_thread_area getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups "
    "getgroups32 getpgid getpgrp getpid getppid getrandom getresgid getresgid32 getresuid getresuid32 "
    "getrlimit getsid gettid gettimeofday getuid getuid32 membarrier mmap mmap2 mprotect munmap nanosleep "
    "pause prlimit64 restart_syscall riscv_flush_icache riscv_hwprobe rseq rt_sigreturn sched_getaffinity "
    "sched_yield set_robust_list set_thread_area set_tid_address set_tls sigreturn time ugetrlimit "
    "uretprobe" },
  { "@systemd/default-whitelist",
    "@systemd/default" },
  { "@systemd/file-system",
    "access chdir chmod close creat faccessat faccessat2 fallocate fchdir fchmod fchmodat fchmodat2 fcntl "
    "fcntl64 fgetxattr flistxattr fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 "
    "ftruncate ftruncate64 futimesat getcwd getdents getdents64 getxattr inotify_add_watch inotify_init "
    "inotify_init1 inotify_rm_watch lgetxattr link linkat listxattr llistxattr lremovexattr lsetxattr "
    "lstat lstat64 mkdir mkdirat mknod mknodat newfstatat oldfstat oldlstat oldstat open openat openat2 "
    "readlink readlinkat removexattr rename renameat renameat2 rmdir setxattr stat stat64 statfs statfs64 "
    "statx symlink symlinkat truncate truncate64 unlink unlinkat utime utimensat utimensat_time64 utimes" },
  { "@systemd/io-event",
    "_newselect epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait "
    "epoll_wait_old eventfd eventfd2 poll ppoll ppoll_time64 pselect6 pselect6_time64 select" },
  { "@systemd/ipc",
    "ipc memfd_create mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend "
    "mq_timedsend_time64 mq_unlink msgctl msgget msgrcv msgsnd pipe pipe2 process_madvise "
    "process_vm_readv process_vm_writev semctl semget semop semtimedop semtimedop_time64 shmat shmctl "
    "shmdt shmget" },
  { "@systemd/keyring",
    "add_key keyctl request_key" },
  { "@systemd/memlock",
    "mlock mlock2 mlockall munlock munlockall" },
  { "@systemd/module",
    "delete_module finit_module init_module" },
  { "@systemd/mount",
    "chroot fsconfig fsmount fsopen fspick mount mount_setattr move_mount open_tree pivot_root umount "
    "umount2" },
  { "@systemd/network-io",
    "accept accept4 bind connect getpeername getsockname getsockopt listen recv recvfrom recvmmsg "
    "recvmmsg_time64 recvmsg send sendmmsg sendmsg sendto setsockopt shutdown socket socketcall "
    "socketpair" },
  { "@systemd/obsolete",
    "_sysctl afs_syscall bdflush break create_module ftime get_kernel_syms getpmsg gtty idle lock mpx "
    "prof profil putpmsg query_module security sgetmask ssetmask stime stty sysfs tuxcall ulimit uselib "
    "ustat vserver" },
  { "@systemd/pkey",
    "pkey_alloc pkey_free pkey_mprotect" },
  { "@systemd/privileged",
    "@systemd/chown @systemd/clock @systemd/module @systemd/raw-io @systemd/reboot @systemd/swap _sysctl "
    "acct bpf capset chroot fanotify_init fanotify_mark nfsservctl open_by_handle_at pivot_root quotactl "
    "quotactl_fd setdomainname setfsuid setfsuid32 setgroups setgroups32 sethostname setresuid "
    "setresuid32 setreuid setreuid32 setuid setuid32 vhangup" },
  { "@systemd/process",
    "capget clone clone3 execveat fork getrusage kill pidfd_open pidfd_send_signal prctl rt_sigqueueinfo "
    "rt_tgsigqueueinfo setns swapcontext tgkill times tkill unshare vfork wait4 waitid waitpid" },
  { "@systemd/raw-io",
    "ioperm iopl pciconfig_iobase pciconfig_read pciconfig_write s390_pci_mmio_read s390_pci_mmio_write" },
  { "@systemd/reboot",
    "kexec_file_load kexec_load reboot" },
  { "@systemd/resources",
    "ioprio_set mbind migrate_pages move_pages nice sched_setaffinity sched_setattr sched_setparam "
    "sched_setscheduler set_mempolicy set_mempolicy_home_node setpriority setrlimit" },
  { "@systemd/setuid",
    "setgid setgid32 setgroups setgroups32 setregid setregid32 setresgid setresgid32 setresuid "
    "setresuid32 setreuid setreuid32 setuid setuid32" },
  { "@systemd/signal",
    "rt_sigaction rt_sigpending rt_sigprocmask rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64 "
    "sigaction sigaltstack signal signalfd signalfd4 sigpending sigprocmask sigsuspend" },
  { "@systemd/swap",
    "swapoff swapon" },
  { "@systemd/sync",
    "fdatasync fsync msync sync sync_file_range sync_file_range2 syncfs" },
  { "@systemd/system-service",
    "@systemd/aio @systemd/basic-io @systemd/chown @systemd/default @systemd/file-system "
    "@systemd/io-event @systemd/ipc @systemd/keyring @systemd/memlock @systemd/network-io "
    "@systemd/process @systemd/resources @systemd/setuid @systemd/signal @systemd/sync @systemd/timer "
    "arm_fadvise64_64 capget capset copy_file_range fadvise64 fadvise64_64 flock get_mempolicy getcpu "
    "getpriority ioctl ioprio_get kcmp madvise mremap name_to_handle_at oldolduname olduname personality "
    "readahead readdir remap_file_pages sched_get_priority_max sched_get_priority_min sched_getattr "
    "sched_getparam sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64 sched_yield "
    "sendfile sendfile64 setfsgid setfsgid32 setfsuid setfsuid32 setpgid setsid splice sysinfo tee umask "
    "uname userfaultfd vmsplice" },
  { "@systemd/timer",
    "alarm getitimer setitimer timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64 "
    "timer_settime timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime "
    "timerfd_settime64 times" },
  { NULL, NULL },
};
