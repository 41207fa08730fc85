"""Drive a full-screen program in a pseudo-terminal and read its screen
through pyte, a terminal emulator nlstat does not share code with.

Usage: live_pty.py COLS ROWS [--ignore SIGNAL]... -- PROGRAM ARGS...
(--ignore: the program starts with that signal ignored, as after a
shell's `trap '' TSTP`)
Steps come on stdin, one JSON object per line; each answer is one JSON
line on stdout:
  {"wait": TEXT, "timeout": S}  wait until the screen shows TEXT and no
                                frame is half written (the last
                                synchronized update, ESC[?2026h ...
                                ESC[?2026l, has ended)
                                -> {"found": bool, "lines": [...]}
  {"wait_gone": TEXT, ...}      wait until it does not
  {"keys": TEXT}                type TEXT              -> {"ok": true}
  {"dump": true}                -> {"lines": [...]}
  {"signal": NAME}              send SIGNAME to the program -> {"ok": true}
  {"state": true}               -> {"state": "R"|"S"|"T"|...} from /proc,
                                   and the terminal as in "exit"
  {"settle": S}                 read for S seconds     -> {"ok": true}
  {"exit": S}                   wait up to S seconds for the exit
        -> {"status": code or null, "lines": [...], "cursor_hidden": bool,
            "frames": [updates begun, updates ended],
            "after_leaving": what was written after the alternate screen
            was last left (null: never),
            "alternate": bool (still on the alternate screen),
            "raw": bool (the terminal left in raw mode)}
"""

import json
import os
import pty
import select
import signal
import struct
import sys
import termios
import fcntl
import time

import pyte

cols, rows = int(sys.argv[1]), int(sys.argv[2])
options = sys.argv[3:sys.argv.index("--")]
ignored = [options[i + 1] for i, o in enumerate(options) if o == "--ignore"]
argv = sys.argv[sys.argv.index("--") + 1:]

pid, fd = pty.fork()
if pid == 0:
    # As a shell runs a job: the program in a process group of its own,
    # in the foreground, under a session leader that waits for it (a
    # group whose parent is outside the session is orphaned, and the
    # kernel drops SIGTSTP to it).
    job = os.fork()
    if job == 0:
        os.setpgid(0, 0)
        signal.signal(signal.SIGTTOU, signal.SIG_IGN)
        os.tcsetpgrp(0, os.getpgrp())
        signal.signal(signal.SIGTTOU, signal.SIG_DFL)
        for name in ignored:
            signal.signal(getattr(signal, "SIG" + name), signal.SIG_IGN)
        os.execvp(argv[0], argv)
    _, code = os.waitpid(job, 0)
    os._exit(os.waitstatus_to_exitcode(code) & 0xFF)


def program():
    """The program's pid: the session leader's one child."""
    end = time.monotonic() + 5
    while time.monotonic() < end:
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                children = f.read().split()
        except OSError:
            children = []
        if children:
            return int(children[0])
        time.sleep(0.01)
    return pid


fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
os.kill(pid, signal.SIGWINCH)

screen = pyte.Screen(cols, rows)
stream = pyte.ByteStream(screen)
written = bytearray()
status = None


def pump(seconds):
    """Feed what the program writes to the emulator for up to `seconds`."""
    global status
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return
        ready, _, _ = select.select([fd], [], [], min(left, 0.05))
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            if chunk:
                written.extend(chunk)
                stream.feed(chunk)
                continue
        if status is None:
            done, code = os.waitpid(pid, os.WNOHANG)
            if done:
                status = os.waitstatus_to_exitcode(code)


def lines():
    return [line.rstrip() for line in screen.display]


def shows(text):
    return any(text in line for line in lines())


def frame_done():
    """No frame is half written: the last synchronized update has ended."""
    return written.rfind(b"\x1b[?2026l") >= written.rfind(b"\x1b[?2026h")


def alternate():
    on = written.rfind(b"\x1b[?1049h")
    return on >= 0 and on > written.rfind(b"\x1b[?1049l")


def terminal():
    """How the program has left the terminal so far."""
    mode = termios.tcgetattr(fd)
    return {
        "cursor_hidden": screen.cursor.hidden,
        "alternate": alternate(),
        "raw": not (mode[3] & termios.ICANON and mode[3] & termios.ECHO),
    }


for step in sys.stdin:
    step = json.loads(step)
    if "wait" in step or "wait_gone" in step:
        text = step.get("wait", step.get("wait_gone"))
        want = "wait" in step
        end = time.monotonic() + step.get("timeout", 10)
        # a frame is read whole: nlstat wraps each in a synchronized
        # update, which the pty may deliver in several reads
        while (shows(text) != want or not frame_done()) and time.monotonic() < end:
            pump(0.05)
        answer = {"found": shows(text) == want, "lines": lines()}
    elif "keys" in step:
        os.write(fd, step["keys"].encode())
        answer = {"ok": True}
    elif "dump" in step:
        pump(0.05)
        answer = {"lines": lines()}
    elif "signal" in step:
        os.kill(program(), getattr(signal, "SIG" + step["signal"]))
        answer = {"ok": True}
    elif "state" in step:
        pump(0.05)
        with open(f"/proc/{program()}/stat") as f:
            answer = {"state": f.read().rsplit(")", 1)[1].split()[0]}
        answer.update(terminal())
    elif "settle" in step:
        pump(step["settle"])
        answer = {"ok": True}
    elif "exit" in step:
        end = time.monotonic() + step["exit"]
        while status is None and time.monotonic() < end:
            pump(0.05)
        left = written.rfind(b"\x1b[?1049l")
        answer = {"status": status, "lines": lines(),
                  "frames": [written.count(b"\x1b[?2026h"), written.count(b"\x1b[?2026l")],
                  "after_leaving": written[left + 8:].decode("utf-8", "replace")
                  if left >= 0 else None}
        answer.update(terminal())
    else:
        answer = {"error": f"unknown step {step}"}
    print(json.dumps(answer), flush=True)

if status is None:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
