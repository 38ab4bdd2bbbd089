#!/usr/bin/python3
"""bench/signin/load.py - MS-SIPAE sign-ins per second against a running greenwichd.

PROCS processes, each signing in over and over for SECONDS with the independent
test client (tests/sipae/sipae_client.py): a new TCP connection, REGISTER, the
401 challenge(s), the signed REGISTER answered 200.  Each process is one device
(one +sip.instance, kept across its sign-ins, as a client that reconnects
keeps it), so each sign-in replaces that device's binding: the user has PROCS
devices, not one more per sign-in.  Kerberos uses the default
credential cache (a TGT got once; the service ticket is cached after the first
sign-in), so the DC sees AP-REQs checked by greenwichd, not AS exchanges.
Prints one line: scheme, sign-ins, failures, seconds, rate, greenwichd's CPU
(utime+stime of PID's threads) per sign-in in microseconds, and the clients' own
CPU (percent of one core, all processes: when it nears the core count the
clients, not greenwichd, are the limit).

  load.py --server 127.0.0.1:PORT --domain D --user alice --ntlm-domain CORP \\
          --password P --scheme ntlm|kerberos|kerberos-tls --procs 4 --seconds 10 \\
          --pid GWDPID [--tls]

kerberos-tls: Kerberos over TLS (--tls), a new connection and a full TLS
handshake (no session resumption) for every sign-in.
ntlm-resumed, kerberos-resumed: the same over TLS, each new connection resuming
the TLS session of the process's last one (its ticket, as a client that
reconnects offers it), so the handshake costs no certificate key operation; the
line adds resumed=N, and a run in which no connection was resumed fails.
"""
import argparse
import multiprocessing
import os
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "sipae"))
import sipae_client  # noqa: E402

HZ = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        rest = f.read().rsplit(")", 1)[1].split()
    return int(rest[11]) + int(rest[12])


def worker(o, until, out):
    host, port = o.server.rsplit(":", 1)
    ok = failed = resumed = 0
    device = session = None
    scheme = o.scheme.split("-")[0]  # kerberos-tls, *-resumed: the same exchange
    resume = o.scheme.endswith("-resumed")
    while time.monotonic() < until:
        c = sipae_client.Client(host, int(port), o.domain, o.user,
                                None if scheme == "kerberos" else o.password,
                                scheme=scheme, ntlm_domain=o.ntlm_domain, timeout=10,
                                tls=o.tls)
        if device is None:
            device = (c.instance, c.ms_opaque)
        c.instance, c.ms_opaque = device  # the same device, reconnecting
        c.tls_session = session
        try:
            c.connect()
            c.register()
            ok += 1
            resumed += c.tls_resumed
            if resume and o.tls:
                session = c.sock.session  # with the tickets that came meanwhile
        except Exception as e:  # count it and go on
            failed += 1
            if failed <= 3:
                print("sign-in failed: %s" % e, file=sys.stderr)
        finally:
            c.close()
    out.put((ok, failed, resumed))


def main():
    ap = argparse.ArgumentParser()
    for a in ("--server", "--domain", "--user", "--password", "--scheme"):
        ap.add_argument(a, required=True)
    ap.add_argument("--ntlm-domain", default="")
    ap.add_argument("--tls", action="store_true", help="TLS (certificate not verified)")
    ap.add_argument("--procs", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--pid", type=int, required=True)
    o = ap.parse_args()
    q = multiprocessing.Queue()
    c0, t0 = cpu_ticks(o.pid), time.monotonic()
    until = t0 + o.seconds
    ps = [multiprocessing.Process(target=worker, args=(o, until, q)) for _ in range(o.procs)]
    for p in ps:
        p.start()
    res = [q.get() for _ in ps]
    for p in ps:
        p.join()
    wall = time.monotonic() - t0
    ok, failed = sum(r[0] for r in res), sum(r[1] for r in res)
    resumed = sum(r[2] for r in res)
    cpu = (cpu_ticks(o.pid) - c0) / HZ
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    client = (ru.ru_utime + ru.ru_stime) / wall * 100  # % of one core, all clients
    print("signin scheme=%s ok=%d failed=%d seconds=%.1f rate=%.1f cpu_us=%.0f client_cpu=%.0f"
          " resumed=%d" % (o.scheme, ok, failed, wall, ok / wall, cpu * 1e6 / ok if ok else 0,
                           client, resumed))
    if o.scheme.endswith("-resumed") and not resumed:
        print("no TLS session was resumed", file=sys.stderr)
        return 1
    return 0 if ok and failed <= ok * 0.001 else 1


if __name__ == "__main__":
    sys.exit(main())
