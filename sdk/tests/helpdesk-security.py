#!/usr/bin/env python3
"""helpdesk-router against relay, dialog and registration abuse (finding 11).

Starts the real helpdesk-router on loopback and talks SIP over UDP sockets:
a caller, operators (bob static, alice and carol register with Digest), and
a "victim" listener that must never receive anything the router relays.
Ports: GWP_PORT_BASE + 0..7, which must be free (helpdesk-security.sh picks them).
usage: GWP_PORT_BASE=PORT helpdesk-security.py [-e]
"""
import hashlib
import os
import re
import select
import socket
import subprocess
import sys
import tempfile
import time

if not os.environ.get("GWP_PORT_BASE"):
    sys.exit("helpdesk-security.py: set GWP_PORT_BASE to the first of 8 free ports")
BASE = int(os.environ["GWP_PORT_BASE"])
ROUTER, BOB, ALICE, CAROL, VICTIM, CALLER, MALLORY = (BASE, BASE + 2, BASE + 3, BASE + 4,
                                                     BASE + 5, BASE + 6, BASE + 7)
HOST = "127.0.0.1"
DOMAIN = "helpdesk.test"
RR = "<sip:%s:%d;transport=udp;lr>" % (HOST, ROUTER)
EMBEDDED = "-e" in sys.argv[1:]
failures = []
counter = [0]


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def uniq(prefix):
    counter[0] += 1
    return "%s%d-%d" % (prefix, os.getpid(), counter[0])


class Msg:
    def __init__(self, data):
        text = data.decode("utf-8", "replace")
        head, _, self.body = text.partition("\r\n\r\n")
        lines = head.split("\r\n")
        self.first = lines[0]
        self.headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers.append((name.strip(), value.strip()))
        self.status = int(self.first.split()[1]) if self.first.startswith("SIP/2.0") else 0
        self.method = None if self.status else self.first.split()[0]

    def all(self, name):
        return [v for n, v in self.headers if n.lower() == name.lower()]

    def get(self, name):
        v = self.all(name)
        return v[0] if v else None


def branch(via):
    found = re.search(r"branch=([^;,\s]+)", via or "")
    return found.group(1) if found else None


class Endpoint:
    def __init__(self, port):
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((HOST, port))
        self.last_via = self.last_cseq = None
        self.invites = {}

    def send(self, text, port=ROUTER):
        self.sock.sendto(text.replace("\n", "\r\n").encode(), (HOST, port))

    def recv(self, timeout=2.0, skip_provisional=True):
        """The next request, or the next final response to the last request
        sent (retransmissions of older answers are skipped; a non-2xx final
        answer to an INVITE is acknowledged as a UAC must)."""
        end = time.time() + timeout
        while True:
            left = end - time.time()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                return None
            m = Msg(self.sock.recvfrom(65535)[0])
            if m.method:
                return m
            if (m.get("CSeq") or "").endswith("INVITE") and m.status >= 300:
                self.ack_failure(m)
            if branch(m.get("Via")) != branch(self.last_via) or m.get("CSeq") != self.last_cseq:
                continue
            if skip_provisional and 100 <= m.status < 200:
                continue
            return m

    def ack_failure(self, resp):
        cseq = resp.get("CSeq").split()[0]
        self.send("\n".join(["ACK %s SIP/2.0" % self.invites.get(resp.get("Call-ID"), "sip:x"),
                             "Via: %s" % resp.get("Via"), "Max-Forwards: 70",
                             "From: %s" % resp.get("From"), "To: %s" % resp.get("To"),
                             "Call-ID: %s" % resp.get("Call-ID"), "CSeq: %s ACK" % cseq,
                             "Content-Length: 0", "", ""]))

    def drain(self, timeout):
        got = []
        end = time.time() + timeout
        while True:
            left = end - time.time()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                return got
            got.append(self.sock.recvfrom(65535)[0])

    def request(self, method, ruri, call_id, from_tag, to_uri, to_tag=None, cseq=1,
                routes=(), contact=True, extra=(), body=""):
        via = "SIP/2.0/UDP %s:%d;branch=z9hG4bK%s;rport" % (HOST, self.port, uniq("b"))
        if method != "ACK":
            self.last_via, self.last_cseq = via, "%d %s" % (cseq, method)
        if method == "INVITE":
            self.invites[call_id] = ruri
        lines = ["%s %s SIP/2.0" % (method, ruri),
                 "Via: " + via,
                 "Max-Forwards: 70",
                 "From: <sip:user%d@%s>;tag=%s" % (self.port, HOST, from_tag),
                 "To: <%s>%s" % (to_uri, ";tag=" + to_tag if to_tag else ""),
                 "Call-ID: %s" % call_id,
                 "CSeq: %d %s" % (cseq, method)]
        lines += ["Route: %s" % r for r in routes]
        if contact:
            lines.append("Contact: <sip:user%d@%s:%d>" % (self.port, HOST, self.port))
        lines += list(extra)
        lines += ["Content-Length: %d" % len(body), "", body]
        self.send("\n".join(lines))

    def reply(self, req, status, reason, to_tag=None, contact=True):
        lines = ["SIP/2.0 %d %s" % (status, reason)]
        lines += ["Via: %s" % v for v in req.all("Via")]
        lines += ["Record-Route: %s" % v for v in req.all("Record-Route")]
        to = req.get("To")
        if to_tag and ";tag=" not in to:
            to += ";tag=" + to_tag
        lines += ["From: %s" % req.get("From"), "To: %s" % to,
                  "Call-ID: %s" % req.get("Call-ID"), "CSeq: %s" % req.get("CSeq")]
        if contact:
            lines.append("Contact: <sip:op@%s:%d>" % (HOST, self.port))
        lines += ["Content-Length: 0", "", ""]
        self.send("\n".join(lines))


