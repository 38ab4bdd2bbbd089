"""NTLM for the MS-SIPAE test client: connectionless NTLMv2 as a SIP client does it.

Written from [MS-NLMP] for Greenwich's tests; it does not use any Greenwich code, so
that it can catch the server's mistakes. Needs python3-pycryptodome (MD4, ARC4).

Only what a SIP client needs: parse a CHALLENGE_MESSAGE, build the AUTHENTICATE_MESSAGE
(NTLMv2 response, KEY_EXCH, no MIC), derive the signing and sealing keys and make or
check the 16-byte connectionless MAC.
"""
import hashlib
import hmac
import os
import struct
import time

from Cryptodome.Cipher import ARC4
from Cryptodome.Hash import MD4

SIGNATURE = b"NTLMSSP\0"

# NegotiateFlags [MS-NLMP 2.2.2.5]
UNICODE = 0x00000001
REQUEST_TARGET = 0x00000004
SIGN = 0x00000010
DATAGRAM = 0x00000040
NTLM = 0x00000200
ALWAYS_SIGN = 0x00008000
TARGET_TYPE_DOMAIN = 0x00010000
EXTENDED_SESSIONSECURITY = 0x00080000
IDENTIFY = 0x00100000
TARGET_INFO = 0x00800000
VERSION = 0x02000000
NEG_128 = 0x20000000
KEY_EXCH = 0x40000000
NEG_56 = 0x80000000

# What a SIP client refuses to do without (the challenge must carry all of these).
REQUIRED_FLAGS = (UNICODE | NTLM | ALWAYS_SIGN | EXTENDED_SESSIONSECURITY | TARGET_INFO |
                  SIGN | DATAGRAM | IDENTIFY | KEY_EXCH)
# What the client answers with (the flags seen from pidgin-sipe: 0x62988255).
CLIENT_FLAGS = REQUIRED_FLAGS | REQUEST_TARGET | VERSION | NEG_128

# AV pair ids [MS-NLMP 2.2.2.1]
AV_EOL = 0
AV_NB_COMPUTER = 1
AV_NB_DOMAIN = 2
AV_DNS_COMPUTER = 3
AV_DNS_DOMAIN = 4
AV_FLAGS = 6
AV_TIMESTAMP = 7
AV_TARGET_NAME = 9
AV_CHANNEL_BINDINGS = 10
AV_FLAG_MIC = 0x2
AV_NAMES = {0: "EOL", 1: "NbComputerName", 2: "NbDomainName", 3: "DnsComputerName",
            4: "DnsDomainName", 5: "DnsTreeName", 6: "Flags", 7: "Timestamp",
            8: "SingleHost", 9: "TargetName", 10: "ChannelBindings"}
REQUIRED_AV = (AV_NB_DOMAIN, AV_NB_COMPUTER, AV_DNS_DOMAIN, AV_DNS_COMPUTER, AV_TIMESTAMP)

C2S_SIGN = b"session key to client-to-server signing key magic constant\0"
S2C_SIGN = b"session key to server-to-client signing key magic constant\0"
C2S_SEAL = b"session key to client-to-server sealing key magic constant\0"
S2C_SEAL = b"session key to server-to-client sealing key magic constant\0"


class NtlmError(Exception):
    """The server's NTLM message is unusable (a server mistake)."""


def md4(data):
    return MD4.new(data).digest()


def md5(data):
    return hashlib.md5(data).digest()


def hmac_md5(key, data):
    return hmac.new(key, data, hashlib.md5).digest()


def rc4(key, data):
    return ARC4.new(key).encrypt(data)


def utf16(text):
    return text.encode("utf-16-le")


def nt_owf_v2(user, domain, password):
    """NTOWFv2: HMAC_MD5(MD4(UNICODE(password)), UNICODE(Upper(user) + domain))."""
    return hmac_md5(md4(utf16(password)), utf16(user.upper() + domain))


def _field(msg, off):
    """The payload bytes named by the 8-byte (len, maxlen, offset) field at off."""
    length, _maxlen, where = struct.unpack_from("<HHI", msg, off)
    if where + length > len(msg):
        raise NtlmError("field at %d points outside the message" % off)
    return msg[where:where + length]


def parse_av_pairs(blob):
    """TargetInfo -> list of (id, value bytes); raises NtlmError when malformed."""
    pairs = []
    pos = 0
    while True:
        if pos + 4 > len(blob):
            raise NtlmError("TargetInfo ends without MsvAvEOL")
        av_id, av_len = struct.unpack_from("<HH", blob, pos)
        pos += 4
        if pos + av_len > len(blob):
            raise NtlmError("TargetInfo pair %d overruns" % av_id)
        pairs.append((av_id, blob[pos:pos + av_len]))
        pos += av_len
        if av_id == AV_EOL:
            return pairs


