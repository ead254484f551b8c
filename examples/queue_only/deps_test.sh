#!/bin/sh
# $1: the dependency closure of :queue_user (a genquery output). It must build without
# ASP's protocol core and transport.
if grep -E '@asp//asp/(core|transport|c_api|manager)[:/]' "$1"; then
  echo "queue_user depends on more than ASP's storage" >&2
  exit 1
fi
grep -q '@asp//asp/storage:sqlite_change_queue' "$1" || { echo "storage missing from the closure" >&2; exit 1; }
echo "queue_user needs only ASP's storage"
