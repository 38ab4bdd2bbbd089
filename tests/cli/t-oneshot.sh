#!/bin/bash
# t-oneshot.sh - greenwich-mmc one-shot commands against golden output: help, the tree
# verbs, local users, JSON, and every error case with its exit code.  The output of each
# case (exit code, stdout, stderr; the scratch directory written as @T@) must equal
# golden/NAME.out.  GOLDEN_UPDATE=1 rewrites the files (then review them with git diff).
set -eu
# shellcheck source=tests/cli/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CONF=$T/greenwich.conf
write_conf "$CONF"
VERSION=$("$MMC" --version | sed 's/^greenwich-mmc //')

# golden NAME STDIN ARG...: run greenwich-mmc ARG... with STDIN, compare with golden/NAME.out
golden()
{
	local name=$1 input=$2 rc=0
	shift 2
	printf '%s' "$input" | "$MMC" "$@" >"$T/stdout" 2>"$T/stderr" || rc=$?
	{
		echo "exit $rc"
		echo "--- stdout"
		cat "$T/stdout"
		echo "--- stderr"
		cat "$T/stderr"
	} | sed -e "s|$MMC|@MMC@|g" -e "s|$T|@T@|g" -e "s|$VERSION|@VERSION@|g" >"$T/got"
	if [ "${GOLDEN_UPDATE:-}" = 1 ]; then
		cp "$T/got" "$HERE/golden/$name.out"
	fi
	if diff -u "$HERE/golden/$name.out" "$T/got" >"$T/diff" 2>&1; then
		pass "$name"
	else
		fail "$name"
		sed 's/^/     /' "$T/diff"
	fi
}

C=(-c "$CONF")
echo "# help and usage"
golden help '' --help
golden help-command '' help
golden help-domain '' help domain
golden help-unknown '' help frobnicate
golden no-command-no-tty ''
golden bad-option '' --frobnicate
golden unknown-command '' "${C[@]}" frobnicate
golden noun-without-verb '' "${C[@]}" domain
golden unknown-verb '' "${C[@]}" domain frob
golden console-only '' "${C[@]}" cd /
golden missing-config '' -c "$T/nonexistent.conf" domain show

echo "# local users"
golden lu-add 'Secret-1
' "${C[@]}" local-user add alice@example.com --password-stdin
golden lu-add-bob 'Secret-2
' "${C[@]}" local-user add bob@example.com --password-stdin
golden lu-add-empty '
' "${C[@]}" local-user add carol@example.com --password-stdin
golden lu-add-other-domain 'x
' "${C[@]}" local-user add carol@other.org --password-stdin
golden lu-add-no-user '' "${C[@]}" local-user add
golden lu-list '' "${C[@]}" local-user list
golden lu-list-json '' "${C[@]}" --json local-user list
golden lu-remove-missing '' "${C[@]}" local-user remove nobody@example.com
golden lu-remove '' "${C[@]}" local-user remove bob@example.com

echo "# the tree, one-shot"
golden ls-root '' "${C[@]}" ls
golden ls-domain '' "${C[@]}" ls /example.com
golden ls-domain-json '' "${C[@]}" --json ls /example.com
golden ls-servers '' "${C[@]}" ls /example.com/Servers
golden ls-server '' "${C[@]}" ls /example.com/Servers/sip1.example.com
golden ls-local-users '' "${C[@]}" ls "/example.com/Local users"
golden ls-missing '' "${C[@]}" ls /example.com/Nothing
golden show-root '' "${C[@]}" show /
golden show-server '' "${C[@]}" show /example.com/Servers/sip1.example.com
golden show-domain '' "${C[@]}" show /example.com
golden show-domain-json '' "${C[@]}" --json show /example.com
golden show-local-user '' "${C[@]}" properties "/example.com/Local users/alice@example.com"
golden show-local-user-json '' "${C[@]}" --json show "/example.com/Local users/alice@example.com"
golden show-case-insensitive '' "${C[@]}" show "/EXAMPLE.COM/local USERS/ALICE@example.com"
golden new-local-user 'Secret-3
' "${C[@]}" new "/example.com/Local users/dave@example.com"
golden new-elsewhere 'x
' "${C[@]}" new /example.com/Servers/x
golden set-bad-property '' "${C[@]}" set "/example.com/Local users/dave@example.com" colour blue
golden set-password '' "${C[@]}" set "/example.com/Local users/dave@example.com" password New-Secret-4
golden set-domain-group '' "${C[@]}" set /example.com enabled-group "Greenwich Users"
golden show-domain-after-set '' "${C[@]}" domain show
golden delete-local-user '' "${C[@]}" delete "/example.com/Local users/dave@example.com"
golden delete-missing '' "${C[@]}" delete "/example.com/Local users/dave@example.com"
golden delete-container '' "${C[@]}" delete /example.com/Servers

