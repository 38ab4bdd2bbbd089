#!/bin/bash
# Log values an outsider chooses (Digest user name, Call-ID, ...) are quoted and
# escaped (common/log.h, log_value()): requests carrying CR, LF, tabs, quotes,
# backslashes and fake "source=" / "event=" fields forge no line and no field, and
# the shipped fail2ban filter still bans the real source and only it.  A user
# registers and messages all along.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

write_conf
add_user alice alice-pw
add_user bob bob-pw
start_gwd

python3 "$top_srcdir/tests/integration/logforge.py" "$PORT" > "$T/forge.out" 2>&1 || true
check "the forged requests were answered 401 then 401/403" \
	bash -c "[ \"\$(grep -c '^ANSWER 40[13]' '$T/forge.out')\" = 2 ]"
sleep 0.3

legit_im after-forgery

# every line of the log is one of greenwichd's: time, ident, level, function
check "no line of the log was started by a request" python3 - "$T/greenwichd.log" <<'PY'
import re, sys
bad = [l for l in open(sys.argv[1], encoding="latin-1")
       if not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z greenwichd\[\w+\] \w+: ", l)]
print("".join(bad[:5]), end="")
sys.exit(1 if bad else 0)
PY

# the auth-failed line, read as logfmt: its fields are greenwichd's, its values decode
# back to what the attacker sent
check "the refusal's fields parse back: one source (ours), user and call-id as sent" \
	python3 - "$T/greenwichd.log" "$T/forge.out" <<'PY'
import ast, re, sys
sent = [ast.literal_eval(l) for l in open(sys.argv[2], encoding="latin-1")
        if l.startswith("'") or l.startswith('"')]
user, callid = sent
lines = [l for l in open(sys.argv[1], encoding="latin-1")
         if "event=auth-failed" in l and "forge" in l]
if len(lines) != 1:
    print("auth-failed lines with the forged Call-ID: %d" % len(lines)); sys.exit(1)
text = lines[0].split(": ", 1)[1].rstrip("\n")
tok = re.compile(r'([a-z-]+)=("(?:[^"\\]|\\.)*"|[^ "\\=]+)(?: |$)')
fields, pos = [], 0
while pos < len(text):
    m = tok.match(text, pos)
    if not m:
        print("not key=value at %r" % text[pos:pos + 40]); sys.exit(1)
    fields.append((m.group(1), m.group(2)))
    pos = m.end()
def dec(v):
    if not v.startswith('"'):
        return v
    out, i, v = "", 0, v[1:-1]
    while i < len(v):
        if v[i] == "\\" and v[i + 1] == "x":
            out += chr(int(v[i + 2:i + 4], 16)); i += 4
        elif v[i] == "\\":
            out += v[i + 1]; i += 2
        else:
            out += v[i]; i += 1
    return out
keys = [k for k, _ in fields]
d = {k: dec(v) for k, v in fields}
ok = True
for k in ("event", "source", "user", "call-id"):
    if keys.count(k) != 1:
        print("field %s appears %d times" % (k, keys.count(k))); ok = False
if d.get("event") != "auth-failed" or not d.get("source", "").startswith("127.0.0.1:"):
    print("event/source forged: %r %r" % (d.get("event"), d.get("source"))); ok = False
if d.get("user") != user:
    print("user %r != sent %r" % (d.get("user"), user)); ok = False
if d.get("call-id") != callid:
    print("call-id %r != sent %r" % (d.get("call-id"), callid)); ok = False
if not ok:
    print(text)
sys.exit(0 if ok else 1)
PY

if command -v fail2ban-regex >/dev/null; then
	out=$(fail2ban-regex -v "$T/greenwichd.log" "$top_srcdir/packaging/fail2ban/greenwich.fail2ban.conf" 2>&1) || true
	hosts=$(printf '%s\n' "$out" | sed -n 's/^|  *\([0-9][0-9.]*\)  .*/\1/p' | sort -u | tr '\n' ' ')
	check "the fail2ban filter finds the refusal and bans only 127.0.0.1 (got: $hosts)" \
		[ "$hosts" = "127.0.0.1 " ]
else
	fail "fail2ban-regex is not installed (deps.sh installs it)"
fi
finish
