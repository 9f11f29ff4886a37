#!/bin/bash
# Passes when a process lives in a UTS namespace other than the lab's and has renamed it.
lab_ns=$(readlink /proc/1/ns/uts)
lab_host=$(hostname)
found=""
for d in /proc/[0-9]*; do
  ns=$(readlink "$d/ns/uts" 2>/dev/null) || continue
  [ "$ns" = "$lab_ns" ] && continue
  name=$(nsenter -t "${d#/proc/}" -u hostname 2>/dev/null) || continue
  if [ "$name" != "$lab_host" ]; then
    echo "Yes: PID ${d#/proc/} lives in $ns, where the hostname is \"$name\"; the lab is still \"$lab_host\"."
    exit 0
  fi
  found=${d#/proc/}
done
if [ -n "$found" ]; then
  echo "PID $found is in a new UTS namespace, but its hostname is still $lab_host: run hostname inside in that shell."
  exit 1
fi
echo "No process is in a new UTS namespace yet: run unshare --uts bash, then hostname inside."
exit 1
