#!/usr/bin/python3
"""bench/signin/tokens.py - inputs for the anchor (anchor.c): what clients send.

  anchor challenges N ... | tokens.py ntlm USER DOMAIN PASSWORD > ntlm.txt
      for each line "CHAL-HEX CHALLENGE-MESSAGE-HEX" greenwichd's library made, a
      line "CHAL-HEX AUTHENTICATE-HEX": the NTLMv2 AUTHENTICATE a client computes
      (tests/sipae/sipae_ntlm.py).
  tokens.py krb N sip/FQDN > krb.txt
      N lines of AP-REQ hex for sip/FQDN from the default credential cache, each a
      new context (fresh authenticator, so no replay).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "sipae"))
import sipae_ntlm as ntlm  # noqa: E402


def main():
    if sys.argv[1] == "ntlm":
        user, domain, password = sys.argv[2:5]
        for line in sys.stdin:
            chal, msg = line.split()
            c = ntlm.Challenge(bytes.fromhex(msg))
            a = ntlm.authenticate(c, user, domain, password, "BENCH")
            print(chal, a.message.hex())
        return 0
    import gssapi
    n = int(sys.argv[2])
    target = gssapi.Name(sys.argv[3].replace("/", "@", 1), gssapi.NameType.hostbased_service)
    for _ in range(n):
        ctx = gssapi.SecurityContext(name=target, mech=gssapi.MechType.kerberos,
                                     usage="initiate", flags=gssapi.RequirementFlag.integrity)
        print(ctx.step().hex())
    return 0


if __name__ == "__main__":
    sys.exit(main())
