#!/usr/bin/python3
"""presence_cases.py PORT CASE - one presence scenario against a running
greenwichd whose users (alice, bob, carol, dave, eve, frank; password
"secret") exist.  Prints one "ok - " or "FAILED - " line per check; exits 1
when a check failed."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from presua import UA, Sub, pidf, publish, service  # noqa: E402

PORT = int(sys.argv[1])
CASE = sys.argv[2]
FAILS = 0


def check(desc, cond):
    global FAILS
    print(("ok - " if cond else "FAILED - ") + desc)
    if not cond:
        FAILS += 1
    return cond


def status(r):
    return r.status if r is not None else None


def basic_of(m):
    return m is not None and ("<basic>open</basic>" in m.body and "open"
                              or "<basic>closed</basic>" in m.body and "closed")


def has(m, text):
    return m is not None and text in m.body


def ua(name, transport="udp"):
    return UA(name, "secret", PORT, transport)


def case_basic():
    bob, alice = ua("bob"), ua("alice")
    check("bob registers", status(bob.register()) == 200)
    s = Sub(alice, "bob@example.test")
    check("SUBSCRIBE presence answered 200", status(s.resp) == 200)
    check("the 200 carries Expires and a To tag", s.resp.h("expires") == "600" and
          s.resp.tag("to") is not None)
    n = s.notify()
    check("immediate NOTIFY: registered bob is open", basic_of(n) == "open")
    check("NOTIFY: Event presence, Subscription-State active, PIDF",
          n is not None and n.h("event") == "presence" and
          (n.h("subscription-state") or "").startswith("active") and
          n.h("content-type") == "application/pidf+xml" and 'entity="sip:bob@example.test"' in n.body)
    r = publish(bob, pidf(bob.aor, activity="busy", note="in a meeting"))
    check("PUBLISH answered 200 with SIP-ETag", status(r) == 200 and r.h("sip-etag"))
    etag = r.h("sip-etag") if r else None
    n = s.notify()
    check("NOTIFY on change: busy with the note", has(n, "busy") and has(n, "in a meeting"))
    r = publish(bob, None, etag=etag)
    check("refresh (If-Match, no body) 200 with a new etag",
          status(r) == 200 and r.h("sip-etag") and r.h("sip-etag") != etag)
    etag = r.h("sip-etag") if r else etag
    check("unknown entity tag: 412", status(publish(bob, None, etag="nosuchtag")) == 412)
    check("unknown event package: 489",
          status(publish(bob, pidf(bob.aor), event="dialog")) == 489)
    check("publishing for somebody else: 403",
          status(alice.request("PUBLISH", "sip:bob@example.test",
                               ["Event: presence", "Content-Type: application/pidf+xml"],
                               pidf("bob@example.test"))) == 403)
    r = publish(bob, None, etag=etag, expires=0)
    check("removal (Expires: 0) 200", status(r) == 200)
    n = s.notify()
    check("after removal: registered means available again",
          basic_of(n) == "open" and not has(n, "busy"))
    r = s.refresh(300)
    check("refresh SUBSCRIBE in the dialog: 200", status(r) == 200 and r.h("expires") == "300")
    check("refresh gives a NOTIFY", s.notify() is not None)
    r = s.refresh(0)
    check("unsubscribe: 200", status(r) == 200)
    n = s.notify()
    check("terminating NOTIFY", n is not None and
          (n.h("subscription-state") or "").startswith("terminated"))
    r = s.refresh(300)
    check("SUBSCRIBE in an ended dialog: 481", status(r) == 481)
    check("bob signs out", status(bob.register(0)) == 200)


def case_register():
    dave, alice = ua("dave"), ua("alice")
    s = Sub(alice, "dave@example.test")
    check("not registered, nothing published: closed", basic_of(s.notify()) == "closed")
    dave.register()
    check("dave registers: NOTIFY open", basic_of(s.notify()) == "open")
    dave.register(0)
    check("dave signs out: NOTIFY closed", basic_of(s.notify()) == "closed")
    s.refresh(0)


def case_compose():
    d1, d2, alice = ua("carol"), ua("carol"), ua("alice")
    d1.register()
    d2.register()
    s = Sub(alice, "carol@example.test")
    s.notify()
    publish(d1, pidf(d1.aor, activity="away"))
    check("device 1 away: away", has(s.notify(), "away"))
    r2 = publish(d2, pidf(d2.aor, activity="on-the-phone"))
    check("device 2 on the phone (most recent): on-the-phone", has(s.notify(), "on-the-phone"))
    publish(d1, pidf(d1.aor))
    check("device 1 available (most recent): no change, no NOTIFY", s.notify(timeout=1) is None)
    f = Sub(alice, "carol@example.test", expires=0)
    n = f.notify()
    check("a fetch (Expires: 0) says on-the-phone: it overrides available",
          has(n, "on-the-phone") and basic_of(n) == "open" and
          (n.h("subscription-state") or "").startswith("terminated"))
    publish(d2, None, etag=r2.h("sip-etag"), expires=0)
    n = s.notify()
    check("device 2 ends its publication: available", basic_of(n) == "open" and
          not has(n, "on-the-phone") and not has(n, "away"))
    publish(d1, pidf(d1.aor, basic="closed"))
    check("an explicit closed publication wins: offline", basic_of(s.notify()) == "closed")
    s.refresh(0)
    d1.register(0)


def case_expiry():
    frank, alice = ua("frank"), ua("alice")
    s = Sub(alice, "frank@example.test", expires=2)
    s.notify()
    publish(frank, pidf(frank.aor, activity="away"), expires=1)
    check("short publication: away", has(s.notify(), "away"))
    n = s.notify(lambda m: not has(m, "away") and
                 not (m.h("subscription-state") or "").startswith("terminated"), timeout=4)
    check("publication expires: back to offline", basic_of(n) == "closed")
    n = s.notify(lambda m: (m.h("subscription-state") or "").startswith("terminated"), timeout=4)
    check("subscription expires: NOTIFY terminated;reason=timeout",
          n is not None and "timeout" in n.h("subscription-state"))


def main():
    fn = globals().get("case_" + CASE)
    if fn is None:
        print("FAILED - no case " + CASE)
        return 1
    fn()
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
