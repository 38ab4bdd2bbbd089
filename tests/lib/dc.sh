# dc.sh - a throw-away Samba AD DC for a test (bash, sourced): tests/addc/addc.sh, in a
# network namespace of its own.  Run such tests under flock /tmp/greenwich-dc.lock.
# shellcheck shell=bash
: "${top_srcdir:?dc.sh needs top_srcdir}"
ADDC=${ADDC:-${ADDC_SH:-$top_srcdir/tests/addc/addc.sh}}

# dc_up DIR [join]: provision and start a DC in DIR, then source DIR/env (ADDC_*); with
# join, also join greenwich.<domain> with the sip service (keytab DIR/gw.keytab).  Each
# step's output goes to $T/dc-STEP.out; a step that fails shows it and ends the test.
dc_up() {
	local d=$1 step
	shift
	for step in provision start "$@"; do
		"$ADDC" "$step" "$d" > "$T/dc-$step.out" 2>&1 || { cat "$T/dc-$step.out"; exit 1; }
	done
	# shellcheck source=/dev/null
	. "$d/env"
}

# dc_down DIR: stop the DC in DIR; the second stop removes its network namespace once
# nothing runs in it any more.  Stop the test's own processes in the namespace first.
dc_down() {
	"$ADDC" stop "$1" >/dev/null 2>&1 || true
	"$ADDC" stop "$1" >/dev/null 2>&1 || true
}

# dc_sip_account DIR KEYTAB: give sip/greenwich.<domain> an account of its own (a user,
# gwsip-greenwich, whose only SPN it is), as the admin guide tells an admin to, moving the
# SPN off the joined computer account; its keys go to KEYTAB (mode 0600), for [domain]
# sip-keytab.  Output in $T/dc-sip-account.out; a step that fails shows it and ends the test.
dc_sip_account() {
	local d=$1 kt=$2 fqdn="greenwich.$ADDC_DNS_DOMAIN" out="$T/dc-sip-account.out" a
	local -a tool=("$ADDC" run-with-hosts "$d" -- samba-tool)
	local -a as=(-H "ldap://$ADDC_DC_FQDN" -U "Administrator%$ADDC_ADMIN_PASSWORD")
	for a in "user create gwsip-greenwich --random-password" \
		"user setexpiry gwsip-greenwich --noexpiry" \
		"spn delete sip/$fqdn GREENWICH\$" "spn delete sip/GREENWICH GREENWICH\$" \
		"spn add sip/$fqdn gwsip-greenwich"; do
		# shellcheck disable=SC2086 # each step is words
		"${tool[@]}" $a "${as[@]}" >> "$out" 2>&1 || { cat "$out"; exit 1; }
	done
	samba-tool domain exportkeytab "$kt" --principal="sip/$fqdn" -s "$d/etc/smb.conf" \
		>> "$out" 2>&1 || { cat "$out"; exit 1; }
	chmod 0600 "$kt"
}
