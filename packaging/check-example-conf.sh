#!/bin/bash
# check-example-conf.sh: greenwich.conf.example names every key of the code's
# table (greenwichd --print-config-keys) in its section with the built-in default, set or
# commented out, and no other key; and greenwichd accepts the file.
set -eu
srcdir=${srcdir:-.}
top_srcdir=${top_srcdir:-$srcdir/..}
top_builddir=${top_builddir:-..}
example=$srcdir/greenwich.conf.example
# Fields separated by \037, not tabs: `read` would merge empty fields at tabs.
keys=$("$top_builddir/daemon/greenwichd" --print-config-keys) || {
	echo "FAIL: greenwichd --print-config-keys"
	exit 1
}
rows=$(printf '%s\n' "$keys" | tr '\t' '\037')

# "section<US>key<US>value" for every "key = value" and "#key = value" line.
keys=$(awk '
	/^\[[a-z]+\]$/ { sect = substr($0, 2, length($0) - 2); next }
	/^#?[a-z][a-z0-9-]* *=/ {
		line = $0; sub(/^#/, "", line)
		k = line; sub(/ *=.*/, "", k)
		v = line; sub(/^[^=]*= */, "", v)
		print sect "\037" k "\037" v
	}' "$example")

fail=0
while IFS=$'\037' read -r sect name _ def _; do
	got=$(printf '%s\n' "$keys" | awk -F '\037' -v s="$sect" -v k="$name" \
		'$1 == s && $2 == k { n++; v = $3 } END { if (n == 1) print "=" v }')
	if [ "$got" != "=$def" ]; then
		echo "FAIL: [$sect] $name should appear once as '$name = $def' (found '${got#=}')"
		fail=1
	fi
done <<<"$rows"
while IFS=$'\037' read -r sect name _; do
	if ! printf '%s\n' "$rows" | awk -F '\037' -v s="$sect" -v k="$name" \
		'$1 == s && $2 == k { f = 1 } END { exit !f }'; then
		echo "FAIL: the example sets [$sect] $name, unknown to common/gwconf.c"
		fail=1
	fi
done <<<"$keys"

# The daemon's own parser accepts the file as shipped.
if ! "$top_builddir/daemon/greenwichd" --check-config --config "$example"; then
	echo "FAIL: greenwichd --check-config rejects $example"
	fail=1
fi
n=$(printf '%s\n' "$rows" | wc -l)
[ "$fail" -eq 0 ] && echo "ok: greenwich.conf.example names all $n keys with their defaults"
exit "$fail"