class Challenge:
    """A parsed CHALLENGE_MESSAGE [MS-NLMP 2.2.1.2]."""

    def __init__(self, raw):
        if len(raw) < 48 or raw[:8] != SIGNATURE:
            raise NtlmError("not an NTLMSSP message")
        if struct.unpack_from("<I", raw, 8)[0] != 2:
            raise NtlmError("message type %d, not CHALLENGE" % struct.unpack_from("<I", raw, 8)[0])
        self.raw = raw
        self.flags = struct.unpack_from("<I", raw, 20)[0]
        self.server_challenge = raw[24:32]
        self.target_name = _field(raw, 12)
        self.target_info = _field(raw, 40) if len(raw) >= 48 else b""
        self.pairs = parse_av_pairs(self.target_info) if self.target_info else []

    def av(self, av_id):
        for i, v in self.pairs:
            if i == av_id:
                return v
        return None

    def problems(self):
        """What a SIP client would refuse in this challenge (list of texts)."""
        out = []
        missing = REQUIRED_FLAGS & ~self.flags
        if missing:
            out.append("challenge NegotiateFlags 0x%08X lack required 0x%08X" %
                       (self.flags, missing))
        if not self.target_info:
            out.append("challenge has no TargetInfo")
        for av_id in REQUIRED_AV:
            if self.av(av_id) is None:
                out.append("TargetInfo lacks MsvAv%s" % AV_NAMES[av_id])
        if struct.unpack_from("<I", self.raw, 44)[0] < 56 and self.target_info:
            out.append("payload starts before byte 56 (no Version field)")
        return out


def filetime_now():
    return int((time.time() + 11644473600) * 10000000)


class Authenticated:
    """Result of building an AUTHENTICATE_MESSAGE: the message and the client's keys."""

    def __init__(self, message, session_base_key, exported_key, flags, lm, nt):
        self.message = message
        self.session_base_key = session_base_key
        self.exported_session_key = exported_key
        self.flags = flags
        self.lm_response = lm
        self.nt_response = nt


def _payload_fields(header_len, items):
    """(fields bytes, payload bytes) for items laid out after a header of header_len."""
    fields = b""
    payload = b""
    for item in items:
        fields += struct.pack("<HHI", len(item), len(item), header_len + len(payload))
        payload += item
    return fields, payload


def ntlmv2_responses(key_nt, server_challenge, target_info, timestamp, client_challenge):
    """(LmChallengeResponse, NtChallengeResponse, SessionBaseKey) [MS-NLMP 3.3.2]."""
    temp = (b"\x01\x01" + b"\0" * 6 + struct.pack("<Q", timestamp) + client_challenge +
            b"\0" * 4 + target_info + b"\0" * 4)
    proof = hmac_md5(key_nt, server_challenge + temp)
    lm = hmac_md5(key_nt, server_challenge + client_challenge) + client_challenge
    return lm, proof + temp, hmac_md5(key_nt, proof)


