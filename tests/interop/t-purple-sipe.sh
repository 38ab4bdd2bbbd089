#!/bin/bash
# purple-sipe, the headless pidgin-sipe driver, against a scripted listener on 127.0.0.1
# (sipe-listener.py): the plugin loads and names its settings, connects over TCP, sends
# REGISTER, reports the connection error on a 401 without NTLM and on a failed NTLM
# start, and, against a server that asks for no authentication, signs in, parses XML
# (contact list, PIDF: the libxml2 SAX repair), shows presence, sends and receives IMs,
# reports an undelivered IM and publishes its own status. greenwichd is not involved.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"
# shellcheck source=tests/interop/purple-sipe-env.sh
. "$(dirname "$0")/purple-sipe-env.sh"

LISTENER="$top_srcdir/tests/interop/sipe-listener.py"
# libpurple and sipe must write nothing into the real home directory
export HOME="$T/home"
mkdir -p "$HOME" "$T/tmp"


# listen NAME MODE [listener args]: start sipe-listener.py, set LPORT and LPID.
listen() {
	local n="$1" m="$2"
	shift 2
	/usr/bin/python3 "$LISTENER" --mode "$m" --port-file "$T/$n.port" --log "$T/$n.sip" \
		"$@" > "$T/$n.listener" 2>&1 &
	LPID=$!
	PIDS+=("$LPID")
	timeout 5 bash -c "until [ -s '$T/$n.port' ]; do sleep 0.1; done" || true
	LPORT=$(cat "$T/$n.port")
}

# ps_run NAME [purple-sipe args]: run alice against the listener; status in PS_RC.
ps_run() {
	local n="$1"
	shift
	PS_RC=0
	TMPDIR="$T/tmp" timeout 60 env "${PS_ENV[@]}" "$PS" --user sip:alice@corp.example.com \
		--login 'CORP\alice' --password Apple-Pie-11 --server "127.0.0.1:$LPORT" --transport tcp --debug \
		"$@" > "$T/$n.out" 2> "$T/$n.err" || PS_RC=$?
}

has() { # has FILE EXTENDED-REGEX
	grep -a -q -E -- "$2" "$1"
}

env "${PS_ENV[@]}" "$PS" --list-options > "$T/options.out"
check "prpl-sipe loads (pidgin-sipe 1.25)" \
	has "$T/options.out" "plugin-loaded id=prpl-sipe version=1\.25"
check "setting server" has "$T/options.out" "^option server "
check "setting transport: tcp and tls" \
	has "$T/options.out" "^option transport .*values=auto,tls,tcp"
check "setting authentication: ntlm and krb5" has "$T/options.out" \
	"^option authentication .*values=auto,ntlm,krb5,tls-dsk"
check "setting sso" has "$T/options.out" "^option sso "

# 1. Digest only (greenwichd before MS-SIPAE): no NTLM challenge, no sign-in.
listen digest digest
ps_run digest --timeout 20
check "digest: exit status 2 (connection error)" [ "$PS_RC" = 2 ]
check "digest: the error is printed" \
	has "$T/digest.out" "connection-error reason=[0-9]+ text=Incompatible authentication scheme"
check "digest: REGISTER over TCP to the given port" \
	has "$T/digest.sip" "^Via: SIP/2.0/tcp 127\.0\.0\.1:[0-9]+;branch=z9hG4bK"
check "digest: REGISTER for alice, Request-URI the domain" \
	has "$T/digest.sip" "^REGISTER sip:corp\.example\.com SIP/2\.0"
check "digest: the REGISTER is in the --debug output too" \
	has "$T/digest.err" "^REGISTER sip:corp\.example\.com SIP/2\.0"
check "digest: no credentials were sent" bash -c "! grep -a -q '^Authorization' '$T/digest.sip'"
check "digest: no signed-on" bash -c "! grep -a -q signed-on '$T/digest.out'"

# 1b. The same over TLS, with a self-signed certificate: refused unless --accept-cert.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/tls.key" -out "$T/tls.crt" -days 2 \
	-subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
