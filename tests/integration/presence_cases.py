#!/usr/bin/python3
"""presence_cases.py PORT CASE - one presence scenario against a running
greenwichd whose users (alice, bob, carol, dave, eve, frank; password
"secret") exist.  Prints one "ok - " or "FAILED - " line per check; exits 1
when a check failed."""
import os
import random
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from presua import UA, Sub, pidf, publish, service  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from checks import check, exit_status, status  # noqa: E402

PORT = int(sys.argv[1])
CASE = sys.argv[2]
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


def case_restart1():
    bob, alice = ua("bob"), ua("alice")
    s = Sub(alice, "bob@example.test", expires=600)
    s.notify()
    r = publish(bob, pidf(bob.aor, activity="away"), expires=600)
    check("before the restart: away", has(s.notify(), "away"))
    print("READY", flush=True)
    flag = os.environ["RESTART_FLAG"]
    for _ in range(300):
        if os.path.exists(flag):
            break
        time.sleep(0.1)
    n = s.notify(timeout=5)
    check("after the restart a NOTIFY comes in the same dialog, still away",
          has(n, "away") and n.tag("from") == s.resp.tag("to"))
    r = publish(bob, None, etag=r.h("sip-etag"))
    check("the publication survived: refresh with its entity tag is 200", status(r) == 200)
    publish(bob, pidf(bob.aor, activity="busy"), etag=r.h("sip-etag") if r else None)
    check("and a change still reaches the watcher", has(s.notify(), "busy"))
    s.refresh(0)


def acl(owner, watcher, rule):
    """The management path (greenwich-mmc): a row in presence_acl."""
    import sqlite3
    db = sqlite3.connect(os.environ["GW_DB"], timeout=5)
    db.execute("INSERT OR REPLACE INTO presence_acl (owner, watcher, rule) VALUES (?,?,?)",
               (owner, watcher, rule))
    db.commit()
    db.close()


def case_block():
    alice, eve, frank = ua("alice"), ua("eve"), ua("frank")
    alice.register()
    acl("alice@example.test", "eve@example.test", "block")
    se = Sub(eve, "alice@example.test")
    check("blocked watcher: a normal 200", status(se.resp) == 200)
    check("blocked watcher sees closed", basic_of(se.notify()) == "closed")
    sf = Sub(frank, "alice@example.test")
    check("other watcher of the domain sees open", basic_of(sf.notify()) == "open")
    w = Sub(alice, "alice@example.test", event="presence.winfo")
    n = w.notify()
    check("winfo: 200 and a watcherinfo NOTIFY", status(w.resp) == 200 and n is not None and
          n.h("content-type") == "application/watcherinfo+xml")
    check("winfo lists frank active and eve rejected",
          has(n, 'status="active">sip:frank@example.test') and
          has(n, 'status="terminated">sip:eve@example.test'))
    w2 = Sub(eve, "alice@example.test", event="presence.winfo")
    check("somebody else's winfo: 403", status(w2.resp) == 403)
    acl("alice@example.test", "eve@example.test", "allow")
    se.refresh(600)
    check("allowed again: eve's next NOTIFY is open", basic_of(se.notify()) == "open")
    se.refresh(0)
    n = w.notify(lambda m: not has(m, "eve@"))
    check("winfo after eve leaves: only frank", has(n, "frank@") and not has(n, "eve@"))
    sf.refresh(0)
    w.refresh(0)
    alice.register(0)


BILLION = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
           + "".join('<!ENTITY lol%d "%s">' % (i, ("&lol%d;" % (i - 1) if i > 1 else "&lol;") * 10)
                     for i in range(1, 10))
           + ']>\n<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:bob@example.test">'
           '<tuple id="t"><status><basic>open</basic></status><note>&lol9;</note></tuple>'
           '</presence>')
XXE = ('<?xml version="1.0"?>\n<!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
       '<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:bob@example.test">'
       '<tuple id="t"><status><basic>open</basic></status><note>&x;</note></tuple></presence>')


def case_hostile():
    bob = ua("bob")
    check("billion laughs: 400", status(publish(bob, BILLION)) == 400)
    check("external entity: 400", status(publish(bob, XXE)) == 400)
    big = pidf(bob.aor, note="x" * 20000)
    check("oversized PIDF: 413", status(publish(bob, big)) == 413)
    check("malformed XML: 400", status(publish(bob, "<presence><tuple></presence>")) == 400)
    check("not PIDF (other root): 400", status(publish(bob, "<x xmlns='urn:x'/>")) == 400)
    check("wrong content type: 415",
          status(publish(bob, pidf(bob.aor), ctype="text/plain")) == 415)
    check("initial PUBLISH without body: 400", status(publish(bob, None)) == 400)
    r = publish(bob, pidf(bob.aor, activity="busy"), expires=600)
    check("the server still serves a good PUBLISH", status(r) == 200)
    publish(bob, None, etag=r.h("sip-etag") if r else "x", expires=0)
    check("and OPTIONS", status(bob.request("OPTIONS", "sip:example.test")) == 200)


