#!/usr/bin/python3
"""Write the seed corpora of fuzz/corpus/<target>/ from what the tests use.

Run from anywhere: /usr/bin/python3 fuzz/make-corpus.py.  The files are checked in;
run this again only to change the seeds.  Needs python3-pycryptodome (as the
sign-in tests do) for the NTLM messages.
"""
import base64
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "tests", "sipae"))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))

import sipae_ntlm as ntlm  # noqa: E402
from presua import pidf, soap  # noqa: E402


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def challenge_message():
    """A CHALLENGE as greenwichd sends it (flags 0xE2998255, names in TargetInfo)."""
    def av(i, v):
        return struct.pack("<HH", i, len(v)) + v
    ti = (av(ntlm.AV_NB_DOMAIN, ntlm.utf16("CORP")) + av(ntlm.AV_NB_COMPUTER, ntlm.utf16("GREENWICH"))
          + av(ntlm.AV_DNS_DOMAIN, ntlm.utf16("corp.example.com"))
          + av(ntlm.AV_DNS_COMPUTER, ntlm.utf16("greenwich.corp.example.com"))
          + av(ntlm.AV_TIMESTAMP, struct.pack("<Q", 133000000000000000)) + av(ntlm.AV_EOL, b""))
    name = ntlm.utf16("CORP")
    hdr = 56
    msg = (ntlm.SIGNATURE + struct.pack("<I", 2) + struct.pack("<HHI", len(name), len(name), hdr)
           + struct.pack("<I", 0xE2998255) + bytes(range(1, 9)) + b"\0" * 8
           + struct.pack("<HHI", len(ti), len(ti), hdr + len(name)) + b"\x06\x01\xb1\x1d\0\0\0\x0f")
    return msg + name + ti


def ntlm_seeds():
    ch = ntlm.Challenge(challenge_message())
    for i, (user, dom, ws) in enumerate([("alice", "CORP", "ws1"), ("bob@corp.example.com", "", "laptop"),
                                          ("carol", "CORP", "")]):
        a = ntlm.authenticate(ch, user, dom, "Passw0rd!", ws, client_challenge=bytes(8),
                              exported_key=bytes(range(16)))
        put("ntlm", "authenticate-%d" % i, a.message)
    return ntlm.authenticate(ch, "alice", "CORP", "Passw0rd!", "ws1", client_challenge=bytes(8),
                             exported_key=bytes(range(16))).message


def pac_seeds():
    src = open(os.path.join(TOP, "sipae", "tests", "test_sipae_pac.c")).read()
    m = re.search(r"carol_logon_info\[\] =(.*?);", src, re.S)
    put("pac", "carol-logon-info", bytes.fromhex("".join(re.findall(r'"([0-9A-F]+)"', m.group(1)))))


def der(tag, content):
    """One DER element (definite length)."""
    n = len(content)
    if n < 0x80:
        ln = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        ln = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + ln + content


def krb_seeds():
    """GSS initial context tokens around an AP-REQ (RFC 4121; RFC 4120 5.3, 5.5.1): the
    structure greenwichd walks, with made-up ciphertext (the parse never decrypts)."""
    def gstr(s):
        return der(0x1b, s.encode())

    def integer(v):
        return der(0x02, bytes([v]))

    def enc(etype, kvno, cipher):
        return der(0x30, der(0xa0, integer(etype)) + der(0xa1, integer(kvno)) + der(0xa2, der(0x04, cipher)))

    def token(realm, names, auth_cipher, ticket_first=True):
        sname = der(0x30, der(0xa0, integer(2)) + der(0xa1, der(0x30, b"".join(gstr(n) for n in names))))
        ticket = der(0x61, der(0x30, der(0xa0, integer(5)) + der(0xa1, gstr(realm)) + der(0xa2, sname)
                               + der(0xa3, enc(18, 2, bytes(range(64))))))
        parts = [der(0xa0, integer(5)), der(0xa1, integer(14)), der(0xa2, der(0x03, b"\x00\x00\x00\x00\x00"))]
        t, a = der(0xa3, ticket), der(0xa4, enc(18, 0, auth_cipher))
        parts += [t, a] if ticket_first else [a, t]
        apreq = der(0x6e, der(0x30, b"".join(parts)))
        oid = der(0x06, bytes([0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02]))
        return der(0x60, oid + b"\x01\x00" + apreq)

    put("krb", "sip-ticket", token("CORP.EXAMPLE.COM", ["sip", "greenwich.corp.example.com"], bytes(100)))
    put("krb", "http-ticket", token("CORP.EXAMPLE.COM", ["HTTP", "greenwich.corp.example.com"], b"\x5a" * 300))
    put("krb", "authenticator-first", token("CORP.EXAMPLE.COM", ["sip", "x"], bytes(8), ticket_first=False))


