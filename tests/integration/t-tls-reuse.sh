#!/bin/bash
# t-tls-reuse.sh: a signed-in TLS client closes or resets its connection just as another
# client connects, so greenwichd accepts the second on the descriptor number the first
# had, around the time it takes the first connection apart.  Sofia's tls_free() writes a
# close_notify through the first one's socket BIO, i.e. through that number; should it run
# after the number was taken, daemon/sofia/tlsleak.c keeps it quiet.  (In strace of this
# test Sofia wrote it before closing the descriptor every time: the test guards the
# second client's connection, it does not show the write happening.)  The second client
# must keep its connection throughout, and no event loop may see a descriptor closed or
# reused under a registration (daemon/sofia/wait_audit.c).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/server.key" -out "$T/server.crt" \
	-days 2 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" 2>/dev/null
write_conf "[tls]" "certificate = $T/server.crt" "key = $T/server.key"
sed -i "s|^tcp = .*|&\ntls = 127.0.0.1:$TLSPORT|" "$T/greenwich.conf"
add_user ra ra-pw
add_user rb rb-pw
start_gwd

python3 "$top_srcdir/tests/integration/tlsreuse.py" "$TLSPORT" "$T/server.crt" \
	"${REUSE_ROUNDS:-6}" > "$T/reuse.out" 2>&1 || true
check "every round ran: $(tail -1 "$T/reuse.out")" grep -qE "^rounds [0-9]+ broken" "$T/reuse.out"
check "no second client lost its connection: $(grep -v '^rounds' "$T/reuse.out" | head -3)" \
	grep -qE "^rounds [0-9]+ broken 0$" "$T/reuse.out"
check "greenwichd runs" kill -0 "$GWD_PID"
check "no event-loop anomaly: $(grep -m1 'wait-anomaly' "$T/greenwichd.log")" \
	bash -c "! grep -q 'event=wait-anomaly' '$T/greenwichd.log'"
finish
