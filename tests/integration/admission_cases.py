#!/usr/bin/python3
"""admission_cases.py PORT CASE [TRANSPORT] - attacks on the admission of
requests, each checked on the victim's side (did its device receive
anything?) as well as by the status code.  The users alice, bob, carol and
mallory (password "secret") exist; the rules deny IM from outside except to
bob, allow calls from outside to carol only, and deny mallory -> carol IM.
Prints one "ok - " or "FAILED - " line per check; exits 1 when one failed."""
import os
import queue
import random
import re
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from presua import DOMAIN, UA, Msg, Sub, pidf, publish, soap  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from checks import check, exit_status, prefix, status  # noqa: E402

PORT = int(sys.argv[1])
CASE = sys.argv[2]
TRANSPORT = sys.argv[3] if len(sys.argv) > 3 else "udp"
DEVICES = []
prefix("[%s] " % TRANSPORT)


class Device(UA):
    """A user's device: answers INVITE/SUBSCRIBE as a UAS should (Contact,
    Record-Route copied, a To tag), everything else 200, and keeps it all.
    A thread reads its socket all the time, as a real device would."""

    def __init__(self, *args):
        UA.__init__(self, *args)
        self.responses = queue.Queue()
        self.lock = threading.Lock()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        while True:
            try:
                raws = self._read(0.2)
            except socket.timeout:
                continue
            except (OSError, ConnectionError):
                return
            for raw in raws:
                m = Msg(raw)
                if m.method:
                    if m.method != "ACK":
                        self.answer(m, 200, "OK")
                    with self.lock:
                        self.inbox.append(m)
                else:
                    self.responses.put(m)

    def recv(self, timeout=2.0, on_request=False):
        # requests reach the inbox from the reading thread: a caller waiting for one
        # (presua's wait_request) looks again after a short wait, not the whole timeout
        if on_request:
            timeout = min(timeout, 0.02)
        try:
            return self.responses.get(timeout=max(timeout, 0.01))
        except queue.Empty:
            return None

    def answer(self, req, code, phrase):
        if req.method not in ("INVITE", "SUBSCRIBE"):
            return UA.answer(self, req, code, phrase)
        hdrs = "".join("Via: %s\r\n" % v for v in req.all("via"))
        hdrs += "".join("Record-Route: %s\r\n" % v for v in req.all("record-route"))
        to = req.h("to")
        if ";tag=" not in to:
            to += ";tag=dev%d" % random.randint(1, 1 << 30)
        extra = "Expires: 600\r\n" if req.method == "SUBSCRIBE" else ""
        self.send_raw("SIP/2.0 %d %s\r\n%sFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\n"
                      "Contact: %s\r\n%sContent-Length: 0\r\n\r\n"
                      % (code, phrase, hdrs, req.h("from"), to, req.h("call-id"),
                         req.h("cseq"), self.contact(), extra))

    def got(self, method, text=None, wait=1.0):
        """The requests of this method (with text in them) received so far."""
        time.sleep(wait)
        with self.lock:
            return [m for m in self.inbox if m.method == method and
                    (text is None or text in m.body or text in m.first)]


class Outsider:
    """Someone on the Internet: raw requests from its own socket, no account."""

    def __init__(self, user="guest", domain="outside.test"):
        self.ua = UA(user, "none", PORT, TRANSPORT)
        self.ua.aor = "%s@%s" % (user, domain)
        self.ua.auto_answer = True

    def send(self, method, ruri, headers=(), body="", to=None, call_id=None, from_tag=None,
             from_aor=None, contact=None, cseq=None):
        ua = self.ua
        saved = ua.aor
        if from_aor:
            ua.aor = from_aor
        ua.cseq = cseq if cseq is not None else ua.cseq + 1
        raw = ua.build(method, ruri, list(headers), body, from_tag or "%x" % random.getrandbits(32),
                       to or "<%s>" % ruri, call_id or "%x@out" % random.getrandbits(64), ua.cseq)
        ua.aor = saved
        if contact:
            raw = re.sub(rb"Contact: [^\r]*", b"Contact: " + contact.encode(), raw, count=1)
        ua.send_raw(raw)
        if method == "ACK":
            return None
        return ua.final(3.0)


