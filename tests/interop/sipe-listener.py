#!/usr/bin/python3
"""A tiny scripted SIP registrar over TCP on loopback, to test purple-sipe itself.

It records every SIP message it receives in LOG and answers one client according to MODE:

  digest  REGISTER gets 401 with only Digest challenges (what greenwichd said before
          MS-SIPAE): pidgin-sipe must give up with a connection error.
  ntlm    REGISTER gets 401 "NTLM realm, targetname, version=3"; the second REGISTER
          (the client's NTLM start, gssapi-data="") gets the same bare 401 again, which
          pidgin-sipe reports as an authentication failure.
  kerberos  like ntlm, with "Kerberos realm, targetname="sip/FQDN", version=3": the
          second REGISTER carries the client's GSS krb5 token (AP-REQ) for that SPN.
  open    no authentication at all: REGISTER gets 200 (Expires, Allow-Events), so
          pidgin-sipe signs in unsigned (legacy mode). Its contact-list SUBSCRIBE gets a
          NOTIFY listing BUDDY, a presence SUBSCRIBE for BUDDY gets a PIDF NOTIFY with
          STATUS, and once the client has subscribed, BUDDY sends it a MESSAGE with TEXT.
          An INVITE from the client gets IM_REPLY (200: then MESSAGE, ACK are answered 200).

With --tls CERT KEY the listener speaks TLS instead of plain TCP.

This is a test fixture for the client program, not a model of greenwichd.
"""
import argparse
import os
import random
import re
import socket
import ssl
import sys
import threading

REALM = "SIP Communications Service"


def parse(raw):
    head, _, body = raw.partition("\r\n\r\n")
    lines = head.split("\r\n")
    hdrs = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        hdrs.append((name.strip(), value.strip()))
    return lines[0], hdrs, body


def header(hdrs, name):
    for n, v in hdrs:
        if n.lower() == name.lower():
            return v
    return None


def uri_of(value):
    m = re.search(r"<([^>]*)>", value or "")
    return m.group(1) if m else (value or "").split(";")[0]


