#!/usr/bin/env python3
"""bench/tlsidle.py - many signed-in TLS clients that stay connected and idle.

N clients (asyncio, one process) each open a TLS connection to the server,
REGISTER with Digest (MD5, qop=auth; the 401 answered on the same
connection), and then stay connected, sending a CRLFCRLF keep-alive (RFC 5626
section 4.4.1, what ms-keep-alive asks of Microsoft clients too) every
KEEPALIVE seconds, spread evenly.  Prints one line of key=value pairs:

  tls connected=N registered=N failed=F connect_s=S alive=N keepalives=K

--hold SECONDS keeps them connected that long after the last registration;
the caller measures the server's memory and CPU meanwhile (its pid file is
not needed here).  --ready FILE is created once every client has its 200 and
--go FILE, when given, is waited for before the keep-alive window is counted.

--messages RATE --message-seconds S (after the keep-alive window, between
--msg-ready and --msg-done files): MESSAGEs over TLS between signed-in
clients: client i of the first half sends, as caller-i@outside.test (a
foreign domain: neither server asks for credentials, as in the UDP MESSAGE
row), to the user of client i + N/2, which receives it over its own TLS
connection and answers 200; RATE per second in all for S seconds, each
MESSAGE waiting at most 4 s for its 200.  Adds to the line:

  messages=M answered=A msg_seconds=S

--per-source P spreads the clients over loopback source addresses, P each
(127.1.x.y), so that neither the ephemeral ports of one address (about
28,000) nor the server's connections-per-source cap limit how many connect;
--procs K runs the clients in K processes (one asyncio process cannot do
50,000 handshakes and their keep-alives in time): each takes its share of
the users, the MESSAGE rate and sends between its own clients; the line
printed is their sum.  Each process raises its descriptor limit to what it
needs when it may.

--churn SECONDS instead: the N clients each sign in on a new connection,
close it (every other time with a TCP reset) and start again, for that
long; prints

  churn signins=S failed=F seconds=T

(the server's memory before and after is the caller's to compare).

The server is addressed at 127.0.0.1.  Standard library only.
"""
import argparse
import asyncio
import hashlib
import os
import re
import resource
import socket
import ssl
import struct
import subprocess
import sys
import time


def password(user):
    return "pw-" + user


def md5(s):
    return hashlib.md5(s.encode()).hexdigest()


