#!/usr/bin/env python3
"""Run a command on a real pseudo-terminal, as its controlling terminal, and
answer its prompts: ttydrive.py [--answer REGEX REPLY]... -- CMD ARGS...

REPLY may use \\1, \\2 for groups of REGEX as matched in the output (the
code a prompt asks the user to type back); a REPLY that starts with "lower:"
is sent in lower case. Every wait is bounded: 10 seconds
per prompt and 20 in all. Prints what the terminal showed, exits with the
command's status."""
import os
import re
import select
import sys
import time


def main():
    args = sys.argv[1:]
    answers = []
    while args and args[0] == "--answer":
        answers.append((re.compile(args[1].encode()), args[2]))
        args = args[3:]
    if not args or args[0] != "--":
        sys.exit("usage: ttydrive.py [--answer REGEX REPLY]... -- CMD ARGS...")
    cmd = args[1:]
    pid, fd = os.forkpty()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    out = b""
    seen = 0
    deadline = time.monotonic() + 20
    step_deadline = time.monotonic() + 10
    while True:
        now = time.monotonic()
        if now > deadline or now > step_deadline:
            os.kill(pid, 9)
            sys.stdout.write(out.decode(errors="replace"))
            sys.stdout.write("\nttydrive: timed out\n")
            os.waitpid(pid, 0)
            sys.exit(124)
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                break
            out += chunk
        if answers:
            m = answers[0][0].search(out, seen)
            if m:
                reply = answers[0][1].encode()
                lower = reply.startswith(b"lower:")
                if lower:
                    reply = reply[len(b"lower:"):]
                reply = m.expand(reply)
                if lower:
                    reply = reply.lower()
                os.write(fd, reply + b"\r")
                seen = m.end()
                answers.pop(0)
                step_deadline = time.monotonic() + 10
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(out.decode(errors="replace").replace("\r\n", "\n"))
    sys.exit(os.waitstatus_to_exitcode(status))


main()