def udp_listener():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.2)
    return s


def listener_got(s, wait=1.0):
    end, got = time.time() + wait, []
    while time.time() < end:
        try:
            got.append(s.recvfrom(65535)[0])
        except socket.timeout:
            pass
    return got


def signed_in(user, transport=None):
    d = Device(user, "secret", PORT, transport or TRANSPORT)
    DEVICES.append(d)
    r = d.register()
    check("%s signs in (REGISTER 200)" % user, status(r) == 200)
    return d


def rr_of(resp):
    return resp.all("record-route") if resp is not None else []


def case_route():
    """Finding 1: a pre-loaded Route is never followed outside a dialog."""
    alice, bob = signed_in("alice"), signed_in("bob")
    trap = udp_listener()
    trap_port = trap.getsockname()[1]
    out = Outsider()
    hop_alice = "<sip:127.0.0.1:%d;lr>" % alice.lport
    if TRANSPORT == "tcp":
        hop_alice = "<sip:127.0.0.1:%d;transport=tcp;lr>" % alice.lport
    variants = [
        ("loose route to alice's device", ["Route: " + hop_alice]),
        ("strict route to alice's device", ["Route: <sip:127.0.0.1:%d>" % alice.lport]),
        ("our own entry, then alice", ["Route: <sip:127.0.0.1:%d;lr>, %s" % (PORT, hop_alice)]),
        ("two Route headers", ["Route: <sip:127.0.0.1:%d;lr>" % PORT, "Route: " + hop_alice]),
        ("route to an arbitrary host", ["Route: <sip:127.0.0.1:%d;lr>" % trap_port]),
    ]
    for name, hdrs in variants:
        r = out.send("MESSAGE", "sip:bob@" + DOMAIN, hdrs + ["Content-Type: text/plain"],
                     "route: " + name)
        check("outsider, %s: refused 403 (got %s)" % (name, status(r)), status(r) == 403)
        check("... alice's device received nothing", not alice.got("MESSAGE", name, 0.5))
        check("... bob's device received nothing", not bob.got("MESSAGE", name, 0.3))
    check("the arbitrary host received nothing (no relay)", not listener_got(trap, 0.5))
    # a signed-in user may not pre-load one either
    mallory = signed_in("mallory")
    r = mallory.request("MESSAGE", "sip:bob@" + DOMAIN,
                        ["Route: " + hop_alice, "Content-Type: text/plain"], "mallory-route")
    check("signed-in mallory with a Route to alice: 403 (got %s)" % status(r), status(r) == 403)
    check("... alice's device received nothing", not alice.got("MESSAGE", "mallory-route"))
    # the exception itself still works: outsider -> bob
    r = out.send("MESSAGE", "sip:bob@" + DOMAIN, ["Content-Type: text/plain"], "plain-to-bob")
    check("outsider -> bob without Route: 200 (got %s)" % status(r), status(r) == 200)
    check("... and bob's device got it", len(bob.got("MESSAGE", "plain-to-bob")) == 1)


