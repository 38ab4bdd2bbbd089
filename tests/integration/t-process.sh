#!/bin/bash
# The process: greenwichd refuses root without --allow-root (DESIGN.md, "Privileges"),
# creates its files mode 0640 (umask 027), and what greenwich-mmc creates in the state
# directory belongs to the directory's owner, so greenwichd running as that user
# serves it: a user registers and a message is delivered.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

write_conf
if [ "$(id -u)" = 0 ]; then
	rc=0; "$GWD" -f -c "$T/greenwich.conf" > "$T/root.log" 2>&1 || rc=$?
	check "as root without --allow-root: refused (exit $rc)" [ "$rc" = 1 ]
	check "... and says why" grep -q "refusing to run as root.*--allow-root" "$T/root.log"
	check "... before creating anything" [ ! -e "$T/state/location.db" ]
	check "--check-config still works as root" "$GWD" --check-config -c "$T/greenwich.conf"
	RUNAS=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
	chown nobody:nogroup "$T/state"
	chmod 0755 "$T" # nobody reaches its state directory
	sed -i "s|^control-socket = .*|control-socket = $T/state/control.sock|" "$T/greenwich.conf"
else
	RUNAS=()
fi
STATE_OWNER=$(stat -c %U:%G "$T/state")

add_user alice alice-pw
add_user bob bob-pw
check "greenwich-mmc's account database belongs to the state directory's owner, 0640" \
	[ "$(stat -c '%a %U:%G' "$T/state/greenwich.db")" = "640 $STATE_OWNER" ]
check "greenwich-mmc's audit log belongs to the state directory's owner, 0640" \
	[ "$(stat -c '%a %U:%G' "$T/state/mmc-audit.log")" = "640 $STATE_OWNER" ]

GWD_WRAP="${RUNAS[*]}" start_gwd
check "greenwichd runs as the state directory's owner ($STATE_OWNER) without --allow-root" \
	bash -c "[ \"\$(stat -c %U /proc/$GWD_PID)\" = '${STATE_OWNER%%:*}' ]"
check "its location database is mode 0640 (umask 027)" \
	[ "$(stat -c %a "$T/state/location.db")" = 640 ]
check "no running-as-root warning" bash -c "! grep -q event=running-as-root '$T/greenwichd.log'"

legit_im unprivileged
finish