def pool_seeds():
    """X-Greenwich-Pool values as a front end writes them, and as tests/integration/pool_cases.py
    forges them."""
    mac = "0123456789abcdef" * 4
    put("pool", "hop", "fe=fe1;ts=1800000000;user=alice@example.test;mac=" + mac)
    put("pool", "unsigned", "fe=fe1;ts=1800000000;user=alice@example.test")
    put("pool", "lowest-time", "fe=fe1;ts=-9223372036854775808;user=a@b;mac=" + "0" * 64)
    put("pool", "mixed", "MAC=" + mac + "; x=1; User=bob@b;TS=5; Fe=fe2")


def sip(start, headers, body=""):
    h = list(headers) + ["Content-Length: %d" % len(body.encode())]
    return start + "\r\n" + "".join(x + "\r\n" for x in h) + "\r\n" + body


BASE = ["Via: SIP/2.0/TLS 192.0.2.10:50000;branch=z9hG4bK-1;rport",
        "Max-Forwards: 70",
        "From: <sip:alice@corp.example.com>;tag=1a2b;epid=01010101",
        "To: <sip:alice@corp.example.com>",
        "Call-ID: 0123456789abcdef@192.0.2.10"]


def sipae_seeds(auth_msg):
    put("sipae", "register-ntlm-empty", sip("REGISTER sip:corp.example.com SIP/2.0", BASE + [
        "CSeq: 1 REGISTER", "Contact: <sip:192.0.2.10:50000;transport=tls>;methods=\"INVITE\"",
        'Authorization: NTLM qop="auth", realm="SIP Communications Service", '
        'targetname="greenwich.corp.example.com", gssapi-data="", version=3']))
    put("sipae", "register-ntlm-auth", sip("REGISTER sip:corp.example.com SIP/2.0", BASE + [
        "CSeq: 2 REGISTER", "Contact: <sip:192.0.2.10:50000;transport=tls>",
        'Authorization: NTLM qop="auth", opaque="1A2B3C4D", realm="SIP Communications Service", '
        'targetname="greenwich.corp.example.com", gssapi-data="%s", version=3'
        % base64.b64encode(auth_msg).decode()]))
    put("sipae", "register-kerberos", sip("REGISTER sip:corp.example.com SIP/2.0", BASE + [
        "CSeq: 1 REGISTER",
        'Proxy-Authorization: Kerberos qop="auth", realm="SIP Communications Service", '
        'targetname="sip/greenwich.corp.example.com", gssapi-data="YIIFAAYJKoZIhvcSAQICAQBu", '
        'version=3']))
    put("sipae", "message-signed", sip("MESSAGE sip:bob@corp.example.com SIP/2.0", [
        BASE[0], BASE[1], "From: \"Alice <x>\" <sip:alice@corp.example.com>;tag=1a2b",
        "To: <sip:bob@corp.example.com>", BASE[4], "CSeq: 3 MESSAGE",
        "P-Asserted-Identity: \"Alice\" <sip:alice@corp.example.com>, <tel:+15551234>",
        "P-Preferred-Identity: <sips:alice@corp.example.com>", "Expires: 60",
        'Authorization: NTLM qop="auth", opaque="1A2B3C4D", realm="SIP Communications Service", '
        'targetname="greenwich.corp.example.com", crand="0a1b2c3d", cnum="5", '
        'response="0100000000000000E1A2B3C4D5E6F70805000000"',
        "Content-Type: text/plain"], "hello"))
    put("sipae", "response-200", sip("SIP/2.0 200 OK", BASE[:1] + [
        BASE[2], "To: <sip:bob@corp.example.com>;tag=99", BASE[4], "CSeq: 3 MESSAGE"]))


def policy_seeds():
    src = open(os.path.join(TOP, "policy", "tests", "test_fuzz.c")).read()
    m = re.search(r"sample\[\] =(.*?);\n", src, re.S)
    text = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1)))
    text = text.encode().decode("unicode_escape")
    put("policy", "sample-set", text)
    put("policy", "one-rule", 'rule "internet-im-to-support" priority 100 {\n\tclass im;\n'
        '\tfrom zone external;\n\tto group Support;\n\taction deny 403 "Not from the Internet";\n}\n')
    put("policy", "federation", "# partners\nallow partner.example\nblock spam.example.org\n")


def pidf_seeds():
    put("pidf", "open", pidf("bob@example.test"))
    put("pidf", "busy-note", pidf("bob@example.test", activity="busy", note="in a meeting"))
    put("pidf", "closed", pidf("bob@example.test", basic="closed"))
    put("pidf", "brb-other", '<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" '
        'xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="sip:a@b"><tuple id="1"><status>'
        '<basic>open</basic></status></tuple><tuple id="2"><status><basic>closed</basic></status>'
        '<note>gone &amp; back</note></tuple><rpid:activities><rpid:other>be-right-back</rpid:other>'
        '</rpid:activities></presence>')


