#!/usr/bin/python3
"""calls_share_cases.py NAME PORT MMC CONF PID SHARE - one address's share of a worker's
calls ([limits] calls-per-source = SHARE, greenwichd PID, its configuration CONF and
greenwich-mmc MMC); NAME "dialogs": its share of the dialogs instead (below).  dave (dave-pw) signs in from 127.0.0.5 and calls bob, whose device
(127.0.0.1) rings and never answers: SHARE calls ring, the next gets 503 with
Retry-After and bob's device never sees it; meanwhile alice (127.0.0.1) calls bob and
that call is answered and ends; dave's BYE of a call he established passes while his
share is full; a CANCEL of one of his ringing calls reaches the device and gives the
room back (his next call rings); a reload raising the share lets one more ring at once.
NAME dialogs ([limits] dialogs-per-source = SHARE): dave's calls that bob's device
answers stay up; SHARE of them, and the next is refused 503 (Retry-After) before it
rings, while alice's call goes through; a ringing call holds a share too and its
CANCEL gives it back; dave's BYE of an answered call gives one back.
Prints one "ok - " or "FAILED - " line per check; exits 1 when a check failed."""
import json
import os
import random
import re
import signal
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
MMC, CONF, PID, SHARE = sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
BOB = "sip:bob@" + DOMAIN


class Device(threading.Thread):
    """bob's phone: answers alice's INVITEs and those whose Call-ID begins with "answer"
    (180, 200), only rings for the others (180), answers CANCEL 200 and then its INVITE
    487, other requests 200; keeps (method, Call-ID) of every request but ACK it received."""

    def __init__(self):
        super().__init__(daemon=True)
        self.ua = UA("bob", "bob-pw", PORT)
        self.got = []
        self.invites = {}
        self.tag = "b%x" % random.getrandbits(32)
        self.lock = threading.Lock()
        self.stop = False

    def received(self, method, call_id):
        with self.lock:
            return any(m == method and c == call_id for m, c in self.got)

    def reply(self, req, code, phrase, extra=""):
        self.ua.answer(req, code, phrase, extra, self.tag)

    def run(self):
        self.ua.auto_answer = False  # requests wait in its inbox, answered here
        while not self.stop:
            self.ua.recv(0.2, on_request=True)
            while self.ua.inbox:
                self.on_request(self.ua.inbox.pop(0))

    def on_request(self, m):
        cid = m.h("call-id")
        with self.lock:
            self.got.append((m.method, cid))
        if m.method == "INVITE":
            self.invites[cid] = m
            rr = "".join("Record-Route: %s\r\n" % v for v in m.all("record-route"))
            contact = "Contact: <sip:bob@127.0.0.1:%d>\r\n" % self.ua.lport
            self.reply(m, 180, "Ringing", rr + contact)
            if "sip:alice@" in m.h("from") or cid.startswith("answer"):
                self.reply(m, 200, "OK", rr + contact)
        elif m.method == "CANCEL":
            self.reply(m, 200, "OK")
            if cid in self.invites:
                self.reply(self.invites[cid], 487, "Request Terminated")
        else:
            self.reply(m, 200, "OK")