def source_addr(o, idx):
    """The loopback address client idx connects from (None: the default)."""
    if not o.per_source:
        return None
    s = idx // o.per_source
    return "127.1.%d.%d" % (s // 250, 1 + s % 250)


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= need:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(need, soft), max(need, hard)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Client:
    def __init__(self, o, user, idx):
        self.o, self.user, self.idx = o, user, idx
        self.reader = self.writer = None
        self.cseq = 0
        self.call_id = "%s-%d@tlsidle" % (os.urandom(6).hex(), idx)
        self.tag = os.urandom(4).hex()
        self.alive = False
        self.pending = {}  # Call-ID of a MESSAGE sent -> its future

    def request(self, auth=None):
        o = self.o
        self.cseq += 1
        lh, lp = self.writer.get_extra_info("sockname")[:2]
        uri = "sip:%s" % o.domain
        lines = [
            "REGISTER %s SIP/2.0" % uri,
            "Via: SIP/2.0/TLS %s:%d;branch=z9hG4bK%s;rport" % (lh, lp, os.urandom(6).hex()),
            "Max-Forwards: 70",
            "From: <sip:%s@%s>;tag=%s" % (self.user, o.domain, self.tag),
            "To: <sip:%s@%s>" % (self.user, o.domain),
            "Call-ID: %s" % self.call_id,
            "CSeq: %d REGISTER" % self.cseq,
            # churn: one binding per user, whatever connection it came over
            "Contact: <sip:%s@%s:%d;transport=tls>" % (self.user, lh, 5061 if o.churn else lp),
            "Expires: 3600",
        ]
        if auth:
            lines.append("Authorization: " + auth)
        lines += ["Content-Length: 0", "", ""]
        return "\r\n".join(lines).encode()

    async def response(self):
        head = await self.reader.readuntil(b"\r\n\r\n")
        text = head.decode(errors="replace")
        m = re.search(r"(?im)^(?:content-length|l)\s*:\s*(\d+)", text)
        if m and int(m.group(1)):
            await self.reader.readexactly(int(m.group(1)))
        status = int(text.split(" ", 2)[1])
        return status, text

    def digest(self, text):
        m = re.search(r"(?im)^www-authenticate\s*:\s*Digest\s+(.*)$", text)
        p = dict(re.findall(r'(\w+)="?([^",]*)"?', m.group(1)))
        uri = "sip:%s" % self.o.domain
        ha1 = md5("%s:%s:%s" % (self.user, p["realm"], password(self.user)))
        ha2 = md5("REGISTER:%s" % uri)
        cnonce, nc = os.urandom(4).hex(), "00000001"
        resp = md5("%s:%s:%s:%s:auth:%s" % (ha1, p["nonce"], nc, cnonce, ha2))
        return ('Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", '
                'algorithm=MD5, qop=auth, nc=%s, cnonce="%s"'
                % (self.user, p["realm"], p["nonce"], uri, resp, nc, cnonce))

    async def sign_in(self, ctx):
        o = self.o
        self.reader, self.writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", o.port, ssl=ctx,
                                    local_addr=(lambda a: a and (a, 0))(source_addr(o, self.idx))),
            30)
        self.writer.write(self.request())
        status, text = await asyncio.wait_for(self.response(), 30)
        if status == 401:
            self.writer.write(self.request(self.digest(text)))
            status, text = await asyncio.wait_for(self.response(), 30)
        if status != 200:
            raise RuntimeError("REGISTER answered %d" % status)
        self.alive = True

    async def keepalive(self, period, offset, stop, counter):
        await asyncio.sleep(offset)
        while not stop.is_set():
            try:
                self.writer.write(b"\r\n\r\n")
                await self.writer.drain()
                counter[0] += 1
            except (OSError, ConnectionError):
                self.alive = False
                return
            try:
                await asyncio.wait_for(stop.wait(), period)
            except asyncio.TimeoutError:
                pass

    async def drain_input(self):
        """Read what the server sends: keep-alive answers (CRLF), requests
        (answered 200) and the answers to our MESSAGEs.  A closed connection
        marks the client dead."""
        buf = b""
        try:
            while True:
                data = await self.reader.read(65536)
                if not data:
                    break
                buf += data
                while True:
                    buf = buf.lstrip(b"\r\n")
                    end = buf.find(b"\r\n\r\n")
                    if end < 0:
                        break
                    head = buf[:end].decode(errors="replace")
                    m = re.search(r"(?im)^(?:content-length|l)\s*:\s*(\d+)", head)
                    blen = int(m.group(1)) if m else 0
                    if len(buf) < end + 4 + blen:
                        break
                    buf = buf[end + 4 + blen:]
                    self.on_message(head)
        except (OSError, ConnectionError, asyncio.IncompleteReadError):
            pass
        self.alive = False

    def on_message(self, head):
        lines = head.split("\r\n")
        if lines[0].startswith("SIP/2.0 "):
            m = re.search(r"(?im)^(?:call-id|i)\s*:\s*(\S+)", head)
            fut = self.pending.pop(m.group(1), None) if m else None
            if fut is not None and not fut.done():
                fut.set_result(int(lines[0].split(" ", 2)[1]))
            return
        if lines[0].startswith("ACK "):
            return
        keep = [x for x in lines[1:] if re.match(r"(?i)(via|v|from|f|to|t|call-id|i|cseq)\s*:",
                                                  x)]
        out = ["SIP/2.0 200 OK"]
        for x in keep:
            if re.match(r"(?i)(to|t)\s*:", x) and ";tag=" not in x:
                x += ";tag=" + self.tag
            out.append(x)
        out += ["Content-Length: 0", "", ""]
        try:
            self.writer.write("\r\n".join(out).encode())
        except (OSError, ConnectionError):
            self.alive = False

    async def message(self, to_user, n):
        """One MESSAGE to to_user; True when answered 200 within 4 s."""
        o = self.o
        lh, lp = self.writer.get_extra_info("sockname")[:2]
        call_id = "m%d-%d-%s@tlsidle" % (self.idx, n, os.urandom(3).hex())
        body = "Benchmark message %d." % n
        req = "\r\n".join([
            "MESSAGE sip:%s@%s SIP/2.0" % (to_user, o.domain),
            "Via: SIP/2.0/TLS %s:%d;branch=z9hG4bK%s;rport" % (lh, lp, os.urandom(6).hex()),
            "Max-Forwards: 70",
            "From: <sip:caller%d@outside.test>;tag=%s" % (self.idx, self.tag),
            "To: <sip:%s@%s>" % (to_user, o.domain),
            "Call-ID: %s" % call_id,
            "CSeq: 1 MESSAGE",
            "Content-Type: text/plain",
            "Content-Length: %d" % len(body), "", body]).encode()
        fut = asyncio.get_running_loop().create_future()
        self.pending[call_id] = fut
        try:
            self.writer.write(req)
            return await asyncio.wait_for(fut, 4) == 200
        except (asyncio.TimeoutError, OSError, ConnectionError):
            self.pending.pop(call_id, None)
            return False


