#!/usr/bin/python3
"""A scripted MS-SIPAE SIP server, only to exercise the test client end to end before
greenwichd has sign-in. Not a model for greenwichd: one thread, no timers, no transactions.

It checks NTLM with the DC (ntlm_auth, so it must run in the DC's domain) and Kerberos
with a keytab (KRB5_KTNAME in its own environment), signs every message after sign-in,
verifies the client's signatures (401 when missing, bad, replayed or of an unknown
opaque; 403 for a From that is not the signed-in user) and relays MESSAGE between
signed-in users. --mistake makes it sign wrongly, to prove the client notices.

usage: sipae_fakeserver.py PORT DOMAIN NB-DOMAIN FQDN [--mistake KIND]
Events go to stdout, one line each ('event=... key=value').
"""
import argparse
import base64
import os
import select
import socket
import struct
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sipae_ntlm as ntlm  # noqa: E402
from sipae_dccheck import ntlm_auth_verify, server_challenge  # noqa: E402
from sipae_sip import Framer, SipMessage, parse_auth, signed_string, uri_of  # noqa: E402

REALM = "SIP Communications Service"
MISTAKES = ("bad-signature", "unsigned", "unsigned-request", "no-opaque", "compact")


def event(text):
    print("event=" + text, flush=True)


class ServerSA:
    def __init__(self, protocol, opaque, aor, target, conn, keys=None, ctx=None):
        self.protocol, self.opaque, self.aor, self.target = protocol, opaque, aor, target
        self.conn, self.keys, self.ctx = conn, keys, ctx
        self.snum = 0
        self.seen = set()

    def sign(self, data):
        if self.keys:
            return ntlm.sign_hex(self.keys.server_sign, self.keys.server_seal, 100, data)
        return self.ctx.get_signature(data).hex()

    def verify(self, data, sig_hex):
        try:
            sig = bytes.fromhex(sig_hex)
            if self.keys:
                seq = struct.unpack("<I", sig[12:16])[0]
                return sig == ntlm.mac(self.keys.client_sign, self.keys.client_seal, seq, data)
            self.ctx.verify_signature(data, sig)
            return True
        except Exception:  # noqa: BLE001 - any failure is a bad signature here
            return False