def case_dialog():
    """Finding 2: a dialog token opens only its own dialog, toward its own target."""
    alice, carol = signed_in("alice"), signed_in("carol")
    out = Outsider()
    call_id = "%x@call" % random.getrandbits(48)
    ftag = "%x" % random.getrandbits(32)
    r = out.send("INVITE", "sip:carol@" + DOMAIN, ["Content-Type: application/sdp"], "v=0\r\n",
                 call_id=call_id, from_tag=ftag)
    check("outsider calls carol (calls from outside allowed to her): 200 (got %s)" % status(r),
          status(r) == 200)
    if r is None or r.status != 200:
        return
    rr = rr_of(r)
    check("the 200 carries our Record-Route with a token", any("gwd=" in v for v in rr))
    route = ["Route: %s" % v for v in rr]
    to = r.h("to")
    target = re.search(r"<([^>]+)>", r.h("contact")).group(1)
    out.send("ACK", target, route, "", to=to, call_id=call_id, from_tag=ftag, cseq=out.ua.cseq)
    check("the ACK of the call reached carol", len(carol.got("ACK", None, 1.0)) == 1)
    seq = out.ua.cseq

    def indlg(method, ruri, body, **kw):
        hdrs = route + ["Content-Type: text/plain"]
        return out.send(method, ruri, hdrs, body, to=kw.get("to", to),
                        call_id=kw.get("call_id", call_id), from_tag=kw.get("from_tag", ftag),
                        from_aor=kw.get("from_aor"), cseq=kw.get("cseq"))

    r = indlg("MESSAGE", "sip:alice@" + DOMAIN, "retarget-alice")
    check("in-dialog MESSAGE retargeted to alice's AOR: refused (got %s)" % status(r),
          status(r) in (403, 481))
    check("... alice's device received nothing", not alice.got("MESSAGE", "retarget-alice"))
    r = indlg("MESSAGE", alice.contact().strip("<>"), "retarget-device")
    check("in-dialog MESSAGE retargeted to alice's device: refused (got %s)" % status(r),
          status(r) in (403, 481))
    check("... alice's device received nothing", not alice.got("MESSAGE", "retarget-device"))
    r = indlg("MESSAGE", target, "other-callid", call_id="%x@other" % random.getrandbits(40))
    check("the token with another Call-ID: refused (got %s)" % status(r), status(r) in (403, 481))
    check("... carol's device received nothing", not carol.got("MESSAGE", "other-callid"))
    r = indlg("MESSAGE", "sip:alice@" + DOMAIN, "as-carol", from_aor="carol@" + DOMAIN,
              to="<sip:alice@%s>" % DOMAIN)
    check("speaking as carol to alice with carol's token: refused (got %s)" % status(r),
          status(r) in (403, 407, 481))
    check("... alice's device received nothing", not alice.got("MESSAGE", "as-carol"))
    r = indlg("MESSAGE", target, "im-in-call")
    check("MESSAGE inside the allowed call, to carol: decided as IM, 403 (got %s)" % status(r),
          status(r) == 403)
    check("... carol's device received no MESSAGE", not carol.got("MESSAGE", "im-in-call"))
    r = indlg("INFO", target, "info-text")
    check("INFO with text inside the call: decided as IM, 403 (got %s)" % status(r),
          status(r) == 403)
    check("... carol's device received no INFO", not carol.got("INFO", "info-text"))
    out.send("ACK", "sip:alice@" + DOMAIN, route, "", to=to, call_id=call_id, from_tag=ftag,
             cseq=seq)
    check("an ACK retargeted to alice is not forwarded", not alice.got("ACK", None, 0.7))
    out.send("ACK", target, route, "", to=to, call_id="%x@nodlg" % random.getrandbits(40),
             from_tag=ftag, cseq=seq)
    check("an ACK of an unknown dialog is not forwarded", len(carol.got("ACK", None, 0.7)) == 1)
    # a target refresh: the outsider moves (re-INVITE with a new Contact); carol's BYE
    # then goes to where it moved, through our route
    moved = udp_listener()
    new_contact = "sip:guest@127.0.0.1:%d" % moved.getsockname()[1]
    r = out.send("INVITE", target, route + ["Content-Type: application/sdp"], "v=0\r\n",
                 to=to, call_id=call_id, from_tag=ftag, contact="<%s>" % new_contact)
    check("the outsider's re-INVITE with a new Contact: 200 (got %s)" % status(r),
          status(r) == 200)
    inv = [m for m in carol.got("INVITE", None, 0.3) if m.h("call-id") == call_id]
    if check("carol saw the re-INVITE", len(inv) == 2):
        rr = inv[0].all("record-route")  # the route set of the dialog-creating INVITE
        carol.cseq += 1
        carol.send_raw(
            "BYE %s SIP/2.0\r\nVia: SIP/2.0/%s 127.0.0.1:%d;branch=z9hG4bKc%x;rport\r\n"
            "Max-Forwards: 70\r\n%sFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d BYE\r\n"
            "Content-Length: 0\r\n\r\n"
            % (new_contact, TRANSPORT.upper(), carol.lport, random.getrandbits(32),
               "".join("Route: %s\r\n" % v for v in rr), inv[-1].h("to") if ";tag=" in
               (inv[-1].h("to") or "") else r.h("to"), inv[-1].h("from"), call_id, carol.cseq))
        got = listener_got(moved, 1.0)
        check("carol's BYE reached the outsider's new Contact (target refresh followed)",
              any(g.startswith(b"BYE ") for g in got))
    r = indlg("BYE", target, "")
    check("the outsider's BYE to carol: 200 (got %s)" % status(r), status(r) == 200)
    check("... carol's device got the BYE", len(carol.got("BYE", None, 0.5)) == 1)


