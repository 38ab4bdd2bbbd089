#!/bin/bash
# t-console.sh - the interactive console under a pseudo-terminal (python3's pty):
# prompt with the path, cd/ls/show through the tree, tab completion of commands and
# nodes (a name with a blank included), listing of ambiguous completions, a password
# change with `set password` at its no-echo prompt (checked in the database); below Users a
# user's Contacts and Watchers (new, completion, a watcher's rule changed with set), below
# Policies a rule (completion, show, set text, set priority; a missing rule refused), all
# checked in the database and the rules file afterwards; a contact's name typed in UTF-8
# (a backspace takes a whole character); Ctrl-C clears the line and the console goes on,
# also when it comes right behind other keys with the next line right behind it (30
# times); history kept in ~/.greenwich-mmc_history.
set -eu
# shellcheck source=tests/cli/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CONF=$T/greenwich.conf
write_conf "$CONF" "[policy]
rules-file = $T/rules.pol"
printf 'Old-Secret-1\n' | "$MMC" -c "$CONF" local-user add alice@example.com --password-stdin >/dev/null
"$MMC" -c "$CONF" policy add 'rule "outside-im" priority 10 { from zone external; class im; action allow; }' >/dev/null

cat >"$T/drive.py" <<'PY'
import os, pty, re, select, sys, time

mmc, conf, log = sys.argv[1], sys.argv[2], sys.argv[3]
pid, fd = pty.fork()
if pid == 0:
    os.environ["TERM"] = "vt100"
    os.execv(mmc, [mmc, "-c", conf])
buf = b""
logf = open(log, "wb")
failures = 0

def read_until(pattern, timeout=10):
    """Read the terminal until the regex matches what came since the last call."""
    global buf
    end = time.time() + timeout
    while True:
        m = re.search(pattern.encode(), buf)
        if m:
            out, buf = buf[:m.end()], buf[m.end():]
            return out
        left = end - time.time()
        if left <= 0:
            return None
        r, _, _ = select.select([fd], [], [], left)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                return None
            if not data:
                return None
            logf.write(data)
            logf.flush()
            buf += data

def step(what, send, expect):
    global failures
    if send is not None:
        os.write(fd, send.encode())
    if read_until(expect) is None:
        failures += 1
        print("FAIL %s (wanted /%s/; terminal after that: %r)" % (what, expect, buf[-300:]))
    else:
        print("ok   %s" % what)

P = re.escape
step("prompt at the top", None, P("Greenwich> "))
# libedit redraws a completed line with cursor movements: look for the inserted text,
# then for the effect of the whole line.
step("completion of the domain name", "cd /exa\t", P("mple.com/"))
step("the prompt shows the domain", "\r", P("Greenwich > example.com> "))
step("ls lists the domain's nodes", "ls\r", r"Local users\s+local-users")
step("completion of a name with a blank", "cd Lo\t", P("cal\\ users/"))
step("the prompt shows Local users", "\r", P("Greenwich > example.com > Local users> "))
step("ls lists alice", "ls\r", r"alice@example\.com\s+local-user")
step("cd to alice by completion", "cd al\t\r", P("Local users > alice@example.com> "))
step("show alice's properties", "show\r", r"realm\s+example\.com")
step("completion of a property", "set pa\t", P("ssword "))
step("set password prompts without echo", "\r", P("New password: "))
step("asked again", "Pw-Changed-9\r", P("Again: "))
step("password changed", "Pw-Changed-9\r", P("password of alice@example.com changed"))
step("the password was not echoed", None, P("alice@example.com> "))
step("a mismatch is refused", "set password\r", P("New password: "))
step("... the second differs", "Other-Pw-1\r", P("Again: "))
step("... nothing changed", "Other-Pw-2\r", P("the passwords do not match; nothing changed"))
step("completion of a command word", "dom\t", P("ain "))
step("completion of a verb", "sh\t", P("ow "))
step("domain show runs", "\r", r"enabled-group")
step("ambiguous completion lists the choices", "se\t", r"server\s+set")
os.write(fd, b"\x15")  # kill the line
step("cd .. goes up", "\rcd ..\r", P("Greenwich > example.com > Local users> "))
step("cd / goes to the top", "cd /\r", P("Greenwich> "))
step("unknown node", "cd nowhere\r", P("no such node: nowhere"))
step("completion of a user below Users", "cd /example.com/Users/al\t", P("ice@example.com/"))
step("the prompt shows the user", "\r", P("Greenwich > example.com > Users > alice@example.com> "))
step("ls: Contacts and Watchers", "ls\r", r"Watchers\s+watchers")
step("cd Contacts", "cd Contacts\r", P("alice@example.com > Contacts> "))
step("new contact", "new bob@example.com --name Bob\r",
     P("bob@example.com added to alice@example.com's contacts"))
step("ls lists the contact", "ls\r", r"bob@example\.com\s+Other Contacts\s+Bob")
# UTF-8 typed at the console: one backspace takes the last character, both of its bytes
# (typed at the prompt: keys typed ahead meet the terminal's own line editing)
step("... and the prompt", None, P("Contacts> "))
step("a name in UTF-8, edited with a backspace", "new zoe@example.com --name Zo\u00e9\u00e9\x7f\r",
     P("zoe@example.com added to alice@example.com's contacts"))
