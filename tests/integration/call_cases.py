#!/usr/bin/python3
"""call_cases.py NAME PORT MMC CONF CAP - calls from alice to bob (passwords alice-pw,
bob-pw) through a greenwichd whose [proxy] max-dialogs is CAP and that routes nothing
else: the calls up to the cap go through, the next INVITE gets 503 with Retry-After
and bob's device never sees it; ACK and BYE of established calls pass while the table
is full; a BYE gives the room back at once; a call answered and never acknowledged
gives it back after 64*T1 (32 s); a call that rang and whose callee went away answers
the caller's CANCEL 487 at once (our CANCEL cannot reach the callee), one whose callee
stays but ignores the CANCEL 64*T1 later, the ringing dialog gone with each.  MMC and
CONF: greenwich-mmc and the server's
configuration, for `server status --json`.  Prints one "ok - " or "FAILED - " line per
check; exits 1 when a check failed."""
import json
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from presua import DOMAIN, UA, Msg  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from checks import check, exit_status, status  # noqa: E402

PORT = int(sys.argv[2])
MMC, CONF, CAP = sys.argv[3], sys.argv[4], int(sys.argv[5])


class Device(threading.Thread):
    """bob's phone: rings and answers every INVITE (180, 200 with its Contact and the
    Record-Route), answers other requests 200, and keeps (method, Call-ID) of every
    request it received."""

    def __init__(self):
        super().__init__(daemon=True)
        self.ua = UA("bob", "bob-pw", PORT)
        self.got = []
        self.tags = {}
        self.lock = threading.Lock()
        self.stop = False

    def received(self, method, call_id=None):
        with self.lock:
            return [c for m, c in self.got if m == method and (call_id is None or c == call_id)]

    def reply(self, req, code, phrase, extra=""):
        to = req.h("to")
        if ";tag=" not in to:
            to += ";tag=" + self.tags.setdefault(req.h("call-id"), "b%x" % random.getrandbits(32))
        vias = "".join("Via: %s\r\n" % v for v in req.all("via"))
        self.ua.send_raw("SIP/2.0 %d %s\r\n%sFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\n%s"
                         "Content-Length: 0\r\n\r\n" % (code, phrase, vias, req.h("from"), to,
                                                       req.h("call-id"), req.h("cseq"), extra))

    def run(self):
        while not self.stop:
            try:
                raws = self.ua._read(0.2)
            except socket.timeout:
                continue
            for raw in raws:
                m = Msg(raw)
                if not m.method:
                    continue
                with self.lock:
                    self.got.append((m.method, m.h("call-id")))
                if m.method == "INVITE":
                    rr = "".join("Record-Route: %s\r\n" % v for v in m.all("record-route"))
                    contact = "Contact: <sip:bob@127.0.0.1:%d>\r\n" % self.ua.lport
                    self.reply(m, 180, "Ringing", rr + contact)
                    self.reply(m, 200, "OK", rr + contact)
                elif m.method != "ACK":
                    self.reply(m, 200, "OK")


class Call:
    """One call of alice's: INVITE (answering the challenge), then ACK and BYE along
    the recorded route, to bob's Contact."""

    def __init__(self, ua):
        self.ua = ua
        self.resp = ua.request("INVITE", "sip:bob@" + DOMAIN)
        self.call_id, self.from_tag = ua.last_call
        self.cseq = ua.cseq
        if status(self.resp) == 200:
            rrs = []
            for v in self.resp.all("record-route"):
                rrs += [x.strip() for x in v.split(",")]
            self.routes = ["Route: %s" % r for r in reversed(rrs)]
            self.target = re.search(r"<([^>]+)>", self.resp.h("contact")).group(1)
            self.to = self.resp.h("to")

    def ack(self):
        self.ua.send_raw(self.ua.build("ACK", self.target, self.routes, "", self.from_tag,
                                       self.to, self.call_id, self.cseq))

    def bye(self):
        return self.ua.request("BYE", self.target, self.routes, to=self.to,
                               call_id=self.call_id, from_tag=self.from_tag)


def server_status():
    out = subprocess.run([MMC, "-c", CONF, "--json", "server", "status"], capture_output=True,
                         text=True, check=False).stdout
    try:
        return json.loads(out)["counters"]
    except (ValueError, KeyError):
        return {}


def settle(device, what, call_id, timeout=3.0):
    """Wait until bob's device received what for call_id (a request that reached it)."""
    end = time.time() + timeout
    while time.time() < end:
        if device.received(what, call_id):
            return True
        time.sleep(0.05)
    return False