def case_identity():
    """Finding 3: identity headers are ours alone."""
    bob = signed_in("bob")
    alice = signed_in("alice")
    out = Outsider()
    forged = ['P-Asserted-Identity: "CEO" <sip:ceo@%s>' % DOMAIN,
              "P-Preferred-Identity: <sip:ceo@%s>" % DOMAIN,
              'Remote-Party-ID: "CEO" <sip:ceo@%s>;party=calling' % DOMAIN,
              "Content-Type: text/plain"]
    r = out.send("MESSAGE", "sip:bob@" + DOMAIN, forged, "from-the-ceo")
    check("outsider -> bob with forged PAI/PPI/RPID: 200 (got %s)" % status(r), status(r) == 200)
    got = bob.got("MESSAGE", "from-the-ceo")
    check("... bob got it", len(got) == 1)
    check("... without any identity header of the sender",
          got and not got[0].all("p-asserted-identity") and not got[0].all("p-preferred-identity")
          and not got[0].all("remote-party-id"))
    r = alice.request("MESSAGE", "sip:bob@" + DOMAIN, forged, "alice-as-ceo")
    check("alice -> bob with forged PAI: 200 (got %s)" % status(r), status(r) == 200)
    got = bob.got("MESSAGE", "alice-as-ceo")
    check("... bob got it with the PAI we assert: alice",
          got and got[0].all("p-asserted-identity") == ["<sip:alice@%s>" % DOMAIN])
    check("... and nothing naming the CEO", got and "ceo@" not in "".join(
        v for k, v in got[0].headers))


def case_contact():
    """Findings 4 and 5: a contact belongs to one AOR; a device is its owner's."""
    carol = signed_in("carol")
    mallory = Device("mallory", "secret", PORT, TRANSPORT)
    DEVICES.append(mallory)
    cc = carol.contact().strip("<>")
    spellings = [cc, cc.replace(";transport=%s" % TRANSPORT, ""),
                 cc.replace("127.0.0.1", "127.0.0.1").replace("sip:carol", "SIP:carol"),
                 cc.replace(";transport=%s" % TRANSPORT, ";transport=%s" % TRANSPORT.upper())]
    check("mallory signs in with her own device", status(mallory.register()) == 200)
    for sp in spellings:
        raw_ok = register_contact(mallory, sp)
        check("mallory registers carol's contact (%s): 403 (got %s)" % (sp, raw_ok),
              raw_ok == 403)
    alice = signed_in("alice")
    r = alice.request("MESSAGE", cc, ["Content-Type: text/plain"], "to-carols-device")
    check("alice -> carol's device URI: 200 (got %s)" % status(r), status(r) == 200)
    check("... carol's device got it", len(carol.got("MESSAGE", "to-carols-device")) == 1)
    check("... mallory's device did not", not mallory.got("MESSAGE", "to-carols-device", 0.3))
    out = Outsider()
    for sp in spellings[:2]:
        r = out.send("MESSAGE", sp, ["Content-Type: text/plain"], "outside-device")
        check("outsider -> carol's device URI %s: 403 (got %s)" % (sp, status(r)), status(r) == 403)
    check("... carol's device received nothing", not carol.got("MESSAGE", "outside-device"))
    # rules on the recipient hold when its device is addressed
    r = mallory.request("MESSAGE", "sip:carol@" + DOMAIN, ["Content-Type: text/plain"], "m-aor")
    check("mallory -> carol (rule denies): 403 (got %s)" % status(r), status(r) == 403)
    r = mallory.request("MESSAGE", cc, ["Content-Type: text/plain"], "m-device")
    check("mallory -> carol's device URI: 403 as well (got %s)" % status(r), status(r) == 403)
    check("... carol's device received neither", not carol.got("MESSAGE", "m-"))