listen tls digest --tls "$T/tls.crt" "$T/tls.key"
ps_run tls-reject --timeout 20 --transport tls
check "tls: an unknown certificate is rejected by default" \
	has "$T/tls-reject.out" "request title=.*Certificate.* answer=_?Reject"
check "tls: and reported as a connection error" \
	has "$T/tls-reject.out" "connection-error reason=[0-9]+ text=.*certificate"
ps_run tls --timeout 20 --transport tls --accept-cert
check "tls: with --accept-cert the REGISTER goes over TLS" \
	has "$T/tls.sip" "^Via: SIP/2.0/tls 127\.0\.0\.1:[0-9]+;branch="
check "tls: then the same connection error (exit 2)" [ "$PS_RC" = 2 ]

# 2. NTLM challenge, then the same bare challenge again: sipe gives up.
listen ntlm ntlm
ps_run ntlm --timeout 20
check "ntlm: exit status 2" [ "$PS_RC" = 2 ]
check "ntlm: authentication failure reported" \
	has "$T/ntlm.out" "connection-error reason=[0-9]+ text=(Failed to authenticate|Authentication failed)"
check "ntlm: connectionless NTLM start (gssapi-data empty, version 3)" has "$T/ntlm.sip" \
	'^Authorization: NTLM qop="auth", realm="SIP Communications Service", targetname="greenwich\.corp\.example\.com", gssapi-data="", version=3'

# 3. No authentication at all: everything after sign-in, unsigned.
listen open open --text hello-from-bob --status away
ps_run open --timeout 20 --settle 2 --expect-im hello-from-bob \
	--expect-status sip:bob@corp.example.com away --send-im sip:bob@corp.example.com \
	--text hi-bob --set-status away
check "open: exit status 0" [ "$PS_RC" = 0 ]
check "open: signed-on" has "$T/open.out" "^[0-9:.]+ signed-on account=alice@corp\.example\.com"
check "open: bob's IM received, sender printed" \
	has "$T/open.out" "received-im-msg from=sip:bob@corp\.example\.com text=hello-from-bob"
check "open: bob's presence (PIDF) reached away" \
	has "$T/open.out" "status-reached buddy=sip:bob@corp\.example\.com status=away"
check "open: the SAX repair was used" has "$T/open.out" "xml-sax1-fixes count=[1-9]"
check "open: alice's IM went out as INVITE, then MESSAGE with the text" \
	bash -c "grep -a -q '^INVITE sip:bob@corp.example.com' '$T/open.sip' &&
		grep -a -A12 '^MESSAGE sip:' '$T/open.sip' | grep -a -q '^hi-bob'"
check "open: own status set to away" has "$T/open.out" "status-set status=away"
check "open: and published (legacy mode: SERVICE with a SOAP setPresence)" \
	has "$T/open.sip" "<m:setPresence>"
check "open: done, then a clean exit" has "$T/open.out" "done$"

# 4. The callee is offline: the IM is reported as not delivered.
listen offline open --im-reply 480
ps_run offline --timeout 20 --settle 10 --send-im sip:bob@corp.example.com --text lost
check "offline: exit status 3 (not delivered)" [ "$PS_RC" = 3 ]
check "offline: the error line is printed" \
	has "$T/offline.out" "im-error conv=sip:bob@corp\.example\.com"

# 5. Without the SAX repair, Debian 12's pidgin-sipe never sees presence.
listen nofix open --status away
PURPLE_SIPE_NO_SAX_FIX=1 ps_run nofix --timeout 6 --expect-status sip:bob@corp.example.com away
check "nofix: presence never arrives (timeout, exit 1)" [ "$PS_RC" = 1 ]
check "nofix: but the PIDF NOTIFY was sent" has "$T/nofix.sip" "^NOTIFY sip:"

check "nothing written to the home directory" [ -z "$(ls -A "$HOME")" ]
check "purple-sipe removed its temporary user directories" [ -z "$(ls -A "$T/tmp")" ]
finish
