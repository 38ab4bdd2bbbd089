"""checks.py - counted checks for the Python test scripts, as tests/lib/checks.sh is for
the shell ones.  Each check prints one line, "ok - WHAT" or "FAILED - WHAT" (with a
detail line under a failure when one is given); exit_status() is what the script exits
with: 1 when a check failed, else 0.

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                    "..", "lib"))
    from checks import check, status, exit_status
"""

FAILED = []
PREFIX = [""]


def prefix(text):
    """Put text before every later check's description (e.g. the transport)."""
    PREFIX[0] = text


def check(desc, cond, detail=""):
    """Print the check's line; cond, so that a caller may go on from it."""
    desc = PREFIX[0] + desc
    line = ("ok - " if cond else "FAILED - ") + desc
    if not cond and detail:
        line += "\n  " + detail
    print(line, flush=True)
    if not cond:
        FAILED.append(desc)
    return cond


def status(r):
    """The status code of a response, None when there was no answer."""
    return r.status if r is not None else None


def exit_status():
    return 1 if FAILED else 0
