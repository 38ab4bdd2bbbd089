#!/usr/bin/env python3
"""machine_hold.py PID READY LOCK [alone]: hold the test machine for the test whose
shell is PID (tests/lib/machine.sh): a shared flock on LOCK, or with "alone" an
exclusive one; write READY once held, and hold until PID is gone.

A test that wants the machine alone must not wait for ever behind tests that keep
starting beside it (flock favours no one): it first takes LOCK.gate and keeps it,
and every test passes through LOCK.gate before it takes its shared hold, so that
no new test starts while one waits to be alone."""
import fcntl
import os
import sys
import time



def lock_file(path):
    """A descriptor to flock: read-only, so that a lock file another user made (in
    a sticky /tmp, where opening it to create or write is refused) serves too."""
    try:
        return os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
        os.fchmod(fd, 0o644)
        return fd


pid, ready, lock = int(sys.argv[1]), sys.argv[2], sys.argv[3]
alone = len(sys.argv) > 4 and sys.argv[4] == "alone"
gate = lock_file(lock + ".gate")
fcntl.flock(gate, fcntl.LOCK_EX)
held = lock_file(lock)
fcntl.flock(held, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
if not alone:
    os.close(gate)  # through the gate: the next test may come
with open(ready, "w") as f:
    f.write("taken\n")
while os.path.exists("/proc/%d" % pid):
    time.sleep(0.2)
