#!/usr/bin/python3
"""presua.py - a small SIP user agent for the presence tests (UDP, TCP or TLS,
Digest sign-in, requests in and out of dialogs, NOTIFYs answered 200 and
collected).  It speaks only what the tests write, so hostile bodies can be
sent on purpose."""
import hashlib
import os
import random
import re
import socket
import ssl
import time

DOMAIN = os.environ.get("GW_TEST_DOMAIN", "example.test")  # tests in an AD domain set it


def hostpart(addr):
    """An address as a URI or a Via writes it (IPv6 in brackets)."""
    return "[%s]" % addr if ":" in addr else addr


def _md5(s):
    return hashlib.md5(s.encode()).hexdigest()


class Msg:
    def __init__(self, raw):
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.decode(errors="replace").split("\r\n")
        self.first = lines[0]
        self.headers = []
        for ln in lines[1:]:
            if ":" in ln:
                k, v = ln.split(":", 1)
                self.headers.append((k.strip().lower(), v.strip()))
        self.body = body.decode(errors="replace")
        self.status = int(self.first.split()[1]) if self.first.startswith("SIP/2.0") else 0
        self.method = None if self.status else self.first.split()[0]

    def h(self, name):
        for k, v in self.headers:
            if k == name.lower():
                return v
        return None

    def all(self, name):
        return [v for k, v in self.headers if k == name.lower()]

    def tag(self, name):
        m = re.search(r";tag=([^;>\s]+)", self.h(name) or "")
        return m.group(1) if m else None

    def cseq(self):
        return int((self.h("cseq") or "0").split()[0])


