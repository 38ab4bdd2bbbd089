#!/bin/bash
# addc.sh - a throw-away Samba AD domain controller for Greenwich tests and the demo.
#
#   addc.sh provision DIR [--realm REALM] [--domain NETBIOS] [--demo] [--host-loopback]
#   addc.sh start DIR
#   addc.sh stop DIR
#   addc.sh status DIR
#   addc.sh run-with-hosts DIR -- CMD [ARG...]
#   addc.sh join DIR
#
# Everything lives inside DIR; the machine's /etc/krb5.conf, /etc/samba and /etc/hosts are
# never read for the domain's configuration nor written. See README.md in this folder.
set -eu

# 120 s: once (CI, 2026-12-08, the sanitizer tests running beside it) a restarted DC
# did not answer within 60 s on a loaded 2-core machine; it normally takes under 1 s
ADDC_START_TIMEOUT=${ADDC_START_TIMEOUT:-120}
ADDC_STOP_TIMEOUT=${ADDC_STOP_TIMEOUT:-20}

addc_die()
{
	echo "addc.sh: $*" >&2
	exit 1
}

addc_usage()
{
	sed -n '4,9s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
	exit 2
}

# Absolute path of DIR (which may not exist yet).
addc_abspath()
{
	case $1 in
	/*) printf '%s\n' "$1" ;;
	*) printf '%s/%s\n' "$PWD" "$1" ;;
	esac
}

# Loads DIR/env (written by provision) into this shell.
addc_load_env()
{
	[ -f "$1/env" ] || addc_die "$1 is not a provisioned DC directory (no $1/env)"
	# shellcheck disable=SC1091
	. "$1/env"
}

# A random password that satisfies the AD complexity rules.
addc_random_password()
{
	local r
	r=$(head -c 12 /dev/urandom | base64 | tr -d '/+=')
	printf 'Gw-%s-9a\n' "$r"
}

# unicodePwd value: the password in double quotes, UTF-16LE, base64.
addc_unicodepwd()
{
	printf '"%s"' "$1" | iconv -f UTF-8 -t UTF-16LE | base64 -w0
}

# ---------------------------------------------------------------------------- provision

# addc_ldif_user NAME PASSWORD UAC [EXTRA-LDIF-LINES]: one user entry, on stdout.
addc_ldif_user()
{
	cat <<EOF
dn: CN=$1,CN=Users,$ADDC_BASE_DN
objectClass: user
sAMAccountName: $1
userPrincipalName: $1@$ADDC_DNS_DOMAIN
givenName: $1
displayName: $1 (test user)
userAccountControl: $3
unicodePwd:: $(addc_unicodepwd "$2")
EOF
	[ -z "${4:-}" ] || printf '%s\n' "$4"
	echo
}

# addc_ldif_group NAME MEMBER...: a global security group with the given member CNs.
addc_ldif_group()
{
	local name=$1 m
	shift
	printf 'dn: CN=%s,CN=Users,%s\nobjectClass: group\nsAMAccountName: %s\n' \
		"$name" "$ADDC_BASE_DN" "$name"
	for m in "$@"; do
		printf 'member: CN=%s,CN=Users,%s\n' "$m" "$ADDC_BASE_DN"
	done
	echo
}

# Passwords never expire in this throw-away domain (the demo may live for weeks).
addc_ldif_domain_policy()
{
	printf 'dn: %s\nchangetype: modify\nreplace: maxPwdAge\nmaxPwdAge: %s\n\n' \
		"$ADDC_BASE_DN" "-9223372036854775808"
}

# The DC's own LDAP service names. Samba's dnsupdate service would add them at run time
# (samba_spnupdate) but is disabled: it would also send DNS updates through the
# machine's resolvers. Without ldap/<fqdn> no GSSAPI bind to the DC works.
addc_ldif_dc_spns()
{
	local f=$ADDC_DC_FQDN n=${ADDC_DC_FQDN%%.*} d=$ADDC_DNS_DOMAIN s
	printf 'dn: CN=%s,OU=Domain Controllers,%s\nchangetype: modify\nadd: servicePrincipalName\n' \
		"${n^^}" "$ADDC_BASE_DN"
	for s in "ldap/$f" "ldap/$f/$ADDC_DOMAIN" "ldap/$f/$d" "ldap/${n^^}" "GC/$f/$d" \
		"HOST/$f/$ADDC_DOMAIN" "RestrictedKrbHost/${n^^}" "RestrictedKrbHost/$f" \
		"ldap/$f/DomainDnsZones.$d" "ldap/$f/ForestDnsZones.$d"; do
		printf 'servicePrincipalName: %s\n' "$s"
	done
	echo
}

# The test fixtures; see README.md. 512 = normal account, 514 = normal + disabled.
# accountExpires 132223104000000000 = 2020-01-01 00:00:00 UTC.
addc_ldif_fixtures()
{
	local d=$ADDC_DNS_DOMAIN
	addc_ldif_user alice 'Apple-Pie-11' 512 "mail: alice@$d"
	addc_ldif_user bob 'Blue-Sky-22' 512 "mail: bob@$d
proxyAddresses: SIP:robert@$d
proxyAddresses: sip:bobby@$d"
	addc_ldif_user carol 'Coral-Reef-33' 512 "mail: carol@$d"
	addc_ldif_user dave 'Deep-Sea-44' 512
	addc_ldif_user erin 'Emerald-55' 514 "mail: erin@$d"
	addc_ldif_user frank 'Forest-66' 512 "mail: frank@$d
accountExpires: 132223104000000000"
	addc_ldif_group Support carol
	addc_ldif_group Staff Support
	addc_ldif_group "Greenwich Users" alice bob carol erin frank Staff
}

addc_ldif_demo()
{
	local d=$ADDC_DNS_DOMAIN
	addc_ldif_user alice 'Greenwich-Demo-1' 512 "mail: alice@$d"
	addc_ldif_user bob 'Greenwich-Demo-2' 512 "mail: bob@$d"
	addc_ldif_group Support bob
}

# Writes DIR/krb5.conf, DIR/hosts, DIR/resolv.conf and DIR/env.
addc_write_client_files()
{
	local dir=$1
	cat >"$dir/krb5.conf" <<EOF
[libdefaults]
	default_realm = $ADDC_REALM
	dns_lookup_kdc = false
	dns_lookup_realm = false
	rdns = false
	dns_canonicalize_hostname = false

[realms]
	$ADDC_REALM = {
		kdc = $ADDC_DC_IP
		admin_server = $ADDC_DC_IP
		kpasswd_server = $ADDC_DC_IP
	}

[domain_realm]
	.$ADDC_DNS_DOMAIN = $ADDC_REALM
	$ADDC_DNS_DOMAIN = $ADDC_REALM
EOF
	{
		# The DC's name comes first: reverse lookups of its address must yield it.
		printf '%s\t%s %s %s\n' "$ADDC_DC_IP" "$ADDC_DC_FQDN" "${ADDC_DC_FQDN%%.*}" \
			"$ADDC_DNS_DOMAIN"
		printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n'
	} >"$dir/hosts"
	printf 'nameserver %s\n' "$ADDC_DC_IP" >"$dir/resolv.conf"
	(
		umask 077
		for v in ADDC_DIR ADDC_SMB_CONF ADDC_TLS_CA KRB5_CONFIG KRB5CCNAME WINBINDD_SOCKET_DIR \
			ADDC_ADMIN_PASSWORD ADDC_REALM ADDC_DOMAIN ADDC_DNS_DOMAIN ADDC_BASE_DN \
			ADDC_DC_FQDN ADDC_DC_IP ADDC_NETNS ADDC_MODE; do
			printf "export %s='%s'\n" "$v" "${!v//\'/\'\\\'\'}"
		done
		[ -z "$ADDC_LDAP_NOCANON" ] || echo "export LDAPSASL_NOCANON=on"
	) >"$dir/env"
}

# shellcheck disable=SC2034 # the ADDC_* variables are written to DIR/env by name
addc_provision()
{
	local dir="" realm="" domain="" mode=test netns=yes
	while [ $# -gt 0 ]; do
		case $1 in
		--realm) realm=${2:?--realm needs a value}; shift ;;
		--domain) domain=${2:?--domain needs a value}; shift ;;
		--demo) mode=demo ;;
		--host-loopback) netns="" ;;
		-*) addc_die "provision: unknown option $1" ;;
		*) [ -z "$dir" ] || addc_usage; dir=$(addc_abspath "$1") ;;
		esac
		shift
	done
	[ -n "$dir" ] || addc_usage
	if [ "$mode" = demo ]; then
		: "${realm:=DEMO.GREENWICH.TEST}" "${domain:=DEMO}"
	else
		: "${realm:=CORP.EXAMPLE.COM}" "${domain:=CORP}"
	fi
	mkdir -p "$dir"
	if [ -e "$dir/env" ] || [ -e "$dir/etc/smb.conf" ]; then
		addc_die "provision: $dir already holds a domain; use a fresh directory"
	fi

	ADDC_DIR=$dir
	ADDC_SMB_CONF=$dir/etc/smb.conf
	ADDC_TLS_CA=$dir/tls-ca.pem
	KRB5_CONFIG=$dir/krb5.conf
	KRB5CCNAME=FILE:$dir/krb5cc
	WINBINDD_SOCKET_DIR=$dir/winbindd
	ADDC_ADMIN_PASSWORD=$(addc_random_password)
	ADDC_REALM=${realm^^}
	ADDC_DOMAIN=${domain^^}
	ADDC_DNS_DOMAIN=${realm,,}
	ADDC_BASE_DN=DC=${ADDC_DNS_DOMAIN//./,DC=}
	ADDC_DC_FQDN=dc1.$ADDC_DNS_DOMAIN
	# In its own network namespace the DC gets 127.0.0.2: libldap takes 127.0.0.1 for
	# the local host and would ask Kerberos for ldap/<this machine's name> instead of
	# canonicalizing through the hosts file (see README.md).
	ADDC_DC_IP=127.0.0.2
	ADDC_NETNS=gwaddc-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
	ADDC_LDAP_NOCANON=""
	if [ -z "$netns" ]; then
		ADDC_DC_IP=127.0.0.1
		ADDC_NETNS=""
		ADDC_LDAP_NOCANON=on
	fi
	ADDC_MODE=$mode

	mkdir -p "$dir/run" "$dir/log" "$dir/winbindd" "$dir/ncalrpc"
	# -s /dev/null: start from Samba's built-in defaults, never from /etc/samba/smb.conf.
	samba-tool domain provision -s /dev/null --quiet --targetdir="$dir" \
		--realm="$ADDC_REALM" --domain="$ADDC_DOMAIN" --server-role=dc \
		--dns-backend=SAMBA_INTERNAL --host-name=dc1 --host-ip="$ADDC_DC_IP" \
		--adminpass="$ADDC_ADMIN_PASSWORD" \
		--option="interfaces = $ADDC_DC_IP" \
		--option="bind interfaces only = yes" \
		--option="pid directory = $dir/run" \
		--option="log file = $dir/log/samba.log" \
		--option="winbindd socket directory = $dir/winbindd" \
		--option="ncalrpc dir = $dir/ncalrpc" \
		--option="disable netbios = yes" \
		--option="server services = rpc ldap cldap kdc winbindd dns s3fs" \
		--option="prefork children = 1" \
		>"$dir/log/provision.log" 2>&1 ||
		{ tail -n 30 "$dir/log/provision.log" >&2; addc_die "provision: samba-tool failed"; }
	# The internal DNS must never forward to the machine's resolvers.
	sed -i '/^\s*dns forwarder\s*=/d' "$ADDC_SMB_CONF"

	addc_make_tls "$dir"
	addc_write_client_files "$dir"
	{
		addc_ldif_domain_policy
		addc_ldif_dc_spns
		if [ "$mode" = demo ]; then addc_ldif_demo; else addc_ldif_fixtures; fi
	} >"$dir/fixtures.ldif"
	addc_ldb_apply "$dir" "$dir/fixtures.ldif"
	echo "addc.sh: provisioned $ADDC_REALM ($mode) in $dir"
	[ "$mode" != demo ] || addc_print_demo
}

# A 2048-bit self-signed certificate for LDAPS made now: otherwise samba generates a
# 4096-bit one at its first start, which takes about two seconds.
addc_make_tls()
{
	local tls=$1/private/tls
	mkdir -p "$tls"
	openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -keyout "$tls/key.pem" \
		-out "$tls/cert.pem" -subj "/CN=$ADDC_DC_FQDN" \
		-addext "subjectAltName=DNS:$ADDC_DC_FQDN,IP:$ADDC_DC_IP" \
		>"$1/log/tls.log" 2>&1 ||
		{ cat "$1/log/tls.log" >&2; addc_die "provision: openssl failed"; }
	chmod 600 "$tls/key.pem"
	cp "$tls/cert.pem" "$tls/ca.pem"
	cp "$tls/cert.pem" "$1/tls-ca.pem"
}

# Applies an LDIF (adds and changetype: modify records) to the offline sam.ldb.
addc_ldb_apply()
{
	ldbmodify -H "$1/private/sam.ldb" --configfile="$1/etc/smb.conf" "$2" \
		>"$1/log/fixtures.log" 2>&1 ||
		{ cat "$1/log/fixtures.log" >&2; addc_die "provision: loading $2 failed"; }
}

addc_print_demo()
{
	cat <<EOF
Demo domain $ADDC_REALM (DC $ADDC_DC_FQDN at $ADDC_DC_IP)
  alice@$ADDC_DNS_DOMAIN   password Greenwich-Demo-1
  bob@$ADDC_DNS_DOMAIN     password Greenwich-Demo-2   (member of Support)
  Administrator             password $ADDC_ADMIN_PASSWORD
EOF
}

# ---------------------------------------------------------------------------- start/stop

# Prints the DC's PID if its pid file names a live samba process; fails otherwise.
addc_pid()
{
	local pidfile=$1/run/samba.pid pid
	[ -f "$pidfile" ] || return 1
	read -r pid <"$pidfile" || return 1
	case $pid in '' | *[!0-9]*) return 1 ;; esac
	[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = samba ] || return 1
	printf '%s\n' "$pid"
}

# Prints PID and all its descendants (the DC's prefork workers, smbd, winbindd). Other
# processes in the DC's network namespace (run-with-hosts clients) are not the DC's.
addc_tree()
{
	local pid=$1 stat rest ppid p
	declare -A kids=()
	for stat in /proc/[0-9]*/stat; do
		read -r p rest <"$stat" 2>/dev/null || continue
		rest=${rest##*) }
		ppid=${rest#* }
		ppid=${ppid%% *}
		kids[$ppid]+=" $p"
	done
	local queue=("$pid") seen=()
	while [ ${#queue[@]} -gt 0 ]; do
		p=${queue[0]}
		queue=("${queue[@]:1}")
		seen+=("$p")
		# shellcheck disable=SC2206
		[ -z "${kids[$p]:-}" ] || queue+=(${kids[$p]})
	done
	printf '%s\n' "${seen[@]}"
}

# True while any of the given PIDs exists.
addc_any_alive()
{
	local p
	for p in "$@"; do
		[ ! -d "/proc/$p" ] || return 0
	done
	return 1
}

# Runs CMD in the DC's network namespace (if it has one).
addc_in_netns()
{
	if [ -n "$ADDC_NETNS" ]; then
		nsenter --net="/run/netns/$ADDC_NETNS" -- "$@"
	else
		"$@"
	fi
}

addc_netns_up()
{
	[ -n "$ADDC_NETNS" ] || return 0
	# Two run-with-hosts at once may both try to add it.
	[ -e "/run/netns/$ADDC_NETNS" ] || ip netns add "$ADDC_NETNS" 2>/dev/null ||
		[ -e "/run/netns/$ADDC_NETNS" ] || addc_die "cannot create network namespace"
	ip -n "$ADDC_NETNS" link set lo up
	ip -n "$ADDC_NETNS" addr replace "$ADDC_DC_IP/8" dev lo
}

# Deletes the DC's network namespace unless processes other than the DC still use it (a
# greenwichd started with run-with-hosts must find the DC again after stop and start).
addc_netns_down()
{
	[ -n "$ADDC_NETNS" ] && [ -e "/run/netns/$ADDC_NETNS" ] || return 0
	if [ -n "$(ip netns pids "$ADDC_NETNS")" ]; then
		echo "addc.sh: network namespace $ADDC_NETNS kept: processes still run in it"
		return 0
	fi
	ip netns delete "$ADDC_NETNS"
}

# True once LDAP answers the rootDSE and the KDC issues a ticket to Administrator.
addc_probe()
{
	local dir=$1
	addc_in_netns ldapsearch -x -LLL -H "ldap://$ADDC_DC_IP" -s base -b "" \
		defaultNamingContext >/dev/null 2>&1 || return 1
	printf '%s\n' "$ADDC_ADMIN_PASSWORD" |
		KRB5CCNAME="FILE:$dir/admin.ccache" addc_in_netns \
			kinit "Administrator@$ADDC_REALM" >/dev/null 2>&1
}

addc_start()
{
	local dir pid deadline
	dir=$(addc_abspath "${1:?start: DIR missing}")
	addc_load_env "$dir"
	if pid=$(addc_pid "$dir"); then
		addc_die "start: DC already running in $dir (pid $pid)"
	fi
	addc_netns_up
	: >"$dir/log/samba.stdout"
	addc_in_netns samba -s "$ADDC_SMB_CONF" --daemon >>"$dir/log/samba.stdout" 2>&1 </dev/null ||
		{ tail -n 20 "$dir/log/samba.stdout" >&2; addc_die "start: samba did not start"; }
	deadline=$((SECONDS + ADDC_START_TIMEOUT))
	until addc_probe "$dir"; do
		if [ "$SECONDS" -ge "$deadline" ] || ! addc_pid "$dir" >/dev/null; then
			echo "addc.sh: start: DC in $dir not answering LDAP and Kerberos" \
				"after ${ADDC_START_TIMEOUT}s; log tail:" >&2
			tail -n 30 "$dir/log/samba.log" "$dir/log/samba.stdout" >&2 || true
			addc_stop "$dir" >/dev/null 2>&1 || true
			exit 1
		fi
		sleep 0.2
	done
	echo "addc.sh: DC $ADDC_DC_FQDN up (pid $(addc_pid "$dir"))"
}

addc_stop()
{
	local dir pid deadline pids
	dir=$(addc_abspath "${1:?stop: DIR missing}")
	addc_load_env "$dir"
	if pid=$(addc_pid "$dir"); then
		mapfile -t pids < <(addc_tree "$pid" | sort -un)
		kill -TERM "$pid"
		deadline=$((SECONDS + ADDC_STOP_TIMEOUT))
		while addc_any_alive "${pids[@]}" && [ "$SECONDS" -lt "$deadline" ]; do
			sleep 0.1
		done
		if addc_any_alive "${pids[@]}"; then
			echo "addc.sh: stop: DC processes still there after ${ADDC_STOP_TIMEOUT}s," \
				"sending SIGKILL" >&2
			kill -KILL "${pids[@]}" 2>/dev/null || true
			while addc_any_alive "${pids[@]}"; do sleep 0.1; done
		fi
		echo "addc.sh: DC in $dir stopped (pid $pid and ${#pids[@]} processes in all)"
	else
		echo "addc.sh: DC in $dir not running"
	fi
	rm -f "$dir/run/samba.pid"
	addc_netns_down
}

addc_status()
{
	local dir pid
	dir=$(addc_abspath "${1:?status: DIR missing}")
	addc_load_env "$dir"
	if pid=$(addc_pid "$dir"); then
		echo "running pid=$pid realm=$ADDC_REALM dc=$ADDC_DC_FQDN netns=${ADDC_NETNS:-none}"
	else
		echo "stopped realm=$ADDC_REALM"
		return 3
	fi
}

# Runs CMD with the domain's environment, in the DC's network namespace, and in a
# private mount namespace where DIR/hosts and DIR/resolv.conf hide the machine's.
addc_run_with_hosts()
{
	local dir
	dir=$(addc_abspath "${1:?run-with-hosts: DIR missing}")
	shift
	[ "${1:-}" = -- ] && shift
	[ $# -gt 0 ] || addc_die "run-with-hosts: no command given"
	# A caller that sourced DIR/env keeps its own values (e.g. a KRB5CCNAME of its own).
	[ "${ADDC_DIR:-}" = "$dir" ] || addc_load_env "$dir"
	# libwbclient ignores WINBINDD_SOCKET_DIR (only Samba's selftest can move it), so
	# the DC's socket directory is mounted where it looks: /run/samba/winbindd.
	[ -d /run/samba ] || mkdir -m 0755 /run/samba
	addc_netns_up
	# shellcheck disable=SC2016 # expanded by the inner shell
	addc_in_netns unshare -m --propagation private -- /bin/sh -c '
		mount --bind "$1/hosts" /etc/hosts &&
		mount --bind "$1/resolv.conf" /etc/resolv.conf &&
		mount -t tmpfs -o mode=0755,size=64k gwaddc /run/samba &&
		mkdir -m 0755 /run/samba/winbindd &&
		mount --bind "$1/winbindd" /run/samba/winbindd || exit 125
		shift
		exec "$@"' addc-run "$dir" "$@"
}

# Join greenwich.<domain> to the running DC as an admin would: with greenwich-mmc domain
# join ($MMC) and its default, the computer account (keytab DIR/gw.keytab) and sip/ on an
# account of its own, gwsip-greenwich (keytab DIR/sip.keytab, for [domain] sip-keytab);
# the settings it writes go to DIR/join.conf.  Without $MMC (addc.sh used outside the
# tree): adcli alone, sip/ on the computer account, no DIR/sip.keytab.
addc_join()
{
	local dir
	dir=$(addc_abspath "${1:?join: DIR missing}")
	if [ -n "${MMC:-}" ]; then
		[ -x "$MMC" ] || addc_die "join: no greenwich-mmc at $MMC"
		# shellcheck disable=SC1091 # DIR/env, written by provision
		printf '[server]\ndomains = %s\nstate-directory = %s\n' \
			"$(. "$dir/env" && echo "$ADDC_DNS_DOMAIN")" "$dir" > "$dir/join.conf"
		# shellcheck disable=SC2016 # expanded in the domain, with DIR/env loaded
		addc_run_with_hosts "$dir" -- sh -c 'printf "%s\n" "$ADDC_ADMIN_PASSWORD" |
			"$0" -c "$1" domain join --domain "$ADDC_DNS_DOMAIN" \
			--dc "$ADDC_DC_FQDN" --fqdn "greenwich.$ADDC_DNS_DOMAIN" \
			--keytab "$ADDC_DIR/gw.keytab" --user Administrator --password-stdin' \
			"$MMC" "$dir/join.conf" || return 1
		chmod 0600 "$dir/gw.keytab" "$dir/sip.keytab"
		return 0
	fi
	# shellcheck disable=SC2016 # expanded in the domain, with DIR/env loaded
	addc_run_with_hosts "$dir" -- sh -c 'printf "%s" "$ADDC_ADMIN_PASSWORD" |
		adcli join --domain "$ADDC_DNS_DOMAIN" --domain-controller "$ADDC_DC_FQDN" \
		-U Administrator --stdin-password --host-keytab "$ADDC_DIR/gw.keytab" \
		--host-fqdn "greenwich.$ADDC_DNS_DOMAIN" --service-name sip'
	chmod 0600 "$dir/gw.keytab"
}

case ${1:-} in
provision) shift; addc_provision "$@" ;;
start) shift; addc_start "$@" ;;
stop) shift; addc_stop "$@" ;;
status) shift; addc_status "$@" ;;
run-with-hosts) shift; addc_run_with_hosts "$@" ;;
join) shift; addc_join "$@" ;;
*) addc_usage ;;
esac
