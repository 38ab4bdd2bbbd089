#!/usr/bin/python3
"""The binding hold on every path a request can take to a device, in one process with
several clients of sipae_client.py (so the steps run in a known order).

An attacker-like sign-in (real credentials, as a replayed or relayed handshake would give,
but never a signed request afterwards) must receive nothing, whichever way a request
addresses it: by the AOR (also as one branch of a fork beside a proven device), by the
device's own address (its Contact URI), and inside a dialog whose remote target is a
Contact the attacker registered again (replaying the victim's Contact). Once the attacker's
client signs a request (it holds the keys: a real client), the same requests reach it.

Prints one line per check, "ok: ..." or "FAIL: ..."; exit status 0 when all passed.
Usage: sipae_hold.py --server HOST:PORT --domain D --alice PASSWORD --carol PASSWORD
       [--ntlm-domain CORP] [--trace FILE]
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sipae_client as sc  # noqa: E402
from sipae_sip import SipMessage, uri_of  # noqa: E402

FAILS = []


def check(what, cond):
    print("%s: %s" % ("ok" if cond else "FAIL", what))
    sys.stdout.flush()
    if not cond:
        FAILS.append(what)


class Scenario:
    def __init__(self, args):
        self.args = args
        host, _, port = args.server.rpartition(":")
        self.host, self.port = host, int(port)
        self.trace = open(args.trace, "a") if args.trace else None

    def client(self, user, password, proven=True, contact=None):
        c = sc.Client(self.host, self.port, self.args.domain, user, password, "ntlm", True,
                      self.args.ntlm_domain, timeout=10.0, trace=self.trace)
        c.contact_override = contact
        c.connect()
        resp = c.register()
        if resp.status != 200:
            raise sc.StatusError("%s: sign-in %s" % (user, resp.start))
        if proven:
            self.prove(c)
        return c

    @staticmethod
    def prove(c):
        """A signed request: what a real client sends at once (it proves the SA)."""
        req = c.register_request()
        c.sign(req)
        resp = c.send_request(req)
        if resp.status != 200:
            raise sc.StatusError("signed REGISTER: %s" % resp.start)

    @staticmethod
    def inbox(c, method, wait):
        """What of method the server delivered to c within wait seconds (and since the
        last look)."""
        got = c.wait_requests(method, 0, wait, whole=True)
        c.inbox = []
        return got

    @staticmethod
    def texts(msgs):
        return [m.body.decode(errors="replace") for m in msgs]

    def message(self, frm, to, text, call_id=None):
        req = frm.request("MESSAGE", to, to, call_id=call_id or sc.rand_hex(8) + "@h",
                          body=text.encode(), ctype="text/plain; charset=UTF-8")
        frm.sign(req)
        frm.send_raw(req)
        return req

    def answer(self, frm, req):
        return frm.wait_response(req).status

    def run(self):
        a = self.args
        dom = a.domain
        carol_aor = "sip:carol@%s" % dom
        alice = self.client("alice", a.alice)
        dev = self.client("carol", a.carol)  # carol's real device: proven
        evil = self.client("carol", a.carol, proven=False)  # signed in, signs nothing
        evil_uri = uri_of(evil.contact())
        dev_uri = uri_of(dev.contact())

        # ---- by AOR: the fork goes to the proven device only ----
        req = self.message(alice, carol_aor, "fork-held")
        got_dev = self.texts(self.inbox(dev, "MESSAGE", 2))
        st = self.answer(alice, req)
        check("AOR, forked: alice's MESSAGE answered 200 (got %d)" % st, st == 200)
        check("AOR, forked: carol's proven device got it (%s)" % got_dev,
              got_dev == ["fork-held"])
        got = self.texts(self.inbox(evil, "MESSAGE", 1))
        check("AOR, forked: nothing reached the held binding (%s)" % got, got == [])

        # ---- the device address: the held client's own Contact URI ----
        # (the held client looks first: were it reached, it answers, and alice sees 200)
        req = self.message(alice, evil_uri, "device-held")
        got = self.texts(self.inbox(evil, "MESSAGE", 1))
        st = self.answer(alice, req)
        check("device address of the held binding: 480 (got %d)" % st, st == 480)
        check("device address: nothing reached the held binding (%s)" % got, got == [])

        # ---- inside a dialog: alice calls carol's device, then the device's Contact is
        # registered again over an attacker's connection (a replayed REGISTER) ----
        call_id = sc.rand_hex(8) + "@dlg"
        inv = alice.request("INVITE", dev_uri, carol_aor, call_id=call_id, body=b"v=0\r\n",
                            ctype="application/sdp")
        alice.sign(inv)
        alice.send_raw(inv)
        dev.wait_requests("INVITE", 1, 5)
        ok = alice.wait_response(inv)
        check("dialog: carol's device answered alice's INVITE 200 (got %s)" % ok.start,
              ok.status == 200)
        target = uri_of(ok.get("Contact", ""))
        routes = []  # the route set: the 2xx's Record-Route, reversed
        for v in ok.get_all("Record-Route"):
            routes += [x.strip() for x in v.split(",") if x.strip()]
        routes.reverse()
        check("dialog: greenwichd record-routed it (%s)" % routes, routes != [])
        to = ok.get("To")
        cseq = inv.cseq()[0]

        def in_dialog(method, n, body=b""):
            """Alice's request in the dialog (CSeq n above the INVITE's), signed, sent."""
            m = SipMessage("%s %s SIP/2.0" % (method, target))
            m.headers += [("Via", alice.via())] + [("Route", r) for r in routes]
            m.headers += [("From", "<%s>;tag=%s;epid=%s" % (alice.aor, alice.tag, alice.epid)),
                          ("To", to), ("Call-ID", call_id),
                          ("CSeq", "%d %s" % (cseq + n, method)), ("Max-Forwards", "70")]
            if body:
                m.headers.append(("Content-Type", "text/plain; charset=UTF-8"))
            m.body = body
            alice.sign(m)
            alice.send_raw(m)
            return m

        in_dialog("ACK", 0)
        replay = self.client("carol", a.carol, proven=False, contact=dev.contact())
        req = in_dialog("MESSAGE", 1, b"dialog-held")
        got = self.texts(self.inbox(replay, "MESSAGE", 1))
        st = self.answer(alice, req)
        check("dialog: MESSAGE to the remote target now registered by a held sign-in: 480 "
              "(got %d)" % st, st == 480)
        check("dialog: nothing reached the held binding (%s)" % got, got == [])

        # ---- the held clients sign a request: from now on they are reached ----
        self.prove(evil)
        self.prove(replay)
        req = self.message(alice, evil_uri, "device-proven")
        got = self.texts(self.inbox(evil, "MESSAGE", 2))
        st = self.answer(alice, req)
        check("device address after a signed request: 200 (got %d)" % st, st == 200)
        check("... delivered (%s)" % got, got == ["device-proven"])
        req = in_dialog("MESSAGE", 2, b"dialog-proven")
        got = self.texts(self.inbox(replay, "MESSAGE", 2))
        st = self.answer(alice, req)
        check("dialog: MESSAGE after the re-registering client signed a request: 200 "
              "(got %d)" % st, st == 200)
        check("... delivered to it (%s)" % got, got == ["dialog-proven"])
        req = self.message(alice, carol_aor, "fork-proven")
        got_evil = self.texts(self.inbox(evil, "MESSAGE", 2))
        got_replay = self.texts(self.inbox(replay, "MESSAGE", 1))
        st = self.answer(alice, req)
        check("AOR after the signed requests: 200 (got %d)" % st, st == 200)
        check("... a branch reached each proven binding (%s, %s)" % (got_evil, got_replay),
              got_evil == ["fork-proven"] and got_replay == ["fork-proven"])
        for c in (dev, evil, replay):
            c.close()
        self.presence(alice)
        alice.close()

    def publish(self, alice, note):
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<presence xmlns="urn:ietf:params:xml:'
                'ns:pidf" entity="%s"><tuple id="t1"><status><basic>open</basic></status>'
                '<note>%s</note></tuple></presence>' % (alice.aor, note)).encode()
        req = alice.request("PUBLISH", alice.aor, alice.aor, body=body,
                            ctype="application/pidf+xml")
        req.headers += [("Event", "presence"), ("Expires", "600")]
        alice.sign(req)
        return alice.send_request(req).status

    def presence(self, alice):
        """A watcher's NOTIFYs: carol's device subscribes to alice, its connection goes,
        and its Contact is registered again over a held sign-in (a replayed REGISTER):
        greenwichd falls back from the gone connection to that registration, which must
        receive no NOTIFY until its client signs a request."""
        a = self.args
        watcher = self.client("carol", a.carol)
        sub = watcher.request("SUBSCRIBE", alice.aor, alice.aor)
        sub.headers += [("Event", "presence"), ("Accept", "application/pidf+xml"),
                        ("Expires", "600")]
        watcher.sign(sub)
        st = watcher.send_request(sub).status
        check("presence: carol's device subscribed to alice (got %d)" % st, st < 300)
        watcher.wait_requests("NOTIFY", 1, 3)
        contact = watcher.contact()
        watcher.close()
        time.sleep(2.5)  # its bindings go with its connection at the next housekeeping second
        replay = self.client("carol", a.carol, proven=False, contact=contact)
        st = self.publish(alice, "held")
        check("presence: alice published (got %d)" % st, st < 300)
        got = self.inbox(replay, "NOTIFY", 2)
        check("presence: no NOTIFY reached the held binding (%d)" % len(got), got == [])
        self.prove(replay)
        st = self.publish(alice, "proven")
        got = self.inbox(replay, "NOTIFY", 3)
        check("presence: after a signed request the NOTIFY reaches it (%d)" % len(got),
              len(got) >= 1)
        replay.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--domain", required=True)
    ap.add_argument("--alice", required=True, help="alice's password")
    ap.add_argument("--carol", required=True, help="carol's password")
    ap.add_argument("--ntlm-domain", default="CORP")
    ap.add_argument("--trace")
    args = ap.parse_args()
    try:
        Scenario(args).run()
    except sc.ClientError as e:
        print("FAIL: %s: %s" % (type(e).__name__, e))
        return 1
    print("%d failed" % len(FAILS))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