async def churn(o, ctx):
    """Sign in, close, again, on every client until o.churn seconds passed."""
    done, failed, errors = [0], [0], []
    end = time.monotonic() + o.churn

    async def loop(c):
        k = 0
        while time.monotonic() < end:
            k += 1
            try:
                await c.sign_in(ctx)
                done[0] += 1
            except Exception as e:  # counted and reported
                failed[0] += 1
                if len(errors) < 3:
                    errors.append("%s: %r" % (c.user, e))
            if c.writer is not None:
                if k % 2:
                    sock = c.writer.get_extra_info("socket")
                    if sock is not None:  # a reset instead of a close_notify and FIN
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                        struct.pack("ii", 1, 0))
                    c.writer.transport.abort()
                else:
                    c.writer.close()
                    try:
                        await asyncio.wait_for(c.writer.wait_closed(), 5)
                    except (asyncio.TimeoutError, OSError, ConnectionError, ssl.SSLError):
                        pass
            c.writer = c.reader = None

    t0 = time.monotonic()
    await asyncio.gather(*(loop(Client(o, "u%06d" % i, i))
                           for i in range(o.first, o.first + o.n)))
    for e in errors:
        print("tlsidle: " + e, file=sys.stderr)
    print("churn signins=%d failed=%d seconds=%.1f" % (done[0], failed[0], time.monotonic() - t0),
          flush=True)
    return 0 if failed[0] == 0 and done[0] > 0 else 1


async def main_async(o):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if o.churn:
        return await churn(o, ctx)
    raise_nofile(o.n + 64)
    clients = [Client(o, "u%06d" % i, i) for i in range(o.first, o.first + o.n)]
    sem = asyncio.Semaphore(o.parallel)
    failed = [0]
    first_errors = []

    async def one(c):
        async with sem:
            try:
                await c.sign_in(ctx)
            except Exception as e:  # counted and reported
                failed[0] += 1
                if len(first_errors) < 3:
                    first_errors.append("%s: %r" % (c.user, e))

    t0 = time.monotonic()
    await asyncio.gather(*(one(c) for c in clients))
    connect_s = time.monotonic() - t0
    up = [c for c in clients if c.alive]
    readers = [asyncio.ensure_future(c.drain_input()) for c in up]
    if o.ready:
        open(o.ready, "w").close()
    if o.go:
        while not os.path.exists(o.go):
            await asyncio.sleep(0.1)
    stop = asyncio.Event()
    counter = [0]
    kas = [asyncio.ensure_future(c.keepalive(o.keepalive, o.keepalive * i / max(1, len(up)),
                                             stop, counter)) for i, c in enumerate(up)]
    await asyncio.sleep(o.hold)
    stop.set()
    await asyncio.gather(*kas)
    alive = sum(1 for c in up if c.alive)
    msg, msg_ok = "", True
    if o.messages and len(up) >= 2:
        half = len(up) // 2
        if o.msg_ready:
            while not os.path.exists(o.msg_ready):
                await asyncio.sleep(0.1)
        total = int(o.messages * o.message_seconds)
        results = []
        t0 = time.monotonic()
        for k in range(total):
            delay = t0 + k / o.messages - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            c = up[k % half]
            results.append(asyncio.ensure_future(c.message(up[k % half + half].user, k)))
        answered = sum(1 for r in await asyncio.gather(*results) if r)
        msg_s = time.monotonic() - t0
        if o.msg_done:
            open(o.msg_done, "w").close()
        msg = " messages=%d answered=%d msg_seconds=%.1f" % (total, answered, msg_s)
        msg_ok = answered >= total * 0.999
    for c in up:
        c.writer.close()
    for r in readers:
        r.cancel()
    for e in first_errors:
        print("tlsidle: " + e, file=sys.stderr)
    print("tls connected=%d registered=%d failed=%d connect_s=%.1f alive=%d keepalives=%d%s"
          % (o.n, len(up), failed[0], connect_s, alive, counter[0], msg), flush=True)
    return 0 if failed[0] == 0 and alive == len(up) and msg_ok else 1


