#!/bin/bash
# Runs inside the VM, as nslab-vm-suite.service (root, Delegate=yes: how a workshop runs nslab),
# from the project disk mounted at /opt/nslab (test/vm/run.mjs made it; test/vm/image.sh made the
# unit). Runs the targeted suite, writes the results as a tar archive onto the third disk (vdc),
# and returns; systemd then powers the VM off.
#
# Under TCG, Node is 50-100x slower than on the host, so this is not `npm test`: it runs the test
# files that exercise what differs here (cgroup v2 with nsdelegate, kernel 6.1).
set -u
cd /opt/nslab
export PATH=/opt/nslab/.vm:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root CI=true
R=/run/nslab-vm-results
mkdir -p "$R"

files=(
  server/labs/cgroup.test.ts               # layout detection, on this host's mountinfo
  server/labs/cgroup.integration.test.ts   # limits, OOM, teardown, child cgroups under nsdelegate, && guards
  server/labs/kernel.integration.test.ts   # the features that depend on the kernel version
  server/lessons/cgroup-guards.integration.test.ts  # a failed cgroup write starts no bomb or hog (v2 branches)
  server/lessons/cgroups-walkthrough.integration.test.ts  # lesson 10's text, typed into a terminal
  server/lessons/lessons.e2e.test.ts       # the lessons below, every step
)
# The lessons verified here, each in a fresh lab (check fails, solution runs, check passes): the
# cgroup lessons (v2 with nsdelegate), and 06 and 07, whose text depends on the kernel's version
# (execve and time namespaces; who may write the IPC sysctls) and which take their no-compiler
# path here. Then the lessons whose kernel facts differ on 6.1: 12 (time namespaces, sysctls, the
# filter), 14 (/proc/sys/user limits, ownership), 15 (nftables NAT) and 16 (overlayfs in a user
# namespace). Each lesson costs about 30 s of qemu CPU per step; `--lessons all` runs every one
# (all 17 passed here on 2026-11-30).
lessons=cgroups,container-from-scratch,clone-unshare-setns,ipc-namespaces,what-namespaces-do-not-isolate,user-namespaces-and-the-rest,networking-a-container,images-and-layers

# run.mjs --files / --lessons / --script: something else than the suite, while developing
if [ -s .vm/files ]; then mapfile -t files < .vm/files; fi
if [ -s .vm/lessons ]; then lessons=$(cat .vm/lessons); fi
# "all": every lesson (NSLAB_E2E_LESSONS unset)
if [ "$lessons" = all ]; then lessons=; else export NSLAB_E2E_LESSONS=$lessons; fi

{
  echo "kernel:      $(uname -r)"
  echo "cgroup2:     $(findmnt -no OPTIONS /sys/fs/cgroup)"
  echo "controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
  echo "this unit:   $(cat /proc/self/cgroup)"
  echo "node:        $(node -v)"
  echo "lessons:     ${lessons:-all}"
  # two facts the lessons' text depends on (06 and 12; 07)
  echo "timens:      execve $(unshare --time --boottime 86400 sh -c 'exec readlink /proc/self/ns/time /proc/self/ns/time_for_children' 2>/dev/null | uniq | wc -l | sed 's/^1$/moves the caller into time_for_children/; s/^2$/leaves the caller outside time_for_children/')"
  echo "ipc sysctls: $(unshare -Ur --ipc sh -c '[ -O /proc/sys/kernel/msgmnb ] && echo writable by root of the IPC namespace owner || echo the host root only')"
  echo "booted in:   $(cut -d' ' -f1 /proc/uptime) s (to the suite's start)"
} | tee "$R/env.txt"

# a test process that crashes (a signal, not a failed assertion) leaves a core; gdb reads each
# one below into the results (the cores themselves stay here: they are larger than the results disk)
mkdir -p /var/tmp/cores
echo '/var/tmp/cores/core.%e.%p' >/proc/sys/kernel/core_pattern
ulimit -c unlimited

start=$(date +%s)
# what `npm run doctor` says about this host (its cgroup v2 checks run only here); a failure fails the run
bash -c "$(node -p 'require("./package.json").scripts.doctor')" >"$R/doctor.txt" 2>&1
doctor=$?
cat "$R/doctor.txt"

if [ -f .vm/script.sh ]; then
  bash .vm/script.sh 2>&1 | tee "$R/script.txt"
  echo "${PIPESTATUS[0]}" >"$R/rc"
  tar -cf /dev/vdc -C "$R" . && sync
  exit 0
