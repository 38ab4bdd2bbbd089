#!/usr/bin/python3
"""Unit checks of the test client's pieces that need no server and no DC:
[MS-NLMP] 4.2.4 NTLMv2 test vectors, the AUTHENTICATE layout, the MS-SIPAE signed
string (the three version 3 examples of the protocol brief, rebuilt from messages),
framing and header parsing. Prints 'ok - ...' lines; exit status 1 if any failed."""
import base64
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sipae_ntlm as ntlm  # noqa: E402
import sipae_sip as sip  # noqa: E402
from Cryptodome.Cipher import ARC4  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import checks  # noqa: E402



def check(what, got, want):
    checks.check(what, got == want, "got  %r\n  want %r" % (got, want))


def nlmp_vectors():
    """[MS-NLMP] 4.2.1 / 4.2.4: user User, domain Domain, password Password."""
    key = ntlm.nt_owf_v2("User", "Domain", "Password")
    check("NTOWFv2", key.hex(), "0c868a403bfd7a93a3001ef22ef02e3f")
    ti = (struct.pack("<HH", 2, 12) + ntlm.utf16("Domain") + struct.pack("<HH", 1, 12) +
          ntlm.utf16("Server") + b"\0" * 4)
    lm, nt, base = ntlm.ntlmv2_responses(key, bytes.fromhex("0123456789abcdef"), ti, 0,
                                         b"\xaa" * 8)
    check("LMv2 response", lm.hex(), "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa")
    check("NTProofStr", nt[:16].hex(), "68cd0ab851e51c96aabc927bebef6a1c")
    check("SessionBaseKey", base.hex(), "8de40ccadbc14a82f15cb0ad0de95ca3")
    check("EncryptedRandomSessionKey", ntlm.rc4(base, b"\x55" * 16).hex(),
          "c5dad2544fc9799094ce1ce90bc9d03e")
    keys = ntlm.Keys(b"\x55" * 16)
    check("ClientSignKey", keys.client_sign.hex(), "4788dc861b4782f35d43fd98fe1a2d39")
    check("ClientSealKey", keys.client_seal.hex(), "59f600973cc4960a25480a7c196e4c58")
    # 4.2.4.4: connection-oriented seal+sign of "Plaintext", seq 0: the same HMAC-MD5
    # checksum as our connectionless MAC, but RC4 continues after the sealed text.
    handle = ARC4.new(keys.client_seal)
    text = ntlm.utf16("Plaintext")
    check("sealed Plaintext", handle.encrypt(text).hex(), "54e50165bf1936dc996020c1811b0f06fb5f")
    cks = handle.encrypt(ntlm.hmac_md5(keys.client_sign, b"\0\0\0\0" + text)[:8])
    check("checksum of Plaintext", cks.hex(), "7fb38ec5c55d4976")


def challenge_bytes(flags=0xE2998255):
    av = b""
    for av_id, val in ((2, ntlm.utf16("CORP")), (1, ntlm.utf16("GREENWICH")),
                       (4, ntlm.utf16("corp.example.com")),
                       (3, ntlm.utf16("greenwich.corp.example.com")),
                       (7, struct.pack("<Q", 133000000000000000)), (0, b"")):
        av += struct.pack("<HH", av_id, len(val)) + val
    name = ntlm.utf16("CORP")
    head = (ntlm.SIGNATURE + struct.pack("<I", 2) + struct.pack("<HHI", len(name), len(name), 56) +
            struct.pack("<I", flags) + b"\x11" * 8 + b"\0" * 8 +
            struct.pack("<HHI", len(av), len(av), 56 + len(name)) + b"\x06\x01\xb1\x1d\0\0\0\x0f")
    return head + name + av


def authenticate_layout():
    ch = ntlm.Challenge(challenge_bytes())
    check("well-formed challenge has no problems", ch.problems(), [])
    check("challenge without KEY_EXCH is refused",
          bool(ntlm.Challenge(challenge_bytes(0xE2998255 & ~ntlm.KEY_EXCH)).problems()), True)
    a = ntlm.authenticate(ch, "alice", "CORP", "Apple-Pie-11", "client1")
    m = a.message
    check("AUTHENTICATE type 3", struct.unpack_from("<I", m, 8)[0], 3)
    check("negotiated flags as sipe's", hex(struct.unpack_from("<I", m, 60)[0]), "0x62988255")
    check("version 5.1.2600", m[64:72].hex(), "0501280a0000000f")
    offs = [struct.unpack_from("<HHI", m, o) for o in (12, 20, 28, 36, 44, 52)]
    check("payload starts at 72 (no MIC)", offs[0][2], 72)
    fields = [m[o:o + n] for n, _x, o in offs]
    check("domain CORP", fields[2], ntlm.utf16("CORP"))
    check("user alice", fields[3], ntlm.utf16("alice"))
    check("workstation upper case", fields[4], ntlm.utf16("CLIENT1"))
    check("encrypted session key decrypts to exported key",
          ntlm.rc4(a.session_base_key, fields[5]), a.exported_session_key)
    check("blob carries the server's TargetInfo", ch.target_info in fields[1], True)
    check("blob timestamp is the server's", fields[1][24:32], ch.av(ntlm.AV_TIMESTAMP))
    keys = ntlm.Keys(a.exported_session_key)
    sig = ntlm.sign_hex(keys.client_sign, keys.client_seal, 100, b"<x>")
    check("signature: version 1, seq 100, upper-case hex",
          (sig[:8], sig[24:], sig == sig.upper(), len(sig)), ("01000000", "64000000", True, 32))
    check("server and client keys differ", keys.server_sign != keys.client_sign, True)