class Server:
    def __init__(self, args):
        self.a = args
        self.pending = {}    # opaque -> NTLM challenge
        self.sas = {}        # opaque -> ServerSA
        self.bindings = {}   # aor -> ServerSA
        self.framers = {}

    # -- replies ---------------------------------------------------------------------
    def reply(self, conn, req, code, reason, headers=(), sa=None):
        resp = SipMessage("SIP/2.0 %d %s" % (code, reason))
        resp.headers += [("Via", v) for v in req.get_all("Via")]
        to = req.get("To", "")
        if ";tag=" not in to and code > 100:
            to += ";tag=fs" + os.urandom(3).hex()
        resp.headers += [("From", req.get("From", "")), ("To", to),
                         ("Call-ID", req.get("Call-ID", "")), ("CSeq", req.get("CSeq", ""))]
        resp.headers += list(headers)
        self.send(conn, resp, sa)

    def send(self, conn, msg, sa):
        mistake = self.a.mistake
        if sa and not (mistake == "unsigned" and not msg.is_request and
                       msg.cseq()[1] != "REGISTER") and not (
                           mistake == "unsigned-request" and msg.is_request):
            sa.snum += 1
            srand = os.urandom(4).hex().upper()
            data = signed_string(msg, sa.protocol, srand, str(sa.snum), REALM, sa.target)
            sig = sa.sign(data.encode())
            if mistake == "bad-signature" and msg.cseq()[1] != "REGISTER":
                sig = ("0" if sig[20] != "0" else "1").join((sig[:20], sig[21:]))
            opaque = "" if mistake == "no-opaque" else ', opaque="%s"' % sa.opaque
            msg.headers.append(("Authentication-Info", '%s rspauth="%s", srand="%s", snum="%d"%s,'
                                ' qop="auth", targetname="%s", realm="%s"' % (
                                    sa.protocol, sig, srand, sa.snum, opaque, sa.target,
                                    REALM)))
        data = msg.encode()
        if mistake == "compact":
            data = data.replace(b"\r\nCall-ID:", b"\r\ni:")
        conn.sendall(data)

    def challenge(self, conn, req, why):
        event("challenge why=%s method=%s" % (why, req.method))
        self.reply(conn, req, 401, "Unauthorized", [
            ("WWW-Authenticate", 'NTLM realm="%s", targetname="%s", version=3' % (
                REALM, self.a.fqdn)),
            ("WWW-Authenticate", 'Kerberos realm="%s", targetname="sip/%s", version=3' % (
                REALM, self.a.fqdn))])

    # -- handshakes ------------------------------------------------------------------
    def ntlm_round(self, conn, req, p):
        if not p["gssapi-data"]:
            ch = server_challenge(self.a.nb_domain, self.a.domain)
            opaque = os.urandom(4).hex().upper()
            self.pending[opaque] = ch
            self.reply(conn, req, 401, "Unauthorized", [("WWW-Authenticate", (
                'NTLM opaque="%s", gssapi-data="%s", targetname="%s", realm="%s", version=3' % (
                    opaque, base64.b64encode(ch.raw).decode(), self.a.fqdn, REALM)))])
            return
        ch = self.pending.pop(p.get("opaque", ""), None)
        m = base64.b64decode(p["gssapi-data"])
        lm, nt, dom, user, _ws, enc = (ntlm._field(m, o) for o in (12, 20, 28, 36, 44, 52))
        user, dom = user.decode("utf-16-le"), dom.decode("utf-16-le")
        ok, key, _raw = (False, "", "") if ch is None else ntlm_auth_verify(
            ch, types.SimpleNamespace(nt_response=nt, lm_response=lm), user, dom)
        if not ok:
            event("ntlm-refused user=%s" % user)
            return self.challenge(conn, req, "ntlm-refused")
        keys = ntlm.Keys(ntlm.rc4(bytes.fromhex(key), enc))
        aor = "sip:" + (user if "@" in user else "%s@%s" % (user, self.a.domain)).lower()
        self.signed_in(conn, req, ServerSA("NTLM", p["opaque"], aor, self.a.fqdn, conn, keys))

    def kerberos_round(self, conn, req, p):
        import gssapi
        try:
            ctx = gssapi.SecurityContext(creds=gssapi.Credentials(usage="accept"),
                                         usage="accept")
            ctx.step(base64.b64decode(p["gssapi-data"]))
        except gssapi.exceptions.GSSError as e:
            event("kerberos-refused error=%s" % str(e).split("\n")[0])
            return self.challenge(conn, req, "kerberos-refused")
        name = str(ctx.initiator_name).split("@")[0]
        sa = ServerSA("Kerberos", os.urandom(4).hex().upper(), "sip:%s@%s" % (
            name.lower(), self.a.domain), "sip/" + self.a.fqdn, conn, ctx=ctx)
        self.signed_in(conn, req, sa)

    def signed_in(self, conn, req, sa):
        if uri_of(req.get("From", "")).lower() != sa.aor:
            event("spoofed-register user=%s from=%s" % (sa.aor, req.get("From")))
            return self.reply(conn, req, 403, "Forbidden", [("Warning", '399 fake "not you"')])
        self.sas[sa.opaque] = sa
        self.bindings[sa.aor] = sa
        event("signed-in user=%s protocol=%s" % (sa.aor, sa.protocol))
        self.reply(conn, req, 200, "OK", [("Expires", "7200"), (
            "Allow-Events", "vnd-microsoft-roaming-contacts,presence")], sa)

    # -- requests ----------------------------------------------------------------------
    def on_request(self, conn, req):
        auth = req.get("Authorization")
        if auth is None:
            return self.challenge(conn, req, "no-authorization")
        scheme, p = parse_auth(auth)
        if "gssapi-data" in p:
            if scheme == "NTLM":
                return self.ntlm_round(conn, req, p)
            return self.kerberos_round(conn, req, p)
        sa = self.sas.get(p.get("opaque"))
        if sa is None or sa.conn is not conn:
            return self.challenge(conn, req, "unknown-opaque")
        data = signed_string(req, sa.protocol, p.get("crand", ""), p.get("cnum", ""),
                             p.get("realm", ""), p.get("targetname", "")).encode()
        if p.get("targetname") != sa.target or not sa.verify(data, p.get("response", "")):
            return self.challenge(conn, req, "bad-signature")
        if (p.get("crand"), p.get("cnum")) in sa.seen:
            return self.challenge(conn, req, "replay")
        sa.seen.add((p.get("crand"), p.get("cnum")))
        if uri_of(req.get("From", "")).lower() != sa.aor:
            event("spoofed-from user=%s from=%s" % (sa.aor, req.get("From")))
            return self.reply(conn, req, 403, "Forbidden", [("Warning", '399 fake "not you"')],
                              sa)
        if req.method == "REGISTER":
            return self.reply(conn, req, 200, "OK", [("Expires", req.get("Expires", "7200"))], sa)
        if req.method == "MESSAGE":
            return self.relay(conn, req, sa)
        self.reply(conn, req, 501, "Not Implemented", [], sa)

    def relay(self, conn, req, sa):
        to = uri_of(req.get("To", "")).lower()
        callee = self.bindings.get(to)
        if callee is None:
            return self.reply(conn, req, 480, "Temporarily Unavailable", [], sa)
        fwd = SipMessage("MESSAGE %s SIP/2.0" % to, [
            ("Via", "SIP/2.0/TCP %s;branch=z9hG4bKfs%s" % (self.a.fqdn, os.urandom(4).hex())),
            ("From", "<%s>;tag=fs%s" % (sa.aor, os.urandom(3).hex())), ("To", "<%s>" % to),
            ("Call-ID", "fs" + os.urandom(6).hex()), ("CSeq", "1 MESSAGE"),
            ("Content-Type", req.get("Content-Type", "text/plain"))], req.body)
        self.send(callee.conn, fwd, callee)
        event("relayed from=%s to=%s" % (sa.aor, to))
        self.reply(conn, req, 200, "OK", [], sa)

    def on_response(self, conn, resp):
        sa = next((s for s in self.bindings.values() if s.conn is conn), None)
        scheme, p = parse_auth(resp.get("Authorization", "x"))
        ok = sa is not None and sa.verify(signed_string(
            resp, sa.protocol, p.get("crand", ""), p.get("cnum", ""), p.get("realm", ""),
            p.get("targetname", "")).encode(), p.get("response", ""))
        event("response status=%d signature=%s" % (resp.status, "ok" if ok else "bad"))

    def closed(self, conn):
        del self.framers[conn]
        conn.close()
        for table in (self.sas, self.bindings):
            for key in [k for k, sa in table.items() if sa.conn is conn]:
                del table[key]

    def run(self):
        lsock = socket.socket()
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind(("127.0.0.1", self.a.port))
        lsock.listen(16)
        event("started port=%d" % self.a.port)
        while True:
            ready = select.select([lsock] + list(self.framers), [], [])[0]
            for s in ready:
                if s is lsock:
                    self.framers[lsock.accept()[0]] = Framer()
                    continue
                try:
                    data = s.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    self.closed(s)
                    continue
                self.framers[s].feed(data)
                while True:
                    msg = self.framers[s].next()
                    if msg is None:
                        break
                    (self.on_request if msg.is_request else self.on_response)(s, msg)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("domain")
    ap.add_argument("nb_domain")
    ap.add_argument("fqdn")
    ap.add_argument("--mistake", choices=MISTAKES)
    Server(ap.parse_args()).run()


if __name__ == "__main__":
    main()
