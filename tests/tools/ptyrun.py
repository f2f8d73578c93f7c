#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""ptyrun.py ROWSxCOLS [--resize-after=SECONDS:ROWSxCOLS] [--type-after=SECONDS:TEXT]
            [--type-after-output=MARKER:TEXT] [--resize-after-output=MARKER:ROWSxCOLS] -- CMD...

Runs CMD on a new pseudo-terminal of the given size, copies what it prints to
stdout, and exits with its exit code (128+N when killed by signal N). With
--resize-after, the terminal is resized after SECONDS, as a terminal emulator
does when its window changes (the kernel sends SIGWINCH to the foreground
process group). With --type-after, TEXT (a "\\n" in it a newline) is typed on the
terminal after SECONDS; with --type-after-output (which may be given several times,
each typed in turn), once CMD has printed MARKER ("^C" in TEXT: the interrupt
character); --resize-after-output resizes the terminal once CMD has printed MARKER (in
turn with the others). For the tests of `podrun run --interactive` and of
`podrun enter` on a terminal."""
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
    typing = None
    markers = []  # each typed in turn, once its marker has been printed
    seen = b""
    for o in opts[1:]:
        if o.startswith("--type-after-output="):
            mark, text = o[len("--type-after-output="):].split(":", 1)
            markers.append((mark.encode(), text.replace("\\n", "\n").encode().replace(b"^C", b"\x03")))
        if o.startswith("--resize-after-output="):
            mark, to = o[len("--resize-after-output="):].split(":", 1)
            markers.append((mark.encode(), size(to)))
        if o.startswith("--type-after="):
            secs, text = o[len("--type-after="):].split(":", 1)
            typing = (time.monotonic() + float(secs), text.replace("\\n", "\n").encode())
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
        due = [t[0] for t in (resize, typing) if t is not None]
        timeout = None if not due else max(0.0, min(due) - time.monotonic())
        ready, _, _ = select.select([master], [], [], timeout)
        if typing is not None and time.monotonic() >= typing[0]:
            os.write(master, typing[1])
            typing = None
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
            seen += data
            if markers and markers[0][0] in seen:
                if isinstance(markers[0][1], bytes):
                    os.write(master, markers[0][1])
                else:
                    set_size(master, *markers[0][1])
                seen = seen[seen.index(markers[0][0]) + len(markers[0][0]):]
                markers.pop(0)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
