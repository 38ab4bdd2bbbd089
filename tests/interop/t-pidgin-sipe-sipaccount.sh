#!/bin/bash
# t-pidgin-sipe.sh with sip/ on an account of its own ([domain] sip-keytab, the admin guide's
# "An account of its own for sip/"): the real pidgin-sipe still signs in with NTLM and with
# Kerberos (a ticket now made with that account's key) and the IM goes through.
SIPE_SIP_ACCOUNT=1 exec bash "$(dirname "$0")/t-pidgin-sipe.sh"
