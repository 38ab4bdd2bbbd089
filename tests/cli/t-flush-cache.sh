#!/bin/bash
# shellcheck disable=SC2016 # single-quoted scripts run in the domain with its variables
# t-flush-cache.sh - `greenwich-mmc server flush-cache [USER]` against a greenwichd joined
# to a real Samba AD DC (integration domain-lib.sh: own network namespace) with a long
# [domain] cache-ttl: a user disabled in AD is still routed from the cache (480, not
# signed in), after flush-cache of that user refused (403 Account disabled) while another
# disabled user stays cached until the whole cache is flushed; a user flushed by one of
# its SIP addresses is forgotten under its alias too; the cache file loses the user's
# rows; --json validated against server-schema.json; greenwichd not running: exit 6.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/integration/lib.sh
. "$HERE/../integration/lib.sh"
# shellcheck source=tests/integration/domain-lib.sh
. "$HERE/../integration/domain-lib.sh"
domain_setup

write_conf "[domain]" "name = $ADDC_DNS_DOMAIN" "keytab = $D/gw.keytab" \
	"fqdn = greenwich.$ADDC_DNS_DOMAIN" "enabled-group = Greenwich Users" "cache-ttl = 3600"
CONF=$T/greenwich.conf
inside() { KRB5CCNAME="FILE:$D/admin.ccache" "$ADDC" run-with-hosts "$D" -- "$@"; }
mmc() { # mmc NAME ARGS...: greenwich-mmc, output in $T/NAME.out/.err, exit status in RC
	local n=$1
	shift
	RC=0
	inside "$MMC" -c "$CONF" "$@" >"$T/$n.out" 2>"$T/$n.err" || RC=$?
}
uac() { # uac USER: userAccountControl as stored in AD
	inside sh -c 'ldapsearch -LLL -Q -Y GSSAPI -H "ldap://$ADDC_DC_FQDN" -b "$ADDC_BASE_DN" \
		"(sAMAccountName=$0)" userAccountControl' "$1" 2>/dev/null | sed -n 's/^userAccountControl: //p'
}
ad_disable() {
	inside sh -c 'samba-tool user disable "$0" -H "ldap://$ADDC_DC_FQDN" --use-kerberos=required \
		--use-krb5-ccache="$KRB5CCNAME"' "$1" >"$T/disable-$1.log" 2>&1 || cat "$T/disable-$1.log"
	check "$1 disabled in AD (userAccountControl $(uac "$1"))" [ $(($(uac "$1") & 2)) = 2 ]
}
rows() { # rows SAM: the user's rows in the cache file
	sqlite3 "$T/state/directory-cache.db" "SELECT count(*) FROM answers WHERE sam = '$1'"
}
valid() {
	/usr/bin/python3 "$HERE/schemacheck.py" "$HERE/server-schema.json" "$2" "$T/$1.out"
}

echo "# greenwichd not running"
mmc down server flush-cache
check "not running: exit 6" [ "$RC" = 6 ]

# senders from outside are denied by the built-in policy default: allow them here
inside "$MMC" -c "$CONF" policy add 'rule "outside-ok" priority 1 { from zone external; action allow; }' >/dev/null
start_gwd
for _ in $(seq 1 100); do grep -q "event=policy-loaded source=ad rules=1" "$T/greenwichd.log" && break; sleep 0.1; done
GWD_PID=$(cat "$T/gwd.realpid")
PIDS+=("$GWD_PID")

msg() { # msg NAME USER: a MESSAGE from an outside sender to USER@DOMAIN
	sipp_run "$1" uac_message.xml -set user guest -set domain outside.test \
		-set to "$2@$DOMAIN" -set body hello
}
N=0
expect() { # expect USER STATUS WHAT
	N=$((N + 1))
	msg "m$N-$1" "$1"
	check "$1@$DOMAIN: $2 ($3)" [ "$(last_status "m$N-$1")" = "$2" ]
}

echo "# looked up once, then cached"
expect alice 480 "enabled, not signed in"
expect carol 480 "enabled through nested groups"
expect robert 480 "bob's primary SIP URI"
check "alice is in the cache file" [ "$(rows alice)" -ge 1 ]

ad_disable alice
ad_disable carol
ad_disable bob
expect alice 480 "disabled in AD, still routed from the cache"
expect carol 480 "disabled in AD, still routed from the cache"
expect bobby 480 "bob's alias: cached with his other addresses"

echo "# one user flushed"
mmc one server flush-cache alice
check "flush-cache alice: exit 0" [ "$RC" = 0 ]
check "... says how many answers went" grep -qE "^greenwichd dropped [1-9][0-9]* cached directory answers about alice$" "$T/one.out"
check "... alice's rows gone from the cache file" [ "$(rows alice)" = 0 ]
check "... carol's still there" [ "$(rows carol)" -ge 1 ]
check "greenwichd logged it" grep -q "event=directory-cache-flushed user=alice answers=[1-9]" "$T/greenwichd.log"
expect alice 403 "disabled: asked the DC again"
check "alice's refusal says why" grep -aq "^SIP/2.0 403 Account disabled" "$T/m$N-alice.msg"
expect carol 480 "not flushed: still from the cache"

echo "# a user flushed by one SIP address is forgotten under all its keys"
mmc bob --json server flush-cache "sip:robert@$DOMAIN"
check "flush-cache sip:robert@...: exit 0" [ "$RC" = 0 ]
check "... --json matches the schema" valid bob flush-cache
check "... bob's rows gone from the cache file" [ "$(rows bob)" = 0 ]
expect bobby 403 "bob's alias, not named in the flush"

echo "# everything flushed"
mmc all server flush-cache
check "flush-cache: exit 0" [ "$RC" = 0 ]
check "... says so" grep -q "^greenwichd dropped its cached directory answers" "$T/all.out"
check "... the cache file is empty" [ "$(sqlite3 "$T/state/directory-cache.db" 'SELECT count(*) FROM answers')" = 0 ]
expect carol 403 "disabled: asked the DC again"
mmc alljson --json server flush-cache
check "flush-cache --json matches the schema" valid alljson flush-cache
mmc usage server flush-cache a b
check "two users: usage, exit 2" [ "$RC" = 2 ]
check "the flushes are in the audit trail" grep -q 'verb="server flush-cache" object=alice' "$T/state/mmc-audit.log"
check "greenwichd still running" kill -0 "$GWD_PID"
finish
