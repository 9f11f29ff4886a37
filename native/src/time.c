/* Time namespace (Linux 5.6): per-namespace offsets for CLOCK_MONOTONIC and CLOCK_BOOTTIME only;
 * the wall clock (CLOCK_REALTIME) is never namespaced (time_namespaces(7)). clone() cannot take
 * CLONE_NEWTIME (its bit is taken by CSIGNAL); clone3() can, so labs get one where the kernel has
 * it. Offsets must be set before the first process enters; the lab keeps zero offsets, and the
 * lessons let learners make their own with unshare --time. */
#include "internal.h"
#include <unistd.h>

int time_ns_available(void) {
  return access("/proc/self/ns/time", F_OK) == 0;
}
