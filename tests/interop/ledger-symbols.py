#!/usr/bin/python3
"""ledger-symbols.py BINARY [LEDGER]: the transport ledger's dump (daemon/sofia/
tport_ledger.c, GREENWICH_TPORT_LEDGER) with every "BINARY-NAME+0xOFFSET" that
dladdr() could not name (greenwichd's own functions are not in its dynamic
symbol table) replaced by "function (file:line)" from addr2line, on stdout.
Reads LEDGER, or stdin."""
import os
import re
import subprocess
import sys

binary = sys.argv[1]
text = open(sys.argv[2]).read() if len(sys.argv) > 2 else sys.stdin.read()
name = re.escape(os.path.basename(binary))
pat = re.compile(r"\b%s\+(0x[0-9a-f]+)" % name)
offsets = sorted(set(pat.findall(text)))
names = {}
if offsets:
    # a return address: the call is the instruction before it
    out = subprocess.run(["addr2line", "-f", "-C", "-s", "-e", binary] +
                         ["%#x" % (int(o, 16) - 1) for o in offsets],
                         capture_output=True, text=True, check=False).stdout.split("\n")
    for i, o in enumerate(offsets):
        fn, where = (out[2 * i:2 * i + 2] + ["?", "?"])[:2]
        names[o] = "%s(%s)" % (fn, where)
sys.stdout.write(pat.sub(lambda m: names.get(m.group(1), m.group(0)), text))
