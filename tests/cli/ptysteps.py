#!/usr/bin/python3
"""Drive a program under a pseudo-terminal from a file of steps.

usage: ptysteps.py STEPS PROGRAM [ARG...]
Each line of STEPS is  WHAT <TAB> INPUT <TAB> REGEX : type INPUT ("\\r" for Enter,
"\\t" for Tab, may be empty), then wait until the terminal shows REGEX.  Prints ok/FAILED per
step; exits 1 when a step failed."""
import os
import pty
import re
import select
import sys
import time


class Term:
    def __init__(self, argv):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ["TERM"] = "vt100"
            os.execv(argv[0], argv)
        self.seen = b""

    def expect(self, regex, timeout=10.0):
        deadline = time.monotonic() + timeout
        pat = re.compile(regex.encode())
        while not (m := pat.search(self.seen)):
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([self.fd], [], [], wait)[0]:
                return False
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                return False
            self.seen += chunk
        self.seen = self.seen[m.end():]
        return True


term = Term(sys.argv[2:])
failed = 0
for line in open(sys.argv[1]):
    what, typed, regex = line.rstrip("\n").split("\t")
    os.write(term.fd, typed.replace("\\r", "\r").replace("\\t", "\t").encode())
    if term.expect(regex):
        print("ok - pty: " + what)
    else:
        failed += 1
        print("FAILED - pty: %s (wanted /%s/, got %r)" % (what, regex, term.seen[-300:]))
os.kill(term.pid, 15)
os.waitpid(term.pid, 0)
sys.exit(1 if failed else 0)