def is_status(r, code, what):
    got = r.status if r else None
    check(got == code, "%s: %d (got %s)" % (what, code, got))


def expect(ep, code, what):
    """The final answer to ep's last request must be code."""
    r = ep.recv()
    is_status(r, code, what)
    return r


def victim_silent(victim, what, wait=0.6):
    got = victim.drain(wait)
    check(not got, "%s: the victim listener received nothing%s" %
          (what, "" if not got else " (got %r)" % got[0][:60]))


def digest(user, pw, realm, method, uri, nonce, nc="00000001", cnonce="c0ffee"):
    md5 = lambda s: hashlib.md5(s.encode()).hexdigest()
    ha1 = md5("%s:%s:%s" % (user, realm, pw))
    resp = md5("%s:%s:%s:%s:auth:%s" % (ha1, nonce, nc, cnonce, md5("%s:%s" % (method, uri))))
    return ('Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", '
            'response="%s", algorithm=MD5, qop=auth, nc=%s, cnonce="%s"' %
            (user, realm, nonce, uri, resp, nc, cnonce))


def register(ep, name, auth=None, call_id=None, cseq=1):
    call_id = call_id or uniq("reg")
    ep.request("REGISTER", "sip:" + DOMAIN, call_id, uniq("t"), "sip:%s@%s" % (name, DOMAIN),
               cseq=cseq, extra=(["Expires: 600"] + ([auth] if auth else [])))
    return ep.recv(), call_id


def challenge(resp):
    h = resp.get("WWW-Authenticate") or ""
    nonce = re.search(r'nonce="([^"]+)"', h)
    realm = re.search(r'realm="([^"]+)"', h)
    return (nonce.group(1) if nonce else None), (realm.group(1) if realm else None), h


def router_log(path):
    with open(path) as f:
        return f.read()


def call_setup(caller, op, user="helpdesk"):
    """INVITE through the router to operator op, answered 200; returns the
    dialog as (call_id, caller tag, callee tag, callee target, route set)."""
    cid, ftag = uniq("call"), uniq("c")
    caller.request("INVITE", "sip:%s@%s" % (user, DOMAIN), cid, ftag, "sip:%s@%s" % (user, DOMAIN))
    inv = op.recv()
    if not inv or inv.method != "INVITE":
        return None
    ttag = uniq("o")
    op.reply(inv, 180, "Ringing", ttag)
    op.reply(inv, 200, "OK", ttag)
    ok = caller.recv()
    if not ok or ok.status != 200:
        return None
    routes = list(reversed(ok.all("Record-Route")))
    target = re.search(r"<([^>]+)>", ok.get("Contact")).group(1)
    return cid, ftag, ttag, target, routes