class UA:
    def __init__(self, user, password, port, transport="udp", cafile=None, server="127.0.0.1",
                 local=None):
        """server: greenwichd's address; local: ours (the loopback of server's family)."""
        self.user, self.password, self.port, self.transport = user, password, port, transport
        self.server = server
        self.local = local or ("::1" if ":" in server else "127.0.0.1")
        self.aor = "%s@%s" % (user, DOMAIN)
        self.inbox = []  # requests received (NOTIFY, MESSAGE), already answered
        self.pending = []
        self.buf = b""
        if transport == "udp":
            family = socket.AF_INET6 if ":" in server else socket.AF_INET
            self.sock = socket.socket(family, socket.SOCK_DGRAM)
            self.sock.bind((self.local, 0))
        elif transport == "tls":
            ctx = ssl.create_default_context(cafile=cafile)
            ctx.check_hostname = False
            raw = socket.create_connection((server, port), timeout=5,
                                           source_address=(self.local, 0))
            self.sock = ctx.wrap_socket(raw)
        else:
            self.sock = socket.create_connection((server, port), source_address=(self.local, 0))
        self.lport = self.sock.getsockname()[1]
        self.cseq = random.randint(1, 1000)
        self.auto_answer = True
        # retransmit: over UDP, repeat a request until its final answer as a client
        # transaction does (RFC 3261 17.1.2.2: T1 doubling up to T2) and drop answers
        # to an earlier request (a repeat's late 407, say); off by default, so that
        # a test that counts what the server received sees each request once
        self.retransmit = False

    def contact(self):
        c = "<sip:%s@%s:%d;transport=%s>" % (self.user, hostpart(self.local), self.lport,
                                             self.transport)
        if getattr(self, "instance", None):  # a device signing in again replaces itself
            c += ';+sip.instance="<urn:uuid:%s>"' % self.instance
        return c

    # --- wire
    def send_raw(self, text):
        data = text.encode() if isinstance(text, str) else text
        if self.transport == "udp":
            self.sock.sendto(data, (self.server, self.port))
        else:
            self.sock.sendall(data)

    def _read(self, timeout):
        self.sock.settimeout(max(timeout, 0.01))
        if self.transport == "udp":
            data, _ = self.sock.recvfrom(65535)
            return [data]
        chunk = self.sock.recv(65535)
        if not chunk:
            raise ConnectionError("closed")
        self.buf += chunk
        out = []
        while b"\r\n\r\n" in self.buf:
            head, _, rest = self.buf.partition(b"\r\n\r\n")
            m = re.search(rb"(?im)^(content-length|l)\s*:\s*(\d+)", head)
            n = int(m.group(2)) if m else 0
            if len(rest) < n:
                break
            out.append(head + b"\r\n\r\n" + rest[:n])
            self.buf = rest[n:]
        return out

    def recv(self, timeout=2.0, on_request=False):
        """Next message; incoming requests are answered 200 and kept in inbox.
        With on_request, also return (None) as soon as a request came in, so
        that a caller waiting for one sees it when it arrives."""
        if self.pending:
            return self.pending.pop(0)
        end = time.time() + timeout
        while time.time() < end:
            try:
                raws = self._read(end - time.time())
            except socket.timeout:
                return None
            got_request = False
            for raw in raws:
                m = Msg(raw)
                if m.method and m.method != "ACK":
                    if self.auto_answer:
                        self.answer(m, 200, "OK")
                    self.inbox.append(m)
                    got_request = True
                    continue
                self.pending.append(m)
            if self.pending:
                return self.pending.pop(0)
            if got_request and on_request:
                return None
        return None

    def answer(self, req, code, phrase, extra="", tag=None):
        """Answer req; extra: more header lines (each ending CRLF); tag: our To tag
        (a random one when None)."""
        hdrs = "".join("Via: %s\r\n" % v for v in req.all("via"))
        to = req.h("to")
        if ";tag=" not in to:
            to += ";tag=" + (tag or "ua%d" % random.randint(1, 1 << 30))
        self.send_raw("SIP/2.0 %d %s\r\n%sFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\n"
                      "%sContent-Length: 0\r\n\r\n" % (code, phrase, hdrs, req.h("from"), to,
                                                      req.h("call-id"), req.h("cseq"), extra))

    # --- requests
    def build(self, method, ruri, headers, body, from_tag, to, call_id, cseq, auth=None):
        branch = "z9hG4bK%x" % random.getrandbits(48)
        lines = ["%s %s SIP/2.0" % (method, ruri),
                 "Via: SIP/2.0/%s %s:%d;branch=%s;rport" % (self.transport.upper(),
                                                           hostpart(self.local), self.lport,
                                                           branch),
                 "Max-Forwards: 70",
                 "From: <sip:%s>;tag=%s" % (self.aor, from_tag),
                 "To: %s" % to,
                 "Call-ID: %s" % call_id,
                 "CSeq: %d %s" % (cseq, method),
                 "Contact: %s" % self.contact()]
        if auth:
            lines.append(auth)
        lines += headers
        b = body.encode() if isinstance(body, str) else (body or b"")
        lines.append("Content-Length: %d" % len(b))
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + b

    def digest(self, chal, method, ruri):
        realm = re.search(r'realm="([^"]+)"', chal).group(1)
        nonce = re.search(r'nonce="([^"]+)"', chal).group(1)
        ha1 = _md5("%s:%s:%s" % (self.user, realm, self.password))
        ha2 = _md5("%s:%s" % (method, ruri))
        cnonce, nc = "%x" % random.getrandbits(32), "00000001"
        resp = _md5("%s:%s:%s:%s:auth:%s" % (ha1, nonce, nc, cnonce, ha2))
        return ('Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", '
                'algorithm=MD5, qop=auth, nc=%s, cnonce="%s"' % (self.user, realm, nonce, ruri,
                                                                 resp, nc, cnonce))

    def request(self, method, ruri, headers=(), body="", to=None, call_id=None, from_tag=None,
                timeout=3.0):
        """Send, authenticate when challenged, return the final response (or None)."""
        to = to or "<%s>" % ruri
        call_id = call_id or "%x@presua" % random.getrandbits(64)
        from_tag = from_tag or "%x" % random.getrandbits(32)
        auth = None
        for _ in range(3):
            self.cseq += 1
            self.last = self.build(method, ruri, list(headers), body, from_tag, to, call_id,
                                   self.cseq, auth)
            self.send_raw(self.last)
            r = self.final(timeout)
            if r is None or r.status not in (401, 407):
                break
            hname = "Authorization" if r.status == 401 else "Proxy-Authorization"
            # the Digest challenge: in an AD domain Kerberos and NTLM come first
            chals = r.all("www-authenticate") + r.all("proxy-authenticate")
            chal = next((c for c in chals if c.lower().startswith("digest")), chals[0])
            auth = "%s: %s" % (hname, self.digest(chal, method, ruri))
        self.last_call = (call_id, from_tag)
        return r

    def final(self, timeout):
        end = time.time() + timeout
        repeat = self.retransmit and self.transport == "udp"
        interval = 0.5  # T1
        resend = time.time() + interval if repeat else end
        while time.time() < end:
            m = self.recv(min(end, resend) - time.time())
            if m is None:
                if not repeat or time.time() >= end:
                    return None
                if time.time() >= resend:
                    self.send_raw(self.last)
                    interval = min(interval * 2, 4.0)  # T2
                    resend = time.time() + interval
                continue
            if repeat and m.cseq() != self.cseq:
                continue  # an answer to an earlier request of ours
            if m.status >= 200:
                return m
        return None

    def register(self, expires=600):
        return self.request("REGISTER", "sip:" + DOMAIN, ["Expires: %d" % expires],
                            to="<sip:%s>" % self.aor)

    def wait_request(self, pred, timeout=3.0):
        end = time.time() + timeout
        while True:
            for m in self.inbox:
                if pred(m):
                    self.inbox.remove(m)
                    return m
            if time.time() >= end:
                return None
            # the request's arrival ends the read: no poll interval added to
            # what a test measures (bench/pool/run.sh's presence latency)
            self.recv(max(end - time.time(), 0.01), on_request=True)


