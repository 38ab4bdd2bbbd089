#!/bin/bash
# shellcheck disable=SC2016 # single-quoted scripts run in the domain with its variables
# t-demo.sh - the README's first command, demo.sh, end to end: a demo AD domain (real
# Samba DC) and a joined greenwichd, all in a network namespace of the test's own
# (--netns) with its own state directory and SIP port, so it never meets a real demo.
# A failed start stops what it started; then a start that works: the DC answers with the
# generated passwords, sip/ on an account of its own (sip.keytab), `domain test` says OK,
# directory users resolve through greenwichd (480 / 404), a local account signs in with
# Digest over UDP and TCP; --admin reaches greenwichd's control socket and the domain as Administrator and
# the printed policy walkthrough works (outside IM to alice 403, to bob in Support let
# through); a second run changes nothing; --stop leaves no process; a restart reuses it all.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# as demo.sh names itself in its walkthrough (a build configured as ../configure
# has top_srcdir BUILD/..)
DEMO="$(cd "$top_srcdir" && pwd)/demo.sh"
ADDC="$top_srcdir/tests/addc/addc.sh"
NS=gwdemo-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')
# Samba puts Unix sockets under the state directory: keep its path short.
SW=$(mktemp -d "${TMPDIR:-/tmp}/gwdemo.XXXXXX")
S=$SW/s
DOMAIN=demo.greenwich.test
PORT=$(free_port)

demo_cleanup() {
	local d
	for d in "$S" "$SW/l"; do
		[ ! -d "$d" ] || "$DEMO" --stop --state-dir "$d" >/dev/null 2>&1 || true
	done
	cleanup
	if [ "$FAILS" -eq 0 ] && [ -z "${KEEP:-}" ]; then rm -rf "$SW"; else echo "demo kept in $S"; fi
}
trap demo_cleanup EXIT

demo() { # demo NAME ARG...: demo.sh with the test's state directory; output in $T/NAME.out
	local name=$1 rc=0
	shift
	"$DEMO" --state-dir "$S" "$@" >"$T/$name.out" 2>&1 || rc=$?
	echo "$rc" >"$T/$name.rc"
}
rc_of() { cat "$T/$1.rc"; }
in_ns() { nsenter --net="/run/netns/$NS" -- "$@"; }
in_domain() { in_ns "$ADDC" run-with-hosts "$S/dc" -- "$@"; }
pw() { awk -v u="$1" '$1 == u { print $2 }' "$S/passwords"; }
not() { ! "$@"; }
alive() { [ -d "/proc/$1" ]; }
none_alive() {
	local p
	for p in "$@"; do ! alive "$p" || return 1; done
}

printf '#!/bin/sh\nexec nsenter --net=/run/netns/%s -- %s "$@"\n' "$NS" \
	"$(command -v "$SIPP")" >"$T/sipp-in-ns"
chmod +x "$T/sipp-in-ns"
SIPP="$T/sipp-in-ns"

echo "# a start that fails (greenwichd cannot start) stops what it started"
mkdir -p "$T/bad/daemon" "$T/bad/mmc-cli"
printf '#!/bin/sh\necho "greenwichd: cannot start (test)" >&2\nexit 1\n' >"$T/bad/daemon/greenwichd"
chmod +x "$T/bad/daemon/greenwichd"
ln -s "$MMC" "$T/bad/mmc-cli/greenwich-mmc"
demo fail --netns "$NS" --port "$PORT" --build-dir "$T/bad"
check "demo.sh fails" [ "$(rc_of fail)" -ne 0 ]
check "it says why" grep -q "greenwichd did not start" "$T/fail.out"
dc_pid=$(sed -n 's/.*DC .* up (pid \([0-9]*\)).*/\1/p' "$S/dc-start.log")
check "the DC had started (pid ${dc_pid:-none})" [ -n "$dc_pid" ]
check "the DC is stopped again" none_alive "${dc_pid:-0}"
check "its network namespace is gone (nothing ran in it any more)" test ! -e "/run/netns/$NS"