def register_contact(ua, contact):
    """A REGISTER of ua's AOR with the given Contact; the final status."""
    auth = None
    for _ in range(3):
        ua.cseq += 1
        raw = ua.build("REGISTER", "sip:" + DOMAIN, ["Expires: 600"], "", "%x" % random.getrandbits(32),
                       "<sip:%s>" % ua.aor, "%x@reg" % random.getrandbits(48), ua.cseq, auth)
        raw = re.sub(rb"Contact: [^\r]*", b"Contact: <" + contact.encode() + b">", raw, count=1)
        ua.send_raw(raw)
        r = ua.final(3.0)
        if r is None or r.status not in (401, 407):
            return status(r)
        chal = r.h("www-authenticate") or r.h("proxy-authenticate")
        auth = "Authorization: " + ua.digest(chal, "REGISTER", "sip:" + DOMAIN)
    return None


def case_sender():
    """Finding 7: a From proves nothing; rules on the sender match proven senders only."""
    alice = signed_in("alice")
    out = Outsider("ceo", "partner.test")
    r = out.send("MESSAGE", "sip:alice@" + DOMAIN, ["Content-Type: text/plain"], "spoofed-partner")
    check("unauthenticated From ceo@partner.test -> alice: 403 (got %s)" % status(r),
          status(r) == 403)
    check("... alice's device received nothing", not alice.got("MESSAGE", "spoofed-partner"))


def case_presence():
    """Finding 14: PUBLISH and SERVICE always act as an authenticated owner."""
    alice, bob = signed_in("alice"), signed_in("bob")
    r = publish(alice, pidf(alice.aor, note="genuine"))
    check("alice publishes her status: 200 (got %s)" % status(r), status(r) == 200)
    sub = Sub(bob, "alice@" + DOMAIN)
    check("bob watches alice: 200 (got %s)" % status(sub.resp), status(sub.resp) == 200)
    check("... and sees her note", "genuine" in (sub.notify() or Msg(b"")).body)
    out = Outsider()
    body = pidf("alice@" + DOMAIN, note="forged-by-outsider")
    for name, hdrs, kw in (
            ("with a To tag", [], {"to": "<sip:alice@%s>;tag=x1" % DOMAIN}),
            ("without one", [], {})):
        r = out.send("PUBLISH", "sip:alice@" + DOMAIN,
                     ["Event: presence", "Expires: 600", "Content-Type: application/pidf+xml"]
                     + hdrs, body, from_aor="alice@" + DOMAIN, **kw)
        check("PUBLISH as alice without credentials, %s: refused (got %s)" % (name, status(r)),
              status(r) in (401, 403, 407))
    n = sub.notify(lambda m: "forged-by-outsider" in m.body, 1.5)
    check("... bob never saw the forged note", n is None)
    for ruri, kw in (("sip:" + DOMAIN, {"to": "<sip:%s>;tag=x2" % DOMAIN}),
                     ("sip:alice@" + DOMAIN, {"to": "<sip:alice@%s>;tag=x3" % DOMAIN})):
        r = out.send("SERVICE", ruri, ["Content-Type: application/SOAP+xml"],
                     soap("setPresence", "<m:note>soap-forged</m:note>"), **kw)
        check("outsider's SERVICE to %s with a To tag: refused (got %s)" % (ruri, status(r)),
              status(r) in (401, 403, 407))
    r = out.send("SUBSCRIBE", "sip:alice@" + DOMAIN, ["Event: presence", "Expires: 600"],
                 to="<sip:alice@%s>;tag=nosuch" % DOMAIN)
    check("a SUBSCRIBE refresh of no subscription: refused (got %s)" % status(r),
          status(r) in (403, 481))
    sub.refresh(0)


