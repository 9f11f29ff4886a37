#!/bin/bash
# Passes when /root/inner-uts names a live UTS namespace other than the lab's.
f=/root/inner-uts
if [ ! -s "$f" ]; then
  echo "There is no /root/inner-uts yet: in the inner shell (terminal 1), run readlink /proc/\$\$/ns/uts > /root/inner-uts"
  exit 1
fi
want=$(head -n 1 "$f")
case "$want" in
  uts:\[*\]) ;;
  *) echo "/root/inner-uts holds \"$want\", not a link like uts:[4026532000]."; exit 1 ;;
esac
if [ "$want" = "$(readlink /proc/1/ns/uts)" ]; then
  echo "$want is the lab's own UTS namespace: run the readlink in the inner shell, the one started by unshare --uts bash."
  exit 1
fi
for d in /proc/[0-9]*; do
  if [ "$(readlink "$d/ns/uts" 2>/dev/null)" = "$want" ]; then
    echo "Yes: $want is the namespace of PID ${d#/proc/} ($(cat "$d/comm" 2>/dev/null)), the same name seen from outside."
    exit 0
  fi
done
echo "No process is in $want any more: start unshare --uts bash again and save the link from inside."
exit 1
