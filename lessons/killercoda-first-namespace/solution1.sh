#!/bin/bash
# A process in a new UTS namespace with its own hostname, left running like the learner's shell.
setsid -f unshare --uts bash -c 'hostname inside; exec sleep 3600' </dev/null >/dev/null 2>&1
lab_ns=$(readlink /proc/1/ns/uts)
for i in $(seq 50); do
  for d in /proc/[0-9]*; do
    [ "$(readlink "$d/ns/uts" 2>/dev/null)" = "$lab_ns" ] && continue
    [ "$(nsenter -t "${d#/proc/}" -u hostname 2>/dev/null)" = inside ] && exit 0
  done
  sleep 0.1
done
echo "the inner namespace did not appear" >&2
exit 1
