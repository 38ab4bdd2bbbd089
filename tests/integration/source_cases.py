#!/usr/bin/python3
"""source_cases.py CASE PORT SERVER - the per-source limits against IPv6
clients (t-source-v6.sh runs greenwichd in a network namespace of its own,
listening on SERVER, with these addresses on its loopback):
  2001:db8:5::10-14   one outsider's /64 (one host may send from any of them)
  2001:db8:6::1-2     users of another /64
greenwichd has connections-per-source = 2, guess-source-limit = 3 and
max-subscriptions-per-source = 2.  CASE remote: no internal networks, so the
/64 is one source; CASE internal: 2001:db8:5::/64 is internal, so each address
is its own.  Each limit is checked on the victim's side as well: a user of
another /64 still connects, signs in and gets her message.  Users alice, bob,
carol, dave, erin, frank, gina, with password "secret".
Prints one "ok - " or "FAILED - " line per check; exits 1 when one failed."""
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from presua import DOMAIN, UA  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from checks import check, exit_status, prefix, status  # noqa: E402

CASE = sys.argv[1]
PORT = int(sys.argv[2])
SERVER = sys.argv[3]
INTERNAL = CASE == "internal"
OUT = ["2001:db8:5::%x" % i for i in range(0x10, 0x15)]
OTHER = ["2001:db8:6::1", "2001:db8:6::2"]
WATCHERS = []
prefix("[%s] " % CASE)


def ua(user, local, password="secret", transport="udp"):
    return UA(user, password, PORT, transport, server=SERVER, local=local)


class Answering:
    """ua's device answers what comes to it (200) while the test waits elsewhere."""

    def __init__(self, device):
        self.device, self.done = device, False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.done:
            self.device.recv(0.1, on_request=True)

    def got(self):
        self.done = True
        self.thread.join()
        return [m.body for m in self.device.inbox if m.method == "MESSAGE"]


def connect(local):
    """A TCP connection from local; None when greenwichd closed it at once."""
    s = socket.create_connection((SERVER, PORT), timeout=3, source_address=(local, 0))
    time.sleep(0.3)
    s.setblocking(False)
    try:
        if s.recv(1) == b"":
            s.close()
            return None
    except BlockingIOError:
        return s  # open, nothing to read
    except OSError:
        s.close()
        return None
    return s


def case_connections():
    """connections-per-source = 2: three connections from three addresses of one /64."""
    held = [connect(OUT[0]), connect(OUT[1]), connect(OUT[2])]
    kept = [s is not None for s in held]
    if INTERNAL:
        check("three addresses of an internal /64 keep a connection each (kept %s)" % kept,
              kept == [True, True, True])
    else:
        check("the third address of the same /64 is refused: one source (kept %s)" % kept,
              kept == [True, True, False])
    # the victim's side: a user of another /64 connects, signs in and gets a message
    carol = ua("carol", OTHER[0], transport="tcp")
    r = carol.request("REGISTER", "sip:" + DOMAIN, ["Expires: 300"],
                      to="<sip:carol@%s>" % DOMAIN)
    check("carol from %s registers over TCP meanwhile: 200 (got %s)" % (OTHER[0], status(r)),
          status(r) == 200)
    alice = ua("alice", OTHER[1])
    device = Answering(carol)
    r = alice.request("MESSAGE", "sip:carol@" + DOMAIN, ["Content-Type: text/plain"],
                      "while-the-/64-holds-its-share")
    check("alice's MESSAGE to carol: 200 (got %s)" % status(r), status(r) == 200)
    got = device.got()
    check("... carol's device got it over her connection", got == ["while-the-/64-holds-its-share"])
    if INTERNAL:
        # the internal third connection is a real one: it signs in
        dave = UA("dave", "secret", PORT, "tcp", server=SERVER, local=OUT[3])
        r = dave.request("REGISTER", "sip:" + DOMAIN, ["Expires: 300"],
                         to="<sip:dave@%s>" % DOMAIN)
        check("dave from a fourth internal address signs in over TCP: 200 (got %s)" % status(r),
              status(r) == 200)
    for s in held:
        if s:
            s.close()