def several(o, argv):
    """--procs K: K processes of this script, each with its share of the
    clients and of the MESSAGE rate; their ready files stand for ours, and
    their result lines are summed into one."""
    k = o.procs
    share = [o.n // k + (1 if i < o.n % k else 0) for i in range(k)]
    skip = {"--procs", "-n", "--first", "--ready", "--msg-done", "--messages"}
    base, it = [], iter(argv)
    for a in it:
        if a.split("=")[0] in skip:
            if "=" not in a:
                next(it, None)
            continue
        base.append(a)
    tag = "%d" % os.getpid()
    ready = ["%s.%d" % (o.ready or "/tmp/tlsidle-%s.ready" % tag, i) for i in range(k)]
    done = ["%s.%d" % (o.msg_done or "/tmp/tlsidle-%s.done" % tag, i) for i in range(k)]
    for f in ready + done:
        if os.path.exists(f):
            os.unlink(f)
    procs, first = [], o.first
    for i in range(k):
        cmd = [sys.executable, os.path.abspath(__file__)] + base + [
            "-n", str(share[i]), "--first", str(first), "--ready", ready[i],
            "--msg-done", done[i], "--messages", str(o.messages / k)]
        first += share[i]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True))

    def wait_files(files):
        while not all(os.path.exists(f) for f in files):
            if any(p.poll() is not None for p in procs):
                return False
            time.sleep(0.1)
        return True

    if wait_files(ready) and o.ready:
        open(o.ready, "w").close()
    if o.messages and wait_files(done) and o.msg_done:
        open(o.msg_done, "w").close()
    total, rc = {}, 0
    for p in procs:
        out, _ = p.communicate()
        rc = rc or p.returncode
        for line in out.splitlines():
            if line.startswith("tls "):
                for kv in line.split()[1:]:
                    key, v = kv.split("=")
                    total[key] = max(total.get(key, 0), float(v)) if key in (
                        "connect_s", "msg_seconds") else total.get(key, 0) + float(v)
    for f in ready + done:
        if os.path.exists(f):
            os.unlink(f)
    keys = ["connected", "registered", "failed", "connect_s", "alive", "keepalives"]
    if o.messages:
        keys += ["messages", "answered", "msg_seconds"]
    print("tls " + " ".join(("%s=%.1f" if k in ("connect_s", "msg_seconds") else "%s=%d")
                            % (k, total.get(k, 0)) for k in keys), flush=True)
    return rc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--domain", default="example.test")
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("--first", type=int, default=0, help="the first client's user number")
    ap.add_argument("--per-source", type=int, default=0,
                    help="clients per loopback source address (0: all from the default)")
    ap.add_argument("--procs", type=int, default=1, help="client processes")
    ap.add_argument("--churn", type=float, default=0,
                    help="sign in, close, again, for this many seconds")
    ap.add_argument("--parallel", type=int, default=50, help="sign-ins in progress at once")
    ap.add_argument("--keepalive", type=float, default=10.0)
    ap.add_argument("--hold", type=float, default=10.0)
    ap.add_argument("--ready", default=None)
    ap.add_argument("--go", default=None)
    ap.add_argument("--messages", type=float, default=0, help="MESSAGEs per second")
    ap.add_argument("--message-seconds", type=float, default=5)
    ap.add_argument("--msg-ready", default=None)
    ap.add_argument("--msg-done", default=None)
    o = ap.parse_args()
    if o.procs > 1:
        return several(o, sys.argv[1:])
    return asyncio.run(main_async(o))


if __name__ == "__main__":
    sys.exit(main())