def der_next(buf, i):
    """(tag, start of contents, end) of the DER element at buf[i]."""
    tag, n = buf[i], buf[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(buf[i:i + k], "big")
        i += k
    return tag, i, i + n


# signature algorithm OIDs (DER contents) and the hash RFC 5929 4.1 names for them
_SIG_HASH = {
    bytes.fromhex("2a864886f70d01010b"): "sha256",  # sha256WithRSAEncryption
    bytes.fromhex("2a864886f70d01010c"): "sha384",
    bytes.fromhex("2a864886f70d01010d"): "sha512",
    bytes.fromhex("2a8648ce3d040302"): "sha256",    # ecdsa-with-SHA256
    bytes.fromhex("2a8648ce3d040303"): "sha384",
    bytes.fromhex("2a8648ce3d040304"): "sha512",
}


def cert_hash_name(cert_der):
    """The hash of tls-server-end-point for a certificate [RFC 5929 4.1]: the one of its
    signature algorithm; MD5 and SHA-1 (and anything else known here) become SHA-256."""
    try:
        _t, body, _end = der_next(cert_der, 0)          # Certificate
        _t, _s, tbs_end = der_next(cert_der, body)      # tbsCertificate
        _t, alg, _e = der_next(cert_der, tbs_end)       # signatureAlgorithm
        tag, oid, oid_end = der_next(cert_der, alg)
        if tag == 0x06:
            return _SIG_HASH.get(bytes(cert_der[oid:oid_end]), "sha256")
    except IndexError:
        pass
    return "sha256"


def tls_server_end_point(cert_der):
    """Channel bindings of a TLS connection by its server certificate [RFC 5929
    tls-server-end-point], the application data of a gss_channel_bindings_struct."""
    import hashlib
    return b"tls-server-end-point:" + hashlib.new(cert_hash_name(cert_der), cert_der).digest()


def channel_bindings(cert_der):
    """MsvAvChannelBindings for a TLS server certificate: MD5 of gss_channel_bindings_struct
    with no addresses and tls_server_end_point() as application data."""
    app = tls_server_end_point(cert_der)
    return md5(b"\0" * 16 + struct.pack("<I", len(app)) + app)


def authenticate(challenge, user, domain, password, workstation,
                 client_challenge=None, exported_key=None, target_name=None,
                 cb=None, mic=False, bad_mic=False):
    """Build the connectionless NTLMv2 AUTHENTICATE_MESSAGE (KEY_EXCH).  With extended
    protection as Windows clients add it: target_name (MsvAvTargetName), cb (16 bytes of
    MsvAvChannelBindings) and mic (MsvAvFlags 0x2 and a MIC over CHALLENGE and
    AUTHENTICATE; bad_mic: one that does not match)."""
    client_challenge = client_challenge or os.urandom(8)
    exported_key = exported_key or os.urandom(16)
    ts = challenge.av(AV_TIMESTAMP)
    timestamp = struct.unpack("<Q", ts)[0] if ts and len(ts) == 8 else filetime_now()
    target_info = challenge.target_info
    extra = []
    if mic:
        extra.append((AV_FLAGS, struct.pack("<I", AV_FLAG_MIC)))
    if target_name is not None:
        extra.append((AV_TARGET_NAME, utf16(target_name)))
    if cb is not None:
        extra.append((AV_CHANNEL_BINDINGS, cb))
    if extra:
        pairs = [p for p in parse_av_pairs(target_info) if p[0] != AV_EOL] + extra
        target_info = b"".join(struct.pack("<HH", i, len(v)) + v for i, v in pairs)
        target_info += struct.pack("<HH", AV_EOL, 0)
    key_nt = nt_owf_v2(user, domain, password)
    lm, nt, base_key = ntlmv2_responses(key_nt, challenge.server_challenge,
                                        target_info, timestamp, client_challenge)
    # NTLMv2: KeyExchangeKey = SessionBaseKey; KEY_EXCH sends the random key under it.
    encrypted_key = rc4(base_key, exported_key)
    flags = CLIENT_FLAGS & challenge.flags
    # 64 bytes of fields and flags + 8 of Version (+ 16 of MIC)
    header_len = 88 if mic else 72
    fields, payload = _payload_fields(header_len, [
        lm, nt, utf16(domain), utf16(user), utf16(workstation.upper()), encrypted_key])
    version = struct.pack("<BBH", 5, 1, 2600) + b"\0\0\0\x0f"
    head = SIGNATURE + struct.pack("<I", 3) + fields + struct.pack("<I", flags) + version
    msg = head + (b"\0" * 16 if mic else b"") + payload
    if mic:
        code = hmac_md5(exported_key, challenge.raw + msg)
        if bad_mic:
            code = bytes([code[0] ^ 1]) + code[1:]
        msg = head + code + payload
    return Authenticated(msg, base_key, exported_key, flags, lm, nt)


class Keys:
    """The four session keys derived from the ExportedSessionKey [MS-NLMP 3.4.5]."""

    def __init__(self, exported_key):
        self.client_sign = md5(exported_key + C2S_SIGN)
        self.server_sign = md5(exported_key + S2C_SIGN)
        self.client_seal = md5(exported_key + C2S_SEAL)
        self.server_seal = md5(exported_key + S2C_SEAL)


def mac(sign_key, seal_key, seq, data):
    """Connectionless MAC with extended session security and KEY_EXCH (16 bytes)."""
    seq_le = struct.pack("<I", seq)
    checksum = hmac_md5(sign_key, seq_le + data)[:8]
    handle_key = md5(seal_key + seq_le)
    return struct.pack("<I", 1) + rc4(handle_key, checksum) + seq_le


def sign_hex(sign_key, seal_key, seq, data):
    """The signature as SIP carries it: 32 upper-case hex digits."""
    return mac(sign_key, seal_key, seq, data).hex().upper()