echo "# live data and AD without a daemon or a domain: clear errors"
golden server-status '' "${C[@]}" server status
golden server-status-json '' "${C[@]}" --json server status
golden users-list '' "${C[@]}" users list
golden policy-list '' "${C[@]}" policy list
golden ls-status '' "${C[@]}" ls /example.com/Servers/sip1.example.com/Status
golden show-users '' "${C[@]}" show /example.com/Users
golden ls-federation '' "${C[@]}" ls /example.com/Federation

echo "# domain commands without a domain"
golden domain-show '' "${C[@]}" domain show
golden domain-test-not-joined '' "${C[@]}" domain test
golden domain-leave-not-joined '' "${C[@]}" domain leave --password-stdin
golden join-no-domain '' "${C[@]}" domain join --user Administrator --password-stdin
golden join-bad-domain '' "${C[@]}" domain join --domain 'bad domain!' --password-stdin
golden join-bad-option '' "${C[@]}" domain join --domain corp.example.com --frob
golden join-extra-arg '' "${C[@]}" domain join --domain corp.example.com extra
golden join-empty-password '' "${C[@]}" domain join --domain corp.example.com --password-stdin
KRB5CCNAME="FILE:$T/no-such-ccache" golden join-no-ticket '' "${C[@]}" domain join \
	--domain corp.example.com
golden domain-test-args '' "${C[@]}" domain test now

echo "# the completion plumbing"
golden complete-first '' "${C[@]}" complete "lo"
golden complete-verb '' "${C[@]}" complete "domain "
golden complete-option '' "${C[@]}" complete "domain join --p"
golden complete-path '' "${C[@]}" complete "ls /example.com/"
golden complete-escaped '' "${C[@]}" complete "show /example.com/Local\\ users/al"

echo "# scripted console (stdin is not a terminal)"
golden shell-script 'pwd
cd /example.com
pwd
ls
cd "Local users"
ls
cd ..
cd Servers/sip1.example.com
ls
cd /nowhere
refresh
exit
' "${C[@]}" shell
golden shell-unterminated 'ls "/example.com
' "${C[@]}" shell

echo "# the bash completion file"
# bash_complete WORD...: COMPREPLY for the command line WORD... (the last one being completed)
bash_complete()
{
	# shellcheck source=mmc-cli/greenwich-mmc.bash-completion
	. "$top_srcdir/mmc-cli/greenwich-mmc.bash-completion"
	COMP_WORDS=("$MMC" "$@")
	COMP_CWORD=$#
	COMPREPLY=()
	_greenwich_mmc 2>/dev/null
	printf '%s\n' "${COMPREPLY[@]}"
}
check "bash: a command word" test "$(bash_complete -c "$CONF" loc)" = local-user
check "bash: the verbs of domain" test "$(bash_complete -c "$CONF" domain "" | tr '\n' ' ')" = \
	"join leave renew test show delegate "
check "bash: a node with a blank" test \
	"$(bash_complete -c "$CONF" ls /example.com/Lo)" = "/example.com/Local users/"
check "bash: global options" test "$(bash_complete --j)" = --json
# every verb `help` lists is offered by the bash completion
for noun in domain local-user server users policy federation; do
	want=$("$MMC" help "$noun" | sed -n "s/^  $noun \([a-z-]*\).*/\1/p" | sort -u | tr '\n' ' ')
	got=$(bash_complete -c "$CONF" "$noun" "" | sort -u | tr '\n' ' ')
	check "bash: every $noun verb ($want)" test "$got" = "$want"
done
check "bash: a user node's children" test \
	"$(bash_complete -c "$CONF" ls /example.com/Users/alice/ | tr '\n' ' ')" = \
	"/example.com/Users/alice/Contacts/ /example.com/Users/alice/Watchers/ "

echo "# JSON is valid JSON"
for args in "local-user list" "ls /example.com" "show /example.com" "domain show" \
	"show /" "server status"; do
	# shellcheck disable=SC2086 # word splitting wanted
	if "$MMC" "${C[@]}" --json $args 2>/dev/null | python3 -c 'import json,sys; json.load(sys.stdin)'; then
		pass "--json $args parses"
	else
		fail "--json $args parses"
	fi
done
finish
