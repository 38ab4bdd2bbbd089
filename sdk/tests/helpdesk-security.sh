#!/bin/bash
# helpdesk-router against open relay, forged dialogs and operator
# impersonation (tests/helpdesk-security.py), in both run modes: the library's
# thread, then embedded; each on 8 free ports of its own.
set -eu
# shellcheck source=tests/lib/ports.sh
. "${GW_TESTLIB:-$GWP_SRCDIR/../tests/lib}/ports.sh"
PY=${PYTHON:-python3}
GWP_PORT_BASE=$(free_port 8) "$PY" "$GWP_SRCDIR/tests/helpdesk-security.py"
GWP_PORT_BASE=$(free_port 8) "$PY" "$GWP_SRCDIR/tests/helpdesk-security.py" -e
