#!/usr/bin/python3
"""An independent MS-SIPAE SIP client for testing greenwichd's NTLM and Kerberos sign-in.

It signs in the way pidgin-sipe does (REGISTER, 401 challenges, connectionless NTLMv2 or
a Kerberos AP-REQ), signs every later request and response it sends, and checks the
server's signature on every message it receives (except 1xx and 401 responses). Any
missing or wrong server signature is an error. Nothing here uses Greenwich's C code.

Exit codes: 0 ok, 1 unexpected status, 2 bad or missing server signature,
3 transport error or timeout, 4 usage, 5 other server protocol violation,
6 local credential failure (e.g. no Kerberos ticket).

Debian packages: python3-pycryptodome (MD4, RC4) and python3-gssapi (Kerberos).
Run with /usr/bin/python3. See README.md in this folder.
"""
import argparse
import base64
import os
import select
import socket
import ssl
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sipae_ntlm as ntlm  # noqa: E402
from sipae_sip import (Framer, SipMessage, SipParseError, parse_auth, sipe_style_rand_num,  # noqa: E402
                       signed_string, uri_of, COMPACT)

NTLM_SEQ = 100  # pidgin-sipe signs and verifies with a fixed sequence number


class ClientError(Exception):
    """A failed test run; code is the process exit status."""
    code = 1


def _error(name, code):
    return type(name, (ClientError,), {"code": code})


StatusError = _error("StatusError", 1)          # unexpected final status
RefusedError = _error("RefusedError", 1)        # credentials or the request under test refused
SignatureError = _error("SignatureError", 2)    # server signature missing or wrong
TransportError = _error("TransportError", 3)    # connection, framing-level I/O, timeout
UsageError = _error("UsageError", 4)
ProtocolError = _error("ProtocolError", 5)      # any other server mistake
CredentialError = _error("CredentialError", 6)  # no Kerberos ticket etc.


def rand_hex(nbytes=4):
    return os.urandom(nbytes).hex().upper()


# -- security associations -----------------------------------------------------------

class SecurityAssociation:
    """Keys and identifiers shared with the server once a handshake has finished."""

    def __init__(self, protocol, realm, targetname, opaque, version):
        self.protocol = protocol
        self.realm = realm
        self.targetname = targetname
        self.opaque = opaque
        self.version = version
        self.cnum = 0

    def string_for(self, msg, rand, num):
        return signed_string(msg, self.protocol, rand, num, self.realm, self.targetname,
                             self.version)

    def sign(self, data):
        raise NotImplementedError

    def verify(self, data, sig_hex):
        raise NotImplementedError


class NtlmSA(SecurityAssociation):
    def __init__(self, realm, targetname, opaque, version, exported_key):
        super().__init__("NTLM", realm, targetname, opaque, version)
        self.keys = ntlm.Keys(exported_key)

    def sign(self, data):
        return ntlm.sign_hex(self.keys.client_sign, self.keys.client_seal, NTLM_SEQ, data)

    def verify(self, data, sig_hex):
        want = ntlm.sign_hex(self.keys.server_sign, self.keys.server_seal, NTLM_SEQ, data)
        return sig_hex.upper() == want


class KerberosSA(SecurityAssociation):
    def __init__(self, realm, targetname, opaque, version, ctx):
        super().__init__("Kerberos", realm, targetname, opaque, version)
        self.ctx = ctx

    def sign(self, data):
        return self.ctx.get_signature(data).hex()

    def verify(self, data, sig_hex):
        import gssapi
        try:
            self.ctx.verify_signature(data, bytes.fromhex(sig_hex))
        except (ValueError, gssapi.exceptions.GSSError):
            return False
        return True


def kerberos_context(targetname, principal, password, cb=None):
    """A complete GSS krb5 initiator context for targetname (sip/FQDN), integrity only;
    cb: channel bindings (application data, no addresses) the authenticator carries."""
    import gssapi
    import gssapi.raw
    krb5 = gssapi.MechType.kerberos
    bindings = gssapi.raw.ChannelBindings(application_data=cb) if cb is not None else None
    target = gssapi.Name(targetname.replace("/", "@", 1), gssapi.NameType.hostbased_service)
    try:
        creds = None
        if password is not None:
            who = gssapi.Name(principal, gssapi.NameType.kerberos_principal)
            creds = gssapi.raw.acquire_cred_with_password(
                who, password.encode(), usage="initiate", mechs=[krb5]).creds
        ctx = gssapi.SecurityContext(name=target, creds=creds, mech=krb5, usage="initiate",
                                     flags=gssapi.RequirementFlag.integrity,
                                     channel_bindings=bindings)
        token = ctx.step()
    except gssapi.exceptions.GSSError as e:
        raise CredentialError("Kerberos: %s" % e) from e
    if not ctx.complete:
        raise CredentialError("Kerberos context not complete after the first token")
    return ctx, token