echo "# start"
demo up1 --netns "$NS" --port "$PORT" --build-dir "$top_builddir"
check "demo.sh starts" [ "$(rc_of up1)" -eq 0 ]
[ "$(rc_of up1)" -eq 0 ] || sed 's/^/    /' "$T/up1.out"
check "it names the domain" grep -q "domain DEMO.GREENWICH.TEST" "$T/up1.out"
check "it names the server address" grep -q "SIP server: 127.0.0.1:$PORT (UDP and TCP)" "$T/up1.out"
check "it names the TLS address for domain sign-in" \
	grep -q "127.0.0.1:$((PORT + 1)) (TLS," "$T/up1.out"
check "it tells pidgin-sipe users to connect with TLS" grep -q "Connection type SSL/TLS" "$T/up1.out"
for u in alice bob carol dave; do
	check "it prints $u with the stored password" \
		grep -qE "^  $u@$DOMAIN +password $(pw "$u")( |\$)" "$T/up1.out"
done
check "it says how to stop" grep -qF -- "--state-dir $S --stop" "$T/up1.out"
check "it says how to sign in with domain credentials" grep -q "Login DEMO\\\\alice" "$T/up1.out"
check "passwords stored with mode 0600" [ "$(stat -c %a "$S/passwords")" = 600 ]
check "distinct generated passwords" [ "$(awk '{print $2}' "$S/passwords" | sort -u | wc -l)" = 4 ]
check "status: up" "$DEMO" --status --state-dir "$S"

echo "# the domain"
check "the DC answers: alice gets a Kerberos ticket with her generated password" \
	in_ns env KRB5_CONFIG="$S/dc/krb5.conf" KRB5CCNAME="FILE:$T/alice.cc" \
	sh -c 'pw=$1; printf "%s\n" "$pw" | kinit alice@DEMO.GREENWICH.TEST >/dev/null' - "$(pw alice)"
check "bob is in Support" in_domain sh -c 'KRB5CCNAME=$ADDC_DIR/admin.ccache ldapsearch -LLL -Q \
	-Y GSSAPI -H "ldap://$ADDC_DC_FQDN" -b "$ADDC_BASE_DN" "(sAMAccountName=Support)" member |
	grep -q "^member: CN=bob,"'
KT=$S/state/greenwich.keytab
check "keytab mode 0600" [ "$(stat -c %a "$KT")" = 600 ]
check "keytab holds no sip/ (it is on an account of its own)" \
	sh -c '! klist -k "$1" | grep -qF " sip/"' - "$KT"
SKT=$S/state/sip.keytab
check "sip keytab mode 0600, holds sip/greenwich.$DOMAIN" \
	sh -c '[ "$(stat -c %a "$1")" = 600 ] &&
		klist -k "$1" | grep -qF "sip/greenwich.$2@DEMO.GREENWICH.TEST"' - "$SKT" "$DOMAIN"
check "[domain] sip-keytab set by the join" grep -qx "sip-keytab = $SKT" "$S/greenwich.conf"
check "[domain] written to the demo's greenwich.conf" grep -qx "name = $DOMAIN" "$S/greenwich.conf"
demo dtest --run "$MMC" -c "$S/greenwich.conf" domain test
check "demo.sh --run greenwich-mmc domain test: all checks OK" grep -q "^all checks OK" "$T/dtest.out"
demo names --run getent hosts "greenwich.$DOMAIN" "dc1.$DOMAIN"
check "demo.sh --run: the server's and the DC's names resolve" [ "$(wc -l <"$T/names.out")" = 2 ]

echo "# greenwichd"
msg() { # msg NAME USER: a MESSAGE from carol (a local account, Digest) to USER@DOMAIN
	sipp_run "$1" uac_message.xml -set user carol -set domain "$DOMAIN" -au carol \
		-ap "$(pw carol)" -set to "$2@$DOMAIN" -set body hello
}
msg m-alice alice
check "alice@$DOMAIN: 480 (in the directory, not signed in)" [ "$(last_status m-alice)" = 480 ]
msg m-nosuch nosuchuser
check "nosuchuser@$DOMAIN: 404" [ "$(last_status m-nosuch)" = 404 ]
"$MMC" -c "$S/greenwich.conf" local-user list >"$T/local-users.out" 2>&1
check "the local accounts are carol and dave" \
	[ "$(grep -oE '(alice|bob|carol|dave)@' "$T/local-users.out" | sort | tr -d '\n')" = "carol@dave@" ]
