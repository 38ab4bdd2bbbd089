#!/bin/bash
# The helpdesk-router SIPp scenario again, with the router embedded in its own
# poll() loop (-e: gwp_proxy_attach + gwp_proxy_dispatch), on ports +40..70.
set -eu
export ROUTER_FLAGS=-e
export GWP_PORT_BASE=$((${GWP_PORT_BASE:-5300} + 40))
exec bash "$(dirname "$0")/helpdesk-sipp.sh"