def case_guess():
    """guess-source-limit = 3: wrong passwords for three accounts from three addresses."""
    codes = []
    for user, local in (("dave", OUT[0]), ("erin", OUT[1]), ("frank", OUT[2])):
        r = ua(user, local, "not-the-password").request(
            "MESSAGE", "sip:bob@" + DOMAIN, ["Content-Type: text/plain"], "guess")
        codes.append((status(r), r.first.split(" ", 2)[2] if r else None))
    check("three wrong passwords from three addresses are checked: 403 each (got %s)" % codes,
          codes == [(403, "Authentication failed")] * 3)
    bob = ua("bob", OTHER[0])
    r = bob.request("REGISTER", "sip:" + DOMAIN, ["Expires: 300"], to="<sip:bob@%s>" % DOMAIN)
    check("bob from %s registers: 200 (got %s)" % (OTHER[0], status(r)), status(r) == 200)
    device = Answering(bob)
    r = ua("gina", OUT[3], "not-the-password").request(
        "MESSAGE", "sip:bob@" + DOMAIN, ["Content-Type: text/plain"], "fourth-guess")
    got = (status(r), r.first.split(" ", 2)[2] if r else None)
    if INTERNAL:
        check("a fourth internal address is its own source: its guess is checked (got %s)"
              % (got,), got == (403, "Authentication failed"))
    else:
        check("a fourth address of the same /64 is held back unchecked (got %s)" % (got,),
              got[0] == 403 and got[1] == "Too many failed sign-ins" and r.h("retry-after"))
    r = ua("gina", OUT[4]).request("MESSAGE", "sip:bob@" + DOMAIN,
                                   ["Content-Type: text/plain"], "right-password")
    want = 200 if INTERNAL else 403
    check("the right password from the outsider's /64: %d (got %s)" % (want, status(r)),
          status(r) == want)
    r = ua("gina", OTHER[1]).request("MESSAGE", "sip:bob@" + DOMAIN,
                                     ["Content-Type: text/plain"], "from-another-64")
    check("gina from another /64 gets through: 200 (got %s)" % status(r), status(r) == 200)
    got = device.got()
    want = ["right-password", "from-another-64"] if INTERNAL else ["from-another-64"]
    check("bob's device got exactly %s (got %s)" % (want, got), got == want)


def case_subscriptions():
    """max-subscriptions-per-source = 2: three watchers' SUBSCRIBEs from one /64."""
    codes = []
    for user, local in (("alice", OUT[0]), ("carol", OUT[1]), ("dave", OUT[2])):
        w = ua(user, local)
        WATCHERS.append(w)  # kept open: a NOTIFY to a closed port ends its subscription
        r = w.request("SUBSCRIBE", "sip:erin@" + DOMAIN,
                      ["Event: presence", "Expires: 300", "Accept: application/pidf+xml"])
        codes.append(status(r))
    if INTERNAL:
        check("three internal addresses subscribe: 200 each (got %s)" % codes,
              codes == [200, 200, 200])
    else:
        check("the third from the same /64 is refused 503: one source (got %s)" % codes,
              codes[:2] == [200, 200] and codes[2] == 503)
    w = ua("frank", OTHER[0])
    WATCHERS.append(w)
    r = w.request("SUBSCRIBE", "sip:erin@" + DOMAIN,
                  ["Event: presence", "Expires: 300", "Accept: application/pidf+xml"])
    check("frank from another /64 subscribes: 200 (got %s)" % status(r), status(r) == 200)
    # the victim's side: every accepted watcher gets its NOTIFY over IPv6 (before, a
    # NOTIFY to an IPv6 UDP watcher went to the IPv4 listener and failed: dropped)
    for w in WATCHERS:
        w.recv(0.5, on_request=True)
    notified = [w.user for w in WATCHERS if any(m.method == "NOTIFY" for m in w.inbox)]
    want = ["alice", "carol", "dave", "frank"] if INTERNAL else ["alice", "carol", "frank"]
    check("the accepted watchers got their NOTIFY over IPv6: %s (got %s)" % (want, notified),
          notified == want)


if CASE not in ("remote", "internal"):
    sys.exit("source_cases.py: CASE is remote or internal")
# guessing last: the outsider's /64 is held back from signing in afterwards
for f in (case_connections, case_subscriptions, case_guess):
    f()
sys.exit(exit_status())