def case_sipe():
    alice, carol = ua("alice", "tcp"), ua("carol")
    alice.register()
    rc = Sub(alice, "alice@example.test", event="vnd-microsoft-roaming-contacts",
             headers=["Proxy-Require: ms-benotify",
                      "Supported: com.microsoft.autoextend, ms-benotify",
                      "Accept: application/vnd-microsoft-roaming-contacts+xml"])
    check("roaming-contacts SUBSCRIBE with Proxy-Require: ms-benotify: 200",
          status(rc.resp) == 200)
    n = rc.notify()
    check("contact list NOTIFY (over TCP) with the default group",
          n is not None and n.h("content-type") == "application/vnd-microsoft-roaming-contacts+xml"
          and has(n, "<contactList deltaNum=") and has(n, '<group id="1" name="~"'))
    r = Sub(carol, "alice@example.test", event="vnd-microsoft-roaming-contacts")
    check("somebody else's contact list: 403", status(r.resp) == 403)
    leg = Sub(carol, "alice@example.test", headers=[
        "Accept: application/msrtc-event-categories+xml, text/xml+msrtc.pidf, "
        "application/xpidf+xml, application/pidf+xml"])
    leg.notify()
    publish(alice, pidf(alice.aor, activity="busy"))
    n = leg.notify()
    check("legacy watcher: busy as LCS numbers in text/xml+msrtc.pidf (the client's dialect)",
          n is not None and n.h("content-type") == "text/xml+msrtc.pidf"
          and has(n, '<availability aggregate="300"') and has(n, '<activity aggregate="600"'))
    for ev in ("presence.wpending", "vnd-microsoft-roaming-ACL", "vnd-microsoft-provisioning"):
        s = Sub(alice, "alice@example.test", event=ev)
        check(ev + ": 489 (tolerated by the client)", status(s.resp) == 489)
    rc.refresh(0)
    leg.refresh(0)
    alice.register(0)


def case_im():
    alice, bob = ua("alice"), ua("bob")
    r = alice.request("MESSAGE", "sip:bob@example.test", ["Content-Type: text/plain"], "hi")
    check("MESSAGE to a user without registration: 480 User not signed in",
          r is not None and r.first == "SIP/2.0 480 User not signed in")
    bob.register()
    comp = ('<?xml version="1.0"?><isComposing xmlns="urn:ietf:params:xml:ns:im-iscomposing">'
            '<state>active</state><contenttype>text/plain</contenttype></isComposing>')
    got = []
    t = threading.Thread(target=lambda: got.append(
        bob.wait_request(lambda m: m.method == "MESSAGE", timeout=6)))
    t.start()
    r = alice.request("MESSAGE", "sip:bob@example.test",
                      ["Content-Type: application/im-iscomposing+xml"], comp)
    t.join()
    m = got[0] if got else None
    check("is-composing relayed to bob", m is not None and
          m.h("content-type") == "application/im-iscomposing+xml" and "<state>active" in m.body)
    check("and its 200 back to alice", status(r) == 200)
    bob.register(0)


def case_tcp():
    frank, dave = ua("frank", "tcp"), ua("dave")
    check("frank registers over TCP", status(frank.register()) == 200)
    s = Sub(frank, "dave@example.test")
    check("NOTIFY over frank's TCP connection", basic_of(s.notify()) == "closed")
    dave.register()
    check("change reaches frank over TCP", basic_of(s.notify()) == "open")
    dave.register(0)
    s.refresh(0)
    frank.register(0)