def case_stray():
    """Finding 16: a 2xx without a transaction goes nowhere but back along its dialog."""
    carol = signed_in("carol")
    out = Outsider()
    trap = udp_listener()
    trap_via = "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKtrap%x" % (
        trap.getsockname()[1], random.getrandbits(32))
    call_id, ftag = "%x@stray" % random.getrandbits(48), "%x" % random.getrandbits(32)
    r = out.send("INVITE", "sip:carol@" + DOMAIN, ["Content-Type: application/sdp"], "v=0\r\n",
                 call_id=call_id, from_tag=ftag)
    check("outsider calls carol: 200 (got %s)" % status(r), status(r) == 200)
    inv = carol.got("INVITE", None, 0.3)
    if not check("carol's device saw the INVITE", len(inv) == 1):
        return
    ours = inv[0].all("via")[0]
    to = r.h("to") if r else "<sip:carol@%s>;tag=x" % DOMAIN

    def stray(top, second, tag_to=to):
        carol.send_raw("SIP/2.0 200 OK\r\nVia: %s\r\n%s\r\nFrom: <sip:%s>;tag=%s\r\n"
                       "To: %s\r\nCall-ID: %s\r\nCSeq: 1 INVITE\r\n"
                       "Contact: %s\r\nContent-Length: 0\r\n\r\n"
                       % (top, second, out.ua.aor, ftag, tag_to, call_id, carol.contact()))

    forged = re.sub(r"branch=[^;,\s]+", "branch=z9hG4bKgw0123456789abcdef.1x0", ours)
    stray(forged, trap_via)
    check("a 2xx with a branch that only looks like ours is not bounced",
          not listener_got(trap, 0.7))
    stray(ours, trap_via)
    check("a 2xx with our real branch but another second Via is not bounced",
          not listener_got(trap, 0.7))
    stray(ours, trap_via, "<sip:carol@%s>;tag=otherdialog" % DOMAIN)
    check("... nor with another dialog's tag", not listener_got(trap, 0.7))
    stray(ours, "Via: " + inv[0].all("via")[1])
    again = out.ua.final(2.0)
    check("the genuine 2xx retransmitted still reaches the caller",
          again is not None and again.status == 200 and again.h("call-id") == call_id)


def case_replay():
    """Finding 6: captured Digest credentials are good for their own request only."""
    alice, bob, carol = signed_in("alice"), signed_in("bob"), signed_in("carol")
    r = alice.request("MESSAGE", "sip:bob@" + DOMAIN, ["Content-Type: text/plain"], "original")
    check("alice -> bob: 200 (got %s)" % status(r), status(r) == 200)
    cred = re.search(rb"\r\n(Proxy-Authorization: [^\r]*)", alice.last).group(1).decode()
    check("bob got the original", len(bob.got("MESSAGE", "original", 0.5)) == 1)
    eve = Outsider()
    r = eve.send("MESSAGE", "sip:carol@" + DOMAIN, [cred, "Content-Type: text/plain"],
                 "replayed-to-carol", from_aor="alice@" + DOMAIN)
    check("alice's credentials replayed to carol: refused (got %s)" % status(r),
          status(r) in (401, 403, 407))
    check("... carol's device received nothing", not carol.got("MESSAGE", "replayed-to-carol"))
    r = eve.send("MESSAGE", "sip:bob@" + DOMAIN, [cred, "Content-Type: text/plain"],
                 "replayed-to-bob", from_aor="alice@" + DOMAIN)
    check("replayed to bob with new text and Call-ID: refused (got %s)" % status(r),
          status(r) in (401, 403, 407))
    check("... bob's device received nothing", not bob.got("MESSAGE", "replayed-to-bob"))
    # a REGISTER's credentials with the attacker's contact
    r = alice.register()
    check("alice registers again: 200", status(r) == 200)
    cred = re.search(rb"\r\n(Authorization: [^\r]*)", alice.last).group(1).decode()
    trap = udp_listener()
    hijack = "<sip:alice@127.0.0.1:%d>" % trap.getsockname()[1]
    r = eve.send("REGISTER", "sip:" + DOMAIN, [cred, "Expires: 600"], "",
                 to="<sip:alice@%s>" % DOMAIN, from_aor="alice@" + DOMAIN, contact=hijack)
    check("alice's REGISTER credentials replayed with another contact: refused (got %s)"
          % status(r), status(r) in (401, 403, 407))
    r = bob.request("MESSAGE", "sip:alice@" + DOMAIN, ["Content-Type: text/plain"], "for-alice")
    check("bob -> alice: 200 (got %s)" % status(r), status(r) == 200)
    check("... the hijacker's address received nothing", not listener_got(trap, 0.7))
    check("... alice's own device got it", len(alice.got("MESSAGE", "for-alice", 0.3)) == 1)