class Caller:
    """A UA of its own over UDP from a given address: calls it keeps ringing (INVITE
    answered to the challenge, then no final answer awaited), their CANCEL, ACK, BYE."""

    def __init__(self, user, password, addr):
        self.ua = UA(user, password, PORT)
        self.ua.sock.close()
        self.ua.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.ua.sock.bind((addr, 0))
        self.ua.lport = self.ua.sock.getsockname()[1]
        self.addr = addr
        self.seen = []

    def send(self, method, ruri, call_id, cseq, branch, from_tag, to, extra=()):
        lines = ["%s %s SIP/2.0" % (method, ruri),
                 "Via: SIP/2.0/UDP %s:%d;branch=%s;rport" % (self.addr, self.ua.lport, branch),
                 "Max-Forwards: 70",
                 "From: <sip:%s>;tag=%s" % (self.ua.aor, from_tag),
                 "To: %s" % to, "Call-ID: %s" % call_id, "CSeq: %d %s" % (cseq, method),
                 "Contact: <sip:%s@%s:%d>" % (self.ua.user, self.addr, self.ua.lport)]
        lines += list(extra)
        self.ua.send_raw("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n")

    def wait(self, pred, timeout=5.0):
        """The first answer (kept or new) for which pred holds, or None."""
        end = time.time() + timeout
        while True:
            for m in self.seen:
                if pred(m):
                    self.seen.remove(m)
                    return m
            if time.time() >= end:
                return None
            try:
                for raw in self.ua._read(end - time.time()):
                    m = Msg(raw)
                    if not m.method:
                        self.seen.append(m)
            except socket.timeout:
                pass

    def answer_to(self, call_id, cseq, low=100, high=699):
        return lambda m: (m.h("call-id") == call_id and m.h("cseq") == "%d INVITE" % cseq
                          and low <= m.status <= high)

    def ack(self, c, resp, cseq, branch, ruri=BOB, routes=()):
        self.send("ACK", ruri, c["call_id"], cseq, branch, c["from_tag"], resp.h("to"), routes)

    def invite(self, call_id=None):
        """Send an INVITE to bob, answer the challenge; the call (a dict) with "resp":
        its first answer past 100 to the signed INVITE (180 when it rings)."""
        c = {"call_id": call_id or "%x@share" % random.getrandbits(64),
             "from_tag": "%x" % random.getrandbits(32), "cseq": random.randint(1, 1000)}
        branch = "z9hG4bK%x" % random.getrandbits(48)
        self.send("INVITE", BOB, c["call_id"], c["cseq"], branch, c["from_tag"], "<%s>" % BOB)
        chal = self.wait(self.answer_to(c["call_id"], c["cseq"], 401, 407))
        if chal is None:
            c["resp"] = None
            return c
        self.ack(c, chal, c["cseq"], branch)
        hname = "Authorization" if chal.status == 401 else "Proxy-Authorization"
        chals = chal.all("www-authenticate") + chal.all("proxy-authenticate")
        dig = next((x for x in chals if x.lower().startswith("digest")), chals[0])
        c["cseq"] += 1
        c["branch"] = "z9hG4bK%x" % random.getrandbits(48)
        c["auth"] = "%s: %s" % (hname, self.ua.digest(dig, "INVITE", BOB))
        self.send("INVITE", BOB, c["call_id"], c["cseq"], c["branch"], c["from_tag"],
                  "<%s>" % BOB, [c["auth"]])
        c["resp"] = self.wait(self.answer_to(c["call_id"], c["cseq"], 101))
        if c["resp"] is not None and c["resp"].status >= 300:
            self.ack(c, c["resp"], c["cseq"], c["branch"])
        return c

    def cancel(self, c):
        """CANCEL the ringing call c: the answers to the CANCEL and to its INVITE."""
        self.send("CANCEL", BOB, c["call_id"], c["cseq"], c["branch"], c["from_tag"],
                  "<%s>" % BOB)
        ok = self.wait(lambda m: m.h("call-id") == c["call_id"] and
                       m.h("cseq") == "%d CANCEL" % c["cseq"])
        final = self.wait(self.answer_to(c["call_id"], c["cseq"], 200))
        if final is not None:
            self.ack(c, final, c["cseq"], c["branch"])
        return ok, final

    def established(self, c):
        """After a 200 to c's INVITE: its ACK along the route; its dialog's data."""
        r = self.wait(self.answer_to(c["call_id"], c["cseq"], 200, 299))
        if r is None:
            return None
        rrs = []
        for v in r.all("record-route"):
            rrs += [x.strip() for x in v.split(",")]
        d = {"routes": ["Route: %s" % x for x in reversed(rrs)], "to": r.h("to"),
             "target": re.search(r"<([^>]+)>", r.h("contact")).group(1)}
        self.send("ACK", d["target"], c["call_id"], c["cseq"],
                  "z9hG4bK%x" % random.getrandbits(48), c["from_tag"], d["to"], d["routes"])
        return d

    def bye(self, c, d):
        cseq = c["cseq"] + 1
        self.send("BYE", d["target"], c["call_id"], cseq, "z9hG4bK%x" % random.getrandbits(48),
                  c["from_tag"], d["to"], d["routes"])
        return self.wait(lambda m: m.h("call-id") == c["call_id"] and
                         m.h("cseq") == "%d BYE" % cseq and m.status >= 200)


def server_status():
    out = subprocess.run([MMC, "-c", CONF, "--json", "server", "status"], capture_output=True,
                         text=True, check=False).stdout
    try:
        return json.loads(out)
    except ValueError:
        return {}


