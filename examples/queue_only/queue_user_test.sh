#!/bin/sh
# Runs queue_user on a fresh file and checks what it prints.
set -e
out=$("$1" "$TEST_TMPDIR/queue.db" /etc/a /etc/b /etc/a)
[ "$out" = "states-example 2" ] || { echo "unexpected output: $out" >&2; exit 1; }
echo ok