def soap_seeds():
    put("soap", "setPresence", soap("setPresence", '<m:presentity m:uri="sip:alice@corp.example.com">'
        '<m:availability m:aggregate="300" m:description=""/><m:activity m:aggregate="600" '
        'm:description=""/><m:userInfo><m:note>lunch</m:note><m:state>do-not-disturb</m:state>'
        '</m:userInfo></m:presentity>'))
    put("soap", "setContact", soap("setContact", "<m:displayName>Bob</m:displayName>"
        "<m:groups>1 2</m:groups><m:subscribed>true</m:subscribed><m:URI>bob@corp.example.com</m:URI>"
        "<m:externalURI/>"))
    put("soap", "addGroup", soap("addGroup", "<m:name>Friends</m:name><m:externalURI/>"))
    put("soap", "deleteGroup", soap("deleteGroup", "<m:groupID>2</m:groupID>"))
    put("soap", "setACE", soap("setACE", "<m:type>USER</m:type><m:mask>sip:eve@other.test</m:mask>"
        "<m:rights>BD</m:rights>"))


def conf_seeds():
    put("conf", "example", open(os.path.join(TOP, "packaging", "greenwich.conf.example")).read())
    put("conf", "test-server", "[server]\nudp = 127.0.0.1:5070\ntcp = 127.0.0.1:5070\n"
        "domains = example.test, corp.example\nworkers = 2\n[registrar]\nmin-expires = 60\n"
        "max-expires = 7200\n[auth]\nrealm = example.test\nschemes = NTLM, Digest\n"
        "digest-algorithms = SHA-256, MD5\n[proxy]\nroutes = helpdesk@example.test=sip:127.0.0.1:5300\n"
        "[policy]\ninternal-networks = 10.0.0.0/8, 192.168.0.0/16\n"
        "[federation]\nallow = partner.example\n")


def control_seeds():
    put("control", "status", '{"cmd":"status"}\n')
    put("control", "session", '{"cmd":"registrations"}\n{"cmd":"registrations","aor":"alice@corp.example.com"}\n'
        '{"cmd":"signout","aor":"bob@corp.example.com"}\n{"cmd":"loglevel","level":"info"}\n')
    put("control", "presence", '{"cmd":"presence-changed","aor":"alice@corp.example.com","list":"acl"}\n'
        '{"cmd":"presence","aor":"alice@corp.example.com"}\n{"cmd":"connections"}\n'
        '{"cmd":"reload"}\n[1,2]\n{"cmd":7}\n')


def kit_seeds():
    src = open(os.path.join(TOP, "sdk", "tests", "test_sipmsg.c")).read()
    m = re.search(r"invite\[\] =(.*?);\n", src, re.S)
    put("kit", "invite", "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1)))
        .encode().decode("unicode_escape"))
    via = "Via: SIP/2.0/UDP 127.0.0.1:5080;branch=z9hG4bK-2"
    put("kit", "register-digest", sip("REGISTER sip:helpdesk.test SIP/2.0", [
        via, "Max-Forwards: 70", "From: <sip:op1@helpdesk.test>;tag=r1", "To: <sip:op1@helpdesk.test>",
        "Call-ID: reg-1@127.0.0.1", "CSeq: 2 REGISTER", "Contact: <sip:op1@127.0.0.1:5080>;expires=300",
        'Authorization: Digest username="op1", realm="helpdesk.test", nonce="' + "0" * 72 + '", '
        'uri="sip:helpdesk.test", response="0123456789abcdef0123456789abcdef", algorithm=MD5, '
        'qop=auth, nc=00000001, cnonce="c1"']))
    put("kit", "bye-in-dialog", sip("BYE sip:op1@127.0.0.1:5080 SIP/2.0", [
        "Via: SIP/2.0/TCP 127.0.0.1:5070;branch=z9hG4bK-3", "Route: <sip:127.0.0.1:5301;transport=tcp;lr>",
        "Max-Forwards: 70", "From: <sip:caller@example.com>;tag=a1", "To: <sip:helpdesk@helpdesk.test>;tag=b2",
        "Call-ID: call-1@example.com", "CSeq: 2 BYE"]))
    put("kit", "message", sip("MESSAGE sip:helpdesk@helpdesk.test SIP/2.0", [
        via, "Max-Forwards: 3", "From: \"Op\" <sip:op1@helpdesk.test>;tag=m1", "To: <sip:helpdesk@helpdesk.test>",
        "Call-ID: msg-1@127.0.0.1", "CSeq: 1 MESSAGE", "Route: <sip:[::1]:5302;transport=tls;lr>, <sip:192.0.2.7;lr>",
        'Proxy-Authorization: Digest username="op1", realm="helpdesk.test", nonce="abc", '
        'uri="sip:helpdesk@helpdesk.test", response="0123456789ABCDEF0123456789ABCDEF", qop=auth, '
        'nc=00000002, cnonce="c2"', "Content-Type: text/plain"], "printer on fire"))


if __name__ == "__main__":
    auth = ntlm_seeds()
    pac_seeds()
    krb_seeds()
    sipae_seeds(auth)
    policy_seeds()
    pidf_seeds()
    soap_seeds()
    conf_seeds()
    control_seeds()
    kit_seeds()
    pool_seeds()
