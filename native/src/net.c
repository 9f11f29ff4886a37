/* Network namespace: a new one holds only a loopback device, and it is down
 * (network_namespaces(7)). The lab brings it up so 127.0.0.1 works; nothing else is given. */
#include "internal.h"
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int net_loopback_up(struct trace_buf *t) {
  struct trace_rec *r = tr_begin(t, WHO_CHILD, "socket");
  tr_raw(r, "AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, 0");
  autofd fd = (int)tr_end(r, socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (fd < 0) return -errno;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  s_cpy(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) return -errno;
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  r = tr_begin(t, WHO_CHILD, "ioctl");
  tr_raw(r, "SIOCSIFFLAGS, {ifr_name=\"lo\", ifr_flags=IFF_UP|IFF_LOOPBACK|IFF_RUNNING}");
  return tr_end(r, ioctl(fd, SIOCSIFFLAGS, &ifr)) < 0 ? -errno : 0;
}