def ua_from(user, password, addr):
    """A client of user's that connects from the loopback address addr."""
    u = UA(user, password, PORT, TRANSPORT)
    u.sock.close()
    if TRANSPORT == "udp":
        u.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.sock.bind((addr, 0))
    else:
        u.sock = socket.create_connection(("127.0.0.1", PORT), source_address=(addr, 0))
    u.lport = u.sock.getsockname()[1]
    return u


def case_guess():
    """Finding 17: password guessing is held back before it reaches the account."""
    victim = "dave" if TRANSPORT == "udp" else "erin"
    bob = signed_in("bob")
    dev = signed_in(victim)  # from 127.0.0.1: an address the account is known at
    guesser = ua_from(victim, "not-the-password", "127.0.0.5")
    codes = []
    for i in range(7):
        r = guesser.request("MESSAGE", "sip:bob@" + DOMAIN, ["Content-Type: text/plain"],
                            "guess %d" % i)
        codes.append((status(r), r.first.split(" ", 2)[2] if r else None,
                      r.h("retry-after") if r else None))
    check("5 wrong passwords from 127.0.0.5 are checked: 403 each (got %s)" % codes[:5],
          all(c[0] == 403 and c[1] == "Authentication failed" for c in codes[:5]))
    check("then the account is held back for that address: 403 with Retry-After (got %s)"
          % codes[5:],
          all(c[0] == 403 and c[1] == "Too many failed sign-ins" and c[2] for c in codes[5:]))
    right = ua_from(victim, "secret", "127.0.0.6")
    r = right.request("MESSAGE", "sip:bob@" + DOMAIN, ["Content-Type: text/plain"], "unknown")
    check("even the right password from an address never seen is held back (got %s)"
          % status(r), status(r) == 403)
    r = dev.request("MESSAGE", "sip:bob@" + DOMAIN, ["Content-Type: text/plain"], "known")
    check("the user's own device at a known address still gets through: 200 (got %s)"
          % status(r), status(r) == 200)
    check("... bob got only that one", [m.body for m in bob.got("MESSAGE", None, 0.5)] == ["known"])


def case_subflood():
    """Finding 10: subscriptions are state an outsider can make us hold: capped, not kept."""
    alice, bob = signed_in("alice"), signed_in("bob")
    src = "127.0.0.7" if TRANSPORT == "udp" else "127.0.0.8"
    flood = ua_from("guest", "none", src)
    flood.aor = "guest@outside.test"
    codes = []
    for i in range(30):
        r = flood.request("SUBSCRIBE", "sip:alice@" + DOMAIN,
                          ["Event: presence", "Expires: 600"], call_id="%x@flood" % i)
        codes.append(status(r))
    check("an outsider's 30 SUBSCRIBEs from one address: 20 taken, then 503 (got %s)" % codes,
          codes[:20] == [200] * 20 and codes[20:] == [503] * 10)
    db = os.environ.get("GW_DB")
    if db:
        import sqlite3
        n = sqlite3.connect(db).execute(
            "SELECT count(*) FROM presence_subscriptions WHERE watcher = ?",
            ("guest@outside.test",)).fetchone()[0]
        check("... none of them written to disk (%d rows)" % n, n == 0)
    sub = Sub(bob, "alice@" + DOMAIN)
    check("bob (another address) still subscribes: 200 (got %s)" % status(sub.resp),
          status(sub.resp) == 200)
    sub.refresh(0)
    for i in range(20):
        flood.request("SUBSCRIBE", "sip:alice@" + DOMAIN, ["Event: presence", "Expires: 0"],
                      call_id="%x@flood" % i)


CASES = {"presence": case_presence, "subflood": case_subflood, "guess": case_guess, "replay": case_replay, "stray": case_stray, "route": case_route, "dialog": case_dialog, "identity": case_identity,
         "contact": case_contact, "sender": case_sender}
CASES[CASE]()
for dev in DEVICES:
    dev.register(0)  # signed out: the next case starts with fresh devices
sys.exit(exit_status())
