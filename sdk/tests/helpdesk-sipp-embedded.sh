#!/bin/bash
# The helpdesk-router SIPp scenario again, with the router embedded in its own
# poll() loop (-e: gwp_proxy_attach + gwp_proxy_dispatch), on free ports of its own.
set -eu
export ROUTER_FLAGS=-e
exec bash "$(dirname "$0")/helpdesk-sipp.sh"
