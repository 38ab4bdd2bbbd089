#!/usr/bin/python3
"""Checks the test client's NTLM and Kerberos halves against a real AD DC (no SIP server).

Run inside the DC's domain (tests/addc/addc.sh run-with-hosts):

  sipae_dccheck.py ntlm USER NTLM-DOMAIN PASSWORD [--expect-refused]
      builds a connectionless CHALLENGE like a SIP server would, lets the client answer
      it, and hands challenge and responses to `ntlm_auth --helper-protocol=ntlm-server-1`
      (the DC's winbindd): the DC must accept them and return the same user session key
      as the client's own SessionBaseKey (or refuse them, with --expect-refused).
  sipae_dccheck.py kerberos TARGETNAME PRINCIPAL PASSWORD KEYTAB
      the client's initiator gets a token for TARGETNAME (sip/FQDN); an acceptor process
      (this script, 'accept' mode, KRB5_KTNAME=KEYTAB set only there) must accept it in
      one step, and MICs must verify both ways (and a tampered one must not).
Prints 'ok - ...' / 'FAILED - ...' lines; exit status 1 on any failure.
"""
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sipae_ntlm as ntlm  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from checks import check, exit_status  # noqa: E402

def server_challenge(nb_domain, dns_domain):
    """A CHALLENGE_MESSAGE as the brief asks a SIP server for (flags 0xE2998255)."""
    pairs = [(ntlm.AV_NB_DOMAIN, ntlm.utf16(nb_domain)),
             (ntlm.AV_NB_COMPUTER, ntlm.utf16("GREENWICH")),
             (ntlm.AV_DNS_DOMAIN, ntlm.utf16(dns_domain)),
             (ntlm.AV_DNS_COMPUTER, ntlm.utf16("greenwich." + dns_domain)),
             (ntlm.AV_TIMESTAMP, struct.pack("<Q", ntlm.filetime_now())),
             (ntlm.AV_EOL, b"")]
    info = b"".join(struct.pack("<HH", i, len(v)) + v for i, v in pairs)
    name = ntlm.utf16(nb_domain)
    msg = (ntlm.SIGNATURE + struct.pack("<I", 2) +
           struct.pack("<HHI", len(name), len(name), 56) + struct.pack("<I", 0xE2998255) +
           os.urandom(8) + b"\0" * 8 + struct.pack("<HHI", len(info), len(info), 56 + len(name)) +
           b"\x06\x01\xb1\x1d\0\0\0\x0f" + name + info)
    return ntlm.Challenge(msg)


def ntlm_auth_verify(challenge, auth, user, domain):
    """Ask the DC (ntlm_auth, ntlm-server-1 protocol): (authenticated, session key hex)."""
    req = ("LANMAN-Challenge: %s\nNT-Response: %s\nLANMAN-Response: %s\nUsername: %s\n"
           "NT-Domain: %s\nRequest-User-Session-Key: Yes\n.\n" % (
               challenge.server_challenge.hex(), auth.nt_response.hex(),
               auth.lm_response.hex(), user, domain))
    out = subprocess.run(["ntlm_auth", "--helper-protocol=ntlm-server-1"], input=req,
                         capture_output=True, text=True, timeout=30)
    answer = {}
    for line in out.stdout.splitlines():
        key, _, val = line.partition(": ")
        answer[key] = val
    return answer.get("Authenticated") == "Yes", answer.get("User-Session-Key", ""), out.stdout


def cmd_ntlm(user, domain, password, expect_refused):
    ch = server_challenge(domain or os.environ.get("ADDC_DOMAIN", "CORP"),
                          os.environ.get("ADDC_DNS_DOMAIN", "corp.example.com"))
    check("the check's challenge is acceptable to the client", not ch.problems())
    auth = ntlm.authenticate(ch, user, domain, password, "SIPAE-TEST")
    ok, key, raw = ntlm_auth_verify(ch, auth, user, domain)
    who = "%s\\%s" % (domain, user) if domain else user
    if expect_refused:
        check("DC refuses the NTLMv2 response of %s (wrong password or account refused)" % who, not ok, raw)
        return
    check("DC accepts the client's NTLMv2 response for %s" % who, ok, raw)
    check("DC's user session key == client's SessionBaseKey (%s)" % who,
          key.lower() == auth.session_base_key.hex(), "DC %s, client %s" % (
              key, auth.session_base_key.hex()))


def cmd_kerberos(targetname, principal, password, keytab):
    from sipae_client import CredentialError, KerberosSA, kerberos_context
    try:
        kerberos_context(targetname, principal, password + "-wrong")
        check("no Kerberos token with a wrong password", False)
    except CredentialError as e:
        check("no Kerberos token with a wrong password (%s)" % str(e).split("\n")[0][:60], True)
    ctx, token = kerberos_context(targetname, principal, password)
    check("initiator token for %s is a framed AP-REQ (starts 0x60)" % targetname,
          token[:1] == b"\x60")
    check("initiator context complete after one token (no mutual auth)", ctx.complete)
    env = dict(os.environ, KRB5_KTNAME="FILE:" + keytab)
    acc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "accept"], env=env,
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    acc.stdin.write(token.hex() + "\n")
    acc.stdin.flush()
    status, name, server_mic = acc.stdout.readline().split()
    check("acceptor completes the context in one step", status == "complete", status)
    check("acceptor sees the client as %s" % principal, name == principal, name)
    sa = KerberosSA("SIP Communications Service", targetname, "1", 3, ctx)
    check("client verifies the acceptor's MIC", sa.verify(b"<server-string>", server_mic))
    check("client refuses a MIC over another string", not sa.verify(b"<other>", server_mic))
    acc.stdin.write(sa.sign(b"<client-string>") + "\n")
    acc.stdin.flush()
    check("acceptor verifies the client's MIC", acc.stdout.readline().strip() == "mic-ok")
    acc.stdin.close()
    check("acceptor exits 0", acc.wait(timeout=30) == 0)


def cmd_accept():
    """Acceptor side (KRB5_KTNAME set by the caller): one token in, MICs both ways."""
    import gssapi
    ctx = gssapi.SecurityContext(creds=gssapi.Credentials(usage="accept"), usage="accept")
    ctx.step(bytes.fromhex(sys.stdin.readline().strip()))
    print("%s %s %s" % ("complete" if ctx.complete else "incomplete", ctx.initiator_name,
                        ctx.get_signature(b"<server-string>").hex()), flush=True)
    mic = bytes.fromhex(sys.stdin.readline().strip())
    try:
        ctx.verify_signature(b"<client-string>", mic)
        print("mic-ok", flush=True)
    except gssapi.exceptions.GSSError as e:
        print("mic-bad %s" % e, flush=True)


def main(argv):
    if argv[:1] == ["accept"]:
        cmd_accept()
        return 0
    if len(argv) >= 4 and argv[0] == "ntlm":
        cmd_ntlm(argv[1], argv[2], argv[3], "--expect-refused" in argv[4:])
    elif len(argv) == 5 and argv[0] == "kerberos":
        cmd_kerberos(*argv[1:])
    else:
        print(__doc__, file=sys.stderr)
        return 4
    return exit_status()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