def _der_enc(tag, content):
    n = len(content)
    if n < 0x80:
        head = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + head + content


def _der_children(buf, start, end):
    out = []
    while start < end:
        tag, cs, ce = ntlm.der_next(buf, start)
        out.append((tag, bytes(buf[cs:ce])))
        start = ce
    return out


def _der_seq_map(outer_tag, elem, fn):
    """elem is outer_tag { SEQUENCE { [n] ... } }: re-encoded with fn(n_tag, contents)
    applied to each context-tagged child."""
    _t, cs, _e = ntlm.der_next(elem, 0)
    _t, scs, sce = ntlm.der_next(elem, cs)
    body = b"".join(_der_enc(t, fn(t, c)) for t, c in _der_children(elem, scs, sce))
    return _der_enc(outer_tag, _der_enc(0x30, body))


def rewrite_sname(token, service):
    """The krb5 GSS initial context token with its ticket's service name (the cleartext
    sname, outside the ticket's encrypted part) changed to service/<same host>: what a
    relay does to pass a ticket made for another service of the same account
    (RFC 4120 5.3 Ticket, 5.5.1 AP-REQ; RFC 1964 framing)."""
    def pname(t, c):
        if t != 0xA2:
            return c
        _t, cs, ce = ntlm.der_next(c, 0)  # PrincipalName ::= SEQUENCE { name-type, name-string }
        parts = []
        for t2, c2 in _der_children(c, cs, ce):
            if t2 == 0xA1:
                _t, ncs, nce = ntlm.der_next(c2, 0)
                names = _der_children(c2, ncs, nce)
                names[0] = (names[0][0], service.encode())
                c2 = _der_enc(0x30, b"".join(_der_enc(a, b) for a, b in names))
            parts.append(_der_enc(t2, c2))
        return _der_enc(0x30, b"".join(parts))

    def ticket(t, c):
        return _der_seq_map(0x61, c, pname) if t == 0xA3 else c

    _t, cs, end = ntlm.der_next(token, 0)               # [APPLICATION 0]
    _t, _ocs, oend = ntlm.der_next(token, cs)           # the krb5 OID
    apreq = bytes(token[oend + 2:end])         # after TOK_ID 01 00
    inner = bytes(token[cs:oend + 2]) + _der_seq_map(0x6E, apreq, ticket)
    return _der_enc(0x60, inner)


# -- the client ----------------------------------------------------------------------


_TLS_CONTEXT = None


def _tls_context():
    """One client TLS context for the process (certificate not verified: the tests
    check the server's certificate elsewhere).  Building one per connection loaded
    the system's CA store each time, which cost the client tens of milliseconds per
    sign-in and made bench/signin measure the client."""
    global _TLS_CONTEXT  # pylint: disable=global-statement
    if _TLS_CONTEXT is None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        _TLS_CONTEXT = ctx
    return _TLS_CONTEXT


