#!/bin/bash
# Smoke test of pol-bench: a short run must complete and report a positive rate.
set -eu
bench=${POL_BENCH:-./pol-bench}
out=$("$bench" 20000)
echo "$out"
rate=$(echo "$out" | sed -n 's/^\([0-9][0-9]*\) decisions per second.*/\1/p')
test -n "$rate"
test "$rate" -gt 0
echo "$out" | grep -q '^rules 100, groups per party 50, decisions 20000 '