def case_fanout():
    """Many watchers, each on its own socket so that the kernel spreads them
    over both workers; bob publishes ten states in a row.  Every watcher's
    last NOTIFY says the last state, its CSeqs only grow, the NOTIFYs of
    watchers on worker 1 leave from worker 1 (Via branch ...x1) and those of
    worker 0 from worker 0, and a watcher that never answers holds nobody."""
    users = ("alice", "carol", "dave", "eve", "frank")
    bob = ua("bob")
    check("bob registers", status(bob.register()) == 200)
    mute = ua("carol")
    mute.auto_answer = False  # takes its NOTIFYs, never answers them
    ms = Sub(mute, "bob@example.test")
    check("the silent watcher subscribes", status(ms.resp) == 200)
    watchers = []
    for i in range(24):
        w = ua(users[i % len(users)])
        s = Sub(w, "bob@example.test")
        if status(s.resp) != 200:
            check("watcher %d subscribes" % i, False)
            return
        watchers.append((w, s))
    check("24 watchers subscribed", len(watchers) == 24)
    stop = threading.Event()

    def pump(w):
        """Keeps every NOTIFY in w.inbox and answers it 200 only 30-150 ms
        later: the next states come while it is in flight, and the server
        must send only the latest once the 200 comes (one at a time)."""
        w.auto_answer = False
        due, seen = [], 0
        while not stop.is_set():
            w.recv(0.02, on_request=True)
            for m in w.inbox[seen:]:
                due.append((time.time() + random.uniform(0.03, 0.15), m))
            seen = len(w.inbox)
            now = time.time()
            for d in [d for d in due if d[0] <= now]:
                w.answer(d[1], 200, "OK")
                due.remove(d)
        for _, m in due:
            w.answer(m, 200, "OK")
    threads = [threading.Thread(target=pump, args=(w,)) for w, _ in watchers]
    for t in threads:
        t.start()
    etag, ok = None, 0
    coalesced = 0
    for k in range(10):
        r = publish(bob, pidf(bob.aor, note="state%d" % k), etag=etag)
        ok += status(r) == 200
        etag = r.h("sip-etag") if r is not None else etag
    check("ten PUBLISHes answered 200", ok == 10)
    # wait for the last state everywhere (or give up after 10 s)
    end = time.time() + 10
    while time.time() < end:
        if all(any("state9" in m.body for m in list(w.inbox)) for w, _ in watchers):
            break
        time.sleep(0.1)
    time.sleep(1.0)  # anything still coming would come now
    stop.set()
    for t in threads:
        t.join()
    last_ok = order_ok = one_worker = 0
    workers = set()
    for w, s in watchers:
        ns = [m for m in w.inbox if m.method == "NOTIFY" and m.h("call-id") == s.call_id]
        seqs = []
        for m in ns:  # a retransmission repeats its CSeq: counted once
            if not seqs or seqs[-1] != m.cseq():
                seqs.append(m.cseq())
        order_ok += all(a < b for a, b in zip(seqs, seqs[1:]))
        coalesced += len(seqs) < 11  # the first NOTIFY and one per state, at most
        last_ok += bool(ns) and "state9" in max(ns, key=lambda m: m.cseq()).body
        ws = set()
        for m in ns:
            b = re.search(r";branch=[^;,\s]*x(\d+)(?:[;,\s]|$)", m.h("via") or "")
            ws.add(b.group(1) if b else "?")
        one_worker += len(ws) == 1
        workers |= ws
    check("every watcher's last NOTIFY is the last state (%d of 24)" % last_ok, last_ok == 24)
    check("every watcher's CSeqs only grow (%d of 24)" % order_ok, order_ok == 24)
    check("states that came while a NOTIFY was in flight were merged (%d watchers)" %
          coalesced, coalesced > 0)
    check("each watcher's NOTIFYs leave from one worker (%d of 24)" % one_worker,
          one_worker == 24)
    check("NOTIFYs left from both workers (%s)" % ",".join(sorted(workers)),
          workers == {"0", "1"})
    mute.auto_answer = True
    for w, s in watchers + [(mute, ms)]:
        s.refresh(0)
    bob.register(0)


def outsider(user, domain):
    u = UA(user, "unused", PORT)
    u.aor = "%s@%s" % (user, domain)
    return u


def case_policy():
    """Run with a rules file that lets outside watchers see alice only (an outside
    sender has no proven identity: only the target and the zone can be ruled on)."""
    alice, dave = ua("alice"), ua("dave")
    alice.register()
    dave.register()
    publish(alice, pidf(alice.aor, activity="busy"))
    publish(dave, pidf(dave.aor, activity="busy"))
    eve, pat = outsider("eve", "other.test"), outsider("pat", "partner.test")
    se = Sub(eve, "dave@example.test")
    sp = Sub(pat, "alice@example.test")
    check("watcher the policy denies: 200 all the same (nothing reveals the block)",
          status(se.resp) == 200 and se.resp.h("expires") == "600")
    check("watcher the policy allows: 200", status(sp.resp) == 200)
    check("denied watcher: NOTIFY says closed although dave is online",
          basic_of(se.notify()) == "closed")
    check("allowed outside watcher: NOTIFY open", basic_of(sp.notify()) == "open")
    w = Sub(alice, "alice@example.test", event="presence.winfo")
    n = w.notify()
    check("winfo: alice sees pat active", has(n, 'status="active">sip:pat@partner.test'))
    wd = Sub(dave, "dave@example.test", event="presence.winfo")
    n = wd.notify()
    check("winfo: dave sees eve rejected",
          has(n, 'event="rejected" status="terminated">sip:eve@other.test'))
    service(dave, "setACE", "<m:type>USER</m:type><m:mask>sip:eve@other.test</m:mask>"
            "<m:rights>AA</m:rights>")
    check("dave's own allow rule does not overrule the policy: still closed",
          basic_of(se.notify()) == "closed")
    publish(alice, pidf(alice.aor, activity="away"))
    check("allowed watcher gets the change", has(sp.notify(lambda m: "away" in m.body), "away"))
    for s in (se, sp, w, wd):
        s.refresh(0)
    alice.register(0)
    dave.register(0)


def main():
    fn = globals().get("case_" + CASE)
    if fn is None:
        print("FAILED - no case " + CASE)
        return 1
    fn()
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