fi
# lesson scripts get 15x their usual time limits (under emulation a process start costs up to a
# second, more when the host is busy), and the helper 5 minutes to make a lab (20 s by default).
# --test-timeout bounds each test and each whole file: an hour (on a host at load 30 the guards
# file took over 15 minutes); run.mjs's NSLAB_VM_TIMEOUT_MIN bounds the whole run.
# run_tests TAP FILE...: the test runner over FILE..., its TAP into TAP
run_tests() {
  local tap=$1
  shift
  NSLAB_SCRIPT_TIME_SCALE=15 NSLAB_HELPER_TIMEOUT_MS=300000 \
    node --import tsx --import ./scripts/hooks.mjs --test --test-concurrency=1 --test-timeout=3600000 \
      --test-reporter=spec --test-reporter-destination=stdout \
      --test-reporter=tap --test-reporter-destination="$tap" "$@"
}
run_tests "$R/tap.txt" "${files[@]}"
rc=$?

# A test file whose process was killed by a signal (no assertion failed: it crashed) runs once
# more, and the run passes only if every failure was such a crash and each passes then. The crash
# is never hidden: gdb's backtraces of its core (below) and the summary's "crashed" lines say what
# it was. Under this emulator (qemu TCG) a test process has crashed with SIGSEGV in about one run in
# three, in the lesson-10 walkthrough, and never on real hardware; the cause is not known yet.
failed_top=$(grep -cE '^not ok ' "$R/tap.txt")
mapfile -t crashed < <(awk '/^not ok [0-9]+ - /{f=$0; sub(/^not ok [0-9]+ - /, "", f); next} /^(ok|not ok) /{f=""} f && /^  signal: .SIG/{print f; f=""}' "$R/tap.txt")
if [ "$rc" != 0 ] && [ "${#crashed[@]}" -gt 0 ] && [ "${#crashed[@]}" = "$failed_top" ]; then
  echo "crashed (a signal, not an assertion), run once more: ${crashed[*]}" | tee "$R/crashed.txt"
  run_tests "$R/tap-rerun.txt" "${crashed[@]}"
  rc=$?
  echo "the rerun: exit $rc" | tee -a "$R/crashed.txt"
fi
secs=$(($(date +%s) - start))
if [ "$rc" = 0 ] && [ "$doctor" != 0 ]; then rc=$doctor; fi

# nothing may be left behind: no lab's cgroup (16 hex digits), no test instance's parent
find /sys/fs/cgroup -mindepth 1 -type d \( -regex '.*/[0-9a-f]\{16\}' -o -name 'nslab-t*' \) >"$R/leftovers.txt" 2>/dev/null
if [ -s "$R/leftovers.txt" ]; then
  echo "cgroups left behind:"; cat "$R/leftovers.txt"
  [ "$rc" = 0 ] && rc=1
fi

{
  cat "$R/env.txt"
  echo "doctor:      exit $doctor"
  grep -E 'cgroup|nsdelegate|Delegate' "$R/doctor.txt" | sed 's/^/  /'
  echo "suite:       ${secs} s, exit $rc"
  [ -s "$R/leftovers.txt" ] && { echo "  cgroups left behind:"; sed 's/^/    /' "$R/leftovers.txt"; }
  grep -E '^# (tests|suites|pass|fail|cancelled|skipped|todo)' "$R/tap.txt" | sed 's/^# /  /'
  # every top-level test with its time, as the TAP reporter wrote them
  grep -E '^(not )?ok ' "$R/tap.txt" | sed 's/^/  /'
  [ -s "$R/crashed.txt" ] && { echo "crashed:"; sed 's/^/  /' "$R/crashed.txt"; grep -E '^(not )?ok ' "$R/tap-rerun.txt" 2>/dev/null | sed 's/^/  rerun: /'; }
} >"$R/summary.txt"
for core in /var/tmp/cores/core.*; do
  [ -e "$core" ] || continue
  echo "a crash: $core (gdb's backtraces in the results, ${core##*/}.gdb.txt)"
  "$(command -v gdb || command -v gdb-minimal)" -batch -nx -ex 'bt 40' -ex 'info sharedlibrary' -ex 'thread apply all bt 24' "$(command -v node)" "$core" >"$R/${core##*/}.gdb.txt" 2>&1
done
echo "$rc" >"$R/rc"
journalctl -b --no-pager -o short-monotonic >"$R/journal.txt" 2>&1
dmesg >"$R/dmesg.txt" 2>&1
tar -cf /dev/vdc -C "$R" . && sync
exit "$rc"
