"""More commands of sipae_client.py, for the failure tests (t-signin-failures.sh).

  dialog --to URI [--text T] [--no-branch]
        sign in, INVITE URI, then inside the dialog ACK, MESSAGE and BYE (with
        --no-branch their Via has no branch parameter, as pidgin-sipe sends them);
        every answer must be 2xx and signed
  reauth --pause S
        sign in, stay idle S seconds, send a signed refresh REGISTER that must get a 401
        with a fresh (bare) challenge, sign in again on the same connection and send a
        signed refresh REGISTER that must get a signed 200 from the new SA
  flood --count N [--hold S]
        N first-step NTLM REGISTERs (gssapi-data="", each its own Call-ID) on one
        connection; prints "flood 401=a 503=b other=c"; then keeps the connection
        open S seconds
"""
import sys
import time

from sipae_sip import SipMessage, parse_auth, uri_of

sc = None  # the running sipae_client module (set by it: it may be __main__)


def _route_set(resp):
    """The UAC's route set: the Record-Route entries of the 2xx, in reverse order."""
    rr = []
    for v in resp.get_all("Record-Route"):
        rr += [x.strip() for x in v.split(",") if x.strip()]
    return list(reversed(rr))


def _in_dialog(client, method, target, routes, to, cseq, body=b"", ctype=None):
    msg = SipMessage("%s %s SIP/2.0" % (method, target))
    msg.headers += [("Via", client.via(branch=not client.no_branch))]
    msg.headers += [("Route", r) for r in routes]
    msg.headers += [
        ("From", "<%s>;tag=%s;epid=%s" % (client.aor, client.tag, client.epid)),
        ("To", to),
        ("Call-ID", client.dialog_call_id),
        ("CSeq", "%d %s" % (cseq, method)),
        ("Max-Forwards", "70"),
        ("User-Agent", "greenwich-sipae-testclient/1"),
    ]
    if ctype:
        msg.headers.append(("Content-Type", ctype))
    msg.body = body
    return client.sign(msg)


def cmd_dialog(client, args):
    resp = client.register()
    sc.show("REGISTER", resp)
    client.no_branch = args.no_branch
    client.dialog_call_id = sc.rand_hex(8) + "@" + sc.rand_hex(2)
    inv = client.request("INVITE", args.to, args.to, call_id=client.dialog_call_id,
                         body=b"v=0\r\n", ctype="application/sdp")
    client.sign(inv)
    resp = client.send_request(inv)
    sc.show("INVITE", resp)
    if resp.status != 200:
        raise sc.StatusError("INVITE: %s" % resp.start)
    target = uri_of(resp.get("Contact", ""))
    routes = _route_set(resp)
    to = resp.get("To")
    cseq = inv.cseq()[0]
    ack = _in_dialog(client, "ACK", target, routes, to, cseq)
    client.send_raw(ack)
    for n, (method, body) in enumerate((("MESSAGE", args.text.encode()), ("BYE", b"")), 1):
        req = _in_dialog(client, method, target, routes, to, cseq + n, body,
                         "text/plain; charset=UTF-8" if body else None)
        resp = client.send_request(req)
        sc.show("%s in dialog%s" % (method, " (no branch)" if client.no_branch else ""), resp)
        if resp.status >= 300:
            raise sc.StatusError("%s in dialog: %s" % (method, resp.start))
    return resp


def _idle(client, seconds):
    """Answer whatever the server sends for a while."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            msg = client.read_message(deadline)
        except sc.TransportError:
            if time.monotonic() >= deadline:
                return
            raise
        if msg.is_request:
            client.handle_request(msg)


def cmd_reauth(client, args):
    resp = client.register()
    sc.show("REGISTER", resp)
    old = client.sa
    print("signed-in scheme=%s opaque=%s" % (old.protocol, old.opaque))
    _idle(client, args.pause)
    req = client.register_request()
    resp = client.send_request(client.sign(req))
    sc.show("REGISTER after the pause", resp)
    if resp.status != 401:
        raise sc.StatusError("signed REGISTER with the old SA: %s, expected 401" % resp.start)
    c = client._challenge(resp, old.protocol)
    if c is None or "gssapi-data" in c or "opaque" in c:
        raise sc.ProtocolError("the 401 is not a fresh %s challenge" % old.protocol)
    client.sa = None
    resp = client.register()
    sc.show("REGISTER again", resp)
    if client.sa.opaque == old.opaque:
        raise sc.ProtocolError("the new sign-in kept the old opaque %s" % old.opaque)
    print("signed-in again opaque=%s" % client.sa.opaque)
    resp = client.send_request(client.sign(client.register_request()))
    sc.show("signed refresh REGISTER", resp)
    return resp


def cmd_flood(client, args):
    first = client.send_request(client.register_request())
    p = client._challenge(first, "NTLM")
    if first.status != 401 or p is None:
        raise sc.StatusError("no NTLM challenge: %s" % first.start)
    counts = {}
    for _ in range(args.count):
        client.call_id = sc.rand_hex(8) + "@" + sc.rand_hex(2)
        req = client.register_request()
        req.headers.append(("Authorization", client._auth_header(
            "NTLM", p["realm"], p["targetname"], "", p["version"])))
        resp = client.send_request(req)
        key = resp.status if resp.status in (401, 503) else "other"
        if resp.status == 401 and "gssapi-data" not in parse_auth(
                resp.get("WWW-Authenticate", "NTLM x"))[1]:
            key = "other"
        if resp.status == 503 and not resp.get("Retry-After"):
            key = "other"
        counts[key] = counts.get(key, 0) + 1
    print("flood 401=%d 503=%d other=%d" % (counts.get(401, 0), counts.get(503, 0),
                                           counts.get("other", 0)))
    client.last = SipMessage("SIP/2.0 200 flood done")
    if args.hold:
        print("holding")
        sys.stdout.flush()
        time.sleep(args.hold)
    return client.last


COMMANDS = {"dialog": cmd_dialog, "reauth": cmd_reauth, "flood": cmd_flood}


def add_parsers(sub):
    d = sub.add_parser("dialog", help="sign in, INVITE, then ACK/MESSAGE/BYE in the dialog")
    d.add_argument("--to", required=True)
    d.add_argument("--text", default="hello in dialog")
    d.add_argument("--no-branch", action="store_true",
                   help="in-dialog requests without a Via branch (RFC 2543, as pidgin-sipe)")
    r = sub.add_parser("reauth", help="sign in, idle, expect the SA to be gone, sign in again")
    r.add_argument("--pause", type=float, required=True, help="seconds to stay idle")
    f = sub.add_parser("flood", help="many first-step NTLM REGISTERs on one connection")
    f.add_argument("--count", type=int, default=50)
    f.add_argument("--hold", type=float, default=0, help="keep the connection open S s")