def msg(text):
    f = sip.Framer()
    f.feed(text.replace("\n", "\r\n").encode())
    return f.next()


def signed_examples():
    """The brief's three verified strings, rebuilt from messages that would carry them."""
    common = ("SIP Communications Service", "sip1.corp.example.com")
    alice = "sip:alice@corp.example.com"
    examples = [  # (what, message, rand, num, expected string)
        ("client SUBSCRIBE",
         "SUBSCRIBE %s SIP/2.0\nVia: SIP/2.0/TCP 127.0.0.1:5\nFrom: <%s>;tag=1192126416;"
         "epid=0101\nTo: <%s>\nCall-ID: 417Fg\u2026F258x\nCSeq: 1 SUBSCRIBE\n"
         "Content-Length: 0\n\n" % (alice, alice, alice), "6f392fd1", "1",
         "<NTLM><6f392fd1><1><SIP Communications Service><sip1.corp.example.com>"
         "<417Fg\u2026F258x><1><SUBSCRIBE><sip:alice@corp.example.com><1192126416>"
         "<sip:alice@corp.example.com><><><><>"),
        ("server 200/REGISTER",
         "SIP/2.0 200 OK\nVia: SIP/2.0/TCP 127.0.0.1:5\nFrom: <%s>;tag=1731560621;epid=0a0b\n"
         "To: <%s>;tag=167D62FE\nCall-ID: 5252g\u2026DD9Dx\nCSeq: 3 REGISTER\n"
         "Expires: 7200\nContent-Length: 0\n\n" % (alice, alice), "0AD12EE0", "1",
         "<NTLM><0AD12EE0><1><SIP Communications Service><sip1.corp.example.com>"
         "<5252g\u2026DD9Dx><3><REGISTER><sip:alice@corp.example.com><1731560621>"
         "<sip:alice@corp.example.com><167D62FE><><><7200><200>"),
        ("server NOTIFY",
         "NOTIFY sip:alice@127.0.0.1:5;transport=tcp SIP/2.0\nFrom: <%s>;tag=167D62FE\n"
         "To: <%s>;tag=393136223;epid=01\nCall-ID: 57F9g\u20260FB9x\nCSeq: 1 NOTIFY\n"
         "Event: presence\nContent-Length: 0\n\n" % (alice, alice), "EB4AB750", "3",
         "<NTLM><EB4AB750><3><SIP Communications Service><sip1.corp.example.com>"
         "<57F9g\u20260FB9x><1><NOTIFY><sip:alice@corp.example.com><167D62FE>"
         "<sip:alice@corp.example.com><393136223><><><>"),
    ]
    for what, text, rand, num, want in examples:
        m = msg(text)
        check(what + " string", sip.signed_string(m, "NTLM", rand, num, *common), want)
    reg = msg(examples[1][1])
    check("version 2 layout (13 fields, no To URL/PAI)",
          sip.signed_string(reg, "NTLM", "r", "1", *common, version=2).count("<"), 13)
    pai = msg("MESSAGE sip:b@x SIP/2.0\nFrom: sip:a@x;tag=9\nTo: \"B\" <sip:b@x>\n"
              "P-Preferred-Identity: <sip:p@x>\nP-Asserted-Identity: \"A\" <sip:a@x>, <tel:+1234>\n"
              "Call-ID: c\nCSeq: 2 MESSAGE\nExpires: 5\nContent-Length: 2\n\nhi")
    check("PAI sip+tel, From without <>", sip.signed_string(pai, "Kerberos", "r", "7", "R", "T"),
          "<Kerberos><r><7><R><T><c><2><MESSAGE><sip:a@x><9><sip:b@x><><sip:a@x><tel:+1234><5>")


def parsing():
    f = sip.Framer()
    f.feed(b"\r\n\r\nSIP/2.0 100 Trying\r\nCSeq: 1 X\r\nContent-Length: 0\r\n\r\n"
           b"MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 3\r\n\r\nab")
    first = f.next()
    check("framer: keep-alive skipped, first message", first.status, 100)
    check("framer: waits for the whole body", f.next(), None)
    f.feed(b"c")
    check("framer: body by Content-Length", f.next().body, b"abc")
    f.feed(b"SIP/2.0 200 OK\r\nContent-Type: text/plain\r\n\r\n")
    try:
        f.next()
        check("missing Content-Length is an error", "accepted", "error")
    except sip.SipParseError:
        check("missing Content-Length is an error", "error", "error")
    scheme, p = sip.parse_auth('NTLM rspauth="0100", srand="A1", snum="2", opaque="x,y", '
                               'qop="auth", version=3')
    check("auth header parse", (scheme, p["srand"], p["snum"], p["opaque"], p["version"]),
          ("NTLM", "A1", "2", "x,y", "3"))
    check("sipe-style rand/num",
          sip.sipe_style_rand_num('NTLM crand="1", cnum="2", srand="3", snum="4"'), ("1", "2"))
    check("gssapi-data base64 round trip", base64.b64decode(base64.b64encode(b"\0\1")), b"\0\1")
    m = sip.SipMessage("MESSAGE sip:b@x SIP/2.0", [("To", "<sip:b@x>"),
                                                   ("Content-Length", "99")], b"hey")
    check("encode rewrites Content-Length", m.encode().endswith(b"Content-Length: 3\r\n\r\nhey"),
          True)


if __name__ == "__main__":
    nlmp_vectors()
    authenticate_layout()
    signed_examples()
    parsing()
    print("%d failed" % len(checks.FAILED))
    sys.exit(checks.exit_status())