def until(pred, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


def rings(device, dave, desc):
    c = dave.invite()
    check(desc + ": rings (180)", status(c["resp"]) == 180, "got %s" % status(c["resp"]))
    check(desc + ": at bob's device", until(lambda: device.received("INVITE", c["call_id"])))
    return c


def refused(dave, desc):
    c = dave.invite()
    check(desc + ": 503", status(c["resp"]) == 503, "got %s" % status(c["resp"]))
    check(desc + ": with Retry-After", c["resp"] is not None and c["resp"].h("retry-after"))
    return c


def parties():
    """bob's device (registered, answering), dave at 127.0.0.5, alice at 127.0.0.1."""
    device = Device()
    check("bob's device registers", status(device.ua.register()) == 200)
    device.start()
    return device, Caller("dave", "dave-pw", "127.0.0.5"), Caller("alice", "alice-pw", "127.0.0.1")


def main():
    device, dave, alice = parties()

    # a call of dave's answered: its BYE must pass later, with his share full
    first = dave.invite("answer-%x" % random.getrandbits(32))
    check("dave's first call (answered) rings", status(first["resp"]) == 180)
    dlg = dave.established(first)
    check("... and is answered", dlg is not None)

    ringing = [rings(device, dave, "dave's call %d" % (i + 1)) for i in range(SHARE)]
    over = refused(dave, "dave's call %d (past his share)" % (SHARE + 1))

    # alice, from another address, calls bob meanwhile: answered, ended
    a = alice.invite()
    check("alice's call rings bob's device", status(a["resp"]) == 180 and
          until(lambda: device.received("INVITE", a["call_id"])), "got %s" % status(a["resp"]))
    adlg = alice.established(a)
    check("alice's call is answered", adlg is not None)
    r = alice.bye(a, adlg) if adlg else None
    check("alice's BYE answered 200", status(r) == 200, "got %s" % status(r))
    check("alice's BYE reached bob's device", until(lambda: device.received("BYE", a["call_id"])))
    # alice's whole call came after dave's refused one: had that one been forwarded,
    # bob's device would have it by now
    check("bob's device never received dave's refused call",
          not device.received("INVITE", over["call_id"]))

    r = dave.bye(first, dlg) if dlg else None
    check("dave's BYE of his answered call passes with his share full", status(r) == 200,
          "got %s" % status(r))
    check("... and reaches bob's device", until(lambda: device.received("BYE", first["call_id"])))
    refused(dave, "dave's next call (the BYE ended no ringing call)")

    ok, final = dave.cancel(ringing[0])
    check("CANCEL of dave's ringing call answered 200", status(ok) == 200, "got %s" % status(ok))
    check("... reached bob's device", until(lambda: device.received("CANCEL",
                                                                     ringing[0]["call_id"])))
    check("... and its INVITE answered 487", status(final) == 487, "got %s" % status(final))
    again = rings(device, dave, "dave's call after the CANCEL (room given back)")
    later = refused(dave, "and the next (full again)")

    st = server_status()
    check("server status shows the share",
          st.get("limits", {}).get("calls_per_source") == SHARE, str(st.get("limits")))
    check("server status counts the refusals (3)",
          st.get("counters", {}).get("calls_refused") == 3, str(st.get("counters")))

    # a reload raising the share: applied at once
    with open(CONF) as f:
        text = f.read()
    key = "calls-per-source = %d"
    with open(CONF, "w") as f:
        f.write(text.replace(key % SHARE, key % (SHARE + 1)))
    os.kill(PID, signal.SIGHUP)
    check("after a reload server status shows the new share",
          until(lambda: server_status().get("limits", {}).get("calls_per_source") == SHARE + 1))
    rings(device, dave, "dave's call under the raised share")
    refused(dave, "and the next past it")
    check("no refused call ever reached bob's device",
          not device.received("INVITE", over["call_id"]) and
          not device.received("INVITE", later["call_id"]))
    check("the call after the CANCEL is still ringing", not device.received("CANCEL",
                                                                            again["call_id"]))
    device.stop = True
    return exit_status()


def answered(device, dave, desc):
    """A call of dave's that bob's device answers and dave acknowledges: (call, dialog)."""
    c = dave.invite("answer-%x" % random.getrandbits(32))
    check(desc + ": rings (180)", status(c["resp"]) == 180, "got %s" % status(c["resp"]))
    d = dave.established(c) if c["resp"] is not None else None
    check(desc + ": answered and acknowledged", d is not None)
    return c, d


def dialogs_main():
    device, dave, alice = parties()

    calls = [answered(device, dave, "dave's call %d" % (i + 1)) for i in range(SHARE - 1)]
    ringing = rings(device, dave, "dave's call %d (ringing, not answered)" % SHARE)
    over = refused(dave, "dave's next call (his address holds its share of the dialogs)")
    check("... answered 'Too many calls from your address'",
          over["resp"] is not None and "from your address" in over["resp"].first,
          over["resp"].first if over["resp"] else "none")
    ok, final = dave.cancel(ringing)
    check("CANCEL of dave's ringing call: 200, its INVITE 487",
          status(ok) == 200 and status(final) == 487, "got %s %s" % (status(ok), status(final)))
    calls.append(answered(device, dave, "dave's call after the CANCEL (its share given back)"))
    over2 = refused(dave, "and the next (full again)")

    # alice, from another address, calls bob meanwhile: answered, ended
    a = alice.invite()
    adlg = alice.established(a) if a["resp"] is not None else None
    check("alice's call is answered while dave holds his share", adlg is not None and
          device.received("INVITE", a["call_id"]), "got %s" % status(a["resp"]))
    r = alice.bye(a, adlg) if adlg else None
    check("alice's BYE answered 200", status(r) == 200, "got %s" % status(r))
    check("bob's device never received dave's refused calls",
          not device.received("INVITE", over["call_id"]) and
          not device.received("INVITE", over2["call_id"]))

    c, d = calls[0]
    r = dave.bye(c, d) if d else None
    check("dave's BYE of an answered call: 200", status(r) == 200, "got %s" % status(r))
    answered(device, dave, "dave's call after that BYE (a share given back)")
    refused(dave, "and the next (full again)")

    st = server_status()
    check("server status shows the share",
          st.get("limits", {}).get("dialogs_per_source") == SHARE, str(st.get("limits")))
    check("server status counts the refusals (3)",
          st.get("counters", {}).get("dialog_shares_refused") == 3, str(st.get("counters")))
    device.stop = True
    return exit_status()


if __name__ == "__main__":
    sys.exit(dialogs_main() if sys.argv[1] == "dialogs" else main())
