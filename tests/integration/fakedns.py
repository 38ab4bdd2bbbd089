#!/usr/bin/python3
"""A tiny authoritative DNS server for the federation test, on UDP and TCP.

usage: fakedns.py ADDR PORT RECORD...   RECORD: "name TYPE data" (e.g.
"_sips._tcp.partner.example.net SRV 0 0 5061 sip.partner.example.net." or
"sip.partner.example.net A 127.0.0.1").  Names with records of another type get
an empty NOERROR answer, other names NXDOMAIN.  "name DROP -" never answers
queries for name (a DNS server that is down, for that name).  Run it in a network namespace of
the test's own: it answers anyone who asks.
"""
import socket
import socketserver
import sys
import threading

import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

addr, port = sys.argv[1], int(sys.argv[2])
zone = {}
for rec in sys.argv[3:]:
    name, rtype, data = rec.split(None, 2)
    key = dns.name.from_text(name)
    zone.setdefault(key, []).append((rtype if rtype == "DROP" else dns.rdatatype.from_text(rtype),
                                     data))


def answer(wire):
    q = dns.message.from_wire(wire)
    r = dns.message.make_response(q)
    r.flags |= 0x0400  # authoritative
    qs = q.question[0]
    print("query %s %s" % (qs.name.to_text(), dns.rdatatype.to_text(qs.rdtype)), flush=True)
    recs = zone.get(qs.name)
    if recs and any(t == "DROP" for t, _ in recs):
        return None
    if recs is None:
        r.set_rcode(dns.rcode.NXDOMAIN)
        return r.to_wire()
    datas = [d for t, d in recs if t == qs.rdtype]
    if datas:
        r.answer.append(dns.rrset.from_text_list(qs.name, 60, dns.rdataclass.IN,
                                                  qs.rdtype, datas))
    return r.to_wire()


class Udp(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        out = answer(data)
        if out is not None:
            sock.sendto(out, self.client_address)


class Tcp(socketserver.BaseRequestHandler):
    def handle(self):
        n = int.from_bytes(self.request.recv(2), "big")
        out = answer(self.request.recv(n))
        if out is None:
            return
        self.request.sendall(len(out).to_bytes(2, "big") + out)


socketserver.UDPServer.allow_reuse_address = True
socketserver.TCPServer.allow_reuse_address = True
u = socketserver.UDPServer((addr, port), Udp)
t = socketserver.TCPServer((addr, port), Tcp)
threading.Thread(target=t.serve_forever, daemon=True).start()
print("ready", flush=True)
u.serve_forever()
