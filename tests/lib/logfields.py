#!/usr/bin/env python3
"""logfields.py LOG MARKER EVENT SOURCE_PREFIX KEY=VALUE...: find the one line of
greenwichd's log LOG that contains MARKER (a string the attacker sent, as it appears
in the log) and EVENT (event=EVENT), read it as key=value fields the way a log reader
would (values bare, or quoted with \\" \\\\ and \\xNN escapes), and check that it is
greenwichd's: every key appears once, event= is EVENT, source= starts with
SOURCE_PREFIX, and each KEY decodes back to VALUE (VALUE is a Python literal: what the
attacker sent, CR, LF and quotes included).  Exit 0 when all hold, else 1 with why."""
import ast
import re
import sys

TOKEN = re.compile(r'([a-z-]+)=("(?:[^"\\]|\\.)*"|[^ "\\=]+)(?: |$)')


def decode(v):
    if not v.startswith('"'):
        return v
    out, i, v = "", 0, v[1:-1]
    while i < len(v):
        if v[i] == "\\" and v[i + 1] == "x":
            out += chr(int(v[i + 2:i + 4], 16))
            i += 4
        elif v[i] == "\\":
            out += v[i + 1]
            i += 2
        else:
            out += v[i]
            i += 1
    return out


def fields(text):
    """[(key, raw value)] of a log line's message, or None when it is not key=value."""
    out, pos = [], 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            print("not key=value at %r" % text[pos:pos + 40])
            return None
        out.append((m.group(1), m.group(2)))
        pos = m.end()
    return out


def main(argv):
    log, marker, event, source = argv[1:5]
    want = {}
    for kv in argv[5:]:
        k, _, v = kv.partition("=")
        want[k] = ast.literal_eval(v)
    lines = [l for l in open(log, encoding="latin-1")
             if "event=" + event in l and marker in l]
    if len(lines) != 1:
        print("event=%s lines with %r: %d" % (event, marker, len(lines)))
        return 1
    text = lines[0].split(": ", 1)[1].rstrip("\n")
    fs = fields(text)
    if fs is None:
        return 1
    keys = [k for k, _ in fs]
    d = {k: decode(v) for k, v in fs}
    ok = True
    for k in ["event", "source"] + list(want):
        if keys.count(k) != 1:
            print("field %s appears %d times" % (k, keys.count(k)))
            ok = False
    if d.get("event") != event or not d.get("source", "").startswith(source):
        print("event/source forged: %r %r" % (d.get("event"), d.get("source")))
        ok = False
    for k, v in want.items():
        if d.get(k) != v:
            print("%s %r != sent %r" % (k, d.get(k), v))
            ok = False
    if not ok:
        print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
