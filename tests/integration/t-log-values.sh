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
# back to what the attacker sent (logforge.py prints them as Python literals)
sent=()
while IFS= read -r l; do sent+=("$l"); done < <(grep "^['\"]" "$T/forge.out")
check "the refusal's fields parse back: one source (ours), user and call-id as sent" \
	python3 "$top_srcdir/tests/lib/logfields.py" "$T/greenwichd.log" forge auth-failed 127.0.0.1: \
	"user=${sent[0]}" "call-id=${sent[1]}"

if command -v fail2ban-regex >/dev/null; then
	out=$(fail2ban-regex -v "$T/greenwichd.log" "$top_srcdir/packaging/fail2ban/greenwich.fail2ban.conf" 2>&1) || true
	hosts=$(printf '%s\n' "$out" | sed -n 's/^|  *\([0-9][0-9.]*\)  .*/\1/p' | sort -u | tr '\n' ' ')
	check "the fail2ban filter finds the refusal and bans only 127.0.0.1 (got: $hosts)" \
		[ "$hosts" = "127.0.0.1 " ]
else
	fail "fail2ban-regex is not installed (deps.sh installs it)"
fi
finish
