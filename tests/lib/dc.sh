# dc.sh - a throw-away Samba AD DC for a test (bash, sourced): tests/addc/addc.sh, in a
# network namespace of its own.  Run such tests under flock /tmp/greenwich-dc.lock.
# shellcheck shell=bash
: "${top_srcdir:?dc.sh needs top_srcdir}"
ADDC=${ADDC:-${ADDC_SH:-$top_srcdir/tests/addc/addc.sh}}

# dc_up DIR [join]: provision and start a DC in DIR, then source DIR/env (ADDC_*); with
# join, also join greenwich.<domain> with greenwich-mmc domain join ($MMC) and its
# default: computer account (keytab DIR/gw.keytab), sip/ on an account of its own
# (keytab DIR/sip.keytab, for [domain] sip-keytab).  Each step's output goes to
# $T/dc-STEP.out; a step that fails shows it and ends the test.
dc_up() {
	local d=$1 step
	shift
	for step in provision start "$@"; do
		MMC=${MMC:-} "$ADDC" "$step" "$d" > "$T/dc-$step.out" 2>&1 ||
			{ cat "$T/dc-$step.out"; exit 1; }
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
