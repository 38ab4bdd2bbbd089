#!/bin/bash
# helpdesk-router against open relay, forged dialogs and operator
# impersonation (tests/helpdesk-security.py), in both run modes:
# the library's thread on ports +80..87, embedded on +90..97.
set -eu
PY=${PYTHON:-python3}
"$PY" "$GWP_SRCDIR/tests/helpdesk-security.py"
GWP_PORT_BASE=$((${GWP_PORT_BASE:-5300} + 10)) "$PY" "$GWP_SRCDIR/tests/helpdesk-security.py" -e