step("cd ../Watchers", "cd ../Watchers\r", P("alice@example.com > Watchers> "))
step("new watcher, blocked", "new eve@example.com block\r", P("alice@example.com: block eve@example.com"))
# (the prompt is wider than the terminal here: the line wraps before its last "> ")
step("cd to the watcher by completion", "cd ev\t\r", P("Watchers > eve@example.com"))
step("completion of the watcher's property", "set ru\t", P("le "))
step("property change: rule allow", "allow\r", P("alice@example.com: allow eve@example.com"))
step("show has the new rule", "show\r", r"rule\s+allow")
step("cd Policies", "cd /example.com/Policies\r", P("Greenwich > example.com > Policies> "))
step("ls lists the rules", "ls\r", r"10\s+outside-im")
step("completion of a rule name", "cd out\t", P("side-im "))
step("the prompt shows the rule", "\r", P("Policies > outside-im> "))
step("show the rule", "show\r", P("from zone external;"))
step("set text", "set text 'rule \"outside-im\" priority 10 { from zone external; "
     "class im; action deny 403 \"Not here\"; }'\r", P("changed rule 'outside-im'"))
step("set priority", "set priority 12\r", P("rule 'outside-im' now has priority 12"))
step("cd to a missing rule is refused", "cd ../nothing\r", P("no rule nothing"))
step("still on the rule", None, P("Policies > outside-im> "))
step("Ctrl-C throws away the line being typed", "set text half-typed\x03", P("^C"))
step("... and the console goes on at the same place", None, P("Policies > outside-im> "))
step("... nothing of that line was run", "show\r", P("from zone external;"))
# Ctrl-C typed right behind other keys, and the next line right behind it: the
# interrupt ends the line being typed at once, never the next one (each time at the
# prompt: a Ctrl-C while a command runs is the terminal's, and ends nothing)
step("... the prompt again", None, P("outside-im> "))
lost = 0
for i in range(30):
    os.write(fd, ("set text half-typed-%d\x03show\r" % i).encode())
    if read_until(r"\^C\r?\n[\s\S]*?from zone external;[\s\S]*?outside-im> ", timeout=5) is None:
        lost += 1
print("%s   Ctrl-C right behind keys, then a line at once: %d of 30 lines run" %
      ("ok" if lost == 0 else "FAIL", 30 - lost))
failures += lost != 0
step("the rule is unchanged", "show\r", P("from zone external;"))
os.write(fd, b"exit\r")
read_until(r"\Z(?!x)", timeout=10)  # everything until the console closes the terminal
_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
print("%s   console exit status %d (the last command, show, succeeded)" % ("ok" if code == 0 else "FAIL", code))
failures += code != 0
sys.exit(1 if failures else 0)
PY

if python3 "$T/drive.py" "$MMC" "$CONF" "$T/terminal.log" >"$T/drive.out" 2>&1; then
	pass "console session (tree, completion, set password)"
else
	fail "console session"
fi
sed 's/^/     /' "$T/drive.out"

ha1=$(sqlite3 "$T/state/greenwich.db" "SELECT ha1_md5 FROM local_users WHERE aor = 'alice@example.com'")
want=$(printf '%s' 'alice:example.com:Pw-Changed-9' | md5sum | cut -d' ' -f1)
if [ "$ha1" = "$want" ]; then pass "the new password is in the database"; else fail "new password (HA1 $ha1, want $want)"; fi
check "the contact is in the database" test "$(sqlite3 "$T/state/greenwich.db" \
	"SELECT uri || ' ' || name FROM presence_contacts WHERE owner = 'alice@example.com' AND uri = 'bob@example.com'")" = "bob@example.com Bob"
check "the name typed in UTF-8 is in the database, less its last character" test "$(sqlite3 "$T/state/greenwich.db" \
	"SELECT name FROM presence_contacts WHERE owner = 'alice@example.com' AND uri = 'zoe@example.com'")" = "Zoé"
check "the watcher's rule is allow" test "$(sqlite3 "$T/state/greenwich.db" \
	"SELECT watcher || ' ' || rule FROM presence_acl WHERE owner = 'alice@example.com'")" = "eve@example.com allow"
check "the rules file has the new text and priority" \
	grep -qE 'rule "outside-im" priority 12|action deny 403 "Not here"' "$T/rules.pol"
check "... both" bash -c "grep -q 'priority 12' '$T/rules.pol' && grep -q 'Not here' '$T/rules.pol'"
if grep -q 'Pw-Changed-9' "$T/terminal.log"; then fail "the password was echoed"; else pass "the password never appeared on the terminal"; fi
# libedit's history file encodes blanks and newlines (vis(3)): "cd\040/\012".
if grep -qxF 'cd\040/\012' "$HOME/.greenwich-mmc_history" && ! grep -q 'Pw-Changed' "$HOME/.greenwich-mmc_history"; then
	pass "history saved, without the password"
else
	fail "history file"
fi
finish
