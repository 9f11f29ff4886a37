#!/bin/bash
# Passes when every process is back in the lab's UTS namespace, after the learner saved the inner one.
lab_ns=$(readlink /proc/1/ns/uts)
for d in /proc/[0-9]*; do
  ns=$(readlink "$d/ns/uts" 2>/dev/null) || continue
  if [ "$ns" != "$lab_ns" ]; then
    echo "PID ${d#/proc/} ($(cat "$d/comm" 2>/dev/null)) still lives in $ns: stop it with Ctrl-C and exit the inner shell."
    exit 1
  fi
done
if [ ! -s /root/inner-uts ]; then
  echo "Every process is in the lab's namespace, but /root/inner-uts is missing: do step 2 first."
  exit 1
fi
echo "Yes: nothing is left in $(head -n 1 /root/inner-uts), so the kernel freed it; every process is in $lab_ns."
exit 0