# alice is no local account: her 480 (and nosuchuser's 404) came from the directory
register r-carol carol "$(pw carol)" "<sip:carol@127.0.0.1:7399>" 60
check "carol signs in with Digest over UDP: 200" [ "$(last_status r-carol)" = 200 ]
register r-dave-tcp dave "$(pw dave)" "<sip:dave@127.0.0.1:7397;transport=tcp>" 60 1 -t t1
check "dave signs in with Digest over TCP: 200" [ "$(last_status r-dave-tcp)" = 200 ]
register r-bad carol wrong-password "<sip:carol@127.0.0.1:7399>" 60
check "a wrong password is refused" [ "$(last_status r-bad)" != 200 ]

echo "# the administrator: demo.sh --admin, and the printed walkthrough's policy"
check "it says how to act as the administrator" grep -qF -- "--state-dir $S --admin greenwich-mmc server status" "$T/up1.out"
check "the control socket lives in the state directory" test -S "$S/state/control.sock"
demo adm-status --admin greenwich-mmc server status
check "--admin greenwich-mmc server status reaches greenwichd" \
	sh -c '[ "$(cat "$1.rc")" = 0 ] && grep -qi "uptime" "$1.out"' - "$T/adm-status"
[ "$(rc_of adm-status)" = 0 ] || sed 's/^/    /' "$T/adm-status.out"
demo adm-klist --admin klist
check "--admin: a ticket for Administrator in a private ccache" \
	sh -c 'grep -q "^Default principal: Administrator@DEMO.GREENWICH.TEST" "$1/adm-klist.out" &&
		grep -qF "$2/admin/krb5cc" "$1/adm-klist.out"' - "$T" "$S"
demo adm-users --admin greenwich-mmc users list
check "--admin greenwich-mmc users list names alice and bob" \
	sh -c 'grep -q "alice" "$1" && grep -q "bob" "$1"' - "$T/adm-users.out"
ext_msg() { # ext_msg NAME USER: an unauthenticated MESSAGE from outside to USER@DOMAIN
	sipp_run "$1" uac_message.xml -set user guest -set domain example.net \
		-set to "$2@$DOMAIN" -set body hi
}
# the walkthrough's commands, as demo.sh prints them
walk() { sed -n "s|^  $DEMO --state-dir $S --admin greenwich-mmc policy $1 .*|&|p" "$T/up1.out" | head -1; }
add_cmd=$(walk add)
check "the walkthrough prints the policy add command" [ -n "$add_cmd" ]
bash -c "$add_cmd" >"$T/adm-add.out" 2>&1 && rc=0 || rc=$?
check "the walkthrough's policy add works (exit $rc)" grep -q "added rule 'internet-im'" "$T/adm-add.out"
[ "$rc" = 0 ] || sed 's/^/    /' "$T/adm-add.out"
demo adm-list --admin greenwich-mmc policy list
check "--admin greenwich-mmc policy list shows it" grep -q "internet-im" "$T/adm-list.out"
bash -c "$(walk test | grep alice)" >"$T/adm-test-alice.out" 2>&1 || true
check "policy test: a guest to alice is denied" grep -q "^deny 403" "$T/adm-test-alice.out"
until_status 480 30 0.5 ext_msg m-ext-bob bob || true
check "in force within seconds: outside to bob (Support) let through, 480 (got $ST)" [ "$ST" = 480 ]
ext_msg m-ext-alice alice
check "outside to alice: 403 Forbidden, not delivered" [ "$(last_status m-ext-alice)" = 403 ]
check "greenwichd logged the denial by the rule" grep -q "event=policy rule=internet-im .*to=sip:alice@$DOMAIN .*result=deny" "$S/greenwichd.log"
demo adm-del --admin greenwich-mmc policy delete internet-im
check "--admin greenwich-mmc policy delete: the walkthrough undone" [ "$(rc_of adm-del)" = 0 ]