class Sub:
    """A subscription dialog from ua to target."""

    def __init__(self, ua, target, event="presence", expires=600, headers=()):
        self.ua, self.event = ua, event
        self.ruri = "sip:" + target
        self.resp = ua.request("SUBSCRIBE", self.ruri, ["Event: " + event, "Expires: %d" % expires]
                               + list(headers))
        self.call_id, self.from_tag = ua.last_call
        if self.resp is not None and self.resp.status < 300:
            self.to = self.resp.h("to")
            m = re.search(r"<([^>]+)>", self.resp.h("contact") or "")
            self.target = m.group(1) if m else self.ruri

    def notify(self, pred=lambda m: True, timeout=3.0):
        return self.ua.wait_request(lambda m: m.method == "NOTIFY" and
                                    m.h("call-id") == self.call_id and pred(m), timeout)

    def refresh(self, expires):
        return self.ua.request("SUBSCRIBE", self.target, ["Event: " + self.event,
                                                          "Expires: %d" % expires],
                               to=self.to, call_id=self.call_id, from_tag=self.from_tag)


def pidf(entity, basic="open", activity=None, note=None):
    act = "<rpid:activities><rpid:%s/></rpid:activities>" % activity if activity else ""
    n = "<note>%s</note>" % note if note else ""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<presence xmlns="urn:ietf:params:xml:ns:pidf" '
            'xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" '
            'xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="sip:%s">'
            '<tuple id="t1"><status><basic>%s</basic></status>%s</tuple>'
            '<dm:person id="p1">%s</dm:person></presence>' % (entity, basic, n, act))


def publish(ua, body, expires=600, etag=None, ctype="application/pidf+xml", event="presence"):
    h = ["Event: " + event, "Expires: %d" % expires]
    if etag:
        h.append("SIP-If-Match: " + etag)
    if body:
        h.append("Content-Type: " + ctype)
    return ua.request("PUBLISH", "sip:" + ua.aor, h, body)


def soap(method, inner):
    return ('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:m="http://schemas.microsoft.com/winrtc/2002/11/sip"><s:Body><m:%s>%s'
            '<m:deltaNum>1</m:deltaNum></m:%s></s:Body></s:Envelope>' % (method, inner, method))


def service(ua, method, inner):
    return ua.request("SERVICE", "sip:" + ua.aor, ["Content-Type: application/SOAP+xml"],
                      soap(method, inner))