class Client:
    """One SIP user agent on one TCP/TLS connection, signing in with MS-SIPAE."""

    def __init__(self, server, port, domain, user, password, scheme="ntlm", tls=False,
                 ntlm_domain="", aor=None, workstation=None, timeout=10.0, trace=None,
                 source=None):
        self.server, self.port = server, port
        self.source = source  # local address to connect from, or None
        self.domain, self.user, self.password = domain, user, password
        self.scheme = scheme.lower()
        self.tls, self.timeout, self.trace = tls, timeout, trace
        self.ntlm_domain = ntlm_domain
        self.aor = aor or "sip:%s@%s" % (user.split("@")[0], domain)
        self.workstation = (workstation or socket.gethostname().split(".")[0]).upper()
        self.sock = None
        self.framer = Framer()
        self.sa = None
        self.inbox = []        # requests received from the server (already answered)
        self.call_id = rand_hex(8) + "@" + rand_hex(2)
        self.tag = rand_hex(4)
        self.epid = os.urandom(5).hex()
        self.instance = str(uuid.uuid4())
        self.ms_opaque = os.urandom(5).hex()  # one Contact for the whole run
        self.no_branch = False  # in-dialog requests with an RFC 2543 Via (no branch)
        self.cseq = 0
        self.last = None       # final response to the last request
        self.target_sent = False  # the request under test (after sign-in) went out
        self.print_keys = False
        self.unsigned_answers = False  # answer the server's requests without a signature
        # NTLM extended protection: MsvAvTargetName, channel bindings ("tls": of this
        # connection's server certificate, "bad": of another one, or a PEM file's: see
        # cb_cert), MIC ("good", "bad")
        self.ntlm_target = None
        self.ntlm_cb = None
        self.ntlm_mic = None
        self.ticket_service = None
        self.rewrite_sname = False
        self.krb_cb = None
        self.contact_override = None  # a Contact header value to send instead of ours
        self.ntlm_delay = 0         # seconds between CHALLENGE and AUTHENTICATE  # Kerberos: ask for a ticket for this service instead
        # a TLS session of an earlier connection to resume (a client that reconnects
        # offers its session ticket); after connect(), tls_resumed tells whether the
        # server took it
        self.tls_session = None
        self.tls_resumed = False

    # -- transport ----------------------------------------------------------------
    def connect(self):
        try:
            raw = socket.create_connection((self.server, self.port), timeout=self.timeout,
                                           source_address=(self.source, 0) if self.source
                                           else None)
            if self.tls:
                raw = _tls_context().wrap_socket(raw, server_hostname=self.server,
                                                 session=self.tls_session)
                self.tls_resumed = raw.session_reused
        except OSError as e:
            raise TransportError("connect %s:%d: %s" % (self.server, self.port, e)) from e
        self.sock = raw
        self.local = self.sock.getsockname()[:2]

    def close(self):
        if self.sock:
            self.sock.close()
            self.sock = None

    def _log(self, direction, msg):
        if self.trace:
            self.trace.write("%s %s\n%s\n" % (direction, time.strftime("%H:%M:%S"),
                                              msg.encode().decode(errors="replace")))
            self.trace.flush()

    def send_raw(self, msg):
        self._log(">>>", msg)
        try:
            self.sock.sendall(msg.encode())
        except OSError as e:
            raise TransportError("send: %s" % e) from e

    def read_message(self, deadline):
        """Next message from the server, checked for framing and header names."""
        while True:
            try:
                msg = self.framer.next()
            except (SipParseError, UnicodeDecodeError, ValueError) as e:
                raise ProtocolError("unparsable message from server: %s" % e) from e
            if msg is not None:
                self._log("<<<", msg)
                self._check_form(msg)
                return msg
            left = deadline - time.monotonic()
            if left <= 0:
                raise TransportError("timeout waiting for the server")
            pending = self.tls and self.sock.pending()
            if not pending and not select.select([self.sock], [], [], left)[0]:
                continue
            try:
                data = self.sock.recv(65536)
            except OSError as e:
                raise TransportError("receive: %s" % e) from e
            if not data:
                raise TransportError("server closed the connection")
            self.framer.feed(data)

    @staticmethod
    def _check_form(msg):
        compact = [k for k, _v in msg.headers if k.lower() in COMPACT]
        if compact:
            raise ProtocolError("compact header name(s) %s in %s" % (compact, msg.start))
        if not msg.get("Content-Length"):
            raise ProtocolError("no Content-Length in %s" % msg.start)

    # -- building requests ----------------------------------------------------------
    def via(self, branch=True):
        proto = "TLS" if self.tls else "TCP"
        via = "SIP/2.0/%s %s:%d" % (proto, self.local[0], self.local[1])
        return via + ";branch=z9hG4bK" + rand_hex(6) if branch else via

    def contact(self):
        if self.contact_override:  # another client's Contact, replayed
            return self.contact_override
        proto = "tls" if self.tls else "tcp"
        return ('<sip:%s:%d;transport=%s;ms-opaque=%s>;methods="INVITE, MESSAGE, INFO, '
                'SUBSCRIBE, OPTIONS, BYE, CANCEL, NOTIFY, ACK, REFER, BENOTIFY";proxy=replace;'
                '+sip.instance="<urn:uuid:%s>"' % (self.local[0], self.local[1], proto,
                                                   self.ms_opaque, self.instance))

    def request(self, method, uri, to, call_id=None, from_uri=None, body=b"", ctype=None):
        self.cseq += 1
        msg = SipMessage("%s %s SIP/2.0" % (method, uri))
        msg.headers += [
            ("Via", self.via()),
            ("From", "<%s>;tag=%s;epid=%s" % (from_uri or self.aor, self.tag, self.epid)),
            ("To", "<%s>" % to),
            ("Call-ID", call_id or self.call_id),
            ("CSeq", "%d %s" % (self.cseq, method)),
            ("Max-Forwards", "70"),
            ("User-Agent", "greenwich-sipae-testclient/1"),
            ("Contact", self.contact()),
        ]
        if ctype:
            msg.headers.append(("Content-Type", ctype))
        msg.body = body
        return msg

    def register_request(self):
        msg = self.request("REGISTER", "sip:" + self.domain, self.aor)
        msg.headers += [
            ("Supported", "gruu-10, adhoclist, msrtc-event-categories, "
                          "com.microsoft.msrtc.presence"),
            ("Event", "registration"),
            ("Allow-Events", "presence"),
            ("ms-keep-alive", "UAC;hop-hop=yes"),
        ]
        return msg

    # -- signing ---------------------------------------------------------------------
    def sign(self, msg, opaque=None, cnum=None, crand=None):
        """Add the signed Authorization header to msg (request or response)."""
        sa = self.sa
        if cnum is None:
            sa.cnum += 1
            cnum = sa.cnum
        crand = crand or rand_hex(4)
        sig = sa.sign(sa.string_for(msg, crand, str(cnum)).encode())
        msg.remove("Authorization")
        msg.headers.append(("Authorization", '%s qop="auth", opaque="%s", realm="%s", '
                            'targetname="%s", crand="%s", cnum="%d", response="%s"' % (
                                sa.protocol, opaque or sa.opaque, sa.realm, sa.targetname,
                                crand, cnum, sig)))
        return msg

    def verify(self, msg, sa=None):
        """Check the server's signature on msg; raises SignatureError/ProtocolError."""
        sa = sa or self.sa
        if sa is None or (not msg.is_request and (msg.status < 200 or msg.status == 401)):
            return
        info = msg.get("Authentication-Info") or msg.get("Proxy-Authentication-Info")
        if info is None:
            raise SignatureError("unsigned message from server: %s" % msg.start)
        scheme, p = parse_auth(info)
        if scheme.lower() != sa.protocol.lower():
            raise SignatureError("signature scheme %r, SA is %s (%s)" % (scheme, sa.protocol,
                                                                        msg.start))
        if "rspauth" not in p or "srand" not in p or "snum" not in p:
            raise SignatureError("Authentication-Info lacks rspauth/srand/snum: %s" % info)
        if sipe_style_rand_num(info) != (p["srand"], p["snum"]):
            raise ProtocolError("pidgin-sipe would read rand/num %r from %r" %
                                (sipe_style_rand_num(info), info))
        for key in ("realm", "targetname", "opaque"):
            if key in p and p[key] != getattr(sa, key):
                raise SignatureError("Authentication-Info %s=%r, SA has %r (%s)" % (
                    key, p[key], getattr(sa, key), msg.start))
        data = sa.string_for(msg, p["srand"], p["snum"]).encode()
        if not sa.verify(data, p["rspauth"]):
            raise SignatureError("bad server signature on %s (signed string %s)" % (
                msg.start, data.decode(errors="replace")))

    # -- transactions ------------------------------------------------------------------
    def send_request(self, msg):
        """Send msg and return its final response; answers server requests meanwhile."""
        self.send_raw(msg)
        return self.wait_response(msg)

    def wait_response(self, req, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        key = (req.get("Call-ID"), req.get("CSeq"))
        while True:
            msg = self.read_message(deadline)
            if msg.is_request:
                self.handle_request(msg)
                continue
            if (msg.get("Call-ID"), msg.get("CSeq")) != key:
                continue  # a stray response (e.g. to a replayed copy): ignored
            self.verify(msg)
            if msg.status >= 200:
                self.last = msg
                return msg

    def handle_request(self, req):
        """Verify a request from the server, record it, answer it signed."""
        self.verify(req)
        self.inbox.append(req)
        if req.method in ("ACK", "BENOTIFY"):
            return
        ok = req.method in ("MESSAGE", "NOTIFY", "OPTIONS", "BYE", "INFO", "INVITE")
        resp = SipMessage("SIP/2.0 200 OK" if ok else "SIP/2.0 501 Not Implemented")
        for name in ("Via", "Record-Route"):
            resp.headers += [(name, v) for v in req.get_all(name)]
        to = req.get("To", "")
        if ";tag=" not in to:
            to += ";tag=" + self.tag
        resp.headers += [("From", req.get("From", "")), ("To", to),
                         ("Call-ID", req.get("Call-ID", "")), ("CSeq", req.get("CSeq", ""))]
        if req.method == "INVITE":  # a session with us: our Contact is the remote target
            resp.headers.append(("Contact", self.contact()))
        if self.sa and not self.unsigned_answers:
            self.sign(resp)
        self.send_raw(resp)

    def wait_requests(self, method, count, timeout, whole=False):
        """Collect requests of method until count arrived (or, with whole, until the
        timeout in any case, to see extra ones); returns them."""
        deadline = time.monotonic() + timeout
        got = lambda: [r for r in self.inbox if r.method == method]  # noqa: E731
        while whole or len(got()) < max(count, 1):
            try:
                msg = self.read_message(deadline)
            except TransportError:
                if time.monotonic() >= deadline:
                    break
                raise
            if msg.is_request:
                self.handle_request(msg)
            else:
                self.verify(msg)
        return got()

    # -- sign-in -----------------------------------------------------------------------
    def _challenge(self, resp, want):
        """(params) of the server's WWW-Authenticate for scheme want in a 401."""
        for val in resp.get_all("WWW-Authenticate"):
            scheme, p = parse_auth(val)
            if scheme.lower() == want.lower():
                return p
        return None

    def _auth_header(self, protocol, realm, targetname, gssapi_data, version, opaque=None):
        parts = ['qop="auth"']
        if opaque:
            parts.append('opaque="%s"' % opaque)
        parts += ['realm="%s"' % realm, 'targetname="%s"' % targetname,
                  'gssapi-data="%s"' % gssapi_data, "version=%s" % version]
        return "%s %s" % (protocol, ", ".join(parts))

    def register(self):
        """The whole sign-in; returns the 200 OK. Raises StatusError on a refusal."""
        protocol = {"ntlm": "NTLM", "kerberos": "Kerberos"}[self.scheme]
        first = self.send_request(self.register_request())
        if first.status != 401:
            raise StatusError("REGISTER without credentials: %s" % first.start)
        p = self._challenge(first, protocol)
        if p is None:
            raise StatusError("401 offers no %s challenge" % protocol)
        for key in ("realm", "targetname", "version"):
            if key not in p:
                raise ProtocolError("%s challenge lacks %s" % (protocol, key))
        if protocol == "NTLM":
            return self._register_ntlm(p)
        return self._register_kerberos(p)

    def ntlm_names(self):
        """(user, domain) as sipe splits DOMAIN\\user; a UPN goes with an empty domain."""
        if "\\" in self.user:
            dom, user = self.user.split("\\", 1)
            return user, dom
        return self.user, self.ntlm_domain

    def cb_cert(self, how):
        """The certificate (DER) channel bindings are made of: "tls" the one this
        connection's server presented, "bad" some other bytes, else a PEM file's."""
        if how == "tls":
            return self.sock.getpeercert(binary_form=True)
        if how == "bad":
            return b"another certificate"
        with open(how) as f:
            return ssl.PEM_cert_to_DER_cert(f.read())

    def _register_ntlm(self, p):
        realm, target, version = p["realm"], p["targetname"], p["version"]
        req = self.register_request()
        req.headers.append(("Authorization",
                            self._auth_header("NTLM", realm, target, "", version)))
        resp = self.send_request(req)
        if resp.status != 401:
            raise StatusError("REGISTER with gssapi-data=\"\": %s" % resp.start)
        c = self._challenge(resp, "NTLM")
        if not c or not c.get("gssapi-data") or not c.get("opaque"):
            raise ProtocolError("second 401 lacks an NTLM challenge with opaque")
        try:
            challenge = ntlm.Challenge(base64.b64decode(c["gssapi-data"]))
        except (ValueError, ntlm.NtlmError) as e:
            raise ProtocolError("NTLM CHALLENGE: %s" % e) from e
        problems = challenge.problems()
        if problems:
            raise ProtocolError("; ".join(problems))
        user, dom = self.ntlm_names()
        if self.ntlm_delay:
            time.sleep(self.ntlm_delay)  # let the CHALLENGE grow old
        cb = None
        if self.ntlm_cb is not None:
            cb = ntlm.channel_bindings(self.cb_cert(self.ntlm_cb))
        auth = ntlm.authenticate(challenge, user, dom, self.password, self.workstation,
                                 target_name=self.ntlm_target, cb=cb,
                                 mic=self.ntlm_mic is not None, bad_mic=self.ntlm_mic == "bad")
        self.ntlm_auth = auth
        if self.print_keys:  # for the tests that grep the server's log for secrets
            print("keys nt-hash=%s session-base-key=%s exported-session-key=%s" % (
                ntlm.md4(ntlm.utf16(self.password)).hex(), auth.session_base_key.hex(),
                auth.exported_session_key.hex()))
        opaque = c["opaque"]
        req = self.register_request()
        req.headers.append(("Authorization", self._auth_header(
            "NTLM", realm, target, base64.b64encode(auth.message).decode(), version, opaque)))
        sa = NtlmSA(realm, target, opaque, int(version), auth.exported_session_key)
        self.send_raw(req)
        return self._finish_register(req, sa)

    def _register_kerberos(self, p):
        realm, target, version = p["realm"], p["targetname"], p["version"]
        if not target.startswith("sip/"):
            raise ProtocolError("Kerberos targetname %r is not sip/FQDN" % target)
        user = self.user if "@" in self.user else "%s@%s" % (self.user, self.domain)
        name, _, urealm = user.partition("@")
        # --ticket-service: a ticket for another service of the host (a relayed or
        # misdirected AP-REQ) under the sip/ targetname
        tkt_target = target if not self.ticket_service else \
            self.ticket_service + "/" + target.split("/", 1)[1]
        cb = None  # --krb-channel-bindings: this TLS connection's, or another one's
        if self.krb_cb is not None:
            cb = ntlm.tls_server_end_point(self.cb_cert(self.krb_cb))
        ctx, token = kerberos_context(tkt_target, "%s@%s" % (name, urealm.upper()),
                                      self.password, cb)
        if self.rewrite_sname:  # --rewrite-sname: that ticket relabelled sip/
            token = rewrite_sname(token, target.split("/", 1)[0])
        req = self.register_request()
        req.headers.append(("Authorization", self._auth_header(
            "Kerberos", realm, target, base64.b64encode(token).decode(), version)))
        self.send_raw(req)
        return self._finish_register(req, KerberosSA(realm, target, None, int(version), ctx))

    def _finish_register(self, req, sa):
        resp = self.wait_response(req)
        if resp.status != 200:
            if resp.status == 401:
                c = self._challenge(resp, sa.protocol)
                if c is None or "gssapi-data" in c:
                    raise ProtocolError("refusal 401 should carry a bare %s challenge" %
                                        sa.protocol)
            raise RefusedError("REGISTER refused: %s" % resp.start)
        info = resp.get("Authentication-Info")
        if not info:
            raise SignatureError("200 to REGISTER has no Authentication-Info")
        _scheme, p = parse_auth(info)
        if not p.get("opaque"):
            raise ProtocolError("200 to REGISTER has no opaque in Authentication-Info")
        if sa.opaque is None:
            sa.opaque = p["opaque"]
        self.verify(resp, sa)
        expires = resp.get("Expires", "")
        if not expires.isdigit() or int(expires) == 0:
            raise ProtocolError("200 to REGISTER needs a non-zero Expires (got %r)" % expires)
        self.sa = sa
        return resp


# -- command line ----------------------------------------------------------------------

KEY_HEADERS = ("WWW-Authenticate", "Authentication-Info", "Expires", "Warning", "Contact",
               "Retry-After")


def show(label, resp):
    print("%s: %s" % (label, resp.start))
    for name in KEY_HEADERS:
        for v in resp.get_all(name):
            print("  %s: %s" % (name, v))
    sys.stdout.flush()


def apply_knobs(client, req, args):
    """Sign req the way the negative-test options say; returns the bytes to send."""
    if args.no_signature:
        return req
    opaque = None
    if args.bad_opaque:
        opaque = "%08X" % ((int(client.sa.opaque, 16) + 1) & 0xFFFFFFFF
                           if all(ch in "0123456789abcdefABCDEF" for ch in client.sa.opaque)
                           else 0xDEADBEEF)
    if args.pai:
        req.headers.append(("P-Asserted-Identity", "<%s>" % args.pai))
    client.sign(req, opaque=opaque)
    if not args.tamper:
        return req
    if args.tamper_field == "from-tag":
        req.set("From", req.get("From").replace(";tag=", ";tag=X", 1))
    elif args.tamper_field == "from-display":
        # a display name that holds the signed URI and tag, then another tag: a server
        # that reads the signed fields without honouring the quotes sees the old ones
        uri, tag = uri_of(req.get("From")), req.get("From").split(";tag=")[1].split(";")[0]
        req.set("From", '"<%s>;tag=%s;" <%s>;tag=X%s' % (uri, tag, uri, tag))
    elif args.tamper_field == "call-id":
        req.set("Call-ID", "X" + req.get("Call-ID"))
    else:
        req.set("Expires", str(int(req.get("Expires", "3600")) + 1))
    return req


POST_SIGNIN_KNOBS = ("tamper", "no_signature", "bad_opaque", "replay", "from_uri",
                     "other_connection")


def send_target(client, req, args):
    """Send the request under test (with its knobs), and a replay of it if asked."""
    client.target_sent = True
    req = apply_knobs(client, req, args)
    if args.other_connection:
        # the SA's own connection stays open; the signed request goes over a new one
        client.spare = client.sock
        client.framer = Framer()
        client.connect()
        req.set("Via", client.via())
    resp = client.send_request(req)
    show("%s" % req.method, resp)
    if args.replay:
        if resp.status >= 300:
            raise StatusError("the original of the replayed request got %s" % resp.start)
        again = req.copy()
        again.set("Via", client.via())   # a new transaction, same signed fields
        resp = client.send_request(again)
        show("%s replayed" % req.method, resp)
    return resp


def cmd_register(client, args):
    resp = client.register()
    show("REGISTER", resp)
    print("signed-in scheme=%s opaque=%s" % (client.sa.protocol, client.sa.opaque))
    sys.stdout.flush()
    if not (args.refresh or any(getattr(args, k) for k in POST_SIGNIN_KNOBS)):
        return resp
    req = client.register_request()
    if args.from_uri:
        req.set("From", "<%s>;tag=%s;epid=%s" % (args.from_uri, client.tag, client.epid))
    req.set("Expires", str(args.expires))
    return send_target(client, req, args)


def cmd_send_message(client, args):
    resp = cmd_register(client, argparse.Namespace(**dict(vars(args), refresh=False,
                                                           tamper=False, no_signature=False,
                                                           bad_opaque=False, replay=False,
                                                           from_uri=None,
                                                           other_connection=False)))
    if resp.status != 200:
        return resp
    req = client.request("MESSAGE", args.to, args.to, call_id=rand_hex(8) + "@" + rand_hex(2),
                         from_uri=args.from_uri, body=args.text.encode(),
                         ctype="text/plain; charset=UTF-8")
    return send_target(client, req, args)


def cmd_receive(client, args):
    resp = client.register()
    show("REGISTER", resp)
    if not args.unproven:
        # what real clients do at once (pidgin-sipe's SUBSCRIBEs): a signed request, which
        # proves the SA; greenwichd routes nothing to a binding whose SA signed nothing
        req = client.register_request()
        client.sign(req)
        proof = client.send_request(req)
        show("REGISTER signed", proof)
        if proof.status >= 300:
            raise StatusError("signed refresh REGISTER: %s" % proof.start)
    print("registered %s" % client.aor)
    sys.stdout.flush()
    got = client.wait_requests("MESSAGE", args.count, args.wait, args.exact)
    for m in got:
        print("MESSAGE from %s to %s: %s" % (uri_of(m.get("From", "")), uri_of(m.get("To", "")),
                                             m.body.decode(errors="replace")))
    for m in client.inbox:
        print("request %s from %s via %s pai=%s" % (m.method, uri_of(m.get("From", "")),
                                                     m.get("Via", ""),
                                                     m.get("P-Asserted-Identity", "-")))
    sys.stdout.flush()
    if len(got) != args.count:
        raise (StatusError if args.count == 0 or len(got) > args.count else TransportError)(
            "expected %d MESSAGE(s), got %d" % (args.count, len(got)))
    return resp


def parse_args(argv):
    ap = argparse.ArgumentParser(description="MS-SIPAE (NTLM/Kerberos) SIP test client")
    ap.add_argument("--server", required=True, help="HOST:PORT")
    ap.add_argument("--tls", action="store_true", help="TLS (certificate not verified)")
    ap.add_argument("--domain", required=True, help="SIP domain, e.g. corp.example.com")
    ap.add_argument("--user", required=True, help="alice, CORP\\alice or alice@corp...")
    ap.add_argument("--password")
    ap.add_argument("--password-file", help="read the password from this file")
    ap.add_argument("--scheme", choices=("ntlm", "kerberos"), default="ntlm")
    ap.add_argument("--ntlm-domain", default="", help="NTLM domain (e.g. CORP); "
                    "empty with a UPN user")
    ap.add_argument("--aor", help="address of record (default sip:USER@DOMAIN)")
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--source", help="local address to connect from (e.g. 127.0.0.2)")
    ap.add_argument("--trace", help="write every message sent and received to this file")
    ap.add_argument("--call-id", help="the Call-ID of the sign-in (default: random)")
    ap.add_argument("--expect-status", type=int,
                    help="exit 0 only if the last request's final status is this")
    knobs = ap.add_argument_group("negative tests (act on the request after sign-in)")
    knobs.add_argument("--wrong-password", action="store_true")
    knobs.add_argument("--tamper", action="store_true",
                       help="change a signed header after signing (see --tamper-field)")
    knobs.add_argument("--tamper-field",
                       choices=("from-tag", "from-display", "call-id", "expires"),
                       default="from-tag", help="what --tamper changes (default from-tag)")
    knobs.add_argument("--no-signature", action="store_true")
    knobs.add_argument("--unsigned-answers", action="store_true",
                       help="answer the server's requests without signing the answers")
    knobs.add_argument("--bad-opaque", action="store_true")
    knobs.add_argument("--replay", action="store_true",
                       help="send the signed request again (new Via branch, same cnum/crand)")
    knobs.add_argument("--from", dest="from_uri", help="spoofed From URI")
    knobs.add_argument("--pai", help="a P-Asserted-Identity (signed) in the request")
    knobs.add_argument("--other-connection", action="store_true",
                       help="send the signed request over a second connection")
    knobs.add_argument("--ntlm-delay", type=float, default=0,
                       help="NTLM: seconds to wait before answering the CHALLENGE")
    knobs.add_argument("--ticket-service",
                       help="Kerberos: a ticket for this service (e.g. host) of the server")
    knobs.add_argument("--rewrite-sname", action="store_true",
                       help="Kerberos: with --ticket-service, rewrite the ticket's service "
                       "name to the targetname's (sip/), as a relay would")
    knobs.add_argument("--ntlm-target-name", help="NTLM: MsvAvTargetName (e.g. sip/FQDN)")
    knobs.add_argument("--ntlm-channel-bindings", metavar="tls|bad|PEM",
                       help="NTLM: MsvAvChannelBindings of this TLS connection, wrong ones, "
                       "or those of the certificate in a PEM file")
    knobs.add_argument("--krb-channel-bindings", metavar="tls|bad|PEM",
                       help="Kerberos: channel bindings of this TLS connection, wrong ones, "
                       "or those of the certificate in a PEM file")
    knobs.add_argument("--ntlm-mic", choices=("good", "bad"),
                       help="NTLM: MsvAvFlags 0x2 and a MIC (a wrong one with bad)")
    ap.add_argument("--print-keys", action="store_true",
                    help="print the NTLM hash and session keys (to check logs for them)")
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("register", help="sign in (then optionally a signed refresh)")
    r.add_argument("--refresh", action="store_true", help="send a signed refresh REGISTER")
    r.add_argument("--expires", type=int, default=3600, help="Expires of the refresh")
    m = sub.add_parser("send-message", help="sign in, then send a MESSAGE")
    m.add_argument("--to", required=True)
    m.add_argument("--text", default="hello")
    v = sub.add_parser("receive", help="sign in, then wait for MESSAGE(s) and answer 200")
    v.add_argument("--count", type=int, default=1, help="0: expect none within --wait")
    v.add_argument("--exact", action="store_true",
                   help="keep listening for --wait seconds; more than --count is an error")
    v.add_argument("--wait", type=float, default=10.0, help="seconds to wait for them")
    v.add_argument("--unproven", action="store_true",
                   help="send no signed request after sign-in (the SA stays unproven)")
    import sipae_failcmds
    sipae_failcmds.sc = sys.modules[__name__]
    sipae_failcmds.add_parsers(sub)
    return ap, ap.parse_args(argv)


def main(argv=None):
    try:
        ap, args = parse_args(argv)
    except SystemExit as e:
        return 0 if e.code == 0 else 4
    try:
        host, _, port = args.server.rpartition(":")
        password = args.password
        if args.password_file:
            with open(args.password_file) as f:
                password = f.read().rstrip("\n")
        if password is None and args.scheme == "ntlm":
            raise UsageError("--password or --password-file needed for NTLM")
        if args.wrong_password:
            password = (password or "") + "-wrong"
        trace = open(args.trace, "a") if args.trace else None
        client = Client(host.strip("[]"), int(port), args.domain, args.user, password,
                        args.scheme, args.tls, args.ntlm_domain, args.aor,
                        timeout=args.timeout, trace=trace, source=args.source)
        client.print_keys = args.print_keys
        client.ntlm_target = args.ntlm_target_name
        client.ntlm_cb = args.ntlm_channel_bindings
        client.ntlm_mic = args.ntlm_mic
        client.ticket_service = args.ticket_service
        client.rewrite_sname = args.rewrite_sname
        client.krb_cb = args.krb_channel_bindings
        client.ntlm_delay = args.ntlm_delay
        client.unsigned_answers = args.unsigned_answers
        if args.call_id:
            client.call_id = args.call_id
        client.connect()
        import sipae_failcmds
        run = dict({"register": cmd_register, "send-message": cmd_send_message,
                    "receive": cmd_receive}, **sipae_failcmds.COMMANDS)[args.command]
        try:
            run(client, args)
        except RefusedError as e:
            # --expect-status applies to the request under test: the sign-in itself, or
            # with a post-sign-in knob only the request after it
            knob = any(getattr(args, k) for k in POST_SIGNIN_KNOBS)
            if args.expect_status is None or (knob and not client.target_sent):
                raise
            print("refused: %s" % e)
            show("last", client.last)
        final = client.last.status if client.last else None
        if args.expect_status is not None and final != args.expect_status:
            raise StatusError("final status %s, expected %d" % (final, args.expect_status))
        if args.expect_status is None and (final is None or final >= 300):
            raise StatusError("final status %s" % final)
        return 0
    except ClientError as e:
        print("error (%s): %s" % (type(e).__name__, e), file=sys.stderr)
        return e.code
    except ValueError as e:
        print("usage error: %s" % e, file=sys.stderr)
        return 4


if __name__ == "__main__":
    RC = main()
    print("exit=%d" % RC)  # for callers that only see the output (background runs)
    sys.exit(RC)
