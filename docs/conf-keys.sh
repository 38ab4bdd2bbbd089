#!/bin/sh
# conf-keys.sh GWCONF_C - print the rows of greenwich.conf's key table
# (conf_opts[] in common/gwconf.c), one per line, fields separated by tabs:
#   section  name  type  default  min  max  help
# Used by docs/check-conf-man.sh and packaging/check-example-conf.sh, so that
# the manual page and the example configuration follow the code's table.
# Fails when a row of the table cannot be read (the table's layout changed).
set -eu
src=${1:?usage: conf-keys.sh path/to/gwconf.c}
tab=$(printf '\t')
table=$(sed -n '/conf_opts\[\] = {/,/^};/p' "$src")

# The table joined into one line, then split at each "}," so that every row
# (even one spread over several lines) is one line.
rows=$(printf '%s\n' "$table" | tr '\n\t' '  ' |
	sed -e 's/^[^{]*{//' -e 's/};[[:space:]]*$//' -e 's/},[[:space:]]*{/}\n{/g' |
	sed -n "s/^[[:space:]]*{\"\([^\"]*\)\", *\"\([^\"]*\)\", *\(T_[A-Z]*\), *O([a-z_]*), *\"\([^\"]*\)\", *\(-\{0,1\}[0-9]*\), *\(-\{0,1\}[0-9]*\), *\"\(.*\)\"[[:space:]]*},\{0,1\}[[:space:]]*$/\1$tab\2$tab\3$tab\4$tab\5$tab\6$tab\7/p" |
	sed 's/"[[:space:]]*"//g')
want=$(printf '%s\n' "$table" | grep -o '{"' | wc -l)
got=$(printf '%s\n' "$rows" | grep -c . || true)
if [ "$want" -eq 0 ] || [ "$got" -ne "$want" ]; then
	echo "conf-keys.sh: read $got of $want rows of conf_opts[] in $src" >&2
	exit 1
fi
printf '%s\n' "$rows"
