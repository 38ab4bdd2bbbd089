#!/bin/bash
# check-conf-man.sh: greenwich.conf(5) documents exactly the keys of the code's
# table (common/gwconf.c, as greenwichd --print-config-keys prints it), each in
# its section, with the code's default, for numbers its range, and "takes
# effect on reload" exactly for the keys that do.
set -eu
srcdir=${srcdir:-.}
top_srcdir=${top_srcdir:-$srcdir/..}
top_builddir=${top_builddir:-..}
man=$srcdir/greenwich.conf.5
# Fields separated by \037, not tabs: `read` would merge empty fields at tabs.
keys=$("$top_builddir/daemon/greenwichd" --print-config-keys) || {
	echo "FAIL: greenwichd --print-config-keys"
	exit 1
}
rows=$(printf '%s\n' "$keys" | tr '\t' '\037')

# The man page as "section<TAB>key<TAB>text of the entry", one line per key:
# roff escapes for hyphens and fonts removed.
entries=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$man" | awk '
	function flush() { if (key != "") print sect "\t" key "\t" text; key = "" }
	/^\.S[HS]/ { flush(); sect = "" }
	/^\.SS "\[/ { sect = $2; gsub(/[]["]/, "", sect); next }
	/^\.S[HS]/ { next }
	/^\.TP/ { flush(); want = 1; next }
	want { want = 0; if (sect != "" && $2 == "=") { key = $1; text = ""; next } }
	key != "" { text = text " " $0 }
	END { flush() }')

fail=0
while IFS=$'\037' read -r sect name type def min max reload _; do
	entry=$(printf '%s\n' "$entries" | awk -F '\t' -v s="$sect" -v k="$name" \
		'$1 == s && $2 == k { print $3 }')
	if [ -z "$entry" ]; then
		echo "FAIL: [$sect] $name is not documented in greenwich.conf.5"
		fail=1
		continue
	fi
	if [ -z "$def" ]; then want="Default: empty."; else want="Default: $def"; fi
	case "$entry" in
	*"takes effect on reload"*) live=live ;;
	*) live=restart ;;
	esac
	if [ "$live" != "$reload" ]; then
		echo "FAIL: [$sect] $name applies at $reload, but greenwich.conf.5 says it applies at $live"
		fail=1
	fi
	if [ "$type" = number ]; then
		want="$want; range $min to $max."
	elif [ -n "$def" ]; then
		want="$want."
	fi
	case "$entry" in
	*"$want"*) ;;
	*)
		echo "FAIL: [$sect] $name: greenwich.conf.5 lacks '$want'"
		fail=1
		;;
	esac
done <<<"$rows"

# No documented key that the code does not know.
while IFS=$'\t' read -r sect name _; do
	if ! printf '%s\n' "$rows" | awk -v s="$sect" -v k="$name" \
		'$1 == s && $2 == k { f = 1 } END { exit !f }' FS='\037'; then
		echo "FAIL: greenwich.conf.5 documents [$sect] $name, unknown to common/gwconf.c"
		fail=1
	fi
done <<<"$entries"

n=$(printf '%s\n' "$rows" | wc -l)
[ "$fail" -eq 0 ] && echo "ok: greenwich.conf.5 documents all $n keys with their defaults"
exit "$fail"
