#!/bin/bash
# shellcheck disable=SC2016 # single-quoted scripts run in the domain with its variables
# t-users-list.sh - `greenwich-mmc users list` against a real Samba AD DC (tests/addc,
# own network namespace) with 34 more users than the fixtures, listed through libgwad's
# paged search with small pages (--page-size 7 and 1): every user once, as many as AD
# holds (read back with ldapsearch); --enabled and --disabled (nested membership of the
# enabled-group), --filter on account name, display name, SIP URI and alias, combined;
# no enabled-group: everyone with a SIP URI is enabled; usage errors; --json validated
# against mmc-schema.json.  Needs root.
set -eu
# shellcheck source=tests/cli/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap dc_cleanup EXIT

dc_domain_up
export KRB5CCNAME=FILE:$D/admin.ccache
inside() { "$ADDC" run-with-hosts "$D" -- "$@"; }
mmc() { inside "$MMC" -c "$CONF" "$@"; }

# lst01 .. lst34: display names "Quokka NN" for 05 .. 24, the first 17 in the group
USERS_DN="CN=Users,$ADDC_BASE_DN"
for i in $(seq -w 1 34); do
	dn="lst$i"
	if [ "$i" -ge 5 ] && [ "$i" -le 24 ]; then disp="Quokka $i"; else disp="Listed Person $i"; fi
	printf 'dn: CN=%s,%s\nobjectClass: user\nsAMAccountName: %s\nuserAccountControl: 544\ndisplayName: %s\nmail: %s@corp.example.com\n\n' \
		"$dn" "$USERS_DN" "$dn" "$disp" "$dn"
done >"$T/users.ldif"
{
	printf 'dn: CN=Greenwich Users,%s\nchangetype: modify\nadd: member\n' "$USERS_DN"
	for i in $(seq -w 1 17); do printf 'member: CN=lst%s,%s\n' "$i" "$USERS_DN"; done
} >"$T/group.ldif"
inside sh -c 'ldapadd -Q -Y GSSAPI -H "ldap://$ADDC_DC_FQDN" -f "$0" && ldapmodify -Q -Y GSSAPI \
	-H "ldap://$ADDC_DC_FQDN" -f "$1"' "$T/users.ldif" "$T/group.ldif" >"$T/add.log" 2>&1 ||
	{ cat "$T/add.log"; exit 1; }
count=$(inside sh -c 'ldapsearch -LLL -Q -Y GSSAPI -H "ldap://$ADDC_DC_FQDN" -E pr=5/noprompt \
	-b "$ADDC_BASE_DN" "(&(objectClass=user)(sAMAccountName=lst*))" 1.1' | grep -c '^dn: ')
check "34 users in AD (read back, paged)" [ "$count" = 34 ]

# names RC ARGS...: `users list --json ARGS` exits RC; the account names, sorted, one line
names()
{
	local rc=0
	mmc --json users list "${@:2}" >"$T/list.json" 2>"$T/list.err" || rc=$?
	if [ "$rc" != "$1" ]; then
		echo "exit $rc"
		cat "$T/list.err"
		return
	fi
	/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join(sorted(u["user"] + ("+" if u["enabled"] else "-") for u in d["users"])))' "$T/list.json"
}
# same WHAT GOT WANT
same() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1"; echo "     got:  $2"; echo "     want: $3"; fi; }
seqnames() { for i in $(seq -w "$1" "$2"); do printf 'lst%s%s\n' "$i" "$3"; done; }
fixtures=(alice+ bob+ carol+ erin+ frank+)
# joined: sorted names on one line, blank-separated
joined() { sort | tr '\n' ' ' | sed 's/ $//'; }
all=$({ printf '%s\n' "${fixtures[@]}"; seqnames 1 17 +; seqnames 18 34 -; } | joined)

echo "# paged listing"
same "pages of 7: every user with a SIP URI once, enabled as in AD" "$(names 0 --page-size 7)" "$all"
check "... 39 users, no one twice" /usr/bin/python3 -c '
import json, sys
u = [x["user"] for x in json.load(open(sys.argv[1]))["users"]]
assert len(u) == 39 and len(set(u)) == 39, u' "$T/list.json"
check "... --json matches users-list" /usr/bin/python3 "$HERE/schemacheck.py" "$HERE/mmc-schema.json" users-list "$T/list.json"
same "pages of 1" "$(names 0 --page-size 1)" "$all"
same "the default page size" "$(names 0)" "$all"
expect "text output: a table" 0 "^lst34 +sip:lst34@corp.example.com +no +active$" mmc users list --page-size 7
check "... alice enabled" grep -qE "^alice +sip:alice@corp.example.com +yes +active$" "$T/out"
check "... dave (no SIP URI) not listed" sh -c "! grep -q '^dave ' '$T/out'"

echo "# --enabled, --disabled"
same "--enabled: the group's nested members" "$(names 0 --enabled --page-size 7)" \
	"$({ printf '%s\n' "${fixtures[@]}"; seqnames 1 17 +; } | joined)"
same "--disabled: the others" "$(names 0 --disabled --page-size 7)" \
	"$(seqnames 18 34 - | tr '\n' ' ' | sed 's/ $//')"

echo "# --filter"
same "--filter on the display name, any case" "$(names 0 --filter qUOKKA --page-size 7)" \
	"$({ seqnames 5 17 +; seqnames 18 24 -; } | tr '\n' ' ' | sed 's/ $//')"
same "--filter on the account name" "$(names 0 --filter lst3)" \
	"$(seqnames 30 34 - | tr '\n' ' ' | sed 's/ $//')"
same "--filter on the SIP URI (proxyAddresses SIP:)" "$(names 0 --filter robert@)" "bob+"
same "--filter on an alias" "$(names 0 --filter bobby)" "bob+"
same "--filter with --disabled" "$(names 0 --filter quokka --disabled --page-size 3)" \
	"$(seqnames 18 24 - | tr '\n' ' ' | sed 's/ $//')"
same "--filter with --enabled" "$(names 0 --filter quokka --enabled)" \
	"$(seqnames 5 17 + | tr '\n' ' ' | sed 's/ $//')"
same "--filter that matches no one" "$(names 0 --filter 'no*such(user)')" ""

echo "# usage"
expect "--enabled and --disabled: exit 2" 2 "--enabled or --disabled, not both" mmc users list --enabled --disabled
expect "--page-size 0: exit 2" 2 "usage: users list \[--filter TEXT\]" mmc users list --page-size 0
expect "--filter without text: exit 2" 2 "usage: users list" mmc users list --filter
expect "a stray argument: exit 2" 2 "usage: users list" mmc users list bob

echo "# completion offers the domain's users (read with the administrator's ticket)"
same "users show lst1<Tab>" "$(mmc complete 'users show lst1' | sort | tr '\n' ' ' | sed 's/ $//')" \
	"$(seq -f 'lst%02g' 10 19 | tr '\n' ' ' | sed 's/ $//')"
same "users enable lst3<Tab>" "$(mmc complete 'users enable lst3' | sort | tr '\n' ' ' | sed 's/ $//')" \
	"lst30 lst31 lst32 lst33 lst34"
same "no ticket: no names, and no message" \
	"$(KRB5CCNAME=FILE:/nonexistent inside "$MMC" -c "$CONF" complete 'users show lst1' 2>&1)" ""

echo "# no enabled-group: everyone with a SIP URI is enabled"
sed -i '/^enabled-group/d' "$CONF"
same "all enabled" "$(names 0 --page-size 7)" "${all//-/+}"
same "--disabled: no one" "$(names 0 --disabled)" ""
finish
