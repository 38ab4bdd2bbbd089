#!/usr/bin/python3
"""presence-ua.py - a standard SIP presence client for the interop tests: a local Digest
user that registers, subscribes to presence (RFC 3856, PIDF) and publishes its own status
(RFC 3903, PIDF with RPID), driven by commands on stdin, one per line:

    subscribe USER@DOMAIN      publish STATUS (available, away, busy, offline)    quit

It prints one line per event on stdout: registered, subscribed AOR code=N,
published STATUS code=N, notify entity=sip:AOR status=STATUS (offline when closed),
unregistered.  Built on tests/integration/presua.py."""
import argparse
import os
import re
import select
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import presua  # noqa: E402


def status_of(body):
    m = re.search(r"<(?:\w+:)?basic>\s*(\w+)", body)
    if not m or m.group(1) != "open":
        return "offline"
    for act in ("on-the-phone", "busy", "away", "do-not-disturb"):
        if re.search(r"<(?:\w+:)?%s\s*/>|>%s<" % (act, act), body):
            return act
    return "available"


def say(text):
    print(text, flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--domain", required=True)
    a = ap.parse_args()
    presua.DOMAIN = a.domain
    ua = presua.UA(a.user, a.password, a.port)
    r = ua.register(600)
    if r is None or r.status != 200:
        say("register-failed code=%s" % (r.status if r else "none"))
        return 1
    say("registered")
    subs, etag, buf, lines = [], None, b"", []
    while True:
        for m in list(ua.inbox):
            ua.inbox.remove(m)
            if m.method == "NOTIFY" and m.body:
                ent = re.search(r'entity="([^"]+)"', m.body)
                say("notify entity=%s status=%s" % (ent.group(1) if ent else "-",
                                                    status_of(m.body)))
        ready, _, _ = select.select([0, ua.sock], [], [], 0.2)
        if ua.sock in ready:
            ua.recv(0.05)
        if 0 in ready:
            chunk = os.read(0, 4096)
            buf += chunk if chunk else b"\nquit\n"
            *done, buf = buf.split(b"\n")
            lines += [d.decode() for d in done]
        if not lines:
            continue
        ua.pending.clear()  # stray retransmitted answers
        w = lines.pop(0).split()
        if w and w[0] == "quit":
            break
        if len(w) == 2 and w[0] == "subscribe":
            s = presua.Sub(ua, w[1], expires=600, headers=["Accept: application/pidf+xml"])
            subs.append(s)
            say("subscribed %s code=%s" % (w[1], s.resp.status if s.resp else "none"))
        elif len(w) == 2 and w[0] == "publish":
            act = None if w[1] in ("available", "offline") else w[1]
            body = presua.pidf(ua.aor, "closed" if w[1] == "offline" else "open", act)
            r = presua.publish(ua, body, 600, etag)
            if r is not None and r.status == 200:
                etag = r.h("sip-etag")
            say("published %s code=%s" % (w[1], r.status if r else "none"))
    for s in subs:
        if s.resp is not None and s.resp.status < 300:
            s.refresh(0)
    r = ua.register(0)
    say("unregistered code=%s" % (r.status if r else "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
