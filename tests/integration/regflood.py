#!/usr/bin/python3
"""Many REGISTERs with Digest (MD5) in flight over UDP, for the durability and
overload tests.  Each registration binds contact sip:USER@127.0.0.1:(10000+i)
with its own Call-ID.

usage: regflood.py PORT USER PASSWORD DOMAIN COUNT MODE ARG OUT
  MODE kill:  ARG is a pid file; once COUNT/4 registrations got 200, that
              process is killed with SIGKILL at once; OUT gets the contacts
              answered 200 (every one of them was sent before the kill).
              Unanswered requests are retransmitted every 0.5 s.
  MODE count: send, retransmitting each unanswered request every ARG seconds,
              until every registration has a final answer; OUT gets one line
              per final status of the authenticated leg or of a refused first leg.
  MODE retry: as count, but a 503 with Retry-After is not final: that
              registration starts again (a new challenge) once the Retry-After
              has passed, as a client honours it (RFC 3261 21.5.4).
"""
import hashlib
import os
import re
import signal
import socket
import sys
import time

port, user, pw, dom = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
count, mode, arg, out = int(sys.argv[5]), sys.argv[6], sys.argv[7], sys.argv[8]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
lport = s.getsockname()[1]
aor = "sip:%s@%s" % (user, dom)


def md5(x):
    return hashlib.md5(x.encode()).hexdigest()


def request(i, cseq, auth=""):
    return ("REGISTER sip:%s SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-%d-%d;rport\r\n"
            "Max-Forwards: 70\r\nFrom: <%s>;tag=f%d\r\nTo: <%s>\r\n"
            "Call-ID: flood-%d-%d@127.0.0.1\r\nCSeq: %d REGISTER\r\n"
            "Contact: <sip:%s@127.0.0.1:%d>\r\nExpires: 600\r\n%s"
            "Content-Length: 0\r\n\r\n" % (dom, lport, i, cseq, aor, i, aor, os.getpid(), i,
                                            cseq, user, 10000 + i, auth)).encode()


def answer(i, chal):
    realm = re.search(r'realm="([^"]*)"', chal).group(1)
    nonce = re.search(r'nonce="([^"]*)"', chal).group(1)
    uri = "sip:" + dom
    ha1, ha2 = md5("%s:%s:%s" % (user, realm, pw)), md5("REGISTER:" + uri)
    cn = "c%d" % i
    resp = md5("%s:%s:00000001:%s:auth:%s" % (ha1, nonce, cn, ha2))
    return ('Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", '
            'response="%s", algorithm=MD5, qop=auth, nc=00000001, cnonce="%s"\r\n'
            % (user, realm, nonce, uri, resp, cn))


pending = {}  # i -> (datagram, sent at)
final = {}    # i -> status of the last leg
for i in range(count):
    pending[i] = (request(i, 1), 0.0)
killed = False
kill_after = max(1, count // 4)
deadline = time.time() + 60
retrans = float(arg) if mode in ("count", "retry") else 0.5
honoured = 0
while pending and time.time() < deadline:
    now = time.time()
    for i, (d, at) in list(pending.items()):
        if at == 0.0 or (retrans and now - at > retrans):
            s.sendto(d, ("127.0.0.1", port))
            pending[i] = (d, now)
    s.settimeout(0.2 if not killed else 1.0)
    try:
        pkt = s.recv(65535).decode(errors="replace")
    except socket.timeout:
        if killed:
            break
        continue
    status = int(pkt.split(" ", 2)[1])
    i = int(re.search(r"Call-ID: flood-\d+-(\d+)@", pkt).group(1))
    cseq = int(re.search(r"CSeq: (\d+)", pkt).group(1))
    if i not in pending or status < 200:
        continue
    if status == 401 and cseq == 1:
        chal = re.search(r"WWW-Authenticate: (.*)\r\n", pkt).group(1)
        pending[i] = (request(i, 2, answer(i, chal)), 0.0)
        continue
    after = re.search(r"Retry-After: (\d+)", pkt)
    if mode == "retry" and status == 503 and after:
        # sent again from the start once Retry-After has passed (the loop above
        # sends a request whose time lies retrans seconds back)
        pending[i] = (request(i, 1), time.time() + int(after.group(1)) - retrans)
        honoured += 1
        continue
    del pending[i]
    final[i] = status
    if mode == "kill" and not killed and sum(1 for v in final.values() if v == 200) >= kill_after:
        os.kill(int(open(arg).read().split()[0]), signal.SIGKILL)
        killed = True

with open(out, "w") as f:
    for i, st in sorted(final.items()):
        if mode == "kill":
            if st == 200:
                f.write("sip:%s@127.0.0.1:%d\n" % (user, 10000 + i))
        else:
            f.write("%d\n" % st)
print("final=%d pending=%d killed=%s honoured=%d" % (len(final), len(pending), killed, honoured))
