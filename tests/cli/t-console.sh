#!/bin/bash
# t-console.sh - the interactive console under a pseudo-terminal (python3's pty):
# prompt with the path, cd/ls/show through the tree, tab completion of commands and
# nodes (a name with a blank included), listing of ambiguous completions, a password
# change with `set password` at its no-echo prompt (checked in the database), a node
# that is not available yet, history kept in ~/.greenwich-mmc_history.
set -eu
# shellcheck source=tests/cli/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CONF=$T/greenwich.conf
write_conf "$CONF"
printf 'Old-Secret-1\n' | "$MMC" -c "$CONF" local-user add alice@example.com --password-stdin >/dev/null

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
step("password changed", "Pw-Changed-9\r", P("password of alice@example.com changed"))
step("the password was not echoed", None, P("alice@example.com> "))
step("completion of a command word", "dom\t", P("ain "))
step("completion of a verb", "sh\t", P("ow "))
step("domain show runs", "\r", r"enabled-group")
step("ambiguous completion lists the choices", "se\t", r"server\s+set")
os.write(fd, b"\x15")  # kill the line
step("cd .. goes up", "\rcd ..\r", P("Greenwich > example.com > Local users> "))
step("cd / goes to the top", "cd /\r", P("Greenwich> "))
step("unknown node", "cd nowhere\r", P("no such node: nowhere"))
step("Policies without a domain or a rules file says so", "ls example.com/Policies\r",
     P("has no [policy] rules-file"))
os.write(fd, b"exit\r")
read_until(r"\Z(?!x)", timeout=10)  # everything until the console closes the terminal
_, status = os.waitpid(pid, 0)
code = os.waitstatus_to_exitcode(status)
print("%s   console exit status %d (the last command was exit 3, not found)" % ("ok" if code == 3 else "FAIL", code))
failures += code != 3
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
if grep -q 'Pw-Changed-9' "$T/terminal.log"; then fail "the password was echoed"; else pass "the password never appeared on the terminal"; fi
# libedit's history file encodes blanks and newlines (vis(3)): "cd\040/\012".
if grep -qxF 'cd\040/\012' "$HOME/.greenwich-mmc_history" && ! grep -q 'Pw-Changed' "$HOME/.greenwich-mmc_history"; then
	pass "history saved, without the password"
else
	fail "history file"
fi
finish
