#!/usr/bin/env python3
"""Send one RFC 4475/5118 torture message to greenwichd, byte-exact but for the
top Via and the Request-URI host, and print what came back: the status code of
the first final answer, "none" when nothing came within the timeout, or
"closed" when a TCP connection was closed without an answer.

usage: torture.py send PORT udp|tcp FILE DOMAIN [timeout]
       torture.py pipeline PORT DOMAIN COUNT [METHOD]

The top Via's sent-by becomes 127.0.0.1:<our port> (its transport token is
kept: a Via that names another transport than the one used is part of some
tests) so that an answer finds its way back; a Request-URI host of
example.com/.net/.org becomes DOMAIN, so that nothing is addressed off the
machine.  With TORTURE_FROM=user@domain the From URI becomes that user's.

pipeline: COUNT requests (OPTIONS to the server by default) written at once on
one TCP connection; prints how many were answered (each Call-ID once)."""
import os
import re
import socket
import sys
import threading
import time

VERBOSE = bool(os.environ.get("TORTURE_VERBOSE"))
EXAMPLE = re.compile(rb"(?<=[@:])[A-Za-z0-9.-]*example\.(?:com|net|org)\b")


def rewrite(data, lport, domain):
    head, sep, rest = data.partition(b"\r\n")
    if not head.startswith(b"SIP/"):
        head = EXAMPLE.sub(domain.encode(), head)
    # the top Via, folded or not: SIP/x.y/PROTO sent-by -- only sent-by changes
    top = re.search(rb"(?:^|\r\n)(?:via|v)[ \t]*:", rest, re.I)
    if top:
        m = re.compile(rb"SIP\s*/\s*[\d.]+\s*/\s*[A-Za-z]+\s+([^;,\s]+)", re.I).search(
            rest, top.end())
        if m:
            rest = rest[:m.start(1)] + b"127.0.0.1:%d" % lport + rest[m.end(1):]
    sender = os.environ.get("TORTURE_FROM")
    if sender:
        # the From URI becomes one of our users: a request that would be
        # challenged (407) shows whether syntax was judged first
        m = re.search(rb"(?:^|\r\n)(?:from|f)[ \t]*:[^\r]*?(sip:[^>;\s]+)", rest, re.I)
        if m:
            rest = rest[:m.start(1)] + b"sip:" + sender.encode() + rest[m.end(1):]
    return head + sep + rest


def first_final(text):
    """Status codes of the complete responses in text (a stream)."""
    codes = []
    for m in re.finditer(rb"(?:^|\r\n)SIP/2\.0 (\d{3}) ", text):
        codes.append(int(m.group(1)))
    return codes


def send_udp(port, data, domain, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.sendto(rewrite(data, s.getsockname()[1], domain), ("127.0.0.1", port))
    s.settimeout(timeout)
    end = time.time() + timeout
    try:
        while time.time() < end:
            pkt, _ = s.recvfrom(65535)
            for code in first_final(pkt):
                if code >= 200:
                    if VERBOSE:
                        sys.stderr.write(pkt.split(b"\r\n", 1)[0].decode(errors="replace") + "\n")
                    return str(code)
    except socket.timeout:
        pass
    return "none"


def send_tcp(port, data, domain, timeout):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(rewrite(data, s.getsockname()[1], domain))
    s.settimeout(timeout)
    got = b""
    end = time.time() + timeout
    try:
        while time.time() < end:
            chunk = s.recv(65535)
            if not chunk:
                return "closed"
            got += chunk
            for code in first_final(got):
                if code >= 200:
                    if VERBOSE:
                        line = re.search(rb"SIP/2\.0 \d{3} [^\r]*", got).group(0)
                        sys.stderr.write(line.decode(errors="replace") + "\n")
                    return str(code)
    except socket.timeout:
        pass
    finally:
        s.close()
    return "none"


def pipeline(port, domain, count, method):
    s = socket.create_connection(("127.0.0.1", port))
    lport = s.getsockname()[1]
    reqs = []
    for i in range(count):
        reqs.append(
            ("%s sip:%s SIP/2.0\r\n"
             "Via: SIP/2.0/TCP 127.0.0.1:%d;branch=z9hG4bK-pipe%d\r\n"
             "Max-Forwards: 70\r\n"
             "From: <sip:pipe@%s>;tag=p%d\r\n"
             "To: <sip:%s>\r\n"
             "Call-ID: pipe-%d@test\r\n"
             "CSeq: 1 %s\r\n"
             "Content-Length: 0\r\n\r\n") % (method, domain, lport, i, domain, i, domain, i,
                                             method))
    seen = set()
    buf = [b""]

    def reader():
        s.settimeout(15)
        try:
            while len(seen) < count:
                chunk = s.recv(65536)
                if not chunk:
                    return
                buf[0] += chunk
                for m in re.finditer(rb"Call-ID: pipe-(\d+)@test", buf[0]):
                    seen.add(int(m.group(1)))
                # keep only the unfinished tail
                cut = buf[0].rfind(b"\r\n\r\n")
                if cut >= 0:
                    buf[0] = buf[0][cut + 4:]
        except socket.timeout:
            pass

    t = threading.Thread(target=reader)
    t.start()
    s.sendall("".join(reqs).encode())
    t.join()
    s.close()
    return len(seen)


def main():
    if sys.argv[1] == "pipeline":
        port, domain, count = int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
        method = sys.argv[5] if len(sys.argv) > 5 else "OPTIONS"
        print(pipeline(port, domain, count, method))
        return
    port, proto, path, domain = int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
    timeout = float(sys.argv[6]) if len(sys.argv) > 6 else 2.0
    with open(path, "rb") as f:
        data = f.read()
    if proto == "udp":
        print(send_udp(port, data, domain, timeout))
    else:
        print(send_tcp(port, data, domain, timeout))


main()
