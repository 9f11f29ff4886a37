#!/bin/bash
# Saves the link of the (first) process that is not in the lab's UTS namespace.
lab_ns=$(readlink /proc/1/ns/uts)
for d in /proc/[0-9]*; do
  ns=$(readlink "$d/ns/uts" 2>/dev/null) || continue
  if [ "$ns" != "$lab_ns" ]; then
    echo "$ns" > /root/inner-uts
    exit 0
  fi
done
echo "no process is in a second UTS namespace (solve step 1 first)" >&2
exit 1
