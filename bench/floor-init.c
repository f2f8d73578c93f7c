/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kvm bench's floor (bench/run.sh, row 9): an initramfs /init that only
 * powers the VM off, booted by the same qemu and kernel as a kvm pod. */
#include <linux/reboot.h>
#include <sys/reboot.h>
#include <unistd.h>

int main(void)
{
  reboot(LINUX_REBOOT_CMD_POWER_OFF);
  return 0;
}