echo "# a second run while up"
gwd1=$(cat "$S/greenwichd.pid")
dc1=$(cat "$S/dc/run/samba.pid")
demo up2 --netns "$NS" --port "$PORT" --build-dir "$top_builddir"
check "second run: exit 0" [ "$(rc_of up2)" -eq 0 ]
check "second run: says it is already up" grep -q "already up" "$T/up2.out"
check "second run: same greenwichd and DC" \
	[ "$(cat "$S/greenwichd.pid") $(cat "$S/dc/run/samba.pid")" = "$gwd1 $dc1" ]
check "second run: same passwords" grep -qE "carol@$DOMAIN +password $(pw carol)" "$T/up2.out"

echo "# stop"
mapfile -t procs < <(ip netns pids "$NS")
check "processes ran in the namespace (${#procs[@]})" [ "${#procs[@]}" -gt 1 ]
demo stop1 --stop
check "--stop: exit 0" [ "$(rc_of stop1)" -eq 0 ]
check "--stop: greenwichd, the DC and all they started are gone" none_alive "${procs[@]}" "$gwd1" "$dc1"
check "--stop: the network namespace is gone" test ! -e "/run/netns/$NS"
demo status2 --status
check "--status after stop: exit 3" [ "$(rc_of status2)" -eq 3 ]

echo "# start again: the same domain, join and passwords"
cp "$S/passwords" "$T/passwords.before"
demo up3 --build-dir "$top_builddir"
check "restart: exit 0" [ "$(rc_of up3)" -eq 0 ]
check "restart: not provisioned again" not grep -q "provisioning" "$T/up3.out"
check "restart: the same passwords" cmp -s "$S/passwords" "$T/passwords.before"
msg m-alice2 alice
check "restart: alice@$DOMAIN 480 again" [ "$(last_status m-alice2)" = 480 ]
for scheme in ntlm kerberos; do
	demo "sae-$scheme" --run /usr/bin/python3 "$top_srcdir/tests/sipae/sipae_client.py" \
		--server "127.0.0.1:$((PORT + 1))" --tls --domain "$DOMAIN" --user alice --ntlm-domain DEMO \
		--password "$(pw alice)" --scheme "$scheme" register
	check "alice signs in with her domain credentials over TLS ($scheme, signed)" \
		grep -q "^signed-in scheme=" "$T/sae-$scheme.out"
done
gwd3=$(cat "$S/greenwichd.pid")
demo stop2 --stop
check "stopped again" none_alive "$gwd3"
check "greenwichd logged no sanitizer report (ASan/UBSan builds)" not grep -qE \
	"ERROR: (Address|Leak)Sanitizer|runtime error:" "$S/greenwichd.log" "$S/greenwichd.log.old"

echo "# --no-ad: local accounts only, in a state directory and namespace of its own"
NS2=$NS-l
S2=$SW/l
"$DEMO" --state-dir "$S2" --no-ad --netns "$NS2" --port "$PORT" --build-dir "$top_builddir" \
	>"$T/local.out" 2>&1 && rc=0 || rc=$?
check "--no-ad starts" [ "$rc" -eq 0 ]
check "--no-ad: no domain controller" test ! -e "$S2/dc"
check "--no-ad: no [domain] section" not grep -q '^\[domain\]' "$S2/greenwich.conf"
gwl=$(cat "$S2/greenwichd.pid")
sed -i "s|/run/netns/[^ ]*|/run/netns/$NS2|" "$T/sipp-in-ns"
register r-local carol "$(awk '$1 == "carol" { print $2 }' "$S2/passwords")" \
	"<sip:carol@127.0.0.1:7399>" 60
check "--no-ad: carol signs in: 200" [ "$(last_status r-local)" = 200 ]
S=$S2 msg m-alice-local alice
check "--no-ad: alice@$DOMAIN unknown: 404" [ "$(last_status m-alice-local)" = 404 ]
"$DEMO" --state-dir "$S2" --admin greenwich-mmc server status >"$T/local-status.out" 2>&1 && rc=0 || rc=$?
check "--no-ad: --admin greenwich-mmc server status reaches greenwichd (exit $rc)" \
	grep -qi "uptime" "$T/local-status.out"
"$DEMO" --state-dir "$S2" --stop >/dev/null 2>&1
check "--no-ad: --stop ends greenwichd and the namespace" \
	sh -c '! [ -d "/proc/$1" ] && ! [ -e "/run/netns/$2" ]' - "$gwl" "$NS2"
finish