class Client:
    def __init__(self, sock, args):
        self.sock, self.args = sock, args
        self.buf = b""
        self.rounds = 0
        self.cseq = 0
        self.user = None
        self.sent_im = False
        self.lock = threading.Lock()

    def log(self, direction, text):
        with open(self.args.log, "a") as f:
            f.write("---- %s\n%s\n" % (direction, text))

    def send(self, text):
        self.log("sent", text)
        with self.lock:
            self.sock.sendall(text.encode())

    def messages(self):
        while True:
            self.buf = self.buf.lstrip(b"\r\n")
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            m = re.search(rb"\r\nContent-Length:\s*(\d+)", self.buf[:end], re.I)
            total = end + 4 + (int(m.group(1)) if m else 0)
            if len(self.buf) < total:
                return
            raw, self.buf = self.buf[:total].decode(errors="replace"), self.buf[total:]
            yield raw

    def reply(self, hdrs, code, reason, extra=(), body="", ctype=None):
        out = ["SIP/2.0 %d %s" % (code, reason)]
        for n in ("Via", "From", "To", "Call-ID", "CSeq"):
            v = header(hdrs, n)
            if n == "To" and v and ";tag=" not in v and code > 100:
                v += ";tag=%08x" % random.getrandbits(32)
            out.append("%s: %s" % (n, v))
        out += list(extra)
        if ctype:
            out.append("Content-Type: " + ctype)
        out.append("Content-Length: %d" % len(body.encode()))
        self.send("\r\n".join(out) + "\r\n\r\n" + body)
        return out

    def request(self, method, ruri, frm, to, callid, extra=(), body="", ctype=None):
        self.cseq += 1
        out = ["%s %s SIP/2.0" % (method, ruri),
               "Via: SIP/2.0/TCP 127.0.0.1:%d;branch=z9hG4bK%08x" %
               (self.args.port, random.getrandbits(32)),
               "From: " + frm, "To: " + to, "Call-ID: " + callid,
               "CSeq: %d %s" % (self.cseq, method), "Max-Forwards: 70"]
        out += list(extra)
        if ctype:
            out.append("Content-Type: " + ctype)
        out.append("Content-Length: %d" % len(body.encode()))
        self.send("\r\n".join(out) + "\r\n\r\n" + body)

    def challenge(self, hdrs):
        if self.args.mode == "digest":
            ch = ['WWW-Authenticate: Digest realm="%s", nonce="%08x", algorithm=MD5, '
                  'qop="auth"' % (self.args.domain, random.getrandbits(32))]
        elif self.args.mode == "kerberos":
            ch = ['WWW-Authenticate: Kerberos realm="%s", targetname="sip/%s", version=3' %
                  (REALM, self.args.fqdn)]
        else:
            ch = ['WWW-Authenticate: NTLM realm="%s", targetname="%s", version=3' %
                  (REALM, self.args.fqdn)]
        self.reply(hdrs, 401, "Unauthorized", ch)

    def on_register(self, hdrs):
        self.rounds += 1
        if self.args.mode != "open":
            self.challenge(hdrs)
            return
        self.user = uri_of(header(hdrs, "From"))
        self.reply(hdrs, 200, "OK", ["Expires: 7200",
                                     "Allow-Events: vnd-microsoft-roaming-contacts,presence"])

    def notify(self, hdrs, to_hdr, event, body, ctype):
        frm = header(hdrs, "To") + ";tag=%08x" % random.getrandbits(32)
        self.request("NOTIFY", uri_of(header(hdrs, "Contact")) or self.user, frm, to_hdr,
                     header(hdrs, "Call-ID"),
                     ["Event: " + event, "Subscription-State: active;expires=3600"],
                     body, ctype)

    def contact_list(self):
        return ('<contactList deltaNum="1" '
                'xmlns="http://schemas.microsoft.com/2006/09/sip/contactlist">'
                '<group id="1" name="~" externalURI=""/>'
                '<contact uri="%s" name="Buddy" groups="1" subscribed="true" '
                'externalURI=""/></contactList>' % self.args.buddy.replace("sip:", ""))

    def pidf(self):
        return ('<?xml version="1.0" encoding="UTF-8"?>'
                '<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="%s">'
                '<tuple id="t1"><status><basic>open</basic><activities><activity>%s'
                '</activity></activities></status></tuple></presence>' %
                (self.args.buddy, self.args.status))

    def on_subscribe(self, hdrs):
        event = header(hdrs, "Event") or ""
        self.reply(hdrs, 200, "OK", ["Expires: 3600"])
        frm = header(hdrs, "From")
        if event == "vnd-microsoft-roaming-contacts":
            self.notify(hdrs, frm, event, self.contact_list(),
                        "application/vnd-microsoft-roaming-contacts+xml")
        elif event == "presence" and self.args.buddy in (header(hdrs, "To") or ""):
            self.notify(hdrs, frm, event, self.pidf(), "application/pidf+xml")
            self.send_im()

    def send_im(self):
        if self.sent_im or not self.args.text:
            return
        self.sent_im = True
        self.request("MESSAGE", self.user, "<%s>;tag=%08x" % (self.args.buddy,
                     random.getrandbits(32)), "<%s>" % self.user,
                     "%08x@listener" % random.getrandbits(32), [], self.args.text,
                     "text/plain; charset=UTF-8")

    def on_request(self, method, hdrs):
        if method == "REGISTER":
            self.on_register(hdrs)
        elif method == "SUBSCRIBE":
            self.on_subscribe(hdrs)
        elif method == "INVITE":
            code = self.args.im_reply
            self.reply(hdrs, code, "OK" if code == 200 else "Temporarily Unavailable",
                       ["Contact: <sip:127.0.0.1:%d;transport=tcp>" % self.args.port]
                       if code == 200 else [])
        elif method != "ACK":
            self.reply(hdrs, 200, "OK")

    def run(self):
        try:
            self.serve()
        except OSError:
            pass  # the client went away

    def serve(self):
        while True:
            data = self.sock.recv(65536)
            if not data:
                return
            self.buf += data
            for raw in self.messages():
                self.log("received", raw)
                first, hdrs, _ = parse(raw)
                if not first.startswith("SIP/2.0"):
                    self.on_request(first.split(" ")[0], hdrs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=("digest", "ntlm", "kerberos", "open"), required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--domain", default="corp.example.com")
    ap.add_argument("--fqdn", default="greenwich.corp.example.com")
    ap.add_argument("--buddy", default="sip:bob@corp.example.com")
    ap.add_argument("--status", default="away")
    ap.add_argument("--text", default="")
    ap.add_argument("--im-reply", type=int, default=200)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = ap.parse_args()
    ctx = None
    if args.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*args.tls)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    args.port = srv.getsockname()[1]
    with open(args.port_file + ".tmp", "w") as f:
        f.write("%d\n" % args.port)
    os.rename(args.port_file + ".tmp", args.port_file)
    while True:
        sock, _ = srv.accept()
        if ctx:
            try:
                sock = ctx.wrap_socket(sock, server_side=True)
            except (OSError, ssl.SSLError):
                continue  # the client refused our certificate
        threading.Thread(target=Client(sock, args).run, daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
