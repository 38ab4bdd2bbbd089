"""SIP messages and the MS-SIPAE signed string, for Greenwich's test client.

A deliberately small SIP layer: framed messages on a stream (Content-Length), header
lists kept in wire order, long header names only, and the string that MS-SIPAE signs
([MS-SIP] 3.1.4.2 with the version 3 fields of [MS-SIPAE] 3.2.5).
"""
import re

# Compact header forms (RFC 3261 7.3.3 and later RFCs): a server talking to sipe must
# not use them, because sipe looks headers up by full name only.
COMPACT = {"i", "f", "t", "v", "l", "m", "c", "e", "k", "s", "o", "u", "r", "b", "x", "a", "j",
           "d", "y", "n"}


class SipParseError(Exception):
    """The peer sent something that is not a well-framed SIP message."""


class SipMessage:
    """One SIP request or response: start line, ordered headers, body bytes."""

    def __init__(self, start, headers=None, body=b""):
        self.start = start
        self.headers = list(headers or [])
        self.body = body

    # -- start line --------------------------------------------------------------
    @property
    def is_request(self):
        return not self.start.startswith("SIP/2.0 ")

    @property
    def method(self):
        return self.start.split(" ", 1)[0] if self.is_request else None

    @property
    def uri(self):
        return self.start.split(" ")[1] if self.is_request else None

    @property
    def status(self):
        return None if self.is_request else int(self.start.split(" ")[1])

    @property
    def reason(self):
        return None if self.is_request else self.start.split(" ", 2)[2]

    # -- headers -----------------------------------------------------------------
    def get_all(self, name):
        n = name.lower()
        return [v for k, v in self.headers if k.lower() == n]

    def get(self, name, default=None):
        vals = self.get_all(name)
        return vals[0] if vals else default

    def set(self, name, value):
        """Replace the first header called name (keeping its place) or append it."""
        n = name.lower()
        for i, (k, _v) in enumerate(self.headers):
            if k.lower() == n:
                self.headers[i] = (k, value)
                return
        self.headers.append((name, value))

    def remove(self, name):
        n = name.lower()
        self.headers = [(k, v) for k, v in self.headers if k.lower() != n]

    def cseq(self):
        num, method = self.get("CSeq", "").split()
        return int(num), method

    def encode(self):
        """Wire bytes; Content-Length is always written and always right."""
        lines = [self.start]
        lines += ["%s: %s" % (k, v) for k, v in self.headers if k.lower() != "content-length"]
        lines.append("Content-Length: %d" % len(self.body))
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body

    def copy(self):
        return SipMessage(self.start, self.headers, self.body)

    def __str__(self):
        return self.encode().decode(errors="replace")


def parse_head(head):
    """Start line and headers of a message head (bytes without the blank line)."""
    lines = head.decode("utf-8", errors="strict").split("\r\n")
    start = lines[0]
    if not (start.startswith("SIP/2.0 ") or re.match(r"^[A-Za-z]+ \S+ SIP/2\.0$", start)):
        raise SipParseError("bad start line %r" % start)
    headers = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:  # folded continuation
            k, v = headers[-1]
            headers[-1] = (k, v + " " + line.strip())
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise SipParseError("bad header line %r" % line)
        headers.append((name.strip(), value.strip()))
    return start, headers


class Framer:
    """Cuts SIP messages out of a byte stream (CRLF keep-alives are skipped)."""

    def __init__(self):
        self.buf = b""

    def feed(self, data):
        self.buf += data

    def next(self):
        """The next complete message, or None when more bytes are needed."""
        self.buf = self.buf.lstrip(b"\r\n")
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        start, headers = parse_head(self.buf[:end])
        msg = SipMessage(start, headers)
        lengths = msg.get_all("Content-Length") + msg.get_all("l")
        if not lengths:
            raise SipParseError("message without Content-Length: %s" % start)
        length = int(lengths[0])
        if len(self.buf) < end + 4 + length:
            return None
        msg.body = self.buf[end + 4:end + 4 + length]
        self.buf = self.buf[end + 4 + length:]
        return msg


# -- header value helpers ----------------------------------------------------------

def parse_auth(value):
    """'NTLM a="b", c=3' -> ('NTLM', {'a': 'b', 'c': '3'}). Quoted values may hold commas."""
    scheme, _, rest = value.strip().partition(" ")
    params = {}
    for m in re.finditer(r'\s*([A-Za-z0-9_-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^,\s]*)\s*,?', rest):
        params[m.group(1).lower()] = m.group(3) if m.group(3) is not None else m.group(2)
    return scheme, params


def uri_of(value):
    """The URI of a From/To-like value: inside <> if present, else up to the first ';'."""
    lt = value.find("<")
    if lt >= 0:
        gt = value.find(">", lt)
        return value[lt + 1:gt if gt >= 0 else len(value)]
    return value.split(";", 1)[0].strip()


def tag_of(value):
    """The tag parameter of a From/To value (after the URI), '' if none."""
    gt = value.find(">")
    params = value[gt + 1:] if gt >= 0 else value
    m = re.search(r";\s*tag=([^;]*)", params)
    return m.group(1).strip() if m else ""


def identity_uris(msg):
    """(sip URI, tel URI) from P-Asserted-Identity, else P-Preferred-Identity."""
    vals = msg.get_all("P-Asserted-Identity") or msg.get_all("P-Preferred-Identity")
    sip = tel = ""
    for val in vals:
        for part in val.split(","):
            uri = uri_of(part.strip())
            low = uri.lower()
            if (low.startswith("sip:") or low.startswith("sips:")) and not sip:
                sip = uri
            elif low.startswith("tel:") and not tel:
                tel = uri
    return sip, tel


def signed_string(msg, protocol, rand, num, realm, targetname, version=3):
    """The string MS-SIPAE signs for msg (fields wrapped in <>, [MS-SIPAE] 3.2.5)."""
    cseq = msg.get("CSeq", "").split() + ["", ""]
    method = msg.method if msg.is_request else cseq[1]
    from_v = msg.get("From", "")
    to_v = msg.get("To", "")
    fields = [protocol, rand, num, realm, targetname, msg.get("Call-ID", ""), cseq[0],
              method, uri_of(from_v), tag_of(from_v)]
    if version >= 3:
        fields += [uri_of(to_v), tag_of(to_v)]
        fields += list(identity_uris(msg))
    else:
        fields += [tag_of(to_v)]
    fields.append(msg.get("Expires", ""))
    if not msg.is_request:
        fields.append(str(msg.status))
    return "".join("<%s>" % f for f in fields)


def sipe_style_rand_num(value):
    """rand and num as pidgin-sipe reads them: the first 'rand="' and 'num="' substrings."""
    out = []
    for key in ('rand="', 'num="'):
        i = value.find(key)
        if i < 0:
            out.append(None)
            continue
        j = value.find('"', i + len(key))
        out.append(value[i + len(key):j])
    return tuple(out)
