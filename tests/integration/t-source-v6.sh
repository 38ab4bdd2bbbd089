#!/bin/bash
# The per-source limits hold an IPv6 client to its /64, not to one address: a host
# on the Internet is given a /64 and may send from any address in it, so each
# address counted alone would multiply every per-source limit by 2^64.  In a
# network namespace of this test's own, greenwichd listens on 2001:db8:9::1 and the
# outsider sends from 2001:db8:5::10-14; users of 2001:db8:6::/64 are the victims'
# side.  connections-per-source, guess-source-limit and max-subscriptions-per-source
# each hold the /64 as one source (source_cases.py remote), and the log names it
# (2001:db8:5::/64); with [policy] internal-networks = 2001:db8:5::/64 each address
# of that LAN is its own source again (source_cases.py internal).
if [ -z "${GW_SOURCE_NS:-}" ]; then
	exec env GW_SOURCE_NS=1 unshare --net -- bash "$0" "$@"
fi
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
ip link set lo up
for a in 2001:db8:9::1 2001:db8:5::10 2001:db8:5::11 2001:db8:5::12 2001:db8:5::13 \
	2001:db8:5::14 2001:db8:6::1 2001:db8:6::2; do
	ip -6 addr add "$a/128" dev lo nodad
done
SERVER=2001:db8:9::1

limits=("[limits]" "connections-per-source = 2" "[auth]" "guess-source-limit = 3"
	"[presence]" "max-subscriptions-per-source = 2")
write_conf "${limits[@]}"
sed -i "s|^udp = .*|& , [$SERVER]:$PORT|; s|^tcp = .*|& , [$SERVER]:$PORT|" "$T/greenwich.conf"
for u in alice bob carol dave erin frank gina; do add_user "$u" secret; done
start_gwd
run_cases source_cases.py remote "$PORT" "$SERVER"
check "the refused connection is logged with its /64" \
	grep -q "event=connection-refused source=2001:db8:5::/64 limit=2" "$T/greenwichd.log"
check "the held-back guess is logged with its address" \
	grep -qF "event=auth-throttled scheme=digest user=gina source=[2001:db8:5::13] " "$T/greenwichd.log"
check "... and says its /64 is what is held back" \
	grep -qF 'user=gina source=[2001:db8:5::13] retry-after=1800 reason="too many failed sign-ins" held=source:2001:db8:5::/64' \
	"$T/greenwichd.log"
check "the refused SUBSCRIBE is logged with its address and its /64" \
	grep -qF 'source=[2001:db8:5::12] reason="too many subscriptions from this address" counted-as=2001:db8:5::/64' "$T/greenwichd.log"
stop_gwd
check "greenwichd stops cleanly (exit $GWD_RC)" [ "$GWD_RC" = 0 ]

# the same clients, the outsider's /64 now an internal LAN: every desk its own source
mv "$T/greenwichd.log" "$T/greenwichd-remote.log"
rm -rf "$T/state"
write_conf "${limits[@]}" "[policy]" "internal-networks = 2001:db8:5::/64, 10.0.0.0/8"
sed -i "s|^udp = .*|& , [$SERVER]:$PORT|; s|^tcp = .*|& , [$SERVER]:$PORT|" "$T/greenwich.conf"
for u in alice bob carol dave erin frank gina; do add_user "$u" secret; done
GWD_STARTS=1
start_gwd
run_cases source_cases.py internal "$PORT" "$SERVER"
check "nothing refused for the internal LAN" \
	[ "$(grep -c "event=connection-refused\|event=auth-throttled\|event=subscribe-refused" \
		"$T/greenwichd.log")" = 0 ]
finish