def refused_unseen(device, ua, desc):
    """An INVITE now gets 503 with Retry-After, and bob's phone never rings for it."""
    c = Call(ua)
    check(desc + ": 503", status(c.resp) == 503, "got %s" % status(c.resp))
    check(desc + ": with Retry-After", c.resp is not None and c.resp.h("retry-after"))
    # greenwichd answered before forwarding: anything forwarded would be here by now
    time.sleep(0.5)
    check(desc + ": bob's device never received it", not device.received("INVITE", c.call_id))


def fill(device, ua, n, acked=True):
    calls = []
    for _ in range(n):
        c = Call(ua)
        calls.append(c)
        if status(c.resp) == 200 and acked:
            c.ack()
    ok = [c for c in calls if status(c.resp) == 200]
    return calls, ok


def ring_and_vanish(ringer, vanish=True, done=None):
    """carol's phone over TCP: rings (180 with its To tag: an early dialog) for the
    first INVITE, then its connection closes without a final answer; with vanish
    False it stays connected and ignores everything after (the CANCEL too) until done
    is set (45 s at most)."""
    end = time.time() + 10
    while time.time() < end:
        try:
            raws = ringer._read(0.2)
        except socket.timeout:
            continue
        for raw in raws:
            m = Msg(raw)
            if m.method != "INVITE":
                continue
            vias = "".join("Via: %s\r\n" % v for v in m.all("via"))
            rr = "".join("Record-Route: %s\r\n" % v for v in m.all("record-route"))
            ringer.send_raw("SIP/2.0 180 Ringing\r\n%sFrom: %s\r\nTo: %s;tag=c%x\r\n"
                            "Call-ID: %s\r\nCSeq: %s\r\n%sContact: %s\r\n"
                            "Content-Length: 0\r\n\r\n"
                            % (vias, m.h("from"), m.h("to"), random.getrandbits(32),
                               m.h("call-id"), m.h("cseq"), rr, ringer.contact()))
            if not vanish:
                deaf = time.time() + 45
                while time.time() < deaf and not done.is_set():
                    try:
                        ringer._read(0.5)
                    except socket.timeout:
                        pass
            ringer.sock.close()
            return


def invite_cancelled(ua, ruri, ringer, vanish=True):
    """ua calls ruri (answering the challenge), cancels a second after it rang, and
    waits for the INVITE's final answer (None after 45 s); the ringer runs meanwhile.
    (rang, the server's status while it rang, the final answer, seconds from the
    CANCEL to that answer)"""
    call_id, ftag, to = "%x@cancel" % random.getrandbits(64), "%x" % random.getrandbits(32), \
        "<%s>" % ruri
    done = threading.Event()
    t = threading.Thread(target=ring_and_vanish, args=(ringer, vanish, done), daemon=True)
    t.start()
    ua.cseq += 1
    ua.send_raw(ua.build("INVITE", ruri, [], "", ftag, to, call_id, ua.cseq))
    r = ua.final(5)
    if r is None or r.status != 407:
        t.join()
        return False, {}, r
    auth = "Proxy-Authorization: " + ua.digest(r.h("proxy-authenticate"), "INVITE", ruri)
    ua.cseq += 1
    inv = ua.build("INVITE", ruri, [], "", ftag, to, call_id, ua.cseq, auth)
    ua.send_raw(inv)
    rang, ringing, sent = False, {}, None
    end = time.time() + 45
    while time.time() < end:
        m = ua.recv(0.5)
        if m is None:
            continue
        method = (m.h("cseq") or " ").split()[-1]
        if m.status == 180 and not rang:
            rang = True
            time.sleep(1)  # the ringer's connection is closed by now (vanish)
            ringing = server_status()
            via = Msg(inv).h("via")
            sent = time.time()
            ua.send_raw("CANCEL %s SIP/2.0\r\nVia: %s\r\nMax-Forwards: 70\r\n"
                        "From: <sip:%s>;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d CANCEL\r\n"
                        "Content-Length: 0\r\n\r\n" % (ruri, via, ua.aor, ftag, to, call_id,
                                                           ua.cseq))
        elif m.status >= 200 and method == "INVITE":
            # the ACK of a final answer above 2xx: as the INVITE, with the answer's To
            ua.send_raw("ACK %s SIP/2.0\r\nVia: %s\r\nMax-Forwards: 70\r\n"
                        "From: <sip:%s>;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d ACK\r\n"
                        "Content-Length: 0\r\n\r\n" % (ruri, Msg(inv).h("via"), ua.aor, ftag,
                                                           m.h("to"), call_id, ua.cseq))
            done.set()
            t.join()
            return rang, ringing, m, time.time() - sent if sent else None
    done.set()
    t.join()
    return rang, ringing, None, None


