#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""ptyrun.py ROWSxCOLS [--resize-after=SECONDS:ROWSxCOLS] -- CMD...

Runs CMD on a new pseudo-terminal of the given size, copies what it prints to
stdout, and exits with its exit code (128+N when killed by signal N). With
--resize-after, the terminal is resized after SECONDS, as a terminal emulator
does when its window changes (the kernel sends SIGWINCH to the foreground
process group). For the tests of `podrun run --interactive`."""
import fcntl
import os
import select
import struct
import sys
import termios
import time


def size(text):
    rows, cols = text.split("x")
    return int(rows), int(cols)


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def main(argv):
    sep = argv.index("--")
    opts, cmd = argv[1:sep], argv[sep + 1:]
    rows, cols = size(opts[0])
    resize = None
    for o in opts[1:]:
        if o.startswith("--resize-after="):
            secs, to = o[len("--resize-after="):].split(":")
            resize = (time.monotonic() + float(secs), size(to))
    master, slave = os.openpty()
    set_size(master, rows, cols)  # before the child can look
    pid = os.fork()
    if pid == 0:
        os.close(master)
        os.login_tty(slave)
        os.execvp(cmd[0], cmd)
    os.close(slave)
    while True:
        timeout = None if resize is None else max(0.0, resize[0] - time.monotonic())
        ready, _, _ = select.select([master], [], [], timeout)
        if resize is not None and time.monotonic() >= resize[0]:
            set_size(master, *resize[1])
            resize = None
        if ready:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the child side is closed
                data = b""
            if not data:
                break
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