def hang_up(caller, op, d, user, cseq, name):
    """The caller's BYE of dialog d reaches the operator and is answered."""
    cid, ftag, ttag, target, routes = d
    caller.request("BYE", target, cid, ftag, "sip:%s@%s" % (user, DOMAIN), ttag, cseq=cseq,
                   routes=routes)
    b = op.recv()
    check(b is not None and b.method == "BYE", "BYE of the call reached " + name)
    if b:
        op.reply(b, 200, "OK", contact=False)
    expect(caller, 200, "BYE answered through the router")


def main():
    work = tempfile.mkdtemp(prefix="gwp-sec-")
    conf = os.path.join(work, "helpdesk.conf")
    log = os.path.join(work, "router.log")
    with open(conf, "w") as f:
        f.write("domain %s\nlisten udp %s %d\ntimeout 2\nmax_calls 4\n"
                "operator bob sip:bob@%s:%d\noperator alice\noperator carol\n"
                "password carol carol-pw\n" % (DOMAIN, HOST, ROUTER, HOST, BOB))
    args = [os.path.join(os.environ["GWP_BUILDDIR"], "helpdesk-router"), "-c", conf,
            "-p", "alice:alice-pw"] + (["-e"] if EMBEDDED else [])
    router = subprocess.Popen(args, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    caller, bob, alice = Endpoint(CALLER), Endpoint(BOB), Endpoint(ALICE)
    carol, victim, mallory = Endpoint(CAROL), Endpoint(VICTIM), Endpoint(MALLORY)
    vroute = "<sip:%s:%d;lr>" % (HOST, VICTIM)
    try:
        time.sleep(0.5)
        check(router.poll() is None, "router started")

        print("== open relay through a pre-loaded Route")
        mallory.request("INVITE", "sip:+19005550100@%s:%d" % (HOST, VICTIM), uniq("r"), uniq("m"),
                        "sip:+19005550100@%s" % HOST, routes=[RR])
        expect(mallory, 404, "INVITE to a foreign host via our Route")
        victim_silent(victim, "INVITE to a foreign host via our Route")
        mallory.request("INVITE", "sip:helpdesk@" + DOMAIN, uniq("r"), uniq("m"),
                        "sip:helpdesk@" + DOMAIN, routes=[RR, vroute])
        expect(mallory, 403, "INVITE with a Route beyond ours")
        victim_silent(victim, "INVITE with a Route to the victim")
        check(not bob.drain(0.1), "the operator did not get the Route-carrying INVITE either")
        mallory.request("MESSAGE", "sip:bob@" + DOMAIN, uniq("r"), uniq("m"), "sip:bob@" + DOMAIN,
                        routes=[vroute], body="hello")
        expect(mallory, 403, "MESSAGE with a foreign Route only")
        victim_silent(victim, "MESSAGE with a Route to the victim")

        print("== stray responses")
        for top in ("SIP/2.0/UDP %s:%d;branch=z9hG4bK%s" % (HOST, ROUTER, uniq("s")),
                    "SIP/2.0/UDP %s:%d;branch=z9hG4bK%s" % (HOST, MALLORY, uniq("s"))):
            mallory.send("\n".join([
                "SIP/2.0 200 OK", "Via: " + top,
                "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s" % (HOST, VICTIM, uniq("s")),
                "From: <sip:a@%s>;tag=%s" % (DOMAIN, uniq("f")),
                "To: <sip:b@%s>;tag=%s" % (DOMAIN, uniq("t")), "Call-ID: " + uniq("stray"),
                "CSeq: 1 INVITE", "Contact: <sip:b@%s:%d>" % (HOST, VICTIM),
                "Record-Route: " + vroute, "Content-Length: 0", "", ""]))
        victim_silent(victim, "stray 2xx to INVITE (Contact, Record-Route and Via name the victim)")

        print("== in-dialog requests and ACKs of unknown dialogs")
        mallory.request("BYE", "sip:x@%s:%d" % (HOST, VICTIM), uniq("r"), uniq("m"),
                        "sip:x@" + DOMAIN, to_tag="forged", routes=[RR])
        expect(mallory, 481, "BYE of an unknown dialog")
        victim_silent(victim, "BYE of an unknown dialog")
        mallory.request("INVITE", "sip:+19005550100@%s:%d" % (HOST, VICTIM), uniq("r"), uniq("m"),
                        "sip:+19005550100@" + DOMAIN, to_tag="forged", routes=[RR])
        expect(mallory, 481, "re-INVITE of an unknown dialog")
        victim_silent(victim, "re-INVITE of an unknown dialog")
        mallory.request("ACK", "sip:x@%s:%d" % (HOST, VICTIM), uniq("r"), uniq("m"),
                        "sip:x@" + DOMAIN, to_tag="forged", routes=[RR])
        mallory.request("ACK", "sip:x@%s:%d" % (HOST, VICTIM), uniq("r"), uniq("m"),
                        "sip:x@" + DOMAIN, routes=[RR])
        check(mallory.recv(0.5) is None, "ACKs of unknown dialogs get no answer")
        victim_silent(victim, "ACKs of unknown dialogs")

        print("== a legitimate call: INVITE/200/ACK, then abuse of its dialog, then BYE")
        d = call_setup(caller, bob)
        check(d is not None, "call through the router answered")
        if d:
            cid, ftag, ttag, target, routes = d
            check(target == "sip:op@%s:%d" % (HOST, BOB), "the 200 carries bob's Contact")
            caller.request("ACK", target, cid, ftag, "sip:helpdesk@" + DOMAIN, ttag, routes=routes)
            a = bob.recv()
            check(a is not None and a.method == "ACK", "ACK of the call reached bob")
            # retargeted: right Call-ID and tags, another Request-URI
            caller.request("INFO", "sip:x@%s:%d" % (HOST, VICTIM), cid, ftag,
                           "sip:helpdesk@" + DOMAIN, ttag, cseq=2, routes=routes)
            expect(caller, 403, "retargeted in-dialog INFO")
            victim_silent(victim, "retargeted in-dialog INFO")
            caller.request("ACK", "sip:x@%s:%d" % (HOST, VICTIM), cid, ftag,
                           "sip:helpdesk@" + DOMAIN, ttag, routes=routes)
            victim_silent(victim, "retargeted ACK")
            # right target but a Route beyond the dialog's
            caller.request("INFO", target, cid, ftag, "sip:helpdesk@" + DOMAIN, ttag, cseq=3,
                           routes=routes + [vroute])
            expect(caller, 403, "in-dialog INFO with an extra Route")
            victim_silent(victim, "in-dialog INFO with a Route to the victim")
            # forged tags
            caller.request("BYE", target, cid, ftag, "sip:helpdesk@" + DOMAIN, "not-" + ttag,
                           cseq=4, routes=routes)
            expect(caller, 481, "BYE with a forged To tag")
            check(not bob.drain(0.3), "bob received none of the abusive requests")
            # bob -> caller direction must target the caller's Contact
            bob.request("INFO", "sip:x@%s:%d" % (HOST, VICTIM), cid, ttag,
                        "sip:caller@" + DOMAIN, ftag, cseq=1, routes=[RR])
            expect(bob, 403, "callee's INFO to another URI")
            victim_silent(victim, "callee's retargeted INFO")
            # the real BYE
            hang_up(caller, bob, d, "helpdesk", 5, "bob")
            time.sleep(0.2)
            caller.request("BYE", target, cid, ftag, "sip:helpdesk@" + DOMAIN, ttag, cseq=6,
                           routes=routes)
            expect(caller, 481, "the dialog is gone after its BYE")
            check(not bob.drain(0.3), "nothing more reached bob")

        print("== operator registration")
        r, _ = register(mallory, "alice")
        is_status(r, 401, "REGISTER without credentials")
        nonce, realm, hdr = challenge(r) if r else (None, None, "")
        check(nonce is not None and realm == DOMAIN and "qop=\"auth\"" in hdr,
              "the challenge has a nonce, our realm and qop=auth")
        check("register alice" not in router_log(log), "alice was not registered by it")
        caller.request("INVITE", "sip:alice@" + DOMAIN, uniq("call"), uniq("c"), "sip:alice@" + DOMAIN)
        expect(caller, 480, "a call to alice, who is not registered")
        check(not mallory.drain(0.2), "the attacker received no call")

        uri = "sip:" + DOMAIN
        r, _ = register(mallory, "alice", digest("alice", "wrong", DOMAIN, "REGISTER", uri, nonce))
        is_status(r, 403, "wrong password")
        r, _ = register(mallory, "alice")
        nonce, _, _ = challenge(r)
        r, _ = register(carol, "alice", digest("carol", "carol-pw", DOMAIN, "REGISTER", uri, nonce))
        is_status(r, 403, "carol's credentials for alice's name")
        r, _ = register(mallory, "alice")
        nonce, _, _ = challenge(r)
        r, _ = register(mallory, "alice", digest("alice", "alice-pw", DOMAIN, "REGISTER",
                                                 "sip:other.test", nonce))
        is_status(r, 400, "credentials for another uri")
        r, _ = register(mallory, "alice", digest("alice", "alice-pw", DOMAIN, "REGISTER", uri,
                                                 "0" * 72))
        is_status(r, 401, "a nonce we did not make")
        check("register alice" not in router_log(log), "alice is still not registered")

        r, cid = register(alice, "alice")
        nonce, _, _ = challenge(r)
        good = digest("alice", "alice-pw", DOMAIN, "REGISTER", uri, nonce)
        r, _ = register(alice, "alice", good, call_id=cid, cseq=2)
        is_status(r, 200, "right password")
        check(("register alice sip:user%d@%s:%d" % (ALICE, HOST, ALICE)) in router_log(log),
              "the router registered alice's contact")
        r, _ = register(mallory, "alice", good)
        is_status(r, 401, "the same credentials replayed")
        r, _ = register(alice, "alice", digest("alice", "alice-pw", DOMAIN, "REGISTER", uri, nonce,
                                               nc="00000002"), call_id=cid, cseq=3)
        is_status(r, 200, "the same nonce with the next nc")
        r, _ = register(carol, "carol")
        nonce, _, _ = challenge(r)
        r, _ = register(carol, "carol", digest("carol", "carol-pw", DOMAIN, "REGISTER", uri, nonce))
        is_status(r, 200, "carol registers as herself")

        print("== a routed call reaches the registered operator")
        d = call_setup(caller, alice, user="alice")
        check(d is not None, "direct call to alice answered by alice's registered contact")
        if d:
            cid, ftag, ttag, target, routes = d
            caller.request("ACK", target, cid, ftag, "sip:alice@" + DOMAIN, ttag, routes=routes)
            a = alice.recv()
            check(a is not None and a.method == "ACK", "ACK reached alice")
            hang_up(caller, alice, d, "alice", 2, "alice")
        check(not mallory.drain(0.2), "the attacker never received a call")
        victim_silent(victim, "the whole run", wait=0.3)
    finally:
        router.terminate()
        try:
            rc = router.wait(10)
        except subprocess.TimeoutExpired:
            router.kill()
            rc = -1
    text = router_log(log)
    check(rc == 0, "router exited cleanly (%s)" % rc)
    check("Sanitizer" not in text and "runtime error" not in text, "no sanitizer report")
    if failures:
        print("--- router log\n" + text[-3000:])
        print("FAIL: %d check(s) failed" % len(failures))
        return 1
    if os.environ.get("KEEP") != "1":
        for name in os.listdir(work):
            os.unlink(os.path.join(work, name))
        os.rmdir(work)
    print("ok: relay, dialog and registration checks passed%s" % (" (embedded)" if EMBEDDED else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