def early_gone(vanish):
    """(e) a call that rang, whose callee then went away without a final answer (its
    connection closed): our CANCEL cannot reach it (nta's own 503), so the caller's
    CANCEL is answered 487 at once, not 64*T1 later; and the early dialog goes with it
    (not a ringing time and a margin after it began).  (e2) vanish False: the callee
    stays connected and ignores the CANCEL: 64*T1 after it the caller gets its 487
    (RFC 3261 9.1), its early dialog gone with it."""
    ringer = UA("carol", "carol-pw", PORT, transport="tcp")
    check("carol's device registers over TCP", status(ringer.register()) == 200)
    ringer.auto_answer = False
    alice = UA("alice", "alice-pw", PORT)  # a phone of her own: the other calls' UA sees none of it
    rang, st, r, took = invite_cancelled(alice, "sip:carol@" + DOMAIN, ringer, vanish)
    check("a call to carol rang (an early dialog)", rang)
    check("status: one dialog ringing", st.get("dialogs_early") == 1, str(st))
    if vanish:
        # 64*T1 is 32 s; nothing else in greenwichd ends this call before that
        check("her device went; the caller's CANCEL is answered 487 before 64*T1",
              r is not None and r.status == 487 and took is not None and took < 30,
              "got %s after %s s" % (status(r), took))
    else:
        check("her device ignores the CANCEL; the caller gets 487 at 64*T1",
              r is not None and r.status == 487 and took is not None and took >= 30,
              "got %s after %s s" % (status(r), took))
    st = server_status()
    check("... and the early dialog is gone with it", st.get("dialogs_early") == 0
          and st.get("dialogs") == 0, str(st))


def main():
    device = Device()
    check("bob's device registers", status(device.ua.register()) == 200)
    device.start()
    early_gone(True)
    early_gone(False)
    alice = UA("alice", "alice-pw", PORT)

    # (a) calls up to the cap complete; the last one's ACK passes with the table full
    calls, ok = fill(device, alice, CAP - 1)
    check("%d calls answered 200" % (CAP - 1), len(ok) == CAP - 1,
          "statuses %s" % [status(c.resp) for c in calls])
    last = Call(alice)
    check("call %d (the cap) answered 200" % CAP, status(last.resp) == 200)
    last.ack()
    check("its ACK, sent with the table full, reached bob's device",
          settle(device, "ACK", last.call_id))
    check("every ACK reached bob's device", all(settle(device, "ACK", c.call_id) for c in ok))
    st = server_status()
    check("status: %d dialogs, all confirmed" % CAP,
          st.get("dialogs") == CAP and st.get("dialogs_confirmed") == CAP, str(st))
    refused_unseen(device, alice, "call %d (over the cap)" % (CAP + 1))
    st = server_status()
    check("status counts the refusal", st.get("dialogs_refused", 0) >= 1, str(st))

    # (d) a BYE of an established call passes while the table is full
    r = last.bye()
    check("BYE with the table full answered 200", status(r) == 200, "got %s" % status(r))
    check("the BYE reached bob's device", settle(device, "BYE", last.call_id))

    # (b) the BYE gave the room back at once: ending dialogs do not count
    st = server_status()
    check("status: the ended call counts as ending, not live",
          st.get("dialogs") == CAP - 1 and st.get("dialogs_ending") == 1, str(st))
    again = Call(alice)
    check("a call right after the BYE is answered 200", status(again.resp) == 200)
    again.ack()
    check("... and rang bob's device", settle(device, "INVITE", again.call_id))
    for i, c in enumerate(ok[:5]):
        check("BYE of call %d answered 200" % (i + 1), status(c.bye()) == 200)
    _, more = fill(device, alice, 5)
    check("after 5 more BYEs, 5 new calls are answered at once", len(more) == 5)
    refused_unseen(device, alice, "the next call (full again)")

    # (c) answered, never acknowledged: the room comes back after 64*T1
    for i, c in enumerate(ok[5:10]):
        check("BYE of call %d answered 200" % (i + 6), status(c.bye()) == 200)
    unacked, answered = fill(device, alice, 5, acked=False)
    check("5 calls answered and never acknowledged", len(answered) == 5)
    refused_unseen(device, alice, "a call while 5 answers wait for their ACK")
    st = server_status()
    check("status: 5 unacknowledged", st.get("dialogs_unacknowledged") == 5, str(st))
    end = time.time() + 60
    while time.time() < end and server_status().get("dialogs_unacknowledged", 0) > 0:
        time.sleep(1)
    st = server_status()
    check("the unacknowledged calls are gone (64*T1)", st.get("dialogs_unacknowledged") == 0,
          str(st))
    late = answered[0]
    late.ack()
    time.sleep(0.5)
    check("a late ACK of such a call is not forwarded", not device.received("ACK", late.call_id))
    _, back = fill(device, alice, 5)
    check("their room is back: 5 new calls answered", len(back) == 5)
    refused_unseen(device, alice, "and then full again")
    device.stop = True
    return exit_status()


if __name__ == "__main__":
    sys.exit(main())
