#!/usr/bin/python3
"""pool_cases.py CASE ARGS... - scenarios of greenwichd on PostgreSQL, alone or
in a pool of front ends, with presua.py clients.  Users alice, bob, carol and
dave exist with the password "secret".  Prints one "ok - " or "FAILED - " line
per check; exits 1 when a check failed.

  stall PORT PID...   the database's processes (PIDS, started by the test) are
                      stopped with SIGSTOP in the middle: requests that need no
                      database write are still answered, on UDP and on TCP
"""
import os
import signal
import threading
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from presua import UA, pidf, publish, service  # noqa: E402

FAILS = 0


def check(desc, cond):
    global FAILS
    print(("ok - " if cond else "FAILED - ") + desc)
    if not cond:
        FAILS += 1
    return cond


def status(r):
    return r.status if r is not None else None


def message(frm, to_aor, text, timeout=3.0):
    return frm.request("MESSAGE", "sip:" + to_aor, ["Content-Type: text/plain"], text,
                       timeout=timeout)


def delivered(ua, text, timeout=3.0):
    return ua.wait_request(lambda m: m.method == "MESSAGE" and text in m.body, timeout)


def im(frm, to, text, timeout=4.0):
    """frm sends to (a UA) a MESSAGE; (final status, delivered to to's device)."""
    got = []
    t = threading.Thread(target=lambda: got.append(delivered(to, text, timeout)))
    t.start()
    r = message(frm, to.aor, text, timeout)
    t.join()
    return status(r), bool(got and got[0])


def case_stall(port, pids):
    alice = UA("alice", "secret", port, "udp")
    bob = UA("bob", "secret", port, "tcp")
    carol = UA("carol", "secret", port, "tcp")
    dave = UA("dave", "secret", port, "udp")
    for u in (alice, bob, carol):
        check("%s registered (%s)" % (u.user, u.transport), status(u.register()) == 200)
    for p in pids:
        os.kill(p, signal.SIGSTOP)
    try:
        t0 = time.time()
        r = publish(carol, pidf(carol.aor, "open", "busy"))
        check("a PUBLISH over TCP (worker 0) is answered while the database is stopped (%s)"
              % status(r), status(r) == 200)
        opt = UA("alice", "secret", port, "tcp")
        r = opt.request("OPTIONS", "sip:" + "example.test", timeout=2.0)
        check("OPTIONS over TCP answered (%s)" % status(r), r is not None and r.status < 500)
        r = UA("alice", "secret", port, "udp").request("OPTIONS", "sip:example.test", timeout=2.0)
        check("OPTIONS over UDP answered (%s)" % status(r), r is not None and r.status < 500)
        st, got = im(alice, bob, "while-stopped-1")
        check("alice's MESSAGE (Digest from the accounts in memory) answered 200 (%s)" % st,
              st == 200)
        check("bob received it over his TCP connection", got)
        st, got = im(bob, alice, "while-stopped-2")
        check("bob's MESSAGE over TCP answered 200 (%s)" % st, st == 200)
        check("alice received it", got)
        check("all of it within 8 s (%.1f s)" % (time.time() - t0), time.time() - t0 < 8)
        # a new binding must be durable before its 200: it waits for the database
        r = dave.register()
        check("dave's REGISTER is not answered 200 while the database is stopped (%s)"
              % status(r), status(r) != 200)
    finally:
        for p in pids:
            os.kill(p, signal.SIGCONT)
    r2 = dave.register()
    check("after the database continues dave registers (%s)" % status(r2), status(r2) == 200)
    r = service(carol, "setContact", '<m:displayName>Bob</m:displayName><m:groups>1</m:groups>'
                '<m:subscribed>true</m:subscribed><m:URI>bob@example.test</m:URI>')
    check("carol's setContact (answered once stored) gets 200 (%s)" % status(r),
          status(r) == 200)


def main():
    case = sys.argv[1]
    if case == "stall":
        case_stall(int(sys.argv[2]), [int(p) for p in sys.argv[3:]])
    else:
        print("unknown case " + case)
        sys.exit(2)
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()
