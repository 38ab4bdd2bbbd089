#!/bin/sh
# check-fail2ban.sh: the fail2ban filter shipped in fail2ban/ finds the address of
# every refusal in a sample of greenwichd's own log lines (taken from a test run),
# and nothing in lines that are no refusal.
set -eu
srcdir=${srcdir:-.}
filter=$srcdir/fail2ban/greenwich.fail2ban.conf
sample=$srcdir/fail2ban/sample.log
command -v fail2ban-regex >/dev/null || { echo "FAIL: fail2ban-regex not installed (deps.sh)"; exit 1; }
out=$(fail2ban-regex -v "$sample" "$filter" 2>&1) || { echo "$out"; exit 1; }
refusals=$(grep -cE 'event=(auth-failed|auth-throttled|auth-replay|admission-refused|register-refused|subscribe-refused) ' "$sample")
matched=$(printf '%s\n' "$out" | sed -n 's/^Lines: .* \([0-9][0-9]*\) matched.*/\1/p')
echo "refusals in the sample: $refusals; matched by the filter: ${matched:-?}"
[ "${matched:-x}" = "$refusals" ] || { printf '%s\n' "$out"; echo "FAIL: the filter missed or over-matched"; exit 1; }
# the addresses it would ban: the sample's sources, never one a client wrote in a field
hosts=$(printf '%s\n' "$out" | sed -n 's/^|  *\([0-9][0-9.]*\)  .*/\1/p' | sort -u | tr '\n' ' ')
echo "addresses: $hosts"
[ "$hosts" = "127.0.0.1 127.0.0.5 127.0.0.7 127.0.0.9 " ] ||
	{ printf '%s\n' "$out"; echo "FAIL: wrong addresses"; exit 1; }
echo "PASS: fail2ban filter"
